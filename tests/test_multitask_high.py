"""Multitasking at high storage (theory.multitask_high): diluted patterns, K = alpha N^(P-1), RS.

Checked against: direct sampling of the noise energy of random diluted patterns (its covariance, exact at
finite N for distinct indices, and the Gaussian limit for all tuples), the plain dense RS theory at d -> 0,
the low-storage multitask theory at alpha -> 0 (pure and hierarchical states, exact 3^n average), the exact
mappings of the equations (T = 0 scaling to the d = 0 problem at load alpha / (1-d)^(P-2); the spin-glass
branch at load alpha (1-d)^P), the closed forms for the capacities, and Monte Carlo (slow).
"""
import json
import math

import jax
import numpy as np
import pytest

from densehebb.theory import Model, Status, solve
from densehebb.theory import multitask as mt
from densehebb.theory import multitask_high as mh


# ------------------------------------------------------------------------- the noise covariance by sampling
def _overlaps(rng, N, K, d, sigmas, chunk=10_000):
    """Over K random diluted patterns (drawn in chunks): the integer overlaps M_mu = sum_i xi^mu_i sigma_i
    (K,) for each sigma, and the numbers of non-blank entries n_mu = sum_i (xi^mu_i)^2."""
    out = [[] for _ in sigmas]
    nb = []
    S = np.stack(sigmas).astype(np.int32)
    for start in range(0, K, chunk):
        k = min(chunk, K - start)
        xi = rng.choice(np.array([-1, 0, 1], np.int32), size=(N, k), p=[(1 - d) / 2, d, (1 - d) / 2])
        for o, row in zip(out, S @ xi):
            o.append(row)
        nb.append((xi * xi).sum(0))
    return [np.concatenate(o) for o in out], np.concatenate(nb)


def _energies(M, n, N, P, self_interaction):
    """Per-pattern energies E_mu (not per neuron) of diluted patterns: distinct indices -e_P(x)/N^(P-1), e_P
    from the power sums of x = xi o sigma (odd: M, even: n, the non-blank count: x^2 = xi^2 in {0, 1});
    all tuples -M^P/(P! N^(P-1))."""
    import sympy as sp

    from densehebb.montecarlo.polynomials import elementary_symmetric

    M, n = M.astype(float), n.astype(float)
    if self_interaction:
        return -M ** P / (math.factorial(P) * N ** (P - 1))
    o, e = sp.symbols("o e")
    eP = sp.lambdify((o, e), elementary_symmetric(P, o, e), "numpy")
    return -eP(M, n) / N ** (P - 1)


def _e_P(P, N, M):
    """e_P of N numbers +-1 with sum M (Newton's identities: power sums M (odd), N (even))."""
    import sympy as sp

    from densehebb.montecarlo.polynomials import elementary_symmetric

    o, e = sp.symbols("o e")
    return float(elementary_symmetric(P, o, e).subs({o: int(M), e: int(N)}))


@pytest.mark.parametrize("P,d", [(3, 0.3), (4, 0.5)])
def test_noise_covariance_distinct_indices_by_sampling(P, d):
    """E[E(sigma) E(tau)] over random diluted patterns = (1-d)^P e_P(sigma o tau) / (P! N^(P-1))^2 * P!^2 exactly
    (only equal index sets survive, each with prod xi^2 of mean (1-d)^P); K = alpha N^(P-1) patterns then
    give xi_d(q) = alpha (1-d)^P q^P / P! per neuron as N grows."""
    rng = np.random.default_rng(1)
    N, K = 40, 200_000
    sigma = rng.choice([-1, 1], N)
    tau = sigma.copy()
    tau[: N // 4] *= -1                                    # q = 1/2
    q = float(sigma @ tau) / N
    (Ms, Mt), n = _overlaps(rng, N, K, d, [sigma, tau])
    e_s, e_t = _energies(Ms, n, N, P, False), _energies(Mt, n, N, P, False)
    assert abs(e_s.mean()) < 5 * e_s.std() / math.sqrt(K)    # distinct indices: no mean
    prod = e_s * e_t
    eP = _e_P(P, N, int(sigma @ tau))                       # e_P(sigma o tau), exact
    exact = (1 - d) ** P * eP / N ** (2 * P - 2)
    assert prod.mean() == pytest.approx(exact, abs=5 * prod.std() / math.sqrt(K))
    # undiluted patterns would give eP / N^(2P-2): the factor (1-d)^P is resolved
    assert abs(prod.mean() - eP / N ** (2 * P - 2)) > 10 * prod.std() / math.sqrt(K)
    # per neuron, K = alpha N^(P-1): alpha (1-d)^P e_P(sigma o tau) / N^P, whose large-N limit at fixed q is
    # the module's xi_d(q) = alpha (1-d)^P q^P / P!
    alpha, Nb = 0.7, 10 ** 6
    limit = alpha * (1 - d) ** P * _e_P(P, Nb, int(q * Nb)) / Nb ** P
    assert float(mh.noise_covariance_diluted(q, alpha, P, d)) == pytest.approx(limit, rel=1e-4)


def test_noise_covariance_all_tuples_by_sampling():
    """All tuples, P = 3: Cov(E(sigma), E(tau)) per neuron -> (1-d)^3 xi_0(q) (xi_0 with its random-field term
    q/... from theory.covariance), checked by sampling at N = 400 within errors plus O(1/N)."""
    P, d = 3, 0.4
    rng = np.random.default_rng(2)
    N, K = 400, 100_000
    sigma = rng.choice([-1, 1], N)
    tau = sigma.copy()
    tau[: N // 5] *= -1                                    # q = 0.6
    q = float(sigma @ tau) / N
    (Ms, Mt), n = _overlaps(rng, N, K, d, [sigma, tau])
    e_s, e_t = _energies(Ms, n, N, P, True), _energies(Mt, n, N, P, True)
    cov = np.mean((e_s - e_s.mean()) * (e_t - e_t.mean()))
    alpha = 1.0
    per_neuron = alpha * N ** (P - 1) * cov / N
    err = 5 * alpha * N ** (P - 2) * np.std((e_s - e_s.mean()) * (e_t - e_t.mean())) / math.sqrt(K)
    theory = float(mh.noise_covariance_diluted(q, alpha, P, d, self_interaction=True))
    assert per_neuron == pytest.approx(theory, abs=err + 10 * theory / N)
    # and not the undiluted covariance
    assert abs(per_neuron - theory / (1 - d) ** P) > err + 10 * theory / N


# ------------------------------------------------------------------------- limits of the pure state (n = 1)
@pytest.mark.parametrize("P,alpha,T", [(3, 0.05, 0.05), pytest.param(4, 0.02, 0.05, marks=pytest.mark.slow),
                                        pytest.param(2, 0.05, 0.1, marks=pytest.mark.slow)])
def test_zero_dilution_is_the_dense_rs_theory(P, alpha, T):
    r0 = solve(Model(P=P), alpha, T)
    r1 = solve(Model(P=P, dilution=1e-13), alpha, T)
    assert r0.converged and r1.converged
    for k in ("m", "q", "f", "C"):
        assert r1.values[k] == pytest.approx(r0.values[k], abs=1e-9)
    assert r1.replicon == pytest.approx(r0.replicon, abs=1e-8)


@pytest.mark.parametrize("P,d,T", [(3, 0.3, 0.05), pytest.param(2, 0.5, 0.35, marks=pytest.mark.slow)])
def test_low_storage_limit_is_the_multitask_theory(P, d, T):
    r = solve(Model(P=P, dilution=d), 1e-12, T)
    assert r.converged
    assert r.m == pytest.approx(mt.pure_amplitude(P, d, T), abs=1e-9)


@pytest.mark.parametrize("P", [3, pytest.param(4, marks=pytest.mark.slow)])
def test_T0_pure_state_maps_to_d0_at_rescaled_load(P):
    """T = 0, P >= 3: v = alpha (1-d)^P/(P-1)! is fixed and m/(1-d) solves the d = 0 equation at load
    alpha/(1-d)^(P-2) (the source of alpha_c(d) = (1-d)^(P-2) alpha_c(0))."""
    d = 0.4
    a0 = {3: 0.1, 4: 0.025}[P]
    r0 = solve(Model(P=P), a0, 0.0)
    rd = solve(Model(P=P, dilution=d), a0 * (1 - d) ** (P - 2), 0.0)
    assert r0.converged and rd.converged
    assert rd.m / (1 - d) == pytest.approx(r0.m, abs=1e-10)
    assert rd.m / (1 - d) < 0.99          # a point where the noise matters


def test_spin_glass_branch_is_the_d0_one_at_load_alpha_times_noise_factor():
    P, d, alpha, T = 3, 0.3, 1.0, 0.1
    rd = solve(Model(P=P, dilution=d), alpha, T, "spin-glass")
    r0 = solve(Model(P=P), alpha * (1 - d) ** P, T, "spin-glass")
    assert rd.converged and r0.converged and rd.q > 0.1
    assert rd.q == pytest.approx(r0.q, abs=1e-10) and rd.f == pytest.approx(r0.f, abs=1e-10)


# ------------------------------------------------------------------------- n condensed patterns
def test_n1_solve_state_is_the_solver_pure_state():
    M = Model(P=3, dilution=0.3)
    r = mh.solve_state(M, 1, 0.04, 0.05, "pure")
    ref = solve(M, 0.04, 0.05)
    assert r.converged and ref.converged
    assert r.m[0] == pytest.approx(ref.m, abs=1e-10) and r.f == pytest.approx(ref.f, abs=1e-10)
    assert r.q == pytest.approx(ref.q, abs=1e-10) and r.replicon == pytest.approx(ref.replicon, abs=1e-8)


@pytest.mark.parametrize("state,T", [("hierarchical", 0.01), ("hierarchical", 0.0), ("parallel", 0.01)])
def test_n2_low_storage_limit_is_the_multitask_theory(state, T):
    """alpha -> 0: the n = 2 amplitudes and free energy are those of theory.multitask with K = 2 (at T = 0 the
    noise shifts f by O(sqrt(alpha)) through the sites with h = 0: a looser tolerance there)."""
    P, d = 3, 0.5
    r = mh.solve_state(Model(P=P, dilution=d), 2, 1e-12, T, state)
    ref = mt.solve_state(Model(P=P, storage="low", dilution=d), 2, T, state)
    assert r.converged and ref.converged
    assert np.sort(r.m)[::-1] == pytest.approx(np.asarray(ref.m), abs=1e-8)
    assert r.f == pytest.approx(ref.f, abs=1e-10 if T > 0 else 1e-6)
    assert r.found == ref.values["found"] == state


def test_n2_reports_not_converged_as_nan():
    """Far above its capacity the hierarchical state has no solution: NaN values and a status that says so."""
    r = mh.solve_state(Model(P=3, dilution=0.3), 2, 0.05, 0.0, "hierarchical")
    # it either lands on another state (pure: m_2 = 0) or fails; never a hierarchical answer at 70 alpha_c
    assert not (r.converged and r.found == "hierarchical")
    if not r.converged:
        assert np.all(np.isnan(r.m)) and math.isnan(r.f) and r.status is not Status.CONVERGED


def test_solve_state_refuses_bad_input():
    M = Model(P=3, dilution=0.3)
    with pytest.raises(ValueError, match="n"):
        mh.solve_state(M, 0, 0.01, 0.0)
    with pytest.raises(ValueError, match="state"):
        mh.solve_state(M, 2, 0.01, 0.0, "mixture")
    with pytest.raises(ValueError, match="high storage"):
        mh.solve_state(Model(P=3, dilution=0.3, storage="low"), 2, 0.01, 0.0)


# ------------------------------------------------------------------------- capacities (slow: fold searches)
@pytest.mark.slow
def test_capacity_scales_as_one_minus_d_to_P_minus_2():
    """densehebb.capacity (the fold of the retrieval branch, theory.bifurcation) for P = 3 at T = 0:
    alpha_c(d) = (1-d) alpha_c(0); and d -> 0 reproduces the plain storage capacity."""
    from densehebb.phase_diagrams.api import capacity

    c0 = capacity(Model(P=3), 0.0)
    cd = capacity(Model(P=3, dilution=0.3), 0.0)
    assert c0.converged and cd.converged
    assert cd.alpha_c == pytest.approx(0.7 * c0.alpha_c, rel=1e-8)
    assert cd.m_c == pytest.approx(0.7 * c0.m_c, rel=1e-7)
    # d -> 0: the diluted theory's own fold (multitask_high's kernel, d = 1e-12) is the plain storage capacity
    c_small = mh.state_capacity(Model(P=3, dilution=1e-12), 1, 0.0, "pure")
    assert c_small.values["ended"] == "fold"
    assert c_small.alpha_c == pytest.approx(c0.alpha_c, rel=1e-9)


@pytest.mark.slow
def test_hierarchical_capacity_is_d_to_2P_minus_2_times_the_pure_one():
    """T = 0: the second level lives on the sites where pattern 1 is blank (fraction d), where it is a pure
    state of amplitude d (1-d) u; so alpha_c(n = 2) = d^(2(P-1)) alpha_c(pure) up to terms exponentially
    small in d^(-2(P-1)) (the sites where both are non-blank): below 1e-15 at d = 0.3, +0.9 % at d = 0.7."""
    P = 3
    ac1 = mh.state_capacity(Model(P=P, dilution=0.3), 1, 0.0, "pure").alpha_c   # the n = 1 fold, d traced
    # (1-d)^(P-2) times the d = 0 fold of the same kernel (theory.bifurcation's path: the test above)
    assert ac1 == pytest.approx(0.7 * mh.state_capacity(Model(P=P), 1, 0.0, "pure").alpha_c, rel=1e-8)
    c2 = mh.state_capacity(Model(P=P, dilution=0.3), 2, 0.0, "hierarchical")
    assert c2.converged and c2.values["ended"] == "fold"
    assert c2.alpha_c == pytest.approx(0.3 ** (2 * (P - 1)) * ac1, rel=1e-9)
    # the state is the hierarchical one up to its end and locally stable halfway
    r = mh.solve_state(Model(P=P, dilution=0.3), 2, 0.5 * c2.alpha_c, 0.0, "hierarchical")
    assert r.found == "hierarchical" and r.min_hessian_eigenvalue > 0


# ------------------------------------------------------------------------- CLI
def test_cli_solve_alpha_with_dilution(capsys):
    from densehebb.phase_diagrams.cli import main as cli_main

    rc = cli_main(["solve", "--P", "3", "--alpha", "0.03", "--dilution", "0.3", "--T", "0.05", "--json", "--quiet"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    ref = solve(Model(P=3, dilution=0.3), 0.03, 0.05)
    assert out["dilution"] == 0.3 and out["overlaps"] == "unnormalised" and out["storage"] == "high"
    assert out["convention"] == "distinct-indices" and out["converged"] and out["status"] == "converged"
    assert out["m"] == pytest.approx(ref.m, abs=1e-14) and out["m"] <= 0.7
    assert out["noise_covariance"].startswith("(1-dilution)**3")


@pytest.mark.parametrize("argv, message", [
    (["solve", "--P", "3", "--alpha", "0.03", "--dilution", "0.3", "--T", "0.05", "--ansatz", "1rsb"],
     "replica-symmetric theory only"),
    (["solve", "--P", "3", "--alpha", "0.03", "--dilution", "0.3", "--T", "0.05", "--dataset", "supervised",
      "--r", "0.5", "--M", "3"], "learning from diluted examples"),
    (["solve", "--P", "3", "--alpha", "0.03", "--dilution", "0.3", "--T", "0.05", "--state", "parallel"],
     "--state applies with --K only"),
    (["capacity", "--P", "3", "--dilution", "0.3", "--mc"], "--dilution with --mc"),
    (["capacity", "--P", "3", "--dilution", "0.3", "--ansatz", "1rsb"], "replica-symmetric theory only"),
])
def test_cli_dilution_errors(capsys, argv, message):
    from densehebb.phase_diagrams.cli import main as cli_main

    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("densehebb: error:") and message in err and err.count("\n") == 1


@pytest.mark.slow
def test_cli_capacity_with_dilution(capsys):
    from densehebb.phase_diagrams.cli import main as cli_main

    rc = cli_main(["capacity", "--P", "4", "--dilution", "0.5", "--json", "--quiet"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    rc = cli_main(["capacity", "--P", "4", "--json", "--quiet"])
    assert rc == 0
    out0 = json.loads(capsys.readouterr().out)
    assert out["dilution"] == 0.5 and out["converged"]
    assert out["alpha_c"] == pytest.approx(0.25 * out0["alpha_c"], rel=1e-8)      # (1-d)^(P-2)


# ------------------------------------------------------------------------- Monte Carlo (slow)
@pytest.mark.slow
def test_monte_carlo_pure_state_P3_diluted_high_storage():
    """P = 3, d = 0.3, alpha = 0.03 (K = 2700 at N = 300), T = 0.05, Glauber from the pattern: the fraction of
    the pattern's non-blank sites aligned, m_s / f_s (f_s = the sample's non-blank fraction, from the same
    PRNG stream as the run), against the RS m / (1 - d), and q against the RS q (which the blank sites, polarised
    by the noise field of variance alpha (1-d)^3 q^2 / 2 only, pull well below 1).  At this N a chain now and
    then leaves the pattern for another (a finite-size escape, seen as m_s / f_s < 1/2): such samples are
    counted (at most one of four) and left out.  Errors: sample-to-sample standard error; allowance 2/N for
    m and 1/sqrt(N) for q (finite-size)."""
    from densehebb.montecarlo import simulate
    from densehebb.montecarlo.patterns import diluted

    P, d, alpha, T, N, ns, seed = 3, 0.3, 0.03, 0.05, 300, 4, 11
    ds = simulate(seed, Model(P=P, dilution=d), N=N, alpha=alpha, T=T, n_samples=ns, n_replicas=2, sweeps=100,
                  burn_in=25, levels=False)
    K = int(ds.attrs["K"])
    with jax.enable_x64(True):
        xi0 = np.asarray(diluted(jax.random.fold_in(jax.random.key(seed), 0), N, K, d, ns))[:, :, 0]
    f_s = (xi0.astype(float) ** 2).mean(1)
    m = ds["m"].values[:, 0, :].mean(-1)
    assert np.all(m <= f_s + 1e-12)                       # the regenerated patterns are the run's
    u = m / f_s
    keep = u > 0.5
    assert keep.sum() >= ns - 1
    th = solve(Model(P=P, dilution=d), alpha, T)
    assert th.converged and th.stable
    u, q = u[keep], ds["q"].values[keep, 0]
    se = lambda x: x.std(ddof=1) / math.sqrt(x.size)  # noqa: E731
    assert abs(u.mean() - th.m / (1 - d)) < 4 * se(u) + 2.0 / N, (u, th.m / (1 - d))
    assert abs(q.mean() - th.q) < 4 * se(q) + 1.0 / math.sqrt(N), (q, th.q)
    # the blank sites' polarisation is resolved: q is far from the all-frozen value 1
    assert q.mean() < 0.9 and th.q < 0.9
