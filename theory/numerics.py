"""The numerical methods every theory module shares, with named tolerances.

* :func:`newton` -- Newton with a backtracking line search on |F|^2 that also rejects steps leaving the
  physical domain; variables can be held fixed (masked rows/columns).  Pure JAX (jit/vmap-able);
  :func:`newton_resume` can be stopped and resumed.
* :func:`fixed_point_resume` -- damped fixed-point iteration x <- x + eta (Phi(x) - x), the fallback of
  Newton (resumable).
* :func:`chunked`, :func:`in_rounds` -- vmapped functions and resumable iterations over batches in chunks of
  one compiled shape; converged lanes leave the batch between rounds.
* :func:`scan_roots` -- bracket-and-refine: every sign change of g on a grid, refined with scipy's brentq.
* :func:`bisect_existence` -- the end of a branch bracketed by bisection on "a solution exists here",
  with continuation from the last solution found.
* :func:`fold_system` -- the augmented system (F = 0, det dF/dx = 0) whose Newton solution is a branch end.
* :func:`continue_until_failure` -- natural-parameter continuation with step halving up to a branch end.
"""
from __future__ import annotations

import math
from contextlib import nullcontext

import jax
import jax.numpy as jnp
import numpy as np

# --- named tolerances ---------------------------------------------------------------------------------
TOL_RS = 1e-10  # RS saddle points: max abs of the stationarity equations for acceptance
TOL_RSB1 = 1e-8  # 1RSB saddle points (the composite quadratures are accurate to ~1e-10 in the equations)
POLISH = 1e-3  # Newton runs to POLISH * tol: cheap (quadratic) and separates nearby branches
TOL_FOLD = 1e-10  # branch ends (fold Newton residual)
BRACKET_RTOL = 1e-4  # relative width of the existence bracket handed to the fold Newton
XTOL_LINE = 1e-12  # absolute tolerance on RS line roots (in T or alpha)
XTOL_LINE_RSB1 = 1e-10  # 1RSB line roots (relative to the load scale where stated)
NEWTON_MAXITER = 60
FOLD_MAXITER = 80
LINE_SEARCH_MAXITER = 40
FP_MAXITER = 3000
FP_DAMPING = 0.5
FP_TOL = 1e-7  # the fixed-point fallback only has to hand Newton a point in its basin


def newton(F, x0, fixed, in_domain, tol, maxiter=NEWTON_MAXITER):
    """Solve F(x) = 0 from x0 with the rows/columns of ``fixed`` held at x0.  Returns (x, residual, its),
    residual = max |F| over the free rows (inf if F is not finite or x left the domain)."""
    x, res, it, _ = newton_resume(F, x0, fixed, in_domain, tol, maxiter)
    return x, res, it


def newton_resume(F, x0, fixed, in_domain, tol, maxiter=NEWTON_MAXITER, it0=0, stalled0=False, it_stop=None,
                  screen=False):
    """:func:`newton` that can be stopped and resumed: it runs from iteration ``it0`` (with the stall flag
    ``stalled0``) until converged, stalled (the line search failed), ``maxiter`` or ``it_stop``, and returns
    (x, residual, its, stalled).  Rounds of it_stop = it + k give exactly the iterates of one long run; a
    host loop uses that to drop converged points from a batch between rounds (:func:`in_rounds`).

    ``screen``: the line search first tests all its trial steps t = 2^-k (k < LINE_SEARCH_MAXITER) against
    ``in_domain`` (cheap: no equations) and evaluates F only at those inside; a trial outside the domain has
    merit inf and is rejected anyway, so the iterates are those of the plain search (it only skips work:
    a Newton step far outside the domain, common where the branch is absent, costs ~20 rejected trials)."""
    n = x0.shape[0]
    eye = jnp.eye(n)
    free2 = (~fixed)[:, None] & (~fixed)[None, :]
    stop = maxiter if it_stop is None else jnp.minimum(it_stop, maxiter)
    F = jax.jit(F)  # traced once, reused by the residual, the merit function and the Jacobian

    def Fm(x):
        return jnp.where(fixed, 0.0, F(x))

    def merit(x):
        f = Fm(x)
        ok = jnp.all(jnp.isfinite(f)) & in_domain(x)
        return jnp.where(ok, jnp.max(jnp.abs(f)), jnp.inf), jnp.where(ok, jnp.sum(f * f), jnp.inf)

    def cond(s):
        x, res, it, stalled = s
        return (res > tol) & (it < stop) & (~stalled)

    def body(s):
        x, res, it, _ = s
        f = Fm(x)
        J = jnp.where(free2, jax.jacfwd(F)(x), eye)
        dx = jnp.linalg.solve(J, -f)
        dx = jnp.where(jnp.isfinite(dx) & ~fixed, dx, 0.0)
        n2 = jnp.sum(f * f)

        def ls_cond(c):
            t, k, acc, _, _ = c
            return (~acc) & (k < LINE_SEARCH_MAXITER)

        if not screen:
            def ls_body(c):
                t, k, _, _, _ = c
                xt = x + t * dx
                r_, n2t = merit(xt)
                acc = (n2t <= n2 * (1.0 - 1e-4 * t)) | (r_ <= tol)
                return (jnp.where(acc, t, 0.5 * t), k + 1, acc, xt, r_)

            t, _, acc, xt, rt = jax.lax.while_loop(ls_cond, ls_body, (1.0, 0, False, x, res))
        else:
            ts = 0.5 ** jnp.arange(LINE_SEARCH_MAXITER, dtype=x.dtype)  # exactly the halvings of t = 1
            trials = x[None, :] + ts[:, None] * dx[None, :]
            inside = jax.vmap(lambda y: jnp.asarray(in_domain(y), bool))(trials)
            ks = jnp.arange(LINE_SEARCH_MAXITER)

            def next_inside(k):  # first trial >= k inside the domain (LINE_SEARCH_MAXITER: none)
                return jnp.min(jnp.where(inside & (ks >= k), ks, LINE_SEARCH_MAXITER))

            def ls_body(c):
                t, k, _, _, _ = c
                xt = trials[k]
                t = ts[k]
                r_, n2t = merit(xt)
                acc = (n2t <= n2 * (1.0 - 1e-4 * t)) | (r_ <= tol)
                return (t, jnp.where(acc, k, next_inside(k + 1)), acc, xt, r_)

            t, _, acc, xt, rt = jax.lax.while_loop(ls_cond, ls_body, (1.0, next_inside(0), False, x, res))
        xn = jnp.where(acc, xt, x)
        rn = jnp.where(acc, rt, res)
        return xn, rn, it + 1, ~acc

    r0, _ = merit(x0)
    return jax.lax.while_loop(cond, body, (x0, r0, jnp.asarray(it0), jnp.asarray(stalled0)))


def fixed_point_resume(F, fpmap, x0, fixed, in_domain, tol=FP_TOL, maxiter=FP_MAXITER, eta=FP_DAMPING, it0=0,
                       it_stop=None, done=None, joint=None):
    """Damped fixed-point iteration of ``fpmap`` until max |F| <= tol, from iteration ``it0`` and stopped at
    ``it_stop`` at the latest (resumable, like :func:`newton_resume`).  Returns (x, residual, its).
    ``done(x)`` (optional): stop early where it is true (the caller decides what such an end point means).
    ``joint(x)`` (optional): (F(x), fpmap(x)) from one evaluation (both come from the same gradient): the
    map of the next step is then carried from the residual of this one, one evaluation per iteration."""
    stop = maxiter if it_stop is None else jnp.minimum(it_stop, maxiter)
    if done is None:
        done = lambda x: jnp.asarray(False)  # noqa: E731
    if joint is None:
        joint = lambda x: (F(x), fpmap(x))  # noqa: E731
        carried = False
    else:
        carried = True

    def res_from(x, fx):
        f = jnp.where(fixed, 0.0, fx)
        ok = jnp.all(jnp.isfinite(f)) & in_domain(x)
        return jnp.where(ok, jnp.max(jnp.abs(f)), jnp.inf)

    def cond(s):
        x, res, it, _ = s
        return (res > tol) & (it < stop) & jnp.isfinite(res) & ~done(x)

    def body(s):
        x, _, it, phi = s
        phi = phi if carried else fpmap(x)
        xn = jnp.where(fixed, x, x + eta * (phi - x))
        if carried:
            fx, phin = joint(xn)
        else:
            fx, phin = F(xn), phi
        return xn, res_from(xn, fx), it + 1, phin

    f0, phi0 = joint(x0) if carried else (F(x0), x0)
    x, res, it, _ = jax.lax.while_loop(cond, body, (x0, res_from(x0, f0), jnp.asarray(it0), phi0))
    return x, res, it


CHUNK = 64  # lanes per call of a batched loop (one compiled shape for every batch size > 1)


def chunked(fn, arrays, chunk=CHUNK):
    """``fn`` (vmapped over axis 0) applied to NumPy arrays in chunks of ``chunk`` lanes (the last one padded;
    a batch of one runs alone), so that one compiled shape serves every batch size; NumPy outputs."""
    n = arrays[0].shape[0]
    size = 1 if n == 1 else chunk
    pending = []
    for start in range(0, n, size):
        sel = np.arange(start, min(start + size, n))
        pad = np.concatenate([sel, np.full(size - sel.size, sel[-1])])
        pending.append((sel.size, fn(*(a[pad] for a in arrays))))
    outs = [[np.asarray(o)[:k] for o in out] for k, out in pending]
    return [np.concatenate(parts) for parts in zip(*outs)]


def in_rounds(step, consts, state, active, budgets, it_index, chunk=CHUNK, order=None):
    """Run a vmapped, resumable iteration ``step(*consts, *state, it_stop) -> state`` on a batch, in rounds.

    A vmapped while loop costs its slowest lane on every lane.  Here each round runs only the lanes that
    are still ``active(*state)`` (a boolean array over lanes), packed into chunks of ``chunk`` lanes (the
    last one padded by repeating a lane; a batch of one runs alone, so two shapes are ever compiled), each
    for at most ``budgets[k]`` more iterations (``state[it_index]`` holds the iteration counts; the last
    round has no limit).  Every lane's iterates are those of one uninterrupted run.  ``consts`` (per-lane
    parameters) and ``state`` are tuples of NumPy arrays with the lanes on axis 0; returns the final
    state.  ``chunk`` may also be a tuple of lane counts (each compiled once): a chunk then has the largest
    and the rest of a round is padded only up to the smallest count that holds it (for iterations whose
    lanes are expensive, e.g. the 1RSB quadratures).  ``order(*state)`` (optional): a key per lane; each
    round packs its lanes sorted by it, so that lanes likely to need as many iterations share chunks (no
    effect on any lane's iterates, only on what a chunk's slowest lane costs the others).  The chunks of a
    round are dispatched before any is collected, round-robin over the local
    devices (on a CPU host: one per core when XLA_FLAGS has --xla_force_host_platform_device_count, as
    the densehebb command sets it), so they run in parallel."""
    state = [np.array(s) for s in state]
    sizes = (1,) if consts[0].shape[0] == 1 else ((chunk,) if np.ndim(chunk) == 0 else tuple(sorted(chunk)))
    devices = jax.local_devices() if consts[0].shape[0] > 1 else []
    for k, budget in enumerate(budgets):
        idx = np.flatnonzero(active(*state))
        if idx.size == 0:
            break
        if order is not None:
            idx = idx[np.argsort(np.asarray(order(*state))[idx], kind="stable")]
        pending = []  # dispatch every chunk first (JAX runs them asynchronously, on all cores), then collect
        for start in range(0, idx.size, sizes[-1]):
            sel = idx[start:start + sizes[-1]]
            size = next(s for s in sizes if s >= sel.size)
            pad = np.concatenate([sel, np.full(size - sel.size, sel[0])])
            sub = [s[pad] for s in state]
            stop = sub[it_index] + budget if k < len(budgets) - 1 else np.full(size, np.iinfo(np.int32).max)
            args = [*(c[pad] for c in consts), *sub, stop]
            # round-robin over the local devices (CPU: one per core if configured); the call places its NumPy
            # arguments on the default device itself (cheaper than a device_put per chunk)
            where = jax.default_device(devices[len(pending) % len(devices)]) if len(devices) > 1 else nullcontext()
            with where:
                pending.append((sel, step(*args)))
        for sel, out in pending:
            for s, o in zip(state, out):
                s[sel] = np.asarray(o)[: sel.size]
    return tuple(state)


def fold_system(F, fixed=None):
    """G(y) = (F(x; p), det dF/dx(x; p)) with y = (x, p): its root is a saddle-node (the end of a branch).
    ``F(x, p)`` is the system at parameter p.  ``fixed``: variables held at their value (e.g. m = 0 on the
    spin-glass branch, where the m-equation is degenerate for P >= 3 and would make det vanish everywhere):
    their rows of F are dropped (zero) and their rows/columns of dF/dx replaced by the identity."""
    def G(y):
        x, p = y[:-1], y[-1]
        J = jax.jacfwd(F)(x, p)
        f = F(x, p)
        if fixed is not None:
            free2 = (~fixed)[:, None] & (~fixed)[None, :]
            J = jnp.where(free2, J, jnp.eye(x.shape[0]))
            f = jnp.where(fixed, 0.0, f)
        return jnp.concatenate([f, jnp.linalg.det(J)[None]])
    return G


def scan_roots(g, lo, hi, n_scan, xtol=XTOL_LINE):
    """All roots of g on [lo, hi]: sign changes on an n_scan-point grid, each refined with brentq.
    Non-finite values of g (no solution there) never bracket a root."""
    from scipy.optimize import brentq  # (imported here: a plain solve does not need SciPy)

    ps = np.linspace(lo, hi, n_scan)
    vals = np.array([g(p) for p in ps])
    out = []
    for i in range(n_scan - 1):
        a, b = vals[i], vals[i + 1]
        if np.isfinite(a) and np.isfinite(b) and a * b < 0:
            out.append(brentq(g, ps[i], ps[i + 1], xtol=xtol))
        elif a == 0:
            out.append(ps[i])
    return out


def bisect_existence(at, p_lo, p_hi, rtol=BRACKET_RTOL):
    """Bracket the end of a branch in a parameter p.  ``at(p, x0)`` returns the solution's variables (a
    NumPy array) or None where the branch has no solution, starting from x0 (None: its default guess).
    Returns (p_exists, p_absent, x_at_p_exists); p_absent = inf if p_hi still has a solution; None if p_lo
    has none.  Bisection is geometric while the bracket spans decades (loads span decades across P)."""
    x_lo = at(p_lo, None)
    if x_lo is None:
        return None
    x_hi = at(p_hi, x_lo)
    if x_hi is not None:
        return p_hi, np.inf, x_hi
    while p_hi - p_lo > rtol * p_hi:
        mid = np.sqrt(p_lo * p_hi) if p_lo > 0 and p_hi > 10 * p_lo else 0.5 * (p_lo + p_hi)
        x = at(mid, x_lo)
        if x is not None:
            p_lo, x_lo = mid, x
        else:
            p_hi = mid
    return p_lo, p_hi, x_lo


def continue_until_failure(step_to, p, x, step, min_step, p_max=math.inf):
    """Natural-parameter continuation: from the solution x at p, step upwards (``step_to(p_new, x)``
    returns the new solution or None), halving the step after a failure, until the step is below min_step
    or p_max is reached.  Returns (p, x, p_fail): the last parameter reached, its solution and the first
    parameter that failed (None if none did)."""
    p_fail = None
    while step > min_step and p < p_max:
        p_next = min(p + step, p_max)
        x_next = step_to(p_next, x)
        if x_next is not None:
            p, x = p_next, x_next
        else:
            p_fail = p_next
            step *= 0.5
    return p, x, p_fail
