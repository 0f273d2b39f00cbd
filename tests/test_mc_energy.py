"""Energies, incremental updates and bookkeeping of the Monte Carlo state."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import montecarlo  # noqa: F401  (enables float64)
from montecarlo import dynamics, energy, patterns


def random_spins(key, shape):
    return jnp.where(jax.random.bernoulli(key, 0.5, shape), 1, -1).astype(jnp.int8)


def test_rademacher_shape_dtype_and_stats():
    xi = patterns.rademacher(jax.random.key(0), 500, 40, 3)
    assert xi.shape == (3, 500, 40) and xi.dtype == jnp.int8
    vals = np.asarray(xi)
    assert set(np.unique(vals)) == {-1, 1}
    assert abs(vals.mean()) < 4 / np.sqrt(vals.size)
    assert not np.array_equal(vals[0], vals[1])
    # sample s does not depend on how many samples are drawn
    np.testing.assert_array_equal(patterns.rademacher(jax.random.key(0), 500, 40, 5)[:3], xi)


def test_energy_formula_p2():
    n, k = 11, 4
    xi = patterns.rademacher(jax.random.key(1), n, k, 1)[0]
    sigma = random_spins(jax.random.key(2), (n,))
    x, s = np.asarray(xi, float), np.asarray(sigma, float)
    J = x @ x.T / n  # Hebbian couplings
    e_distinct = -0.5 * (s @ J @ s - np.trace(J) * 1.0)  # i != j only; trace = K
    e_all = -0.5 * s @ J @ s
    assert float(energy.energy(sigma, xi)) == pytest.approx(e_distinct, abs=1e-12)
    assert float(energy.energy(sigma, xi, self_interaction=True)) == pytest.approx(e_all, abs=1e-12)
    assert energy.energy(sigma, xi).dtype == jnp.float64


@pytest.mark.parametrize("self_interaction", [False, True])
def test_delta_energy_matches_recomputation(self_interaction):
    n, k = 13, 5
    xi = patterns.rademacher(jax.random.key(3), n, k, 1)[0]
    for trial in range(3):
        sigma = random_spins(jax.random.key(10 + trial), (n,))
        M = energy.overlaps(sigma, xi)
        e0 = float(energy.energy(sigma, xi, self_interaction=self_interaction))
        for i in range(n):
            flipped = sigma.at[i].multiply(-1)
            exact = float(energy.energy(flipped, xi, self_interaction=self_interaction)) - e0
            inc = float(energy.delta_energy(sigma, xi, M, i, self_interaction=self_interaction))
            assert inc == pytest.approx(exact, abs=1e-12)


def test_higher_p_not_implemented_and_bad_p_rejected():
    xi = patterns.rademacher(jax.random.key(0), 6, 2, 1)[0]
    sigma = jnp.ones(6, jnp.int8)
    for fn in (lambda: energy.energy(sigma, xi, P=3), lambda: energy.delta_energy_fn(3),
               lambda: dynamics.glauber(6, 2, P=3), lambda: dynamics.metropolis(6, 2, P=4, self_interaction=True)):
        with pytest.raises(NotImplementedError, match="P = 2 only"):
            fn()
    for bad in (1, 0, 2.5, True):
        with pytest.raises(ValueError, match="P must be an integer >= 2"):
            energy.delta_energy_fn(bad)


def test_accumulator_dtype():
    assert energy.accumulator_dtype(1000, 50) == jnp.int32
    assert energy.accumulator_dtype(100_000, 30_000) == jnp.int64


@pytest.mark.parametrize("self_interaction", [False, True], ids=["distinct", "all-tuples"])
@pytest.mark.parametrize("dyn", ["glauber", "metropolis"])
def test_tracked_overlaps_and_energy_stay_exact(dyn, self_interaction):
    """After many sweeps: M == xi^T sigma, H(M) == H(sigma), E0 + sum of accepted dH == E_final."""
    n, k, chains, sweeps = 37, 5, 4, 200  # n odd: not a multiple of the loop unroll
    xi = patterns.rademacher(jax.random.key(4), n, k, 1)[0]
    init, step = dynamics.DYNAMICS[dyn](n, k, self_interaction=self_interaction)
    start = random_spins(jax.random.key(5), (chains, n))
    state = jax.vmap(init, in_axes=(0, 0, None))(jax.random.split(jax.random.key(6), chains), start, xi)
    e0 = np.asarray(energy.energy(start, xi, self_interaction=self_interaction))
    state = jax.jit(jax.vmap(lambda s: dynamics.run_sweeps(step, s, xi, 1 / 0.7, sweeps)))(state)

    assert state.M.dtype == jnp.int32 and state.sigma.dtype == jnp.int8
    np.testing.assert_array_equal(state.M, energy.overlaps(state.sigma, xi))
    e_tracked = np.asarray(dynamics.state_energy(state, n, self_interaction=self_interaction))
    e_exact = np.asarray(energy.energy(state.sigma, xi, self_interaction=self_interaction))
    np.testing.assert_allclose(e_tracked, e_exact, rtol=0, atol=1e-12)
    np.testing.assert_allclose(e0 + np.asarray(state.energy_change), e_exact, rtol=0, atol=1e-9)
    assert np.all(np.asarray(state.sweeps) == sweeps)
    assert np.all(np.asarray(state.attempts) == sweeps * n)
    acc = np.asarray(state.accepted)
    assert np.all((acc > 0) & (acc < sweeps * n))
    assert np.all(np.abs(np.asarray(state.sigma)) == 1)


def test_unroll_does_not_change_results():
    n, k = 21, 3
    xi = patterns.rademacher(jax.random.key(8), n, k, 1)[0]
    start = random_spins(jax.random.key(9), (n,))
    out = []
    for unroll in (1, 4):
        init, step = dynamics.glauber(n, k, unroll=unroll)
        s = dynamics.run_sweeps(step, init(jax.random.key(1), start, xi), xi, 1.0, 5)
        out.append(s)
    np.testing.assert_array_equal(out[0].sigma, out[1].sigma)
    assert int(out[0].accepted) == int(out[1].accepted)


def test_init_and_step_validate_shapes():
    init, step = dynamics.glauber(10, 3)
    xi = patterns.rademacher(jax.random.key(0), 10, 3, 1)[0]
    with pytest.raises(ValueError, match="shape"):
        init(jax.random.key(0), jnp.ones(9, jnp.int8), xi)
    with pytest.raises(ValueError, match="shape"):
        init(jax.random.key(0), jnp.ones(10, jnp.int8), xi[:, :2])
    with pytest.raises(ValueError, match="N must be"):
        dynamics.glauber(1, 3)
    with pytest.raises(ValueError, match="K must be"):
        dynamics.metropolis(10, 0)
