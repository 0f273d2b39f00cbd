"""Speed of the theory, measured against a reference in the same run: ``densehebb bench --theory --json``.

One JSON object per case, then a summary line (``case: "summary"``, ``targets_met``):

* ``rs_grid_P2``, ``rs_grid_P4``: the RS retrieval solver on a 100 x 100 (alpha, T) grid (alpha from 1% to
  110% of the T = 0 capacity, T from 0 to 110% of the retrieval ceiling T_M(alpha -> 0)); ``seconds`` is a
  warm call (compiled), ``compile_s`` what the first call took longer.  The reference is the
  straightforward SciPy solver of :mod:`theory.scipy_reference` (fsolve, adaptive quad) on a random subset
  of the same grid points with T > 0 (``reference_points`` of them, seeded), timed in the same run:
  ``speedup_vs_scipy`` is the ratio of points per second, ``max_abs_diff_vs_reference`` the largest
  difference in m and q where both converge to a retrieval state, ``reference_disagreements`` the points
  where only one of them does.
* ``rsb1_grid_P4``: the 1RSB retrieval solver on an n x n grid at low temperature, every stage batched over
  the grid (theory.rsb1_solver.solve_rsb1_batch); the reference is the same solver called point by point
  on a seeded subset (``speedup_vs_point_by_point``, ``max_abs_diff_vs_reference`` in m and f).  About a
  second a point on 2 cores, so the default is n = 6; ``--rsb1-grid 20`` gives the 20 x 20 case of issue
  10.
* ``learning_grid_P4_supervised`` / ``_unsupervised``: the RS archetype state of learning from examples
  (M = 10, r = 0.5) on a 100 x 100 (alpha, T) grid, one vmapped solve; reference: the same solver point by
  point on a seeded subset (``speedup_vs_point_by_point``); target: under 60 s (issue 11).
* ``cli_*``: wall time of the commands a user types (``solve``, ``capacity --ansatz 1rsb``,
  ``phase-diagram``), each run twice as a subprocess: ``seconds`` is the second run (warm persistent
  compilation cache), ``first_s`` the first (cold if the cache was empty), ``compile_s`` their difference.

Targets (issue 10, 2 cores, warm cache): RS grids >= 100x the SciPy reference and within 1e-8 of it;
``solve`` <= 2 s, ``capacity --P 4 --ansatz 1rsb`` <= 5 s, ``phase-diagram --P 2`` <= 10 s, ``--P 4`` <= 15
s, ``--P 4 --ansatz 1rsb`` <= 60 s.  ``--quick`` runs tiny grids and no CLI cases (for the tests).
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

from densehebb.theory import Model, x64

CLI_CASES = (  # (case, argv, target seconds or None)
    ("cli_solve_P2", ["solve", "--P", "2", "--alpha", "0.05", "--T", "0.3"], 2.0),
    ("cli_capacity_1rsb_P2", ["capacity", "--P", "2", "--ansatz", "1rsb"], None),
    ("cli_capacity_1rsb_P4", ["capacity", "--P", "4", "--ansatz", "1rsb"], 5.0),
    ("cli_phase_diagram_P2", ["phase-diagram", "--P", "2"], 10.0),
    ("cli_phase_diagram_P4", ["phase-diagram", "--P", "4"], 15.0),
    ("cli_phase_diagram_1rsb_P4", ["phase-diagram", "--P", "4", "--ansatz", "1rsb"], 60.0),
)
RS_SPEEDUP_TARGET = 100.0
RS_AGREEMENT_TARGET = 1e-8


def machine() -> dict:
    import jax

    return {"machine": platform.machine(), "processor": platform.processor() or platform.machine(),
            "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "python": platform.python_version(), "jax": jax.__version__, "device": str(jax.devices()[0])}


def _grid(spec: Model, n: int):
    from densehebb.theory.solver import retrieval_ceiling

    from . import lines

    a_c = lines.capacity(spec, 0.0).alpha_c
    return (np.linspace(0.01 * a_c, 1.1 * a_c, n), np.linspace(0.0, 1.1 * retrieval_ceiling(spec.P), n))


@x64
def rs_grid(P: int, n: int = 100, reference_points: int = 60, seed: int = 0) -> dict:
    """RS grid throughput against the SciPy reference (see the module docstring)."""
    from densehebb.theory import scipy_reference as ref
    from densehebb.theory import solve

    spec = Model(P=P)
    alphas, Ts = _grid(spec, n)
    A, T = np.meshgrid(alphas, Ts, indexing="ij")
    t0 = time.perf_counter()
    solve(spec, A, T)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = solve(spec, A, T)
    seconds = time.perf_counter() - t0
    pts = A.size / seconds
    rng = np.random.default_rng(seed)
    cand = np.flatnonzero(T.ravel() > 0)
    pick = rng.choice(cand, size=min(reference_points, cand.size), replace=False)
    t0 = time.perf_counter()
    sols = [ref.solve_point(spec, float(A.flat[i]), float(T.flat[i]),
                            ref.initial_guess(spec, float(A.flat[i]), float(T.flat[i]))) for i in pick]
    ref_s = time.perf_counter() - t0
    ref_pts = len(pick) / ref_s
    ours = np.asarray(r.converged).ravel()[pick]
    theirs = np.array([ok and abs(m) > 1e-3 for m, _, ok in sols])
    both = ours & theirs
    diffs = [max(abs(abs(m) - r.m.flat[i]), abs(q - r.q.flat[i]))
             for (m, q, _), i, b in zip(sols, pick, both) if b]
    dmax = float(max(diffs)) if diffs else float("nan")
    speedup = pts / ref_pts
    return {"case": f"rs_grid_P{P}", "points": int(A.size), "seconds": seconds, "points_per_s": pts,
            "compile_s": max(first - seconds, 0.0), "converged_fraction": float(np.mean(r.converged)),
            "reference": "theory.scipy_reference (fsolve + adaptive quad), single thread",
            "reference_points": int(len(pick)), "reference_seconds": ref_s, "reference_points_per_s": ref_pts,
            "speedup_vs_scipy": speedup, "max_abs_diff_vs_reference": dmax,
            "compared_points": int(both.sum()), "reference_disagreements": int(np.sum(ours != theirs)),
            "grid": {"alpha": [float(alphas[0]), float(alphas[-1]), n], "T": [float(Ts[0]), float(Ts[-1]), n]},
            "target": f"speedup_vs_scipy >= {RS_SPEEDUP_TARGET:g}, max_abs_diff <= {RS_AGREEMENT_TARGET:g}",
            "target_met": bool(speedup >= RS_SPEEDUP_TARGET and dmax <= RS_AGREEMENT_TARGET
                               and int(np.sum(ours != theirs)) == 0)}


def _versus_points(grid, refs, flat_index, keys):
    """A grid Result against the same points solved one by one (``refs``, at ``flat_index`` of the grid):
    (largest |difference| over ``keys`` where both converged, or None; points where only one converged)."""
    diffs, disagree = [], 0
    for k, p in zip(flat_index, refs):
        on_grid = bool(np.ravel(grid.converged)[k])
        if p.converged and on_grid:
            diffs.append(max(abs(p.values[v] - float(np.ravel(grid.values[v])[k])) for v in keys))
        elif p.converged != on_grid:
            disagree += 1
    return (max(diffs) if diffs else None), disagree


@x64
def rsb1_grid(P: int = 4, n: int = 20, reference_points: int = 8) -> dict:
    """1RSB retrieval solves on an n x n grid (alpha up to 1.1 alpha_c^RS, T up to a quarter of the retrieval
    ceiling, where RSB matters)."""
    from densehebb.theory import solve
    from densehebb.theory.rsb1_solver import solve_rsb1
    from densehebb.theory.solver import retrieval_ceiling

    from . import lines

    spec = Model(P=P, ansatz="1rsb")
    a_c = lines.capacity(spec.replace(ansatz="rs"), 0.0).alpha_c
    alphas = np.linspace(0.5 * a_c, 1.1 * a_c, n)
    Ts = np.linspace(0.0, 0.25 * retrieval_ceiling(P), n)
    t0 = time.perf_counter()
    solve(spec, alphas[n // 2], Ts[0])
    first = time.perf_counter() - t0
    A, T = np.meshgrid(alphas, Ts, indexing="ij")
    t0 = time.perf_counter()
    r = solve(spec, A, T)
    seconds = time.perf_counter() - t0
    per_point = seconds / A.size
    # reference: the same solver point by point (one solve_rsb1 call each) on a seeded subset
    sub = np.random.default_rng(0).choice(A.size, size=min(reference_points, A.size), replace=False)
    t0 = time.perf_counter()
    ref = [solve_rsb1(spec, float(A.flat[k]), float(T.flat[k])) for k in sub]
    ref_s = time.perf_counter() - t0
    dmax, disagree = _versus_points(r, ref, sub, ("m", "f"))
    return {"case": f"rsb1_grid_P{P}", "points": int(A.size), "seconds": seconds,
            "points_per_s": A.size / seconds, "compile_s": max(first - per_point, 0.0),
            "converged_fraction": float(np.mean(r.converged)), "speedup_vs_scipy": None,
            "speedup_vs_point_by_point": (A.size / seconds) / (len(sub) / ref_s),
            "max_abs_diff_vs_reference": dmax, "reference_disagreements": disagree,
            "reference": f"solve_rsb1 point by point on {len(sub)} of the points (m and f)",
            "grid": {"alpha": [float(alphas[0]), float(alphas[-1]), n], "T": [float(Ts[0]), float(Ts[-1]), n]},
            "target": None, "target_met": None}


LEARNING_GRID_TARGET_S = 60.0


@x64
def learning_grid(P: int = 4, supervised: bool = True, n: int = 100, M: int = 10, r: float = 0.5,
                  reference_points: int = 20, seed: int = 0) -> dict:
    """Learning from examples: the RS archetype state on an n x n (alpha, T) grid at a fixed dataset (M, r)
    (alpha up to 1.1 alpha_c(T = 0), T up to 1.1 T_M(alpha -> 0)), one vmapped solve; the reference is the
    same solver called point by point on a seeded subset (``speedup_vs_point_by_point``, largest difference
    in m, n and f).  Target (issue 11): the 100 x 100 grid in under a minute on 2 cores."""
    from densehebb.theory import Examples, solve

    from . import lines

    spec = Model(P=P, examples=Examples(M=M, r=r, supervised=supervised))
    a_c = lines.capacity(spec, 0.0).alpha_c
    t_m = lines.T_M(spec, 1e-4 * a_c)
    alphas, Ts = np.linspace(0.01 * a_c, 1.1 * a_c, n), np.linspace(0.0, 1.1 * t_m, n)
    A, T = np.meshgrid(alphas, Ts, indexing="ij")
    t0 = time.perf_counter()
    solve(spec, A, T)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    g = solve(spec, A, T)
    seconds = time.perf_counter() - t0
    pick = np.random.default_rng(seed).choice(A.size, size=min(reference_points, A.size), replace=False)
    t0 = time.perf_counter()
    ref = [solve(spec, float(A.flat[k]), float(T.flat[k])) for k in pick]
    ref_s = time.perf_counter() - t0
    dmax, disagree = _versus_points(g, ref, pick, ("m", "n", "f"))
    tag = "supervised" if supervised else "unsupervised"
    return {"case": f"learning_grid_P{P}_{tag}", "points": int(A.size), "seconds": seconds,
            "points_per_s": A.size / seconds, "compile_s": max(first - seconds, 0.0),
            "converged_fraction": float(np.mean(g.converged)), "speedup_vs_scipy": None,
            "speedup_vs_point_by_point": (A.size / seconds) / (len(pick) / ref_s),
            "max_abs_diff_vs_reference": dmax, "reference_disagreements": disagree,
            "reference": f"theory.solve point by point on {len(pick)} of the points (m, n, f)",
            "dataset": {"protocol": tag, "M": M, "r": r},
            "grid": {"alpha": [float(alphas[0]), float(alphas[-1]), n], "T": [float(Ts[0]), float(Ts[-1]), n]},
            "target": f"seconds <= {LEARNING_GRID_TARGET_S:g} (n = 100)" if n == 100 else None,
            "target_met": bool(seconds <= LEARNING_GRID_TARGET_S and disagree == 0) if n == 100 else None}


def cli_case(case: str, argv: list, target=None) -> dict:
    """Wall time of one ``densehebb`` command, run twice in fresh processes (second: warm cache)."""
    with tempfile.TemporaryDirectory(prefix="densehebb-bench-") as tmp:
        extra = ["--out", os.path.join(tmp, "out.nc")] if argv[0] == "phase-diagram" else []
        cmd = [sys.executable, "-m", "densehebb.phase_diagrams.cli", *argv, *extra, "--quiet", "--json"]
        walls, outs = [], []
        for _ in range(2):
            t0 = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, text=True)
            walls.append(time.perf_counter() - t0)
            outs.append(p)
    last = outs[-1]
    try:
        answer = json.loads(last.stdout.strip().splitlines()[-1]) if last.returncode == 0 else None
    except (ValueError, IndexError):
        answer = None
    keep = ("alpha_c", "m_c", "m", "alpha_c_T0", "m_c_T0", "alpha_Tc_T0", "alpha_c_T0_1rsb")
    return {"case": case, "command": "densehebb " + " ".join(argv), "points": 1, "seconds": walls[1],
            "points_per_s": 1.0 / walls[1], "first_s": walls[0], "compile_s": max(walls[0] - walls[1], 0.0),
            "returncode": last.returncode, "speedup_vs_scipy": None, "max_abs_diff_vs_reference": None,
            "reference": None, "values": {k: answer[k] for k in keep if answer and k in answer},
            "target": None if target is None else f"seconds <= {target:g}",
            "target_met": None if target is None else bool(last.returncode == 0 and walls[1] <= target)}


def run(out=sys.stdout, json_lines=True, quick=False, rsb1_grid_n=6) -> list:
    """All cases (``quick``: tiny grids, few reference points, no CLI cases); one line each, then a summary."""
    info = machine()
    results = []

    def emit(d):
        results.append(d)
        if json_lines:
            out.write(json.dumps(d, default=float) + "\n")
        else:
            tgt = "" if d.get("target_met") is None else ("  [target met]" if d["target_met"] else "  [target MISSED]")
            sp = f", {d['speedup_vs_scipy']:.0f}x SciPy" if d.get("speedup_vs_scipy") else ""
            out.write(f"{d['case']:28s} {d['seconds']:9.2f} s  {d['points_per_s']:10.1f} points/s{sp}{tgt}\n")
        out.flush()

    for P in (2, 4):
        emit(rs_grid(P, n=10 if quick else 100, reference_points=4 if quick else 60))
    emit(rsb1_grid(4, n=2 if quick else rsb1_grid_n))
    for supervised in (True, False):
        emit(learning_grid(4, supervised, n=8 if quick else 100, reference_points=3 if quick else 20))
    if not quick:
        for case, argv, target in CLI_CASES:
            emit(cli_case(case, argv, target))
    met = [d["target_met"] for d in results if d.get("target_met") is not None]
    summary = {"case": "summary", "targets_met": bool(met) and all(met),
               "targets": {d["case"]: d["target_met"] for d in results if d.get("target_met") is not None},
               "quick": quick, "convention": "distinct-indices", **info}
    if json_lines:
        out.write(json.dumps(summary) + "\n")
    else:
        out.write(f"targets met: {summary['targets_met']}  ({info['cores']} cores, {info['device']})\n")
    return results + [summary]
