"""Monte Carlo with diluted patterns (issue 12, docs/montecarlo.md "Diluted patterns").

Patterns xi in {-1, 0, +1} with P(0) = d; the energy is the plain storage energy with these patterns,
distinct indices H = -(1/N^(P-1)) sum_mu e_P(xi^mu o sigma), all tuples -(1/(P! N^(P-1))) sum_mu M_mu^P.
Checked here: the energy against the definition (explicit sums over index subsets), the O(K) flips against
energy differences, the sampler against exact enumeration of the Boltzmann distribution, d = 0 against the
plain Monte Carlo (same draws, same trajectories), the T = 0 hierarchical state at N = 10^4 against its
closed form m_k = (1 - d) d^(k-1), and the command line.
"""
import itertools
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

import densehebb as dh
from densehebb.montecarlo import dynamics, energy, engine, learning, patterns, simulate, summarize
from densehebb.phase_diagrams.cli import main as cli_main
from densehebb.theory.precision import x64

Dil = learning.DilutedPatterns


def _xi(seed, N, K, d):
    return np.asarray(patterns.diluted(jax.random.key(seed), N, K, d, 1)[0])


def _definition(sigma, xi, P, all_tuples):
    """H from the definition: explicit sum over index subsets i1 < ... < iP (e_P), or (sum_i x_i)^P / P!."""
    x = np.asarray(xi, np.int64) * np.asarray(sigma, np.int64)[:, None]        # (N, K)
    N = x.shape[0]
    total = 0.0
    for mu in range(x.shape[1]):
        if all_tuples:
            total += float(x[:, mu].sum()) ** P / math.factorial(P)
        else:
            total += sum(math.prod(int(x[i, mu]) for i in idx) for idx in itertools.combinations(range(N), P))
    return -total / N ** (P - 1)


# ------------------------------------------------------------------------------------------- patterns
@x64
def test_patterns_are_diluted_and_reduce_to_rademacher():
    key = jax.random.key(11)
    np.testing.assert_array_equal(patterns.diluted(key, 50, 4, 0.0, 3), patterns.rademacher(key, 50, 4, 3))
    xi = np.asarray(patterns.diluted(key, 20000, 3, 0.3, 2))
    assert set(np.unique(xi)) == {-1, 0, 1}
    blank = (xi == 0).mean()
    assert abs(blank - 0.3) < 4 * math.sqrt(0.3 * 0.7 / xi.size)
    assert abs((xi == 1).mean() - 0.35) < 4 * math.sqrt(0.35 * 0.65 / xi.size)
    # sample s depends on (key, s) only; the non-blank entries are the Rademacher signs of the same key
    np.testing.assert_array_equal(patterns.diluted(key, 20000, 3, 0.3, 5)[1], xi[1])
    plain = np.asarray(patterns.rademacher(key, 20000, 3, 2))
    np.testing.assert_array_equal(xi[xi != 0], plain[xi != 0])
    with pytest.raises(ValueError, match="dilution"):
        patterns.diluted(key, 5, 2, 1.0)


# ------------------------------------------------------------------------------------------- energies
CASES = [(P, d, si) for P in (2, 3, 4) for d in (0.3, 0.7) for si in (False, True)]


@x64
@pytest.mark.parametrize("P, d, si", CASES, ids=[f"P{P}-d{d}-{'all' if si else 'distinct'}" for P, d, si in CASES])
def test_energy_and_flips_are_the_definition(P, d, si):
    N, K = 8, 3
    seed = next(s for s in range(100) if (np.abs(_xi(s, N, K, d)).sum(axis=0) > 1).all())
    xi = _xi(seed, N, K, d)
    assert (xi == 0).any()
    W = patterns.diluted_patterns(xi)
    rng = np.random.default_rng(P)
    ex = Dil(d)
    plan = learning.plan_for(N, K, P, si, ex)
    for sigma in rng.choice([-1, 1], size=(4, N)).astype(np.int8):
        H = float(learning.energy(sigma, W, P, si, ex))
        assert H == pytest.approx(_definition(sigma, xi, P, si), abs=1e-12)
        M = learning.initial_overlaps(jnp.asarray(sigma), W, plan)
        for i in range(N):
            flipped = sigma.copy()
            flipped[i] = -flipped[i]
            dH = float(learning.delta_energy(sigma, W, M, i, P, si, ex))
            assert dH == pytest.approx(_definition(flipped, xi, P, si) - H, abs=1e-12)
    if P >= 3 and not si:
        # teeth: the plain-pattern formula Q(M, N) (even power sums = N) is not the diluted energy
        sigma = rng.choice([-1, 1], size=N).astype(np.int8)
        wrong = float(energy.energy(sigma, xi, P, si))
        assert abs(wrong - _definition(sigma, xi, P, si)) > 1e-3


# ------------------------------------------------------------------------------- exact enumeration
NE, KE, CHAINS, SWEEPS = 8, 3, 20000, 30
STATES = np.array(list(itertools.product([-1, 1], repeat=NE)), dtype=np.int8)


def _counts(xi, d, P, si, dyn, T, seed):
    init, step = dynamics.DYNAMICS[dyn](NE, KE, P=P, self_interaction=si, examples=Dil(d))
    W = patterns.diluted_patterns(xi)
    keys = jax.random.split(jax.random.key(seed), CHAINS)
    start = jnp.where(jax.random.bernoulli(jax.random.key(seed + 1), 0.5, (CHAINS, NE)), 1, -1).astype(jnp.int8)
    state = jax.vmap(init, in_axes=(0, 0, None))(keys, start, W)
    run = jax.jit(jax.vmap(lambda s: dynamics.run_sweeps(step, s, W, 1.0 / T, SWEEPS)))
    sig = np.asarray(run(state).sigma)
    idx = ((sig > 0) * (1 << np.arange(NE - 1, -1, -1))).sum(axis=-1)
    return np.bincount(idx, minlength=2**NE)


def _pvalue(counts, E, T):
    w = np.exp(-(E - E.min()) / T)
    expected = w / w.sum() * counts.sum()
    big = expected >= 5
    obs, exp = counts[big], expected[big]
    if expected[~big].sum() > 0:                               # states with expected count < 5: one bin
        obs, exp = np.append(obs, counts[~big].sum()), np.append(exp, expected[~big].sum())
    assert big.sum() > 20
    return scipy.stats.chisquare(obs, exp).pvalue


EXACT = [(2, 0.5, False, "glauber", 0.5), (3, 0.3, False, "metropolis", 0.3), (3, 0.5, True, "glauber", 0.3)]


@x64
@pytest.mark.parametrize("P, d, si, dyn, T", EXACT, ids=[f"P{c[0]}-d{c[1]}-{'all' if c[2] else 'distinct'}-{c[3]}"
                                                          for c in EXACT])
def test_sampler_matches_boltzmann(P, d, si, dyn, T):
    xi = _xi(100 + P, NE, KE, d)
    E = np.array([_definition(s, xi, P, si) for s in STATES])
    counts = _counts(xi, d, P, si, dyn, T, seed=P)
    assert _pvalue(counts, E, T) > 1e-3
    assert _pvalue(counts, E, 1.3 * T) < 1e-6                 # a wrong temperature is rejected
    if P >= 3 and not si:                                      # so is the plain-pattern formula Q(M, N)
        wrong = np.asarray(energy.energy(STATES, xi, P, si))
        assert _pvalue(counts, wrong, T) < 1e-6


# ------------------------------------------------------------------------------------------- d = 0
@x64
@pytest.mark.parametrize("P", [2, 3])
def test_zero_dilution_reproduces_plain_monte_carlo(P):
    """The diluted machinery at d = 0 gives the plain chains exactly (same patterns, keys, decisions)."""
    N, K, C = 64, 4, 6
    key = jax.random.key(7)
    xi = patterns.diluted(key, N, K, 0.0, 1)[0]
    np.testing.assert_array_equal(xi, patterns.rademacher(key, N, K, 1)[0])
    W = patterns.diluted_patterns(xi)
    T = 0.4 if P == 2 else 0.15
    beta = jnp.full((C,), 1.0 / T)
    keys = jax.random.split(jax.random.key(1), C)
    start = jnp.where(jax.random.bernoulli(jax.random.key(2), 0.5, (C, N)), 1, -1).astype(jnp.int8)
    out = []
    for ex, pat in ((None, xi), (Dil(0.0), W)):
        init, _ = dynamics.glauber(N, K, P=P, examples=ex)
        step = jax.jit(dynamics.batched_step(N, K, "glauber", P, examples=ex))
        st = jax.vmap(init, in_axes=(0, 0, None))(keys, start, pat)
        for _ in range(20):
            st = step(st, pat, beta)
        out.append(st)
    np.testing.assert_array_equal(out[0].sigma, out[1].sigma)
    np.testing.assert_array_equal(out[0].M, out[1].M[..., 0])
    assert int(out[0].accepted.sum()) > 0
    np.testing.assert_allclose(energy.energy_from_overlaps(out[0].M, N, P),
                               energy.energy_from_overlaps(out[1].M, N, P, examples=Dil(0.0)), atol=1e-12)


# ------------------------------------------------------------------------------------------- inits
@x64
def test_hierarchical_and_pattern_starts():
    xi = jnp.asarray([[[0, 1, -1], [-1, 1, 0], [0, 0, 1], [0, 0, 0], [1, 0, 0]]], jnp.int8)   # (1, N=5, K=3)
    key = jax.random.key(0)
    h = np.asarray(engine.initial_spins(key, xi, "hierarchical", 1, 2))[0, 0]
    r = np.asarray(engine.initial_spins(key, xi, "random", 1, 2))[0, 0]
    p = np.asarray(engine.initial_spins(key, xi, "pattern", 1, 2))[0, 0]
    np.testing.assert_array_equal(h[:, [0, 1, 2, 4]], [[1, -1, 1, 1]] * 2)
    assert h[0, 3] == r[0, 3] and h[1, 3] == r[1, 3]          # all blank: the random start's spin
    np.testing.assert_array_equal(p[:, [1, 4]], [[-1, 1]] * 2)
    np.testing.assert_array_equal(p[:, [0, 2, 3]], r[:, [0, 2, 3]])


# ------------------------------------------------------------------------------------------- physics
def test_hierarchical_state_is_a_zero_temperature_fixed_point():
    """P = 2, K = 3, N = 10^4.  d = 0.5 (1 - 2d + d^3 > 0): from the hierarchical configuration the T = 0
    dynamics keeps every overlap exactly (only all-blank sites, which enter no overlap, flip), and the
    overlaps are m_k = (1 - d) d^(k-1) = 0.5, 0.25, 0.125 up to the O(1/sqrt(N)) sampling of the patterns.
    d = 0.7 (1 - 2d + d^3 < 0): the sites whose first pattern is outvoted by the next two flip, so it moves."""
    N, K, seed = 10_000, 3, 3
    got = {}
    for d in (0.5, 0.7):
        ds = simulate(seed, dh.Model(P=2, dilution=d), N=N, K=K, T=0.0, n_samples=2, n_replicas=2, sweeps=8,
                      burn_in=4, init="hierarchical")
        s = summarize(ds)
        got[d] = np.asarray(s["m_levels"])
        # the start: the same patterns (stream 0 of the run key) and the hierarchical configuration
        xi = patterns.diluted(jax.random.fold_in(jax.random.key(seed), 0), N, K, d, 2)
        sigma = engine.initial_spins(jax.random.key(0), xi, "hierarchical", 1, 1)[:, 0, 0]          # (S, N)
        m0 = np.einsum("sik,si->sk", np.asarray(xi, np.int64), np.asarray(sigma, np.int64)) / N
        closed = (1 - d) * d ** np.arange(K)
        np.testing.assert_allclose(m0, np.broadcast_to(closed, m0.shape), atol=5 / math.sqrt(N))
        mattis = ds["mattis"].values.mean(axis=(1, 2))                                               # (S, K)
        if d == 0.5:
            np.testing.assert_allclose(mattis, m0, rtol=0, atol=1e-12)
            np.testing.assert_allclose(got[d], closed, atol=5 / math.sqrt(N))
            assert s["n_condensed_counts"] == [0, 0, 0, 4]
            assert ds.attrs["dilution"] == 0.5 and ds.attrs["overlaps"] == "unnormalised"
        else:
            assert np.max(np.abs(mattis - m0)) > 0.005
            assert np.all(mattis[:, 0] < m0[:, 0] - 0.005)        # the first level loses the outvoted sites
    ds = simulate(seed, dh.Model(P=2, dilution=0.5), N=N, K=K, T=0.0, n_samples=2, n_replicas=2, sweeps=8,
                  burn_in=4, init="hierarchical", overlaps="normalised")
    np.testing.assert_allclose(summarize(ds)["m_levels"], got[0.5] / 0.5, rtol=1e-12)
    assert ds.attrs["overlaps"] == "normalised"


def _low_storage_fixed_point(P, K, d, T, m0):
    """m_mu = E_xi[xi_mu tanh(h / T)], h = sum_mu xi_mu m_mu^(P-1) / (P-1)!, the average over the 3^K
    configurations of xi in {-1, 0, 1}^K done exactly (damped iteration from m0); written here, independently
    of the theory package."""
    xs = np.array(list(itertools.product([-1, 0, 1], repeat=K)), float)
    w = np.prod(np.where(xs == 0, d, (1 - d) / 2), axis=1)
    m = np.array(m0, float)
    for _ in range(20000):
        h = xs @ (m ** (P - 1)) / math.factorial(P - 1)
        new = (w[:, None] * xs * np.tanh(h / T)[:, None]).sum(0)
        if np.max(np.abs(new - m)) < 1e-13:
            return new
        m = 0.5 * (m + new)
    raise AssertionError("fixed point not reached")


@pytest.mark.slow
def test_amplitudes_match_the_low_storage_equations():
    """P = 2, K = 3, N = 20000, Glauber from the hierarchical start, 8 chains: hierarchical regime d = 0.5,
    T = 0.1 (theory 0.4953, 0.2440, 0.1144) level by level; parallel regime d = 0.8, T = 0.1 (theory: three
    equal amplitudes 0.1520), where sorting spreads the levels by their fluctuations, so their mean is
    compared."""
    N = 20_000
    for d, T in ((0.5, 0.1), (0.8, 0.1)):
        th = np.sort(np.abs(_low_storage_fixed_point(2, 3, d, T, (1 - d) * d ** np.arange(3))))[::-1]
        ds = simulate(1, dh.Model(P=2, dilution=d), N=N, K=3, T=T, n_samples=4, n_replicas=2, sweeps=300,
                      burn_in=100, init="hierarchical")
        s = summarize(ds)
        m, err = np.asarray(s["m_levels"]), np.asarray(s["m_levels_err"])
        if d == 0.5:
            assert th[2] > 0.1 and th[0] > th[1] > th[2]
            assert np.all(np.abs(m - th) < 4 * err + 3 / math.sqrt(N)), (m, err, th)
        else:
            assert np.ptp(th) < 1e-9 and th[0] > 0.1
            assert abs(m.mean() - th[0]) < 4 * err.max() + 3 / math.sqrt(N), (m, err, th)
            assert np.ptp(m) < 0.03
        assert s["n_condensed_counts"] == [0, 0, 0, 8]


# ------------------------------------------------------------------------------------------- CLI
def test_cli_diluted_json(capsys):
    rc = cli_main(["mc", "--P", "2", "--K", "3", "--N", "400", "--dilution", "0.5", "--T", "0.1", "--samples", "2",
                   "--sweeps", "20", "--init", "hierarchical", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["m"]) == 3 and len(out["m_err"]) == 3 and out["m"] == sorted(out["m"], reverse=True)
    assert out["dilution"] == 0.5 and out["overlaps"] == "unnormalised" and out["K"] == 3
    assert out["dynamics"] == "glauber" and out["convention"] == "distinct-indices"
    assert sum(out["n_condensed_counts"]) == 4 and out["storage"] == "low"


@pytest.mark.parametrize("extra, message", [
    (["--K", "3", "--dilution", "1"], "dilution must lie in [0, 1)"),
    (["--K", "3", "--dilution", "-0.1"], "dilution must be >= 0"),
    (["--K", "0"], "K must be >= 1"),
    (["--K", "3", "--alpha", "0.01"], "not both"),
    ([], "give the load"),
    (["--K", "3", "--dilution", "0.3", "--dataset", "supervised", "--r", "0.5", "--M", "3", "--plefka"],
     "--plefka with --dilution is not available"),
    (["--K", "3", "--overlaps", "normalised"], "--overlaps applies with --dilution only"),
])
def test_cli_errors(capsys, extra, message):
    with pytest.raises(SystemExit) if message.startswith(("K must", "dilution must be")) else _noraise():
        rc = cli_main(["mc", "--N", "50", "--T", "0.1"] + extra)
        assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("densehebb: error:") and message in err and err.count("\n") == 1


class _noraise:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_cli_errors_come_before_jax(tmp_path):
    import subprocess
    import sys

    for argv in (["mc", "--N", "100", "--K", "3", "--dilution", "1", "--T", "0.1"],
                 ["mc", "--N", "100", "--K", "3", "--alpha", "0.1", "--T", "0.1"],
                 ["mc", "--N", "100", "--K", "3", "--dilution", "0.3", "--dataset", "unsupervised", "--r", "0.5",
                  "--M", "2", "--T", "0.1", "--plefka"]):
        probe = ("import sys; from densehebb.phase_diagrams.cli import main; "
                 f"rc = main({argv!r}); print(rc, 'jax' in sys.modules)")
        p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert p.stdout.split() == ["2", "False"], p.stdout + p.stderr
        assert p.stderr.startswith("densehebb: error:") and p.stderr.count("\n") == 1
