"""AGS phase diagram: capacity, T_g, T_M, T_c, T_AT and the Dataset (acceptance numbers of issue 2)."""
import math

import numpy as np
import pytest

from densehebb.theory import Model, solve
from densehebb.phase_diagrams import lines as L
from densehebb.phase_diagrams.diagram import phase_diagram
from densehebb.phase_diagrams.io import open_dataset, to_netcdf

SPEC = Model()


@pytest.fixture(scope="module")
def cap0():
    return L.capacity(SPEC, 0.0)


def test_zero_temperature_capacity(cap0):
    assert cap0.converged
    assert cap0.alpha_c == pytest.approx(0.1379, abs=2e-4)
    assert cap0.m_c == pytest.approx(0.967, abs=2e-3)
    # the digits our equations give (AGS RS; Steffan-Kuehn quote 0.137905 for RS)
    assert cap0.alpha_c == pytest.approx(0.137906, abs=2e-6)
    # certified as the end of the retrieval branch to 1e-6
    a = cap0.alpha_c
    assert bool(solve(SPEC, a - 1e-6, 0.0).converged)
    assert not bool(solve(SPEC, a + 1e-6, 0.0).converged)


@pytest.mark.parametrize("alpha", [1e-4, 0.01, 0.05, 0.138, 0.5, 2.0])
def test_spin_glass_line_is_one_plus_sqrt_alpha(alpha):
    Tg = L.T_g(SPEC, alpha)
    assert Tg == pytest.approx(1 + math.sqrt(alpha), abs=1e-6)


def test_spin_glass_branch_appears_below_T_g():
    a = 0.05
    Tg = L.T_g(SPEC, a)
    assert bool(solve(SPEC, a, Tg - 1e-4, "spin-glass").converged)
    assert not bool(solve(SPEC, a, Tg + 1e-4, "spin-glass").converged)


@pytest.mark.slow
def test_T_M_tends_to_one_at_small_load_and_decreases():
    tms = [L.T_M(SPEC, a) for a in (1e-6, 1e-4, 0.01, 0.05, 0.1)]
    assert tms[0] > 0.998 and tms[0] < 1.0
    assert all(np.diff(tms) < 0)


def test_T_M_and_alpha_c_are_the_same_curve():
    a = 0.08
    tm = L.T_M(SPEC, a)
    assert L.capacity(SPEC, tm).alpha_c == pytest.approx(a, abs=1e-7)
    assert bool(solve(SPEC, a, tm - 1e-6).converged)
    assert not bool(solve(SPEC, a, tm + 1e-6).converged)


def test_T_c_meets_zero_temperature_between_0050_and_0053():
    a0 = L.alpha_Tc0(SPEC)
    assert 0.050 < a0 < 0.053
    assert a0 == pytest.approx(0.051854, abs=2e-6)
    fr, fs = solve(SPEC, a0, 0.0, "retrieval").f, solve(SPEC, a0, 0.0, "spin-glass").f
    assert float(fr) == pytest.approx(float(fs), abs=1e-10)


def test_T_c_is_where_free_energies_cross():
    a = 0.03
    tc = L.T_c(SPEC, a)
    assert 0 < tc < L.T_M(SPEC, a)
    for dT, sign in ((-1e-4, -1), (1e-4, 1)):
        d = float(solve(SPEC, a, tc + dT, "retrieval").f) - float(solve(SPEC, a, tc + dT, "spin-glass").f)
        assert np.sign(d) == sign
    assert math.isnan(L.T_c(SPEC, 0.08))  # beyond alpha_Tc0 retrieval is never the global minimum


def test_T_AT_line():
    a = 0.1
    t = L.T_AT(SPEC, a)
    assert 1e-4 < t < 0.01
    assert float(solve(SPEC, a, t * (1 - 1e-6)).replicon) < 0 < float(solve(SPEC, a, t * (1 + 1e-6)).replicon)
    # small-load asymptotics: m -> 1, v -> alpha, C -> 0 give T_AT ~ (4/3) sqrt(alpha) phi(1/sqrt(alpha))
    a = 0.01
    asym = 4 / 3 * math.sqrt(a) * math.exp(-1 / (2 * a)) / math.sqrt(2 * math.pi)
    assert L.T_AT(SPEC, a) == pytest.approx(asym, rel=0.05)


def test_phase_diagram_dataset_roundtrip(tmp_path):
    ds = phase_diagram(SPEC, alphas=[0.02, 0.1], Ts=[0.0, 0.3])
    for k in ("T_g", "T_M", "T_c", "T_AT"):
        assert ds[k].dims == ("alpha",) and "long_name" in ds[k].attrs
    assert ds["alpha_c"].dims == ("T",)
    assert ds.attrs["convention"] == "distinct-indices" and ds.attrs["ansatz"] == "rs"
    for k in ("version", "quadrature_nodes", "solver_tolerance", "P"):
        assert k in ds.attrs
    assert float(ds["T_g"].sel(alpha=0.1)) == pytest.approx(1 + math.sqrt(0.1), abs=1e-6)
    assert math.isnan(float(ds["T_c"].sel(alpha=0.1)))
    p = to_netcdf(ds, str(tmp_path / "pd.nc"))
    back = open_dataset(p)
    np.testing.assert_allclose(back["T_M"].values, ds["T_M"].values)
    assert back.attrs["convention"] == "distinct-indices"
    assert back["alpha"].attrs["units"] == "1"


def test_T_c_line_along_T_shows_rs_reentrance():
    """alpha_Tc(T) starts at alpha_Tc_T0 = 0.05185 at T = 0 and first moves to larger alpha (RS reentrance)."""
    a0 = L.alpha_Tc(SPEC, 0.0)
    a1 = L.alpha_Tc(SPEC, 0.1)
    assert a0 == pytest.approx(0.051854, abs=2e-6)
    assert a1 > a0 + 1e-3
    # consistent with T_c(alpha) where that is single valued
    t = L.T_c(SPEC, 0.03)
    assert L.alpha_Tc(SPEC, t) == pytest.approx(0.03, abs=1e-8)


def _all_roots(g, lo, hi, n_scan):
    """Reference for _max_root: every root of g on [lo, hi] -- the sign changes between finite grid values
    (numerics.scan_roots) and the roots between a finite grid value and the edge of the region where g is
    defined (lines._edge), each refined by brentq."""
    from scipy.optimize import brentq

    from densehebb.theory.numerics import scan_roots

    out = scan_roots(g, lo, hi, n_scan)
    ps = np.linspace(lo, hi, n_scan)
    for a, b in zip(ps[:-1], ps[1:]):
        fa, fb = np.isfinite(g(a)), np.isfinite(g(b))
        if fa == fb:
            continue
        p_in, p_out = (a, b) if fa else (b, a)
        e = L._edge(g, p_in, p_out)
        if e != p_in and g(e) * g(p_in) < 0:
            out.append(brentq(g, min(e, p_in), max(e, p_in), xtol=L.XTOL))
    return sorted(out)


@pytest.mark.parametrize("lo, hi, n", [(0.0, 10.0, 24), (0.3, 9.7, 13), (0.0, 2.0, 24), (8.2, 9.0, 24),
                                      (0.0, 5.0, 24), (0.5, 5.5, 7)])
def test_largest_root_from_the_top_is_the_largest_of_all_roots(lo, hi, n):
    """T_c and alpha_Tc refine the scan's intervals from the top down, up to the first with a root (_max_root); on
    functions with several roots, a NaN window (g undefined, as where RS has no physical competitor) with a
    root just beside its edge, and a root inside the top interval, that is the largest of all the roots
    (_all_roots)."""
    def g(p):
        if 4.05 < p < 5.9:   # undefined window; its lower edge is 0.01 above a root at 4.04
            return float("nan")
        return math.sin(p) * (p - 4.04) * (p - 9.85)
    calls = []
    counted = lambda p: calls.append(p) or g(p)  # noqa: E731
    top = L._max_root(counted, lo, hi, n)
    every = _all_roots(g, lo, hi, n)
    assert (top is None) == (not every)
    if every:
        assert top == max(every)
        assert g(top - 1e-6) * g(top + 1e-6) < 0   # a genuine sign change of g
    if lo == 0.0 and hi == 10.0:
        # the top interval holds the root: beyond the grid, g is evaluated only inside it (no refinement of
        # the roots below, pi, 2 pi, 3 pi and 4.04 beside the window's edge)
        off_grid = set(calls) - set(np.linspace(lo, hi, n))
        assert top == pytest.approx(9.85, abs=1e-11) and off_grid and min(off_grid) > 10.0 * 22 / 23
    if lo == 0.0 and hi == 2.0:
        assert top == 0.0 and every == [0.0]   # g(lo) == 0 exactly: lo itself is the (only) root
    if hi in (5.0, 5.5):
        assert top == pytest.approx(4.04, abs=1e-11)   # found only beside the edge of the NaN window
