"""Theory versus Monte Carlo (P = 2): the RS retrieval overlap at N = 1000 deep in the retrieval phase."""
import jax
import pytest

from densehebb import Model, simulate, solve, summarize

pytestmark = pytest.mark.slow  # N = 1000 (P = 2) and K = 10486 (P = 4) runs

FINITE_SIZE = 0.005  # allowance for O(1/N) corrections at N = 1000


@pytest.mark.parametrize("alpha,T,dynamics", [(0.05, 0.3, "glauber"), (0.05, 0.45, "metropolis")])
def test_mc_retrieval_overlap_agrees_with_rs_theory(alpha, T, dynamics):
    th = solve(Model(), alpha, T, "retrieval")
    assert bool(th.converged) and bool(th.stable)
    ds = simulate(jax.random.PRNGKey(7), Model(), N=1000, alpha=alpha, T=(T,), n_samples=4, n_replicas=2,
                  sweeps=240, burn_in=80, dynamics=dynamics, init="pattern")
    s = summarize(ds)
    assert abs(s["m"] - float(th.m)) < 4 * s["m_err"] + FINITE_SIZE
    assert abs(s["q"] - float(th.q)) < 4 * s["q_err"] + 2 * FINITE_SIZE
    # the comparison has teeth where the load matters (alpha = 0.05 lowers m by 0.03 at T = 0.45): the
    # Curie-Weiss (alpha = 0) overlap at the same T is excluded by the same criterion
    cw = float(solve(Model(), 0.0, T, "retrieval").m)
    if abs(cw - float(th.m)) > 0.02:
        assert abs(s["m"] - cw) > 4 * s["m_err"] + FINITE_SIZE
