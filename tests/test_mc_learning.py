"""Monte Carlo of couplings built from examples (learning from examples, montecarlo.learning).

Pattern builders and their order of draws; energies against the definition (explicit e_P, exact rational
arithmetic) for both protocols, both conventions and both normalisations, P = 2..5; incremental flips and
the overlap bookkeeping against recomputation; exact integer flip sums where int32 would overflow; r = 1
reproduces the plain storage Monte Carlo; the sampler against exact enumeration of the Boltzmann
distribution (N = 8); the majority-vote retrieval of a supervised network at low load and low T; the CLI.
"""
import itertools
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
import sympy as sp

import densehebb as dh
import densehebb.montecarlo as montecarlo
from densehebb.montecarlo import dynamics, energy, learning, patterns, polynomials

PROTOCOLS = [pytest.param(True, id="supervised"), pytest.param(False, id="unsupervised")]
CONVENTIONS = [pytest.param(False, id="distinct"), pytest.param(True, id="all-tuples")]


def spins(seed, shape):
    return jnp.where(jax.random.bernoulli(jax.random.key(seed), 0.5, shape), 1, -1).astype(jnp.int8)


# ------------------------------------------------------------------------------------------ the model
def test_examples_normalisation_field():
    ex = dh.Examples(M=4, r=0.5)
    assert ex.normalisation == "r" and ex.norm(3) == 0.5 ** 3
    R = 0.25 + 0.75 / 4
    assert dh.Examples(M=4, r=0.5, normalisation="R").norm(3) == pytest.approx(R ** 1.5, rel=1e-15)
    assert dh.Examples(M=7, r=1.0, normalisation="R").norm(5) == 1.0
    with pytest.raises(ValueError, match="normalisation"):
        dh.Examples(M=4, r=0.5, normalisation="x")
    for bad in (dict(M=0, r=0.5), dict(M=2, r=0.0), dict(M=2, r=1.5), dict(M=2.0, r=0.5)):
        with pytest.raises(ValueError):
            dh.Examples(**bad)
    d = dh.Model(P=3, examples=dh.Examples(M=4, r=0.5, supervised=False, normalisation="R")).describe()
    assert (d["examples_M"], d["examples_r"], d["examples_supervised"], d["examples_normalisation"]) == (4, 0.5, 0, "R")


# ------------------------------------------------------------------------------------------ builders
def test_builders_order_of_draws():
    key = jax.random.key(5)
    N, K, M, r = 300, 4, 6, 0.4
    sup = patterns.examples(key, N, K, M, r, 3, supervised=True)
    uns = patterns.examples(key, N, K, M, r, 3, supervised=False)
    xi, chi = patterns.draw_examples(key, N, K, M, r, 3)
    assert sup.shape == (3, N, K, 2) and sup.dtype == jnp.int8
    assert uns.shape == (3, N, K, 1 + M) and uns.dtype == jnp.int8
    # archetypes: the plain patterns of the same key (stream 0); the same examples in both protocols
    np.testing.assert_array_equal(xi, patterns.rademacher(jax.random.fold_in(key, 0), N, K, 3))
    np.testing.assert_array_equal(sup[..., 0], xi)
    np.testing.assert_array_equal(uns[..., 0], xi)
    S = np.asarray(chi, np.int64).sum(axis=1)
    np.testing.assert_array_equal(sup[..., 1], S * np.asarray(xi))
    np.testing.assert_array_equal(uns[..., 1:], np.moveaxis(np.asarray(chi), 1, -1) * np.asarray(xi)[..., None])
    # chi^{mu,a} of sample s from fold_in(fold_in(fold_in(key, 4), s), a)
    k = jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(key, 4), 2), 3)
    np.testing.assert_array_equal(chi[2, 3], np.where(jax.random.bernoulli(k, 0.7, (N, K)), 1, -1))
    # a sample does not depend on the number of samples; quality r is the mean of chi
    np.testing.assert_array_equal(patterns.examples(key, N, K, M, r, 5, supervised=False)[:3], uns)
    c = np.asarray(chi, float)
    assert abs(c.mean() - r) < 4 * np.sqrt((1 - r * r) / c.size)
    # r = 1: every example is its archetype
    one = patterns.examples(key, N, K, M, 1.0, 1, supervised=False)[0]
    np.testing.assert_array_equal(one, np.repeat(np.asarray(one[..., :1]), 1 + M, axis=-1))


# ---------------------------------------------------------------------------------------- energies
@pytest.mark.parametrize("supervised", PROTOCOLS)
@pytest.mark.parametrize("self_interaction", CONVENTIONS)
@pytest.mark.parametrize("P", [2, 3, 4, 5])
def test_energy_is_the_definition(P, self_interaction, supervised):
    N, K, M, r = 7, 2, 3, 0.6
    xi, chi = patterns.draw_examples(jax.random.key(P), N, K, M, r)
    W = patterns.example_patterns(xi[0], chi[0], supervised=supervised)
    for norm in ("r", "R"):
        ex = dh.Examples(M=M, r=r, supervised=supervised, normalisation=norm)
        for seed in range(3):
            s = spins(10 * P + seed, (N,))
            ref = learning.energy_reference(s, xi[0], chi[0], P, self_interaction, ex)
            assert float(learning.energy(s, W, P, self_interaction, ex)) == pytest.approx(ref, rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("d", [0.0, 0.3])
@pytest.mark.parametrize("supervised", PROTOCOLS)
@pytest.mark.parametrize("self_interaction", CONVENTIONS)
@pytest.mark.parametrize("P", [2, 3, 4, 5])
def test_incremental_flips_match_recomputation(P, self_interaction, supervised, d):
    """dH of random flips == H(after) - H(before); the state overlaps stay equal to a recomputation (plain
    archetypes, and diluted ones d = 0.3 whose blanks stay blank in the examples)."""
    N, K, M, r = 12, 3, 4, 0.5
    ex = dh.Examples(M=M, r=r, supervised=supervised, normalisation="R" if P % 2 else "r")
    if d:
        ex = learning.DilutedExamples(ex, d)
    W = patterns.examples(jax.random.key(P), N, K, M, r, 1, supervised, dilution=d)[0]
    plan = learning.plan_for(N, K, P, self_interaction, ex)
    s = np.asarray(spins(P, (N,)))
    Mst = learning.initial_overlaps(s, W, plan)
    E = float(learning.energy(s, W, P, self_interaction, ex))
    scale = abs(E) + 1e-3
    rng = np.random.default_rng(P)
    for i in rng.integers(0, N, 25):
        dH = float(learning.delta_energy(s, W, Mst, i, P, self_interaction, ex))
        Mst = learning.flip_update(Mst, W[i], s[i], True, plan)
        s = s.copy()
        s[i] = -s[i]
        E1 = float(learning.energy(s, W, P, self_interaction, ex))
        assert dH == pytest.approx(E1 - E, abs=1e-12 * scale)
        np.testing.assert_array_equal(Mst, learning.initial_overlaps(s, W, plan))
        E = E1


@pytest.mark.parametrize("supervised", PROTOCOLS)
def test_sweeps_keep_exact_bookkeeping(supervised):
    """Through the dynamics: overlaps after many accepted flips equal a recomputation, and the summed dH of
    the accepted flips equals the energy difference (P = 4, both conventions)."""
    N, K, M = 30, 3, 5
    for si in (False, True):
        ex = dh.Examples(M=M, r=0.3, supervised=supervised)
        W = patterns.examples(jax.random.key(1), N, K, M, 0.3, 1, supervised)[0]
        init, step = dynamics.metropolis(N, K, P=4, self_interaction=si, examples=ex)
        st = init(jax.random.key(2), spins(3, (N,)), W)
        E0 = float(dynamics.state_energy(st, N, 4, si, ex))
        st = jax.jit(lambda s: dynamics.run_sweeps(step, s, W, 1.0 / 50, 20))(st)
        plan = learning.plan_for(N, K, 4, si, ex)
        assert int(st.accepted) > 200
        np.testing.assert_array_equal(st.M, learning.initial_overlaps(st.sigma, W, plan))
        E1 = float(learning.energy(st.sigma, W, 4, si, ex))
        assert float(st.energy_change) == pytest.approx(E1 - E0, abs=1e-10 * (abs(E0) + abs(E1)))


def test_flip_sums_are_exact_integers_beyond_int32():
    """Supervised P = 4 at M = 40: the flip sum equals the exact integer -dS / (2 g P) (S = sum_mu Q(Z)),
    evaluated with Python integers, although single terms exceed 2^31."""
    N, K, M, P = 60, 40, 40, 4
    ex = dh.Examples(M=M, r=0.3)
    W = patterns.examples(jax.random.key(3), N, K, M, 0.3, 1, True)[0]
    plan = learning.plan_for(N, K, P, False, ex)
    assert plan.term_bound > 2**31 and plan.exact and plan.compute == "int64"
    Q = polynomials.supervised_energy_polynomial(P)
    Zs = polynomials._ZS[:P]
    f = sp.lambdify(Zs, Q, modules=[{}])

    def S_exact(Mst):
        return sum(int(f(*[int(z) for z in row[1:]])) for row in np.asarray(Mst))

    s = np.asarray(spins(4, (N,)))
    Mst = learning.initial_overlaps(s, W, plan)
    assert int(learning.energy_sum_examples(Mst, plan)) == S_exact(Mst)
    for i in range(0, N, 7):
        n = int(learning.flip_sum_examples(Mst, W[i], s[i], plan))
        M2 = learning.flip_update(Mst, W[i], s[i], True, plan)
        dS = S_exact(M2) - S_exact(Mst)
        assert -dS % (2 * plan.gcd * P) == 0 and n == -dS // (2 * plan.gcd * P)
    # beyond int64 the plan says so (float64 fallback, not exact)
    big = learning.plan_for(1000, 10, 8, False, dh.Examples(M=1000, r=0.5))
    assert big.state_dtype == "float64" and not big.exact and not big.energy_exact


# ------------------------------------------------------------------------------- r = 1 is plain storage
@pytest.mark.parametrize("supervised", PROTOCOLS)
def test_r1_energies_equal_plain_storage(supervised):
    """r = 1 (every example is its archetype): the integer energy sums are M^P (supervised) or M
    (unsupervised) times the plain ones, exactly; the energies are bit-identical when M is a power of 2 and
    within one rounding otherwise (XLA divides by the exact integer denominator by multiplying with its
    rounded reciprocal, which depends on M); the flip energies agree to rounding."""
    N, K = 9, 3
    for P, si, M in ((2, False, 3), (3, False, 5), (4, True, 3), (5, False, 2), (4, False, 4), (3, True, 8)):
        ex = dh.Examples(M=M, r=1.0, supervised=supervised)
        W = patterns.examples(jax.random.key(P), N, K, M, 1.0, 1, supervised)[0]
        xi = jnp.asarray(W[..., 0], jnp.int8)
        s = spins(P, (64, N))
        plan = learning.plan_for(N, K, P, si, ex)
        St = jax.vmap(lambda x: learning.initial_overlaps(x, W, plan))(s)
        S_plain = np.asarray(energy.energy_sum(energy.overlaps(s, xi), N, P, si))
        np.testing.assert_array_equal(learning.energy_sum_examples(St, plan),
                                      S_plain * (M ** P if supervised else M))
        e_ex, e_plain = learning.energy(s, W, P, si, ex), energy.energy(s, xi, P, si)
        if M & (M - 1) == 0:
            np.testing.assert_array_equal(e_ex, e_plain)
        else:
            np.testing.assert_allclose(e_ex, e_plain, rtol=2.3e-16, atol=0)
        st = learning.initial_overlaps(s[0], W, plan)
        Mp = energy.overlaps(s[0], xi)
        for i in range(N):
            a = float(learning.delta_energy(s[0], W, st, i, P, si, ex))
            b = float(energy.delta_energy(s[0], xi, Mp, i, P, si))
            assert a == pytest.approx(b, rel=1e-15, abs=1e-300)


@pytest.mark.parametrize("supervised", PROTOCOLS)
def test_r1_reproduces_plain_simulation(supervised):
    """Same seed, r = 1: the archetypes are the plain patterns of the seed and the chains make the same
    moves -- identical time series of the energy and of m (M = 4: every factor M^P is a power of 2, so even
    the floating-point dH are bit-identical)."""
    kw = dict(N=48, K=3, T=[0.05, 0.3], n_samples=2, n_replicas=2, sweeps=40, burn_in=10, timeseries=True)
    plain = montecarlo.simulate(11, dh.Model(P=3), **kw)
    ex = montecarlo.simulate(11, dh.Model(P=3, examples=dh.Examples(M=4, r=1.0, supervised=supervised)), **kw)
    for name in ("energy_t", "m_t", "q_t", "acceptance", "mattis"):
        np.testing.assert_array_equal(ex[name].values, plain[name].values, err_msg=name)
    np.testing.assert_allclose(ex["n"].values, plain["m"].values, rtol=1e-14)


# ---------------------------------------------------------------------------- exact enumeration
N_EX, K_EX = 8, 2
STATES = np.array(list(itertools.product([-1, 1], repeat=N_EX)), dtype=np.int8)
CASES = {"supervised": (3, False, dh.Examples(M=3, r=0.5, supervised=True)),
         "unsupervised": (2, True, dh.Examples(M=3, r=0.6, supervised=False, normalisation="R"))}


def _dataset(ex, seed=21):
    return patterns.examples(jax.random.key(seed), N_EX, K_EX, ex.M, ex.r, 1, ex.supervised)[0]


def _exact(P, si, ex, W, T):
    E = np.asarray(learning.energy(STATES, W, P, si, ex))
    w = np.exp(-(E - E.min()) / T)
    p = w / w.sum()
    m = np.abs(STATES.astype(float) @ np.asarray(W[:, 0, 0], float)) / N_EX
    return p, float(p @ E) / N_EX, float(p @ m)


@pytest.mark.parametrize("case", list(CASES))
def test_sampler_matches_boltzmann(case):
    """Final states of 20000 chains (random start, 30 Glauber sweeps) vs the exact Boltzmann distribution
    (chi-square over the 256 states; fixed seeds, a correct sampler passes with probability 0.999); a 30%
    wrong temperature is rejected."""
    P, si, ex = CASES[case]
    W = _dataset(ex)
    T = 0.4 if ex.supervised else 0.6
    init, step = dynamics.glauber(N_EX, K_EX, P=P, self_interaction=si, examples=ex)
    n = 20000
    keys = jax.random.split(jax.random.key(1), n)
    st = jax.vmap(init, in_axes=(0, 0, None))(keys, spins(2, (n, N_EX)), W)
    st = jax.jit(jax.vmap(lambda s: dynamics.run_sweeps(step, s, W, 1.0 / T, 30)))(st)
    idx = ((np.asarray(st.sigma) > 0) * (1 << np.arange(N_EX - 1, -1, -1))).sum(axis=-1)
    counts = np.bincount(idx, minlength=2**N_EX)

    def pvalue(p):
        e = p * n
        big = e >= 5
        obs, exp = counts[big], e[big]
        if e[~big].sum() > 0:
            obs, exp = np.append(obs, counts[~big].sum()), np.append(exp, e[~big].sum())
        assert big.sum() > 20
        return scipy.stats.chisquare(obs, exp).pvalue

    assert pvalue(_exact(P, si, ex, W, T)[0]) > 1e-3
    assert pvalue(_exact(P, si, ex, W, 1.3 * T)[0]) < 1e-6


@pytest.mark.parametrize("case", list(CASES))
def test_simulate_mean_energy_and_overlap_match_enumeration(case):
    """simulate (the engine, sample 0 of seed 21 is the dataset above): mean H/N and mean |m| within 4
    standard errors of the exact Boltzmann averages."""
    P, si, ex = CASES[case]
    T = 0.4 if ex.supervised else 0.6
    _, e_exact, m_exact = _exact(P, si, ex, _dataset(ex), T)
    ds = montecarlo.simulate(21, dh.Model(P=P, convention="all-tuples" if si else "distinct-indices", examples=ex),
                             N=N_EX, K=K_EX, T=T, n_samples=1, n_replicas=32, sweeps=2100, burn_in=100,
                             init="random")
    s = montecarlo.summarize(ds)
    assert abs(s["energy"] - e_exact) < 4 * s["energy_err"], (s["energy"], s["energy_err"], e_exact)
    assert abs(s["m_abs"] - m_exact) < 4 * s["m_abs_err"], (s["m_abs"], s["m_abs_err"], m_exact)


# ------------------------------------------------------------------------------------------- physics
def majority_vote(M, r):
    """P(S > 0) - P(S < 0) for S = sum of M i.i.d. +-1 with P(+1) = (1 + r)/2."""
    p = (1 + r) / 2
    k = np.arange(M + 1)
    pk = scipy.stats.binom.pmf(k, M, p)
    S = 2 * k - M
    return float(pk[S > 0].sum() - pk[S < 0].sum()), float(pk @ np.abs(S))


@pytest.mark.parametrize("P", [2, 3])
def test_supervised_low_load_retrieves_the_majority_vote(P):
    """Supervised, K = 2, N = 2000, T = 0.01, started at the archetype: the chains settle at the
    majority-vote configuration sigma_i = sign(S_i xi_i), so m = P(S > 0) - P(S < 0) and
    n = E|S| / (r M).  Allowance: 4 standard errors of the finite-N sampling of S over the 4 x 2000 sites
    (sqrt((1 - m^2) / (4 N)) = 0.0055 here), plus 0.005 for the thermal / crosstalk flips; the
    sample-by-sample majority vote (1/N) sum_i sign(S_i) must match within 0.005."""
    N, K, M, r, n_s = 2000, 2, 7, 0.4, 4
    ex = dh.Examples(M=M, r=r)
    ds = montecarlo.simulate(3, dh.Model(P=P, examples=ex), N=N, K=K, T=0.01, n_samples=n_s, n_replicas=2,
                             sweeps=40, burn_in=20)
    m_mv, abs_S = majority_vote(M, r)
    W = patterns.examples(jax.random.key(3), N, K, M, r, n_s, True)
    S0 = np.asarray(W[:, :, 0, 1], float) * np.asarray(W[:, :, 0, 0], float)      # S_i of archetype 0
    m_sample = np.sign(S0).mean(axis=1)                                              # (n_s,)
    m_sim = ds["m"].mean("replica").values[:, 0]
    allowance = 4 * math.sqrt((1 - m_mv ** 2) / (n_s * N)) + 0.005
    assert abs(m_sim.mean() - m_mv) < allowance, (m_sim, m_mv)
    np.testing.assert_allclose(m_sim, m_sample, atol=0.005)
    n_sim = float(ds["n"].mean())
    assert abs(n_sim - abs_S / (r * M)) < 4 * math.sqrt(M / (n_s * N)) / (r * M) + 0.005


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_dataset_options(capsys):
    from densehebb.phase_diagrams.cli import main

    base = ["mc", "--N", "40", "--alpha", "0.075", "--T", "0.05", "--samples", "2", "--sweeps", "30",
            "--burn-in", "10", "--seed", "2", "--json"]
    assert main(base + ["--dataset", "supervised", "--r", "0.5", "--M", "3"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["dataset"], d["r"], d["M"], d["normalisation"], d["dynamics"], d["K"]) == \
        ("supervised", 0.5, 3, "r", "glauber", 3)
    assert d["norm"] == 0.25 and {"n", "n_err", "m", "energy"} <= set(d) and "x_max" not in d
    ds = dh.simulate(2, dh.Model(examples=dh.Examples(M=3, r=0.5)), N=40, K=3, T=0.05, n_samples=2, sweeps=30,
                     burn_in=10)
    s = dh.summarize(ds)
    for k in ("m", "n", "n_err", "energy"):
        assert d[k] == s[k], k
    assert main(base + ["--dataset", "unsupervised", "--r", "0.5", "--M", "2", "--normalisation", "R"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["dataset"] == "unsupervised" and d["normalisation"] == "R"
    assert {"n", "x_max", "x_max_err", "x_mean", "x_mean_err"} <= set(d)
    assert d["norm"] == pytest.approx((0.25 + 0.75 / 2) ** 1.0)
    assert main(base) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["dataset"] == "none" and "n" not in d and d["dynamics"] == "glauber"


@pytest.mark.parametrize("extra, message", [
    (["--dataset", "supervised", "--r", "0", "--M", "3"], "r must be > 0"),
    (["--dataset", "supervised", "--r", "1.5", "--M", "3"], "r must be <= 1"),
    (["--dataset", "unsupervised", "--r", "0.5", "--M", "0"], "M must be >= 1"),
    (["--dataset", "supervised", "--r", "0.5", "--M", "2.5"], "M must be an integer"),
    (["--dataset", "supervised", "--M", "3"], "needs the dataset quality --r"),
    (["--r", "0.5"], "--r applies with --dataset"),
    (["--normalisation", "R"], "--normalisation applies with --dataset"),
    (["--dataset", "labelled", "--r", "0.5", "--M", "3"], "invalid choice"),
])
def test_cli_dataset_errors(capsys, extra, message):
    from densehebb.phase_diagrams.cli import main

    argv = ["mc", "--N", "40", "--alpha", "0.002", "--T", "0.05"] + extra
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1 and err.startswith("densehebb: error:"), err
