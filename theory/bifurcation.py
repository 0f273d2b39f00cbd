"""Where branches end: saddle-node (fold) points of the saddle-point equations.

A branch of solutions x(p) of F(x; p) = 0 ends at a fold where the Jacobian dF/dx (the Hessian of f in
fixed-point scaling) becomes singular.  ``fold`` solves the augmented system

    F(x; p) = 0,   det dF/dx (x; p) = 0

for (x, p) by Newton (all derivatives by JAX autodiff), where p is alpha (capacity alpha_c(T)) or T
(retrieval spinodal T_M(alpha)).  ``bracket_existence`` first brackets the end of the branch by bisection on
"the solver converges on this branch", using continuation from the last good solution; the fold Newton then
refines from that bracket to ~1e-12.
"""
from __future__ import annotations

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from . import aot
from .model import Model
from .numerics import BRACKET_RTOL, FOLD_MAXITER, TOL_FOLD, bisect_existence, fold_system, newton
from .precision import x64
from .results import Result, Status
from .solver import model_for, solve


@lru_cache(maxsize=None)
def _fold_newton(spec: Model, param: str, branch: str = "retrieval"):
    """The jitted fold Newton in (x, p); on the m = 0 branches m is held at 0 (numerics.fold_system)."""
    model = model_for(spec)
    hold = np.arange(len(model.NAMES)) == 0 if branch != "retrieval" else np.zeros(len(model.NAMES), bool)

    def params(p, other):
        return (p, other) if param == "alpha" else (other, p)

    def run(y0, other, tol):
        def dom(y):
            a, t = params(y[-1], other)
            return model.in_domain(y[:-1], a, t) & (y[-1] >= 0)

        G = fold_system(lambda x, p: model.equations(x, *params(p, other)), jnp.asarray(hold))
        fixed = jnp.asarray(np.append(hold, False))
        return newton(G, y0, fixed, dom, tol, FOLD_MAXITER)

    return aot.jit(run, ("rs-fold", spec, param, branch))


def bracket_existence(spec: Model, branch, alpha, T, param, p_lo, p_hi, tol=BRACKET_RTOL):
    """Bisection on existence of a converged solution on ``branch`` as ``param`` goes from p_lo (exists)
    to p_hi (absent), to a relative width ``tol`` (:func:`numerics.bisect_existence`).  Returns
    (p_exists, p_absent, x_at_p_exists) or None if p_lo has no solution."""
    def at(p, x0):
        a, t = (p, T) if param == "alpha" else (alpha, p)
        r = solve(spec, a, t, branch, x0=x0)
        if not r.converged and x0 is not None:
            r = solve(spec, a, t, branch)
        return np.asarray(r.raw) if r.converged else None

    return bisect_existence(at, p_lo, p_hi, tol)


def _fold_result(spec, branch, param, other, p, x, status, res, it, bracket):
    fixed = {"T" if param == "alpha" else "alpha": float(other)}
    return Result(spec, "fold", dict(branch=branch, param=param, **fixed),
                  {"p": float(p), "m": float(x[0]) if status.ok else float("nan")}, status, float(res), int(it),
                  extra={"raw": np.asarray(x), "bracket": bracket})


def _from_start(spec, branch, alpha, T, param, p_lo, p_hi, tol, bracket_tol, start):
    """The fold Newton from a nearby fold (continuation along a line), certified as the end of the branch
    that the bracket search would find: converged, inside [p_lo, p_hi], and the branch exists just below it
    (a distance bracket_tol * p towards p_lo, solved from the fold's own variables, on the same branch).
    The certificate rules out the other fold of a reentrant line (where the branch exists above, not
    below); None when it fails (the caller then brackets from scratch)."""
    other = T if param == "alpha" else alpha
    p0, x0 = start
    if not (np.isfinite(p0) and np.all(np.isfinite(x0))):
        return None
    y0 = jnp.concatenate([jnp.asarray(x0, dtype=float), jnp.asarray([float(p0)])])
    y, res, it = _fold_newton(spec, param, branch)(y0, jnp.asarray(float(other)), 1e-3 * tol)
    y, res = np.asarray(y), float(res)
    p = float(y[-1])
    if not (res <= tol and p_lo < p < p_hi and p > 0):
        return None
    p_in = p * (1.0 - bracket_tol)
    a, t = (p_in, T) if param == "alpha" else (alpha, p_in)
    r = solve(spec, a, t, branch, x0=y[:-1])
    if not (bool(r.converged) and abs(float(r.raw[0]) - y[0]) < 0.05):
        return None
    return _fold_result(spec, branch, param, other, p, y[:-1], Status.CONVERGED, res, it, (p_in, p))


@x64
def fold(spec: Model, branch, alpha, T, param, p_lo, p_hi, tol=TOL_FOLD, bracket_tol=BRACKET_RTOL,
         start=None) -> Result:
    """Locate the end (fold) of ``branch`` in ``param`` ("alpha" at fixed T, or "T" at fixed alpha),
    searching between p_lo (branch exists) and p_hi (absent).  A Result of kind "fold": ``p`` (the
    parameter at the fold, NaN if not found), ``m`` there, ``raw`` (solver variables) and ``bracket``.

    ``start``: optional (p, x) of a fold nearby (the previous point of a line): the fold Newton starts
    there, and the bracket search runs only if that fold cannot be certified (see ``_from_start``)."""
    if param not in ("alpha", "T"):
        raise ValueError("param must be 'alpha' or 'T'")
    if start is not None:
        r = _from_start(spec, branch, alpha, T, param, p_lo, p_hi, tol, bracket_tol, start)
        if r is not None:
            return r
    other = T if param == "alpha" else alpha
    br = bracket_existence(spec, branch, alpha, T, param, p_lo, p_hi, bracket_tol)
    if br is None or not np.isfinite(br[1]):
        # no solution where the search starts: the branch is missing there; one at both ends: no fold in range
        status, bracket = (Status.BRANCH_MISSING, (np.nan, np.nan)) if br is None else (Status.NOT_FOUND, br[:2])
        return _fold_result(spec, branch, param, other, np.nan, np.full(3, np.nan), status, np.inf, 0, bracket)
    p_ex, p_ab, x_lo = br
    y0 = np.concatenate([np.asarray(x_lo, dtype=float), [float(p_ex)]])  # NumPy: no eager JAX op
    y, res, it = _fold_newton(spec, param, branch)(y0, jnp.asarray(float(other)), 1e-3 * tol)  # polish
    y = np.asarray(y)
    res = float(res)
    # a genuine end of the branch lies at or just beyond the last point where it still exists
    ok = res <= tol and (p_ex - 1e-9 <= y[-1] <= p_ab + 10 * (p_ab - p_ex))
    if not ok:
        return _fold_result(spec, branch, param, other, np.nan, y[:-1], Status.NOT_CONVERGED, res, it, (p_ex, p_ab))
    return _fold_result(spec, branch, param, other, y[-1], y[:-1], Status.CONVERGED, res, it, (p_ex, p_ab))
