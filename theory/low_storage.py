r"""Low storage (K finite, N -> infinity): Mattis states and symmetric mixtures, any P >= 2.

With K finite the noise of the other patterns vanishes and both energy conventions agree to leading order
(they differ by O(1) energies).  For a state with overlaps m_1..m_n on n patterns:

    f(m) = (P-1)/P! sum_mu m_mu^P - T E_xi ln 2cosh( beta sum_mu xi_mu m_mu^(P-1)/(P-1)! ),

xi uniform on {-1,+1}^n (enumerated exactly).  Stationarity: m_mu = E_xi[xi_mu tanh(beta h)].

Symmetric mixtures (m_mu = m, mu = 1..n; n = 1 is the Mattis state) are solved along their amplitude m:
for each m the temperature T(m) that makes m a solution is found by a root finder (for Mattis states in closed
form, T(m) = m^(P-1) / ((P-1)! artanh m)).  Then
* the spinodal T_spinodal = max_m T(m): above it the state does not exist;
* the thermodynamic transition T_thermodynamic: on the upper branch (m above the spinodal m), where
  f equals the paramagnet's -T ln 2 (for P = 2, n = 1 the transition is continuous and both are T = 1);
* stability: the smallest eigenvalue of the n x n Hessian of f (> 0: a local minimum).
"""
from __future__ import annotations

import itertools
import math
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import brentq, minimize_scalar

from .model import Model
from .precision import x64
from .results import Result, Status

_LOW_NOTE = "low storage (K finite): distinct-indices and all-tuples agree"


@lru_cache(maxsize=None)
def _signs(n):
    return np.array(list(itertools.product((-1.0, 1.0), repeat=n)))  # NumPy: cached across precisions


def free_energy(m, T, P):
    """f(m_1..m_n; T) in low storage (T > 0)."""
    m = jnp.asarray(m, float)
    xi = _signs(m.shape[0])
    h = xi @ (m ** (P - 1)) / math.factorial(P - 1)
    a = jnp.abs(h / T)
    lnc = a + jnp.log1p(jnp.exp(-2 * a))  # ln 2cosh
    return (P - 1) / math.factorial(P) * jnp.sum(m ** P) - T * jnp.mean(lnc)


def _amplitude_residual(m, T, P, n):
    """m - E_xi[xi_1 tanh(beta h)] for the symmetric mixture of n patterns."""
    xi = _signs(n)
    h = jnp.sum(xi, axis=1) * m ** (P - 1) / math.factorial(P - 1)
    return float(m - jnp.mean(xi[:, 0] * jnp.tanh(h / T)))


def temperature_of_amplitude(m, P, n=1):
    """T such that the symmetric n-mixture with amplitude m solves the equations (NaN if none)."""
    if n == 1:
        return m ** (P - 1) / (math.factorial(P - 1) * math.atanh(m))
    g = lambda t: _amplitude_residual(m, t, P, n)  # noqa: E731
    lo, hi = 1e-4, 10.0
    if not g(lo) * g(hi) < 0:
        return float("nan")
    return brentq(g, lo, hi, xtol=1e-14)


def zero_temperature_amplitude(n):
    """m at T = 0: E_xi[xi_1 sign(sum_mu xi_mu)] (1 for Mattis, 1/2 for n = 3); n must be odd."""
    xi = np.asarray(_signs(n))
    return float(np.mean(xi[:, 0] * np.sign(xi.sum(1))))


def _check_n(n):
    if n < 1 or n > 9 or n % 2 == 0:
        raise ValueError("mixture size n must be odd and between 1 and 9 (even mixtures have ties)")


def hessian_min_eig(m, T, P, n):
    x = jnp.full((n,), m)
    H = jax.hessian(free_energy)(x, T, P)
    return float(jnp.min(jnp.linalg.eigvalsh(H)))


def _low(model: Model) -> Model:
    if not isinstance(model, Model):
        raise TypeError("pass a densehebb.Model (storage='low')")
    model.require_plain("low storage")
    return model if model.storage == "low" else model.replace(storage="low")


@x64
def transitions(model: Model, n: int = 1) -> Result:
    """Spinodal and thermodynamic temperatures of the symmetric n-mixture (n = 1: Mattis states): a Result
    of kind "transition" with T_spinodal, m_spinodal, T_thermodynamic, m_thermodynamic and ``continuous``
    (1.0 for a continuous transition)."""
    model = _low(model)
    P = model.P
    _check_n(n)
    Tm = lambda m: temperature_of_amplitude(m, P, n)  # noqa: E731
    eps = 1e-9
    m0 = zero_temperature_amplitude(n)
    res = minimize_scalar(lambda m: -Tm(m), bounds=(1e-6, m0 * (1 - 1e-12)), method="bounded",
                          options={"xatol": 1e-12})
    m_sp, T_sp = float(res.x), float(-res.fun)
    continuous = m_sp < 1e-4  # P = 2 Mattis: T(m) is maximal as m -> 0
    if continuous:
        T_sp = Tm(eps)
        m_sp = 0.0
    f_para = lambda t: -t * math.log(2.0)  # noqa: E731
    d = lambda m: float(free_energy(jnp.full((n,), m), Tm(m), P)) - f_para(Tm(m))  # noqa: E731
    status = Status.CONVERGED
    if continuous:
        T_th, m_th = T_sp, 0.0
    else:
        lo, hi = m_sp + 1e-9, m0 * (1 - 1e-12)
        if d(lo) * d(hi) < 0:
            m_th = brentq(d, lo, hi, xtol=1e-14)
            T_th = Tm(m_th)
        else:  # the mixture never beats the paramagnet
            m_th, T_th = float("nan"), float("nan")
    values = {"T_spinodal": T_sp, "m_spinodal": m_sp, "T_thermodynamic": T_th, "m_thermodynamic": m_th,
              "continuous": bool(continuous)}
    return Result(model, "transition", {"mixture": int(n)}, values, status, note=_LOW_NOTE)


@x64
def solve_mixture(model: Model, T: float, n: int = 1) -> Result:
    """Upper-branch symmetric n-mixture at temperature T: a saddle Result with the amplitude m, f and the
    smallest Hessian eigenvalue as ``replicon`` (> 0: a local minimum); branch_missing above the spinodal."""
    model = _low(model)
    P = model.P
    tr = transitions(model, n)
    inputs = {"T": float(T), "mixture": int(n)}
    if not (T < tr.T_spinodal):
        return Result(model, "saddle", inputs, {"m": float("nan"), "f": float("nan")}, Status.BRANCH_MISSING,
                      note=_LOW_NOTE)
    m0 = zero_temperature_amplitude(n)
    if T == 0:
        xi = np.asarray(_signs(n))
        f = float((P - 1) / math.factorial(P) * n * m0 ** P - np.mean(np.abs(xi.sum(1))) * m0 ** (P - 1)
                  / math.factorial(P - 1))
        return Result(model, "saddle", inputs, {"m": m0, "f": f}, Status.CONVERGED, 0.0, note=_LOW_NOTE)
    g = lambda m: temperature_of_amplitude(m, P, n) - T  # noqa: E731
    lo = max(tr.m_spinodal, 1e-9) + 1e-12
    m = brentq(g, lo, m0 * (1 - 1e-15), xtol=1e-15)
    return Result(model, "saddle", inputs, {"m": m, "f": float(free_energy(jnp.full((n,), m), T, P))},
                  Status.CONVERGED, abs(_amplitude_residual(m, T, P, n)), replicon=hessian_min_eig(m, T, P, n),
                  note=_LOW_NOTE)


@x64
def stability_temperature(model: Model, n: int) -> float:
    """Temperature below which the symmetric n-mixture is a local minimum (Hessian positive definite)."""
    model = _low(model)
    P = model.P
    tr = transitions(model, n)
    lo_m = max(tr.m_spinodal, 1e-6) + 1e-9
    e = lambda m: hessian_min_eig(m, temperature_of_amplitude(m, P, n), P, n)  # noqa: E731
    ms = np.linspace(lo_m, zero_temperature_amplitude(n) * (1 - 1e-6), 200)
    vals = [e(m) for m in ms]
    for i in range(len(ms) - 1, 0, -1):  # from m -> 1 (low T) down to the spinodal
        if vals[i] > 0 and vals[i - 1] <= 0:
            return temperature_of_amplitude(brentq(e, ms[i - 1], ms[i], xtol=1e-14), P, n)
    return tr.T_spinodal if vals[0] > 0 else float("nan")
