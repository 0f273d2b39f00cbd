"""Solving the 1RSB saddle point (P >= 3): continuation in mu = beta x, Newton in the other variables.

The replica-symmetric point q0 = q1 is stationary for every x, so Newton from a generic guess falls back
onto it.  The non-trivial branch is followed instead: for mu on a geometric grid, from large mu (where it
approaches RS with q0 -> q1) downwards, the equations for (m, q0[, C]) are solved at fixed mu by Newton
with continuation, until the branch ends (it merges with RS at some mu_b).  Along it, df/dmu changes sign
at the 1RSB saddle point; brentq in log mu locates it and a final Newton on all variables polishes it.
At T = 0, f does not depend on C (q1 = 1) and C is held fixed; at T > 0, mu <= beta (x <= 1).
A result counts as converged only with the full residual below tolerance and a consistent, non-trivial
solution (0 <= q0 < q1 <= 1, 0 < x <= 1); otherwise values are NaN and ``status`` says why.
"""
from __future__ import annotations

import math
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import brentq

from . import dense_rsb1 as R1
from .solver import _newton, solve
from .spec import ModelSpec

TOL = 1e-8  # the composite quadratures of dense_rsb1 are accurate to ~1e-10 in the equations


@lru_cache(maxsize=None)
def _fns(P, si):
    def newton(x0, fixed, a, t, tol):
        return _newton(lambda x: R1.equations(x, a, t, P, si), x0, fixed,
                       lambda x: R1.in_domain(x, a, t, P), tol, 80)

    def dmu(x, a, t):
        return jax.grad(R1.free_energy)(x, a, t, P, si)[3] / a

    return (jax.jit(newton), jax.jit(dmu), jax.jit(lambda x, a, t: R1.free_energy(x, a, t, P, si)),
            jax.jit(lambda x, a, t: R1.equations(x, a, t, P, si)))


def solve_rsb1(spec: ModelSpec, alpha: float, T: float, branch: str = "retrieval", mu_max: float = 1e6,
               ratio: float = 1.15) -> dict:
    """1RSB saddle point at (alpha, T) for P >= 3.  Returns m, q0, q1, x, mu, f, f_rs, converged, status,
    residual."""
    if spec.P < 3:
        raise NotImplementedError("1RSB for P = 2 (AGS with the soft term) is not implemented yet")
    if branch not in ("retrieval", "spin-glass"):
        raise ValueError("1RSB branches: retrieval, spin-glass (the paramagnet is replica symmetric)")
    if not alpha > 0:
        raise ValueError("1RSB needs alpha > 0 (at alpha = 0 there is no disorder)")
    P, si = spec.P, spec.self_interaction
    newton, dmu, fe, F = _fns(P, si)
    nan = float("nan")
    out = {"m": nan, "q0": nan, "q1": nan, "x": nan, "mu": nan, "f": nan, "f_rs": nan, "converged": False,
           "status": "rs_branch_missing", "residual": nan}
    rs = solve(ModelSpec(P=P, self_interaction=si), alpha, T, branch)
    if not bool(rs.converged):
        return out
    out["f_rs"] = float(rs.f)
    a, t = jnp.asarray(float(alpha)), jnp.asarray(float(T))
    sg = branch == "spin-glass"
    fixed_mu = jnp.array([sg, False, T == 0, True])
    fixed_all = jnp.array([sg, False, T == 0, False])
    top = min(mu_max, (1.0 - 1e-9) / T) if T > 0 else mu_max
    q1_rs = float(rs.q)

    def at(mu, x0):
        x0 = np.array(x0, float)
        x0[3] = mu
        x, res, _ = newton(jnp.asarray(x0), fixed_mu, a, t, 1e-3 * TOL)
        x = np.asarray(x)
        ok = float(res) <= TOL and 0 <= x[1] < (1 - x[2] * T) - 1e-12
        return x if ok else None

    def nontrivial(x):  # at x = 1 the functional does not depend on q1: such points are RS in disguise
        return x is not None and (T == 0 or x[3] * T < 1 - 1e-6)

    # find a point of the non-trivial branch: q0 just below q1, scanning mu downwards from the top
    x, mu = None, None
    for mu_try in np.geomspace(top, top * 1e-4, 13):
        for d in (1e-6, 1e-5, 1e-4, 1e-3, 1e-2):
            xt = at(mu_try, [float(rs.m), q1_rs - d, float(rs.C), mu_try])
            if nontrivial(xt):
                x, mu = xt, mu_try
                break
        if x is not None:
            break
    if x is None:
        out["status"] = "rsb_trivial"
        return out
    # follow it (downwards, then upwards) until df/dmu changes sign between two consecutive points
    bracket = None
    for direction in (1.0 / ratio, ratio):
        prev = (mu, x, float(dmu(jnp.asarray(x), a, t)))
        while True:
            m_next = min(prev[0] * direction, top)
            if m_next == prev[0] or m_next < 1e-3:
                break
            xn = at(m_next, prev[1])
            if not nontrivial(xn):
                break
            cur = (m_next, xn, float(dmu(jnp.asarray(xn), a, t)))
            if cur[2] * prev[2] < 0:
                bracket = (prev, cur) if prev[0] > cur[0] else (cur, prev)  # (larger mu, smaller mu)
                break
            prev = cur
        if bracket is not None:
            break
    if bracket is None:
        out["status"] = "rsb_trivial"
        return out
    path = [bracket[0], bracket[1]]
    (mu_a, x_a, _), (mu_b, _, _) = path[-2], path[-1]
    cache = {"x": x_a}

    def g(lm):
        xx = at(math.exp(lm), cache["x"])
        if xx is None:
            return nan
        cache["x"] = xx
        return float(dmu(jnp.asarray(xx), a, t))

    lm = brentq(g, math.log(mu_b), math.log(mu_a), xtol=1e-12)
    g(lm)
    x, _, _ = newton(jnp.asarray(cache["x"]), fixed_all, a, t, 1e-3 * TOL)
    x = np.asarray(x)
    e = np.asarray(F(jnp.asarray(x), a, t))
    resid = float(np.max(np.abs(np.where(np.asarray(fixed_all), 0.0, e))))
    q1 = 1 - x[2] * T
    xp = x[3] * T
    ok = resid <= TOL and 0 <= x[1] < q1 - 1e-12 and q1 <= 1 and (T == 0 or 0 < xp <= 1 + 1e-12)
    out.update({"residual": resid, "status": "converged" if ok else "not_converged"})
    if ok:
        out.update({"m": float(x[0]), "q0": float(x[1]), "q1": float(q1), "x": float(xp), "mu": float(x[3]),
                    "f": float(fe(jnp.asarray(x), a, t)), "converged": True})
    return out


def _polish(spec, x0, alpha, T, branch="retrieval"):
    """Full Newton (m, q0, [C], mu) from x0 at (alpha, T); the point if it is a consistent non-trivial
    1RSB solution, else None (used for continuation in alpha or T)."""
    newton, _, fe, F = _fns(spec.P, spec.self_interaction)
    a, t = jnp.asarray(float(alpha)), jnp.asarray(float(T))
    fixed_all = jnp.array([branch == "spin-glass", False, T == 0, False])
    x, res, _ = newton(jnp.asarray(x0), fixed_all, a, t, 1e-3 * TOL)
    x = np.asarray(x)
    q1 = 1 - x[2] * T
    ok = float(res) <= TOL and 0 <= x[1] < q1 - 1e-12 and (T == 0 or 0 < x[3] * T <= 1 + 1e-12)
    return (x, float(fe(jnp.asarray(x), a, t))) if ok else None


def capacity_rsb1(spec: ModelSpec, T: float = 0.0, rel_tol: float = 1e-9) -> dict:
    """alpha_c at 1RSB: the end of the 1RSB retrieval branch, by bisection on existence with continuation
    (full Newton from the last solution) starting below the RS capacity; returns alpha_c and the 1RSB
    parameters there."""
    from .bifurcation import fold

    rs_fold = fold(ModelSpec(P=spec.P, self_interaction=spec.self_interaction), "retrieval", None, float(T),
                   "alpha", 1e-9, 1.0)
    if not rs_fold.converged:
        return {"alpha_c": float("nan"), "converged": False, "status": "rs_capacity_not_found"}
    a_lo = 0.9 * rs_fold.p
    start = solve_rsb1(spec, a_lo, T)
    if not start["converged"]:
        return {"alpha_c": float("nan"), "converged": False, "status": "no_1rsb_solution_below_rs_capacity"}
    x_lo = np.array([start["m"], start["q0"], (1 - start["q1"]) / T if T > 0 else 0.0, start["mu"]])
    if T == 0:
        x_lo[2] = solve(ModelSpec(P=spec.P, self_interaction=spec.self_interaction), a_lo, T).C
    # walk up in small steps (continuation), then bisect the last step
    step = 0.02 * a_lo
    a_hi = None
    while step > rel_tol * a_lo:
        r = _polish(spec, x_lo, a_lo + step, T)
        if r is not None:
            a_lo, x_lo = a_lo + step, r[0]
        else:
            a_hi = a_lo + step
            step *= 0.5
    if a_hi is None:
        return {"alpha_c": float("nan"), "converged": False, "status": "branch_did_not_end"}
    q1 = 1 - x_lo[2] * T
    return {"alpha_c": a_lo, "alpha_c_rs": rs_fold.p, "m_c": float(x_lo[0]), "q0": float(x_lo[1]),
            "q1": float(q1), "x": float(x_lo[3] * T), "mu": float(x_lo[3]), "converged": True,
            "status": "converged", "bracket": (a_lo, a_hi)}
