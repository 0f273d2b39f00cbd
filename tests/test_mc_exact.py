"""Monte Carlo vs exact enumeration: both dynamics sample the Boltzmann distribution exp(-H/T)/Z.

N = 8 spins, K = 3 patterns: all 2^8 states are enumerated with montecarlo.energy.energy, and the final
states of 20000 independent chains (random start, 30 sweeps) are compared with a chi-square test.
The same machinery must reject a wrong temperature and a non-equilibrated ensemble.
"""
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

import montecarlo  # noqa: F401  (enables float64)
from montecarlo import dynamics, energy, patterns

N, K = 8, 3
N_CHAINS = 20000
SWEEPS = 30
P_MIN = 1e-3  # fixed seeds: deterministic; a correct sampler passes with probability 0.999 per case

STATES = np.array(list(itertools.product([-1, 1], repeat=N)), dtype=np.int8)  # row b <-> bits of b


@pytest.fixture(scope="module")
def xi():
    return patterns.rademacher(jax.random.key(3), N, K, 1)[0]


def boltzmann(xi, T, self_interaction):
    """Exact Boltzmann probabilities of all 2^N states (order of STATES)."""
    E = np.asarray(energy.energy(STATES, xi, self_interaction=self_interaction))
    w = np.exp(-(E - E.min()) / T)
    return w / w.sum()


def state_index(sigma):
    """Index into STATES of each configuration (spin +1 <-> bit 1, site 0 most significant)."""
    bits = np.asarray(sigma) > 0
    return (bits * (1 << np.arange(N - 1, -1, -1))).sum(axis=-1)


def final_states(xi, dyn, T, self_interaction, seed, sweeps=SWEEPS, start=None):
    """Histogram over the 2^N states of the final configurations of N_CHAINS independent chains."""
    init, step = dynamics.DYNAMICS[dyn](N, K, self_interaction=self_interaction)
    keys = jax.random.split(jax.random.key(seed), N_CHAINS)
    if start is None:
        bits = jax.random.bernoulli(jax.random.key(seed + 10_000), 0.5, (N_CHAINS, N))
        start = jnp.where(bits, 1, -1).astype(jnp.int8)
    else:
        start = jnp.broadcast_to(jnp.asarray(start, jnp.int8), (N_CHAINS, N))
    state = jax.vmap(init, in_axes=(0, 0, None))(keys, start, xi)
    beta = jnp.inf if T == 0 else 1.0 / T
    run = jax.jit(jax.vmap(lambda s: dynamics.run_sweeps(step, s, xi, beta, sweeps)))
    return np.bincount(state_index(run(state).sigma), minlength=2**N)


def chi2_pvalue(counts, probs):
    """Chi-square goodness of fit; states with expected count < 5 are pooled into one bin."""
    expected = probs * counts.sum()
    big = expected >= 5
    obs, exp = counts[big], expected[big]
    if (~big).any():
        obs, exp = np.append(obs, counts[~big].sum()), np.append(exp, expected[~big].sum())
    assert exp.size > 20, "too few bins for a meaningful test"
    return scipy.stats.chisquare(obs, exp).pvalue


@pytest.mark.parametrize("self_interaction", [False, True], ids=["distinct", "all-tuples"])
@pytest.mark.parametrize("dyn", ["glauber", "metropolis"])
@pytest.mark.parametrize("T", [1.0, 0.5])
def test_matches_boltzmann(xi, dyn, T, self_interaction):
    counts = final_states(xi, dyn, T, self_interaction, seed=1)
    assert chi2_pvalue(counts, boltzmann(xi, T, self_interaction)) > P_MIN


@pytest.mark.parametrize("dyn", ["glauber", "metropolis"])
def test_chi2_rejects_wrong_temperature(xi, dyn):
    counts = final_states(xi, dyn, 0.5, False, seed=1)
    assert chi2_pvalue(counts, boltzmann(xi, 0.5, False)) > P_MIN
    assert chi2_pvalue(counts, boltzmann(xi, 0.55, False)) < 1e-6  # 10% off in T is detected
    assert chi2_pvalue(counts, boltzmann(xi, 0.45, False)) < 1e-6


def test_chi2_rejects_non_equilibrated(xi):
    """One sweep from pattern 0 at T = 0.5 is far from equilibrium; the test must say so."""
    counts = final_states(xi, "glauber", 0.5, False, seed=2, sweeps=1, start=np.asarray(xi[:, 0]))
    assert chi2_pvalue(counts, boltzmann(xi, 0.5, False)) < 1e-6


def test_conventions_same_distribution_for_p2(xi):
    """For P = 2 the conventions differ by the constant K/2 only: same Gibbs measure."""
    E0 = np.asarray(energy.energy(STATES, xi, self_interaction=False))
    E1 = np.asarray(energy.energy(STATES, xi, self_interaction=True))
    np.testing.assert_allclose(E0 - E1, K / 2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(boltzmann(xi, 0.7, False), boltzmann(xi, 0.7, True), rtol=1e-12)


# ------------------------------------------------------------------------------------ zero temperature
def test_zero_temperature_acceptance_rules():
    inf = jnp.inf
    dH = jnp.array([-0.5, 0.0, 0.5])
    np.testing.assert_array_equal(dynamics.glauber_acceptance(dH, inf), [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(dynamics.metropolis_acceptance(dH, inf), [1.0, 1.0, 0.0])
    # finite beta: the textbook formulas
    np.testing.assert_allclose(dynamics.glauber_acceptance(dH, 2.0), 1 / (1 + np.exp(2.0 * dH)))
    np.testing.assert_allclose(dynamics.metropolis_acceptance(dH, 2.0), np.minimum(1, np.exp(-2.0 * dH)))


@pytest.mark.parametrize("dyn", ["glauber", "metropolis"])
def test_zero_temperature_never_raises_energy(dyn):
    n, k, chains = 60, 6, 8
    xi = patterns.rademacher(jax.random.key(5), n, k, 1)[0]
    init, step = dynamics.DYNAMICS[dyn](n, k)
    start = jnp.where(jax.random.bernoulli(jax.random.key(6), 0.5, (chains, n)), 1, -1)
    state = jax.vmap(init, in_axes=(0, 0, None))(jax.random.split(jax.random.key(7), chains), start, xi)
    sweep = jax.jit(jax.vmap(lambda s: step(s, xi, jnp.inf)))
    energies = [np.asarray(energy.energy(state.sigma, xi))]
    for _ in range(10):
        state = sweep(state)
        energies.append(np.asarray(energy.energy(state.sigma, xi)))
    assert np.all(np.diff(np.array(energies), axis=0) <= 1e-12)
    assert np.all(np.asarray(state.accepted) > 0)


def test_zero_temperature_glauber_takes_zero_moves_half_the_time():
    """N = 2, K = 2 with xi = [[1, 1], [1, -1]]: every flip from any state has dH = 0 (H constant)."""
    xi = jnp.array([[1, 1], [1, -1]], jnp.int8)
    assert np.ptp(np.asarray(energy.energy(STATES[:4, :2], xi))) == 0  # flat landscape
    chains, sweeps = 4000, 5
    init, step = dynamics.glauber(2, 2)
    state = jax.vmap(init, in_axes=(0, None, None))(jax.random.split(jax.random.key(0), chains),
                                                     jnp.array([1, 1], jnp.int8), xi)
    state = jax.jit(jax.vmap(lambda s: dynamics.run_sweeps(step, s, xi, jnp.inf, sweeps)))(state)
    frac = np.asarray(state.accepted).sum() / np.asarray(state.attempts).sum()
    assert abs(frac - 0.5) < 4 * np.sqrt(0.25 / (chains * sweeps * 2))
    init_m, step_m = dynamics.metropolis(2, 2)
    state = jax.vmap(init_m, in_axes=(0, None, None))(jax.random.split(jax.random.key(0), 16),
                                                       jnp.array([1, 1], jnp.int8), xi)
    state = jax.vmap(lambda s: step_m(s, xi, jnp.inf))(state)
    assert np.all(np.asarray(state.accepted) == 2)
