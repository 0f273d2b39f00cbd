"""Low-storage P = 4 (K finite): the first-order retrieval transition seen by heating and cooling Monte Carlo
runs (montecarlo.anneal) against theory.low_storage, distinct-indices convention.

Theory: Mattis states exist below T_spinodal = 0.0826 and beat the paramagnet below T_thermodynamic = 0.0605.
The finite-N reference for K = 1 is exact: with one pattern the energy depends on M = sum_i xi_i sigma_i only,
H = -Q(M) / (4! N^3), Q = 4! e_4 = M^4 - 6 M^2 N + 3 N^2 + 8 M^2 - 6 N (Newton's identities with x_i^2 = 1),
and M has the multiplicity binom(N, (N + M) / 2); the retrieval state is that ensemble restricted to M above
the free-energy barrier.  It tends to the theory's m(T) and to u = -m^4/4! as N grows (checked below), which
ties the MC energy scale to the theory's.
"""
import math

import jax
import numpy as np
import pytest
from scipy.special import gammaln

import densehebb as dh
from densehebb.montecarlo import anneal, crossing_temperature, summarize_anneal
from densehebb.theory.low_storage import solve_mixture, transitions

P4 = dh.Model(P=4)
TR = transitions(P4.replace(storage="low"))
T_TH, T_SP = TR.T_thermodynamic, TR.T_spinodal
T_LOW = 0.9 * T_TH          # retrieval is the equilibrium state here
T_MID = 0.065               # between T_thermodynamic and T_spinodal: coexistence
T_HIGH = 1.3 * T_SP         # no Mattis state at all


def exact_retrieval(N, T, self_interaction=False):
    """(m, energy per neuron) of the K = 1 retrieval state at finite N, by summing over M exactly."""
    M = np.arange(-N, N + 1, 2).astype(float)
    Q = M**4 if self_interaction else M**4 - 6 * M**2 * N + 3 * N**2 + 8 * M**2 - 6 * N
    H = -Q / (24.0 * N**3)
    lw = gammaln(N + 1) - gammaln((N + M) / 2 + 1) - gammaln((N - M) / 2 + 1) - H / T
    barrier = np.argmin(np.where(M > 0, lw, np.inf))
    keep = M > M[barrier]
    w = np.exp(lw[keep] - lw[keep].max())
    w /= w.sum()
    return float(w @ M[keep]) / N, float(w @ H[keep]) / N


@pytest.mark.slow
def test_theory_values_and_exact_limit():
    assert T_TH == pytest.approx(0.060492, abs=2e-6) and T_SP == pytest.approx(0.082631, abs=2e-6)
    m_th = solve_mixture(P4.replace(storage="low"), T_LOW).m
    m_big, e_big = exact_retrieval(200_000, T_LOW)
    assert m_big == pytest.approx(m_th, abs=1e-5)              # finite-N sum -> theory m(T)
    assert e_big == pytest.approx(-m_th**4 / 24, abs=1e-5)     # energy scale: u = -m^P / P!


@pytest.fixture(scope="module")
def heating_k1():
    return anneal(jax.random.key(7), P4, N=128, K=1, T=[T_LOW, T_TH, T_HIGH], n_samples=4, n_replicas=8,
                  sweeps_per_T=300, measure=200, init="pattern")


@pytest.mark.slow
def test_heating_keeps_retrieval_below_T_th_and_matches_exact_and_theory(heating_k1):
    ds = heating_k1.isel(step=0)
    m = ds["m"].values.ravel()
    e = ds["energy"].values.ravel()
    assert m.min() > 0.9
    m_mc, m_err = m.mean(), m.std(ddof=1) / math.sqrt(m.size)
    e_mc, e_err = e.mean(), e.std(ddof=1) / math.sqrt(e.size)
    m_ex, e_ex = exact_retrieval(128, T_LOW)
    assert abs(m_mc - m_ex) < 4 * m_err + 3e-4, (m_mc, m_ex, m_err)
    assert abs(e_mc - e_ex) < 4 * e_err + 3e-5, (e_mc, e_ex, e_err)
    # the other convention would be resolved: this checks the MC's energy scale, not only its overlap
    _, e_all = exact_retrieval(128, T_LOW, self_interaction=True)
    assert abs(e_all - e_ex) > 10 * (4 * e_err + 3e-5)
    # theory (N -> infinity) within the finite-size gap of the exact N = 128 value
    m_th = solve_mixture(P4.replace(storage="low"), T_LOW).m
    assert abs(m_mc - m_th) < 4 * m_err + 1.5 * abs(m_ex - m_th) + 3e-4


@pytest.mark.slow
def test_heating_above_spinodal_loses_retrieval(heating_k1):
    assert heating_k1["m_abs"].isel(step=2).values.max() < 0.35


@pytest.fixture(scope="module")
def hysteresis_k2():
    heat = anneal(jax.random.key(1), P4, N=256, K=2, T=[T_LOW, T_TH, T_MID, T_HIGH], n_samples=4, n_replicas=4,
                  sweeps_per_T=200, measure=100, init="pattern")
    cool = anneal(jax.random.key(2), P4, N=256, K=2, T=[T_HIGH, T_SP, T_MID, T_TH], n_samples=4, n_replicas=4,
                  sweeps_per_T=200, measure=100, init="random")
    return heat, cool


@pytest.mark.slow
def test_hysteresis_brackets_the_theory(hysteresis_k2):
    heat, cool = hysteresis_k2
    mid_heat = heat["m_max"].sel(step=2).values
    # coexistence between T_thermodynamic and T_spinodal: heated chains keep the pattern ...
    assert heat["T"].values[2] == T_MID and mid_heat.min() > 0.9
    # ... while cooled chains stay paramagnetic at every T >= T_thermodynamic (m = 0 is locally stable)
    assert cool["T"].values.min() >= T_TH
    assert cool["m_max"].values.max() < 0.4
    # the heating run loses retrieval between T_MID and 1.3 T_spinodal
    T_loss, frac = crossing_temperature(heat)
    assert list(frac[:3]) == [1.0, 1.0, 1.0] and frac[3] == 0.0
    assert T_MID < T_loss < T_HIGH


# ------------------------------------------------------------------------------------ fast: API and Dataset
def test_anneal_dataset_summary_and_validation():
    """A tiny heating run: the Dataset layout (sample, step, replica), provenance and units, the per-stage
    Stats summary; bad arguments are refused before anything runs."""
    ds = anneal(3, P4, N=32, K=2, T=[0.02, 0.5], n_samples=2, n_replicas=2, sweeps_per_T=6, measure=3)
    assert ds["m"].dims == ("sample", "step", "replica") and list(ds["T"].values) == [0.02, 0.5]
    a = ds.attrs
    assert (a["P"], a["N"], a["K"], a["convention"], a["seed"]) == (4, 32, 2, "distinct-indices", 3)
    assert a["version"] == dh.__version__ and a["protocol"].startswith("heating") and "ansatz" not in a
    for name in list(ds.data_vars) + list(ds.coords):
        assert "units" in ds[name].attrs and "long_name" in ds[name].attrs, name
    rows = summarize_anneal(ds)
    assert [r["T"] for r in rows] == [0.02, 0.5]
    assert rows[0]["m"].mean > 0.9 and rows[0]["m"].method == "samples" and rows[0]["retrieved"] == 1.0
    assert rows[0]["m"].mean == pytest.approx(ds["m"].isel(step=0).values.mean())
    assert np.all(ds["m_max_final"] >= 0) and np.all(ds["m_abs"] >= ds["m"] - 1e-12)
    for bad, match in ((dict(measure=7), "measure"), (dict(init="patterns"), "unknown init"),
                       (dict(dynamics="greedy"), "glauber' or 'metropolis"), (dict(T=[-1.0]), "temperatures")):
        kw = {**dict(N=32, K=2, T=[0.1], sweeps_per_T=6, measure=3), **bad}
        with pytest.raises(ValueError, match=match):
            anneal(3, P4, **kw)
