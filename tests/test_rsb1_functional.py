"""1RSB functional for P >= 3 (building block of issue 3; the 1RSB solver is not wired yet)."""
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import norm

from densehebb.theory import dense_rs as RS
from densehebb.theory import dense_rsb1 as R1


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


@pytest.mark.slow
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

from densehebb.theory import Model, solve  # noqa: E402
from densehebb.theory.rsb1_solver import capacity_rsb1, solve_rsb1  # noqa: E402


@pytest.mark.slow
def test_zero_temperature_1rsb_retrieval_solution_and_variational_ordering():
    P, alpha = 4, 0.03
    r = solve_rsb1(Model(P=P), alpha, 0.0)
    assert r.converged and r.residual < 1e-10
    assert 0 <= r.q0 < r.q1 == 1.0 and r.mu > 0
    # stationary in every variable, mu included (autodiff of the same functional)
    x = jnp.array([r.m, r.q0, 0.3, r.mu])
    g = jax.grad(R1.free_energy)(x, alpha, 0.0, P)
    assert abs(float(g[0])) < 1e-9 and abs(float(g[1])) < 1e-9 and abs(float(g[3])) < 1e-11
    assert float(g[2]) == 0.0  # at T = 0, f does not depend on C (q1 = 1)
    # RS is AT-unstable at T = 0 and the 1RSB free energy lies above it (replica variational ordering)
    rs = solve(Model(P=P), alpha, 0.0)
    assert float(rs.replicon) < 0
    assert r.f > float(rs.f) + 1e-7
    assert r.f_rs == pytest.approx(float(rs.f), abs=1e-14)


@pytest.mark.slow
def test_1rsb_capacity_exceeds_rs_and_ends_the_branch():
    c = capacity_rsb1(Model(P=4), 0.0)
    assert c.converged
    assert c.alpha_c > c.alpha_c_rs
    lo, hi = c.bracket
    assert hi - lo < 1e-6 * c.alpha_c
    assert 0 <= c.q0 < c.q1 == 1.0


# --- P = 2 (AGS with one step of RSB) and T > 0 ---------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("T", [0.0, 0.05, 0.3])
def test_p2_1rsb_reduces_to_ags_rs(T):
    """q0 = q1: the 1RSB AGS functional (log-det of 1 - beta Q) equals the RS AGS free energy, and the
    equations vanish as q0 -> q1 at the RS saddle point."""
    for alpha in ((0.05, 0.12) if T < 0.1 else (0.05, 0.09)):
        rs = solve(Model(P=2), alpha, T)
        assert bool(rs.converged)
        q = 1.0 if T == 0 else float(rs.q)
        for mu in (0.8, 3.0):
            if T > 0 and mu * T > 1:
                continue
            x = jnp.array([float(rs.m), q, float(rs.C), mu])
            assert float(R1.free_energy(x, alpha, T, 2)) == pytest.approx(float(rs.f), abs=1e-11)
        if T > 0:
            e = [np.max(np.abs(np.asarray(R1.equations(jnp.array([float(rs.m), q - d, float(rs.C), 2.0]),
                                                       alpha, T, 2)))) for d in (1e-4, 1e-6)]
            assert e[1] < 2e-2 * e[0]  # linear in q1 - q0


@pytest.mark.slow
def test_p2_1rsb_capacity_steffan_kuehn():
    """T = 0 capacity of the Hopfield model at 1RSB.  Steffan & Kuehn (1994) report 0.138186 (RS 0.137905);
    the early estimate 0.144 (Crisanti-Amit-Gutfreund 1986) is not reproduced by these equations."""
    c = capacity_rsb1(Model(P=2), 0.0)
    assert c.converged
    assert c.alpha_c_rs == pytest.approx(0.1379055665, abs=1e-9)
    assert abs(c.alpha_c - 0.138186) < 1e-6
    assert 0.96 < c.m_c < 0.97 and 0.99 < c.q0 < 1.0 and c.mu > 0


@pytest.mark.slow
def test_finite_temperature_1rsb_retrieval_below_the_at_line():
    """P = 4, alpha = 0.03: RS is AT-unstable at T = 0.005 (replicon < 0); the 1RSB saddle there has
    0 < x < 1, q0 < q1 < 1, is stationary in every variable, and f_1RSB > f_RS.  Above the AT line
    (T = 0.03) there is no non-trivial 1RSB saddle (x = 1 points are RS in disguise)."""
    P, alpha, T = 4, 0.03, 0.005
    rs = solve(Model(P=P), alpha, T)
    assert float(rs.replicon) < 0
    r = solve_rsb1(Model(P=P), alpha, T)
    assert r.converged and r.residual < 1e-8
    assert 0 < r.x < 1 and 0 <= r.q0 < r.q1 < 1
    assert r.f > float(rs.f) + 1e-7
    g = jax.grad(R1.free_energy)(jnp.array([r.m, r.q0, r.C, r.mu]), alpha, T, P)
    assert float(jnp.max(jnp.abs(g))) < 1e-9
    hot = solve_rsb1(Model(P=P), alpha, 0.03)
    assert not hot.converged and hot.status in ("rsb_trivial", "x_at_boundary")


@pytest.mark.slow
def test_1rsb_spin_glass_static_transition_of_the_3_spin_model():
    """With m = 0 and alpha = 3, P = 3 the noise covariance is q^3/2: the Ising 3-spin glass, whose 1RSB
    static transition is T_s = 0.651 (theory.reference_sg finds 0.651385 with independent code).  The
    spin-glass branch has x < 1 just below it and sits at x = 1 (status x_at_boundary) just above it."""
    from densehebb.theory import reference_sg as ref

    T_s, _ = ref.pspin_transitions(ref.pspin(3))
    assert T_s == pytest.approx(0.651, abs=1e-3)
    spec = Model(P=3)
    below = solve_rsb1(spec, 3.0, T_s - 0.01, "spin-glass")
    assert below.converged and 0.9 < below.x < 1 and below.q0 == 0.0
    # the same 1RSB free energy from the independent reference implementation
    f_ref = ref.hard_1rsb(T_s - 0.01, 0.0, below.q1, below.x, ref.pspin(3))
    assert below.f == pytest.approx(f_ref, abs=1e-9)
    above = solve_rsb1(spec, 3.0, T_s + 0.01, "spin-glass")
    assert not above.converged and above.status == "x_at_boundary"


@pytest.mark.parametrize("P,alpha,T", [(4, 0.03, 0.02), (4, 0.03, 0.005), (2, 0.1, 0.1), (3, 0.05, 0.03)])
def test_1rsb_replicon_reduces_to_the_rs_replicon(P, alpha, T):
    rs = solve(Model(P=P), alpha, T)
    assert bool(rs.converged)
    x = jnp.array([float(rs.m), float(rs.q), float(rs.C), 0.5 / T])
    assert float(R1.replicon(x, alpha, T, P)) == pytest.approx(float(rs.replicon), abs=1e-9)


@pytest.mark.slow
def test_1rsb_replicon_of_the_3_spin_glass_changes_sign():
    """The 1RSB spin glass of the Ising 3-spin model (P = 3, alpha = 3: xi = q^3/2) is stable near its
    static transition and unstable at low T (Gardner transition; densehebb finds it at T = 0.2403); at
    T = 0 the replicon is -inf."""
    spec = Model(P=3)
    hot, cold = solve_rsb1(spec, 3.0, 0.45, "spin-glass"), solve_rsb1(spec, 3.0, 0.15, "spin-glass")
    assert hot.converged and cold.converged
    assert hot.stable and hot.replicon > 0.1
    assert not cold.stable and cold.replicon < -0.1
    r0 = solve_rsb1(Model(P=4), 0.03, 0.0)
    assert r0.replicon == -np.inf and not r0.stable


@pytest.mark.slow
def test_1rsb_retrieval_between_the_rs_and_1rsb_capacities():
    """P = 4, T = 0: alpha = 0.035 lies between alpha_c^RS = 0.03298 and alpha_c^1RSB = 0.03820; the RS
    retrieval state is gone but the 1RSB one exists (continued in alpha), and at 0.04 neither does."""
    spec = Model(P=4)
    assert not bool(solve(spec, 0.035, 0.0).converged)
    r = solve_rsb1(spec, 0.035, 0.0)
    assert r.converged and r.residual < 1e-10 and 0.9 < r.m < 0.95 and r.q0 < r.q1 == 1.0
    g = jax.grad(R1.free_energy)(jnp.array([r.m, r.q0, r.C, r.mu]), 0.035, 0.0, 4)
    assert abs(float(g[0])) < 1e-9 and abs(float(g[1])) < 1e-9 and abs(float(g[3])) < 1e-9
    gone = solve_rsb1(spec, 0.04, 0.0)
    assert not gone.converged and gone.status == "branch_missing" and "1RSB capacity" in gone.note
