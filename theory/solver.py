"""Robust saddle-point solver for replica free energies; ``solve`` is the one entry point for every ansatz.

A solve returns a :class:`~densehebb.theory.results.Result`: the order parameters, the free energy, the
status (:class:`~densehebb.theory.results.Status`), the residual (max abs of the stationarity equations in
their fixed-point form), the iterations and the RS stability (replicon) eigenvalue.  A point that did not
converge has NaN order parameters and free energy: a last iterate never poses as an answer.

RS algorithm (per point, all inside one jitted function, vmapped over grids):
1. Newton on the stationarity equations (Jacobian = Hessian of f by JAX autodiff) with a backtracking line
   search on |F|^2 that also rejects steps leaving the physical domain (:func:`numerics.newton`).
2. If that fails: the damped fixed-point iteration x <- x + eta (Phi(x) - x) (eta = 1/2), started from the
   same guess, then Newton again to polish (:func:`numerics.fixed_point_resume`).
Variables can be held fixed per branch (m = 0 on the spin-glass branch, all of them on the closed-form
paramagnetic branch) by masking rows/columns of the Newton system.  1RSB: :mod:`theory.rsb1_solver`.

Static (recompiles): the Model, the branch, tolerances.  Traced: alpha, T, the initial guess.
"""
from __future__ import annotations

from functools import lru_cache
import jax
import jax.numpy as jnp
import numpy as np

from . import aot, dense_rs
from .model import Model
from .numerics import (CHUNK, FP_MAXITER, FP_TOL, NEWTON_MAXITER, POLISH, TOL_RS, chunked, fixed_point_resume, in_rounds,
                       newton_resume)
from .precision import x64
from .quadrature import DEFAULT_NODES
from .results import Result, Status

BRANCHES = ("retrieval", "spin-glass", "paramagnetic", "example")   # example: unsupervised learning only
TOL = TOL_RS
# the jitted solver emits Status codes directly
_OK, _NOT_CONVERGED, _DIVERGED = Status.CONVERGED.code, Status.NOT_CONVERGED.code, Status.DIVERGED.code
_COLLAPSED, _MISSING = Status.COLLAPSED.code, Status.BRANCH_MISSING.code
_FIELDS = ("alpha", "T", "m", "q", "r", "C", "f", "replicon", "status", "residual", "iterations", "raw")


class _Bound:
    """A theory module's functions with the static spec (P, convention, nodes) bound in."""

    def __init__(self, module, spec: Model):
        self.mod, self.P, self.si = module, spec.P, spec.self_interaction
        self.n = spec.nodes or DEFAULT_NODES
        self.NAMES = module.NAMES
        self.EXTRA = ()

    def free_energy(self, x, a, t):
        return self.mod.free_energy(x, a, t, self.P, self.si, self.n)

    def equations(self, x, a, t):
        return self.mod.equations(x, a, t, self.P, self.si, self.n)

    def fixed_point_map(self, x, a, t):
        return self.mod.fixed_point_map(x, a, t, self.P, self.si, self.n)

    def equations_and_map(self, x, a, t):
        return self.mod.equations_and_map(x, a, t, self.P, self.si, self.n)

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

    def extra_values(self, x, a, t):
        return ()

    def paramagnet_exists(self, a, t):
        """q = 0 is a solution (P = 2: beta (1 - q) < 1 needs T > 1 when alpha > 0)."""
        return (t > 0) & ((a == 0) | (t > 1.0)) if self.P == 2 else (t > 0)


@lru_cache(maxsize=None)
def model_for(spec: Model, branch: str = "retrieval"):
    """The theory (free energy, equations, stability) of a spec, with the static parts bound; learning from
    examples (``spec.examples``): :class:`theory.learning.Learning`; its unsupervised example state
    (``branch="example"``): :class:`theory.learning_example.LearningExample`."""
    if spec.ansatz == "rs":
        if branch == "example":
            from .learning_example import LearningExample

            return LearningExample(spec)
        if spec.examples is not None:
            from .learning import Learning

            return Learning(spec)
        if spec.dilution and spec.storage == "high":
            from .multitask_high import DilutedRS   # diluted patterns, pure state (n = 1)

            return DilutedRS(spec)
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


def _system(model, branch, alpha, T):
    """(fixed mask, equations, domain test) of one point: what every Newton and fixed-point stage solves."""
    fixed = (model.fixed_mask(branch, alpha) if hasattr(model, "fixed_mask")
             else _fixed_mask(branch, alpha, model.paramagnet_is_exact))
    return fixed, (lambda x: model.equations(x, alpha, T)), (lambda x: model.in_domain(x, alpha, T))


def _finish(model, spec, branch, tol, alpha, T, x, it):
    """Residual, acceptance, status code and the reported values of a solver end point x."""
    F = lambda x: model.equations(x, alpha, T)  # noqa: E731
    x = model.finalize(x, alpha, T)
    # residual: all equations that define the solution (those of the fixed closed-form paramagnet too);
    # m = 0 on the m = 0 branches is exact by symmetry (its equation reads 0 = 0 for P >= 3)
    feq_all = F(x)
    check = jnp.where(alpha == 0, jnp.where(jnp.arange(x.shape[0]) == x.shape[0] - 1, 0.0, feq_all), feq_all)
    if branch in ("spin-glass", "paramagnetic"):
        check = jnp.where(jnp.arange(x.shape[0]) == 0, 0.0, check)
    residual = jnp.max(jnp.abs(jnp.where(jnp.isfinite(check), check, jnp.inf)))
    ok = (residual <= tol) & model.in_domain(x, alpha, T)
    m, q, r = model.order_parameters(x, alpha, T)
    status = jnp.where(ok, _OK, jnp.where(jnp.isfinite(residual), _NOT_CONVERGED, _DIVERGED))
    if branch == "retrieval":
        bad = ok & (jnp.abs(m) < 1e-6)
        x = x.at[0].set(jnp.abs(x[0]))
        m = jnp.abs(m)
    elif branch == "example":
        bad = ok & model.collapsed(x, alpha, T)
    elif branch == "spin-glass":
        bad = ok & (q < 1e-8)
        ok = ok & (alpha > 0)  # no spin-glass phase without a noise field
    else:
        exists = model.paramagnet_exists(alpha, T)
        bad = ok & ~exists
        ok = ok & exists
        status = jnp.where(~exists, _MISSING, status)
    status = jnp.where(bad & (branch != "paramagnetic"), _COLLAPSED, status)
    if branch == "spin-glass":
        status = jnp.where(alpha == 0, _MISSING, status)
    converged = ok & ~bad
    f = model.free_energy(x, alpha, T)
    lam = model.replicon(x, alpha, T)
    nan = jnp.nan
    sel = lambda v: jnp.where(converged, v, nan)  # noqa: E731
    status = jnp.where(converged, _OK, jnp.where(status == _OK, _NOT_CONVERGED, status))
    extra = tuple(sel(v) for v in model.extra_values(x, alpha, T))  # e.g. n (learning): after _FIELDS
    return (alpha, T, sel(m), sel(q), sel(r), sel(x[1]), sel(f), sel(lam), status, residual, it, x) + extra


@lru_cache(maxsize=None)
def _compiled(spec: Model, branch: str, tol: float, L: int | None = None):
    """The jitted, vmapped pieces of a solve (each over a 1-d batch of points): a resumable Newton step, a
    resumable fixed-point step and the finishing map (residual, status, reported values); see
    :func:`_run_stages`.  ``L`` (learning from examples): every function takes the dataset vector d
    (``Learning.pack``, site sums of length L) after (alpha, T), so one compile serves every (M, r)."""
    base = model_for(spec, branch)
    bind = (lambda d: base) if L is None else (lambda d: base.bind(d, L))  # noqa: E731

    def split(args):
        return (None, args) if L is None else (args[0], args[1:])

    def newton_one(alpha, T, *args):
        d, (x, res, it, stalled, it_stop) = split(args)
        model = bind(d)
        fixed, F, dom = _system(model, branch, alpha, T)
        # Newton polishes well below tol (quadratic convergence makes this cheap; it separates a branch
        # from a nearby one, e.g. a spin glass with q -> 0 from the paramagnet); tol decides acceptance.
        return newton_resume(F, x, fixed, dom, POLISH * tol, NEWTON_MAXITER, it, stalled, it_stop, screen=True)

    def fp_one(alpha, T, *args):
        d, (x, res, it, it_stop) = split(args)
        model = bind(d)
        fixed, F, dom = _system(model, branch, alpha, T)
        fp = lambda x: model.fixed_point_map(x, alpha, T)  # noqa: E731
        joint = ((lambda x: model.equations_and_map(x, alpha, T)) if hasattr(model, "equations_and_map")
                 else None)
        if branch != "retrieval":
            return fixed_point_resume(F, fp, x, fixed, dom, FP_TOL, FP_MAXITER, it0=it, it_stop=it_stop, joint=joint)
        # retrieval: a lane whose overlap has flowed below COLLAPSE_M has left the branch (m = 0 is invariant
        # under the map); it stops there with m set to 0 exactly and residual 0 (inactive), and the Newton
        # polish that follows solves the m = 0 point, which _finish reports as collapsed (|m| < 1e-6)
        gone = lambda x: jnp.abs(x[0]) < COLLAPSE_M  # noqa: E731
        x, res, it = fixed_point_resume(F, fp, x, fixed, dom, FP_TOL, FP_MAXITER, it0=it, it_stop=it_stop, done=gone,
                                        joint=joint)
        g = gone(x)
        return jnp.where(g, x.at[0].set(0.0), x), jnp.where(g, 0.0, res), it

    def finish_one(alpha, T, *args):
        d, (x, it) = split(args)
        return _finish(bind(d), spec, branch, tol, alpha, T, x, it)

    key = ("rs", spec, branch, float(tol)) + (() if L is None else ("data", int(L)))
    return (aot.jit(jax.vmap(newton_one), key + ("newton",)), aot.jit(jax.vmap(fp_one), key + ("fixed-point",)),
            aot.jit(jax.vmap(finish_one), key + ("finish",)))


@lru_cache(maxsize=None)
def _single(spec: Model, branch: str, tol: float):
    """One point in one call (the common case of line searches): the default guess (if ``use_guess``),
    Newton to the end and the finished outputs, with the start point and whether Newton was accepted; the
    fallback then runs through :func:`_run_stages` only where it was not.  The same computation as the
    staged path, without its dispatches."""
    model = model_for(spec, branch)

    def one(alpha, T, x0, use_guess):
        x0 = jnp.where(use_guess, model.initial_guess(branch, alpha, T), x0)
        if branch == "paramagnetic" and model.paramagnet_is_exact:
            x, ok, it = x0, jnp.asarray(True), jnp.asarray(0)
        else:
            fixed, F, dom = _system(model, branch, alpha, T)
            x, res, it, _ = newton_resume(F, x0, fixed, dom, POLISH * tol, NEWTON_MAXITER, screen=True)
            ok = res <= tol
        return (ok, x0) + _finish(model, spec, branch, tol, alpha, T, x, it)

    return aot.jit(one, ("rs", spec, branch, float(tol), "single"))


COLLAPSE_M = 1e-6  # the fixed-point fallback of the retrieval branch stops once |m| is below this (collapsed)
NEWTON_ROUNDS = (6, 12, 24)  # Newton iterations per round before converged points leave the batch: a lane
# active at the start of a round runs it to its end, so a maxiter M stops lanes at the first round end >= M
# (FIRST_NEWTON = 24: at 42); the rounds actually run are finer (_NEWTON_FINE), ending at the same counts
FIRST_NEWTON = 24  # Newton steps from the start point before the fixed-point fallback takes over
_NEWTON_FINE = (3, 3, 6, 6, 6, 6, 6, 6)  # cumulative 3, 6, 12, 18, ..., 42: every end of NEWTON_ROUNDS is one
FP_ROUNDS = (50, 50, 50, 50, 100, 100, 300, 1000)  # the same for the fixed-point fallback (no effect on results)
DATA_CHUNK = 16  # lanes per call with traced datasets (their site sums make every lane costly: less padding)


def _by_residual(x, res, *rest):
    """Lanes sorted by residual between rounds: those about to converge share chunks, and so do those
    that still wander (whose line searches backtrack far), instead of one of those costing a whole chunk."""
    return np.where(np.isfinite(res), res, np.finfo(float).max)


def _newton_rounds(step, consts, x, tol, maxiter=NEWTON_MAXITER, chunk=CHUNK, state=None, stop_at=None):
    """Newton in rounds; ``maxiter`` below NEWTON_MAXITER stops every lane after the first round that reaches
    it (continuation, where a Newton that needs many steps from a neighbouring solution means "absent").
    ``state`` (x, res, it, stalled): resume from it; ``stop_at``: no round starts at or after this iteration
    (the rounds are those of one uninterrupted call).  Returns the state."""
    n = consts[0].shape[0]
    if state is None:
        state = (x, np.full(n, np.inf), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool))
    ends = np.cumsum(NEWTON_ROUNDS)
    cap = int(ends[np.searchsorted(ends, maxiter)]) if maxiter <= ends[-1] else NEWTON_MAXITER
    cap = cap if stop_at is None else min(cap, stop_at)
    active = lambda x, res, it, st: (res > POLISH * tol) & (it < cap) & ~st  # noqa: E731
    rounds = _NEWTON_FINE + (NEWTON_MAXITER,)
    assert set(ends.tolist()) <= set(np.cumsum(_NEWTON_FINE).tolist())
    if state[2].size and state[2].max() > 0:  # resumed: the round each lane is in follows from its count
        done = int(np.max(state[2]))
        k = next(i for i in range(len(rounds)) if sum(rounds[:i]) >= done)
        rounds = rounds[k:]
    return in_rounds(step, consts, state, active, rounds, 2, chunk, order=_by_residual)


FAST_PATHS = True  # False: no ceiling skip and no fixed-point screen (the plain stages; for tests and checks)
SCREEN_NEWTON = 18   # Newton iterations (two rounds) before the fixed-point screen of the retrieval branch
SCREEN_FP = 400      # fixed-point iterations of the screen (most collapses take 100-300)


def _fp_rounds(fp_step, consts, x0, chunk, state=None, cap=FP_MAXITER):
    n = consts[0].shape[0]
    if state is None:
        state = (x0, np.full(n, np.finfo(float).max), np.zeros(n, dtype=np.int64))
    active = lambda x, res, it: (res > FP_TOL) & (it < min(cap, FP_MAXITER)) & np.isfinite(res)  # noqa: E731
    return in_rounds(fp_step, consts, state, active, FP_ROUNDS + (FP_MAXITER,), 2, chunk,
                     order=lambda x, res, it: np.abs(x[:, 0]))


def _run_stages(spec: Model, branch: str, tol: float, a, t, x0, data=None, fallback=True,
                newton_maxiter=NEWTON_MAXITER):
    """One solve on flat arrays a, t (n,) and x0 (n, k): NumPy outputs in _FIELDS order.

    Per point: Newton from x0; where it is not accepted (residual > tol), the damped fixed-point iteration
    from the same x0 and Newton again to polish.  Batches run in rounds (numerics.in_rounds): a vmapped
    while loop costs its slowest lane on every lane, so converged points leave the batch and the fallback
    runs only where Newton failed.  Each point's result is that of the point solved on its own.
    Retrieval branch (no dataset): a lane still unresolved after SCREEN_NEWTON Newton iterations runs its
    fixed-point fallback first (up to SCREEN_FP iterations); where that has collapsed (m -> 0), the rest of
    the Newton stage is skipped (docs/theory.md, Numerics: the fixed-point screen).
    ``data``: (L, d) with d (n, D) the packed datasets of the points (learning from examples, traced);
    ``fallback=False``: Newton only, at most ``newton_maxiter`` iterations (rounded up to a round; for
    continuation along a line, where a failed Newton means "absent here")."""
    L, d = (None, None) if data is None else data
    chunk = CHUNK if data is None else DATA_CHUNK
    newton_step, fp_step, finish = _compiled(spec, branch, tol, L)
    consts = (a, t) if d is None else (a, t, d)
    n = a.shape[0]
    if branch == "paramagnetic" and model_for(spec, branch).paramagnet_is_exact:
        return chunked(finish, consts + (x0, np.zeros(n, dtype=np.int64)), chunk)
    # above the retrieval ceiling no retrieval state exists: whatever the iterations did there, _result
    # reports branch_missing, so those lanes are not iterated (they finish at their start point)
    run = np.flatnonzero(~_above_ceiling(spec, branch, t)) if data is None and FAST_PATHS else np.arange(n)
    x, it = x0.copy(), np.zeros(n, dtype=np.int64)
    if run.size == 0:
        return chunked(finish, consts + (x, it), chunk)
    sub = tuple(c[run] for c in consts)
    maxiter = FIRST_NEWTON if fallback else newton_maxiter
    screen = fallback and data is None and branch == "retrieval" and FAST_PATHS
    nstate = _newton_rounds(newton_step, sub, x0[run], tol, maxiter, chunk,
                            stop_at=SCREEN_NEWTON if screen else None)
    fstate = None
    if screen:
        todo = np.flatnonzero(~(nstate[1] <= tol))
        fstate = _fp_rounds(fp_step, tuple(c[todo] for c in sub), x0[run][todo], chunk, cap=SCREEN_FP)
        gone = np.zeros(run.size, dtype=bool)
        gone[todo] = fstate[0][:, 0] == 0.0  # fp_one sets m = 0 exactly where the overlap collapsed
        rest = np.flatnonzero(~gone)  # the rest of the Newton stage, resumed (same iterates as one call)
        if rest.size:
            part = _newton_rounds(newton_step, tuple(c[rest] for c in sub), None, tol, maxiter, chunk,
                                  state=tuple(s[rest] for s in nstate))
            for s, p in zip(nstate, part):
                s[rest] = p
        screened = todo
    xr, res, itr, _ = nstate
    todo = np.flatnonzero(~(res <= tol))
    if todo.size and fallback:
        state = None
        if fstate is not None:  # resume the screen's fixed-point iterations of these lanes (a lane Newton
            # had accepted at the screen but lost in its last steps starts afresh, as it would have)
            state = (x0[run][todo].copy(), np.full(todo.size, np.finfo(float).max), np.zeros(todo.size, np.int64))
            pos = np.minimum(np.searchsorted(screened, todo), max(screened.size - 1, 0))
            was = screened[pos] == todo if screened.size else np.zeros(todo.size, bool)
            for s, f in zip(state, fstate):
                s[was] = f[pos[was]]
        x2, _, it2 = _fp_rounds(fp_step, tuple(c[todo] for c in sub), x0[run][todo], chunk,
                                state=state)
        x3, _, it3, _ = _newton_rounds(newton_step, tuple(c[todo] for c in sub), x2, tol, chunk=chunk)
        xr, itr = xr.copy(), itr.copy()
        xr[todo], itr[todo] = x3, itr[todo] + it2 + it3
    x[run], it[run] = xr, itr
    return chunked(finish, consts + (x, it), chunk)


@lru_cache(maxsize=None)
def _guess_fn(spec: Model, branch: str, L: int | None = None):
    model = model_for(spec, branch)
    if L is None:
        return aot.jit(jax.vmap(lambda a, t: (model.initial_guess(branch, a, t),)), ("rs-guess", spec, branch))
    return aot.jit(jax.vmap(lambda a, t, d: (model.bind(d, L).initial_guess(branch, a, t),)),
                   ("rs-guess", spec, branch, "data", int(L)))


def _check_branch(branch):
    if branch not in BRANCHES:
        raise ValueError(f"unknown branch {branch!r}; choose one of {', '.join(BRANCHES)}")


def _dims(shape, a_in, t_in):
    """Dimension names of a grid result: ("alpha", "T") for solve_grid's outer product, else generic."""
    if len(shape) == 2 and np.ndim(a_in) == 2 and np.shape(a_in)[1] == 1 and np.ndim(t_in) == 2 \
            and np.shape(t_in)[0] == 1:
        return ("alpha", "T")
    if len(shape) == 1:
        return ("alpha",) if np.ndim(t_in) == 0 else (("T",) if np.ndim(a_in) == 0 else ("point",))
    return tuple(f"dim_{i}" for i in range(len(shape)))


def _check_inputs(alpha, T):
    a, t = np.asarray(alpha, dtype=float), np.asarray(T, dtype=float)
    if np.any(~np.isfinite(a)) or np.any(a < 0):
        raise ValueError("alpha must be finite and >= 0")
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ValueError("T must be finite and >= 0")
    return a, t


def _ceiling(model: Model) -> float:
    """The retrieval ceiling of a plain model (diluted patterns: the K-finite spinodal scales as
    (1 - d)^(P-1), theory.multitask)."""
    return retrieval_ceiling(model.P) * (1.0 - model.dilution) ** (model.P - 1)


def _above_ceiling(model: Model, branch: str, T):
    """Where a retrieval solve has no answer by theory (T above the ceiling, :func:`retrieval_ceiling`):
    :func:`_result` reports branch_missing at every such point that did not converge, and none can."""
    if branch != "retrieval" or model.examples is not None:
        return np.zeros(np.shape(T), dtype=bool)
    return np.asarray(T) > _ceiling(model) * (1 + 1e-9)


@lru_cache(maxsize=None)
def retrieval_ceiling(P: int) -> float:
    """Temperature above which no retrieval state exists at any load: the K-finite Mattis spinodal
    T_M(alpha -> 0) (low_storage.spinodal; 1 for P = 2), which bounds the retrieval spinodal T_M(alpha)
    from above (the noise of the other patterns only lowers it).  Used to name why a retrieval solve has no
    answer there (branch_missing, not a solver failure)."""
    from .low_storage import spinodal

    return float(spinodal(P)[0])


def _solve_one(model, branch, tol, a, t, x0):
    """_FIELDS outputs (each with a leading axis of one) of one point: :func:`_single`, and the staged
    fallback only if its Newton was not accepted."""
    k = len(model_for(model, branch).NAMES)
    ok, x_start, *out = _single(model, branch, float(tol))(
        float(a), float(t), np.zeros(k) if x0 is None else np.asarray(x0, dtype=float).reshape(k), x0 is None)
    if bool(ok):
        return [np.asarray(v)[None] for v in out]
    return _run_stages(model, branch, float(tol), np.array([float(a)]), np.array([float(t)]),
                       np.asarray(x_start)[None])


def _solve_rs(model: Model, alpha, T, branch, x0, tol):
    a_in, t_in = _check_inputs(alpha, T)
    a, t = np.broadcast_arrays(a_in, t_in)
    if a.size == 1 and (x0 is None or np.size(x0) == len(model_for(model, branch).NAMES)):
        shape = a.shape
        flat = _solve_one(model, branch, tol, a.ravel()[0], t.ravel()[0], x0)
        out = {f: v.reshape(shape + v.shape[1:]) for f, v in zip(_fields(model, branch), flat)}
        return _result(model, branch, out, shape, a_in, t_in)
    if x0 is None:
        x0 = chunked(_guess_fn(model, branch), (a.ravel(), t.ravel()))[0].reshape(a.shape + (-1,))
    x0 = np.asarray(x0, dtype=float)
    shape = np.broadcast_shapes(a.shape, x0.shape[:-1])
    k = x0.shape[-1]
    a, t = (np.broadcast_to(v, shape).ravel() for v in (a, t))
    flat = _run_stages(model, branch, float(tol), a, t, np.broadcast_to(x0, shape + (k,)).reshape(-1, k))
    out = {f: v.reshape(shape + v.shape[1:]) for f, v in zip(_fields(model, branch), flat)}
    return _result(model, branch, out, shape, a_in, t_in)


def _fields(spec, branch="retrieval"):
    """Names of a solve's outputs: _FIELDS, then the model's extra values (learning: n)."""
    return _FIELDS + tuple(model_for(spec, branch).EXTRA)


def _result(model, branch, out, shape, a_in, t_in):
    dims = _dims(shape, a_in, t_in) if shape else ()
    codes = out["status"].astype(np.int8)
    if branch == "retrieval" and model.examples is None and np.any(codes != Status.CONVERGED.code):
        # above every retrieval spinodal the branch does not exist: say so
        # (diluted patterns: the K-finite spinodal scales as (1 - d)^(P-1), theory.multitask)
        above = _above_ceiling(model, branch, out["T"]) & (codes != Status.CONVERGED.code)
        codes = np.where(above, np.int8(Status.BRANCH_MISSING.code), codes).astype(np.int8)
    inputs = {"alpha": out["alpha"], "T": out["T"], "branch": branch}
    values = {k: out[k] for k in ("m",) + tuple(model_for(model, branch).EXTRA) + ("q", "r", "C", "f")}
    return Result(model, "saddle", inputs, values, codes if shape else Status.from_code(int(codes)),
                  out["residual"], out["iterations"], out["replicon"], dims, extra={"raw": out["raw"]})


@x64
def solve(model: Model, alpha=None, T=None, branch="retrieval", x0=None, tol=None, *, K=None, state="hierarchical",
          mixture=None, normalised=False, seed=0) -> Result:
    """Solve the saddle-point equations of ``model`` at (alpha, T) on ``branch``; dispatches on the ansatz.

    Low storage with K patterns (``Model(storage="low", dilution=d)``, ``K`` given, alpha None or 0): the
    exact K-overlap theory of :mod:`theory.multitask` (diluted patterns, d = 0 included) for ``state``
    (pure, hierarchical, parallel, mixture with ``mixture`` = n, global; ``normalised``: overlaps divided by
    1 - d; ``seed``: the random starts of the global search); m is then the K overlaps, sorted descending.
    With ``model.examples`` too: diluted archetypes learnt from examples (theory.multitask_learning.solve_learning;
    m the archetype overlaps, n the class-mean ones; states pure, hierarchical, parallel, global).

    RS: alpha and T may be scalars or broadcastable arrays (one compile, vmapped); ``x0`` (last axis = the
    solver variables, dense_rs.NAMES) overrides the branch's default initial guess, e.g. for continuation.
    1RSB (:func:`theory.rsb1_solver.solve_rsb1`): scalars, or arrays solved as one batch
    (:func:`theory.rsb1_solver.solve_rsb1_batch`).
    Returns a :class:`Result` (one point) or a grid Result (``to_xarray()`` gives a Dataset).
    """
    if K is not None or (model.storage == "low" and model.dilution and model.examples is None):
        return _solve_multitask(model, alpha, T, branch, x0, tol, K, state, mixture, normalised, seed)
    if T is None or alpha is None:
        raise ValueError("solve: give alpha and T (low storage with K patterns: K=..., T=...)")
    _check_branch(branch)
    if branch == "example":
        ex = model.examples
        if ex is None or ex.supervised:
            raise ValueError("branch 'example' (the example state) belongs to unsupervised learning from "
                             "examples: Model(examples=Examples(..., supervised=False))")
        if ex.gaussian:
            raise ValueError("branch 'example' sums over the exact binomial sites (gaussian=False)")
    if model.examples is None:
        # diluted patterns at high storage: the RS pure state (theory.multitask_high)
        model.require_plain("solve", dilution=model.storage == "high" and model.ansatz == "rs")
    elif model.ansatz != "rs":
        raise NotImplementedError("solve: learning from examples is replica symmetric only (ansatz='rs')")
    else:
        model.replace(examples=None).require_plain("solve")  # dilution still refused
    if model.storage == "low":
        raise ValueError("solve: use alpha = 0 for K finite (storage='high' with alpha = 0 is the low-storage "
                         "limit), or theory.low_storage for mixtures")
    if model.ansatz == "1rsb":
        from .rsb1_solver import solve_rsb1, solve_rsb1_batch

        a_in, t_in = _check_inputs(alpha, T)
        if a_in.ndim == 0 and t_in.ndim == 0:
            return solve_rsb1(model, float(a_in), float(t_in), branch)
        a, t = np.broadcast_arrays(a_in, t_in)
        return stack(solve_rsb1_batch(model, a.ravel(), t.ravel(), branch), a.shape, _dims(a.shape, a_in, t_in))
    _check_grid_memory(model, alpha, T, x0, branch)
    return _solve_rs(model, alpha, T, branch, x0, TOL if tol is None else tol)


def _solve_multitask(model, alpha, T, branch, x0, tol, K, state, mixture, normalised, seed):
    """solve(..., K=...): the K-finite multitasking theory (theory.multitask), with its one-line refusals."""
    if model.storage != "low":
        raise ValueError("solve: K (a finite number of patterns) needs Model(storage='low'); high storage "
                         "takes alpha")
    if K is None:
        raise ValueError("solve: low storage with diluted patterns needs the number of patterns K")
    if alpha is not None and np.any(np.asarray(alpha) != 0):
        raise ValueError("solve: alpha and K are exclusive (K finite is the low-storage limit alpha = 0)")
    if branch != "retrieval" or x0 is not None or tol is not None:
        raise ValueError("solve with K: branch, x0 and tol do not apply (choose a state)")
    if T is None:
        raise ValueError("solve: give the temperature T")
    if model.examples is not None:    # (diluted) archetypes learnt from examples: theory.multitask_learning
        if state == "mixture" or mixture is not None:
            raise NotImplementedError("solve: learning from examples with K patterns: states pure, hierarchical, "
                                      "parallel, global (no mixtures)")
        model.replace(examples=None).require_plain("solve", dilution=True)
        from .multitask_learning import solve_learning

        return solve_learning(model, K, float(T), state, normalised, seed)
    model.require_plain("solve", dilution=True)
    from .multitask import solve_state

    return solve_state(model, K, float(T), state, mixture, normalised, seed)


def _check_grid_memory(model, alpha, T, x0, branch="retrieval"):
    """Refuse an RS grid that cannot fit in memory, from the shapes alone (before anything is allocated:
    broadcast views stay views)."""
    from .resources import check_solve_memory

    shapes = [np.shape(alpha), np.shape(T)]
    if x0 is not None:
        shapes.append(np.shape(x0)[:-1])
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        return  # incompatible shapes: the solver reports them
    if shape:
        check_solve_memory(shape, len(model_for(model, branch).NAMES))


def stack(points, shape, dims) -> Result:
    """Scalar Results of one model and kind -> one grid Result of the given shape."""
    p0 = points[0]
    keys = list(dict.fromkeys(k for p in points for k in p.values))
    arr = lambda get: np.array([get(p) for p in points]).reshape(shape)  # noqa: E731
    values = {k: arr(lambda p: float(p.values.get(k, np.nan))) for k in keys}
    inputs = {k: (arr(lambda p: p.inputs[k]) if not isinstance(v, str) else v) for k, v in p0.inputs.items()}
    return Result(p0.model, p0.kind, inputs, values, arr(lambda p: p.status.code).astype(np.int8),
                  arr(lambda p: float(p.residual)), arr(lambda p: int(p.iterations)),
                  arr(lambda p: float(p.replicon)), dims)


@x64
def solve_grid(model: Model, alphas, Ts, branch="retrieval", tol=None):
    """Solve on the outer-product grid alphas x Ts (one compile, vmapped for RS): an xarray Dataset with
    dims (alpha, T), every order parameter, f, status codes (CF flags), residual, iterations, replicon,
    units, long names and provenance.  (``solve(model, alphas[:, None], Ts[None, :])`` gives the same grid
    as a Result.)"""
    a = np.asarray(alphas, dtype=float)[:, None]
    t = np.asarray(Ts, dtype=float)[None, :]
    return solve(model, a, t, branch, tol=tol).to_xarray()
