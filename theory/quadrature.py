"""Gaussian averages E_z[...] , z ~ N(0, 1), accurate at every temperature including T = 0.

Two well-kept quadrature rules are combined (nodes from numpy.polynomial):

* Gauss-Hermite (probabilists' weight exp(-z^2/2), ``hermegauss``) with ``n`` nodes (default
  ``DEFAULT_NODES`` = 160; ``LAGUERRE_NODES`` = 80 for the Laguerre rules) for integrands that are smooth on the scale of z.
* For the thermal functions of h = m + s z at low temperature (T much smaller than the width s of the
  field) the integrand develops a boundary layer of width T around h = 0 where Gauss-Hermite converges
  slowly.  There we write the function as its T = 0 limit, integrated in closed form (erf / Gaussian), plus a
  correction localised near h = 0, which is integrated in the scaled variable u = h / T with Gauss-Laguerre
  rules (``laggauss``) on each half-line: the correction decays like exp(-a |u|) and the Gaussian weight is
  smooth in u.

The switch between the two happens at rho = T / s = ``RHO_SWITCH`` (= 1); against adaptive scipy quadrature
both rules are accurate to ~1e-13 on either side of it
(tested in tests/test_quadrature.py, together with convergence in the node count).  At T = 0 the closed
forms are exact.
"""
from __future__ import annotations

from functools import lru_cache, partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import erf

DEFAULT_NODES = 160
LAGUERRE_NODES = 80
RHO_SWITCH = 1.0

_SQRT2 = np.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


@lru_cache(maxsize=None)
def hermite_rule(n: int = DEFAULT_NODES):
    """Nodes and weights (summing to 1) for E_z[g(z)], z ~ N(0, 1)."""
    z, w = np.polynomial.hermite_e.hermegauss(int(n))
    return z, w / w.sum()


@lru_cache(maxsize=None)
def laguerre_rule(n: int = LAGUERRE_NODES):
    """Nodes and weights for int_0^inf exp(-w) g(w) dw."""
    return np.polynomial.laguerre.laggauss(int(n))


def gauss_expect(g, n: int = DEFAULT_NODES):
    """E_z[g(z)] by Gauss-Hermite; ``g`` maps an array of nodes to values (broadcast over the last axis)."""
    z, w = hermite_rule(n)
    return jnp.sum(jnp.asarray(w) * g(jnp.asarray(z)), axis=-1)


def _phi(x):
    return _INV_SQRT_2PI * jnp.exp(-0.5 * x * x)


def abs_avg(m, s):
    """E|m + s z| in closed form (the T = 0 limit of E[T ln 2cosh(h/T)])."""
    pos = s > 0
    s_ = jnp.where(pos, s, 1.0)
    val = m * erf(m / (_SQRT2 * s_)) + 2.0 * s_ * _phi(m / s_)
    return jnp.where(pos, val, jnp.abs(m))


def _local_integral(kernel, a, m, s, T, nl, parity=1):
    """(1/s) int du k(u) phi((u T - m)/s) for a kernel k localised at u = 0, k(-u) = parity * k(u).

    ``kernel(w)`` receives w = a u >= 0 and returns exp(w) * k(w / a), a smooth bounded function
    (k decays like exp(-a |u|)); the half-lines are integrated with Gauss-Laguerre.
    """
    w, lw = laguerre_rule(nl)
    w = jnp.asarray(w)
    lw = jnp.asarray(lw)
    m_ = m[..., None]
    s_ = s[..., None]
    T_ = T[..., None]
    u = w / a
    dens = _phi((u * T_ - m_) / s_) + parity * _phi((-u * T_ - m_) / s_)
    return jnp.sum(lw * kernel(w) * dens, axis=-1) / (a * s)


def _k_log1p(w):  # exp(w) * log(1 + exp(-w)), w = 2u >= 0: ln 2cosh(u) - |u|
    return jnp.exp(w) * jnp.log1p(jnp.exp(-w))


def _k_tanh(w):  # exp(w) * (tanh(u) - 1), w = 2u >= 0 (odd kernel tanh(u) - sign(u))
    return -2.0 / (1.0 + jnp.exp(-w))


def _k_sech4(w):  # exp(w) * sech(u)^4, w = 4u >= 0
    return 16.0 / (1.0 + jnp.exp(-0.5 * w)) ** 4


def _k_sech2(w):  # exp(w) * sech(u)^2, w = 2u >= 0
    return 4.0 / (1.0 + jnp.exp(-w)) ** 2


def safe_sqrt(v):
    """sqrt(v) for v > 0 and 0 otherwise, with NaN-free derivatives at v = 0 (double-where trick)."""
    pos = v > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, v, 1.0)), 0.0)


def _prep(m, v, T):
    m, v, T = jnp.broadcast_arrays(jnp.asarray(m, float), jnp.asarray(v, float), jnp.asarray(T, float))
    s = safe_sqrt(v)
    low = (T < RHO_SWITCH * s) | (T == 0)  # includes T = 0 (also with s = 0)
    Th = jnp.where(low, 1.0, T)  # temperature seen by the Gauss-Hermite branch
    sl = jnp.where(low & (s > 0), s, 1.0)  # width seen by the Laguerre branch
    Tl = jnp.where(low, T, 0.0)
    return m, v, T, s, low, Th, sl, Tl


def _gh(fn, m, s, Th, n):
    return gauss_expect(lambda z: fn((m[..., None] + s[..., None] * z) / Th[..., None]), n)


def logcosh_u(u):
    """ln 2cosh(u), overflow-free."""
    a = jnp.abs(u)
    return a + jnp.log1p(jnp.exp(-2.0 * a))


@partial(jax.custom_jvp, nondiff_argnums=(3, 4))
def logcosh_avg(m, v, T, n: int = DEFAULT_NODES, nl: int = LAGUERRE_NODES):
    """E_z[T ln 2cosh((m + sqrt(v) z)/T)], z ~ N(0,1); exact limit E|m + sqrt(v) z| at T = 0.

    Its derivatives are supplied analytically (heat equation): d/dm = E tanh, d/dv = (1/2T) E sech^2,
    d/dT = (1/T) E[T ln 2cosh - h tanh]; they stay finite at v = 0 and at T = 0.
    """
    m, v, T, s, low, Th, sl, Tl = _prep(m, v, T)
    hi = Th * _gh(logcosh_u, m, s, Th, n)
    corr = Tl * Tl * _local_integral(_k_log1p, 2.0, m, sl, Tl, nl)
    lo = abs_avg(m, jnp.where(low, s, 0.0)) + corr
    return jnp.where(low, lo, hi)


@logcosh_avg.defjvp
def _logcosh_avg_jvp(n, nl, primals, tangents):
    m, v, T = primals
    dm, dv, dT = tangents
    F = logcosh_avg(m, v, T, n, nl)
    t1 = tanh_avg(m, v, T, n, nl)
    s2 = sech2_over_T(m, v, T, n, nl)
    Tpos = T > 0
    dFdT = jnp.where(Tpos, (F - m * t1 - v * s2) / jnp.where(Tpos, T, 1.0), 0.0)
    return F, t1 * dm + 0.5 * s2 * dv + dFdT * dT


def tanh_avg(m, v, T, n: int = DEFAULT_NODES, nl: int = LAGUERRE_NODES):
    """E_z[tanh((m + sqrt(v) z)/T)]; at T = 0 it is E sign(h) = erf(m / sqrt(2 v))."""
    m, v, T, s, low, Th, sl, Tl = _prep(m, v, T)
    hi = _gh(jnp.tanh, m, s, Th, n)
    sz = jnp.where(low, s, 0.0)
    szs = jnp.where(sz > 0, sz, 1.0)
    sign_avg = jnp.where(sz > 0, erf(m / (_SQRT2 * szs)), jnp.sign(m))
    lo = sign_avg + Tl * _local_integral(_k_tanh, 2.0, m, sl, Tl, nl, parity=-1)
    return jnp.where(low, lo, hi)


def sech2_over_T(m, v, T, n: int = DEFAULT_NODES, nl: int = LAGUERRE_NODES):
    """(1/T) E_z[sech^2((m + sqrt(v) z)/T)], finite at T = 0 where it equals 2 phi(m/s)/s, s = sqrt(v)."""
    return _sech_pow_over_T(m, v, T, 2, n, nl)


def sech4_over_T(m, v, T, n: int = DEFAULT_NODES, nl: int = LAGUERRE_NODES):
    """(1/T) E_z[sech^4((m + sqrt(v) z)/T)], finite at T = 0 where it equals (4/3) phi(m/s)/s."""
    return _sech_pow_over_T(m, v, T, 4, n, nl)


def _sech_pow_over_T(m, v, T, power, n, nl):
    m, v, T, s, low, Th, sl, Tl = _prep(m, v, T)
    hi = _gh(lambda u: (1.0 / jnp.cosh(jnp.clip(u, -350.0, 350.0))) ** power, m, s, Th, n) / Th
    if power == 2:
        lo = _local_integral(_k_sech2, 2.0, m, sl, Tl, nl)
    else:
        lo = _local_integral(_k_sech4, 4.0, m, sl, Tl, nl)
    lo = jnp.where(s > 0, lo, 0.0)  # T = 0 and no noise: sech^p(m/T)/T -> 0 (m != 0)
    return jnp.where(low, lo, hi)
