"""Tempering round trips (montecarlo.observables.track_walkers, simulate's round_trips) and the issue-13 paper
script papers/mc_capacity_dense/capacity_thermo.py (--quick) against the RS retrieval theory at small load."""
import importlib.util
import json
import math
import os

import jax.numpy as jnp
import numpy as np
import pytest

import densehebb as dh
from densehebb.montecarlo import simulate, summarize
from densehebb.montecarlo.observables import track_walkers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _round(walker, heading, trips, pairs, T, count=True):
    acc = np.zeros((T - 1, 1), bool)
    for k in pairs:
        acc[k, 0] = True
    return track_walkers(walker, heading, trips, jnp.asarray(acc), jnp.asarray(count))


def test_walker_round_trip_is_counted_once_bottom_top_bottom():
    """Three slots, one ladder: walker 0 climbs 0 -> 1 -> 2 and comes back: exactly one round trip; walker 2
    (started at the top) goes down to the bottom and back up: no completed trip (needs bottom -> top ->
    bottom); the same moves outside the measurement phase count nothing."""
    T = 3
    for count, expect in ((True, 1), (False, 0)):
        w = jnp.arange(T, dtype=jnp.int32)[:, None]
        h = jnp.zeros((T, 1), jnp.int8)
        rt = jnp.zeros((T, 1), jnp.int64)
        for pairs in ([], [0], [1], [1], [0]):     # walker 0: slot 0, 1, 2, 1, 0
            w, h, rt = _round(w, h, rt, pairs, T, count)
        assert int(w[0, 0]) == 0
        assert int(rt[0, 0]) == expect and int(rt.sum()) == expect
        assert sorted(np.asarray(w[:, 0]).tolist()) == [0, 1, 2]     # a permutation of the walkers


def test_simulate_reports_round_trips_bounded_by_accepted_swaps():
    """simulate's round_trips: the sum of walker_round_trips, and every round trip of a ladder of n_T
    temperatures needs at least 2 (n_T - 1) accepted exchanges of its walker (each accepted exchange moves
    two walkers by one slot): 2 (n_T - 1) trips <= 2 accepted, i.e. trips <= accepted / (n_T - 1)."""
    temps = np.geomspace(0.3, 3.0, 4)
    ds = simulate(3, dh.Model(P=2), 24, K=2, T=temps, n_samples=2, n_replicas=2, sweeps=400, burn_in=50,
                  tempering=True)
    rt = ds["round_trips"].values
    np.testing.assert_array_equal(rt, ds["walker_round_trips"].values.sum(axis=1))
    accepted = float((ds["swap_acceptance"] * ds["swap_attempts"]).sum())
    assert rt.sum() >= 1                       # a hot, short ladder mixes
    assert rt.sum() <= accepted / (temps.size - 1)
    s = summarize(ds)
    assert s[float(temps[0])]["round_trips"] == int(rt.sum())


@pytest.mark.slow
def test_capacity_thermo_quick_runs_and_matches_rs_at_small_load(tmp_path):
    """The --quick script (P = 3, alpha = 0.03 only, ~15 s alone) writes its JSON and figure; at alpha = 0.03,
    far below both capacities (RS = 1RSB there), the low-temperature Monte Carlo keeps the retrieval state in every ladder,
    m agrees with the RS overlap and e with the RS ground-state energy within 3 errors plus the exact
    finite-N shift of the m = 1 energy, (3N - 2)/(6N^2) (distinct indices), and 0.005."""
    spec = importlib.util.spec_from_file_location(
        "capacity_thermo", os.path.join(ROOT, "papers", "mc_capacity_dense", "capacity_thermo.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--quick", "--P", "3", "--alphas", "0.03", "--out-dir", str(tmp_path), "--fig-dir", str(tmp_path)])
    assert (tmp_path / "capacity_thermo.png").stat().st_size > 10_000
    summary = json.loads((tmp_path / "summary.json").read_text())
    d = summary["P"]["3"]
    th = d["theory"]
    i = th["alpha"].index(0.03)
    m_rs, e_rs = th["rs"]["m"][i], th["rs"]["e"][i]
    assert m_rs > 0.999 and abs(e_rs + 1 / 6) < 1e-3
    rows = [r for r in d["mc"] if r["alpha"] == 0.03]
    assert rows
    for r in rows:
        N = r["N"]
        assert r["survival"] == 1.0
        assert abs(r["m_ret"] - m_rs) <= 3 * (r["m_ret_err"] or 0) + 0.02
        allowance = (3 * N - 2) / (6 * N**2) + 3 * (r["e_ret_err"] or 0) + 0.005
        assert abs(r["e_ret"] - e_rs) <= allowance, (N, r["e_ret"], e_rs, allowance)
        assert math.isfinite(r["pattern_spin_updates_per_s"])
