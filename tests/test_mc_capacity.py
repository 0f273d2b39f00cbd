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
    r = capacity.extrapolate(_synthetic(), n_boot=60)
    assert abs(r["alpha_c_mc"] - 0.14) < 3 * r["alpha_c_mc_err"] + 1e-3
    assert 0 < r["alpha_c_mc_err"] < 0.01
    for N, c in zip(r["N"], r["alpha_c_N"]):
        assert abs(c - (0.14 + 0.8 / math.sqrt(N))) < 0.005
    # fitting the wrong scaling variable is visible in chi^2 or in a biased limit
    r1 = capacity.extrapolate(_synthetic(), exponent=1.0, n_boot=60)
    assert r1["alpha_c_mc"] > 0.145


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
    assert (a["P"], a["convention"], a["seed"], a["threshold"]) == (2, "distinct-indices", 0, 0.9)
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
