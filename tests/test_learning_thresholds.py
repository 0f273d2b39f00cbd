"""Learning from examples: the traced-dataset solver, thresholds in M, capacity and the dataset planes.

Expected values come from independent routes: the static-dataset solver (theory.solve, one compile per (M, r)),
the exact majority vote of the binomial example sum (SciPy, no solver), the exact alpha-scaling of the T = 0
high-storage theory between protocols, and the storage theory at r = 1."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import binom

from densehebb import Examples, Model, capacity, solve
from densehebb.phase_diagrams.cli import main
from densehebb.phase_diagrams.thresholds import example_limit, threshold, threshold_curves
from densehebb.theory.covariance import noise_coefficients
from densehebb.theory.learning import bucket, solve_datasets


def sup(P, M=5, r=0.5, **kw):
    return Model(P=P, examples=Examples(M=M, r=r, supervised=True, **kw))


def unsup(P, M=5, r=0.5, **kw):
    return Model(P=P, examples=Examples(M=M, r=r, supervised=False, **kw))


def test_bucket():
    assert [bucket(n) for n in (1, 8, 9, 16, 17, 100)] == [8, 8, 16, 16, 32, 128]


@pytest.mark.parametrize("spec,alpha,T", [(sup(3), 0.01, 0.02), (unsup(2), 0.02, 0.05)])
def test_traced_dataset_equals_static_solver(spec, alpha, T):
    """One compiled solver for every (M, r) == the static solver compiled for each (M, r)."""
    Ms, rs = np.array([1, 4, 9, 30]), np.array([0.9, 0.6, 0.5, 0.4])
    R = solve_datasets(spec, alpha, T, Ms, rs)
    assert np.all(R.converged)
    for i, (M, r) in enumerate(zip(Ms, rs)):
        s = solve(spec.replace(examples=Examples(M=int(M), r=float(r), supervised=spec.examples.supervised)),
                  alpha, T)
        assert s.converged
        for k in ("m", "n", "q", "f"):
            assert abs(s.values[k] - R.values[k][i]) < 1e-12, (k, M, r)


def test_traced_dataset_refuses_bad_datasets():
    with pytest.raises(ValueError, match="M must be an integer"):
        solve_datasets(sup(3), 0.01, 0.0, 2.5, 0.5)
    with pytest.raises(ValueError, match="r must lie"):
        solve_datasets(sup(3), 0.01, 0.0, 3, 1.5)


def majority(M, r):
    """Exact T = 0, K-finite archetype overlap of the supervised network: P(S > 0) - P(S < 0)."""
    k = np.arange(M + 1)
    w = binom.pmf(k, M, (1 - r) / 2)
    S = M - 2 * k
    return float(w[S > 0].sum() - w[S < 0].sum())


def test_threshold_overlap_low_load_equals_majority_vote():
    """alpha = 0, T = 0: M_min(m*) is where the exact majority vote reaches m* (and stays above it)."""
    r, target = 0.3, 0.8
    ms = np.array([majority(M, r) for M in range(1, 400)])
    ok = ms >= target
    expect = int(np.flatnonzero(~ok)[-1]) + 2          # first M from which every larger M holds
    th = threshold(sup(3), r, alpha=0.0, T=0.0, criterion="overlap", m_target=target, M_max=399)
    assert th.converged
    assert th.M_min == expect
    assert abs(th.m - majority(expect, r)) < 1e-12
    assert abs(th.rho_max - (1 - r * r) / (expect * r * r)) < 1e-15


def test_threshold_overlap_high_storage_brackets_static_solves():
    """alpha > 0: the static solver (one compile per M) confirms M_min - 1 fails and M_min holds."""
    alpha, r, target = 0.05, 0.5, 0.9
    th = threshold(sup(3), r, alpha=alpha, T=0.0, criterion="overlap", m_target=target)
    M0 = int(th.M_min)
    assert M0 > 1
    below = solve(sup(3, M=M0 - 1, r=r), alpha, 0.0)
    at = solve(sup(3, M=M0, r=r), alpha, 0.0)
    assert at.converged and at.m >= target
    assert not (below.converged and below.m >= target)


def test_threshold_batched_over_r_and_not_reached():
    th = threshold(sup(3), np.array([0.35, 0.5, 0.8]), alpha=0.05, T=0.0, criterion="overlap", m_target=0.9)
    M = th.values["M_min"]
    assert np.all(np.isfinite(M)) and M[0] > M[1] > M[2] >= 1      # better examples: fewer needed
    none = threshold(sup(3), 0.2, alpha=0.05, T=0.0, criterion="overlap", m_target=0.9, M_max=5)
    assert not none.converged and none.status.value == "branch_missing" and math.isnan(none.M_min)


def test_example_limit_T0_closed_form_and_small_T():
    """T = 0: the pure example is a fixed point iff (M - 1) r^(2(P-1)) < 1, so example attractors exist at
    least up to that M (beyond it, states with a few sites flipped away from the example can remain); at
    r = 0.6 (P = 3) they end exactly there.  A small T changes the limit by at most a step."""
    P = 3
    for r in (0.4, 0.6):
        pure = max(M for M in range(2, 5000) if (M - 1) * r ** (2 * (P - 1)) < 1)
        m0 = example_limit(unsup(P), r, 0.0)
        assert m0 >= pure
        assert abs(example_limit(unsup(P), r, 1e-3) - m0) <= 1
    assert example_limit(unsup(P), 0.6, 0.0) == 8


def test_capacity_protocols_scale_exactly_at_T0():
    """P >= 3, T = 0, distinct indices: the theory depends on alpha only through alpha c_P (xi = alpha c_P
    q^P), so alpha_c c_P and the overlaps at alpha_c are the same for both protocols."""
    P, M, r = 3, 6, 0.6
    cs, cu = capacity(sup(P, M, r)), capacity(unsup(P, M, r))
    assert cs.converged and cu.converged
    R = r * r + (1 - r * r) / M
    aP = noise_coefficients(P, False)[P]
    c_sup = aP * R ** P / r ** (2 * P)
    c_uns = aP * (1 + (M - 1) * r ** (2 * P)) / (M * r ** (2 * P))
    assert abs(cs.alpha_c * c_sup - cu.alpha_c * c_uns) < 1e-8 * cs.alpha_c * c_sup
    assert abs(cs.m_c - cu.m_c) < 1e-7 and abs(cs.n_c - cu.n_c) < 1e-7
    assert 0 < cs.m_c < cs.n_c


@pytest.mark.slow
def test_capacity_r1_is_storage_capacity():
    """r = 1: the examples are the archetypes, the capacity is the storage one (alpha_c, m_c)."""
    for spec in (sup(3, M=3, r=1.0), unsup(3, M=3, r=1.0)):
        c = capacity(spec)
        c0 = capacity(Model(P=3))
        assert abs(c.alpha_c - c0.alpha_c) < 1e-9 and abs(c.m_c - c0.m_c) < 1e-9 and abs(c.n_c - c0.m_c) < 1e-9


def test_cli_threshold_and_capacity(capsys):
    assert main(["threshold", "--P", "3", "--dataset", "supervised", "--r", "0.3", "--criterion", "overlap",
                 "--m-target", "0.8", "--M-max", "399", "--json", "--quiet"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["criterion"] == "overlap" and isinstance(rec["M_min"], int)
    assert rec["convention"] == "distinct-indices" and rec["dataset"] == "supervised"
    assert abs(rec["rho_max"] - (1 - 0.09) / (rec["M_min"] * 0.09)) < 1e-12
    assert main(["capacity", "--P", "3", "--dataset", "supervised", "--r", "0.6", "--M", "6", "--json",
                 "--quiet"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert {"alpha_c", "m_c", "n_c", "dataset", "r", "M", "rho", "convention"} <= set(rec)
    assert rec["M"] == 6 and rec["r"] == 0.6


@pytest.mark.parametrize("argv,msg", [
    (["threshold", "--P", "3", "--dataset", "supervised", "--r", "0.5", "--m-target", "0.8"], "--m-target"),
    (["threshold", "--P", "3", "--dataset", "supervised", "--r", "1.5"], "r"),
    (["threshold", "--P", "3", "--dataset", "none", "--r", "0.5"], "dataset"),
    (["threshold", "--P", "3", "--dataset", "supervised"], "--r"),
    (["capacity", "--P", "3", "--dataset", "supervised", "--r", "0.5"], "--M"),
    (["capacity", "--P", "3", "--dataset", "supervised", "--r", "0.5", "--M", "3", "--ansatz", "1rsb"], "replica"),
    (["capacity", "--P", "3", "--dataset", "supervised", "--r", "0.5", "--M", "3", "--low-storage"], "high-storage"),
    (["capacity", "--P", "3", "--dataset", "supervised", "--r", "0.5", "--M", "0"], "M"),
    (["threshold", "--P", "2,3", "--dataset", "supervised", "--r", "0.5"], "--out"),
    (["threshold", "--P", "3,9", "--dataset", "supervised", "--r", "0.5", "--out", "x.nc"], "P must be <= 8"),
    (["threshold", "--P", "3", "--dataset", "supervised", "--r", "0.3,0", "--out", "x.nc"], "r must lie"),
    (["threshold", "--P", "3", "--dataset", "supervised", "--r", "0.5", "--png", "x.png"], "--out"),
    (["threshold", "--P", "3", "--dataset", "supervised", "--r", "0.5", "--out", "x.txt"], "netCDF"),
])
def test_cli_bad_input_one_line(argv, msg, capsys):
    try:
        code = main(argv)                 # validation errors return 2
    except SystemExit as e:              # argparse errors exit 2
        code = e.code
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert msg in err and len(err.splitlines()) == 1


def test_dataset_plane_lines_bracket_static_solves(tmp_path):
    """(M, T) plane at alpha = 0: T_M from the traced fold Newton; the static solver finds the archetype state
    just below it and not just above; T_c <= T_M; the phase map and m agree with the lines."""
    from densehebb.phase_diagrams.dataset_plane import dataset_diagram, plot_dataset_diagram

    spec = sup(3, M=4, r=0.6)
    ds = dataset_diagram(spec, alpha=0.0, plane="M-T", Ms=[1, 3, 10])
    assert ds.attrs["convention"] == "distinct-indices" and ds.attrs["plane"] == "M-T"
    assert np.all(ds["T_M_method"].values == 0)
    for M, tm, tc in zip(ds["M"].values, ds["T_M"].values, ds["T_c"].values):
        s = sup(3, M=int(M), r=0.6)
        assert solve(s, 0.0, tm * (1 - 1e-6)).converged and not solve(s, 0.0, tm * (1 + 1e-6)).converged
        assert 0 < tc < tm
    ph, T = ds["phase"].values, ds["T"].values
    assert np.all((ph == 1) == (T[None, :] < ds["T_c"].values[:, None]))
    assert np.all(np.isfinite(ds["m"].values) == (T[None, :] < ds["T_M"].values[:, None]))
    plot_dataset_diagram(ds, tmp_path / "plane.png")
    assert (tmp_path / "plane.png").stat().st_size > 1000


def test_threshold_curves_low_load_are_the_majority_vote_for_every_P(tmp_path, capsys):
    """Curves M_min(r) for several P through the CLI (netCDF + PNG): alpha = 0, T = 0 the supervised
    archetype overlap is the majority vote P(S > 0) - P(S < 0) whatever P, so every row equals the SciPy
    majority-vote threshold; attrs carry protocol, criterion and convention."""
    import xarray as xr

    rs, target = [0.3, 0.6], 0.8
    out, png = tmp_path / "thr.nc", tmp_path / "thr.png"
    assert main(["threshold", "--P", "2,3,4", "--dataset", "supervised", "--r", ",".join(map(str, rs)),
                 "--criterion", "overlap", "--m-target", str(target), "--M-max", "300", "--out", str(out),
                 "--png", str(png), "--json", "--quiet"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert png.stat().st_size > 10_000
    ds = xr.open_dataset(out)
    assert ds["M_min"].dims == ("P", "r") and list(ds["P"].values) == [2, 3, 4]
    for j, r in enumerate(rs):
        ms = np.array([majority(M, r) for M in range(1, 301)])
        expect = int(np.flatnonzero(ms < target)[-1]) + 2
        assert np.all(ds["M_min"].values[:, j] == expect)
        assert rec["M_min"][0][j] == expect
    assert ds.attrs["protocol"] == "supervised" and ds.attrs["criterion"] == "overlap"
    assert ds.attrs["convention"] == "distinct-indices" and ds.attrs["m_target"] == target
    assert ds["M_min"].attrs["long_name"].startswith("threshold")


def test_threshold_curves_equal_single_thresholds_at_load():
    """At alpha > 0 each row of the curves is the single-P threshold (P enters through the load noise)."""
    rs = np.array([0.5, 0.8])
    ds = threshold_curves(sup(2), [2, 4], rs, alpha=0.02, criterion="overlap", m_target=0.9, M_max=400)
    for i, P in enumerate((2, 4)):
        th = threshold(sup(P), rs, alpha=0.02, criterion="overlap", m_target=0.9, M_max=400)
        assert np.array_equal(ds["M_min"].values[i], th.values["M_min"])
    assert ds["M_min"].values[1, 0] != ds["M_min"].values[0, 0] or ds["M_min"].values[1, 1] != ds["M_min"].values[0, 1]


@pytest.mark.parametrize("P,r", [(3, 0.5), (4, 0.6), (3, 0.3)])
def test_unsupervised_global_threshold_beats_the_example_attractors(P, r):
    """Unsupervised, alpha = 0, T = 0: the archetype state has f = -x^P/(P! Norm), x = E|S|/M, and the pure
    example (a T = 0 fixed point while (M - 1) r^(2(P-1)) < 1) f = -(1 + (M - 1) r^(2P))/(P! M Norm), both
    closed forms (SciPy binomial, no solver); the `global` threshold is the first M from which the archetype
    wins.  Without the example competitor it would be M = 1."""
    Ms = np.arange(2, 400)
    wins = []
    for M in Ms:
        k = np.arange(M + 1)
        x = float(np.sum(binom.pmf(k, M, (1 - r) / 2) * np.abs(M - 2 * k))) / M
        wins.append(x ** P > (1 + (M - 1) * r ** (2 * P)) / M)
    expect = int(Ms[np.flatnonzero(~np.array(wins))[-1]] + 1)
    assert (expect - 1) * r ** (2 * (P - 1)) < 1        # the pure example still exists just below it
    th = threshold(unsup(P), r, alpha=0.0, T=0.0, criterion="global", M_max=399)
    assert th.converged and th.M_min == expect
    assert threshold(sup(P), r, alpha=0.0, T=0.0, criterion="global", M_max=399).M_min == 1
