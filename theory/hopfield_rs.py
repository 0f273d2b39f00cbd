r"""Pairwise Hopfield model (P = 2, Amit-Gutfreund-Sompolinsky) in high storage, alpha = K/N: RS theory.

Free energy per neuron (distinct-indices convention, H = -(1/2N) sum_mu [(sum_i xi_i^mu sigma_i)^2 - N]):

    f = alpha/2 + m^2/2 + (alpha beta/2) r (1 - q)
        + (alpha / 2 beta) [ ln(1 - beta(1 - q)) - beta q / (1 - beta(1 - q)) ]
        - (1/beta) E_z ln 2cosh beta (m + sqrt(alpha r) z)

(AGS 1987, with the alpha/2 that removing the diagonal couplings adds; all tuples: drop the alpha/2).

Variables.  We work with x = (m, C, v), where C = beta (1 - q) and v = alpha r is the variance of the
Gaussian noise field.  Then q = 1 - C T, and

    f(m, C, v) = c0 + m^2/2 + v C / 2 + (alpha T / 2) ln(1 - C) - (alpha/2) (1 - C T)/(1 - C)
                 - E_z[ T ln 2cosh((m + sqrt(v) z)/T) ],        c0 = alpha/2 (distinct) or 0 (all tuples)

which is finite and smooth at T = 0: there q = 1 and E_z[T ln 2cosh(h/T)] -> E|h| (closed form), so the
zero-temperature theory is the exact T = 0 limit, not a small-T approximation.

Stationarity equations (the "fixed-point form" of grad f; this is what ``equations`` returns and what the
residual measures):

    dF/dm      = m - E tanh(beta h)                           -> m = E tanh beta(m + sqrt(v) z)
    2 dF/dC    = v - alpha (1 - C T) / (1 - C)^2 = v - alpha q / (1 - C)^2
    2 dF/dv    = C - beta (1 - E tanh^2(beta h))              -> C = beta (1 - q)

At T = 0 the last one reads C = sqrt(2 / (pi v)) exp(-m^2 / 2v) and the first m = erf(m / sqrt(2v)).
They are obtained by automatic differentiation of ``free_energy`` (never written twice); a test checks
them against these closed forms.

RS stability (de Almeida-Thouless / replicon eigenvalue of the retrieval and spin-glass solutions):

    lambda_AT = 1 - alpha beta^2 / (1 - C)^2 * E_z sech^4 beta(m + sqrt(v) z)

RS is locally stable where lambda_AT > 0.  At T = 0 (and alpha > 0) lambda_AT = -inf: the RS retrieval
state is always marginally unstable in the zero-temperature limit, as in AGS.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from . import quadrature as Q

NAMES = ("m", "C", "v")


def free_energy(x, alpha, T, self_interaction=False, n=Q.DEFAULT_NODES):
    """RS free energy per neuron f(m, C, v; alpha, T) (see module docstring)."""
    m, C, v = x[0], x[1], x[2]
    c0 = 0.0 if self_interaction else 0.5 * alpha
    one_m_C = 1.0 - C
    use_log = (T > 0) & (alpha > 0)
    log_term = jnp.where(use_log, 0.5 * alpha * T * jnp.log(jnp.where(use_log, one_m_C, 1.0)), 0.0)
    return (c0 + 0.5 * m * m + 0.5 * v * C + log_term
            - 0.5 * alpha * (1.0 - C * T) / one_m_C
            - Q.logcosh_avg(m, v, T, n))


# (d/dm, 2 d/dC, 2 d/dv): the gradient in the natural "fixed-point" scaling
EQ_SCALE = jnp.array([1.0, 2.0, 2.0])
# the fixed-point map is x_new = x - PERM(eq): m from dF/dm, C from 2dF/dv, v from 2dF/dC
FP_PERM = jnp.array([0, 2, 1])


def equations(x, alpha, T, self_interaction=False, n=Q.DEFAULT_NODES):
    """Stationarity equations in fixed-point form (zero at a saddle point), from autodiff of f."""
    g = jax.grad(free_energy)(x, alpha, T, self_interaction, n)
    return EQ_SCALE * g


def fixed_point_map(x, alpha, T, self_interaction=False, n=Q.DEFAULT_NODES):
    """x -> (E tanh, beta(1 - q), alpha q/(1-C)^2): the classic iteration, derived from the gradient."""
    e = equations(x, alpha, T, self_interaction, n)
    return x - e[FP_PERM]


def order_parameters(x, alpha, T):
    """Map (m, C, v) to the physical (m, q, r)."""
    m, C, v = x[0], x[1], x[2]
    q = jnp.clip(1.0 - C * T, 0.0, 1.0)
    r_eq = q / (1.0 - C) ** 2  # r from its own equation (well defined also at alpha = 0)
    r = jnp.where(alpha > 0, v / jnp.where(alpha > 0, alpha, 1.0), r_eq)
    return m, q, r


def replicon(x, alpha, T, n=Q.DEFAULT_NODES):
    """de Almeida-Thouless eigenvalue lambda_AT (> 0: RS locally stable)."""
    m, C, v = x[0], x[1], x[2]
    s4 = Q.sech4_over_T(m, v, T, n)  # (1/T) E sech^4(h/T), finite at T = 0
    a = alpha * s4 / (1.0 - C) ** 2
    Tsafe = jnp.where(T > 0, T, 1.0)
    lam = 1.0 - a / Tsafe
    return jnp.where(T > 0, lam, jnp.where(a > 0, -jnp.inf, 1.0))


def initial_guess(branch, alpha, T):
    """Starting point of the solver for a branch (a physical guess, refined by Newton)."""
    alpha = jnp.asarray(alpha, float)
    T = jnp.asarray(T, float)
    beta_safe = 1.0 / jnp.maximum(T, 1e-300)
    if branch == "retrieval":
        m = 1.0
        # C = beta(1-q): at low T about sqrt(2/(pi v)) exp(-1/2v) (tiny); at higher T cap below 1
        C = jnp.minimum(beta_safe * 0.1, 0.05)
        v = alpha
    elif branch == "spin-glass":
        m = 0.0
        a = jnp.sqrt(2.0 / (jnp.pi * jnp.maximum(alpha, 1e-12)))
        C = jnp.minimum(a / (1.0 + a), jnp.minimum(0.5 * beta_safe, 0.9))
        v = alpha / (1.0 - C) ** 2
    elif branch == "paramagnetic":
        m = 0.0
        C = beta_safe
        v = 0.0 * alpha
    else:
        raise ValueError(f"unknown branch {branch!r}")
    return jnp.stack(jnp.broadcast_arrays(jnp.asarray(m, float), jnp.asarray(C, float) + 0 * alpha,
                                          jnp.asarray(v, float) + 0 * T))


def in_domain(x, alpha, T):
    """Physical domain: 0 <= C < 1, q = 1 - C T in [0, 1], v >= 0."""
    m, C, v = x[0], x[1], x[2]
    ok = (C >= 0) & ((C < 1) | (alpha == 0)) & (v >= 0) & (1.0 - C * T >= -1e-12) & (jnp.abs(m) <= 1 + 1e-12)
    return ok & jnp.all(jnp.isfinite(x))


def finalize(x, alpha, T):
    """At alpha = 0 (no noise field) C decouples from f: set it from its equation C = beta (1 - q)."""
    m = x[0]
    C0 = Q.sech2_over_T(m, 0.0, T)  # = beta (1 - tanh^2(beta m))
    return jnp.where(alpha == 0, x.at[1].set(C0).at[2].set(0.0), x)
