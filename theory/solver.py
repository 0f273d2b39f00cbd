"""Robust saddle-point solver for replica free energies.

A solve returns a :class:`SolveResult` (a pytree, Optimistix style): the order parameters, the free energy,
``converged``, ``status`` (see ``STATUS``), ``residual`` (max abs of the stationarity equations in their
fixed-point form), ``iterations`` and the RS stability (replicon) eigenvalue.  A point that did not converge
has NaN order parameters and free energy and ``converged = False``: a last iterate never poses as an answer.

Algorithm (per point, all inside one jitted function, vmapped over grids):
1. Newton on the stationarity equations (Jacobian = Hessian of f by JAX autodiff) with a backtracking line
   search on |F|^2 that also rejects steps leaving the physical domain.
2. If that fails: the damped fixed-point iteration x <- x + eta (Phi(x) - x) (eta = 1/2), started from the
   same guess, then Newton again to polish.
Variables can be held fixed per branch (m = 0 on the spin-glass branch, all of them on the closed-form
paramagnetic branch) by masking rows/columns of the Newton system.

Static (recompiles): the model spec, the branch, tolerances.  Traced: alpha, T, the initial guess.
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import dense_rs
from .quadrature import DEFAULT_NODES
from .model import Model

BRANCHES = ("retrieval", "spin-glass", "paramagnetic")
STATUS = {0: "converged", 1: "max_iterations", 2: "diverged_or_left_domain", 3: "collapsed_to_other_branch",
          4: "branch_does_not_exist"}
TOL = 1e-10
NEWTON_MAXITER = 60
FP_MAXITER = 3000
FP_DAMPING = 0.5
POLISH = 1e-3


class SolveResult(NamedTuple):
    """Result of a saddle-point solve (arrays, broadcast over the grid)."""

    alpha: jax.Array
    T: jax.Array
    m: jax.Array
    q: jax.Array
    r: jax.Array
    C: jax.Array
    f: jax.Array
    replicon: jax.Array  # de Almeida-Thouless eigenvalue (> 0: RS locally stable)
    stable: jax.Array
    converged: jax.Array
    status: jax.Array
    residual: jax.Array
    iterations: jax.Array
    x: jax.Array  # raw solver variables (model.NAMES), last axis

    def to_dict(self, index=()):
        """Plain-Python dict of one point (NaN -> None is left to the JSON writer)."""
        out = {}
        for k in ("alpha", "T", "m", "q", "r", "C", "f", "replicon", "residual"):
            out[k] = float(np.asarray(getattr(self, k))[index])
        out["stable"] = bool(np.asarray(self.stable)[index])
        out["converged"] = bool(np.asarray(self.converged)[index])
        out["status"] = STATUS[int(np.asarray(self.status)[index])]
        out["iterations"] = int(np.asarray(self.iterations)[index])
        return out


class _Bound:
    """A theory module's functions with the static spec (P, convention, nodes) bound in."""

    def __init__(self, module, spec: Model):
        self.mod, self.P, self.si = module, spec.P, spec.self_interaction
        self.n = spec.nodes or DEFAULT_NODES
        self.NAMES = module.NAMES

    def free_energy(self, x, a, t):
        return self.mod.free_energy(x, a, t, self.P, self.si, self.n)

    def equations(self, x, a, t):
        return self.mod.equations(x, a, t, self.P, self.si, self.n)

    def fixed_point_map(self, x, a, t):
        return self.mod.fixed_point_map(x, a, t, self.P, self.si, self.n)

    def replicon(self, x, a, t):
        return self.mod.replicon(x, a, t, self.P, self.si, self.n)

    def order_parameters(self, x, a, t):
        return self.mod.order_parameters(x, a, t, self.P)

    def initial_guess(self, branch, a, t):
        return self.mod.initial_guess(branch, a, t, self.P, self.si)

    def in_domain(self, x, a, t):
        return self.mod.in_domain(x, a, t, self.P)

    def finalize(self, x, a, t):
        return self.mod.finalize(x, a, t, self.P)

    @property
    def paramagnet_is_exact(self):
        return self.mod.paramagnet_is_exact(self.P, self.si)


@lru_cache(maxsize=None)
def model_for(spec: Model):
    """The theory (free energy, equations, stability) of a spec, with the static parts bound."""
    if spec.ansatz == "rs":
        return _Bound(dense_rs, spec)
    raise NotImplementedError(f"theory.solve is the RS solver; for ansatz {spec.ansatz!r} use theory.solve_rsb1")


def _fixed_mask(branch, alpha, pm_exact=True):
    """True where a variable (m, C, v) is held fixed on this branch."""
    a0 = alpha == 0  # low-storage limit: no noise field, C decouples (set from its equation afterwards)
    if branch == "retrieval":
        return jnp.stack([jnp.asarray(False), a0, a0])
    if branch == "spin-glass" or not pm_exact:
        return jnp.stack([jnp.asarray(True), a0, a0])
    return jnp.array([True, True, True])


def _newton(F, x0, fixed, in_domain, tol, maxiter):
    n = x0.shape[0]
    eye = jnp.eye(n)
    free2 = (~fixed)[:, None] & (~fixed)[None, :]

    def Fm(x):
        return jnp.where(fixed, 0.0, F(x))

    def merit(x):
        f = Fm(x)
        ok = jnp.all(jnp.isfinite(f)) & in_domain(x)
        return jnp.where(ok, jnp.max(jnp.abs(f)), jnp.inf), jnp.where(ok, jnp.sum(f * f), jnp.inf)

    def cond(s):
        x, res, it, stalled = s
        return (res > tol) & (it < maxiter) & (~stalled)

    def body(s):
        x, res, it, _ = s
        f = Fm(x)
        J = jnp.where(free2, jax.jacfwd(F)(x), eye)
        dx = jnp.linalg.solve(J, -f)
        dx = jnp.where(jnp.isfinite(dx) & ~fixed, dx, 0.0)
        n2 = jnp.sum(f * f)

        def ls_cond(c):
            t, k, acc, _, _ = c
            return (~acc) & (k < 40)

        def ls_body(c):
            t, k, _, _, _ = c
            xt = x + t * dx
            r_, n2t = merit(xt)
            acc = (n2t <= n2 * (1.0 - 1e-4 * t)) | (r_ <= tol)
            return (jnp.where(acc, t, 0.5 * t), k + 1, acc, xt, r_)

        t, _, acc, xt, rt = jax.lax.while_loop(ls_cond, ls_body, (1.0, 0, False, x, res))
        xn = jnp.where(acc, xt, x)
        rn = jnp.where(acc, rt, res)
        return xn, rn, it + 1, ~acc

    r0, _ = merit(x0)
    x, res, it, _ = jax.lax.while_loop(cond, body, (x0, r0, 0, False))
    return x, res, it


def _fixed_point(F, fpmap, x0, fixed, in_domain, tol, maxiter, eta):
    def res_of(x):
        f = jnp.where(fixed, 0.0, F(x))
        ok = jnp.all(jnp.isfinite(f)) & in_domain(x)
        return jnp.where(ok, jnp.max(jnp.abs(f)), jnp.inf)

    def cond(s):
        x, res, it = s
        return (res > tol) & (it < maxiter) & jnp.isfinite(res)

    def body(s):
        x, _, it = s
        xn = jnp.where(fixed, x, x + eta * (fpmap(x) - x))
        return xn, res_of(xn), it + 1

    return jax.lax.while_loop(cond, body, (x0, res_of(x0), 0))


def _solve_point(model, spec, branch, tol, alpha, T, x0):
    fixed = _fixed_mask(branch, alpha, model.paramagnet_is_exact)
    F = lambda x: model.equations(x, alpha, T)  # noqa: E731
    fp = lambda x: model.fixed_point_map(x, alpha, T)  # noqa: E731
    dom = lambda x: model.in_domain(x, alpha, T)  # noqa: E731

    if branch == "paramagnetic" and model.paramagnet_is_exact:
        x = model.initial_guess("paramagnetic", alpha, T)
        it = jnp.asarray(0)
    else:
        # Newton polishes well below tol (quadratic convergence makes this cheap; it separates a branch
        # from a nearby one, e.g. a spin glass with q -> 0 from the paramagnet); tol decides acceptance.
        x1, r1, it1 = _newton(F, x0, fixed, dom, POLISH * tol, NEWTON_MAXITER)
        ok1 = r1 <= tol
        x2, _, it2 = _fixed_point(F, fp, x0, fixed, dom, 1e-7, FP_MAXITER, FP_DAMPING)
        x3, r3, it3 = _newton(F, x2, fixed, dom, POLISH * tol, NEWTON_MAXITER)
        x = jnp.where(ok1, x1, x3)
        it = jnp.where(ok1, it1, it1 + it2 + it3)
    x = model.finalize(x, alpha, T)
    # residual: all equations that define the solution (those of the fixed closed-form paramagnet too);
    # m = 0 on the m = 0 branches is exact by symmetry (its equation reads 0 = 0 for P >= 3)
    feq_all = F(x)
    check = jnp.where(alpha == 0, jnp.where(jnp.arange(x.shape[0]) == 2, 0.0, feq_all), feq_all)
    if branch != "retrieval":
        check = jnp.where(jnp.arange(x.shape[0]) == 0, 0.0, check)
    residual = jnp.max(jnp.abs(jnp.where(jnp.isfinite(check), check, jnp.inf)))
    ok = (residual <= tol) & model.in_domain(x, alpha, T)
    m, q, r = model.order_parameters(x, alpha, T)
    status = jnp.where(ok, 0, jnp.where(jnp.isfinite(residual), 1, 2))
    if branch == "retrieval":
        bad = ok & (jnp.abs(m) < 1e-6)
        x = x.at[0].set(jnp.abs(x[0]))
        m = jnp.abs(m)
    elif branch == "spin-glass":
        bad = ok & (q < 1e-8)
        ok = ok & (alpha > 0)  # no spin-glass phase without a noise field
    else:
        # P = 2: q = 0 needs beta (1 - q) < 1 when alpha > 0
        exists = (T > 0) & ((alpha == 0) | (T > 1.0)) if spec.P == 2 else (T > 0)
        bad = ok & ~exists
        ok = ok & exists
        status = jnp.where(~exists, 4, status)
    status = jnp.where(bad & (branch != "paramagnetic"), 3, status)
    if branch == "spin-glass":
        status = jnp.where(alpha == 0, 4, status)
    converged = ok & ~bad
    f = model.free_energy(x, alpha, T)
    lam = model.replicon(x, alpha, T)
    nan = jnp.nan
    sel = lambda v: jnp.where(converged, v, nan)  # noqa: E731
    return SolveResult(alpha=alpha, T=T, m=sel(m), q=sel(q), r=sel(r), C=sel(x[1]), f=sel(f),
                       replicon=sel(lam), stable=converged & (lam > 0), converged=converged,
                       status=status, residual=residual, iterations=it, x=x)


@lru_cache(maxsize=None)
def _compiled(spec: Model, branch: str, tol: float):
    model = model_for(spec)

    def one(alpha, T, x0):
        return _solve_point(model, spec, branch, tol, alpha, T, x0)

    return jax.jit(jnp.vectorize(one, signature="(),(),(k)->" + ",".join(["()"] * 13 + ["(k)"])))


@lru_cache(maxsize=None)
def _guess_fn(spec: Model, branch: str):
    model = model_for(spec)
    return jax.jit(jnp.vectorize(lambda a, t: model.initial_guess(branch, a, t), signature="(),()->(k)"))


def _check_branch(branch):
    if branch not in BRANCHES:
        raise ValueError(f"unknown branch {branch!r}; choose one of {', '.join(BRANCHES)}")


def solve(spec: Model, alpha, T, branch="retrieval", x0=None, tol=TOL) -> SolveResult:
    """Solve the saddle-point equations at (alpha, T) (scalars or broadcastable arrays).

    ``x0`` (optional, last axis = model variables) overrides the branch's default initial guess, e.g. for
    continuation.  Returns a :class:`SolveResult` with the broadcast shape of (alpha, T).
    """
    _check_branch(branch)
    a = jnp.asarray(alpha, dtype=jnp.float64)
    t = jnp.asarray(T, dtype=jnp.float64)
    if np.any(~np.isfinite(np.asarray(a))) or np.any(np.asarray(a) < 0):
        raise ValueError("alpha must be finite and >= 0")
    if np.any(~np.isfinite(np.asarray(t))) or np.any(np.asarray(t) < 0):
        raise ValueError("T must be finite and >= 0")
    a, t = jnp.broadcast_arrays(a, t)
    if x0 is None:
        x0 = _guess_fn(spec, branch)(a, t)
    return _compiled(spec, branch, float(tol))(a, t, jnp.asarray(x0, dtype=jnp.float64))


def solve_grid(spec: Model, alphas, Ts, branch="retrieval", tol=TOL) -> SolveResult:
    """Solve on the outer-product grid alphas x Ts (result shape (len(alphas), len(Ts)))."""
    a = jnp.asarray(alphas, dtype=jnp.float64)[:, None]
    t = jnp.asarray(Ts, dtype=jnp.float64)[None, :]
    return solve(spec, a, t, branch, tol=tol)


def solve_path(spec: Model, alphas, Ts, branch="retrieval", x0=None, tol=TOL) -> SolveResult:
    """Continuation along a path of (alpha, T) points: each solve starts from the previous solution
    (or from the branch's default guess when the previous point did not converge)."""
    _check_branch(branch)
    a, t = jnp.broadcast_arrays(jnp.asarray(alphas, dtype=jnp.float64), jnp.asarray(Ts, dtype=jnp.float64))
    if a.ndim != 1:
        raise ValueError("solve_path expects 1-d alphas / Ts")
    guess = _guess_fn(spec, branch)
    f = _compiled(spec, branch, float(tol))
    out = []
    prev = None if x0 is None else jnp.asarray(x0, dtype=jnp.float64)
    for i in range(a.shape[0]):
        g = guess(a[i], t[i]) if prev is None else prev
        res = f(a[i], t[i], g)
        if not bool(res.converged) and prev is not None:
            res = f(a[i], t[i], guess(a[i], t[i]))
        prev = res.x if bool(res.converged) else prev
        out.append(res)
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *out)

