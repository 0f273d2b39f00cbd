"""The fast paths of the theory give the answers of the slow ones (issue 10).

* The RS solver runs batches in rounds (converged points leave the batch, the fixed-point fallback only
  where Newton failed): each point's result equals the point solved on its own, and Newton stopped and
  resumed gives the iterates of one uninterrupted run.
* Lines by continuation: a fold started from a nearby fold equals the fold found by bracketing from
  scratch, and a start on the wrong side (the other fold of a reentrant line) is refused.
* The SciPy reference of ``densehebb bench --theory`` (fsolve + adaptive quad, an independent formulation
  in (m, q, r)) agrees with the JAX solver.
"""
import json
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest

from densehebb import Model, solve
from densehebb.theory import Status
from densehebb.phase_diagrams import lines
from densehebb.theory import numerics, scipy_reference
from densehebb.theory.bifurcation import fold


def test_newton_resumed_in_rounds_equals_one_run():
    F = lambda x: jnp.stack([x[0] ** 3 - 2.0 + 0.1 * x[1], jnp.sinh(x[1]) - 0.5 * x[0]])  # noqa: E731
    fixed = jnp.array([False, False])
    x0 = jnp.array([3.0, -2.0])
    x_one, r_one, it_one, _ = numerics.newton_resume(F, x0, fixed, lambda x: True, 1e-14)
    x, it, st = x0, 0, False
    while True:
        x, r, it, st = numerics.newton_resume(F, x, fixed, lambda x: True, 1e-14, it0=it, stalled0=st,
                                              it_stop=it + 1)
        if r <= 1e-14 or st or it >= numerics.NEWTON_MAXITER:
            break
    assert int(it) == int(it_one) > 2
    np.testing.assert_array_equal(np.asarray(x), np.asarray(x_one))
    assert float(r_one) <= 1e-14


def test_screened_line_search_gives_the_plain_iterates():
    """newton_resume(screen=True) skips the trial steps outside the domain without evaluating F: the iterates,
    residual and count are those of the plain line search, on a system whose full Newton steps leave the
    domain (x0 > 0.5) and on one whose root lies outside it (the same stall)."""
    F = lambda x: jnp.stack([jnp.log(x[0] - 0.5) + x[1] ** 3 - 1.0, x[1] - 0.2 * x[0]])  # noqa: E731
    dom = lambda x: (x[0] > 0.5) & (x[1] > -5.0)  # noqa: E731
    fixed = jnp.array([False, False])
    for x0 in (jnp.array([0.55, 3.0]), jnp.array([5.0, -2.0]), jnp.array([0.5001, 4.0])):
        plain = numerics.newton_resume(F, x0, fixed, dom, 1e-13)
        fast = numerics.newton_resume(F, x0, fixed, dom, 1e-13, screen=True)
        np.testing.assert_array_equal(np.asarray(fast[0]), np.asarray(plain[0]))
        assert float(fast[1]) == float(plain[1]) and int(fast[2]) == int(plain[2]) and bool(fast[3]) == bool(plain[3])
    walled = lambda x: x[0] > 10.0  # noqa: E731  (the root lies outside: the iterates run into the wall, a stall)
    plain = numerics.newton_resume(F, jnp.array([10.5, 0.0]), fixed, walled, 1e-13)
    fast = numerics.newton_resume(F, jnp.array([10.5, 0.0]), fixed, walled, 1e-13, screen=True)
    assert bool(plain[3]) == bool(fast[3]) and int(plain[2]) == int(fast[2])
    np.testing.assert_array_equal(np.asarray(fast[0]), np.asarray(plain[0]))


@pytest.mark.parametrize("P", [2, 4])
def test_batch_equals_points_solved_alone(P):
    """A batch mixing points that converge at once, points that need the fallback and points where the
    branch is absent (collapsed): every field equals the point solved on its own."""
    spec = Model(P=P)
    a_c = lines.capacity(spec, 0.0).alpha_c
    T_top = 1.0 if P == 2 else 0.09
    alphas = np.array([0.1, 0.5, 0.9, 0.99, 1.05, 0.3, 0.7]) * a_c
    Ts = np.array([0.0, 0.3, 0.05, 0.0, 0.01, 0.97, 0.5]) * T_top
    batch = solve(spec, alphas, Ts)
    codes = set(np.asarray(batch.status).tolist())
    assert len(codes) >= 2  # converged and not: the rounds and the fallback are exercised
    for i, (a, t) in enumerate(zip(alphas, Ts)):
        one = solve(spec, float(a), float(t))
        assert one.status == batch[i].status
        if one.converged:  # (a failing point's iteration count may differ by one: round-off over 3000 steps)
            assert int(one.iterations) == int(batch[i].iterations)
        for k in ("m", "q", "f"):
            np.testing.assert_allclose(float(getattr(batch[i], k)), float(getattr(one, k)), rtol=0, atol=1e-13)


@pytest.mark.slow
@pytest.mark.parametrize("P", [2, 3, 4])
def test_fast_grid_equals_plain_point_by_point(P, monkeypatch):
    """The fast grid path (no iterations above the retrieval ceiling, the fixed-point screen after 18 Newton
    steps, line-search trials screened by the domain, one gradient per fixed-point step) against each point
    solved alone with the plain stages (solver.FAST_PATHS off), on a coarse grid with retrieval states, the
    spinodal T_M(alpha) (points 1% either side), collapsed points and the absent branch above the ceiling:
    the same status everywhere and the same converged values."""
    from densehebb.theory import solver

    spec = Model(P=P)
    a_c = lines.capacity(spec, 0.0).alpha_c
    top = solver.retrieval_ceiling(P)
    alphas = np.array([0.05, 0.3, 0.7, 0.95]) * a_c
    Ts = [np.concatenate([np.linspace(0.0, 1.08 * top, 7), lines.T_M(spec, a) * np.array([0.99, 1.01])])
          for a in alphas]
    A = np.repeat(alphas, 9)
    T = np.concatenate(Ts)
    fast = solve(spec, A, T)
    monkeypatch.setattr(solver, "FAST_PATHS", False)
    codes = set()
    for i in range(A.size):
        one = solve(spec, float(A[i]), float(T[i]))
        codes.add(one.status.name)
        assert one.status == fast[i].status, (A[i], T[i])
        if one.converged:
            for k in ("m", "q", "f"):
                assert abs(float(getattr(one, k)) - float(getattr(fast[i], k))) < 1e-12, (A[i], T[i], k)
    assert {"CONVERGED", "BRANCH_MISSING"} <= codes and ("COLLAPSED" in codes)


def test_fold_from_a_start_equals_fold_from_scratch():
    spec = Model(P=2)
    c_prev = lines.capacity(spec, 0.05)
    start = lines.fold_start(c_prev)
    warm = lines.capacity(spec, 0.075, start=start)
    cold = fold(spec, "retrieval", None, 0.075, "alpha", 1e-9, 1.0)
    assert warm.converged and cold.converged
    assert abs(warm.alpha_c - cold.p) < 1e-12
    # the spinodal T_M continued along alpha equals the bracketed one
    r1 = lines.T_M_fold(spec, 0.05)
    r2 = lines.T_M_fold(spec, 0.055, start=lines.fold_start(r1))
    assert abs(r2.p - lines.T_M_fold(spec, 0.055).p) < 1e-12


def test_fold_start_on_the_wrong_fold_is_refused():
    """Above alpha_c(0) the P = 2 retrieval branch exists in a window of T (reentrance): the lower end is a
    fold too, but the branch lies above it, so the certificate (branch present just below) rejects it and
    the bracket search returns the upper end, T_M."""
    spec = Model(P=2)
    a0 = lines.capacity(spec, 0.0).alpha_c
    t_peak, a_peak = lines._capacity_peak(spec)
    alpha = a0 + 0.5 * (a_peak - a0)
    upper = lines.T_M_fold(spec, alpha)
    assert upper.converged and upper.p > t_peak
    lower = fold(spec, "retrieval", alpha, None, "T", upper.p, 0.0)  # searching downwards from T_M
    # a start at the lower fold: Newton converges there, the certificate refuses it, bracketing follows
    from densehebb.theory.bifurcation import _from_start
    y_low = (t_peak * 0.5, np.asarray(upper.raw))
    r = _from_start(spec, "retrieval", alpha, None, "T", 0.0, 2.0, 1e-10, 1e-4, y_low)
    assert r is None or abs(r.p - upper.p) < 1e-10
    assert abs(lines.T_M_fold(spec, alpha, start=y_low).p - upper.p) < 1e-10
    del lower


@pytest.mark.parametrize("P,alpha,T", [(2, 0.05, 0.3), (2, 0.12, 0.1), (3, 0.08, 0.2), (4, 0.02, 0.03)])
def test_scipy_reference_agrees_with_the_solver(P, alpha, T):
    spec = Model(P=P)
    r = solve(spec, alpha, T)
    assert r.converged
    m, q, ok = scipy_reference.solve_point(spec, alpha, T, scipy_reference.initial_guess(spec, alpha, T))
    assert ok
    assert abs(abs(m) - float(r.m)) < 1e-10 and abs(q - float(r.q)) < 1e-10


@pytest.mark.slow
def test_bench_theory_quick_cli():
    p = subprocess.run([sys.executable, "-m", "densehebb.phase_diagrams.cli", "bench", "--theory", "--quick",
                        "--json"], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    cases = {r["case"]: r for r in rows}
    assert {"rs_grid_P2", "rs_grid_P4", "rsb1_grid_P4", "summary"} <= set(cases)
    for c in ("rs_grid_P2", "rs_grid_P4"):
        r = cases[c]
        for k in ("points", "seconds", "points_per_s", "compile_s", "speedup_vs_scipy",
                  "max_abs_diff_vs_reference"):
            assert k in r
        assert r["max_abs_diff_vs_reference"] < 1e-8 and r["reference_disagreements"] == 0
    for c in ("learning_grid_P4_supervised", "learning_grid_P4_unsupervised"):   # grid == point by point
        r = cases[c]
        assert r["dataset"]["M"] == 10 and r["points"] == 64 and r["reference_disagreements"] == 0
        assert r["max_abs_diff_vs_reference"] is None or r["max_abs_diff_vs_reference"] < 1e-10
    assert isinstance(cases["summary"]["targets_met"], bool)


def test_stored_exports_give_the_jitted_results(tmp_path):
    """theory.aot: with a compilation cache configured, a function is exported once, reloaded by a fresh
    wrapper (another process, in effect) without re-exporting, and gives the jitted function's results."""
    import os

    import jax

    from densehebb.theory import aot

    pytest.importorskip("flatbuffers")
    f = lambda x, a: jnp.stack([jnp.sum(jnp.tanh(a * x)), jnp.max(x) * a])  # noqa: E731
    x, a = np.linspace(-1, 1, 7), 0.37
    old = jax.config.jax_compilation_cache_dir
    try:
        jax.config.update("jax_compilation_cache_dir", str(tmp_path))
        first = np.asarray(aot.jit(f, ("test", 1))(x, a))
        entries = sorted(os.listdir(tmp_path / "densehebb-export"))
        assert len(entries) == 1
        mtime = os.path.getmtime(tmp_path / "densehebb-export" / entries[0])
        second = np.asarray(aot.jit(f, ("test", 1))(x, a))  # a new wrapper loads the stored program
        assert os.path.getmtime(tmp_path / "densehebb-export" / entries[0]) == mtime
        aot.jit(f, ("test", 2))(x, a)  # another key, another entry
        assert len(os.listdir(tmp_path / "densehebb-export")) == 2
    finally:
        jax.config.update("jax_compilation_cache_dir", old)
    np.testing.assert_array_equal(first, np.asarray(jax.jit(f)(x, a)))
    np.testing.assert_array_equal(second, first)


@pytest.mark.parametrize("P", [3, 4])
def test_spin_glass_spinodal_is_the_fold_itself(P):
    """P >= 3, distinct indices: the RS spin glass (m = 0, xi = alpha q^P / P!) depends on T / sqrt(alpha)
    only, so T_g(alpha) / sqrt(alpha) is a constant.  The fold Newton holds m = 0 (its equation is
    degenerate there: det dF/dx vanished on the whole branch, and T_g was only the 1e-4 existence bracket);
    now the ratio is constant to 1e-9, and the branch exists just below T_g and not just above."""
    spec = Model(P=P)
    r1, r2 = lines.T_g_fold(spec, 0.002), lines.T_g_fold(spec, 0.01)
    assert r1.converged and r2.converged and int(r1.iterations) > 0
    assert abs(r1.p / np.sqrt(0.002) - r2.p / np.sqrt(0.01)) < 1e-9 * r2.p / np.sqrt(0.01)
    x = np.asarray(r2.raw)
    assert solve(spec, 0.01, r2.p * (1 - 1e-7), "spin-glass", x0=x).converged
    assert not solve(spec, 0.01, r2.p * (1 + 1e-7), "spin-glass", x0=x).converged


def test_skipping_the_absent_spin_glass_changes_no_line():
    """P >= 3: T_c with the spin glass not solved above its spinodal, and alpha_Tc with it not solved below
    alpha_g(T), equal the lines computed with every solve done."""
    from densehebb.phase_diagrams import diagram

    spec = Model(P=4)
    alphas, Ts = diagram.default_grids(spec)
    a = float(alphas[12])
    tm = lines.T_M(spec, a)
    tg = lines.T_g(spec, a)
    assert lines.T_c(spec, a, tm, T_g=tg) == lines.T_c(spec, a, tm)
    folds = [lines.T_g_fold(spec, x) for x in alphas]
    t = float(0.5 * (folds[5].p + folds[6].p))
    ag = lines.alpha_g(spec, t, alphas, folds)
    assert ag is not None and abs(lines.T_g(spec, ag) - t) < 1e-12
    ac = lines.capacity(spec, t).alpha_c
    assert lines.alpha_Tc(spec, t, ac, alpha_g=ag) == lines.alpha_Tc(spec, t, ac)


# --- 1RSB: batched stages and continuation --------------------------------------------------------------

def test_rsb1_batch_equals_points_solved_alone():
    """solve_rsb1_batch runs every stage for all points at once (T = 0 and T > 0 lanes, a point without a
    non-trivial saddle, one beyond the RS capacity); each point's result is the one it gets alone."""
    from densehebb.theory.rsb1_solver import solve_rsb1, solve_rsb1_batch

    spec = Model(P=4, ansatz="1rsb")
    pts = [(0.03, 0.0), (0.035, 0.01), (0.03, 0.05), (0.037, 0.0)]
    batch = solve_rsb1_batch(spec, [a for a, _ in pts], [t for _, t in pts])
    rs_applies = {Status.RSB_TRIVIAL, Status.X_AT_BOUNDARY}
    for (a, t), b in zip(pts, batch):
        one = solve_rsb1(spec, a, t)
        # where no 1RSB saddle exists the two "RS applies" statuses differ only in whether some Newton run of
        # the scan met a non-trivial stationary point at fixed mu (round-off of the batched vs the scalar
        # executable at a marginal point: (0.03, 0.05), RS AT-stable); both give NaN and the same note
        assert b.status == one.status or {b.status, one.status} <= rs_applies, (a, t)
        if one.converged:
            for k in ("m", "q0", "q1", "x", "f"):
                assert getattr(b, k) == pytest.approx(getattr(one, k), abs=1e-11), (a, t, k)
    assert batch[0].converged and batch[1].converged and not batch[2].converged
    # solve() on arrays goes through the batch
    grid = solve(spec, np.array([0.03, 0.035]), np.array([0.0, 0.01]))
    assert np.allclose(grid.f, [batch[0].f, batch[1].f], rtol=0, atol=1e-11)


def test_rsb1_continuation_equals_the_scan_and_refuses_a_bad_start():
    """A saddle continued from a neighbouring temperature (full Newton + Hessian test: a maximum in mu) is
    the saddle the mu scan finds; a start that leads nowhere (the spin glass's variables for a retrieval
    solve) falls back to the scan and still gives the scan's answer."""
    from densehebb.theory.rsb1_solver import solve_rsb1

    spec = Model(P=4, ansatz="1rsb")
    near = solve_rsb1(spec, 0.035, 0.01)
    cold = solve_rsb1(spec, 0.035, 0.015)
    warm = solve_rsb1(spec, 0.035, 0.015, start=near.raw)
    assert near.converged and cold.converged and warm.converged
    assert warm.note.startswith("continued") and not cold.note.startswith("continued")
    for k in ("m", "q0", "q1", "x", "f"):
        assert getattr(warm, k) == pytest.approx(getattr(cold, k), abs=1e-10), k
    bad = solve_rsb1(spec, 0.035, 0.015, start=np.array([0.0, 0.0, 0.5, 1.0]))
    assert bad.converged and not bad.note.startswith("continued")
    assert bad.f == pytest.approx(cold.f, abs=1e-12)
