"""P = 2 (AGS) RS theory: equations vs closed forms, limits, branches, failure reporting."""
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import erf
from scipy.stats import norm

import densehebb as dh
from densehebb.theory import Model, solve, solve_grid
from densehebb.theory import dense_rs as D

SPEC = Model()


def _E(fn):
    return quad(lambda z: norm.pdf(z) * fn(z), -12, 12, epsabs=1e-14, epsrel=1e-13, limit=400)[0]


@pytest.mark.parametrize("m,C,v,alpha,T", [(0.8, 0.3, 0.12, 0.1, 0.4), (0.2, 0.6, 0.5, 0.3, 0.9),
                                           (0.95, 0.1, 0.06, 0.05, 0.15), (0.5, 0.4, 0.2, 0.08, 1.3)])
def test_autodiff_equations_equal_closed_form_fixed_point_equations(m, C, v, alpha, T):
    """grad f (the equations the solver uses) == the textbook AGS equations, at arbitrary points."""
    x = jnp.array([m, C, v])
    e = np.asarray(D.raw_equations(x, alpha, T, 2))
    s = np.sqrt(v)
    q = 1 - C * T
    th = lambda z: np.tanh((m + s * z) / T)  # noqa: E731
    expected = [m - _E(th), v - alpha * q / (1 - C) ** 2, C - (1 - _E(lambda z: th(z) ** 2)) / T]
    np.testing.assert_allclose(e, expected, atol=1e-11)


@pytest.mark.parametrize("m,C,v,alpha,T", [(0.8, 0.3, 0.12, 0.1, 0.4), (0.2, 0.6, 0.5, 0.3, 0.9)])
def test_general_P_code_path_at_P2_is_the_AGS_free_energy(m, C, v, alpha, T):
    """The textbook AGS expression, written independently here in (m, q, r), equals the general-P f."""
    beta, q, r = 1 / T, 1 - C * T, v / alpha
    lc = _E(lambda z: np.log(2 * np.cosh(beta * (m + np.sqrt(alpha * r) * z))))
    f_ags = (alpha / 2 + m * m / 2 + alpha * beta / 2 * r * (1 - q)
             + alpha / (2 * beta) * (np.log(1 - beta * (1 - q)) - beta * q / (1 - beta * (1 - q))) - lc / beta)
    assert float(D.free_energy(jnp.array([m, C, v]), alpha, T, 2)) == pytest.approx(f_ags, abs=1e-12)


def test_zero_temperature_solution_satisfies_exact_T0_equations():
    r = solve(SPEC, 0.1, 0.0)
    assert bool(r.converged)
    m, C, v = np.asarray(r.raw)
    assert m == pytest.approx(erf(m / np.sqrt(2 * v)), abs=1e-10)
    assert C == pytest.approx(np.sqrt(2 / (np.pi * v)) * np.exp(-m * m / (2 * v)), abs=1e-10)
    assert float(r.r) == pytest.approx(1 / (1 - C) ** 2, rel=1e-10)
    assert float(r.q) == 1.0
    # ground-state energy: f(T=0) = alpha/2 + m^2/2 + alpha r C/2 - alpha/(2(1-C)) - E|m + sqrt(v) z|
    e0 = 0.1 / 2 + m * m / 2 + v * C / 2 - 0.1 / (2 * (1 - C)) - _E(lambda z: abs(m + np.sqrt(v) * z))
    assert float(r.f) == pytest.approx(e0, abs=1e-12)


@pytest.mark.parametrize("branch,alpha", [("retrieval", 0.1), ("spin-glass", 0.1), ("retrieval", 0.05)])
def test_low_temperature_limit_is_continuous(branch, alpha):
    r0 = solve(SPEC, alpha, 0.0, branch)
    r1 = solve(SPEC, alpha, 1e-6, branch)  # f(T) - f(0) = O(T): the RS spin glass has S(0) < 0
    assert bool(r0.converged) and bool(r1.converged)
    assert float(r1.m) == pytest.approx(float(r0.m), abs=1e-6)
    assert float(r1.f) == pytest.approx(float(r0.f), abs=1e-6)
    assert float(r1.C) == pytest.approx(float(r0.C), abs=1e-4)


def test_paramagnet_free_energy_and_high_temperature_expansion():
    alpha, T = 0.07, 3.0
    r = solve(SPEC, alpha, T, "paramagnetic")
    beta = 1 / T
    assert bool(r.converged) and float(r.m) == 0 and float(r.q) == pytest.approx(0, abs=1e-15)
    assert float(r.f) == pytest.approx(alpha / 2 + alpha / (2 * beta) * np.log(1 - beta) - T * np.log(2), rel=1e-13)
    # high-T (cumulant) expansion of the distinct-index energy H = -sum_{i<j} J_ij s_i s_j,
    # J_ij = (1/N) sum_mu xi_i xi_j: -beta f = ln 2 + alpha beta^2/4 (pairs) + alpha beta^3/6 (triangles) + ...
    T = 200.0
    f = float(solve(SPEC, alpha, T, "paramagnetic").f)
    b = 1 / T
    assert -f / T == pytest.approx(np.log(2) + alpha * b ** 2 / 4 + alpha * b ** 3 / 6, abs=alpha * b ** 4)
    # replicon of the paramagnet: 1 - alpha beta^2 / (1 - beta)^2
    assert float(r.replicon) == pytest.approx(1 - alpha * beta ** 2 / (1 - beta) ** 2, rel=1e-12)


@pytest.mark.slow
def test_all_tuples_convention_shifts_f_by_minus_alpha_over_2():
    si = Model(convention="all-tuples")
    for branch, T in [("retrieval", 0.3), ("spin-glass", 0.3), ("paramagnetic", 2.0)]:
        a = solve(SPEC, 0.05, T, branch)
        b = solve(si, 0.05, T, branch)
        assert float(b.f) == pytest.approx(float(a.f) - 0.025, abs=1e-13)
        assert float(b.m) == pytest.approx(float(a.m), abs=1e-13)


@pytest.mark.parametrize("T", [0.0, 0.3, 0.8])
def test_zero_load_is_curie_weiss(T):
    r = solve(SPEC, 0.0, T)
    m = float(r.m)
    assert bool(r.converged)
    assert m == pytest.approx(np.tanh(m / T) if T > 0 else 1.0, abs=1e-12)
    f_cw = m * m / 2 - (T * np.log(2 * np.cosh(m / T)) if T > 0 else 1.0)
    assert float(r.f) == pytest.approx(f_cw, abs=1e-12)


def test_branch_free_energies_are_comparable_and_ordered_as_ags():
    # alpha = 0.03, T = 0: retrieval is the ground state; alpha = 0.1, T = 0: the spin glass is
    lo_r, lo_s = solve(SPEC, 0.03, 0.0, "retrieval"), solve(SPEC, 0.03, 0.0, "spin-glass")
    hi_r, hi_s = solve(SPEC, 0.1, 0.0, "retrieval"), solve(SPEC, 0.1, 0.0, "spin-glass")
    assert float(lo_r.f) < float(lo_s.f)
    assert float(hi_s.f) < float(hi_r.f)
    # spin glass meets the paramagnet continuously at T_g = 1 + sqrt(alpha)
    a = 0.04
    Tg = 1 + np.sqrt(a)
    sg = solve(SPEC, a, Tg - 1e-5, "spin-glass")
    pm = solve(SPEC, a, Tg - 1e-5, "paramagnetic")  # exists (T > 1) though unstable there
    assert bool(sg.converged) and 0 < float(sg.q) < 1e-3
    assert float(sg.f) == pytest.approx(float(pm.f), abs=1e-8)


def test_no_solution_is_nan_with_flag_not_last_iterate():
    r = solve(SPEC, 0.2, 0.0, "retrieval")  # beyond capacity: the retrieval branch does not exist
    assert not bool(r.converged)
    assert np.isnan(float(r.m)) and np.isnan(float(r.f)) and not bool(r.stable)
    assert r.status is not dh.Status.CONVERGED and r.status.message
    r = solve(SPEC, 0.05, 0.5, "paramagnetic")  # T < 1: no RS paramagnet at alpha > 0
    assert not bool(r.converged) and np.isnan(float(r.f))


@pytest.mark.slow
def test_grid_solve_is_vmapped_and_equals_pointwise():
    alphas = np.array([0.02, 0.06, 0.12])
    Ts = np.array([0.0, 0.2, 0.4])
    g = solve_grid(SPEC, alphas, Ts)
    assert g["m"].shape == (3, 3) and g["m"].dims == ("alpha", "T")
    for i, a in enumerate(alphas):
        for j, t in enumerate(Ts):
            p = solve(SPEC, a, t)
            assert p.status.code == int(g["status"][i, j])
            if bool(p.converged):
                assert float(p.m) == pytest.approx(float(g["m"][i, j]), abs=1e-12)
                assert float(g["residual"][i, j]) <= 1e-10


def test_replicon_of_retrieval_state():
    assert float(solve(SPEC, 0.05, 0.0).replicon) == -np.inf  # RS retrieval is AT-unstable at T = 0
    r = solve(SPEC, 0.05, 0.3)
    m, C, v = np.asarray(r.raw)
    s4 = _E(lambda z: 1 / np.cosh((m + np.sqrt(v) * z) / 0.3) ** 4)
    assert float(r.replicon) == pytest.approx(1 - 0.05 / 0.3 ** 2 * s4 / (1 - C) ** 2, abs=1e-11)
    assert bool(r.stable)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="branch"):
        solve(SPEC, 0.1, 0.1, "ferromagnet")
    with pytest.raises(ValueError, match="alpha"):
        solve(SPEC, -0.1, 0.1)
    with pytest.raises(ValueError, match="T"):
        solve(SPEC, 0.1, float("nan"))
    with pytest.raises(ValueError, match="P"):
        Model(P=1)
