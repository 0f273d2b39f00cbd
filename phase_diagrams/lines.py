"""Transition lines and capacity in the (alpha, T) plane, by root finding (RS, any P).

* T_g(alpha): spin-glass transition.  P = 2: the paramagnet becomes unstable towards the spin glass
  (continuous): root in T of the paramagnet's replicon eigenvalue (scipy brentq).  P >= 3: the RS
  spin-glass solution appears discontinuously: the end (fold) of the spin-glass branch in T.
* alpha_c(T) and T_M(alpha): the end (fold) of the retrieval branch, one curve seen along either axis:
  bisection on existence, then Newton on the augmented fold system (theory.bifurcation.fold).
* T_c(alpha): retrieval becomes the global minimum, f_retrieval = f_spin-glass (brentq in T).
* T_AT(alpha): the de Almeida-Thouless eigenvalue of the retrieval solution vanishes (brentq in log T).
Every line value comes with its own convergence: NaN where the line does not exist or a root was not found.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from densehebb.theory import Model, Result, solve, x64
from densehebb.theory.bifurcation import fold
from densehebb.theory.numerics import XTOL_LINE, scan_roots
from densehebb.theory.solver import model_for

XTOL = XTOL_LINE  # absolute tolerance on the roots in T or alpha (the lines are accurate far below 1e-6)


class _Branch:
    """Solutions of one branch along a 1-d path (fixed alpha, varying T, or the reverse), each new solve
    started from the branch's default guess, failing that from the nearest solution found so far
    (continuation that does not jump across distant points), and failing both from the branch's
    zero-temperature guess at this load.

    The last start matters for the P = 2 spin glass along alpha at fixed T < 1: its default guess caps
    C at beta/2 (q = 1/2), while at small alpha the solution has C -> 1, q -> 1 - T (1 - C ~ sqrt(alpha));
    the T = 0 guess C = a/(1 + a), a = sqrt(2/(pi alpha)), has exactly that form.  Without it the spin glass
    (the only competitor for T < 1) was missing at small alpha and alpha_Tc(T) was NaN for T >= 0.8."""

    def __init__(self, spec, branch, alpha=None, T=None):
        self.spec, self.branch, self.alpha, self.T = spec, branch, alpha, T
        self.seen = []  # (p, x)

    def __call__(self, p):
        a, t = (p, self.T) if self.alpha is None else (self.alpha, p)
        r = solve(self.spec, a, t, self.branch)
        if not bool(r.converged) and self.seen:
            _, x0 = min(self.seen, key=lambda px: abs(px[0] - p))
            r = solve(self.spec, a, t, self.branch, x0=x0)
        if not bool(r.converged) and t > 0:
            x0 = np.asarray(model_for(self.spec).initial_guess(self.branch, a, 0.0))
            r = solve(self.spec, a, t, self.branch, x0=x0)
        if bool(r.converged):
            self.seen.append((p, r.raw))
        return r


@x64
def T_g(spec: Model, alpha: float) -> float:
    """Spin-glass transition temperature (P = 2: paramagnet instability; P >= 3: RS spin-glass spinodal)."""
    if alpha <= 0:
        return float("nan")
    if spec.P >= 3:
        return fold(spec, "spin-glass", float(alpha), None, "T", 0.0, 10.0).p

    model = model_for(spec)

    def lam(t):  # the paramagnet (m = q = 0, C = beta) is an exact solution for T > 1
        x = model.initial_guess("paramagnetic", alpha, t)
        return float(model.replicon(x, alpha, t))

    lo, hi = 1.0 + 1e-15, 1.0 + 10.0 * (1.0 + math.sqrt(alpha))
    if not (lam(lo) < 0 < lam(hi)):
        return float("nan")
    return brentq(lam, lo, hi, xtol=XTOL, rtol=4 * np.finfo(float).eps)


@x64
def capacity(spec: Model, T: float = 0.0, alpha_max: float = 1.0) -> Result:
    """alpha_c(T) at RS: largest load with a retrieval solution at temperature T (the fold of the retrieval
    branch), and m there; a Result of kind "capacity" (alpha_c, m_c)."""
    r = fold(spec, "retrieval", None, float(T), "alpha", 1e-9, alpha_max)
    return Result(spec, "capacity", {"T": float(T)}, {"alpha_c": r.p, "m_c": r.m}, r.status, r.residual,
                  r.iterations, extra={"raw": r.raw, "bracket": r.bracket})


@x64
def T_M(spec: Model, alpha: float) -> float:
    """Retrieval spinodal: highest T where retrieval states exist at load alpha.

    (The RS alpha_c(T) is slightly reentrant at low T; for alpha just above alpha_c(0) the branch exists
    only in a window of T, so the search starts from the lowest T on a coarse grid where it exists.)"""
    for t0 in np.arange(0.0, 1.0, 0.01):
        if bool(solve(spec, alpha, t0, "retrieval").converged):
            return fold(spec, "retrieval", float(alpha), None, "T", float(t0), 2.0).p
    return float("nan")


@x64
def paramagnet_entropy(spec: Model, alpha: float, T: float) -> float:
    """Entropy -df/dT of the paramagnetic solution (autodiff at the saddle point; NaN if it does not exist).

    For P >= 3 the RS paramagnet has S < 0 at low T (f -> -inf as T -> 0): there it is unphysical."""
    import jax

    r = solve(spec, alpha, T, "paramagnetic")
    if not bool(r.converged):
        return float("nan")
    model = model_for(spec)
    return -float(jax.grad(lambda t: model.free_energy(r.raw, alpha, t))(float(T)))


def _delta_f(spec, alpha=None, T=None):
    """p -> f_retrieval - f_competitor along a path at fixed alpha (p = T) or fixed T (p = alpha).

    The competitor is the lower of the spin glass and the paramagnet, the latter only where its entropy is
    non-negative (a physical state).  For P = 2 below T_g that is the spin glass."""
    R, S = _Branch(spec, "retrieval", alpha, T), _Branch(spec, "spin-glass", alpha, T)

    def g(p):
        a, t = (p, T) if alpha is None else (alpha, p)
        comp = [float(S(p).f)]
        pm = solve(spec, a, t, "paramagnetic")
        if bool(pm.converged) and paramagnet_entropy(spec, a, t) >= 0:
            comp.append(float(pm.f))
        comp = [c for c in comp if np.isfinite(c)]
        return float(R(p).f) - min(comp) if comp else float("nan")
    return g


@x64
def T_c(spec: Model, alpha: float, T_m: float | None = None, n_scan: int = 24) -> float:
    """Highest temperature below which retrieval states are the global minimum (f_R = f_competitor, see
    ``_delta_f``).

    Near alpha_Tc_T0 the RS line is reentrant (the RS spin glass has negative entropy, so f_SG rises with
    T at low T): for alpha slightly above alpha_Tc_T0 retrieval is the global minimum only in a window of T.
    This returns the upper end; ``alpha_Tc(T)`` gives the whole curve along T."""
    T_m = T_M(spec, alpha) if T_m is None else T_m
    if not np.isfinite(T_m):
        return float("nan")
    r = scan_roots(_delta_f(spec, alpha=alpha), 0.0, T_m * (1 - 1e-9), n_scan)
    return max(r) if r else float("nan")


@x64
def alpha_Tc(spec: Model, T: float, a_c: float | None = None, n_scan: int = 24) -> float:
    """The T_c line seen along alpha at fixed T: load where f_retrieval = f_spin-glass."""
    a_c = capacity(spec, T).alpha_c if a_c is None else a_c
    if not np.isfinite(a_c):
        return float("nan")
    r = scan_roots(_delta_f(spec, T=T), 1e-6, a_c * (1 - 1e-9), n_scan)
    return max(r) if r else float("nan")


@x64
def alpha_Tc0(spec: Model) -> float:
    """Load where the T_c line meets T = 0 (retrieval and spin-glass ground states are degenerate)."""
    a_c = capacity(spec, 0.0).alpha_c
    g = _delta_f(spec, T=0.0)
    lo, hi = 1e-3 * a_c, a_c * (1 - 1e-9)
    if not g(lo) < 0 < g(hi):
        return float("nan")
    return brentq(g, lo, hi, xtol=XTOL)


@x64
def T_AT(spec: Model, alpha: float, T_m: float | None = None, logT_min: float = -600.0) -> float:
    """de Almeida-Thouless line of the retrieval state: lambda_AT(alpha, T) = 0 (RS unstable below it).

    The root is found in log T, since T_AT ~ exp(-1/(2 alpha)) at small alpha.  NaN if the retrieval branch
    is AT-unstable all the way up to T_M or if T_AT < exp(logT_min).
    """
    T_m = T_M(spec, alpha) if T_m is None else T_m
    if not np.isfinite(T_m) or alpha <= 0:
        return float("nan")
    R = _Branch(spec, "retrieval", alpha=alpha)

    def lam(lt):
        return float(R(math.exp(lt)).replicon)

    hi = math.log(T_m * (1 - 1e-9))
    l_hi = lam(hi)
    l_lo = lam(logT_min)
    if not (np.isfinite(l_lo) and np.isfinite(l_hi) and l_lo < 0 < l_hi):
        return float("nan")
    return math.exp(brentq(lam, logT_min, hi, xtol=1e-13))
