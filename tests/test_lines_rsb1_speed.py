"""Shortcuts of the 1RSB phase diagram (issue 10) and the physics they rest on.

* T_c^1RSB(alpha) skips its 1RSB scan where the RS retrieval free energy lies above the competitor at every
  scan temperature: that relies on f_1RSB >= f_RS for the retrieval saddle (the 1RSB saddle maximises the
  free energy over the order parameters, n -> 0), checked here on the saddles the diagram meets, including
  a discontinuous one (1RSB where RS is still AT-stable).
* The check is exact where it fires (same NaN as the full scan) and does not fire where T_c exists.
"""
from dataclasses import replace

import numpy as np
import pytest

from densehebb import Model
from densehebb.phase_diagrams import lines, lines_rsb1 as L1
from densehebb.theory import solve
from densehebb.theory.bifurcation import fold
from densehebb.theory.rsb1_solver import solve_rsb1

SPEC = Model(P=4, ansatz="1rsb")


def _rs_capacity(T):
    return fold(replace(SPEC, ansatz="rs"), "retrieval", None, float(T), "alpha", 1e-9, 1.0).p


@pytest.mark.parametrize("alpha, T", [
    pytest.param(0.0323, 0.0, marks=pytest.mark.slow),  # RS AT-unstable: the top loads of the P = 4 diagram
    (0.0323, 0.008),
    pytest.param(0.0323, 0.012, marks=pytest.mark.slow),
    (0.035, 0.01),                                       # between the RS and 1RSB capacities
    (None, 0.0317),                                      # 0.97 alpha_c^RS(T): 1RSB with RS AT-stable
])
def test_rsb1_retrieval_free_energy_is_not_below_rs(alpha, T):
    a = 0.97 * _rs_capacity(T) if alpha is None else alpha
    r = solve_rsb1(SPEC, a, T)
    assert r.converged, (a, T, r.status)
    rs = solve(replace(SPEC, ansatz="rs"), a, T, "retrieval")
    assert r.f_rs == pytest.approx(float(rs.f), abs=1e-14)
    assert r.q1 - r.q0 > 1e-4                         # a genuine 1RSB saddle, not the RS point
    assert r.f >= r.f_rs - 1e-12, (a, T, r.f - r.f_rs)
    if alpha is None:                                 # the discontinuous case: RS is AT-stable here
        assert float(rs.replicon) > 0


@pytest.mark.slow
def test_rs_bound_does_not_fire_where_retrieval_wins():
    """At a load where retrieval is the global minimum at low T (T_c exists), f_RS < f_competitor at T = 0,
    so the shortcut must not return: T_c is computed by the full scan."""
    alpha = 0.02
    T_m = float(lines.T_M(replace(SPEC, ansatz="rs"), alpha))
    ts = np.linspace(0.0, T_m * (1 - 1e-6), 10)
    assert not L1._above_competitor_at_rs(SPEC, alpha, ts, lambda t: L1.competitor_f(SPEC, alpha, t))


@pytest.mark.slow
@pytest.mark.parametrize("alpha", [0.03231715280191229, 0.03281180309990074])  # the P = 4 diagram's top loads
def test_tc_shortcut_equals_the_full_scan(alpha, monkeypatch):
    """Where the shortcut fires, T_c is NaN and the full 1RSB scan (shortcut off) finds no sign change: every
    finite scan value of f_retrieval - f_competitor is positive."""
    T_m = float(lines.T_M(replace(SPEC, ansatz="rs"), alpha))
    ts = np.linspace(0.0, T_m * (1 - 1e-6), 10)
    assert L1._above_competitor_at_rs(SPEC, alpha, ts, lambda t: L1.competitor_f(SPEC, alpha, t))
    fast = L1.T_c(SPEC, alpha, T_m)
    monkeypatch.setattr(L1, "_above_competitor_at_rs", lambda *a: False)
    full = L1.T_c(SPEC, alpha, T_m)
    assert np.isnan(fast) and np.isnan(full)
    saddles = {}
    g = [L1.retrieval_f(SPEC, alpha, t, saddles) - L1.competitor_f(SPEC, alpha, t) for t in ts]
    assert np.sum(np.isfinite(g)) >= 5 and all(v > 0 for v in g if np.isfinite(v))



@pytest.mark.slow
def test_spin_glass_curve_is_stored_and_read_back_exactly(tmp_path, monkeypatch):
    """The 1RSB spin-glass free-energy curve F(t) (the T_c competitor) is computed once per machine: stored
    next to the compiled solvers and read back to the same spline, bit for bit; a damaged file is ignored."""
    import glob
    import json

    from densehebb.theory import aot

    monkeypatch.setattr(aot, "store_path", lambda name: str(tmp_path / name))
    fresh = L1._sg_free_energy_curve.__wrapped__
    spline, t_s = fresh(4, SPEC.convention)
    (path,) = glob.glob(str(tmp_path / "rsb1-spin-glass-curve-P4-*.json"))
    stored = json.load(open(path))
    assert len(stored["f"]) == 33 and np.all(np.isfinite(stored["f"]))
    again, t_s2 = fresh(4, SPEC.convention)          # read back: no solve
    ts = np.linspace(0.0, t_s, 17)
    assert t_s2 == t_s and np.array_equal(again(ts), spline(ts))
    with open(path, "w") as fh:
        json.dump({"t": [0.0], "f": [1.0]}, fh)        # wrong length: recomputed, not trusted
    third, _ = fresh(4, SPEC.convention)
    assert np.array_equal(third(ts), spline(ts))


def test_rsb1_capacity_grid_stops_where_the_capacity_rejoins_rs(monkeypatch):
    """The diagram's 1RSB capacity is computed upwards in T and stops at the first temperature where it is the
    RS one; the temperatures above are NaN with status not_computed, and the Dataset says where and why."""
    import xarray as xr

    from densehebb.phase_diagrams import diagram
    from densehebb.theory import Result, Status

    seq = [Status.CONVERGED] * 3 + [Status.RSB_MERGES_INTO_RS] + [Status.RS_STABLE_AT_CAPACITY] * 5
    calls = []

    def fake_capacity(spec, T):
        calls.append(T)
        st = seq[len(calls) - 1]
        return Result(spec, "capacity", {"T": T}, {"alpha_c": 0.14 - T, "m_c": 0.9, "q0": 0.5, "q1": 0.9,
                                                   "x": 0.5, "mu": 1.0, "C": 1.0, "alpha_c_rs": 0.138}, st)

    monkeypatch.setattr(L1, "capacity", fake_capacity)
    monkeypatch.setattr(lines, "T_AT", lambda spec, alpha: 0.01)
    ds = diagram._add_rsb1(xr.Dataset({"alpha_c_T0": ((), 0.138)}), Model(P=2, ansatz="1rsb"))
    st = ds["status_1rsb"].values
    assert len(calls) == 4 and list(st[:4]) == ["converged"] * 3 + ["rsb_merges_into_rs"]
    assert all(s == "not_computed" for s in st[4:]) and np.all(np.isnan(ds["alpha_c_1rsb"].values[4:]))
    assert np.allclose(ds["alpha_c_1rsb"].values[:4], 0.14 - ds["T_rsb1"].values[:4])
    assert ds.attrs["rsb1_capacity_rejoins_rs_at_T"] == ds["T_rsb1"].values[3]
    assert "not computed" in ds["status_1rsb"].attrs["not_computed"]
