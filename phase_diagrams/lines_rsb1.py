"""1RSB lines in the (alpha, T) plane (composes theory.rsb1_solver; RS lines are in ``lines``).

* alpha_c^1RSB(T): end of the 1RSB retrieval branch (theory.rsb1_solver.capacity_rsb1); where the RS
  retrieval state is AT-stable at its own fold, this is the RS capacity.
* Spin glass, P >= 3: with m = 0 the noise covariance is alpha * poly(q) for both conventions, so the
  spin-glass free energy scales exactly, f_SG(alpha, T) = sqrt(alpha) F(T / sqrt(alpha)).  The 1RSB static
  transition T_s(alpha) = t_s sqrt(alpha) (where the x-stationary 1RSB spin glass reaches x = 1 and its
  free energy meets the paramagnet's) and the 1RSB ground-state energy e_SG sqrt(alpha) are therefore
  computed once, at alpha = 1.
* alpha_Tc^1RSB(T = 0): load where the 1RSB retrieval and spin-glass ground states are degenerate, and the
  1RSB T_c(alpha) line (retrieval is the global minimum below it): the retrieval free energy at 1RSB (RS
  where no non-trivial 1RSB saddle exists, i.e. near and above the AT line, where the two agree) against
  the lower of the 1RSB spin glass and the paramagnet.
Every value carries its own convergence: NaN where it does not exist or was not certified.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import replace
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq

from densehebb.theory import Model, Status, aot, solve, x64
from densehebb.theory.rsb1_solver import capacity_rsb1, solve_rsb1

XTOL = 1e-10


def _rs(spec):
    return replace(spec, ansatz="rs")


def capacity(spec: Model, T: float = 0.0):
    return capacity_rsb1(spec, float(T))


def spin_glass_scaling(model: Model, xtol: float = 1e-7) -> dict:
    """t_s = T_s / sqrt(alpha) and e_sg = E_SG^1RSB(T = 0) / sqrt(alpha) for P >= 3 (alpha = 1 solves);
    computed once per (P, convention).

    T_s by bisection on T between a temperature where the 1RSB spin glass exists with x < 1 and one where
    it does not (status x_at_boundary / no non-trivial solution); each temperature is solved first by
    continuation from the saddle at the highest temperature found below T_s (theory.rsb1_solver, certified
    as a maximum in x), the full scan in x only where that fails.  The result is kept on disk next to the
    compiled solvers (theory.aot.store_path, keyed by the source), so it is computed once per machine."""
    return _spin_glass_scaling(model.P, model.convention, xtol)


@lru_cache(maxsize=None)
def _spin_glass_scaling(P: int, convention: str, xtol: float) -> dict:
    if P < 3:
        raise ValueError("the scaling form holds for P >= 3 (P = 2: the spin-glass transition is the "
                         "continuous T_g = 1 + sqrt(alpha) at RS and 1RSB alike)")
    path = aot.store_path(f"rsb1-spin-glass-scaling-P{int(P)}-{convention}-{xtol!r}.json")
    if path is not None and os.path.exists(path):
        try:
            with open(path) as fh:
                return {k: float(v) if k != "converged" else bool(v) for k, v in json.load(fh).items()}
        except (OSError, ValueError, TypeError):
            pass
    out = _compute_spin_glass_scaling(P, convention, xtol)
    if path is not None:
        aot.store_json(path, {k: (float(v) if k != "converged" else bool(v)) for k, v in out.items()})
    return out


@x64
def _compute_spin_glass_scaling(P: int, convention: str, xtol: float) -> dict:
    spec = Model(P=P, convention=convention, ansatz="1rsb")
    g0 = solve_rsb1(spec, 1.0, 0.0, "spin-glass")
    e_sg = g0.f if g0.converged else float("nan")

    last = {}

    def below(t):
        prev = last.get("lo")
        r = solve_rsb1(spec, 1.0, t, "spin-glass", start=None if prev is None else prev.raw)
        ok = bool(r.converged) and r.x < 1.0
        if ok:
            last["lo"] = r
        return ok

    lo, hi = None, None
    for t in np.linspace(0.05, 3.0, 60):
        if below(t):
            lo = t
        elif lo is not None:
            hi = t
            break
    if lo is None or hi is None:
        return {"t_s": float("nan"), "e_sg": e_sg, "converged": False, "q0": g0.q0, "mu": g0.mu}
    while hi - lo > xtol:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if below(mid) else (lo, mid)
    rs = last["lo"]  # the solution at lo, the last temperature found below T_s
    return {"t_s": 0.5 * (lo + hi), "e_sg": e_sg, "converged": True, "q1_at_t_s": rs.q1,
            "x_at_t_s": rs.x, "q0_T0": g0.q0, "mu_T0": g0.mu}


@x64
def T_s(spec: Model, alpha: float) -> float:
    """1RSB static spin-glass transition T_s(alpha) (P >= 3)."""
    return spin_glass_scaling(spec)["t_s"] * math.sqrt(alpha)


@x64
def retrieval_f(spec: Model, alpha: float, T: float, saddles: dict | None = None) -> float:
    """Free energy of the retrieval state at the 1RSB level: the 1RSB saddle where it is non-trivial, the RS
    one where RS is AT-stable; NaN where the branch does not exist.

    ``saddles``: optional {T: solver variables} of 1RSB saddles at this alpha found so far; the one at the
    nearest temperature starts the solve (continuation, theory.rsb1_solver.solve_rsb1's ``start``), and
    the new one is added."""
    start = None
    if saddles:
        start = saddles[min(saddles, key=lambda t: abs(t - T))]
    r = solve_rsb1(spec, alpha, T, "retrieval", start=start)
    if r.converged:
        if saddles is not None:
            saddles[float(T)] = r.raw
        return r.f
    rs = solve(_rs(spec), alpha, T, "retrieval")
    if rs.converged and (rs.stable or r.status in (Status.RSB_TRIVIAL, Status.X_AT_BOUNDARY)):
        return float(rs.f)
    return float("nan")


@x64
def alpha_Tc0(spec: Model, a_c: float | None = None) -> float:
    """Load where the 1RSB retrieval ground state and the 1RSB spin-glass ground state are degenerate (P >= 3;
    NaN if it lies beyond the RS capacity, where the 1RSB retrieval state is not reached from RS)."""
    e_sg = spin_glass_scaling(spec)["e_sg"]
    a_c = capacity(spec, 0.0).alpha_c if a_c is None else a_c
    if not (np.isfinite(e_sg) and np.isfinite(a_c)):
        return float("nan")

    def g(a):
        return retrieval_f(spec, a, 0.0) - e_sg * math.sqrt(a)

    # the 1RSB retrieval solver starts from the RS retrieval state, so the bracket ends below both capacities
    from .lines import capacity as capacity_rs

    lo, hi = 0.05 * a_c, min(a_c, capacity_rs(_rs(spec), 0.0).alpha_c) * (1 - 1e-6)
    glo, ghi = g(lo), g(hi)
    if not (np.isfinite(glo) and np.isfinite(ghi) and glo < 0 < ghi):
        return float("nan")
    return brentq(g, lo, hi, xtol=XTOL * a_c)


@lru_cache(maxsize=None)
def _sg_free_energy_curve(P: int, convention: str, n: int = 33):
    """F(t) = f_SG^1RSB(alpha = 1, T = t) on [0, t_s] (cubic spline; the spin glass at any alpha is
    sqrt(alpha) F(T / sqrt(alpha))).  Returns (spline, t_s).  The n values of F are computed once per
    machine (next to the compiled solvers, theory.aot.store_path, as :func:`spin_glass_scaling`)."""
    from scipy.interpolate import CubicSpline

    spec = Model(P=P, convention=convention, ansatz="1rsb")
    t_s = spin_glass_scaling(spec)["t_s"]
    if not np.isfinite(t_s):
        return None, t_s
    ts = t_s * (1 - np.cos(np.linspace(0, np.pi / 2, n)))  # denser near T = 0
    ts[-1] = t_s * (1 - 1e-6)
    # kept on disk like the scaling constants (one curve per P, convention and source): JSON floats round-trip
    # exactly, so the spline is the one computed here
    path = aot.store_path(f"rsb1-spin-glass-curve-P{int(P)}-{convention}-{int(n)}-{t_s!r}.json")
    fs = None
    if path is not None and os.path.exists(path):
        try:
            with open(path) as fh:
                fs = np.array([float(v) for v in json.load(fh)["f"]])
            fs = fs if fs.shape == ts.shape else None
        except (OSError, ValueError, TypeError, KeyError):
            fs = None
    if fs is None:
        fs, prev = [], None
        for t in ts:  # continuation along T (each saddle from the one below; the scan where that fails)
            r = solve_rsb1(spec, 1.0, float(t), "spin-glass", start=prev)
            fs.append(r.f)
            prev = r.raw if r.converged else None
        fs = np.array(fs)
        if path is not None:
            aot.store_json(path, {"t": [float(v) for v in ts], "f": [float(v) for v in fs]})
    ok = np.isfinite(fs)
    if ok.sum() < n - 2:
        return None, t_s
    return CubicSpline(ts[ok], fs[ok]), t_s


@x64
def competitor_f(spec: Model, alpha: float, T: float) -> float:
    """The lower of the 1RSB spin glass (T < T_s; spline of the exact scaling form, accurate to ~1e-8) and
    the paramagnet (P >= 3)."""
    spline, t_s = _sg_free_energy_curve(spec.P, spec.convention)
    out = []
    pm = solve(_rs(spec), alpha, T, "paramagnetic")
    if bool(pm.converged):
        out.append(float(pm.f))
    t = T / math.sqrt(alpha)
    if spline is not None and t < t_s:
        out.append(math.sqrt(alpha) * float(spline(t)))
    return min(out) if out else float("nan")


@x64
def T_c(spec: Model, alpha: float, T_m: float, T_c_rs: float = float("nan"), T_at: float = float("nan"),
        n_scan: int = 10) -> float:
    """1RSB T_c(alpha) for P >= 3: highest T where the retrieval state (1RSB where RS is unstable) is the
    global minimum against the 1RSB spin glass and the paramagnet.  NaN where it does not exist.

    Given the RS T_c (and the AT line), a RS root above both T_s and T_AT is returned as it is: there both
    sides of the crossing (RS-stable retrieval, paramagnet) are exact at 1RSB, and nothing changes above it."""
    if not (np.isfinite(T_m) and alpha > 0):
        return float("nan")
    if np.isfinite(T_c_rs) and T_c_rs > T_s(spec, alpha) and T_c_rs > (T_at if np.isfinite(T_at) else 0.0):
        return float(T_c_rs)

    saddles = {}  # the 1RSB retrieval saddles found along this alpha (continuation in T)
    competitor = {}

    def comp(t):
        if t not in competitor:
            competitor[t] = competitor_f(spec, alpha, t)
        return competitor[t]

    def g(t):
        return retrieval_f(spec, alpha, t, saddles) - comp(t)

    ts = np.linspace(0.0, T_m * (1 - 1e-6), n_scan)
    if _above_competitor_at_rs(spec, alpha, ts, comp):
        return float("nan")
    vals = np.array([g(t) for t in ts])
    roots = []
    for i in range(n_scan - 1):
        a, b = vals[i], vals[i + 1]
        if np.isfinite(a) and np.isfinite(b) and a * b < 0:
            roots.append(brentq(g, ts[i], ts[i + 1], xtol=1e-9))
    return max(roots) if roots else float("nan")


def _above_competitor_at_rs(spec, alpha, ts, comp) -> bool:
    """True if the RS retrieval state exists at every scan temperature and its free energy is above the
    competitor's at each: the 1RSB retrieval free energy is never below the RS one at the same point (the
    1RSB saddle maximises f over the order parameters, f_1RSB >= f_RS: tests/test_lines_rsb1_speed.py
    checks it on the saddles met here), so every scan value of T_c's g = f_retrieval - f_competitor is then
    positive or NaN, there is no sign change, and T_c^1RSB does not exist at this load.  RS solves only (one
    batched call): the 1RSB scan, about a second per temperature where it fails, is not needed."""
    rs = solve(_rs(spec), np.full(len(ts), float(alpha)), ts, "retrieval")
    f_rs = np.where(np.atleast_1d(rs.converged), np.atleast_1d(rs.f), np.nan)
    if not np.all(np.isfinite(f_rs)):
        return False
    return all(np.isfinite(c) and f > c for f, c in zip(f_rs, (comp(float(t)) for t in ts)))
