"""Monte Carlo of examples of diluted archetypes (blank archetype entries blank in every example).

Energies against the definition (explicit e_P in exact rational arithmetic) for both protocols, both
conventions, P = 2..5; incremental flips and the overlap bookkeeping against recomputation; d = 0 gives the
plain example pattern sets; the supervised class-mean power sums and the unsupervised per-example power sums
(montecarlo.polynomials.example_plan(diluted=True)) stay exact with xi in {-1, 0, 1}.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import densehebb as dh
from densehebb.montecarlo import learning, patterns

PROTOCOLS = [pytest.param(True, id="supervised"), pytest.param(False, id="unsupervised")]
CONVENTIONS = [pytest.param(False, id="distinct"), pytest.param(True, id="all-tuples")]


def spins(seed, shape):
    return jnp.where(jax.random.bernoulli(jax.random.key(seed), 0.5, shape), 1, -1).astype(jnp.int8)


def diluted_examples(M, r, supervised, d, normalisation="r"):
    return learning.DilutedExamples(dh.Examples(M=M, r=r, supervised=supervised, normalisation=normalisation), d)


def test_blanks_are_kept_and_d0_is_plain():
    key = jax.random.key(5)
    xi, chi = patterns.draw_examples(key, 400, 3, 4, 0.5, 2, dilution=0.4)
    assert 0.3 < float(jnp.mean(xi == 0)) < 0.5
    for sup in (True, False):
        W = patterns.examples(key, 400, 3, 4, 0.5, 2, sup, dilution=0.4)
        np.testing.assert_array_equal(W[..., 0], xi)
        blank = (xi == 0)[..., None]
        assert bool(jnp.all(jnp.where(blank, W[..., 1:] == 0, True)))           # blank in every example
        assert bool(jnp.all(jnp.where(~blank, W[..., 1:] != 0, True))) or sup   # (supervised S may vanish)
        np.testing.assert_array_equal(patterns.examples(key, 50, 3, 4, 0.5, 2, sup, dilution=0.0),
                                      patterns.examples(key, 50, 3, 4, 0.5, 2, sup))


@pytest.mark.parametrize("supervised", PROTOCOLS)
@pytest.mark.parametrize("self_interaction", CONVENTIONS)
@pytest.mark.parametrize("P", [2, 3, 4, 5])
def test_energy_is_the_definition(P, self_interaction, supervised):
    N, K, M, r, d = 8, 2, 3, 0.6, 0.4
    xi, chi = patterns.draw_examples(jax.random.key(P), N, K, M, r, dilution=d)
    assert int(jnp.sum(xi[0] == 0)) > 0
    W = patterns.example_patterns(xi[0], chi[0], supervised=supervised)
    for norm in ("r", "R"):
        ex = diluted_examples(M, r, supervised, d, norm)
        for seed in range(3):
            s = spins(10 * P + seed, (N,))
            ref = learning.energy_reference(s, xi[0], chi[0], P, self_interaction, ex)
            assert float(learning.energy(s, W, P, self_interaction, ex)) == pytest.approx(ref, rel=1e-13, abs=1e-15)


def test_plain_unsupervised_energy_is_wrong_with_blanks():
    """The check above can fail: the plain unsupervised energy (which assumes xi^2 = 1) misses the blanks."""
    N, K, M, r, d, P = 8, 2, 3, 0.6, 0.4, 3
    xi, chi = patterns.draw_examples(jax.random.key(P), N, K, M, r, dilution=d)
    W = patterns.example_patterns(xi[0], chi[0], supervised=False)
    ex = dh.Examples(M=M, r=r, supervised=False)
    s = spins(30, (N,))
    ref = learning.energy_reference(s, xi[0], chi[0], P, False, ex)
    assert abs(float(learning.energy(s, W, P, False, ex)) - ref) > 1e-6


# incremental flips with diluted archetypes: test_mc_learning.py::test_incremental_flips_match_recomputation


# ------------------------------------------------------------------------------------------- physics
@pytest.mark.slow      # about 20 s on 2 cores
def test_protocols_agree_with_each_other_and_with_theory():
    """P = 2, K = 3, d = 0.4, M = 5, r = 0.8, T = 0.1, N = 5000 (4 samples x 2 replicas, 300 sweeps from the
    T = 0 hierarchical start): the sorted archetype amplitudes and the class-mean overlap of the supervised
    and the unsupervised network agree within 4 combined errors, and each agrees with the low-storage
    theory (theory.multitask_learning, the hierarchical state, the global minimum here) within 4 errors
    plus the finite-size allowance 3/sqrt(N) of tests/test_mc_diluted.py."""
    from densehebb import montecarlo
    from densehebb.theory import multitask_learning as ml

    P, K, M, r, d, T, N = 2, 3, 5, 0.8, 0.4, 0.1, 5000
    th = ml.solve_learning(dh.Model(P=P, storage="low", dilution=d, examples=dh.Examples(M=M, r=r)), K, T,
                           "global")
    assert th.values["winner"] == "hierarchical" and th.values["found"] == "hierarchical"
    out = {}
    for sup in (True, False):
        model = dh.Model(P=P, dilution=d, examples=dh.Examples(M=M, r=r, supervised=sup))
        ds = montecarlo.simulate(7, model, N=N, K=K, T=T, n_samples=4, n_replicas=2, sweeps=300, burn_in=100,
                                 init="hierarchical")
        s = montecarlo.summarize(ds)
        out[sup] = s
        m, err = np.array(s["m_levels"]), np.array(s["m_levels_err"])
        assert np.all(np.abs(m - th.m) < 4 * err + 3 / np.sqrt(N)), (sup, m, err, th.m)
        assert abs(s["n"] - th.n[0]) < 4 * s["n_err"] + 3 / np.sqrt(N)
    a, b = out[True], out[False]
    err = np.hypot(a["m_levels_err"], b["m_levels_err"])
    assert np.all(np.abs(np.array(a["m_levels"]) - np.array(b["m_levels"])) < 4 * err)
    assert abs(a["n"] - b["n"]) < 4 * np.hypot(a["n_err"], b["n_err"])


@pytest.mark.slow      # about 15 s
def test_T0_majority_vote_hierarchy():
    """T = 0 strict descent from the archetypes' hierarchical start (P = 2, K = 3, d = 0.2, M = 3, r = 0.8,
    N = 10^4): the network settles at the class-mean hierarchy of theory.multitask_learning.hierarchical_T0,
    m_k = (1-d) (P(S>0) - P(S<0)) p0^(k-1) = (0.7552, 0.15104, 0.030208) (a fixed point here: d < d* = 0.2638),
    for both protocols (the same examples and starts)."""
    from densehebb import montecarlo
    from densehebb.theory import multitask_learning as ml

    N, d = 10000, 0.2
    closed = ml.hierarchical_T0(3, dh.Examples(M=3, r=0.8), 2, d)[0]
    assert ml.hierarchical_margin_T0(2, 3, 3, 0.8, d) > 0
    for sup in (True, False):
        model = dh.Model(P=2, dilution=d, examples=dh.Examples(M=3, r=0.8, supervised=sup))
        ds = montecarlo.simulate(3, model, N=N, K=3, T=0.0, n_samples=2, n_replicas=2, sweeps=40, burn_in=20,
                                 init="hierarchical", dynamics="greedy")
        s = montecarlo.summarize(ds)
        m, err = np.array(s["m_levels"]), np.array(s["m_levels_err"])
        assert np.all(np.abs(m - closed) < 4 * err + 3 / np.sqrt(N)), (m, err, closed)
