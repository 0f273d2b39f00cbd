r"""Low storage (K finite, N -> infinity): Mattis states and symmetric mixtures, any P >= 2; learning from
examples (:func:`solve_examples`: archetype state, unsupervised example state).

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
def spinodal(P: int, n: int = 1) -> tuple:
    """(T_spinodal, m_spinodal, continuous) of the symmetric n-mixture: the highest temperature of its
    upper branch, max over m of T(m) (:func:`transitions` without the thermodynamic transition, which needs
    the free energy; the retrieval ceiling of the solvers needs only this)."""
    _check_n(n)
    Tm = lambda m: temperature_of_amplitude(m, P, n)  # noqa: E731
    m0 = zero_temperature_amplitude(n)
    res = minimize_scalar(lambda m: -Tm(m), bounds=(1e-6, m0 * (1 - 1e-12)), method="bounded",
                          options={"xatol": 1e-12})
    m_sp, T_sp = float(res.x), float(-res.fun)
    continuous = m_sp < 1e-4  # P = 2 Mattis: T(m) is maximal as m -> 0
    if continuous:
        T_sp = Tm(1e-9)
        m_sp = 0.0
    return T_sp, m_sp, continuous


@x64
def transitions(model: Model, n: int = 1) -> Result:
    """Spinodal and thermodynamic temperatures of the symmetric n-mixture (n = 1: Mattis states): a Result
    of kind "transition" with T_spinodal, m_spinodal, T_thermodynamic, m_thermodynamic and ``continuous``
    (1.0 for a continuous transition)."""
    model = _low(model)
    P = model.P
    T_sp, m_sp, continuous = spinodal(P, n)  # (checks n)
    Tm = lambda m: temperature_of_amplitude(m, P, n)  # noqa: E731
    m0 = zero_temperature_amplitude(n)
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


# ---------------------------------------------------------------- learning from examples (Model.examples)
_EX_NOTE = "low storage (K finite), learning from examples: derivation in docs/derivations/learning"


def _examples_model(model: Model) -> Model:
    if not isinstance(model, Model):
        raise TypeError("pass a densehebb.Model with examples=densehebb.Examples(...)")
    if model.examples is None:
        raise ValueError("low storage with examples: the Model has no examples (use solve_mixture for patterns)")
    model.replace(examples=None).require_plain("low storage")
    return model


def _beta_sech2(h, T):
    """beta sech^2(beta h) (T = 0: 0 where h != 0, inf where h = 0: a free spin)."""
    h = np.asarray(h, dtype=float)
    if T == 0:
        return np.where(h == 0, np.inf, 0.0)
    a = np.minimum(np.abs(h) / T, 350.0)
    return (1.0 / np.cosh(a)) ** 2 / T


def _tanh(h, T):
    return np.sign(h) if T == 0 else np.tanh(np.asarray(h) / T)


def _ln2cosh_T(h, T):
    a = np.abs(np.asarray(h, dtype=float))
    return a if T == 0 else a + T * np.log1p(np.exp(-2.0 * a / T))


def _hessian_min(K, corr, T_bs):
    """Smallest eigenvalue of H_ab = K_a delta_ab - K_a K_b E[chi^a chi^b beta sech^2] (corr: that matrix
    of expectations, already multiplied by beta sech^2), the Hessian of f(x_1..x_M) at a stationary point."""
    with np.errstate(invalid="ignore"):
        H = np.diag(K) - np.outer(K, K) * corr
    if not np.all(np.isfinite(H)):
        return -math.inf
    return float(np.min(np.linalg.eigvalsh(H)))


def example_types(M: int, r: float):
    """Site types (chi^1, S') of the unsupervised example state, S' = sum_{b>=2} chi^b ~ binomial(M-1, r),
    with their weights (2M types)."""
    from scipy.stats import binom

    k = np.arange(M)
    Sp = (M - 1 - 2 * k).astype(float)
    wS = binom.pmf(k, M - 1, (1.0 - r) / 2.0)
    c1 = np.repeat([1.0, -1.0], M)
    return c1, np.tile(Sp, 2), np.repeat([(1 + r) / 2, (1 - r) / 2], M) * np.tile(wS, 2)


def example_state_exists_T0(model: Model) -> bool:
    """Unsupervised: the pure example sigma = eta^1 (x = 1, y = r^2) is an exact T = 0 solution iff
    (M - 1) r^(2(P-1)) < 1 (the worst site, S' = -(M-1) chi^1, keeps its sign)."""
    model = _examples_model(model)
    ex = model.examples
    if ex.supervised:
        raise ValueError("example states belong to the unsupervised protocol (supervised=False)")
    return (ex.M - 1) * ex.r ** (2 * (model.P - 1)) < 1


@x64
def solve_examples(model: Model, T: float, state: str = "archetype", x0=None) -> Result:
    """K-finite state of a network learning from examples at temperature T (a saddle Result).

    state="archetype": the pure archetype (learning) state, supervised or unsupervised (identical in low
    storage): m (archetype overlap), n (class-mean overlap), q, f from :func:`theory.solver.solve` at
    alpha = 0; ``replicon`` = the smallest eigenvalue of the Hessian of f in the overlaps (supervised: n;
    unsupervised: the M example overlaps x_a, uniform and transverse directions).
    state="example" (unsupervised only): x_1 = x (retrieved example), x_b = y (b >= 2) over the 2M site types
    (chi^1, S'); values x, y, m, n = (x + (M-1) y)/(M r), f, ``replicon`` = smallest Hessian eigenvalue (M x M).
    Status collapsed where the example ansatz flows to x = y (no example state), x0 = (x, y) start (default
    (1, r^2), the pure example)."""
    model = _examples_model(model)
    T = float(T)
    if not (math.isfinite(T) and T >= 0):
        raise ValueError("T must be finite and >= 0")
    if state not in ("archetype", "example"):
        raise ValueError(f"unknown state {state!r}; choose archetype or example")
    ex, P = model.examples, model.P
    M, r, nrm = ex.M, ex.r, ex.norm(P)
    inputs = {"T": T, "state": state}
    if state == "archetype":
        from .solver import solve

        res = solve(model.replace(storage="high"), 0.0, T)
        values = {k: res.values[k] for k in ("m", "n", "q", "f")}
        if not res.converged:
            return Result(model, "saddle", inputs, values, res.status, res.residual, note=_EX_NOTE)
        n = float(res.n)
        if ex.gaussian:
            lam = float("nan")   # the Hessian below enumerates the binomial sites
        elif ex.supervised:
            from .learning import site_distribution

            s, w, _ = site_distribution(M, r)
            g = r ** P / nrm
            h = g * n ** (P - 1) / math.factorial(P - 1) * s
            K = g * n ** (P - 2) / math.factorial(P - 2)
            bs = np.where(s == 0, 0.0, _beta_sech2(h, T))   # s = 0 sites do not couple to n
            lam = _hessian_min(np.array([K]), np.array([[np.sum(w * s * s * bs)]]), T)
        else:
            from .learning import site_distribution

            _, w, S = site_distribution(M, r)
            x = r * n
            h = S * x ** (P - 1) / (M * nrm * math.factorial(P - 1))
            bs = _beta_sech2(h, T)
            K = np.full(M, x ** (P - 2) / (math.factorial(P - 2) * M * nrm))
            diag = np.sum(w * bs)
            off = np.sum(w * bs * (S * S - M)) / (M * (M - 1)) if M > 1 else 0.0
            corr = np.full((M, M), off) + np.eye(M) * (diag - off)
            lam = _hessian_min(K, corr, T)
        return Result(model, "saddle", inputs, values, res.status, res.residual, res.iterations, lam,
                      note=_EX_NOTE)
    if ex.supervised:
        raise ValueError("example states belong to the unsupervised protocol (supervised=False)")
    if M < 2:
        raise ValueError("an example state needs M >= 2 (M = 1: the example is the only pattern of its class)")
    if ex.gaussian:
        raise ValueError("the example state is enumerated over the exact binomial sites (gaussian=False)")
    c1, Sp, W = example_types(M, r)
    cf = 1.0 / (M * nrm * math.factorial(P - 1))

    def fields(x, y):
        return cf * (c1 * x ** (P - 1) + Sp * y ** (P - 1))

    def phi(z):
        t = _tanh(fields(*z), T)
        return np.array([np.sum(W * c1 * t), np.sum(W * Sp * t) / (M - 1)])

    z = np.array([1.0, r * r] if x0 is None else x0, dtype=float)
    if T == 0:
        for _ in range(1000):
            z1 = phi(z)
            if np.array_equal(z1, z):
                break
            z = z1
    else:
        from scipy.optimize import root

        for _ in range(20000):   # damped iteration to the basin, then Newton
            z1 = z + 0.5 * (phi(z) - z)
            if np.max(np.abs(z1 - z)) < 1e-10:
                break
            z = z1
        sol = root(lambda z: z - phi(z), z, method="hybr", options={"xtol": 1e-15})
        if sol.success:
            z = sol.x
    residual = float(np.max(np.abs(z - phi(z))))
    x, y = float(z[0]), float(z[1])
    h = fields(x, y)
    t = _tanh(h, T)
    E0 = (P - 1) / (math.factorial(P) * M * nrm) * (x ** P + (M - 1) * y ** P)
    values = {"m": float(np.sum(W * t)), "n": (x + (M - 1) * y) / (M * r), "x": x, "y": y,
              "f": float(E0 - np.sum(W * _ln2cosh_T(h, T)))}
    status = Status.CONVERGED if residual <= 1e-10 else Status.NOT_CONVERGED
    if status is Status.CONVERGED and abs(x - y) < 1e-6:
        status = Status.COLLAPSED   # flowed to the symmetric (archetype) point: no example state
    # Hessian of f(x_1..x_M) at (x, y, ..., y): E[chi^a chi^b beta sech^2] over the site types
    bs = _beta_sech2(h, T)
    e11 = np.sum(W * bs)
    e1b = np.sum(W * bs * c1 * Sp) / (M - 1)
    ebc = np.sum(W * bs * (Sp * Sp - (M - 1))) / ((M - 1) * (M - 2)) if M > 2 else 0.0
    corr = np.full((M, M), ebc)
    corr[0, :] = corr[:, 0] = e1b
    np.fill_diagonal(corr, e11)
    K = np.array([x] + [y] * (M - 1)) ** (P - 2) / (math.factorial(P - 2) * M * nrm)
    lam = _hessian_min(K, corr, T)
    if not status.ok:
        values = {k: float("nan") for k in values}
        lam = float("nan")
    return Result(model, "saddle", inputs, values, status, residual, 0, lam, note=_EX_NOTE)
