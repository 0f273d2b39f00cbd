r"""One step of replica symmetry breaking (1RSB) for dense networks with P >= 3 (hard spin-glass noise).

Parisi's 1RSB functional for an Ising system with a condensed pattern (field h(m) = m^(P-1)/(P-1)!) and the
Gaussian noise of covariance xi(q) (theory.covariance), overlaps q0 <= q1 and Parisi parameter x:

 -beta f = -beta U(m) + ln 2 + (beta^2/2)[xi(1) - xi(q1) - (1 - q1) xi'(q1)]
           - (beta^2 x / 2)[q1 xi'(q1) - xi(q1) - q0 xi'(q0) + xi(q0)]
           + (1/x) E_z0 ln E_z1 cosh^x beta(h + sqrt(xi'(q0)) z0 + sqrt(xi'(q1) - xi'(q0)) z1)

with U(m) = (P-1) m^P / P!.  q0 = q1 gives back the RS free energy (tested).  Variables are written so that
T = 0 is the exact limit of the same function: x = (m, q0, C, mu) with C = beta (1 - q1) and mu = beta x
(the x -> 0, beta x fixed limit), and T ln 2cosh(y/T) -> |y|:

 f = U(m) - [xi(1) - xi(q1) - (1-q1) xi'(q1)] / (2T) + (mu/2)[q1 xi'(q1) - xi(q1) - q0 xi'(q0) + xi(q0)]
     - (1/mu) E_z0 ln E_z1 exp( mu T ln 2cosh((h + s0 z0 + s1 z1)/T) ),  s0^2 = xi'(q0), s1^2 = xi'(q1) - xi'(q0).

The first bracket is a polynomial in C T starting at (C T)^2, so it is finite at T = 0 (where it vanishes
and f no longer depends on C).  Inner average: closed form at T = 0,
E exp(mu |a + s z|) = e^(mu^2 s^2/2) [e^(mu a) Phi((a + mu s^2)/s) + e^(-mu a) Phi((mu s^2 - a)/s)];
composite Gauss-Legendre split at the thermal boundary layer at T > 0.  Outer average: composite
Gauss-Legendre split at the kink of the inner function (width ~ s1 + T).
The stationarity equations (in m, q0, C, mu) come from autodiff of this single function.
"""
from __future__ import annotations

import math
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import log_ndtr, logsumexp

from . import dense_rs as RS
from . import quadrature as Q
from .quadrature import safe_sqrt

NAMES = ("m", "q0", "C", "mu")
OUTER_NODES = 32  # Gauss-Legendre nodes per panel (4 panels, split at the kink of the integrand)
INNER_NODES = 32
_L = 9.0  # Gaussian integrals truncated to |z| <= 9 (mass outside < 3e-19)


@lru_cache(maxsize=None)
def _legendre(n):
    return np.polynomial.legendre.leggauss(int(n))


def _split_rule(center, delta, n):
    """Nodes and weights (including the N(0,1) density) of a composite Gauss-Legendre rule on [-L, L] with
    panels [-L, c-d], [c-d, c], [c, c+d], [c+d, L]: the integrands here have a kink (T = 0) or a boundary
    layer of width ~ d at z = c, which a global Gauss-Hermite rule resolves poorly."""
    t, w = (jnp.asarray(a) for a in _legendre(n))
    c = jnp.clip(center, -_L, _L)
    d = jnp.clip(delta, 1e-12, 2 * _L)
    edges = [jnp.full_like(c, -_L), jnp.maximum(c - d, -_L), c, jnp.minimum(c + d, _L), jnp.full_like(c, _L)]
    zs, ws = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        half = 0.5 * (hi - lo)
        z = 0.5 * (hi + lo)[..., None] + half[..., None] * t
        zs.append(z)
        ws.append(half[..., None] * w * jnp.exp(-0.5 * z * z) / math.sqrt(2 * math.pi))
    return jnp.concatenate(zs, -1), jnp.concatenate(ws, -1)


@lru_cache(maxsize=None)
def _bracket_coeffs(P, self_interaction):
    """Coefficients c_k (k >= 2) with xi(1) - xi(1-e) - e xi'(1-e) = alpha sum_k c_k e^k (per unit alpha)."""
    a = np.polynomial.Polynomial(RS.noise_poly_coeffs(P, self_interaction))
    e = np.polynomial.Polynomial([0.0, 1.0])
    one_m = np.polynomial.Polynomial([1.0, -1.0])
    poly = a(np.polynomial.Polynomial([1.0])) - a(one_m) - e * a.deriv()(one_m)
    c = np.zeros(len(a.coef) + 1)
    c[: len(poly.coef)] = poly.coef
    return tuple(float(v) for v in c)


def _top_bracket_over_T(C, T, alpha, P, si):
    c = _bracket_coeffs(P, si)
    out = 0.0
    for k, ck in enumerate(c):
        if k >= 2 and ck != 0:
            out = out + ck * C ** k * T ** (k - 1)
    return alpha * out


def _inner_ground(a, s1, mu):
    """T = 0 of ``_inner_log_mean_exp``, in closed form (times mu)."""
    s = jnp.where(s1 > 0, s1, 1.0)
    t0 = 0.5 * mu * mu * s * s + jnp.logaddexp(mu * a + log_ndtr((a + mu * s * s) / s),
                                              -mu * a + log_ndtr((mu * s * s - a) / s))
    return jnp.where(s1 > 0, t0, mu * jnp.abs(a))


def _inner_thermal(a, s1, mu, T, n):
    """T > 0 of ``_inner_log_mean_exp`` (times mu): composite Gauss-Legendre split at the boundary layer
    y = 0 (width ~ T), log-sum-exp form."""
    s = jnp.where(s1 > 0, s1, 1.0)
    Th = jnp.where(T > 0, T, 1.0)
    z, w = _split_rule(-a / s, 6.0 * Th / s, n)
    y = a[..., None] + s1[..., None] * z
    F = Th[..., None] * Q.logcosh_u(y / Th[..., None])  # T ln 2cosh(y/T)
    tT = logsumexp(mu[..., None] * F, b=w, axis=-1)
    return jnp.where(s1 > 0, tT, mu * Th * Q.logcosh_u(a / Th))


def _inner_log_mean_exp(a, s1, mu, T, n):
    """(1/mu) ln E_z1 exp(mu F_T(a + s1 z1)), F_T(y) = T ln 2cosh(y/T) (-> |y| at T = 0): closed form at
    T = 0, composite Gauss-Legendre at T > 0 (both evaluated; elementwise in T)."""
    return jnp.where(T > 0, _inner_thermal(a, s1, mu, T, n), _inner_ground(a, s1, mu)) / mu


def _inner_average(a, s1, mu, T, n, thermal=None):
    """``_inner_log_mean_exp`` for one temperature T (a scalar): only the branch that applies is evaluated
    (lax.cond), so a T = 0 solve never pays for the 32 x 128-node thermal rule.  Under vmap over T the
    cond becomes a select and both run, as in ``_inner_log_mean_exp``.  ``thermal`` (static, optional):
    the caller knows whether T > 0, and only that branch is traced (no cond: a smaller program)."""
    s1, mu = jnp.broadcast_to(s1, a.shape), jnp.broadcast_to(mu, a.shape)
    T = jnp.asarray(T, dtype=a.dtype)
    if T.ndim:
        return _inner_log_mean_exp(a, s1, mu, jnp.broadcast_to(T, a.shape), n)
    hot = lambda: _inner_thermal(a, s1, mu, jnp.broadcast_to(T, a.shape), n)  # noqa: E731
    if thermal is not None:
        return (hot() if thermal else _inner_ground(a, s1, mu)) / mu
    if not isinstance(T, jax.core.Tracer):  # a concrete T (eager call): choose in Python, compile no cond
        return (hot() if float(T) > 0 else _inner_ground(a, s1, mu)) / mu
    return jax.lax.cond(T > 0, hot, lambda: _inner_ground(a, s1, mu)) / mu


def noise_terms(q0, C, mu, alpha, T, P, self_interaction=False):
    """Noise part of the 1RSB free energy (energy units) and the field variances it induces.

    Returns (g, S0, S1): f = U(m) + g + [S1 C + mu (S1 q1 - S0 q0)] / 2 - inner average, with the Gaussian
    field of variance S0 between states and S1 - S0 within a state (S = lambda / beta^2, lambda the
    conjugates of the overlaps).

    * P >= 3: g = -(beta/2)[xi(1) + (x-1) xi(q1) - x xi(q0)], S = xi'(q); written finite at T = 0.
    * P = 2 (AGS, exact Gaussian integral over the O(1) non-condensed overlaps): with D1 = 1 - C and
      D0 = 1 - C - mu (q1 - q0) (the eigenvalues of 1 - beta Q),
          g = alpha/2 [1 + (T - 1/mu) ln D1 + (1/mu) ln D0 - q0/D0],
          S0 = alpha q0 / D0^2,  S1 = S0 + (alpha/mu)(1/D0 - 1/D1)   (AGS r0, r1 times alpha).
    """
    q1 = 1.0 - C * T
    if P == 2:
        D1 = 1.0 - C
        D0 = D1 - mu * (q1 - q0)
        ok = (D0 > 0) & (D1 > 0)
        D1s, D0s = jnp.where(ok, D1, 1.0), jnp.where(ok, D0, 1.0)
        g = 0.5 * alpha * (1.0 + (T - 1.0 / mu) * jnp.log(D1s) + jnp.log(D0s) / mu - q0 / D0s)
        g = g + RS.constant(alpha, P, self_interaction)
        S0 = alpha * q0 / D0s ** 2
        S1 = S0 + alpha / mu * (1.0 / D0s - 1.0 / D1s)
        nan = jnp.nan
        return jnp.where(ok, g, nan), S0, S1
    xi = lambda q, d=0: RS.xi(q, alpha, P, self_interaction, d)  # noqa: E731
    S0, S1 = xi(q0, 1), xi(q1, 1)
    top = 0.5 * _top_bracket_over_T(C, T, alpha, P, self_interaction)
    mid = 0.5 * mu * (q1 * S1 - xi(q1) - q0 * S0 + xi(q0))
    g = -top + mid - 0.5 * (S1 * C + mu * (S1 * q1 - S0 * q0))
    return g, S0, S1


def _outer(x, alpha, T, P, self_interaction, n):
    """What free_energy and replicon share: q1, the noise variances S0, S1, the field amplitudes s0 (between
    states) and s1 (within), and the outer z0 rule (split at the kink) with the fields a = h(m) + s0 z0."""
    m, q0, C, mu = x[0], x[1], x[2], x[3]
    q1 = 1.0 - C * T
    g, S0, S1 = noise_terms(q0, C, mu, alpha, T, P, self_interaction)
    s0 = safe_sqrt(S0)
    s1 = safe_sqrt(jnp.maximum(S1 - S0, 0.0))
    h = RS.field(m, P)
    s0_ = jnp.where(s0 > 0, s0, 1.0)
    z, w = _split_rule(-h / s0_, 6.0 * (s1 + T) / s0_ + 1e-3, n)
    return q1, g, S0, S1, s1, h + s0 * z, w


def free_energy(x, alpha, T, P=3, self_interaction=False, n=OUTER_NODES, thermal=None):
    """1RSB free energy per neuron f(m, q0, C, mu; alpha, T), any P >= 2 (``thermal``: see _inner_average)."""
    m, C, mu = x[0], x[2], x[3]
    q1, g, S0, S1, s1, a, w = _outer(x, alpha, T, P, self_interaction, n)
    U = (P - 1) * m ** P / math.factorial(P)
    coupling = 0.5 * (S1 * C + mu * (S1 * q1 - S0 * x[1]))
    inner = _inner_average(a, s1, mu, T, INNER_NODES, thermal)
    return U + g + coupling - jnp.sum(w * inner)


def equations(x, alpha, T, P=3, self_interaction=False, n=OUTER_NODES, thermal=None):
    """Stationarity equations: the gradient of f, scaled to be O(1) (m-row by h'(m), the others by alpha)."""
    g = jax.grad(free_energy)(x, alpha, T, P, self_interaction, n, thermal)
    hp = RS.field_prime(x[0], P)
    gm = jnp.where(hp != 0, g[0] / jnp.where(hp != 0, hp, 1.0), g[0])
    a = jnp.where(alpha > 0, alpha, 1.0)
    return jnp.stack([gm, g[1] / a, g[2] / a, g[3] / a])


def in_domain(x, alpha, T, P=3):
    m, q0, C, mu = x[0], x[1], x[2], x[3]
    q1 = 1.0 - C * T
    ok = (q0 >= 0) & (q0 <= q1 + 1e-12) & (q1 <= 1) & (C >= 0) & (mu > 0) & (jnp.abs(m) <= 1 + 1e-12)
    ok = ok & ((T == 0) | (mu * T <= 1 + 1e-12))  # x = mu T in (0, 1]
    if P == 2:  # 1 - beta Q positive definite
        ok = ok & (C < 1) & (1.0 - C - mu * (q1 - q0) > 0)
    return ok & jnp.all(jnp.isfinite(x))


def order_parameters(x, alpha, T):
    """(m, q0, q1, x_Parisi)."""
    m, q0, C, mu = x[0], x[1], x[2], x[3]
    return m, q0, 1.0 - C * T, mu * T


def replicon(x, alpha, T, P=3, self_interaction=False, n=OUTER_NODES):
    """Replicon eigenvalue inside the innermost 1RSB blocks (de Almeida-Thouless condition of the 1RSB
    solution; stable when > 0):

        lambda = 1 - beta^2 kappa E_z0 < sech^4(beta y) >_x ,  y = h + s0 z0 + s1 z1,

    where <.>_x averages over z1 with the weight cosh^x(beta y) (the state measure inside a block),
    kappa = xi''(q1) for P >= 3 and alpha / D1^2 (D1 = 1 - C, the block eigenvalue of 1 - beta Q) for P = 2.
    At T = 0 with s1 > 0 the average of sech^4 is O(T), so lambda -> -infinity: 1RSB is unstable in the
    ground state, as RS is (the usual need for further steps of RSB)."""
    C, mu = x[2], x[3]
    q1, _, _, _, s1, a, w0 = _outer(x, alpha, T, P, self_interaction, n)
    kappa = alpha / (1.0 - C) ** 2 if P == 2 else RS.xi(q1, alpha, P, self_interaction, 2)
    Th = jnp.where(T > 0, T, 1.0)
    s1_ = jnp.where(s1 > 0, s1, 1.0)
    z1, w1 = _split_rule(-a / s1_, 6.0 * Th / s1_, INNER_NODES)
    y = (a[..., None] + s1 * z1) / Th
    lw = mu * Th * Q.logcosh_u(y) + jnp.log(w1)  # the state measure cosh^x(beta y), normalised below
    lw = lw - logsumexp(lw, axis=-1, keepdims=True)
    inner = jnp.where(s1 > 0, jnp.sum(jnp.exp(lw) * _sech4(y), axis=-1), _sech4(a / Th))
    lam = 1.0 - kappa / Th ** 2 * jnp.sum(w0 * inner)
    return jnp.where(T > 0, lam, jnp.where(s1 > 0, -jnp.inf, lam))


def _sech4(u):
    """sech(u)^4, overflow-free."""
    e = jnp.exp(-jnp.abs(u))
    return (2.0 * e / (1.0 + e * e)) ** 4
