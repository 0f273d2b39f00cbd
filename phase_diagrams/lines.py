"""Transition lines and capacity in the (alpha, T) plane, by root finding (RS, any P).

* T_g(alpha): spin-glass transition.  P = 2: the paramagnet becomes unstable towards the spin glass
  (continuous): root in T of the paramagnet's replicon eigenvalue (scipy brentq).  P >= 3: the RS
  spin-glass solution appears discontinuously: the end (fold) of the spin-glass branch in T.
* alpha_c(T) and T_M(alpha): the end (fold) of the retrieval branch, one curve seen along either axis:
  bisection on existence, then Newton on the augmented fold system (theory.bifurcation.fold).
* T_c(alpha): retrieval becomes the global minimum, f_retrieval = f_competitor (the lower of the spin glass
  and the paramagnet of non-negative entropy); the largest root on a scan (a sign change, or one beside the
  edge of the region where a competitor exists, P >= 3), refined with brentq; alpha_Tc(T) is the same line
  along T.
* T_AT(alpha): the de Almeida-Thouless eigenvalue of the retrieval solution vanishes (brentq in log T).
Every line value comes with its own convergence: NaN where the line does not exist or a root was not found.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq

from densehebb.theory import Model, Result, Status, solve, x64
from densehebb.theory import aot
from densehebb.theory.bifurcation import fold
from densehebb.theory.numerics import XTOL_LINE
from densehebb.theory.solver import _guess_fn, model_for

XTOL = XTOL_LINE  # absolute tolerance on the roots in T or alpha (the lines are accurate far below 1e-6)
EDGE_BISECTIONS = 16  # edge of the region where f_R - f_competitor is defined, to 2^-16 of a scan step


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
        self.ceiling = math.inf  # p above which the branch is known not to exist (its fold): no solve there
        self.floor = 0.0  # p below which it is known not to exist

    def __call__(self, p):
        a, t = (p, self.T) if self.alpha is None else (self.alpha, p)
        if p > self.ceiling * (1 + 1e-9) or p < self.floor * (1 - 1e-9):
            return Result(self.spec, "saddle", {"alpha": float(a), "T": float(t), "branch": self.branch},
                          {"m": float("nan"), "f": float("nan")}, Status.BRANCH_MISSING)
        r = None
        near = bool(self.seen) and self.branch == "spin-glass"  # the spin glass tries its neighbour first
        if near:
            _, x0 = min(self.seen, key=lambda px: abs(px[0] - p))
            r = solve(self.spec, a, t, self.branch, x0=x0)
        if r is None or not bool(r.converged):
            r = solve(self.spec, a, t, self.branch)
        if not bool(r.converged) and self.seen and not near:  # (the spin glass: that start failed above)
            _, x0 = min(self.seen, key=lambda px: abs(px[0] - p))
            r = solve(self.spec, a, t, self.branch, x0=x0)
        if not bool(r.converged) and t > 0:
            x0 = np.asarray(_guess_fn(self.spec, self.branch)(np.array([a]), np.array([0.0]))[0][0])
            r = solve(self.spec, a, t, self.branch, x0=x0)
        if bool(r.converged):
            self.seen.append((p, r.raw))
        return r


@x64
def T_g_fold(spec: Model, alpha: float, start=None) -> Result:
    """P >= 3: the end (fold in T) of the RS spin-glass branch at load alpha, a Result of kind "fold"."""
    return fold(spec, "spin-glass", float(alpha), None, "T", 0.0, 10.0, start=start)


def alpha_g(spec: Model, T: float, alphas, folds) -> float | None:
    """P >= 3: the load where the spin-glass spinodal T_g(alpha) passes T (below it no RS spin glass exists
    at T), from the T_g folds already computed on the grid ``alphas`` (``folds``: their Results): brentq
    between the grid loads that bracket T (beyond the grid: doubled or halved until they do), each
    evaluation a fold continued from the nearest grid fold.  None unless T_g increases along the grid and a
    bracket is found (then nothing is assumed)."""
    tg = np.array([f.p for f in folds])
    if spec.P < 3 or T <= 0 or not np.all(np.isfinite(tg)) or not np.all(np.diff(tg) > 0):
        return None
    i = int(np.clip(np.searchsorted(tg, T, side="right") - 1, 0, len(tg) - 2))
    start = fold_start(folds[i if T < tg[-1] else -1])

    def h(a):
        return T_g_fold(spec, a, start=start).p - T
    lo, hi = float(alphas[i]), float(alphas[i + 1])
    for _ in range(60):  # beyond the grid
        if T >= tg[-1]:
            lo, hi = hi, 2.0 * hi
            if h(hi) > 0:
                break
        elif T < tg[0]:
            lo, hi = 0.5 * lo, lo
            if h(lo) < 0:
                break
        else:
            break
    try:
        return brentq(h, lo, hi, xtol=1e-14, rtol=1e-12)
    except ValueError:
        return None


@lru_cache(maxsize=None)
def _paramagnet_replicon(spec: Model):
    """(alpha, T) -> replicon eigenvalue of the closed-form paramagnet, jitted once per model."""
    model = model_for(spec)
    return aot.jit(lambda a, t: model.replicon(model.initial_guess("paramagnetic", a, t), a, t),
                   ("rs-paramagnet-replicon", spec))


@lru_cache(maxsize=None)
def _entropy(spec: Model):
    """(x, alpha, T) -> -df/dT at fixed solver variables x (the saddle point's entropy), jitted once."""
    import jax

    model = model_for(spec)
    return aot.jit(lambda x, a, t: -jax.grad(lambda tt: model.free_energy(x, a, tt))(t), ("rs-entropy", spec))


@x64
def T_g(spec: Model, alpha: float) -> float:
    """Spin-glass transition temperature (P = 2: paramagnet instability; P >= 3: RS spin-glass spinodal,
    ``T_g_fold``)."""
    if alpha <= 0:
        return float("nan")
    if spec.P >= 3:
        return T_g_fold(spec, alpha).p

    lam_pm = _paramagnet_replicon(spec)

    def lam(t):  # the paramagnet (m = q = 0, C = beta) is an exact solution for T > 1
        return float(lam_pm(float(alpha), float(t)))

    g = float(getattr(model_for(spec), "g_max", 1.0))   # learning: the paramagnet exists for T > gamma_max
    lo, hi = g * (1.0 + 1e-15), g * (1.0 + 10.0 * (1.0 + math.sqrt(alpha)))
    if not (lam(lo) < 0 < lam(hi)):
        return float("nan")
    return brentq(lam, lo, hi, xtol=XTOL, rtol=4 * np.finfo(float).eps)


def fold_start(r: Result):
    """(p, x) of a fold or capacity Result, to start the next point of a line from (``start=``)."""
    p = r.values.get("p", r.values.get("alpha_c"))
    return (float(p), np.asarray(r.extra["raw"])) if r.converged else None


@x64
def capacity(spec: Model, T: float = 0.0, alpha_max: float = 1.0, start=None) -> Result:
    """alpha_c(T) at RS: largest load with a retrieval solution at temperature T (the fold of the retrieval
    branch), and m there; a Result of kind "capacity" (alpha_c, m_c).  ``start``: the (p, x) of a nearby
    capacity (``fold_start``), for continuation along T."""
    if start is None:
        return _capacity_cached(spec, float(T), float(alpha_max))
    return _capacity(spec, T, alpha_max, start)


@lru_cache(maxsize=256)
def _capacity_cached(spec, T, alpha_max):
    return _capacity(spec, T, alpha_max, None)


def _capacity(spec, T, alpha_max, start):
    p_lo = 1e-9
    if spec.examples is not None and start is None:
        # learning, P = 2, even M, T = 0: the free (S = 0) sites make C grow as alpha -> 0 and the default
        # guess misses the retrieval solution at the smallest loads; start from the smallest load that has it
        for p in (1e-9, 1e-7, 1e-5, 1e-4, 1e-3, 1e-2):
            if bool(solve(spec, p, T, "retrieval").converged):
                p_lo = p
                break
    r = fold(spec, "retrieval", None, float(T), "alpha", p_lo, alpha_max, start=start)
    values = {"alpha_c": r.p, "m_c": r.m}
    if spec.examples is not None:   # the fold variable is n (class-mean overlap); m is the archetype overlap
        values = {"alpha_c": r.p, "m_c": float("nan"), "n_c": float("nan")}
        if r.converged:
            model = model_for(spec)
            x = np.asarray(r.raw)
            values.update(m_c=float(model.archetype_overlap(x, r.p, float(T))), n_c=float(x[0]))
    return Result(spec, "capacity", {"T": float(T)}, values, r.status, r.residual,
                  r.iterations, extra={"raw": r.raw, "bracket": r.bracket})


@lru_cache(maxsize=None)
def _capacity_peak(spec: Model, n_grid: int = 13) -> tuple[float, float]:
    """(T*, alpha_c(T*)): the largest RS capacity over T (the RS alpha_c(T) is reentrant: P = 2 peaks near
    T = 0.025, P >= 3 far above alpha_c(0)).  A coarse grid on [0, T_M(alpha -> 0)], then a bounded Brent
    maximisation between the grid neighbours of the best point."""
    from scipy.optimize import minimize_scalar

    top = T_M(spec, 1e-3 * capacity(spec, 0.0).alpha_c)
    ts = np.linspace(0.0, top, n_grid)
    acs = np.array([capacity(spec, float(t)).alpha_c for t in ts])
    if not np.any(np.isfinite(acs)):
        return float("nan"), float("nan")
    i = int(np.nanargmax(acs))
    lo, hi = ts[max(i - 1, 0)], ts[min(i + 1, n_grid - 1)]
    neg = lambda t: -np.nan_to_num(capacity(spec, float(t)).alpha_c, nan=0.0)  # noqa: E731
    r = minimize_scalar(neg, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6 * max(top, 1e-300)})
    return (float(r.x), -float(r.fun)) if -r.fun > acs[i] else (float(ts[i]), float(acs[i]))


@x64
def T_M(spec: Model, alpha: float, start=None) -> float:
    """Retrieval spinodal T_M(alpha) (see ``T_M_fold``); ``start``: (T, x) of the spinodal at a nearby load."""
    return T_M_fold(spec, alpha, start).p


@x64
def T_M_fold(spec: Model, alpha: float, start=None) -> Result:
    """Retrieval spinodal: highest T where retrieval states exist at load alpha; NaN iff alpha exceeds the
    largest capacity max_T alpha_c(T).

    (The RS alpha_c(T) is slightly reentrant at low T; for alpha just above alpha_c(0) the branch exists
    only in a window of T, so the search starts from the lowest T on a coarse grid where it exists and,
    failing that (narrow windows, or P >= 3 where T < 0.01 matters), from the T of the largest capacity.)"""
    if start is not None:
        r = fold(spec, "retrieval", float(alpha), None, "T", 0.0, 2.0, start=start)
        if r.converged:
            return r
    for t0 in np.arange(0.0, 1.0, 0.01):
        if bool(solve(spec, alpha, t0, "retrieval").converged):
            return fold(spec, "retrieval", float(alpha), None, "T", float(t0), 2.0)
    t_peak, a_peak = _capacity_peak(spec)
    if not alpha < a_peak or not bool(solve(spec, alpha, t_peak, "retrieval").converged):
        return Result(spec, "fold", {"branch": "retrieval", "param": "T", "alpha": float(alpha)},
                      {"p": float("nan"), "m": float("nan")}, Status.BRANCH_MISSING)
    return fold(spec, "retrieval", float(alpha), None, "T", t_peak, 2.0)


@x64
def paramagnet_entropy(spec: Model, alpha: float, T: float) -> float:
    """Entropy -df/dT of the paramagnetic solution (autodiff at the saddle point; NaN if it does not exist).

    For P >= 3 the RS paramagnet has S < 0 at low T (f -> -inf as T -> 0): there it is unphysical."""
    r = solve(spec, alpha, T, "paramagnetic")
    return _saddle_entropy(spec, r, alpha, T) if bool(r.converged) else float("nan")


def _saddle_entropy(spec, r, alpha, T):
    """-df/dT at the solution ``r`` (a converged saddle-point Result)."""
    return float(_entropy(spec)(np.asarray(r.raw), float(alpha), float(T)))


def _delta_f(spec, alpha=None, T=None, T_g=None, alpha_g=None):
    """p -> f_retrieval - f_competitor along a path at fixed alpha (p = T) or fixed T (p = alpha).

    The competitor is the lower of the spin glass and the paramagnet, the latter only where its entropy is
    non-negative (a physical state).  For P = 2 below T_g that is the spin glass.  ``T_g`` (P >= 3, path at
    fixed alpha): the spin-glass spinodal, above which the spin glass is not solved for (it does not exist
    there; the failed solves with all their fallbacks were most of the cost of the line); ``alpha_g`` (path
    at fixed T) likewise: the load below which the spin glass does not exist at this T (``alpha_g``)."""
    R, S = _Branch(spec, "retrieval", alpha, T), _Branch(spec, "spin-glass", alpha, T)
    if T_g is not None and spec.P >= 3 and alpha is not None and np.isfinite(T_g):
        S.ceiling = float(T_g)
    if alpha_g is not None and spec.P >= 3 and T is not None and np.isfinite(alpha_g):
        S.floor = float(alpha_g)

    def g(p):
        a, t = (p, T) if alpha is None else (alpha, p)
        comp = [float(S(p).f)]
        pm = solve(spec, a, t, "paramagnetic")
        if bool(pm.converged) and _saddle_entropy(spec, pm, a, t) >= 0:
            comp.append(float(pm.f))
        comp = [c for c in comp if np.isfinite(c)]
        return float(R(p).f) - min(comp) if comp else float("nan")
    return g


def _edge(g, p_in, p_out, n_bisect=EDGE_BISECTIONS):
    """The point nearest p_out (to (p_out - p_in) 2^-n_bisect) where g is still finite, bisecting from p_in
    (g finite) towards p_out (g NaN: the competitor or the retrieval state is absent there)."""
    for _ in range(n_bisect):
        mid = 0.5 * (p_in + p_out)
        if np.isfinite(g(mid)):
            p_in = mid
        else:
            p_out = mid
    return p_in


def _max_root(g, lo, hi, n_scan):
    """The largest root of g on [lo, hi], or None: a scan of n_scan grid values (in ascending order), then the
    intervals from the top down, refined only up to the first that holds a root (a sign change between
    finite values, a grid value exactly 0, or a root beside the edge of the region where g is defined,
    P >= 3: the window without a physical RS competitor, where a crossing just beside the edge would fall
    between two grid points): that root is the largest.  T_c and alpha_Tc need only that one; refining the
    roots below it was most of the cost after the scan (along alpha: the edge at the smallest loads, where
    the spin glass is not found).

    The grid is evaluated as before because the branches continue from their nearest solution so far
    (``_Branch``): the grid values, and so the brackets, stay those of the full search; a refinement starts
    from the grid solutions at the ends of its interval, as it did."""
    memo = {}

    def gm(p):
        if p not in memo:
            memo[p] = g(p)
        return memo[p]

    ps = np.linspace(lo, hi, n_scan)
    vals = [gm(p) for p in ps]
    for i in range(n_scan - 2, -1, -1):
        a, b, va, vb = ps[i], ps[i + 1], vals[i], vals[i + 1]
        if np.isfinite(va) and np.isfinite(vb) and va * vb < 0:
            return brentq(gm, a, b, xtol=XTOL)
        if va == 0:
            return a
        fa, fb = np.isfinite(va), np.isfinite(vb)
        if fa != fb:
            p_in, p_out = (a, b) if fa else (b, a)
            e = _edge(gm, p_in, p_out)
            if e != p_in and gm(e) * gm(p_in) < 0:
                return brentq(gm, min(e, p_in), max(e, p_in), xtol=XTOL)
    return None


@x64
def T_c(spec: Model, alpha: float, T_m: float | None = None, n_scan: int = 24, T_g: float | None = None) -> float:
    """Highest temperature below which retrieval states are the global minimum (f_R = f_competitor, see
    ``_delta_f``).

    Near alpha_Tc_T0 the RS line is reentrant (the RS spin glass has negative entropy, so f_SG rises with
    T at low T): for alpha slightly above alpha_Tc_T0 retrieval is the global minimum only in a window of T.
    This returns the upper end; ``alpha_Tc(T)`` gives the whole curve along T.  ``T_g``: see ``_delta_f``."""
    T_m = T_M(spec, alpha) if T_m is None else T_m
    if not np.isfinite(T_m):
        return float("nan")
    r = _max_root(_delta_f(spec, alpha=alpha, T_g=T_g), 0.0, T_m * (1 - 1e-9), n_scan)
    return float("nan") if r is None else r


@x64
def alpha_Tc(spec: Model, T: float, a_c: float | None = None, n_scan: int = 24,
             alpha_g: float | None = None) -> float:
    """The T_c line seen along alpha at fixed T: the largest load where f_retrieval = f_competitor (see
    ``_delta_f``), searched on [1e-6, alpha_c(T)].  NaN iff there is no such crossing: T above every
    T_c(alpha), or (P >= 3) the crossing lies where RS has no physical competitor."""
    a_c = capacity(spec, T).alpha_c if a_c is None else a_c
    if not np.isfinite(a_c):
        return float("nan")
    r = _max_root(_delta_f(spec, T=T, alpha_g=alpha_g), 1e-6, a_c * (1 - 1e-9), n_scan)
    return float("nan") if r is None else r


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

    The root is found in log T, since T_AT ~ exp(-1/(2 alpha)) at small alpha; above alpha_c(0), where
    retrieval exists only for T in a window, from the window's lower end.  NaN if the retrieval branch is
    AT-unstable all the way up to T_M, AT-stable throughout, or if T_AT < exp(logT_min).
    """
    T_m = T_M(spec, alpha) if T_m is None else T_m
    if not np.isfinite(T_m) or alpha <= 0:
        return float("nan")
    R = _Branch(spec, "retrieval", alpha=alpha)

    def lam(lt):
        return float(R(math.exp(lt)).replicon)

    hi = math.log(T_m * (1 - 1e-9))
    l_hi = lam(hi)
    lo = logT_min
    l_lo = lam(lo)
    if not np.isfinite(l_lo) and np.isfinite(l_hi):  # alpha > alpha_c(0): retrieval only in a window of T
        lo = _lowest_log_T(lam, lo, hi)
        l_lo = lam(lo)
    if not (np.isfinite(l_lo) and np.isfinite(l_hi) and l_lo < 0 < l_hi):
        return float("nan")
    return math.exp(brentq(lam, lo, hi, xtol=1e-13))


def _lowest_log_T(lam, lt_absent, lt_present, n_bisect=EDGE_BISECTIONS * 4):
    """Lower end (in log T) of the retrieval window, by bisection on where lambda_AT is defined."""
    return _edge(lam, lt_present, lt_absent, n_bisect)
