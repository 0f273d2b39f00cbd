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
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .solver import _newton, model_for, solve
from .model import Model


class FoldResult(NamedTuple):
    p: float  # the parameter value at the fold (alpha or T)
    x: np.ndarray  # solver variables at the fold
    converged: bool
    residual: float
    iterations: int
    bracket: tuple  # (p_exists, p_absent) from the bisection


@lru_cache(maxsize=None)
def _fold_newton(spec: Model, param: str):
    model = model_for(spec)

    def params(p, other):
        return (p, other) if param == "alpha" else (other, p)

    def G(y, other):
        x, p = y[:-1], y[-1]
        a, t = params(p, other)
        F = model.equations(x, a, t)
        J = jax.jacfwd(model.equations)(x, a, t)
        return jnp.concatenate([F, jnp.linalg.det(J)[None]])

    def run(y0, other, tol):
        def dom(y):
            a, t = params(y[-1], other)
            return model.in_domain(y[:-1], a, t) & (y[-1] >= 0)

        fixed = jnp.zeros(y0.shape, dtype=bool)
        return _newton(lambda y: G(y, other), y0, fixed, dom, tol, 80)

    return jax.jit(run)


def bracket_existence(spec: Model, branch, alpha, T, param, p_lo, p_hi, tol=1e-4):
    """Bisection on existence of a converged solution on ``branch`` as ``param`` goes from p_lo (exists)
    to p_hi (absent), to a relative width ``tol`` (geometric steps while the bracket spans decades).  Returns (p_exists, p_absent, x_at_p_exists) or None if p_lo has no solution."""
    def at(p, x0=None):
        a, t = (p, T) if param == "alpha" else (alpha, p)
        r = solve(spec, a, t, branch, x0=x0)
        if not bool(r.converged) and x0 is not None:
            r = solve(spec, a, t, branch)
        return r

    r = at(p_lo)
    if not bool(r.converged):
        return None
    x_lo = np.asarray(r.x)
    r_hi = at(p_hi, x_lo)
    if bool(r_hi.converged):
        return p_hi, np.inf, np.asarray(r_hi.x)
    while p_hi - p_lo > tol * p_hi:  # relative: loads span decades across P
        mid = np.sqrt(p_lo * p_hi) if p_lo > 0 and p_hi > 10 * p_lo else 0.5 * (p_lo + p_hi)
        r = at(mid, x_lo)
        if bool(r.converged):
            p_lo, x_lo = mid, np.asarray(r.x)
        else:
            p_hi = mid
    return p_lo, p_hi, x_lo


def fold(spec: Model, branch, alpha, T, param, p_lo, p_hi, tol=1e-10, bracket_tol=1e-4) -> FoldResult:
    """Locate the end (fold) of ``branch`` in ``param`` ("alpha" at fixed T, or "T" at fixed alpha),
    searching between p_lo (branch exists) and p_hi (absent)."""
    if param not in ("alpha", "T"):
        raise ValueError("param must be 'alpha' or 'T'")
    br = bracket_existence(spec, branch, alpha, T, param, p_lo, p_hi, bracket_tol)
    nan = FoldResult(np.nan, np.full(3, np.nan), False, np.inf, 0, (np.nan, np.nan))
    if br is None or not np.isfinite(br[1]):
        return nan._replace(bracket=(np.nan, np.nan) if br is None else (br[0], br[1]))
    p_ex, p_ab, x_lo = br
    other = T if param == "alpha" else alpha
    y0 = jnp.concatenate([jnp.asarray(x_lo), jnp.asarray([p_ex])])
    y, res, it = _fold_newton(spec, param)(y0, jnp.asarray(float(other)), 1e-3 * tol)  # polish
    y = np.asarray(y)
    res = float(res)
    # a genuine end of the branch lies at or just beyond the last point where it still exists
    ok = res <= tol and (p_ex - 1e-9 <= y[-1] <= p_ab + 10 * (p_ab - p_ex))
    if not ok:
        return FoldResult(np.nan, y[:-1], False, res, int(it), (p_ex, p_ab))
    return FoldResult(float(y[-1]), y[:-1], True, res, int(it), (p_ex, p_ab))
