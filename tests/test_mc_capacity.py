"""Capacity from simulation: zero-temperature runs started at the patterns, and the finite-size fit."""
import math

import jax
import numpy as np
import pytest
import xarray as xr

import densehebb as dh
from densehebb.montecarlo import capacity, dynamics, energy, patterns


def test_greedy_runs_end_at_fixed_points_and_retrieval_degrades_with_load():
    r = capacity.run_size(jax.random.key(0), dh.Model(), 100, [0.05, 0.12, 0.4], n_samples=4, n_starts=5,
                          max_sweeps=60)
    m = r["m_final"]
    assert m.shape == (3, 4, 5) and list(r["K"]) == [5, 12, 40]
    assert np.all(m[0] == 1.0)                                   # 5 patterns in 100 neurons: all exact minima
    f = (m >= 0.9).mean(axis=(1, 2))
    assert f[0] > f[2] and f[2] < 0.5                            # overloaded network forgets
    assert r["converged"][m >= 0.9].all()                        # retrieved chains are at fixed points


@pytest.mark.slow
def test_greedy_fixed_point_is_a_local_minimum():
    """After a sweep without flips every single flip raises the energy or leaves it equal (dH >= 0)."""
    N, K = 60, 9
    xi = patterns.rademacher(jax.random.key(3), N, K, 1)[0]
    init, step = dynamics.greedy(N, K, P=3)
    st = init(jax.random.key(0), xi[:, 1], xi)
    for _ in range(40):
        before = int(st.accepted)
        st = step(st, xi, np.inf)
        if int(st.accepted) == before:
            break
    assert int(st.accepted) == before
    dH = [float(energy.delta_energy(st.sigma, xi, st.M, i, P=3)) for i in range(N)]
    assert min(dH) >= 0


def _synthetic(alpha_inf=0.14, slope=0.8, Ns=(400, 800, 1600), n_s=40, n_r=16, seed=0):
    """Retrieved (m = 1) or not (m = 0.3) with a logistic probability centred at alpha_c(N)."""
    rng = np.random.default_rng(seed)
    alphas = np.round(np.arange(0.10, 0.2201, 0.01), 3)
    m = np.empty((len(Ns), len(alphas), n_s, n_r))
    for i, N in enumerate(Ns):
        c = alpha_inf + slope / math.sqrt(N)
        p = 1 / (1 + np.exp((alphas - c) / 0.008))
        m[i] = np.where(rng.random((len(alphas), n_s, n_r)) < p[:, None, None], 1.0, 0.3)
    return xr.Dataset({"m_final": (("N", "alpha", "sample", "start"), m)},
                      coords={"N": list(Ns), "alpha": alphas}, attrs={"threshold": 0.9})


def test_extrapolation_recovers_a_known_limit():
    # omega fixed at the true 1/2 with no systematic range: the statistical error alone
    r = capacity.extrapolate(_synthetic(), "auto", exponent=0.5, omega_range=(0.5, 0.5), n_boot=60)
    assert r["status"] == "ok" and r["alpha_c_mc_sys"] == 0 and not r["omega_free"]
    assert abs(r["alpha_c_mc"] - 0.14) < 3 * r["alpha_c_mc_err"] + 1e-3
    assert 0 < r["alpha_c_mc_err"] < 0.01
    for N, c in zip(r["N"], r["alpha_c_N"]):
        assert abs(c - (0.14 + 0.8 / math.sqrt(N))) < 0.005
    # the bimodal synthetic overlaps (1 or 0.3): the automatic criterion finds the dip between them
    assert r["criterion"]["name"] == "histogram-minimum" and all(0.35 < t < 0.95 for t in r["threshold"])
    # fitting the wrong scaling variable is visible in chi^2 or in a biased limit
    r1 = capacity.extrapolate(_synthetic(), exponent=1.0, omega_range=(1.0, 1.0), n_boot=60)
    assert r1["alpha_c_mc"] > 0.145
    # three sizes, default: omega = 1/2 and the spread over [1/3, 1] enters the error, which then covers
    # the truth even when the exponent is wrong
    r2 = capacity.extrapolate(_synthetic(), n_boot=60)
    assert r2["omega"] == 0.5 and r2["omega_err"] is None and r2["alpha_c_mc_sys"] > r2["alpha_c_mc_stat"] * 0.1
    assert r2["alpha_c_mc_err"] == pytest.approx(math.hypot(r2["alpha_c_mc_stat"], r2["alpha_c_mc_sys"]))
    assert r2["alpha_c_mc_err"] > r["alpha_c_mc_err"] and "omega fixed at 0.5" in r2["fit"]


def test_logistic_centre_and_crossing():
    a = np.linspace(0.1, 0.2, 11)
    f = 1 / (1 + np.exp((a - 0.153) / 0.01))
    n = np.full(11, 10**6)
    assert capacity._logistic_fit(a, np.round(f * n), n) == pytest.approx(0.153, abs=2e-4)
    assert capacity._crossing(a, f) == pytest.approx(0.153, abs=2e-3)
    assert math.isnan(capacity._crossing(a, np.ones(11)))


def test_capacity_curve_dataset_and_extrapolation_stats():
    """A tiny curve: the Dataset convention (provenance, units everywhere) and the Stats of the fit."""
    # the configuration of the run_size test above (compiled once)
    ds = capacity.capacity_curve(0, dh.Model(), Ns=(100,), alphas=[0.05, 0.12, 0.4], n_samples=4, n_starts=5,
                                 max_sweeps=60)
    assert ds["m_final"].dims == ("N", "alpha", "sample", "start") and ds["m_final"].shape == (1, 3, 4, 5)
    a = ds.attrs
    assert (a["P"], a["convention"], a["seed"], a["threshold"]) == (2, "distinct-indices", 0, "auto")
    assert a["protocol_name"] == "greedy" and "greedy" in a["dynamics"]
    assert a["version"] == dh.__version__ and a["module"] == "densehebb.montecarlo.capacity_curve"
    for name in list(ds.data_vars) + list(ds.coords):
        assert "units" in ds[name].attrs and "long_name" in ds[name].attrs, name
    r = capacity.extrapolate(ds, n_boot=5)
    st = r["stats"]
    assert [s.mean for s in st["alpha_c_N"]] == r["alpha_c_N"] and st["alpha_c_N"][0].method == "bootstrap"
    assert (st["alpha_c_mc"].mean, st["alpha_c_mc"].error) == (r["alpha_c_mc"], r["alpha_c_mc_err"]) or \
        math.isnan(r["alpha_c_mc"])
    with pytest.raises(NotImplementedError, match="Monte Carlo"):
        capacity.capacity_curve(0, dh.Model(dilution=0.1), Ns=(40,), alphas=[0.1, 0.2, 0.3])


# ----------------------------------------------------------------------- finite-size fit (omega free)
def test_free_exponent_fit_recovers_alpha_c_and_omega():
    """alpha_c(N) = 0.15 + 0.5 N^-0.6 + noise on 7 sizes: omega free recovers both within its errors."""
    rng = np.random.default_rng(3)
    Ns = np.array([50, 100, 200, 400, 800, 1600, 3200])
    err = np.full(len(Ns), 0.001)
    c = 0.15 + 0.5 * Ns ** -0.6 + err * rng.standard_normal(len(Ns))
    r = capacity.fit_finite_size(Ns, c, err)
    assert r["status"] == "ok" and r["omega_free"] and "omega free" in r["fit"]
    assert abs(r["alpha_c_mc"] - 0.15) < 3 * r["alpha_c_mc_err"] and r["alpha_c_mc_err"] < 0.01
    assert abs(r["omega"] - 0.6) < 3 * r["omega_err"] and r["omega_err"] < 0.1
    assert 0 < r["chi2_dof"] < 4
    # the same data with a wrong fixed exponent: the fit is bad (chi^2) and its systematic error is large
    w = capacity.fit_finite_size(Ns, c, err, exponent=1.0)
    assert w["chi2_dof"] > 5 and not w["omega_free"] and w["alpha_c_mc_sys"] > 0.005
    # NaN crossings are dropped; fewer than 2 sizes: no extrapolation, no exception
    one = capacity.fit_finite_size([100, 200], [0.2, math.nan], [0.01, math.nan])
    assert one["status"] == "single-size" and math.isnan(one["alpha_c_mc"])
    # identical weights far apart (the old 'Singular matrix'): a finite answer or 'fit-failed', never a raise
    odd = capacity.fit_finite_size([30, 40, 50], [0.3, 1.2e5, 1.37], [0.06, 1.8e5, 1e-300])
    assert odd["status"] in ("ok", "fit-failed")


# ---------------------------------------------------------------------------- the retrieval criterion
def test_criterion_ignores_stray_chains_and_falls_back_to_the_midpoint():
    rng = np.random.default_rng(0)
    # one broad mode moving with the load (as greedy descent at small N, P = 3) and three stray chains
    m = np.clip(np.linspace(0.97, 0.65, 6)[:, None] + 0.05 * rng.standard_normal((6, 64)), -1, 1)
    m[-1, :3] = 0.15
    ch = capacity.choose_threshold(m)
    assert ch["criterion"] == "midpoint"
    assert ch["threshold"] == pytest.approx(0.5 * (np.median(m[0]) + np.median(m[-1])))
    # two well separated modes: the dip between them
    m2 = np.where(rng.random((6, 64)) < np.linspace(1, 0, 6)[:, None], 0.7, 0.2) + 0.03 * rng.standard_normal((6, 64))
    ch2 = capacity.choose_threshold(m2)
    assert ch2["criterion"] == "histogram-minimum" and 0.3 < ch2["threshold"] < 0.6
    assert 0.15 < ch2["modes"][0] < 0.25 and 0.65 < ch2["modes"][1] < 0.75


def test_p3_criterion_adapts_between_retrieved_and_lost_overlaps():
    """P = 3, N = 40, greedy: the automatic threshold lies between the overlaps of retrieved patterns (small
    load) and lost ones (large load), below the old fixed 0.9, and the retrieved fraction crosses 1/2."""
    alphas = [0.04, 0.12, 0.24, 0.40]
    r = capacity.run_size(jax.random.key(2), dh.Model(P=3), 40, alphas, n_samples=4, n_starts=8, max_sweeps=60)
    m = r["m_final"]
    assert r["converged"][m >= capacity.AUTO_STOP].all()   # threshold unset: chains with m >= 0.5 at fixed points
    ch = capacity.choose_threshold(m)
    lo, hi = np.median(m[-1]), np.median(m[0])
    assert lo + 0.05 < ch["threshold"] < hi - 0.02 and ch["threshold"] < 0.9
    f = (m >= ch["threshold"]).mean(axis=(1, 2))
    assert f[0] > 0.8 and f[-1] < 0.5


# ------------------------------------------------------------------------------------------- protocols
def test_anneal_protocol_runs_the_engine_then_quenches():
    """protocol='anneal': anneal_sweeps Glauber sweeps then the greedy quench to a fixed point; at low load a
    pattern survives a cold anneal (P = 2, alpha = 0.05, from T = 0.1)."""
    r = capacity.run_size(jax.random.key(0), dh.Model(), 100, [0.05, 0.12, 0.4], n_samples=4, n_starts=5,
                          max_sweeps=60, protocol="anneal", anneal_T=0.1, anneal_sweeps=20, anneal_stages=4)
    assert r["sweeps"] > 20 and r["converged"].all()
    assert (r["m_final"][0] >= 0.95).all()
    assert r["m_final"][2].mean() < r["m_final"][0].mean()
    with pytest.raises(ValueError, match="protocol"):
        capacity.run_size(0, dh.Model(), 100, [0.05, 0.1, 0.2], n_starts=2, protocol="slow")
    with pytest.raises(ValueError, match="anneal_stages"):
        capacity.run_size(0, dh.Model(), 100, [0.05, 0.1, 0.2], n_starts=2, protocol="anneal", anneal_sweeps=3,
                          anneal_stages=5)


# -------------------------------------------------------------------------------------- no crossing
def _no_crossing_ds():
    alphas = np.round(np.arange(0.1, 0.31, 0.04), 3)
    m = np.ones((2, len(alphas), 8, 8))
    m[0, -1, 0, 0] = 0.3          # one failure: the old logistic fit ran off to alpha_c(N) ~ 1e5
    return xr.Dataset({"m_final": (("N", "alpha", "sample", "start"), m)},
                      coords={"N": [30, 40], "alpha": alphas}, attrs={"threshold": 0.5})


def test_no_crossing_is_a_status_not_a_number():
    r = capacity.extrapolate(_no_crossing_ds(), n_boot=20)
    assert r["status"] == "no-crossing" and "above 1/2" in r["message"] and "\n" not in r["message"]
    assert r["crossing"] == [False, False] and all(math.isnan(v) for v in r["alpha_c_N"])
    assert math.isnan(r["alpha_c_mc"]) and math.isnan(r["alpha_c_mc_err"])
    ds = _no_crossing_ds()
    ds["m_final"][1] = np.where(np.arange(6)[:, None, None] >= 3, 0.3, 1.0)   # N = 40 crosses at 0.2
    p = capacity.extrapolate(ds, n_boot=20)
    assert p["status"] == "single-size" and p["crossing"] == [False, True] and 0.18 < p["alpha_c_N"][1] < 0.22


def test_cli_bad_input_one_line_errors(capsys):
    from densehebb.phase_diagrams.cli import main as main0

    def main(argv):
        try:
            return main0(argv)
        except SystemExit as e:              # argparse type errors exit from the parser
            return e.code

    base = ["capacity", "--mc", "--P", "3", "--N", "40,60", "--alphas", "0.05,0.1,0.2"]
    for extra, match in ((["--threshold", "abc"], "threshold must be a number"),
                         (["--threshold", "1.5"], "threshold must be <= 1"),
                         (["--omega-range", "0.5"], "--omega-range must be lo,hi"),
                         (["--omega-range", "1,0.5"], "--omega-range must be lo,hi"),
                         (["--protocol", "slow"], "invalid choice"),
                         (["--protocol", "anneal", "--T", "0.5"], "--protocol anneal"),
                         (["--protocol", "anneal", "--anneal-sweeps", "4", "--anneal-stages", "8"], "anneal-stages"),
                         (["--anneal-T", "0"], "anneal-T must be > 0")):
        assert main(base + extra) == 2, extra
        err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
        assert len(err) == 1 and err[0].startswith("densehebb: error:") and match in err[0], (extra, err)
    assert main(["capacity", "--theory"]) == 2
    assert "--theory applies with --mc only" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_no_crossing_writes_data_and_json(tmp_path):
    """A grid of loads where every pattern is retrieved: exit 0, status no-crossing in one stderr line, the
    crossing fields null, the data written."""
    import json
    import subprocess
    import sys

    out = tmp_path / "c.nc"
    p = subprocess.run([sys.executable, "-m", "densehebb.phase_diagrams.cli", "capacity", "--mc", "--P", "3",
                        "--N", "30,40", "--alphas", "0.01,0.015,0.02", "--samples", "3", "--starts", "4",
                        "--bootstrap", "10", "--out", str(out), "--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    for k in ("criterion", "threshold", "fit", "omega", "omega_err", "alpha_c_mc", "alpha_c_mc_err", "status",
              "message", "protocol", "dynamics", "alpha_c_N", "fraction_retrieved"):
        assert k in d, k
    assert d["status"] == "no-crossing" and d["alpha_c_mc"] is None and d["alpha_c_mc_err"] is None
    assert d["alpha_c_N"] == [None, None] and d["protocol"] == "greedy" and len(d["threshold"]) == 2
    err = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(err) == 1 and "no crossing" in err[0]
    ds = xr.open_dataset(out)
    assert ds["m_final"].shape == (2, 3, 3, 4)
    ds.close()
