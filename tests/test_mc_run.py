"""simulate / summarize -- structure, provenance, determinism, validation, physics."""
import math

import jax
import numpy as np
import pytest
import scipy.optimize
import xarray as xr

import densehebb as dh
import densehebb.montecarlo as montecarlo
from densehebb.montecarlo import stats

HOPFIELD = dh.Model(P=2)
SMALL = dict(N=40, K=3, T=[0.5, 2.0], n_samples=2, n_replicas=2, sweeps=60, burn_in=20, measure_every=2)


def same(a, b):
    """Identical Datasets up to the creation time."""
    a, b = a.copy(), b.copy()
    for d in (a, b):
        d.attrs.pop("created", None)
    return a.identical(b)


@pytest.fixture(scope="module")
def small():
    return montecarlo.simulate(7, HOPFIELD, **SMALL)


def test_dataset_structure_and_provenance(small):
    ds = small
    assert dict(ds.sizes) == {"T": 2, "sample": 2, "replica": 2, "block": 10, "pattern": 3, "q_bin": 41,
                              "lag": 20, "T_pair": 1}
    # the engine's axis order: (sample, T, replica)
    for name in ("m", "m_abs", "m_max", "energy", "acceptance"):
        assert ds[name].dims == ("sample", "T", "replica") and ds[name].dtype == np.float64
    for name in ("q", "q_abs"):
        assert ds[name].dims == ("sample", "T")
    assert ds["mattis"].dims == ("sample", "T", "replica", "pattern")
    assert ds["P_q"].dims == ("sample", "T", "q_bin")
    assert ds["acf_energy"].dims == ("T", "lag") and ds["tau_m"].dims == ("T",)
    np.testing.assert_allclose(ds.P_q.sum("q_bin"), 1.0)
    np.testing.assert_allclose(ds.mattis.isel(pattern=0), ds.m, rtol=0, atol=1e-13)  # init="pattern"
    assert np.all(ds.m_max >= ds.m_abs - 1e-12)
    assert np.isnan(ds.swap_acceptance).all()  # no tempering
    for name in list(ds.data_vars) + list(ds.coords):
        assert "long_name" in ds[name].attrs and "units" in ds[name].attrs, name
    a = ds.attrs
    assert a["package"] == "densehebb" and a["convention"] == "distinct-indices"
    # the standard provenance: version from the package metadata, the Model, the conventions reference
    assert a["version"] == dh.__version__ and a["conventions_reference"] == "docs/conventions.md"
    assert a["storage"] == "high" and "noise_covariance" in a and "ansatz" not in a
    assert a["module"] == "densehebb.montecarlo.simulate" and a["command"] and a["created"]
    assert (a["P"], a["N"], a["K"], a["alpha"]) == (2, 40, 3, 3 / 40)
    assert a["delta_energy_exact"] == 1 and "int32" in a["delta_energy_arithmetic"]
    assert a["n_devices"] >= 1 and a["version"]
    assert (a["dynamics"], a["init"], a["sweeps"], a["burn_in"], a["n_measurements"]) == \
        ("glauber", "pattern", 60, 20, 20)
    assert a["seed"] == 7
    assert int(ds["block_size"].sum()) == 20
    # block averages are consistent with the overall time averages
    np.testing.assert_allclose((ds.m_blocks * ds.block_size).sum("block") / 20, ds.m, atol=1e-12)
    np.testing.assert_allclose((ds.q_blocks * ds.block_size).sum("block") / 20, ds.q, atol=1e-12)
    assert np.all((ds.acceptance >= 0) & (ds.acceptance <= 1))
    assert np.all(np.abs(ds.m) <= 1) and np.all(ds.m_abs >= np.abs(ds.m) - 1e-12)
    assert np.all(ds.q_abs >= np.abs(ds.q) - 1e-12)


def test_netcdf_roundtrip(small, tmp_path):
    path = tmp_path / "mc.nc"
    small.to_netcdf(path)
    with xr.open_dataset(path) as back:
        np.testing.assert_array_equal(back.m.values, small.m.values)
        assert back.attrs["convention"] == small.attrs["convention"]


def test_same_seed_same_result_different_seed_differs(small):
    again = montecarlo.simulate(7, HOPFIELD, **SMALL)
    assert same(again, small)
    as_key = montecarlo.simulate(jax.random.key(7), HOPFIELD, **SMALL)
    np.testing.assert_array_equal(as_key.m.values, small.m.values)
    raw = montecarlo.simulate(jax.random.PRNGKey(7), HOPFIELD, **SMALL)  # legacy uint32 key
    np.testing.assert_array_equal(raw.q.values, small.q.values)
    assert raw.attrs["prng_key_data"] == small.attrs["prng_key_data"]
    other = montecarlo.simulate(8, HOPFIELD, **SMALL)
    assert not np.array_equal(other.energy.values, small.energy.values)
    # the public entry point is dh.simulate; the Model is hashable and only its P and convention matter
    via_dh = dh.simulate(7, HOPFIELD.replace(ansatz="1rsb"), **SMALL)
    for name in small.data_vars:
        np.testing.assert_array_equal(via_dh[name].values, small[name].values)


@pytest.mark.slow
def test_adding_samples_keeps_existing_chains():
    kw = dict(SMALL, T=[0.5], sweeps=30, burn_in=10, measure_every=1)
    a = montecarlo.simulate(3, HOPFIELD, **dict(kw, n_samples=1))
    b = montecarlo.simulate(3, HOPFIELD, **dict(kw, n_samples=2))
    np.testing.assert_array_equal(a.energy.isel(sample=0).values, b.energy.isel(sample=0).values)


@pytest.mark.slow
def test_metropolis_all_tuples_random_init():
    ds = montecarlo.simulate(1, dh.Model(P=2, convention="all-tuples"), N=30, alpha=0.1, T=[0.0, 1.0],
                             n_samples=1, n_replicas=3, sweeps=20, burn_in=5, dynamics="metropolis", init="random")
    assert ds.attrs["convention"] == "all-tuples" and ds.attrs["K"] == 3
    assert ds.attrs["alpha_requested"] == 0.1
    assert np.all(np.isfinite(ds.energy)) and np.all(np.isfinite(ds.q))
    # random start: chains are not at the pattern
    assert np.all(np.abs(ds.m.sel(T=1.0)) < 0.9)


# ------------------------------------------------------------------------------------------- summarize
def test_summarize_per_temperature(small):
    s = montecarlo.summarize(small)
    assert set(s) == {0.5, 2.0}
    keys = {"m", "m_err", "q", "q_err", "energy", "energy_err", "acceptance", "q_abs", "m_abs", "tau_energy",
            "tau_m", "m_max"}
    for T, d in s.items():
        assert keys <= set(d) and d["T"] == T and d["n_chains"] == 4
        assert d["error_method_chains"] == "samples" and d["error_method_q"] == "samples"
        assert all(math.isfinite(d[k]) for k in keys)
        assert isinstance(d["equilibrated"], bool)
    # errors come from disorder samples: replicas are averaged within each sample first
    per_sample = small.m.sel(T=0.5).values.mean(axis=1)
    assert s[0.5]["m"] == pytest.approx(per_sample.mean())
    assert s[0.5]["m_err"] == pytest.approx(per_sample.std(ddof=1) / np.sqrt(2))
    qs = small.q.sel(T=0.5).values
    assert s[0.5]["q_err"] == pytest.approx(qs.std(ddof=1) / np.sqrt(2))


@pytest.mark.slow
def test_summarize_single_chain_uses_blocking():
    ds = montecarlo.simulate(2, HOPFIELD, N=30, K=2, T=0.5, n_samples=1, n_replicas=1, sweeps=50, burn_in=10)
    s = montecarlo.summarize(ds)  # single temperature -> flat dict
    assert s["T"] == 0.5 and s["n_chains"] == 1
    assert s["error_method_chains"] == "blocking" and math.isfinite(s["m_err"])
    assert np.isnan(ds.P_q).all()  # one replica: no pairs
    assert s["m_err"] == pytest.approx(ds.m_blocks.values.std(ddof=1) / np.sqrt(10))
    assert math.isnan(s["q"]) and math.isnan(s["q_err"]) and s["error_method_q"] == "unavailable"
    one_block = montecarlo.summarize(montecarlo.simulate(2, HOPFIELD, N=30, K=2, T=0.5, n_samples=1,
                                                         n_replicas=1, sweeps=50, burn_in=10, n_blocks=1))
    assert math.isnan(one_block["m_err"]) and one_block["error_method_chains"] == "none"


# ------------------------------------------------------------------------------------------ validation
BASE = dict(N=20, K=2, T=[1.0], sweeps=10, burn_in=2)


@pytest.mark.parametrize("bad, match", [
    (dict(N=1), "N must be >= 2"),
    (dict(N=10.5), "N must be an integer"),
    (dict(K=None), "give the load"),
    (dict(K=None, alpha=-0.1), "alpha must be a finite number >= 0"),
    (dict(K=None, alpha=float("nan")), "alpha must be a finite"),
    (dict(K=None, alpha=0.01), "at least one pattern"),
    (dict(K=0), "K must be >= 1"),
    (dict(K=3, alpha=0.5), "inconsistent"),
    (dict(T=[-0.1]), "finite and >= 0"),
    (dict(T=[float("inf")]), "finite and >= 0"),
    (dict(T=[float("nan")]), "finite and >= 0"),
    (dict(T=[]), "non-empty"),
    (dict(T=[1.0, 1.0]), "distinct"),
    (dict(T="hot"), "T must be"),
    (dict(sweeps=2), "must exceed burn_in"),
    (dict(burn_in=-1), "burn_in must be >= 0"),
    (dict(measure_every=0), "measure_every must be >= 1"),
    (dict(measure_every=3), "multiple of"),
    (dict(n_samples=0), "n_samples must be >= 1"),
    (dict(n_replicas=0), "n_replicas must be >= 1"),
    (dict(dynamics="wolff"), "unknown dynamics"),
    (dict(init="hot"), "unknown init"),
    (dict(model=2), "model must be a densehebb.Model"),
    (dict(dynamics="greedy"), "use T = 0"),
    (dict(tempering=True), "at least 2 temperatures"),
    (dict(tempering=True, T=[0.0, 1.0]), "temperatures > 0"),
    (dict(tempering=True, T=[1.0, 0.5]), "increasing"),
    (dict(tempering="yes"), "tempering must be a bool"),
    (dict(swap_every=0), "swap_every must be >= 1"),
    (dict(checkpoint=3), "checkpoint must be a file name"),
    (dict(checkpoint_every=-1), "checkpoint_every"),
    (dict(init="patterns", K=2, n_replicas=3, devices=0), "devices must be between"),
])
def test_invalid_inputs(bad, match):
    kw = dict(BASE, **bad)
    with pytest.raises(ValueError, match=match):
        montecarlo.simulate(0, kw.pop("model", HOPFIELD), **kw)


def test_model_families_not_simulated_yet_are_refused():
    # learning from examples runs in simulate (tests/test_mc_learning.py), not yet in anneal
    with pytest.raises(NotImplementedError, match="Monte Carlo: learning from examples"):
        montecarlo.anneal(0, dh.Model(examples=dh.Examples(M=3, r=0.5)), N=16, K=1, T=[0.1, 0.2])
    # diluted patterns run in simulate (tests/test_mc_diluted.py; with examples tests/test_mc_diluted_examples.py),
    # not yet in anneal; the exponential interaction has its own Monte Carlo (montecarlo.exponential)
    with pytest.raises(NotImplementedError, match="Monte Carlo: diluted"):
        montecarlo.anneal(0, dh.Model(dilution=0.2), N=16, K=1, T=[0.1, 0.2])
    with pytest.raises(NotImplementedError, match="log-sum-exp interaction"):
        montecarlo.simulate(0, dh.Model(interaction="log-sum-exp"), **BASE)


@pytest.mark.slow
def test_dense_models_run_in_both_conventions():
    """P = 3, 4 (and 8, low storage) run; at low T they retrieve, at high T they do not."""
    for P, K, si, T_lo in ((3, 2, False, 0.05), (4, 3, True, 0.02), (8, 2, False, 1e-5)):
        model = dh.Model(P=P, convention="all-tuples" if si else "distinct-indices")
        ds = montecarlo.simulate(5, model, N=24, K=K, T=[T_lo, 5.0], n_samples=1, n_replicas=2, sweeps=30,
                                 burn_in=10)
        assert ds.attrs["P"] == P and ds.attrs["convention"] == ("all-tuples" if si else "distinct-indices")
        assert float(ds.m.sel(T=T_lo).mean()) > 0.9
        assert float(ds.m_abs.sel(T=5.0).mean()) < 0.6


# --------------------------------------------------------------------------------------------- physics
def curie_weiss_m(T):
    """Largest solution of m = tanh(m / T)."""
    return 0.0 if T >= 1 else scipy.optimize.brentq(lambda m: m - np.tanh(m / T), 1e-6, 1.0)


@pytest.mark.slow
def test_low_load_retrieval_matches_curie_weiss():
    """K = 2, N = 200 (alpha = 0.01): m = tanh(m/T) at T = 0.5, paramagnet at T = 1.5.

    Tolerance: 3 standard errors + 1/sqrt(N) for finite-N and finite-K corrections.
    """
    N = 200
    ds = montecarlo.simulate(11, HOPFIELD, N=N, K=2, T=[0.5, 1.5], n_samples=4, n_replicas=2, sweeps=400,
                             burn_in=100)
    s = montecarlo.summarize(ds)
    allowance = 1 / math.sqrt(N)
    m_cw = curie_weiss_m(0.5)  # 0.9575
    lo = s[0.5]
    assert abs(lo["m"] - m_cw) < 3 * lo["m_err"] + allowance
    assert abs(lo["q"] - m_cw**2) < 3 * lo["q_err"] + allowance  # q = <tanh^2> = m^2 in a pure state
    assert abs(lo["energy"] + m_cw**2 / 2) < 3 * lo["energy_err"] + allowance
    hi = s[1.5]
    assert abs(hi["m"]) < 3 * hi["m_err"] + allowance
    assert abs(hi["q"]) < 3 * hi["q_err"] + allowance
    assert hi["acceptance"] > lo["acceptance"]


@pytest.mark.slow
def test_single_pattern_matches_exact_finite_n_curie_weiss():
    """K = 1 is a Curie-Weiss ferromagnet (gauge xi_i sigma_i -> sigma_i), solvable exactly at finite N.

    With M = N m, H = -(M^2 - N)/(2N) and degeneracy binom(N, (N+M)/2); <|m|> and <H>/N must agree
    with the simulation within 4 standard errors (no finite-size allowance needed).
    """
    from scipy.special import gammaln

    N = 200
    ds = montecarlo.simulate(12, HOPFIELD, N=N, K=1, T=[0.5, 0.7], n_samples=4, n_replicas=2, sweeps=600,
                             burn_in=100)
    M = np.arange(-N, N + 1, 2)
    for T, d in montecarlo.summarize(ds).items():
        logw = gammaln(N + 1) - gammaln((N + M) / 2 + 1) - gammaln((N - M) / 2 + 1) + (M**2 - N) / (2 * N * T)
        w = np.exp(logw - logw.max())
        w /= w.sum()
        m_abs, e = np.sum(np.abs(M) / N * w), np.sum(-(M**2 - N) / (2 * N * N) * w)
        assert abs(d["m_abs"] - m_abs) < 4 * d["m_abs_err"], (T, d["m_abs"], m_abs)
        assert abs(d["energy"] - e) < 4 * d["energy_err"], (T, d["energy"], e)


@pytest.mark.slow
def test_online_autocorrelation_and_histogram_match_the_time_series():
    """The on-the-fly sums (acf up to max_lag, P(q) counts) equal direct computations from the series."""
    N = 30
    ds = montecarlo.simulate(4, HOPFIELD, N=N, K=3, T=[0.5, 1.5], n_samples=2, n_replicas=2, sweeps=130,
                             burn_in=10, measure_every=2, timeseries=True, max_lag=8, q_bins=N + 1)
    n = ds.sizes["sweep"]
    assert n == 60 and list(ds.lag.values) == list(range(0, 18, 2))
    for t in range(2):
        x = ds.energy_t.isel(T=t).values.reshape(-1, n)                 # chains x time
        C = np.empty((x.shape[0], 9))
        C[:, 0] = (x**2).mean(1) - x.mean(1) ** 2
        for k in range(1, 9):
            a, b = x[:, k:], x[:, : n - k]
            C[:, k] = (a * b).mean(1) - a.mean(1) * b.mean(1)
        rho = C.mean(0) / C.mean(0)[0]
        np.testing.assert_allclose(ds.acf_energy.isel(T=t).values, rho, rtol=0, atol=1e-9)
        # tau from the same rho with Sokal's window
        tau, _, _ = stats.tau_int(rho)
        assert float(ds.tau_energy.isel(T=t)) == pytest.approx(2 * tau)
        # P(q): exact bins (N + 1 values), counts from the q time series of the (0, 1) pair
        q = ds.q_t.isel(T=t).values                                    # (sample, sweep)
        idx = np.round((q * N + N) / 2).astype(int)
        for s in range(2):
            np.testing.assert_array_equal(ds.q_counts.isel(T=t, sample=s).values, np.bincount(idx[s], minlength=N + 1))
    np.testing.assert_allclose(ds.q_center.values, (2 * np.arange(N + 1) - N) / N)
    np.testing.assert_allclose(ds.m_t.mean("sweep"), ds.m, atol=1e-12)


@pytest.mark.slow
def test_equilibration_diagnostics_flag_a_short_run():
    """Started at random at low T (slow), a very short run is not declared equilibrated; a long run at
    high T is."""
    short = montecarlo.simulate(1, HOPFIELD, N=60, K=2, T=[0.4], n_samples=4, n_replicas=2, sweeps=12,
                                burn_in=2, init="random")
    assert montecarlo.summarize(short)["equilibrated"] is False
    long = montecarlo.simulate(1, HOPFIELD, N=60, K=2, T=[3.0], n_samples=4, n_replicas=2, sweeps=400,
                               burn_in=100)
    s = montecarlo.summarize(long)
    assert s["equilibrated"] is True and s["tau_energy_reliable"] and s["tau_energy"] < 5


def test_simulate_refuses_a_whole_run_that_cannot_fit_before_allocating():
    """One sample fits (340 MB of patterns), 10^5 of them do not: a one-line error, no allocation."""
    import time

    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="simulate needs about .* of memory"):
        montecarlo.simulate(0, HOPFIELD, N=20000, alpha=0.05, T=(0.3,), n_samples=100000, n_replicas=2,
                            sweeps=2, burn_in=0)
    assert time.perf_counter() - t0 < 30


def test_equilibration_accepts_a_zero_autocorrelation_time():
    """A measured tau of 0 sweeps (chains that never move, e.g. some T = 0 runs) gives infinite
    burn_in_over_tau / measured_over_tau, not a ZeroDivisionError."""
    ds = montecarlo.simulate(1, HOPFIELD, N=40, K=2, T=[0.5], n_samples=2, n_replicas=2, sweeps=12, burn_in=2)
    ds["tau_energy"][...] = 0.0
    ds["tau_m"][...] = 0.0
    s = montecarlo.summarize(ds)
    assert s["burn_in_over_tau"] == math.inf and s["measured_over_tau"] == math.inf
