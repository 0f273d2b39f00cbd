"""Energy histograms and the replica-overlap distribution of simulate (montecarlo.summary.energy_histogram,
overlap_distribution): normalisation and means against the Dataset's own averages, and the Monte Carlo energy
distribution against exact enumeration of the Boltzmann distribution (N = 12, P = 3: all 2^12 states)."""
import itertools

import jax
import numpy as np
import pytest
import scipy.stats

import densehebb as dh
from densehebb.montecarlo import energy, energy_histogram, overlap_distribution, patterns, simulate

N, K, P = 12, 3, 3
STATES = np.array(list(itertools.product([-1, 1], repeat=N)), dtype=np.int8)


def test_histogram_integrates_to_one_and_means_match_the_dataset():
    """P = 3 retrieval run with tempering: the histogram integrates to 1, its mean is the chain average of the
    time-averaged energy (the same numbers), the bin-centre mean agrees within half a bin; P(q) sums to 1 and,
    with one bin per overlap value (q_bins = N + 1), its mean is the sample average of q exactly."""
    n = 20
    ds = simulate(5, dh.Model(P=3), n, alpha=0.05, T=np.geomspace(0.02, 0.08, 3), n_samples=3, n_replicas=2,
                  sweeps=120, burn_in=20, tempering=True, timeseries=True, q_bins=n + 1)
    for k in range(3):
        h = energy_histogram(ds, k, bins=25)
        w = np.diff(h["edges"])
        assert abs(np.sum(np.asarray(h["density"]) * w) - 1.0) < 1e-12
        assert h["n"] == 3 * 2 * 100 and h["n_outside"] == 0
        assert abs(h["mean"] - float(ds["energy"].isel(T=k).mean())) < 1e-12
        assert abs(np.sum(np.asarray(h["centres"]) * np.asarray(h["density"]) * w) - h["mean"]) <= 0.5 * w.max()
        q = overlap_distribution(ds, k)
        assert abs(sum(q["P_q"]) - 1.0) < 1e-12
        assert abs(q["q_mean"] - float(ds["q"].isel(T=k).mean())) < 1e-12
    sel = np.zeros((3, 2), bool)
    sel[0] = True
    h0 = energy_histogram(ds, 0, chains=sel)
    assert h0["n"] == 2 * 100 and abs(h0["mean"] - float(ds["energy"].isel(T=0, sample=0).mean())) < 1e-12
    with pytest.raises(ValueError, match="timeseries"):
        energy_histogram(simulate(5, dh.Model(P=3), n, alpha=0.05, T=0.05, sweeps=4, burn_in=2))


def _exact_levels(xi, T):
    """Energy levels per neuron of all 2^N states and their Boltzmann probabilities at T."""
    E = np.asarray(energy.energy(STATES, xi, P, False), float)
    levels, inverse = np.unique(np.round(E / N, 12), return_inverse=True)
    w = np.exp(-(E - E.min()) / T)
    return levels, np.bincount(inverse, weights=w / w.sum(), minlength=levels.size)


def _chi2_p(counts, probs):
    """Chi-square p-value; levels with expected count < 5 are pooled into one bin."""
    expected = probs * counts.sum()
    big = expected >= 5
    obs, exp = counts[big], expected[big]
    if expected[~big].sum() > 0:
        obs, exp = np.append(obs, counts[~big].sum()), np.append(exp, expected[~big].sum())
    assert exp.size >= 5, "too few bins for a meaningful test"
    return scipy.stats.chisquare(obs, exp).pvalue


@pytest.mark.slow
@pytest.mark.parametrize("T", [0.25, 0.5])
def test_energy_histogram_matches_exact_enumeration(T):
    """N = 12, P = 3, K = 3, distinct indices: 3000 independent chains, one measurement each after 30 Glauber
    sweeps; the energy histogram with one bin per exact level matches the Boltzmann probabilities of the
    levels (chi-square p > 1e-3, fixed seed), its mean the exact mean energy within 4 standard errors -- and
    the same test rejects the distribution at twice the temperature."""
    R = 3000
    ds = simulate(11, dh.Model(P=P), N, K=K, T=[T], n_samples=1, n_replicas=R, sweeps=31, burn_in=30,
                  init="random", timeseries=True)
    xi = patterns.rademacher(jax.random.fold_in(jax.random.key(11), 0), N, K, 1)[0]
    levels, probs = _exact_levels(xi, T)
    mid = 0.5 * (levels[1:] + levels[:-1])
    edges = np.concatenate([[levels[0] - 1.0], mid, [levels[-1] + 1.0]])
    h = energy_histogram(ds, 0, bins=edges)
    counts = np.asarray(h["counts"])
    assert counts.sum() == R and h["n_outside"] == 0
    assert _chi2_p(counts, probs) > 1e-3
    mean = float((levels * probs).sum())
    sd = float(np.sqrt(((levels - mean) ** 2 * probs).sum()))
    assert abs(h["mean"] - mean) < 4 * sd / np.sqrt(R), (h["mean"], mean)
    _, probs_hot = _exact_levels(xi, 2 * T)
    assert _chi2_p(counts, probs_hot) < 1e-6
