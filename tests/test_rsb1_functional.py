"""1RSB functional for P >= 3 (building block of issue 3; the 1RSB solver is not wired yet)."""
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import norm

from theory import dense_rs as RS
from theory import dense_rsb1 as R1


@pytest.mark.parametrize("P,si", [(3, False), (4, False), (4, True)])
@pytest.mark.parametrize("T", [0.0, 0.03, 0.2])
def test_q0_equal_q1_reduces_to_rs(P, si, T):
    alpha, m, q = 0.02, 0.9, 0.8
    C = 0.7 if T == 0 else (1 - q) / T
    q_eff = 1.0 if T == 0 else q
    v = float(RS.xi(q_eff, alpha, P, si, 1))
    f_rs = float(RS.free_energy(jnp.array([m, C, v]), alpha, T, P, si))
    for mu in (0.7, 3.0):
        if T > 0 and mu * T > 1:
            continue
        f1 = float(R1.free_energy(jnp.array([m, q_eff, C, mu]), alpha, T, P, si))
        assert f1 == pytest.approx(f_rs, abs=1e-11)


def test_inner_average_closed_form_at_zero_temperature():
    """(1/mu) ln E exp(mu |a + s z|): the T = 0 closed form equals direct quadrature, and the T > 0
    Gauss-Hermite version approaches it as T -> 0."""
    for a, s, mu in [(0.3, 0.5, 2.0), (-0.1, 0.2, 7.0), (1.2, 0.8, 0.5)]:
        ref = np.log(quad(lambda z: norm.pdf(z) * np.exp(mu * abs(a + s * z)), -15, 15, points=[-a / s],
                          epsabs=1e-14, limit=200)[0]) / mu
        A, S, M = (jnp.asarray(v, float) for v in (a, s, mu))
        t0 = float(R1._inner_log_mean_exp(A, S, M, jnp.asarray(0.0), 96))
        assert t0 == pytest.approx(ref, abs=1e-12)
        tsmall = float(R1._inner_log_mean_exp(A, S, M, jnp.asarray(1e-3 * s + 0.05 * s), 96))
        assert abs(tsmall - t0) < 0.05 * s


def test_top_bracket_is_the_exact_polynomial():
    P, si, alpha, C, T = 4, True, 0.3, 0.8, 0.2
    q1 = 1 - C * T
    xi = lambda q, d=0: float(RS.xi(q, alpha, P, si, d))  # noqa: E731
    direct = (xi(1) - xi(q1) - (1 - q1) * xi(q1, 1)) / T
    assert float(R1._top_bracket_over_T(C, T, alpha, P, si)) == pytest.approx(direct, rel=1e-12)
    assert float(R1._top_bracket_over_T(C, 0.0, alpha, P, si)) == 0.0


# --- the T = 0 1RSB solver (P >= 3) -----------------------------------------------------------------
import jax  # noqa: E402

from theory import ModelSpec, solve  # noqa: E402
from theory.rsb1_solver import capacity_rsb1, solve_rsb1  # noqa: E402


def test_zero_temperature_1rsb_retrieval_solution_and_variational_ordering():
    P, alpha = 4, 0.03
    r = solve_rsb1(ModelSpec(P=P), alpha, 0.0)
    assert r["converged"] and r["residual"] < 1e-10
    assert 0 <= r["q0"] < r["q1"] == 1.0 and r["mu"] > 0
    # stationary in every variable, mu included (autodiff of the same functional)
    x = jnp.array([r["m"], r["q0"], 0.3, r["mu"]])
    g = jax.grad(R1.free_energy)(x, alpha, 0.0, P)
    assert abs(float(g[0])) < 1e-9 and abs(float(g[1])) < 1e-9 and abs(float(g[3])) < 1e-11
    assert float(g[2]) == 0.0  # at T = 0, f does not depend on C (q1 = 1)
    # RS is AT-unstable at T = 0 and the 1RSB free energy lies above it (replica variational ordering)
    rs = solve(ModelSpec(P=P), alpha, 0.0)
    assert float(rs.replicon) < 0
    assert r["f"] > float(rs.f) + 1e-7
    assert r["f_rs"] == pytest.approx(float(rs.f), abs=1e-14)


def test_1rsb_capacity_exceeds_rs_and_ends_the_branch():
    c = capacity_rsb1(ModelSpec(P=4), 0.0)
    assert c["converged"]
    assert c["alpha_c"] > c["alpha_c_rs"]
    lo, hi = c["bracket"]
    assert hi - lo < 1e-6 * c["alpha_c"]
    assert 0 <= c["q0"] < c["q1"] == 1.0
