"""Solving the 1RSB saddle point (any P >= 2): a scan in mu = beta x, Newton in the other variables.

The replica-symmetric point q0 = q1 is stationary for every x, so Newton from a generic guess falls back
onto it.  The non-trivial branch (q0 < q1) is found instead by Newton at fixed mu from several starting
points around the RS solution (q0 below q, q1 above it), on a grid of mu (T > 0: x = mu T on a grid in
(0, 1]; T = 0: mu geometric), continuing from the previous grid point where the branch exists.  Along the
branch df/dmu changes sign where the 1RSB free energy is extremal in x: the maximum (df/dmu > 0 below,
< 0 above) is the saddle point; brentq in log mu with continuation locates it and a final Newton on all
variables polishes it.
At T = 0 with P >= 3, f does not depend on C (q1 = 1) and C is held fixed; for P = 2 the AGS log-det term
keeps C = beta (1 - q1) active at T = 0.
A result counts as converged only with the full residual below tolerance and a consistent, non-trivial
solution (0 <= q0 < q1 <= 1, 0 < x <= 1, 1 - beta Q positive for P = 2); otherwise values are NaN and
the :class:`Status` says why:
  branch_missing         the RS retrieval solution does not exist here and alpha is not above the RS
                         capacity (above it, the 1RSB solution is continued in alpha from below), or alpha
                         is above the 1RSB capacity as well (the note says which);
  rsb_trivial            no non-trivial solution: 1RSB coincides with RS (e.g. above the AT line);
  x_at_boundary          non-trivial solutions exist but f is largest at x = 1 (T > 0): the 1RSB saddle
                         is the RS / paramagnetic one.
"""
from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import brentq

from . import aot
from . import dense_rs as RS
from . import dense_rsb1 as R1
from .model import Model
from .numerics import (FOLD_MAXITER, TOL_RSB1, chunked, continue_until_failure, in_rounds, newton as _nt,
                       newton_resume)
from .precision import x64
from .results import Result, Status
from .solver import solve

TOL = TOL_RSB1
_NAN = float("nan")
_VALUES = ("m", "q0", "q1", "x", "mu", "C", "q", "f", "f_rs")
_CONTINUED = "continued from the given start (full Newton; a maximum of f in mu)"
_TRIVIAL_NOTE = "no non-trivial 1RSB saddle here: the RS solution (ansatz 'rs') applies"
_SPLIT = 1e-4  # q1 - q0 below this counts as the RS point (near-degenerate directions at small x)


@lru_cache(maxsize=None)
def _fns(P, si, thermal):
    """The scalar executables (Newton, df/dmu, f, equations) for T > 0 (``thermal``) or T = 0: each traces
    only the inner average that applies (dense_rsb1._inner_average), so a T = 0 program does not carry the
    thermal quadrature (half the size: loading it from the compilation cache is most of a warm capacity)."""
    def newton(x0, fixed, a, t, tol):
        return _nt(lambda x: R1.equations(x, a, t, P, si, thermal=thermal), x0, fixed,
                   lambda x: R1.in_domain(x, a, t, P), tol, FOLD_MAXITER)

    def dmu(x, a, t):
        return jax.grad(R1.free_energy)(x, a, t, P, si, R1.OUTER_NODES, thermal)[3] / a

    key = ("rsb1", P, si, "thermal" if thermal else "ground")
    return (aot.jit(newton, key + ("newton",)), aot.jit(dmu, key + ("df/dmu",)),
            aot.jit(lambda x, a, t: R1.free_energy(x, a, t, P, si, thermal=thermal), key + ("f",)),
            aot.jit(lambda x, a, t: R1.equations(x, a, t, P, si, thermal=thermal), key + ("equations",)))


def _fns_at(spec, T):
    """:func:`_fns` for the temperature T (the T = 0 or the T > 0 executables)."""
    return _fns(spec.P, spec.self_interaction, bool(T > 0))


@lru_cache(maxsize=None)
def _replicon_fn(P, si):
    return aot.jit(lambda x, a, t: R1.replicon(x, a, t, P, si), ("rsb1", P, si, "replicon"))


def _fixed(P, T, branch, mu_fixed):
    sg = branch == "spin-glass"  # m = 0 and, without a field, q0 = 0 (xi'(0) = 0 for every P, convention)
    return np.array([sg, sg, bool(T == 0 and P >= 3), bool(mu_fixed)])  # NumPy: no eager JAX op per call


def _consistent(x, res, T, P):
    """The acceptance test shared by every stage: residual and a non-trivial, consistent 1RSB point."""
    q1 = 1.0 - x[2] * T
    # q1 > 1e-3 rules out the paramagnet in disguise (q0 ~ q1 ~ 0 with round-off splitting)
    ok = bool(res <= TOL) and 0.0 <= x[1] and q1 - x[1] > _SPLIT and 1e-3 < q1 <= 1.0 and x[3] > 0
    if T > 0:
        ok = ok and x[3] * T <= 1 + 1e-12
    if P == 2:
        ok = ok and x[2] < 1 and 1 - x[2] - x[3] * (q1 - x[1]) > 0
    return ok


def _mu_grid(T, scale=1.0):
    """Grid of mu = beta x: T > 0, x in (0, 1]; T = 0, geometric in units of 1/sqrt(xi'(1)) (the inverse
    noise amplitude, which sets the scale of mu: ~10 for P = 2 near capacity, ~1e4 for P = 8)."""
    if T > 0:
        xs = np.concatenate([np.geomspace(1e-3, 0.1, 5)[:-1], np.linspace(0.1, 0.99, 10), [1 - 1e-6]])
        return xs / T
    return np.geomspace(1e-2, 1e3, 15) * scale


def _starts(rs_m, rs_q, rs_C, T, P, branch):
    """Starting points.  Retrieval: around the RS solution, q0 below q and q1 = 1 - C T above it.  Spin
    glass: q0 = 0 (no field) and q1 from large to small (largest first: the physical, stable branch)."""
    if branch == "spin-glass":
        return np.array([[0.0, 0.0, (1 - q1) / T if T > 0 else (0.5 if P == 2 else 1.0), 1.0]
                         for q1 in (0.995, 0.97, 0.9, 0.8, 0.5)])
    out = []
    for d in (1e-3, 1e-2, 0.05, 0.2, 0.5):
        q0 = max(rs_q - d * max(rs_q, 1e-3), 0.0)
        for r in ((1.0,) if (T == 0 and P >= 3) else (0.7, 0.3, 0.05)):
            C = rs_C * r
            if T > 0:
                C = min(C, 0.999 * (1 - q0) / T)
            if P == 2:
                C = min(C, 0.9)
            out.append([rs_m, q0, C, 1.0])
    return np.array(out)


def _missing(spec, alpha, T, branch, status, f_rs=_NAN, note=""):
    values = dict.fromkeys(_VALUES, _NAN)
    values["f_rs"] = f_rs
    if not note and status in (Status.RSB_TRIVIAL, Status.X_AT_BOUNDARY):
        note = _TRIVIAL_NOTE
    return Result(spec, "saddle", {"alpha": float(alpha), "T": float(T), "branch": branch}, values, status,
                  note=note)




def _lane_counts():
    """Lane counts of the compiled batched 1RSB Newton.  On a CPU a lane is compute-bound (~1 ms per
    iteration) and a vmapped while loop runs every lane for as long as its slowest (Newton iterations and
    line-search steps alike), so each point runs alone there, the points of a stage dispatched together
    over the cores (numerics.in_rounds); on an accelerator lanes share the device in chunks of up to 16."""
    return (1,) if jax.default_backend() == "cpu" else (1, 4, 16)

ROUNDS = (8, 16, 32)  # Newton iterations per round before converged lanes leave the batch


@lru_cache(maxsize=None)
def _batched(P, si, thermal):
    """Vmapped, resumable Newton on the 1RSB system for lanes (fixed mask, alpha, T, x, res, it, stalled,
    it_stop): ``thermal`` lanes have T > 0 (traced per lane); the others T = 0, where only the closed-form
    inner average is compiled (under vmap a cond on a per-lane T would evaluate both)."""
    def one(fixed, a, t, x, res, it, stalled, it_stop):
        t = t if thermal else 0.0
        return newton_resume(lambda y: R1.equations(y, a, t, P, si), x, fixed,
                             lambda y: R1.in_domain(y, a, t, P), 1e-3 * TOL, FOLD_MAXITER, it, stalled, it_stop)

    return aot.jit(jax.vmap(one), ("rsb1", P, si, "newton-lanes", bool(thermal)))


@lru_cache(maxsize=None)
def _vmapped(P, si, what):
    """Vmapped df/dmu or f over lanes (x, alpha, T)."""
    def dmu(x, a, t):
        return (jax.grad(R1.free_energy)(x, a, t, P, si)[3] / a,)

    def f(x, a, t):
        return (R1.free_energy(x, a, t, P, si),)

    def hess(x, a, t):
        return (jax.hessian(R1.free_energy)(x, a, t, P, si),)

    return aot.jit(jax.vmap({"dmu": dmu, "f": f, "hess": hess}[what]), ("rsb1", P, si, "lanes", what))


def _max_in_mu(H, fixed):
    """Whether a stationary point is a strict maximum of f in mu along its branch (the other free variables
    at their stationary values): the Schur complement f_mumu - f_mu,y f_yy^-1 f_y,mu of the Hessian H is
    negative, y the free variables other than mu."""
    y = [j for j in range(3) if not fixed[j]]
    s = H[3, 3]
    if y:
        Hy = H[np.ix_(y, y)]
        try:
            s = s - H[3, y] @ np.linalg.solve(Hy, H[y, 3])
        except np.linalg.LinAlgError:  # singular block (e.g. a start that led to m = 0): not a certified maximum
            return False
    return bool(np.isfinite(s) and s < 0)


def _newton_lanes(spec, X0, fixed, A, T):
    """Newton from every row of X0 (lanes: fixed masks, alpha, T), in rounds over chunks of
    ``_lane_counts()`` lanes (numerics.in_rounds; T = 0 and T > 0 lanes compiled apart).  Returns (x, residual) per lane, each lane
    exactly its own Newton run."""
    n = X0.shape[0]
    if n == 1:  # one point: the scalar Newton (the executable every single solve and continuation uses)
        x, r, _ = _fns_at(spec, T[0])[0](jnp.asarray(X0[0], dtype=float), jnp.asarray(fixed[0]),
                                                         jnp.asarray(float(A[0])), jnp.asarray(float(T[0])),
                                                         1e-3 * TOL)
        return np.asarray(x)[None], np.array([float(r)])
    X, res = np.array(X0, dtype=float), np.full(n, np.inf)
    for thermal in (False, True):
        idx = np.flatnonzero((T > 0) == thermal)
        if idx.size == 0:
            continue
        state = (X[idx], np.full(idx.size, np.inf), np.zeros(idx.size, dtype=np.int64),
                 np.zeros(idx.size, dtype=bool))
        active = lambda x, r, it, st: (r > 1e-3 * TOL) & (it < FOLD_MAXITER) & ~st  # noqa: E731
        lanes = _lane_counts()
        x, r, _, _ = in_rounds(_batched(spec.P, spec.self_interaction, thermal),
                               (fixed[idx], A[idx], T[idx]), state, active,
                               (ROUNDS if lanes[-1] > 1 else ()) + (FOLD_MAXITER,), 2, lanes)
        X[idx], res[idx] = x, r
    return X, res


def _lanes(spec, what, X, A, T):
    """df/dmu or f at the rows of X (NumPy)."""
    if X.shape[0] == 0:
        return np.zeros(0)
    if X.shape[0] == 1 and what != "hess":  # one point: the scalar executables (see _newton_lanes)
        fn = _fns_at(spec, T[0])[1 if what == "dmu" else 2]
        return np.array([float(fn(jnp.asarray(X[0]), jnp.asarray(float(A[0])), jnp.asarray(float(T[0]))))])
    return chunked(_vmapped(spec.P, spec.self_interaction, what), (X, A, T), 16)[0]


@x64
def solve_rsb1(spec: Model, alpha: float, T: float, branch: str = "retrieval", start=None) -> Result:
    """1RSB saddle point at (alpha, T), any P >= 2: a Result with m, q0, q1, x, mu, C, q (= q1), f and f_rs
    (the RS free energy at the same point), the status (see the module docstring), the residual and, for a
    converged point, the replicon eigenvalue inside the innermost blocks (theory.dense_rsb1.replicon;
    -inf at T = 0).  :func:`solve_rsb1_batch` solves many points at once, with the same result per point.

    ``start``: optional solver variables (m, q0, C, mu) of a nearby saddle (``Result.raw`` of a neighbouring
    point) for continuation along a line: see :func:`solve_rsb1_batch`."""
    return solve_rsb1_batch(spec, [alpha], [T], branch, None if start is None else [start])[0]


@x64
def solve_rsb1_batch(spec: Model, alphas, Ts, branch: str = "retrieval", starts=None) -> list:
    """:func:`solve_rsb1` at the points (alphas[k], Ts[k]), every stage batched over the points: the RS
    solves, the scan in mu (one Newton per grid value of mu and starting point, dispatched for all the
    points still without a solution there), df/dmu, and the location of the maxima of f in mu (a full
    Newton from the secant estimate inside each bracket; brentq in mu, point by point, only where that
    Newton lands outside its bracket).  A list of Results, one per point.

    ``starts``: optional rows (m, q0, C, mu), NaN or None for none, of nearby saddles (continuation):
    a point with a start is first solved by a full Newton from it, accepted when it is a consistent
    non-trivial 1RSB saddle and a strict maximum of f in mu along its branch (Hessian test); the scan runs
    only where that fails.  Continuation follows the maximum it starts from: a second maximum in mu
    appearing elsewhere is seen only by the scan (the note of the Result says which way it was found)."""
    if branch not in ("retrieval", "spin-glass"):
        raise ValueError("1RSB branches: retrieval, spin-glass (the paramagnet is replica symmetric)")
    A = np.atleast_1d(np.asarray(alphas, dtype=float)).ravel()
    T = np.atleast_1d(np.asarray(Ts, dtype=float)).ravel()
    A, T = np.broadcast_arrays(A, T)
    if not np.all(A > 0):
        raise ValueError("1RSB needs alpha > 0 (at alpha = 0 there is no disorder)")
    P, si = spec.P, spec.self_interaction
    n = A.size
    out = [None] * n
    warm_starts = None if starts is None else [None if s is None else np.asarray(s, dtype=float) for s in starts]
    if warm_starts is not None and len(warm_starts) != n:
        raise ValueError(f"starts: one row (or None) per point expected, got {len(warm_starts)} for {n} points")
    rs = solve(replace(spec, ansatz="rs"), A, T, branch)
    conv = np.atleast_1d(rs.converged)
    f_rs = np.where(conv, np.atleast_1d(rs.f), _NAN)
    starts, mus = {}, {}  # (from here on: the scan's starting points)
    for k in range(n):
        if conv[k]:
            C = float(np.atleast_1d(rs.C)[k]) if T[k] > 0 or P == 2 else 1.0
            starts[k] = _starts(float(np.atleast_1d(rs.m)[k]), float(np.atleast_1d(rs.q)[k]), C, T[k], P, branch)
        elif branch == "spin-glass":  # the 1RSB glass can exist where the RS one does not (P >= 3)
            starts[k] = _starts(_NAN, _NAN, _NAN, T[k], P, branch)  # its starts do not use RS
        else:
            out[k] = _beyond_rs_capacity(spec, A[k], T[k])
            continue
        mus[k] = _mu_grid(T[k], 1.0 / math.sqrt(float(RS.xi(1.0, A[k], P, si, 1))))
    todo = sorted(starts)
    fixed_mu = {k: np.asarray(_fixed(P, T[k], branch, True)) for k in todo}
    fixed_all = {k: np.asarray(_fixed(P, T[k], branch, False)) for k in todo}

    def batch(x0s, ks, fixed):
        """Newton from x0s (rows) at the points ks; each row's solution if consistent, else None."""
        if not ks:
            return []
        ks = np.asarray(ks)
        X, res = _newton_lanes(spec, np.asarray(x0s, float), np.stack([fixed[k] for k in ks]), A[ks], T[ks])
        return [X[j] if _consistent(X[j], float(res[j]), T[k], P) else None for j, k in enumerate(ks)]

    # 0. continuation: a full Newton from the given start, certified as a maximum of f in mu
    if warm_starts is not None:
        warm = [k for k in todo if warm_starts[k] is not None and np.all(np.isfinite(warm_starts[k]))]
        got = batch([warm_starts[k] for k in warm], warm, fixed_all)
        ok = [(k, x) for k, x in zip(warm, got) if x is not None]
        if ok:
            ks_w = np.array([k for k, _ in ok])
            X_w = np.stack([x for _, x in ok])
            H = _lanes(spec, "hess", X_w, A[ks_w], T[ks_w])
            fv = _lanes(spec, "f", X_w, A[ks_w], T[ks_w])
            for (k, x), h, f in zip(ok, H, fv):
                if _max_in_mu(np.asarray(h), fixed_all[k]):
                    out[k] = _result(spec, A[k], T[k], branch, x, float(f), f_rs[k], jnp.asarray(fixed_all[k]),
                                     note=_CONTINUED)
        todo = [k for k in todo if out[k] is None]

    # 1. scan the mu grid at fixed mu: continuation from the previous non-trivial point, else multi-start
    n_mu = len(next(iter(mus.values()))) if mus else 0
    pts = {k: [None] * n_mu for k in todo}
    prev = dict.fromkeys(todo)
    for i in range(n_mu):
        tries = {k: ([prev[k]] if prev[k] is not None else []) + list(starts[k]) for k in todo}
        left, j = list(todo), 0
        while left:
            ks = [k for k in left if j < len(tries[k])]
            x0s = []
            for k in ks:
                x0 = np.array(tries[k][j], float)
                x0[3] = mus[k][i]
                x0s.append(x0)
            got = batch(x0s, ks, fixed_mu)
            for k, x in zip(ks, got):
                if x is not None:
                    pts[k][i] = x
            left = [k for k, x in zip(ks, got) if x is None]
            j += 1
        for k in todo:
            prev[k] = pts[k][i]
    rows = [(k, i) for k in todo for i in range(n_mu) if pts[k][i] is not None]
    if rows:
        ks_r = np.array([k for k, _ in rows])
        dvals = _lanes(spec, "dmu", np.stack([pts[k][i] for k, i in rows]), A[ks_r], T[ks_r])
    dm = {k: {} for k in todo}
    for (k, i), v in zip(rows, dvals if rows else []):
        dm[k][i] = float(v)

    # 2. maxima of f in mu between neighbouring grid points (df/dmu: + then -): a full Newton from the
    #    secant estimate of the root of df/dmu in log mu; it counts if it lands inside the bracket
    brackets = [(k, i) for k in todo for i in dm[k] if i + 1 in dm[k] and dm[k][i] > 0 > dm[k][i + 1]]
    x0s = []
    for k, i in brackets:
        d0, d1 = dm[k][i], dm[k][i + 1]
        w = d0 / (d0 - d1)
        x0 = (1 - w) * pts[k][i] + w * pts[k][i + 1]
        x0[3] = math.exp((1 - w) * math.log(mus[k][i]) + w * math.log(mus[k][i + 1]))
        x0s.append(x0)
    polished = batch(x0s, [k for k, _ in brackets], fixed_all)
    cands = {k: [] for k in todo}
    found = []
    for (k, i), x in zip(brackets, polished):
        lo, hi = mus[k][i], mus[k][i + 1]
        if x is None or not lo <= x[3] <= hi:
            x = _bracket_brentq(spec, A[k], T[k], fixed_mu[k], fixed_all[k], pts[k][i], lo, hi)
        if x is not None:
            found.append((k, x))
    if found:
        ks_f = np.array([k for k, _ in found])
        fvals = _lanes(spec, "f", np.stack([x for _, x in found]), A[ks_f], T[ks_f])
        for (k, x), f in zip(found, fvals):
            cands[k].append((float(f), x))
    for k in todo:
        if not dm[k]:
            out[k] = _missing(spec, A[k], T[k], branch, Status.RSB_TRIVIAL, f_rs[k])
        elif not cands[k]:
            last = dm[k][max(dm[k])]
            out[k] = _missing(spec, A[k], T[k], branch,
                              Status.X_AT_BOUNDARY if (T[k] > 0 and last > 0) else Status.RSB_TRIVIAL, f_rs[k])
        else:
            f, x = max(cands[k], key=lambda c: c[0])
            out[k] = _result(spec, A[k], T[k], branch, x, f, f_rs[k], jnp.asarray(fixed_all[k]))
    return out


def _bracket_brentq(spec, alpha, T, fixed_mu, fixed_all, x_start, lo, hi):
    """The root of df/dmu between the grid values lo < hi of mu, by brentq in log mu on the fixed-mu
    branch continued from x_start, and a full Newton polish there: the solution, or None."""
    newton, dmu, _, _ = _fns_at(spec, T)
    a, t = jnp.asarray(float(alpha)), jnp.asarray(float(T))
    cache = {"x": x_start}

    def at(mu, x0):
        x0 = np.array(x0, float)
        x0[3] = mu
        x, res, _ = newton(jnp.asarray(x0), jnp.asarray(fixed_mu), a, t, 1e-3 * TOL)
        x = np.asarray(x)
        return x if _consistent(x, float(res), T, spec.P) else None

    def g(lm):
        xx = at(math.exp(lm), cache["x"])
        if xx is None:
            return _NAN
        cache["x"] = xx
        return float(dmu(jnp.asarray(xx), a, t))
    try:
        lm = brentq(g, math.log(lo), math.log(hi), xtol=1e-12)
    except ValueError:
        return None
    g(lm)
    x, res, _ = newton(jnp.asarray(cache["x"]), jnp.asarray(fixed_all), a, t, 1e-3 * TOL)
    x = np.asarray(x)
    return x if _consistent(x, float(res), T, spec.P) else None


def _result(spec, alpha, T, branch, x, f, f_rs, fixed, note=""):
    F = _fns_at(spec, T)[3]
    a, t = jnp.asarray(float(alpha)), jnp.asarray(float(T))
    e = np.asarray(F(jnp.asarray(x), a, t))
    resid = float(np.max(np.abs(np.where(np.asarray(fixed), 0.0, e))))
    lam = float(_replicon_fn(spec.P, spec.self_interaction)(jnp.asarray(x), a, t))
    q1 = float(1 - x[2] * T)
    values = {"m": float(x[0]), "q0": float(x[1]), "q1": q1, "x": float(x[3] * T), "mu": float(x[3]),
              "C": float(x[2]), "q": q1, "f": float(f), "f_rs": f_rs}
    return Result(spec, "saddle", {"alpha": float(alpha), "T": float(T), "branch": branch}, values,
                  Status.CONVERGED, resid, 0, lam, note=note, extra={"raw": np.asarray(x)})


def _walk_alpha(spec, x, a, T, step, min_step, a_max=math.inf, progress=None):
    """Continuation of a 1RSB retrieval solution x at load a upwards in alpha (full Newton at each step,
    step halved on failure; :func:`numerics.continue_until_failure`).  Returns (a, x, a_fail).
    ``progress``: optional callback, called with a one-line message for every step halving and every
    tenth accepted step (a few dozen lines per capacity, not one per Newton solve)."""
    accepted = [0]

    def step_to(a_next, x0):
        r = _polish(spec, x0, a_next, T)
        if progress is not None:
            if r is None:
                progress(f"1RSB continuation: alpha = {a_next:.10g} failed, step halved")
            else:
                accepted[0] += 1
                if accepted[0] % 10 == 1:
                    progress(f"1RSB continuation: alpha = {a_next:.10g} accepted ({accepted[0]} steps)")
        return None if r is None else r[0]

    return continue_until_failure(step_to, a, x, step, min_step, a_max)


def _beyond_rs_capacity(spec, alpha, T):
    """Retrieval above the RS capacity (where 1RSB retrieval can still exist): continue the 1RSB solution in
    alpha from just below the RS capacity."""
    from .bifurcation import fold

    missing = _missing(spec, alpha, T, "retrieval", Status.BRANCH_MISSING,
                       note="the RS retrieval branch, from which 1RSB starts, does not exist here")
    rs_fold = fold(replace(spec, ansatz="rs"), "retrieval", None, float(T), "alpha", 1e-9, 1.0)
    if not (rs_fold.converged and alpha > rs_fold.p):
        return missing
    a0 = 0.98 * rs_fold.p
    start = solve_rsb1(spec, a0, T)
    if not start.converged:
        return missing
    x = np.array([start.m, start.q0, start.C, start.mu])
    a0, x, _ = _walk_alpha(spec, x, a0, T, (alpha - a0) / 8, 1e-9 * alpha, alpha)
    if a0 < alpha:
        return _missing(spec, alpha, T, "retrieval", Status.BRANCH_MISSING,
                        note="above the 1RSB capacity as well: no retrieval state")
    fe = _fns_at(spec, T)[2]
    a, t = jnp.asarray(float(alpha)), jnp.asarray(float(T))
    return _result(spec, alpha, T, "retrieval", x, float(fe(jnp.asarray(x), a, t)), _NAN,
                   _fixed(spec.P, T, "retrieval", False),
                   note="above the RS capacity: continued in alpha from the 1RSB solution below it "
                        "(no RS reference)")


def _polish(spec, x0, alpha, T, branch="retrieval"):
    """Full Newton (m, q0, [C], mu) from x0 at (alpha, T); (x, f) if it is a consistent non-trivial 1RSB
    solution, else None (used for continuation in alpha or T)."""
    newton, _, fe, _ = _fns_at(spec, T)
    a, t = jnp.asarray(float(alpha)), jnp.asarray(float(T))
    x, res, _ = newton(jnp.asarray(x0), _fixed(spec.P, T, branch, False), a, t, 1e-3 * TOL)
    x = np.asarray(x)
    return (x, float(fe(jnp.asarray(x), a, t))) if _consistent(x, float(res), T, spec.P) else None


def _capacity(spec, T, status, alpha_c=_NAN, alpha_c_rs=_NAN, m_c=_NAN, q0=_NAN, q1=_NAN, x=_NAN, mu=_NAN,
              C=_NAN, bracket=(_NAN, _NAN), note=""):
    values = {"alpha_c": alpha_c, "m_c": m_c, "q0": q0, "q1": q1, "x": x, "mu": mu, "C": C,
              "alpha_c_rs": alpha_c_rs}
    return Result(spec, "capacity", {"T": float(T)}, values, status, note=note, extra={"bracket": bracket})


@x64
def capacity_rsb1(spec: Model, T: float = 0.0, rel_tol: float = 1e-9, progress=None) -> Result:
    """alpha_c at 1RSB: the end of the 1RSB retrieval branch, by bisection on existence with continuation
    (full Newton from the last solution) starting below the RS capacity; a Result of kind "capacity" with
    alpha_c, m_c and the 1RSB parameters there (q0, q1, x, mu, C) and alpha_c_rs.

    At T > 0 the RS retrieval state may be AT-stable at its own fold (above the AT line): then 1RSB adds
    nothing there and the capacity is the RS one (status rs_stable_at_capacity, x and q0 NaN).

    ``progress``: optional callback, called with a one-line message at each continuation stage (the RS fold,
    each 1RSB starting point tried, each alpha step); the function is silent without it."""
    from .bifurcation import fold

    say = progress if progress is not None else (lambda msg: None)
    rs_spec = replace(spec, ansatz="rs")
    say(f"locating the RS capacity (fold of the RS retrieval branch in alpha, P = {spec.P}, T = {float(T):g}) ...")
    rs_fold = fold(rs_spec, "retrieval", None, float(T), "alpha", 1e-9, 1.0)
    if not rs_fold.converged:
        say("the RS capacity was not found")
        return _capacity(spec, T, rs_fold.status, note="the RS capacity was not found (no 1RSB start)")
    say(f"RS fold found: alpha_c_rs = {rs_fold.p:.10g}")
    start = None
    for frac in (0.9, 0.97, 0.99, 0.997, 0.999):
        say(f"1RSB start: solving at alpha = {frac} alpha_c_rs = {frac * rs_fold.p:.10g} ...")
        start = solve_rsb1(spec, frac * rs_fold.p, T)
        if start.converged:
            a_lo = frac * rs_fold.p
            say(f"1RSB start found at alpha = {a_lo:.10g}; continuing in alpha")
            break
    if not start.converged:
        if T > 0:
            rs = solve(rs_spec, rs_fold.p * (1 - 1e-6), T)
            if rs.converged and rs.stable:
                return _capacity(spec, T, Status.RS_STABLE_AT_CAPACITY, rs_fold.p, rs_fold.p, float(rs_fold.raw[0]),
                                 q1=float(rs.q), C=float(rs.C), bracket=(rs_fold.p, rs_fold.p))
        return _capacity(spec, T, Status.NOT_FOUND, alpha_c_rs=rs_fold.p,
                         note="no 1RSB retrieval solution below the RS capacity")
    x_lo = np.array([start.m, start.q0, start.C, start.mu])
    # walk up in small steps (continuation), halving the step at the end of the branch
    a_lo, x_lo, a_hi = _walk_alpha(spec, x_lo, a_lo, T, 0.02 * a_lo, rel_tol * a_lo, progress=progress)
    say(f"1RSB branch ends between alpha = {a_lo:.10g} and {a_hi:.10g}" if a_hi is not None
        else "the 1RSB branch did not end")
    if a_hi is None:
        return _capacity(spec, T, Status.NOT_FOUND, alpha_c_rs=rs_fold.p, note="the 1RSB branch did not end")
    if T > 0:  # the 1RSB branch may end by merging into an AT-stable RS branch rather than by a fold
        rs = solve(rs_spec, a_hi, T)
        if rs.converged and float(rs.replicon) > -1e-6:
            return _capacity(spec, T, Status.RSB_MERGES_INTO_RS, alpha_c_rs=rs_fold.p,
                             note=f"the 1RSB branch merges into the AT-stable RS branch at alpha = {a_lo:.10g}")
    q1 = 1 - x_lo[2] * T
    return _capacity(spec, T, Status.CONVERGED, a_lo, rs_fold.p, float(x_lo[0]), float(x_lo[1]), float(q1),
                     float(x_lo[3] * T), float(x_lo[3]), float(x_lo[2]), (a_lo, a_hi))
