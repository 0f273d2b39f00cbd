"""Benchmark ingredients: the batched sweep equals the single-chain one, the threshold form of the
acceptance rules equals u < p, and the NumPy reference is the same exact dynamics."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from densehebb.montecarlo import bench, dynamics, energy, patterns


SLOW = pytest.mark.slow


@pytest.mark.parametrize("rule, P, T, si", [pytest.param("glauber", 2, 0.7, False, marks=SLOW),
                                           pytest.param("metropolis", 4, 0.1, False, marks=SLOW),
                                           pytest.param("greedy", 3, 0.0, False, marks=SLOW),
                                           pytest.param("metropolis", 2, 0.0, False, marks=SLOW),
                                           ("glauber", 2, 0.0, True)])
def test_batched_step_equals_vmapped_single_chain(rule, P, T, si):
    """The batched sweep (for P = 2 the float32 matrix-vector path) makes exactly the single-chain moves."""
    N, K, C = 40, 37, 5
    xi = patterns.rademacher(jax.random.key(1), N, K, 1)[0]
    init, step1 = dynamics.DYNAMICS[rule](N, K, P=P, self_interaction=si)
    stepC = dynamics.batched_step(N, K, rule, P=P, self_interaction=si)
    start = jnp.where(jax.random.bernoulli(jax.random.key(2), 0.5, (C, N)), 1, -1)
    st = jax.vmap(init, in_axes=(0, 0, None))(jax.random.split(jax.random.key(3), C), start, xi)
    beta = jnp.full((C,), np.inf if T == 0 else 1 / T)
    a, b = st, st
    for _ in range(4):
        a = jax.vmap(step1, in_axes=(0, None, 0))(a, xi, beta)
        b = stepC(b, xi, beta)
    for x, y in zip(a, b):
        if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
            x, y = jax.random.key_data(x), jax.random.key_data(y)
        np.testing.assert_array_equal(x, y)
    assert int(a.accepted.sum()) > 0


@pytest.mark.slow
def test_batched_p2_with_zero_padded_patterns():
    """The capacity runs pad pattern sets with zero columns: the float32 P = 2 path must count only the
    non-zero entries (sum_mu x_mu^2), exactly like the integer kernel."""
    N, K, C = 30, 12, 4
    xi = patterns.rademacher(jax.random.key(5), N, K, 1)[0].at[:, 7:].set(0)
    init, step1 = dynamics.DYNAMICS["greedy"](N, K, P=2)
    stepC = dynamics.batched_step(N, K, "greedy", P=2)
    start = jnp.where(jax.random.bernoulli(jax.random.key(6), 0.5, (C, N)), 1, -1)
    a = b = jax.vmap(init, in_axes=(0, 0, None))(jax.random.split(jax.random.key(7), C), start, xi)
    beta = jnp.full((C,), np.inf)
    for _ in range(3):
        a = jax.vmap(step1, in_axes=(0, None, 0))(a, xi, beta)
        b = stepC(b, xi, beta)
    for name in ("sigma", "M", "accepted", "energy_change"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert int(a.accepted.sum()) > 0


def test_float32_path_only_where_exact():
    from densehebb.montecarlo.polynomials import flip_plan

    assert dynamics.linear_flip_f32(flip_plan(2, False, 1024, 140))
    assert dynamics.linear_flip_f32(flip_plan(2, True, 1024, 140))
    assert not dynamics.linear_flip_f32(flip_plan(2, False, 4096, 4096))     # K N = 2^24: integer path
    assert not dynamics.linear_flip_f32(flip_plan(4, False, 64, 100))


def test_thresholds_equal_probability_rules():
    rng = np.random.default_rng(0)
    u = jnp.asarray(rng.random(20000))
    dH = jnp.asarray(rng.normal(0, 1, 20000)).at[:50].set(0.0)
    for beta in (0.5, 3.0, np.inf):
        for name, prob in (("glauber", dynamics.glauber_acceptance), ("metropolis", dynamics.metropolis_acceptance),
                           ("greedy", dynamics.greedy_acceptance)):
            tau_fn, acc_fn = dynamics.THRESHOLD_RULES[name]
            np.testing.assert_array_equal(acc_fn(dH, tau_fn(u, beta), u), u < prob(dH, beta), err_msg=name)


@pytest.mark.parametrize("P, rule", [pytest.param(2, "metropolis", marks=SLOW), pytest.param(4, "metropolis", marks=SLOW),
                                     (3, "glauber")])
def test_numpy_reference_is_the_same_dynamics(P, rule):
    """Fed the JAX chain's uniforms, the NumPy reference makes exactly the same moves."""
    N, K, T = 30, 20, {2: 0.6, 3: 0.4, 4: 0.15}[P]
    xi = patterns.rademacher(jax.random.key(4), N, K, 1)[0]
    init, step = dynamics.DYNAMICS[rule](N, K, P=P)
    st = init(jax.random.key(5), xi[:, 0], xi)
    ref = bench.NumpyReference(np.asarray(xi), np.asarray(xi[:, 0]), P, False, 1 / T, rule=rule)
    for _ in range(5):
        _, sub = jax.random.split(st.key)
        u = np.asarray(jax.random.uniform(sub, (N,), jnp.float64))
        st = step(st, xi, 1 / T)
        ref.sweep(u)
        np.testing.assert_array_equal(ref.sigma, np.asarray(st.sigma))
    np.testing.assert_array_equal(ref.M, np.asarray(energy.overlaps(st.sigma, xi)))
    assert ref.accepted == int(st.accepted) > 0
    i = 3
    assert ref.delta(i) == pytest.approx(float(energy.delta_energy(st.sigma, xi, st.M, i, P=P)), rel=1e-12)
