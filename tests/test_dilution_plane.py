"""The (d, T) phase diagram of the low-storage multitasking network (phase_diagrams.dilution_plane, CLI
``densehebb phase-diagram --K 3 --dilution-plane``).

Checked against: T_c = 1 - d (P = 2) and the paramagnet's linear instability on the grid; independent
``solve_state(..., "global")`` calls at points well inside each region; the T = 0 hierarchical state's
closed form and existence condition, and a NumPy enumeration of the T = 0 sign map for where it stops being
the global minimum; the Landau threshold d = 2/3 just below T_c; (slow) the P = 2 pure -> hierarchical
boundary of the global minimum against the analytic instability line of the pure state.
"""
import itertools
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from densehebb.phase_diagrams import dilution_plane as dp
from densehebb.theory import Model, Status
from densehebb.theory import multitask as mt

CODE = dp.CODE


def low(P, d):
    return Model(P=P, storage="low", dilution=float(d))


@pytest.fixture(scope="module")
def coarse():
    """P = 2, K = 3 on a coarse grid (fast); d = 0, 0.15, ..., 0.9; T = 0, 0.1375, ..., 1.1."""
    return dp.dilution_diagram(2, 3, n_d=7, n_T=9, d_max=0.9, n_random=8)


# ------------------------------------------------------------------------------------ T_c
def test_P2_Tc_line_is_one_minus_d_and_the_grid_agrees(coarse):
    d, T = coarse["d"].values, coarse["T"].values
    assert np.allclose(coarse["T_c"].values, 1.0 - d, atol=1e-12, rtol=0)
    assert np.allclose(coarse["T_spinodal"].values, 1.0 - d, atol=1e-12, rtol=0)   # continuous at P = 2
    ph = coarse["phase"].values
    for i in range(d.size):
        for j in range(T.size):
            if abs(T[j] - (1 - d[i])) < 1e-9:
                continue
            assert (ph[i, j] == CODE["paramagnetic"]) == (T[j] > 1 - d[i]), (d[i], T[j], ph[i, j])
    # off the grid, 2% on either side of 1 - d: retrieval below (small amplitudes: a continuous transition),
    # the paramagnet above
    x = np.array([0.2, 0.5, 0.8])
    below = dp.global_minimum(2, 3, x, 0.98 * (1 - x), n_random=4)
    above = dp.global_minimum(2, 3, x, 1.02 * (1 - x), n_random=4)
    assert np.all(below["phase"] != CODE["paramagnetic"]) and np.all(above["phase"] == CODE["paramagnetic"])
    assert np.all(below["m"][:, 0] < 0.3 * (1 - x))


def test_attrs_flags_and_variables(coarse):
    ds = coarse
    a = ds.attrs
    assert a["P"] == 2 and a["K"] == 3 and a["overlaps"] == "unnormalised" and a["convention"] == "distinct-indices"
    assert a["n_starts"] == 4 + 8 and a["n_random"] == 8 and a["start_names"].split()[0] == "hierarchical"
    assert ds["phase"].attrs["flag_meanings"].split() == list(dp.PHASES)
    assert list(ds["phase"].attrs["flag_values"]) == list(range(len(dp.PHASES)))
    assert ds["m"].dims == ("d", "T", "level") and ds.sizes["level"] == 3
    for v in ("f", "n_condensed", "stable", "T_c", "T_spinodal", "T_pure_unstable", "d_hierarchy_end",
              "d_parallel_start", "d_pure_end", "d_hierarchical_exists_T0", "d_hierarchical_global_T0",
              "d_landau"):
        assert v in ds and ds[v].attrs.get("units") and ds[v].attrs.get("long_name"), v
    m = ds["m"].values
    assert np.all(np.diff(m, axis=-1) <= 1e-15)                       # sorted descending
    assert np.all(m <= (1 - ds["d"].values)[:, None, None] + 1e-12)   # unnormalised: at most 1 - d
    assert not np.any(ds["phase"].values == CODE["none"])
    assert np.all(ds["stable"].values == 1)
    assert np.nanmax(ds["residual"].values) <= mt.TOL


# ------------------------------------------------------------------------------------ independent global solves
# points well inside each region of the P = 2, K = 3 diagram (docs/theory.md figure)
INSIDE = [(0.2, 0.5, "pure"), (0.4, 0.05, "hierarchical"), (0.85, 0.08, "parallel"), (0.5, 0.7, "paramagnet"),
          (0.64, 0.305, "mixture-2")]


def test_phase_inside_each_region_equals_an_independent_global_solve():
    d = np.array([x[0] for x in INSIDE])
    T = np.array([x[1] for x in INSIDE])
    g = dp.global_minimum(2, 3, d, T)
    for k, (x, t, name) in enumerate(INSIDE):
        r = mt.solve_state(low(2, x), 3, t, "global")
        assert r.status is Status.CONVERGED
        assert r.values["found"] == name, (x, t, r.values["found"])
        assert mt.classify(g["m"][k]) == name, (x, t, g["m"][k])
        assert np.allclose(g["m"][k], r.m, atol=1e-9) and g["f"][k] == pytest.approx(r.f, abs=1e-12)
        assert g["n_starts"] == r.inputs["n_starts"]


def test_coarse_grid_cells_equal_independent_global_solves(coarse):
    d, T = coarse["d"].values, coarse["T"].values
    for i, j in ((1, 4), (2, 1), (6, 1), (3, 0), (5, 2), (2, 8)):
        r = mt.solve_state(low(2, d[i]), 3, T[j], "global", n_random=8)
        assert r.status is Status.CONVERGED
        want = dp.phase_of(r.m)
        assert coarse["phase"].values[i, j] == want, (d[i], T[j], r.values["found"])
        assert coarse["f"].values[i, j] == pytest.approx(r.f, abs=1e-10)


# ------------------------------------------------------------------------------------ T = 0
def _sign_map_T0(m, d, P=2):
    """Independent NumPy: m_mu <- E_xi[xi_mu sign(h)], h = sum_nu xi_nu m_nu^(P-1)/(P-1)! over {-1,0,1}^K."""
    K = m.size
    out = np.zeros(K)
    for xi in itertools.product((-1, 0, 1), repeat=K):
        xi = np.array(xi, float)
        w = np.prod(np.where(xi == 0, d, (1 - d) / 2))
        out += w * xi * np.sign(xi @ m ** (P - 1) / math.factorial(P - 1))
    return out


def test_T0_hierarchical_boundary_closed_form_and_where_it_stops_being_global(coarse):
    dE = float(coarse["d_hierarchical_exists_T0"])
    assert dE == pytest.approx((math.sqrt(5) - 1) / 2, abs=1e-12)            # P = 2, K = 3: 1 - 2d + d^3 = 0
    for x, exists in ((dE - 0.01, True), (dE + 0.01, False)):
        closed = (1 - x) * x ** np.arange(3)
        assert np.allclose(_sign_map_T0(closed, x), closed, atol=1e-14) == exists
    # K = 2 and P = 3 (1 - 2D + D^K = 0, D = d^(P-1))
    assert dp.dilution_diagram.__module__ and mt.hierarchical_boundary_T0(2, 2) == 1.0
    D = mt.hierarchical_boundary_T0(3, 4) ** 2
    assert 1 - 2 * D + D ** 4 == pytest.approx(0, abs=1e-12)
    # where the continued hierarchical state stops being the global minimum (P = 2, K = 3, T = 0)
    dG = float(coarse["d_hierarchical_global_T0"])
    assert 0.5 < dG < dE and dG == pytest.approx(0.54692, abs=2e-4)
    for x, glob in ((dG - 0.005, True), (dG + 0.005, False)):
        g = dp.global_minimum(2, 3, [x], [0.0], n_random=8)
        closed = (1 - x) * x ** np.arange(3)
        assert bool(g["hier_global"][0]) == glob
        # the winner is a fixed point of the T = 0 sign map; at T = 0, P = 2 f = -(1/2) sum m^2
        mg = g["m"][0]
        assert np.allclose(_sign_map_T0(mg, x), mg, atol=1e-14)
        assert g["f"][0] == pytest.approx(-0.5 * np.sum(mg ** 2), abs=1e-14)
        if glob:
            assert np.allclose(mg, closed, atol=1e-14)
        else:
            assert -0.5 * np.sum(mg ** 2) < -0.5 * np.sum(closed ** 2) - 1e-6
            assert not np.allclose(mg, closed, atol=1e-6)


# ------------------------------------------------------------------------------------ Landau
@pytest.mark.parametrize("K", [3, pytest.param(2, marks=pytest.mark.slow), pytest.param(4, marks=pytest.mark.slow)])
def test_landau_threshold_region_near_Tc(K, coarse):
    # just below T_c = 1 - d the global minimum is the pure state for d < 2/3 and the parallel state above,
    # whatever K (the Landau threshold is K-independent); the diagram marks d = 2/3
    d = np.array([0.55, 0.62, 0.71, 0.78])
    g = dp.global_minimum(2, K, d, 0.97 * (1 - d), n_random=8)
    names = [mt.classify(m) for m in g["m"]]
    assert names == ["pure", "pure", "parallel", "parallel"], (K, names)
    assert float(coarse["d_landau"]) == pytest.approx(2 / 3, abs=1e-15)


@pytest.mark.slow
def test_P2_K3_full_diagram_lines():
    """The default grid (the CLI's): the pure -> hierarchical boundary of the global minimum lies on the pure
    state's analytic instability line (a continuous transition), the strict hierarchy ends before the
    parallel phase starts, and near T_c both lines end at the Landau threshold 2/3."""
    ds = dp.dilution_diagram(2, 3)
    T, dpe = ds["T"].values, ds["d_pure_end"].values
    rows = np.flatnonzero(np.isfinite(dpe) & (T > 0.03) & (T < 0.3))
    assert rows.size > 8
    T_line = np.array([mt.pure_instability_temperature(float(x)) for x in dpe[rows]])
    assert np.max(np.abs(T_line - T[rows])) < 2e-3
    he, ps = ds["d_hierarchy_end"].values, ds["d_parallel_start"].values
    both = np.isfinite(he) & np.isfinite(ps)
    assert both.sum() > 5 and np.all(he[both] <= ps[both] + 1e-4)
    # the highest row below 0.95 T_c(2/3) (closer to T_c the states' f differ by less than the 1e-12 tie
    # tolerance and the first start wins): the parallel phase starts near 2/3 there
    ok = np.isfinite(ps) & (T < 0.95 / 3)
    j = int(np.flatnonzero(ok)[-1])
    assert T[j] > 0.28 and abs(ps[j] - 2 / 3) < 0.02, (T[j], ps[j])
    assert "m1=m2>m3" in ds.attrs["other_states"]


# ------------------------------------------------------------------------------------ CLI
def test_cli_writes_netcdf_and_png_with_attrs(tmp_path, capsys):
    from densehebb.phase_diagrams.cli import main

    out, png = tmp_path / "x.nc", tmp_path / "x.png"
    rc = main(["phase-diagram", "--P", "2", "--K", "3", "--dilution-plane", "--n-d", "5", "--n-T", "5",
               "--n-random", "4", "--out", str(out), "--png", str(png), "--json", "--quiet"])
    assert rc == 0
    s = json.loads(capsys.readouterr().out)
    assert s["K"] == 3 and s["n_d"] == 5 and s["n_starts"] == 4 + 4 and s["overlaps"] == "unnormalised"
    assert out.stat().st_size > 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ds = xr.load_dataset(out, engine="scipy")
    assert ds.attrs["K"] == 3 and ds.attrs["P"] == 2 and "dilution-plane" in ds.attrs["command"]
    assert ds.attrs["overlaps"] == "unnormalised" and ds.attrs["convention"] == "distinct-indices"
    assert ds["phase"].attrs["flag_meanings"].split() == list(dp.PHASES)
    assert np.allclose(ds["T_c"].values, 1 - ds["d"].values)


def test_cli_limits_match_library():
    from densehebb.phase_diagrams import cli
    assert cli.K_PLANE == dp.K_DIAGRAM


@pytest.mark.parametrize("args,msg", [
    (("--K", "3"), "--K applies with --dilution-plane only"),
    (("--dilution-plane",), "needs --K"),
    (("--dilution-plane", "--K", "7"), "--K must lie in 2..6"),
    (("--dilution-plane", "--K", "1"), "--K must lie in 2..6"),
    (("--dilution-plane", "--K", "3", "--dataset", "supervised", "--r", "0.5", "--M", "3"), "--dataset does not"),
    (("--dilution-plane", "--K", "3", "--ansatz", "1rsb"), "--ansatz 1rsb does not apply"),
    (("--dilution-plane", "--K", "3", "--plane", "M-T"), "--plane does not apply"),
    (("--dilution-plane", "--K", "3", "--d-max", "1"), "--d-max must lie in (0, 1)"),
    (("--n-d", "9"), "--n-d applies with --dilution-plane only"),
    (("--dilution-plane", "--K", "3", "--n-T", "2"), "n-T must be >= 3"),
])
def test_cli_dilution_plane_bad_input(args, msg, capsys, tmp_path):
    from densehebb.phase_diagrams.cli import main

    with pytest.raises(SystemExit) as e:
        raise SystemExit(main(["phase-diagram", "--out", str(tmp_path / "x.nc"), *args]))
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("densehebb: error:") and msg in err


def test_cli_refusal_happens_before_jax_import():
    code = ("import sys; from densehebb.phase_diagrams.cli import main; "
            "rc = main(['phase-diagram', '--out', 'x.nc', '--dilution-plane', '--K', '9']); "
            "print(rc, 'jax' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.stdout.split() == ["2", "False"], p.stdout + p.stderr
