r"""Dense Hebbian network with P-body interactions in high storage, K = alpha N^(P-1): RS theory, any P >= 2.

One free energy serves every P (P is static); variables x = (m, C, v) with C = beta (1 - q) and v the
variance of the Gaussian noise field, so that T = 0 is the exact limit of the same function:

    f = c_conv + (P-1) m^P / P!  + v C / 2  -  Noise_P(C; alpha, T)  -  E_z[ T ln 2cosh((h(m) + sqrt(v) z)/T) ]

    h(m) = m^(P-1) / (P-1)!        (the condensed pattern's field)

Noise term of the non-condensed patterns:

* P >= 3 ("hard" part only): with the covariance xi(q) of theory.covariance,
      Noise_P(C) = [xi(1) - xi(1 - C T)] / (2T)      (a polynomial in C and T; -> xi'(1) C / 2 at T = 0)
  Stationarity gives v = xi'(q), q = E tanh^2, m = E tanh: the RS equations of a ferromagnetically
  biased (mixed) P-spin glass.
* P = 2: each pattern's energy is O(1) and its Gaussian integral is done exactly (AGS):
      Noise_2(C) = -(alpha/2) [1 + T ln(1 - C) - (1 - C T)/(1 - C)]
  which equals the hard (SK) term [xi(1) - xi(1-CT)]/(2T), xi = alpha q^2/2, plus the "soft" remainder
  alpha T A_beyond(beta; q), the k >= 3 terms of -(1/2) ln det(1 - beta Q) (theory.reference_sg states and
  tests the decomposition).  For P >= 3 the soft part vanishes as N^(1-P/2).

c_conv: 0 for distinct indices; -alpha/2 for all tuples at P = 2 (the diagonal); for all tuples and even
P >= 4 the sigma-independent constant -alpha (P-1)!! N^(P/2-1)/P! diverges and is left out.

Equations (fixed-point form, from autodiff of f): m - E tanh = (df/dm)/h'(m), v - xi'(q) = 2 df/dC
(P = 2: v - alpha q/(1-C)^2), C - beta(1 - q) = 2 df/dv.

RS stability (replicon): lambda_AT = 1 - beta^2 xi''(q) E sech^4 (P = 2: alpha beta^2/(1-C)^2 E sech^4).
"""
from __future__ import annotations

import math
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from . import quadrature as Q
from .covariance import noise_coefficients

NAMES = ("m", "C", "v")


@lru_cache(maxsize=None)
def noise_poly_coeffs(P, self_interaction):
    return np.array(noise_coefficients(P, self_interaction))


def xi(q, alpha, P, self_interaction=False, deriv=0):
    """Noise covariance xi(q) (or its derivative of order ``deriv``)."""
    a = noise_poly_coeffs(P, self_interaction)
    poly = np.polynomial.Polynomial(a).deriv(deriv).coef if deriv else a
    out = 0.0
    for k, c in enumerate(poly):
        if c != 0:
            out = out + c * q ** k
    return alpha * out


def field(m, P):
    """h(m) = m^(P-1)/(P-1)!: the local field of the condensed pattern."""
    return m ** (P - 1) / math.factorial(P - 1)


def field_prime(m, P):
    return m ** (P - 2) / math.factorial(P - 2)


def noise(C, alpha, T, P, self_interaction=False):
    """Noise_P(C; alpha, T) (see the module docstring); finite and smooth at T = 0."""
    if P == 2:
        use_log = (T > 0) & (alpha > 0)
        log_term = jnp.where(use_log, T * jnp.log(jnp.where(use_log, 1.0 - C, 1.0)), 0.0)
        return -0.5 * alpha * (1.0 + log_term - (1.0 - C * T) / (1.0 - C))
    # [xi(1) - xi(1 - C T)] / (2T) = (alpha/2) sum_j a_j sum_{k=1..j} binom(j,k) (-1)^(k+1) C^k T^(k-1)
    a = noise_poly_coeffs(P, self_interaction)
    out = 0.0
    for j, aj in enumerate(a):
        if aj == 0 or j == 0:
            continue
        for k in range(1, j + 1):
            out = out + aj * math.comb(j, k) * (-1) ** (k + 1) * C ** k * T ** (k - 1)
    return 0.5 * alpha * out


def constant(alpha, P, self_interaction):
    return -0.5 * alpha if (P == 2 and self_interaction) else 0.0 * alpha


def free_energy(x, alpha, T, P=2, self_interaction=False, n=Q.DEFAULT_NODES):
    """RS free energy per neuron f(m, C, v; alpha, T) for interaction order P."""
    m, C, v = x[0], x[1], x[2]
    U = (P - 1) * m ** P / math.factorial(P)
    return (constant(alpha, P, self_interaction) + U + 0.5 * v * C - noise(C, alpha, T, P, self_interaction)
            - Q.logcosh_avg(field(m, P), v, T, n))


def raw_equations(x, alpha, T, P=2, self_interaction=False, n=Q.DEFAULT_NODES):
    """Stationarity equations in fixed-point form, (m - E tanh, v - xi'(q), C - beta(1-q)), from autodiff
    of f: ((df/dm)/h'(m), 2 df/dC, 2 df/dv)."""
    g = jax.grad(free_energy)(x, alpha, T, P, self_interaction, n)
    hp = field_prime(x[0], P)
    gm = jnp.where(hp != 0, g[0] / jnp.where(hp != 0, hp, 1.0), g[0])
    return jnp.stack([gm, 2.0 * g[1], 2.0 * g[2]])


def equations(x, alpha, T, P=2, self_interaction=False, n=Q.DEFAULT_NODES):
    """The equations the solver zeroes and whose max-abs is the reported residual: ``raw_equations`` made
    scale-free, (m - E tanh, r - xi'(q)/alpha, [C - beta(1-q)]/max(1, C)), since v = alpha r and C
    (~ 1/sqrt(v) at T = 0) span many decades across P and alpha."""
    e = raw_equations(x, alpha, T, P, self_interaction, n)
    a = jnp.where(alpha > 0, alpha, 1.0)
    return jnp.stack([e[0], e[1] / a, e[2] / jnp.maximum(1.0, jnp.abs(x[1]))])


FP_PERM = np.array([0, 2, 1])  # NumPy: a constant of the traced code, no eager JAX op at import


def fixed_point_map(x, alpha, T, P=2, self_interaction=False, n=Q.DEFAULT_NODES):
    """The classic iteration x -> (E tanh, beta(1-q), xi'(q)), derived from the gradient."""
    return x - raw_equations(x, alpha, T, P, self_interaction, n)[FP_PERM]


def equations_and_map(x, alpha, T, P=2, self_interaction=False, n=Q.DEFAULT_NODES):
    """(equations, fixed_point_map) at x from one evaluation of the gradient (the fixed-point fallback
    needs both at every iterate)."""
    e = raw_equations(x, alpha, T, P, self_interaction, n)
    a = jnp.where(alpha > 0, alpha, 1.0)
    return jnp.stack([e[0], e[1] / a, e[2] / jnp.maximum(1.0, jnp.abs(x[1]))]), x - e[FP_PERM]


def order_parameters(x, alpha, T, P=2):
    """(m, q, r); r = v / alpha is the AGS noise parameter for P = 2 (for P >= 3 it is v/alpha as well)."""
    m, C, v = x[0], x[1], x[2]
    q = jnp.clip(1.0 - C * T, 0.0, 1.0)
    r_eq = q / (1.0 - C) ** 2 if P == 2 else jnp.zeros_like(q)
    r = jnp.where(alpha > 0, v / jnp.where(alpha > 0, alpha, 1.0), r_eq)
    return m, q, r


def replicon(x, alpha, T, P=2, self_interaction=False, n=Q.DEFAULT_NODES):
    """de Almeida-Thouless eigenvalue: 1 - beta^2 xi''_eff(q) E sech^4 (> 0: RS locally stable)."""
    m, C, v = x[0], x[1], x[2]
    s4 = Q.sech4_over_T(field(m, P), v, T, n)  # (1/T) E sech^4
    if P == 2:
        k = alpha / (1.0 - C) ** 2
    else:
        q = 1.0 - C * T
        k = xi(q, alpha, P, self_interaction, deriv=2)
    a = k * s4
    Tsafe = jnp.where(T > 0, T, 1.0)
    return jnp.where(T > 0, 1.0 - a / Tsafe, jnp.where(a > 0, -jnp.inf, 1.0))


def initial_guess(branch, alpha, T, P=2, self_interaction=False):
    alpha = jnp.asarray(alpha, float)
    T = jnp.asarray(T, float)
    beta = 1.0 / jnp.maximum(T, 1e-300)
    if branch == "retrieval":
        m = jnp.ones_like(alpha)
        C = jnp.minimum(beta * 0.1, 0.05) + 0 * alpha
        v = (alpha if P == 2 else xi(1.0, alpha, P, self_interaction, 1)) + 0 * T
    elif branch == "spin-glass":
        m = jnp.zeros_like(alpha)
        if P == 2:
            a = jnp.sqrt(2.0 / (jnp.pi * jnp.maximum(alpha, 1e-12)))
            C = jnp.minimum(a / (1.0 + a), 0.5 * beta)  # a/(1+a): the exact T = 0 value
            v = alpha / (1.0 - C) ** 2
        else:
            v = xi(1.0, alpha, P, self_interaction, 1) + 0 * T
            C = jnp.minimum(jnp.sqrt(2.0 / (jnp.pi * jnp.maximum(v, 1e-12))), 0.5 * beta)
    elif branch == "paramagnetic":
        m = jnp.zeros_like(alpha)
        C = beta + 0 * alpha
        v = xi(0.0, alpha, P, self_interaction, 1) + 0 * T
    else:
        raise ValueError(f"unknown branch {branch!r}")
    return jnp.stack(jnp.broadcast_arrays(m, C, v))


def paramagnet_is_exact(P, self_interaction):
    """m = q = 0 solves the equations exactly iff xi'(0) = 0 (no random-field term)."""
    return P == 2 or noise_poly_coeffs(P, self_interaction)[1] == 0


def in_domain(x, alpha, T, P=2):
    m, C, v = x[0], x[1], x[2]
    ok = (C >= 0) & (v >= 0) & (1.0 - C * T >= -1e-12) & (jnp.abs(m) <= 1 + 1e-12)
    if P == 2:
        ok = ok & ((C < 1) | (alpha == 0))
    return ok & jnp.all(jnp.isfinite(x))


def finalize(x, alpha, T, P=2):
    """At alpha = 0 (no noise field) C decouples from f: set it from its equation C = beta (1 - q)."""
    C0 = Q.sech2_over_T(field(x[0], P), 0.0, T)
    return jnp.where(alpha == 0, x.at[1].set(C0).at[2].set(0.0), x)
