"""The Plefka (first-order mean-field) dynamics of couplings built from examples (``simulate(..., plefka=True)``,
``densehebb mc --dataset ... --plefka``; docs/montecarlo.md "Plefka dynamics").

Its flip against the mean-field definition (NumPy, from the archetypes and the examples); P = 2, where it is
the exact dynamics; where it agrees with the exact dynamics -- finite load, dH_plefka - dH_exact = O(1/N)
(distinct indices) or O(1/N^2) (all tuples), measured at N = 100 and 400, and (slow) equal m, n and energy
of long chains at N = 300 -- and where it does not -- high load K = alpha N^(P-1): the difference is the
diagonal term of the field, of O(sqrt(alpha)) whatever N, it flips the T = 0 decision on a finite fraction
of the sites, and (slow) the chains lose the retrieval state that the exact dynamics keeps.  Outputs name
the dynamics; the learning cases of the benchmark.
"""
import functools
import io
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import densehebb as dh
import densehebb.montecarlo as montecarlo
from densehebb.montecarlo import bench, dynamics, learning, patterns, polynomials

PROTOCOLS = [pytest.param(True, id="supervised"), pytest.param(False, id="unsupervised")]


@functools.lru_cache(maxsize=None)
def _dH_fn(plan):
    def f(W, s):
        M = learning.initial_overlaps(s, W, plan)
        n = jax.vmap(lambda row, x: learning.flip_sum_examples(M, row, x, plan))(W, s)
        return n.astype(jnp.float64) * plan.scale
    return jax.jit(f)


def _all_dH(W, s, P, si, ex, plefka):
    """dH (exact or Plefka) of flipping each site of the state s, (N,) float64."""
    N, K = W.shape[:2]
    return np.asarray(_dH_fn(learning.plan_for(N, K, P, si, ex, plefka))(W, s))


def _dataset(seed, N, K, M, r, supervised, n=None):
    """(xi (N, K), chi (M, N, K), pattern set W (N, K, C)) drawn with NumPy (n: a leading sample axis)."""
    rng = np.random.default_rng(seed)
    lead = () if n is None else (n,)
    xi = rng.choice(np.array([-1, 1], np.int8), lead + (N, K))
    chi = np.where(rng.random(lead + (M, N, K)) < (1 + r) / 2, 1, -1).astype(np.int8)
    return xi, chi, np.asarray(patterns.example_patterns(xi, chi, supervised=supervised))


def _retrieval_state(W, flipped, seed):
    """Archetype 0 with a fraction ``flipped`` of its spins reversed."""
    N = W.shape[0]
    s = np.asarray(W[:, 0, 0]).astype(np.int8).copy()
    idx = np.random.default_rng(seed).choice(N, int(flipped * N), replace=False)
    s[idx] *= -1
    return jnp.asarray(s)


def _mean_field_dH(s, xi, chi, P, ex):
    """The definition: dH_i = 2 sigma_i h_i, h_i = sum_patterns w_i (sum_{j != i} w_j sigma_j)^(P-1) /
    ((P-1)! Norm N^(P-1)), the patterns w being the class means (supervised) or every example (unsupervised,
    with 1/M); NumPy float64."""
    s = np.asarray(s, float)
    xi = np.asarray(xi, float)                                 # (N, K)
    chi = np.asarray(chi, float)                               # (M, N, K)
    N = s.size
    pats = [chi.mean(axis=0) * xi] if ex.supervised else [c * xi for c in chi]
    h = np.zeros(N)
    for w in pats:                                             # (N, K)
        y = w * s[:, None]
        cavity = y.sum(axis=0)[None, :] - y                    # sum over j != i
        h += (w * cavity ** (P - 1)).sum(axis=1)
    h /= len(pats) * math.factorial(P - 1) * ex.norm(P) * N ** (P - 1)
    return 2 * s * h


@pytest.mark.parametrize("supervised", PROTOCOLS)
def test_plefka_flip_is_the_mean_field_definition(supervised):
    """Every site, P = 3, 4, both conventions (the Plefka flip does not depend on the convention), random
    states: the kernel's dH equals the mean-field definition."""
    N, K, M, r = 11, 2, 3, 0.5
    xi, chi, W = _dataset(2, N, K, M, r, supervised)
    for P in (3, 4):
        ex = dh.Examples(M=M, r=r, supervised=supervised, normalisation="R" if P == 3 else "r")
        for seed in range(2):
            s = jnp.where(jax.random.bernoulli(jax.random.key(seed), 0.5, (N,)), 1, -1).astype(jnp.int8)
            ref = _mean_field_dH(s, xi, chi, P, ex)
            for si in (False, True):
                np.testing.assert_allclose(_all_dH(W, s, P, si, ex, True), ref, rtol=1e-12, atol=1e-15)
            assert np.max(np.abs(_all_dH(W, s, P, False, ex, False) - ref)) > 1e-3    # not the exact flip


@pytest.mark.parametrize("supervised", PROTOCOLS)
def test_p2_plefka_is_the_exact_dynamics(supervised):
    """P = 2: the field of the other sites is linear in their spins, so the mean-field flip is exact -- the same
    integer kernel and scale in both conventions, identical dH, identical chains."""
    N, K, M, r = 24, 3, 4, 0.6
    ex = dh.Examples(M=M, r=r, supervised=supervised)
    W = _dataset(4, N, K, M, r, supervised)[2]
    s = _retrieval_state(W, 0.3, 1)
    for si in (False, True):
        np.testing.assert_array_equal(_all_dH(W, s, 2, si, ex, True), _all_dH(W, s, 2, si, ex, False))
    if not supervised:
        return            # the chains: once (the same kernel for both protocols)
    runs = []
    for plefka in (False, True):
        init, step = dynamics.metropolis(N, K, P=2, examples=ex, plefka=plefka)
        st = init(jax.random.key(5), s, W)
        runs.append(jax.jit(lambda st: dynamics.run_sweeps(step, st, W, 1 / 0.4, 10))(st))
    for name in ("sigma", "M", "accepted", "energy_change"):
        np.testing.assert_array_equal(getattr(runs[0], name), getattr(runs[1], name), err_msg=name)
    assert int(runs[0].accepted) > 10


def test_plefka_energy_exists_for_p3_not_p4():
    """P = 3: the Plefka flip is the exact flip of H_pl = -(1/(3! Norm N^2)) sum_mu [(sum_i y_i)^3 - sum_i y_i^3]
    (y = xibar sigma), so the Plefka chain samples exp(-beta H_pl).  P = 4: the Plefka dH summed around the
    closed loop of flips i, j, i, j is not zero (the exact one is), so no energy has these flips."""
    N, K, M, r = 12, 2, 3, 0.5
    ex = dh.Examples(M=M, r=r, supervised=True)
    xi, chi, W = _dataset(0, N, K, M, r, True)
    s = np.asarray(_retrieval_state(W, 0.3, 0))
    xibar = chi.mean(axis=0) * xi

    def H_pl(sig):
        y = xibar * sig[:, None]
        return -((y.sum(axis=0) ** 3 - (y ** 3).sum(axis=0)).sum()) / (6 * ex.norm(3) * N ** 2)

    dH = _all_dH(W, jnp.asarray(s), 3, False, ex, True)
    for i in range(N):
        t = s.copy()
        t[i] = -t[i]
        assert dH[i] == pytest.approx(H_pl(t) - H_pl(s), rel=1e-12, abs=1e-14)
    for plefka in (False, True):
        loop, cur = 0.0, s.copy()
        for site in (0, 1, 0, 1):
            loop += _all_dH(W, jnp.asarray(cur), 4, False, ex, plefka)[site]
            cur[site] = -cur[site]
        scale = np.abs(_all_dH(W, jnp.asarray(s), 4, False, ex, False)).mean()
        if plefka:
            assert abs(loop) > 1e-3 * scale, loop
        else:
            assert abs(loop) < 1e-12 * scale, loop


@pytest.mark.parametrize("supervised", PROTOCOLS)
def test_finite_load_difference_is_order_one_over_N(supervised):
    """Where it agrees: K = 3 archetypes, a retrieval state (10 % of the spins off archetype 0), P = 4.  The
    difference from the exact dH is the diagonal (repeated-index) part of the condensed pattern's field,
    relative order 1/N: its rms falls by 4 (distinct indices) from N = 100 to 400; all tuples keep the
    diagonal terms and differ only at third order in the flipped spin, 1/N^2 (a factor 16); at N = 400 it
    is below 6 % (distinct) of the spread of the exact dH."""
    M, r, K, P = 5, 0.6, 3, 4
    ex = dh.Examples(M=M, r=r, supervised=supervised)
    rms = {}
    for N in (100, 400):
        W = _dataset(N, N, K, M, r, supervised)[2]
        s = _retrieval_state(W, 0.1, N)
        for si in (False, True):
            exact = _all_dH(W, s, P, si, ex, False)
            diff = _all_dH(W, s, P, si, ex, True) - exact
            rms[N, si] = (np.sqrt(np.mean(diff ** 2)), np.std(exact))
    d_ratio = rms[100, False][0] / rms[400, False][0]
    t_ratio = rms[100, True][0] / rms[400, True][0]
    assert 3.0 < d_ratio < 5.3, d_ratio
    assert 11.0 < t_ratio < 22.0, t_ratio
    assert rms[400, False][0] < 0.06 * rms[400, False][1]
    assert rms[400, True][0] < 2e-4 * rms[400, True][1]


def test_high_load_difference_does_not_vanish():
    """Where it does not agree: P = 3, supervised, high load K = alpha N^2 (alpha = 0.05).  For P = 3,
    dH_plefka - dH_exact = (1/(Norm N^2)) sum_mu y_i^mu Y_2^mu exactly (y = xibar sigma, Y_2 = sum_{j != i} y_j^2,
    the diagonal term of e_2); summed over the K non-condensed patterns with random signs it has rms
    R^(3/2) sqrt(alpha) / Norm at any N (R = r^2 + (1 - r^2)/M): measured at N = 40 and 80 (3 samples each,
    within 20 %), and it reverses the sign of dH -- the T = 0 decision -- on more than 5 % of the sites;
    at finite load (K = 3, N = 80) on none."""
    M, r, P, alpha = 5, 0.6, 3, 0.05
    ex = dh.Examples(M=M, r=r, supervised=True)
    R = r * r + (1 - r * r) / M
    predicted = R ** 1.5 * math.sqrt(alpha) / ex.norm(P)
    for N in (40, 80):
        K = int(round(alpha * N * N))
        Ws = _dataset(N, N, K, M, r, True, n=3)[2]
        diffs, flipped = [], 0
        for k, W in enumerate(Ws):
            s = _retrieval_state(W, 0.1, k)
            exact, plefka = _all_dH(W, s, P, False, ex, False), _all_dH(W, s, P, False, ex, True)
            y = np.asarray(W[..., 1], float) * np.asarray(s, float)[:, None] / M
            Y2 = (y ** 2).sum(axis=0)[None, :] - y ** 2
            np.testing.assert_allclose(plefka - exact, (y * Y2).sum(axis=1) / (ex.norm(P) * N ** 2),
                                       rtol=1e-10, atol=1e-12)
            diffs.append(plefka - exact)
            flipped += int(np.sum(np.sign(plefka) != np.sign(exact)))
        rms = np.sqrt(np.mean(np.concatenate(diffs) ** 2))
        assert rms == pytest.approx(predicted, rel=0.2), (N, rms, predicted)
        assert flipped > 0.05 * 3 * N, flipped
    W = _dataset(1, 80, 3, M, r, True)[2]
    s = _retrieval_state(W, 0.1, 1)
    assert np.all(np.sign(_all_dH(W, s, P, False, ex, True)) == np.sign(_all_dH(W, s, P, False, ex, False)))


def _chains(N, K, P, ex, T, plefka, C=32, sweeps=60, meas=30, seed=0):
    """C Metropolis chains from archetype 0: per-chain time averages of m, n and the exact energy H/N over
    the last ``meas`` sweeps -> (means over chains, standard errors)."""
    W = jnp.asarray(_dataset(seed, N, K, ex.M, ex.r, ex.supervised)[2])
    init, _ = dynamics.metropolis(N, K, P=P, examples=ex, plefka=plefka)
    step = dynamics.batched_step(N, K, "metropolis", P=P, examples=ex, plefka=plefka)
    s0 = jnp.broadcast_to(W[:, 0, 0].astype(jnp.int8), (C, N))
    st = jax.vmap(init, in_axes=(0, 0, None))(jax.random.split(jax.random.key(seed + 1), C), s0, W)
    beta = jnp.full((C,), 1.0 / T)
    plan = learning.plan_for(N, K, P, False, ex)

    @jax.jit
    def run(st):
        st = jax.lax.fori_loop(0, sweeps - meas, lambda k, s: step(s, W, beta), st)

        def body(k, c):
            s, acc = c
            s = step(s, W, beta)
            obs = jnp.stack([s.M[:, 0, 0].astype(jnp.float64) / N, learning.class_overlaps(s.M, N, ex)[:, 0],
                             learning.energy_from_state(s.M, plan) / N])
            return s, acc + obs

        return jax.lax.fori_loop(0, meas, body, (st, jnp.zeros((3, C))))[1] / meas

    obs = np.asarray(run(st))
    return obs.mean(axis=1), obs.std(axis=1, ddof=1) / math.sqrt(C)


@pytest.mark.slow
def test_chains_agree_at_finite_load_and_not_at_high_load():
    """Supervised P = 3, M = 5, r = 0.6, 32 chains each.  Finite load (N = 300, K = 2, T = 0.2): m, n and the
    energy of the two dynamics agree within 4 standard errors.  High load (N = 40, K = 160 = 0.1 N^2,
    T = 0.1): the larger effective noise of the mean-field field (for P = 3 its variance per pattern is
    3/2 that of the exact one) destabilises the retrieval state the exact dynamics keeps -- m lower by more
    than 4 standard errors."""
    ex = dh.Examples(M=5, r=0.6, supervised=True)
    (a, ea), (b, eb) = (_chains(300, 2, 3, ex, 0.2, p) for p in (False, True))
    assert np.all(np.abs(a - b) < 4 * np.hypot(ea, eb)), (a, b, ea, eb)
    assert a[0] > 0.7
    (a, ea), (b, eb) = (_chains(40, 160, 3, ex, 0.1, p) for p in (False, True))
    assert a[0] > 0.8 and a[0] - b[0] > 4 * math.hypot(ea[0], eb[0]), (a, b, ea, eb)


# ------------------------------------------------------------------------------------------- outputs
def test_simulate_names_the_dynamics():
    """The Dataset says which dynamics produced it; the energy reported is the exact one; plain patterns refuse
    the option."""
    ex = dh.Examples(M=3, r=0.6, supervised=False)
    # the run of test_cli_plefka below (compiled once)
    kw = dict(N=16, K=2, T=[0.3], n_samples=1, n_replicas=2, sweeps=6, burn_in=3, dynamics="metropolis")
    ds = montecarlo.simulate(3, dh.Model(P=3, examples=ex), plefka=True, **kw)
    assert ds.attrs["dynamics"] == "metropolis-plefka" and ds.attrs["plefka"] == 1
    assert "mean-field" in ds.attrs["plefka_note"] and ds.attrs["delta_energy_arithmetic"].startswith("Plefka")
    assert {"n", "x_max", "x_mean"} <= set(ds.data_vars)
    with pytest.raises(ValueError, match="examples"):
        montecarlo.simulate(3, dh.Model(P=3), plefka=True, **kw)
    with pytest.raises(ValueError, match="plefka must be a bool"):
        montecarlo.simulate(3, dh.Model(P=3, examples=ex), plefka="yes", **kw)


def test_cli_plefka(capsys):
    """`densehebb mc --plefka` needs --dataset (one-line error, exit 2); with it the JSON names the dynamics."""
    from densehebb.phase_diagrams.cli import main

    base = ["mc", "--P", "3", "--N", "16", "--alpha", "0.008", "--T", "0.3", "--samples", "1", "--sweeps", "6",
            "--dynamics", "metropolis", "--json", "--plefka"]
    assert main(base) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("densehebb: error: --plefka applies with --dataset"), err
    assert main(base + ["--dataset", "unsupervised", "--r", "0.6", "--M", "3", "--seed", "3"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["dynamics"] == "metropolis-plefka" and d["plefka"] is True and d["dataset"] == "unsupervised"
    for k in ("m", "n", "x_max", "x_mean", "energy"):
        assert k in d


def test_bench_learning_cases_are_well_formed():
    """The learning cases of the benchmark: one line for the exact and one for the Plefka dynamics, the exact
    one the same-run baseline of both."""
    out = io.StringIO()
    res = bench.run(json_lines=True, quick=True, out=out, cases=(), learning_cases=(("unsupervised", 2, 16, 2, 3),),
                    repeats=1, exp_cases=())
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert lines == json.loads(json.dumps(res)) and len(lines) == 2
    assert [r["dynamics"] for r in lines] == ["metropolis", "metropolis-plefka"]
    assert [r["plefka"] for r in lines] == [False, True]
    for r in lines:
        assert r["kind"] == "learning" and (r["dataset"], r["P"], r["N"], r["K"], r["M"]) == ("unsupervised", 2, 16, 2, 3)
        for k in ("flips_per_s", "units_per_s", "baseline_flips_per_s", "speedup_vs_exact", "compile_s",
                  "acceptance", "chains", "device", "arithmetic", "convention"):
            assert k in r, k
        assert r["flips_per_s"] > 0 and r["baseline_flips_per_s"] == lines[0]["flips_per_s"]
        assert r["speedup_vs_exact"] == pytest.approx(r["flips_per_s"] / r["baseline_flips_per_s"])
        assert r["units_per_s"] == pytest.approx(r["flips_per_s"] * r["K"] * r["M"])
        assert 0 <= r["acceptance"] <= 1
    assert lines[0]["speedup_vs_exact"] == 1.0
    assert {c[1] for c in bench.LEARNING_CASES} == {2, 4} and {c[0] for c in bench.LEARNING_CASES} == {
        "supervised", "unsupervised"}


def test_plefka_plans():
    """The Plefka plan keeps the exact state and energy and replaces only the flip (one monomial)."""
    ex = dh.Examples(M=4, r=0.5)
    a, b = learning.plan_for(50, 3, 4, False, ex), learning.plan_for(50, 3, 4, False, ex, plefka=True)
    assert (a.columns, a.energy_terms, a.state_dtype) == (b.columns, b.energy_terms, b.state_dtype)
    assert b.plefka and not a.plefka and len(b.flip_terms) == 1 and len(a.flip_terms) == 3
    u = learning.plan_for(50, 3, 5, True, dh.Examples(M=4, r=0.5, supervised=False), plefka=True)
    assert u.base == polynomials.plefka_flip_plan(5, True, 50, 12) and u.base.coeffs == (0, 0, 1)
    with pytest.raises(ValueError, match="examples"):
        learning.plan_for(50, 3, 4, False, None, plefka=True)
