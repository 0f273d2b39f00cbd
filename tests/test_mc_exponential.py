"""Monte Carlo and exact checks of the exponential / log-sum-exp networks at finite N (montecarlo.exponential).

Exact enumeration of the Boltzmann distribution of both energies against the sampler, the coincidence of the
two energies' T = 0 fixed points on random instances, the census against a brute-force count in exact
integer arithmetic, the overlap bookkeeping, the finite-N crossings against the theory, the CLI."""
import itertools
import json
import math
import subprocess
import sys

import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

from densehebb.montecarlo import exponential as ex  # noqa: E402
from densehebb.theory import exponential as th  # noqa: E402


def all_states(N):
    return np.array(list(itertools.product((-1, 1), repeat=N)), dtype=np.int64)


def lse_rows(a):
    m = a.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(a - m).sum(axis=1, keepdims=True)))[:, 0]


@pytest.mark.parametrize("energy,T", [("log-sum-exp", 1.5), ("exponential", 6.0)])
def test_metropolis_matches_exact_boltzmann(energy, T):
    """N = 6, K = 4: the sampled state distribution (pooled over chains and sweeps) against exact enumeration
    of exp(-E/T) over the 64 states; allowance: total-variation distance 0.03 (the statistical error is
    about 0.01), while the other energy's Gibbs measure at the same T is >= 0.1 away (the test can fail)."""
    N, K, lam = 6, 4, 0.5
    with jax.enable_x64(True):
        xi = ex.patterns(jax.random.key(3), N, K)
        C, n_sw, burn = 256, 300, 50
        st = ex.init_chains(jax.random.key(4), xi, jnp.broadcast_to(xi[0], (C, N)))
        st, (_, _, sig) = ex.sweeps(st, xi, lam, 1.0 / T, energy=energy, zero_T=False, n_sweeps=n_sw, record=True)
        sig = np.asarray(sig)[burn:].reshape(-1, N)
    X = all_states(N)
    lg = lse_rows(lam * (X @ np.asarray(xi, np.int64).T))
    idx = ((sig + 1) // 2) @ (1 << np.arange(N)[::-1])
    emp = np.bincount(idx, minlength=2**N) / idx.size

    def gibbs(en):
        E = -lg / lam if en == "log-sum-exp" else -np.exp(lg)
        w = np.exp(-(E - E.min()) / T)
        return w / w.sum()

    other = "exponential" if energy == "log-sum-exp" else "log-sum-exp"
    tv = 0.5 * np.abs(emp - gibbs(energy)).sum()
    tv_other = 0.5 * np.abs(emp - gibbs(other)).sum()
    assert tv < 0.03, (tv, tv_other)
    assert tv_other > 0.1, (tv, tv_other)


def test_overlap_bookkeeping_and_no_overflow():
    """The O(K) overlap updates equal the recomputed xi . sigma after Metropolis sweeps, for both energies,
    also at lam N far beyond float64's exp range (lam = 40, N = 24: G ~ e^960)."""
    with jax.enable_x64(True):
        for energy, lam, T in (("log-sum-exp", 1.0, 0.7), ("exponential", 40.0, 1.0), ("log-sum-exp", 40.0, 0.5)):
            N, K = 24, 300
            xi = ex.patterns(jax.random.key(5), N, K)
            s0 = jax.random.rademacher(jax.random.key(6), (8, N), dtype=jnp.int8)
            st = ex.init_chains(jax.random.key(7), xi, s0)
            st, (m, lg) = ex.sweeps(st, xi, lam, 1.0 / T, energy=energy, zero_T=False, n_sweeps=20)
            x = np.asarray(st.sigma, np.int64) @ np.asarray(xi, np.int64).T
            assert np.array_equal(np.asarray(st.x), x)
            assert np.all(np.isfinite(np.asarray(lg)))
            assert 0 < int(np.asarray(st.accepted).sum())


def brute_flip_lowers(X, xi, lam, exact):
    """flip[s, i]: flipping site i of state s strictly raises G (lowers both energies).  exact: lam = ln 2 and
    G 2^N computed as an exact integer; otherwise G in float64 with a relative tie tolerance."""
    N = X.shape[1]
    xi = np.asarray(xi, np.int64)
    out = np.zeros(X.shape, bool)
    for i in range(N):
        Y = X.copy()
        Y[:, i] *= -1
        if exact:
            g0 = (np.left_shift(1, X @ xi.T + N)).sum(axis=1)
            g1 = (np.left_shift(1, Y @ xi.T + N)).sum(axis=1)
            out[:, i] = g1 > g0
        else:
            g0, g1 = lse_rows(lam * (X @ xi.T)), lse_rows(lam * (Y @ xi.T))
            out[:, i] = g1 - g0 > 1e-12 * np.maximum(1, np.abs(g0))
    return out


def test_fixed_points_of_the_two_energies_coincide():
    """Random instances, all 2^10 states: the single-flip fixed points of E_exp = -G and E_lse = -(1/lam) ln G,
    each computed by brute force from its own energy, are the same sets; and the census kernel (flip_gains)
    finds the same lowering flips."""
    N = 10
    X = all_states(N)
    for seed, K, lam in ((0, 12, 0.7), (1, 40, 0.3), (2, 200, 1.3)):
        xi = np.asarray(ex.patterns(jax.random.key(seed), N, K), np.int64)
        fix = {}
        for energy in ("exponential", "log-sum-exp"):
            A = lam * (X @ xi.T)
            E0 = -np.exp(A).sum(axis=1) if energy == "exponential" else -lse_rows(A) / lam
            lower = np.zeros(len(X), bool)
            for i in range(N):
                Y = X.copy()
                Y[:, i] *= -1
                B = lam * (Y @ xi.T)
                E1 = -np.exp(B).sum(axis=1) if energy == "exponential" else -lse_rows(B) / lam
                lower |= E1 - E0 < -1e-11 * np.abs(E0)
            fix[energy] = ~lower
        assert np.array_equal(fix["exponential"], fix["log-sum-exp"])
        assert fix["exponential"].sum() >= 1
        with jax.enable_x64(True):
            D, sc = ex.flip_gains(jnp.asarray(X), jnp.asarray(xi, jnp.int8), lam)
            kern = np.asarray(D > ex.TIE * sc)
        assert np.array_equal(kern, brute_flip_lowers(X, xi, lam, exact=False))
        assert np.array_equal(~kern.any(axis=1), fix["log-sum-exp"])


@pytest.mark.parametrize("K", [30, 200, 700])
def test_census_against_brute_force_count(K):
    """lam = ln 2, N = 10: G 2^N is an integer, so the brute-force count (exact integer arithmetic, ties
    included: at K = 700 > 2^10 / 2 patterns collide) is exact; the census must agree pattern by pattern,
    and its one-step synchronous update (flip where G grows, ties keep) must agree with the brute force."""
    N, lam = 10, math.log(2.0)
    res = ex.census(9, N, 0.0 + math.log(K) / N, lam, errors=0.2, n_tested=K, n_samples=2, K=K)
    n_stable = 0
    with jax.enable_x64(True):
        for s in range(2):
            xi, _ = ex.sample_patterns(9, s, N, K)
            xi = np.asarray(xi, np.int64)[:K]
            n_stable += int((~brute_flip_lowers(xi, xi, lam, exact=True).any(axis=1)).sum())
            R = np.asarray(jax.random.rademacher(jax.random.key(s), (50, N), dtype=jnp.int8), np.int64)
            D, sc = ex.flip_gains(jnp.asarray(R), jnp.asarray(xi, jnp.int8), lam)
            assert np.array_equal(np.asarray(D > ex.TIE * sc), brute_flip_lowers(R, xi, lam, exact=True))
    assert res["tested"] == 2 * K
    assert round(res["stable_fraction"] * res["tested"]) == n_stable
    assert 0 < n_stable < 2 * K or K == 30


def test_zero_temperature_dynamics_descends_to_fixed_points():
    """T = 0 sweeps end (within N sweeps at N = 12) in single-flip fixed points, G never decreases, and the
    run reports dynamics 'zero-temperature' for both energies with identical overlaps."""
    N, K, lam = 12, 60, 0.8
    with jax.enable_x64(True):
        xi = ex.patterns(jax.random.key(1), N, K)
        s0 = jax.random.rademacher(jax.random.key(2), (16, N), dtype=jnp.int8)
        finals = []
        for energy in ex.ENERGIES:
            st = ex.init_chains(jax.random.key(3), xi, s0)
            st, (_, lg) = ex.sweeps(st, xi, lam, 0.0, energy=energy, zero_T=True, n_sweeps=N)
            lg = np.asarray(lg)
            assert np.all(np.diff(lg, axis=0) >= -1e-12)
            D, sc = ex.flip_gains(st.sigma, xi, lam)
            assert not np.any(np.asarray(D > ex.TIE * sc))
            finals.append(np.asarray(st.sigma))
        assert np.array_equal(finals[0], finals[1])


def test_census_rho0_basin_equals_stability_and_limits():
    """At rho = 0 the one-step basin is the stability census; far below the threshold every pattern is
    stable, far above (alpha close to ln 2) almost none is."""
    lo = ex.census(0, 16, 0.1, 0.5, n_tested=128, n_samples=1)
    hi = ex.census(0, 16, 0.69, 0.5, n_tested=128, n_samples=1)
    assert lo["stable_fraction"] == lo["basin_fraction"] == 1.0
    assert hi["stable_fraction"] < 0.1


@pytest.mark.slow
def test_crossings_move_toward_theory():
    """lam = 0.25 (alpha_1 = 0.3799): the alpha where half the tested patterns are single-flip stable, at
    N = 12, 16, 20.  Allowance: the crossings increase with N, stay below alpha_1 (finite N fails earlier:
    all N sites must hold), and the distance to alpha_1 at N = 20 is below 0.1 and below 0.8 x the distance at N = 12.
    Measured (README table): 0.265, 0.289, 0.304 against 0.380."""
    al = [0.2, 0.225, 0.25, 0.275, 0.3, 0.325, 0.35, 0.375]
    r = ex.census_scan(1, [12, 16, 20], al, 0.25, n_tested=256, n_samples=2)
    c, e = np.array(r["stable_crossing"]), np.array(r["stable_crossing_err"])
    a1 = th.alpha_1(0.25)
    assert np.all(np.isfinite(c))
    assert np.all(np.diff(c) > 0), c
    assert np.all(c < a1)
    assert a1 - c[-1] < 0.1 and a1 - c[-1] < 0.8 * (a1 - c[0]), (c, e)


# ------------------------------------------------------------------------------------------------ CLI
def cli(*args):
    return subprocess.run([sys.executable, "-m", "densehebb.phase_diagrams.cli", *args], capture_output=True,
                          text=True)


def test_cli_mc_and_census():
    p = cli("mc", "--interaction", "log-sum-exp", "--lam", "1", "--N", "12", "--alpha", "0.2", "--T", "0.3",
            "--sweeps", "20", "--samples", "1", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["interaction"] == d["convention"] == "log-sum-exp" and d["dynamics"] == "metropolis"
    assert d["K"] == round(math.exp(0.2 * 12)) and 0 <= d["acceptance"] <= 1 and -1 <= d["m"] <= 1
    p = cli("mc", "--interaction", "exponential", "--census", "--N", "10,12", "--alphas", "0.1,0.3,0.6",
            "--errors", "0.1", "--samples", "1", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["N"] == [10, 12] and len(d["stable_fraction"]) == 2 and len(d["stable_fraction"][0]) == 3
    assert d["dynamics"] == "zero-temperature" and "alpha_1_theory" in d and d["lam"] == 1.0


@pytest.mark.parametrize("args,msg", [
    (("--lam", "0", "--N", "12", "--alpha", "0.2", "--T", "0"), "lam must be > 0"),
    (("--lam", "1", "--N", "12", "--alpha", "0", "--T", "0"), "alpha"),
    (("--lam", "1", "--N", "200", "--alpha", "0.6", "--T", "0"), "patterns"),
    (("--lam", "1", "--N", "35", "--alpha", "0.6", "--T", "0"), "memory"),
    (("--lam", "1", "--N", "12", "--alpha", "0.2", "--T", "0", "--P", "3"), "--P does not apply"),
    (("--lam", "1", "--N", "12,14", "--alpha", "0.2", "--T", "0"), "--N"),
    (("--census", "--N", "12", "--alphas", "0.2,0.1"), "increasing"),
])
def test_cli_bad_input(args, msg):
    p = cli("mc", "--interaction", "log-sum-exp", *args)
    assert p.returncode == 2, p.stdout + p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("densehebb: error:") and msg in lines[0], p.stderr


def test_bench_exponential_case():
    """One tiny exponential bench case: the Metropolis and census-kernel lines with their same-run NumPy
    baselines; the NumPy chain's acceptance agrees with the JAX chains' (same dynamics) within 0.15."""
    from densehebb.montecarlo import bench
    from densehebb.theory.precision import x64

    mc, cen = x64(bench.run_exp_case)("log-sum-exp", 12, 512, chains=4, sweeps=4, repeats=2, numpy_seconds=0.3)
    assert mc["dynamics"] == "metropolis" and cen["dynamics"] == "zero-temperature"
    assert mc["speedup_vs_numpy"] == pytest.approx(mc["flips_per_s"] / mc["baseline_flips_per_s"])
    assert cen["speedup_vs_numpy"] > 0 and cen["patterns_per_s"] > 0
    assert abs(mc["acceptance"] - mc["numpy_acceptance"]) < 0.15
    with jax.enable_x64(True):     # the NumPy baseline computes the same flip gains as the JAX kernel
        xi = ex.patterns(jax.random.key(0), 12, 300)
        B = np.asarray(jax.random.rademacher(jax.random.key(1), (20, 12), dtype=jnp.int8), np.float64)
        ref = bench.NumpyExpReference(np.asarray(xi), B[0], 0.7, 1.0, "log-sum-exp")
        D = np.asarray(ex.flip_gains(jnp.asarray(B), xi, 0.7)[0])
    np.testing.assert_allclose(ref.census(B), D, rtol=1e-10, atol=1e-12)


def test_crossings_figure_and_mc_points():
    """The figures of papers/exponential/thresholds.py take census results: one error-bar series per scan and
    the theory star; the thresholds figure draws the Monte Carlo points."""
    from densehebb.phase_diagrams.exponential_plots import crossings_figure, thresholds_figure

    r = ex.census_scan(0, [10, 12], [0.1, 0.4, 0.69], 0.5, n_tested=32, n_samples=1)
    assert r["alpha_1_theory"] == pytest.approx(th.alpha_1(0.5))
    assert all(0.1 < c < 0.69 for c in r["stable_crossing"])
    fig = crossings_figure([r])
    assert len(fig.axes[0].containers) == 1
    fig = thresholds_figure(lams=[0.1, 1, 10], mc_points=[(0.5, 0.0, r["stable_crossing"][-1], 0.01, "MC")])
    assert len(fig.axes[0].containers) == 1
