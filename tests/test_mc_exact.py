"""Monte Carlo vs exact enumeration: the dynamics sample the Boltzmann distribution exp(-H/T)/Z.

N = 8 spins, K = 3 patterns: all 2^8 states are enumerated with montecarlo.energy.energy (itself checked
against the tuple-sum definition in test_mc_energy.py), and the final states of 20000 independent chains
(random start, 30 sweeps) are compared with a chi-square test, for P = 2, 3, 4, both energy conventions
and both dynamics.  The same machinery must reject a wrong temperature, the other convention (P >= 3) and
a non-equilibrated ensemble.  Parallel tempering: the exchange move preserves the product of the
Boltzmann distributions (exact samples in, exact samples out), and a full tempered run reproduces the
exact energy distribution at every temperature.
"""
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

import densehebb as dh
from densehebb.montecarlo import dynamics, energy, patterns

N, K = 8, 3
N_CHAINS = 20000
SWEEPS = 30
P_MIN = 1e-3  # fixed seeds: deterministic; a correct sampler passes with probability 0.999 per case

STATES = np.array(list(itertools.product([-1, 1], repeat=N)), dtype=np.int8)  # row b <-> bits of b


@pytest.fixture(scope="module")
def xi():
    return patterns.rademacher(jax.random.key(3), N, K, 1)[0]


def boltzmann(xi, T, self_interaction, P=2):
    """Exact Boltzmann probabilities of all 2^N states (order of STATES)."""
    E = np.asarray(energy.energy(STATES, xi, P, self_interaction))
    w = np.exp(-(E - E.min()) / T)
    return w / w.sum()


def state_index(sigma):
    """Index into STATES of each configuration (spin +1 <-> bit 1, site 0 most significant)."""
    bits = np.asarray(sigma) > 0
    return (bits * (1 << np.arange(N - 1, -1, -1))).sum(axis=-1)


def final_states(xi, dyn, T, self_interaction, seed, sweeps=SWEEPS, start=None, P=2):
    """Histogram over the 2^N states of the final configurations of N_CHAINS independent chains."""
    init, step = dynamics.DYNAMICS[dyn](N, K, P=P, self_interaction=self_interaction)
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


def chi2_pvalue(counts, probs, min_bins=20):
    """Chi-square goodness of fit; states with expected count < 5 are pooled into one bin."""
    expected = probs * counts.sum()
    big = expected >= 5
    obs, exp = counts[big], expected[big]
    if expected[~big].sum() > 0:
        obs, exp = np.append(obs, counts[~big].sum()), np.append(exp, expected[~big].sum())
    assert exp.size > min_bins, "too few bins for a meaningful test"
    return scipy.stats.chisquare(obs, exp).pvalue


@pytest.mark.parametrize("T, dyn, self_interaction", [
    pytest.param(T, dyn, si, id=f"{T}-{dyn}-{'all-tuples' if si else 'distinct'}",
                 marks=() if (T, dyn, si) == (0.5, "metropolis", False) else pytest.mark.slow)
    for T in (1.0, 0.5) for dyn in ("glauber", "metropolis") for si in (False, True)])
def test_matches_boltzmann(xi, dyn, T, self_interaction):
    counts = final_states(xi, dyn, T, self_interaction, seed=1)
    assert chi2_pvalue(counts, boltzmann(xi, T, self_interaction)) > P_MIN


# temperatures where the distribution is neither frozen nor flat (energy scale ~ N / P!)
T_DENSE = {3: 0.3, 4: 0.05}


@pytest.mark.slow
@pytest.mark.parametrize("self_interaction", [False, True], ids=["distinct", "all-tuples"])
@pytest.mark.parametrize("dyn", ["glauber", "metropolis"])
@pytest.mark.parametrize("P", [3, 4])
def test_dense_matches_boltzmann(xi, P, dyn, self_interaction):
    T = T_DENSE[P]
    counts = final_states(xi, dyn, T, self_interaction, seed=P, P=P)
    assert chi2_pvalue(counts, boltzmann(xi, T, self_interaction, P)) > P_MIN
    # the test has teeth: the other convention (a different Gibbs measure for P >= 3) is rejected
    assert chi2_pvalue(counts, boltzmann(xi, T, not self_interaction, P)) < 1e-6
    assert chi2_pvalue(counts, boltzmann(xi, 1.3 * T, self_interaction, P)) < 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("dyn", ["glauber", "metropolis"])
def test_chi2_rejects_wrong_temperature(xi, dyn):
    counts = final_states(xi, dyn, 0.5, False, seed=1)
    assert chi2_pvalue(counts, boltzmann(xi, 0.5, False)) > P_MIN
    assert chi2_pvalue(counts, boltzmann(xi, 0.55, False)) < 1e-6  # 10% off in T is detected
    assert chi2_pvalue(counts, boltzmann(xi, 0.45, False)) < 1e-6


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


# ------------------------------------------------------------------------------------ parallel tempering
PT_TEMPS = np.array([0.3, 0.45, 0.7, 1.1])


def _exact_samples(xi, temps, n, seed, P):
    """n independent exact Boltzmann samples at each temperature: state indices (T, n)."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.choice(2**N, size=n, p=boltzmann(xi, t, False, P)) for t in temps])


@pytest.mark.slow
@pytest.mark.parametrize("P", [2, 3])
def test_swap_move_preserves_the_product_of_boltzmann_distributions(xi, P):
    """Exact samples at each T, two exchange rounds (even then odd pairs): still exact at each T.

    Negative control: the same move with the temperature labels reversed (wrong acceptance) is rejected.
    """
    from densehebb.montecarlo.engine import EngineConfig
    from densehebb.montecarlo.observables import swap_round

    temps = PT_TEMPS if P == 2 else PT_TEMPS * 0.6
    beta = jnp.asarray(1 / temps)
    R = N_CHAINS
    cfg = EngineConfig(N=N, K=K, P=P, self_interaction=False, dynamics="glauber", n_T=len(temps), n_R=R)
    idx = _exact_samples(xi, temps, R, seed=P, P=P)
    sigma = jnp.asarray(STATES[idx])                                         # (T, R, N)
    chains = dynamics.MCState(sigma=sigma, M=energy.overlaps(sigma, xi).astype(jnp.int8),
                              key=jax.random.split(jax.random.key(0), (len(temps), R)),
                              sweeps=jnp.zeros((len(temps), R), jnp.int32),
                              attempts=jnp.zeros((len(temps), R), jnp.int64),
                              accepted=jnp.zeros((len(temps), R), jnp.int64),
                              energy_change=jnp.zeros((len(temps), R)))
    rnd = jax.jit(swap_round, static_argnums=(0,))
    for b, expect_ok in ((beta, True), (beta[::-1], False)):
        c, k = chains, jax.random.key(5)
        rates = []
        for parity in (0, 1):
            c, k, att, ok = rnd(cfg, c, k, b, parity)
            rates.append(np.asarray(ok).sum() / np.asarray(att).sum())
        np.testing.assert_array_equal(c.M, energy.overlaps(c.sigma, xi))    # configurations move whole
        assert all(0.02 < r < 0.999 for r in rates), rates
        p = [chi2_pvalue(np.bincount(state_index(c.sigma[t]), minlength=2**N),
                         boltzmann(xi, temps[t], False, P)) for t in range(len(temps))]
        if expect_ok:
            assert min(p) > P_MIN / len(temps), p
        else:
            assert min(p) < 1e-6, p


@pytest.mark.slow
def test_tempered_run_samples_exact_energy_distribution():
    """simulate(tempering=True), P = 3: one snapshot per replica after equilibration; at every T the
    distribution of the energy levels matches exact enumeration, and swaps are accepted."""
    import densehebb.montecarlo as montecarlo

    P, R = 3, 4000
    temps = [0.25, 0.4, 0.65, 1.0]
    ds = montecarlo.simulate(11, dh.Model(P=P), N=N, K=K, T=temps, n_samples=1, n_replicas=R, sweeps=25,
                             burn_in=24, init="pattern", tempering=True)
    xi_run = montecarlo.patterns.rademacher(jax.random.fold_in(jax.random.key(11), 0), N, K, 1)[0]
    E_states = np.asarray(energy.energy(STATES, xi_run, P)) / N
    levels, inverse = np.unique(np.round(E_states, 12), return_inverse=True)
    rates = ds.swap_acceptance.values
    assert np.all((rates > 0.05) & (rates < 1.0)), rates
    for t, T in enumerate(temps):
        e = np.round(ds.energy.isel(T=t, sample=0).values, 12)
        counts = np.array([(e == lv).sum() for lv in levels])
        assert counts.sum() == R                                  # every snapshot is an exact level
        probs = np.bincount(inverse, weights=boltzmann(xi_run, T, False, P), minlength=levels.size)
        expected = probs * R
        assert chi2_pvalue(counts, probs, min_bins=5) > P_MIN, T
