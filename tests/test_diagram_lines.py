"""Every RS line of the P = 2 and P = 4 phase diagrams is finite exactly where its transition exists.

The datasets are built on modest grids that cross every boundary (reentrance windows, the P = 4 window
without a physical RS competitor, loads beyond the largest capacity, T_AT below float64 range).  Each line
is compared with an independent criterion computed here: plain saddle points on fine grids (dh.solve,
vmapped), the paramagnet's entropy by finite differences, the low-storage spinodal, the small-load
asymptotics of T_AT.  Nothing asserted is typed in.
"""
import math

import numpy as np
import pytest

import densehebb as dh
from densehebb.phase_diagrams import lines as L
from densehebb.phase_diagrams.diagram import phase_diagram

pytestmark = pytest.mark.slow  # the two datasets and the fine scans take minutes on 2 loaded cores

GRIDS = {  # loads and temperatures on both sides of every boundary (inputs, not asserted numbers)
    2: ([5e-4, 0.002, 0.03, 0.0525, 0.06, 0.1381, 0.1384], [0.0, 0.1, 0.5, 0.8, 0.9, 0.95, 1.01]),
    4: ([6.6e-5, 0.005, 0.025, 0.0315, 0.0335, 0.039], [0.0, 0.01, 0.02, 0.035, 0.05, 0.065, 0.085]),
}
N_FINE = 160  # points of the independent scans
LOG_T_MIN = -600.0  # T_AT is searched down to exp(-600) (lines.T_AT)


@pytest.fixture(scope="module", params=[2, 4])
def case(request):
    P = request.param
    spec = dh.Model(P=P)
    alphas, Ts = GRIDS[P]
    return spec, phase_diagram(spec, alphas=alphas, Ts=Ts)


def _delta_f(spec, alpha, T):
    """f_retrieval - f_competitor on a grid (alpha or T an array), the competitor being the lower of the
    spin glass and the paramagnet where its entropy (central finite difference in T) is >= 0; NaN where
    the retrieval state or every competitor is missing."""
    a, t = np.broadcast_arrays(np.asarray(alpha, float), np.asarray(T, float))
    f = {b: _f(spec, a, t, b) for b in ("retrieval", "spin-glass", "paramagnetic")}
    h = 1e-5 * np.maximum(t, 1e-3)
    s_pm = -(_f(spec, a, t + h, "paramagnetic") - _f(spec, a, np.maximum(t - h, 0), "paramagnetic")) / (
        t + h - np.maximum(t - h, 0))
    pm = np.where(s_pm >= 0, f["paramagnetic"], np.nan)
    comp = np.fmin(f["spin-glass"], pm)
    return f["retrieval"] - comp


def _f(spec, a, t, branch):
    a, t = np.atleast_1d(a), np.atleast_1d(t)
    r = dh.solve(spec, a, t, branch)
    ok = np.atleast_1d(np.asarray(r.converged))
    out = np.where(ok, np.atleast_1d(np.asarray(r.f, float)), np.nan)
    if branch == "spin-glass" and out.size > 1:
        # where the default guess misses it (P = 2, T < 1, small alpha: q ~ 1 - T), start from the
        # nearest grid point that converged (continuation along the grid), a few rounds
        raw = np.atleast_2d(np.asarray(r.raw))
        for _ in range(8):
            if ok.all() or not ok.any():
                break
            idx = np.flatnonzero(ok)
            dist = np.abs(a[:, None] - a[None, idx]) + np.abs(t[:, None] - t[None, idx])
            near = idx[dist.argmin(axis=1)]
            r2 = dh.solve(spec, a, t, branch, x0=raw[near])
            ok2 = np.asarray(r2.converged) & ~ok
            out = np.where(ok2, np.asarray(r2.f, float), out)
            raw = np.where(ok2[:, None], np.asarray(r2.raw), raw)
            ok = ok | ok2
    return out


def _crosses(d):
    """True if d changes sign between two neighbouring points where it is defined."""
    d = np.asarray(d)
    ok = np.isfinite(d[:-1]) & np.isfinite(d[1:])
    return bool(np.any(ok & (d[:-1] * d[1:] < 0)))


def _t_spinodal(spec):
    return dh.capacity(spec.replace(storage="low")).T_spinodal


def test_every_line_states_why_it_may_be_nan(case):
    _, ds = case
    for k in ("T_g", "T_M", "T_c", "T_AT", "alpha_c", "m_c", "alpha_Tc", "alpha_c_T0", "alpha_Tc_T0"):
        assert ds[k].attrs["nan_reason"]
    for k in ("alpha_c_T0", "m_c_T0", "alpha_Tc_T0"):
        assert np.isfinite(float(ds[k]))


def test_T_g_finite_and_the_spin_glass_appears_there(case):
    spec, ds = case
    for a, tg in zip(ds.alpha.values, ds["T_g"].values):
        assert np.isfinite(tg)
        if spec.P == 2:
            assert tg == pytest.approx(1 + math.sqrt(a), abs=1e-9)
        assert bool(dh.solve(spec, a, tg * (1 - 1e-4), "spin-glass").converged)


def test_alpha_c_finite_iff_below_the_low_storage_spinodal(case):
    spec, ds = case
    t_sp = _t_spinodal(spec)
    for t, ac, mc in zip(ds["T"].values, ds["alpha_c"].values, ds["m_c"].values):
        assert np.isfinite(ac) == (t < t_sp) == np.isfinite(mc), t
        if np.isfinite(ac):
            assert bool(dh.solve(spec, ac * (1 - 1e-6), t).converged)
            assert not bool(dh.solve(spec, ac * (1 + 1e-6), t).converged)


def test_T_M_finite_iff_below_the_largest_capacity(case):
    spec, ds = case
    t_sp = _t_spinodal(spec)
    ts = np.linspace(0.0, 0.6 * t_sp, 13)
    ac = np.array([L.capacity(spec, t).alpha_c for t in ts])
    i = int(np.nanargmax(ac))
    ts = np.linspace(ts[max(i - 1, 0)], ts[i + 1], 9)  # refine around the peak of the reentrant alpha_c(T)
    a_max = max(np.nanmax(ac), np.nanmax([L.capacity(spec, t).alpha_c for t in ts]))
    for a, tm in zip(ds.alpha.values, ds["T_M"].values):
        assert abs(a / a_max - 1) > 2e-4, "test load too close to the largest capacity"
        assert np.isfinite(tm) == (a < a_max), a
        if np.isfinite(tm):
            assert bool(dh.solve(spec, a, tm * (1 - 1e-6)).converged)
            assert not bool(dh.solve(spec, a, tm * (1 + 1e-6)).converged)


def test_T_c_finite_iff_the_free_energies_cross_along_T(case):
    spec, ds = case
    for a, tm, tc in zip(ds.alpha.values, ds["T_M"].values, ds["T_c"].values):
        if not np.isfinite(tm):
            assert np.isnan(tc)
            continue
        ts = np.linspace(0.0, tm * (1 - 1e-6), N_FINE)
        d = _delta_f(spec, a, ts)
        assert np.isfinite(tc) == _crosses(d), a
        if np.isfinite(tc):
            assert abs(_delta_f(spec, a, np.append(ts, tc))[-1]) < 1e-10
            above = ts > tc + 1e-6
            assert np.all(d[above][np.isfinite(d[above])] > 0)  # the upper end of the window
            # the same curve seen along alpha
            assert L.alpha_Tc(spec, tc) == pytest.approx(a, abs=1e-8)


def test_alpha_Tc_finite_iff_the_free_energies_cross_along_alpha(case):
    spec, ds = case
    for t, ac, atc in zip(ds["T"].values, ds["alpha_c"].values, ds["alpha_Tc"].values):
        if not np.isfinite(ac):
            assert np.isnan(atc)
            continue
        al = np.linspace(1e-6, ac * (1 - 1e-6), N_FINE)
        # a ladder of loads down from a larger one seeds the spin glass's continuation along the grid
        ladder = np.geomspace(10 * float(ds["alpha_c_T0"]), ac, 8)
        d = _delta_f(spec, np.concatenate([ladder, al]), t)[ladder.size:]
        assert np.isfinite(atc) == _crosses(d), t
        if np.isfinite(atc):
            assert abs(_delta_f(spec, np.concatenate([ladder, al, [atc]]), t)[-1]) < 1e-10
            tc = L.T_c(spec, atc)
            if tc == pytest.approx(t, abs=1e-3):  # single-valued part: both directions give the same point
                assert tc == pytest.approx(t, abs=1e-8)


def test_alpha_Tc_follows_T_c_where_no_competitor_gap(case):
    """Wherever some T_c(alpha) on a fine alpha grid lies above T (and the crossing is not hidden in the
    P >= 3 window without an RS competitor), alpha_Tc(T) is finite."""
    spec, ds = case
    t_max = np.nanmax([L.T_c(spec, a) for a in np.geomspace(1e-4, 0.5 * float(ds["alpha_Tc_T0"]), 7)])
    for t, atc in zip(ds["T"].values, ds["alpha_Tc"].values):
        if t > t_max:
            assert np.isnan(atc), t
        elif spec.P == 2:
            assert np.isfinite(atc), t


def test_T_AT_finite_iff_above_float64_range_and_the_replicon_changes_sign(case):
    spec, ds = case
    P = spec.P
    for a, tm, tat in zip(ds.alpha.values, ds["T_M"].values, ds["T_AT"].values):
        if not np.isfinite(tm):
            assert np.isnan(tat)
            continue
        # small-load asymptotics: m -> 1, h = 1/(P-1)!, s^2 = xi'(1), T_AT ~ (4/3) xi''(1) phi(h/s)/s
        h, s2, k = 1 / math.factorial(P - 1), a / math.factorial(P - 1), a / math.factorial(P - 2)
        log_asym = math.log(4 / 3 * k / math.sqrt(2 * math.pi * s2)) - h * h / (2 * s2)
        if abs(log_asym - LOG_T_MIN) < 50:
            continue  # the asymptotic form cannot decide so close to the search floor
        # AT-unstable at the bottom of the retrieval range (T -> 0, or the lower end of the reentrant window)
        ts = np.linspace(0.0, tm * (1 - 1e-6), N_FINE)
        r = dh.solve(spec, a, ts)
        lam = np.asarray(r.replicon, float)[np.asarray(r.converged)]
        assert np.isfinite(tat) == (log_asym > LOG_T_MIN and lam[0] < 0), a
        if np.isfinite(tat):
            lo = float(dh.solve(spec, a, tat * (1 - 1e-6)).replicon)
            hi = float(dh.solve(spec, a, tat * (1 + 1e-6)).replicon)
            assert lo < 0 < hi
            assert float(dh.solve(spec, a, tm * (1 - 1e-6)).replicon) > 0
