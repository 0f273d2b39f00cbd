"""Energies (any P, both conventions), exact incremental updates, arithmetic plans, state bookkeeping."""
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from densehebb.montecarlo import dynamics, energy, patterns, polynomials


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


@pytest.mark.parametrize("P", [2, 3, 4, 5, 6, 7, 8])
def test_newton_polynomial_is_the_elementary_symmetric_polynomial(P):
    """Q_P(M, N) = P! e_P(x) for random +-1 vectors x (M = sum x), and the flip polynomial G is exact."""
    rng = np.random.default_rng(P)
    Q = polynomials.energy_polynomial(P)
    G, c = polynomials.flip_polynomial(P)
    Msym, Nsym, Ysym = sp.symbols("M N y")
    for n in (P, P + 3):
        x = rng.choice([-1, 1], size=n)
        eP = sum(math.prod(x[list(t)]) for t in itertools.combinations(range(n), P))
        assert Q.subs({Msym: int(x.sum()), Nsym: n}) == math.factorial(P) * eP
        # flip of site 0: e_P(x') - e_P(x) = -2 x_0 e_{P-1}(x_1..x_{n-1}) = c-normalised G
        rest = x[1:]
        e_rest = sum(math.prod(rest[list(t)]) for t in itertools.combinations(range(n - 1), P - 1))
        assert G.subs({Ysym: int(rest.sum()), Nsym: n}) == math.factorial(P - 1) * e_rest


@pytest.mark.parametrize("self_interaction", [False, True], ids=["distinct", "all-tuples"])
@pytest.mark.parametrize("P", [2, 3, 4, 5])
def test_energy_matches_tuple_sum_definition(P, self_interaction):
    """H from the overlaps equals the brute-force sum over index tuples (the definition)."""
    n, k = 7, 3
    xi = patterns.rademacher(jax.random.key(P), n, k, 1)[0]
    for trial in range(3):
        sigma = random_spins(jax.random.key(100 + trial), (n,))
        ref = energy.energy_reference(sigma, xi, P, self_interaction)
        assert float(energy.energy(sigma, xi, P, self_interaction)) == pytest.approx(ref, rel=1e-13, abs=1e-15)


def test_conventions_match_the_documented_closed_forms():
    """all tuples: H = -(N/P!) sum m^P; distinct P = 3: H = -(1/(6N^2)) sum (M^3 - 3MN + 2M)."""
    n, k = 10, 4
    xi = patterns.rademacher(jax.random.key(9), n, k, 1)[0]
    sigma = random_spins(jax.random.key(10), (n,))
    M = np.asarray(energy.overlaps(sigma, xi), float)
    for P in (2, 3, 4, 6):
        want = -(n / math.factorial(P)) * np.sum((M / n) ** P)
        assert float(energy.energy(sigma, xi, P, True)) == pytest.approx(want, rel=1e-13)
    want3 = -np.sum(M**3 - 3 * M * n + 2 * M) / (6 * n**2)
    assert float(energy.energy(sigma, xi, 3)) == pytest.approx(want3, rel=1e-13)


@pytest.mark.parametrize("self_interaction", [False, True], ids=["distinct", "all-tuples"])
@pytest.mark.parametrize("P", [2, 3, 4, 6, 8])
def test_delta_energy_matches_recomputation(P, self_interaction):
    n, k = 13, 5
    xi = patterns.rademacher(jax.random.key(3), n, k, 1)[0]
    for trial in range(2):
        sigma = random_spins(jax.random.key(10 + trial), (n,))
        M = energy.overlaps(sigma, xi)
        e0 = float(energy.energy(sigma, xi, P, self_interaction))
        scale = max(abs(e0), 1e-3)
        for i in range(n):
            flipped = sigma.at[i].multiply(-1)
            exact = float(energy.energy(flipped, xi, P, self_interaction)) - e0
            inc = float(energy.delta_energy(sigma, xi, M, i, P, self_interaction))
            assert inc == pytest.approx(exact, abs=1e-12 * scale)


def _exact_flip_sum(M, row, s, plan):
    """n = sum_mu x G'(M - x) in Python integers."""
    total = 0
    for m, r in zip(np.asarray(M).tolist(), np.asarray(row).tolist()):
        x = s * r
        y = m - x
        g = sum(c * y ** (2 * j) for j, c in enumerate(plan.coeffs)) * (y if plan.parity else 1)
        total += x * g
    return total


@pytest.mark.parametrize("P, si, N, K, compute", [
    (4, False, 128, 3000, "int32"),   # int32 chunks; the true sum far exceeds 2^31
    (4, True, 100, 4000, "int32"),
    (8, False, 40, 300, "int64"),     # terms too large for int32
    (6, True, 300, 64, "int64"),
])
def test_flip_sum_is_exact_integer_arithmetic(P, si, N, K, compute):
    """Extreme overlaps (sigma = pattern 0 plus correlated patterns): the chunked sum equals Python ints."""
    plan = polynomials.flip_plan(P, si, N, K)
    assert plan.compute == compute and plan.exact
    rng = np.random.default_rng(0)
    base = rng.choice([-1, 1], size=N)
    # patterns that all nearly equal sigma: |M_mu| close to N, the worst case for the bound
    flips = rng.random((N, K)) < 0.02
    xi = np.where(flips, -base[:, None], base[:, None]).astype(np.int8)
    M = base @ xi.astype(np.int64)
    assert np.abs(M).min() > 0.6 * N
    for i in (0, N // 2):
        n = energy.flip_sum(jnp.asarray(M, jnp.int32), jnp.asarray(xi[i]), jnp.int8(base[i]), plan)
        exact = _exact_flip_sum(M, xi[i], int(base[i]), plan)
        assert abs(exact) > 2**31 or compute == "int64"
        assert int(n) == exact


def test_float_fallback_is_accurate_and_flagged():
    plan = polynomials.flip_plan(8, False, 1000, 10)
    assert plan.compute == "float64" and not plan.exact
    rng = np.random.default_rng(1)
    xi = rng.choice([-1, 1], size=(1000, 10)).astype(np.int8)
    sigma = xi[:, 0].copy()
    M = sigma.astype(np.int64) @ xi
    n = float(energy.flip_sum(jnp.asarray(M, jnp.int32), jnp.asarray(xi[3]), jnp.int8(sigma[3]), plan))
    exact = _exact_flip_sum(M, xi[3], int(sigma[3]), plan)
    assert n == pytest.approx(exact, rel=1e-12)


def test_plan_chunks_respect_the_bound():
    for args in [(2, False, 1024, 140), (4, False, 64, 13107), (4, False, 128, 104857), (5, False, 200, 1000),
                 (3, True, 5000, 7000)]:
        plan = polynomials.flip_plan(*args)
        limit = 2**31 - 1 if plan.compute == "int32" else 2**63 - 1
        assert plan.chunk * plan.term_bound <= limit
        # the bound is an upper bound of |G'| over the reachable cavity overlaps
        ys = np.arange(-(args[2] - 1), args[2])
        g = [abs(sum(c * int(y) ** (2 * j) for j, c in enumerate(plan.coeffs)) * (int(y) if plan.parity else 1))
             for y in ys[:: max(1, len(ys) // 500)]]
        assert max(g) <= plan.term_bound


def test_bad_p_rejected():
    for bad in (1, 0, 2.5, True, "3"):
        with pytest.raises(ValueError, match="P must be an integer >= 2"):
            energy.delta_energy_fn(bad)
    with pytest.raises(ValueError, match="P must be <= 8"):
        energy.check_order(9)
    with pytest.raises(ValueError, match="P must be <= 8"):
        dynamics.glauber(6, 2, P=9)


def test_overlap_dtypes():
    assert energy.overlap_dtype(127) == jnp.int8 and energy.overlap_dtype(128) == jnp.int16
    assert energy.overlap_dtype(40000) == jnp.int32


@pytest.mark.parametrize("P, self_interaction, dyn", [
    pytest.param(2, False, "glauber", marks=pytest.mark.slow), pytest.param(2, True, "metropolis", marks=pytest.mark.slow),
    (4, False, "metropolis"), pytest.param(3, True, "glauber", marks=pytest.mark.slow)])
def test_tracked_overlaps_and_energy_stay_exact(P, self_interaction, dyn):
    """After many sweeps: M == xi^T sigma, H(M) == H(sigma), E0 + sum of accepted dH == E_final."""
    n, k, chains, sweeps = 37, 5, 4, 200  # n odd: not a multiple of the loop unroll
    xi = patterns.rademacher(jax.random.key(4), n, k, 1)[0]
    init, step = dynamics.DYNAMICS[dyn](n, k, P=P, self_interaction=self_interaction)
    start = random_spins(jax.random.key(5), (chains, n))
    state = jax.vmap(init, in_axes=(0, 0, None))(jax.random.split(jax.random.key(6), chains), start, xi)
    e0 = np.asarray(energy.energy(start, xi, P, self_interaction))
    T = {2: 0.7, 3: 0.3, 4: 0.15}[P]
    state = jax.jit(jax.vmap(lambda s: dynamics.run_sweeps(step, s, xi, 1 / T, sweeps)))(state)

    assert state.M.dtype == jnp.int8 and state.sigma.dtype == jnp.int8
    np.testing.assert_array_equal(state.M, energy.overlaps(state.sigma, xi))
    e_tracked = np.asarray(dynamics.state_energy(state, n, P, self_interaction))
    e_exact = np.asarray(energy.energy(state.sigma, xi, P, self_interaction))
    np.testing.assert_allclose(e_tracked, e_exact, rtol=0, atol=1e-12)
    np.testing.assert_allclose(e0 + np.asarray(state.energy_change), e_exact, rtol=0, atol=1e-9)
    assert np.all(np.asarray(state.sweeps) == sweeps)
    assert np.all(np.asarray(state.attempts) == sweeps * n)
    acc = np.asarray(state.accepted)
    assert np.all((acc > 0) & (acc < sweeps * n))
    assert np.all(np.abs(np.asarray(state.sigma)) == 1)


@pytest.mark.slow
def test_unroll_does_not_change_results():
    n, k = 21, 3
    xi = patterns.rademacher(jax.random.key(8), n, k, 1)[0]
    start = random_spins(jax.random.key(9), (n,))
    out = []
    for unroll in (1, 4):
        init, step = dynamics.glauber(n, k, P=3, unroll=unroll)
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
