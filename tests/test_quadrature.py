"""Gaussian averages: accuracy against adaptive quadrature, convergence in the node count, derivatives."""
import jax
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import norm

import densehebb.theory as theory
from densehebb.theory import Model, solve
from densehebb.theory import quadrature as Q


def _ref(fn, m, s):
    f = lambda z: norm.pdf(z) * fn(m + s * z)  # noqa: E731
    z0 = -m / s
    kw = dict(epsabs=1e-15, epsrel=1e-13, limit=400)
    return quad(f, -np.inf, z0, **kw)[0] + quad(f, z0, np.inf, **kw)[0]


CASES = [(m, s, rho) for m in (0.0, 0.4, 0.97, 1.5) for s in (0.1, 0.4, 1.0)
         for rho in (0.02, 0.3, 0.9, 1.1, 3.0)]


@pytest.mark.parametrize("m,s,rho", CASES)
def test_thermal_averages_match_adaptive_quadrature(m, s, rho):
    T = rho * s
    v = s * s
    lc = lambda h: T * np.logaddexp(h / T, -h / T)  # noqa: E731
    assert abs(float(Q.logcosh_avg(m, v, T)) - _ref(lc, m, s)) < 1e-11
    assert abs(float(Q.tanh_avg(m, v, T)) - _ref(lambda h: np.tanh(h / T), m, s)) < 1e-11
    s2 = _ref(lambda h: 1 / np.cosh(min(abs(h / T), 150)) ** 2, m, s) / T
    s4 = _ref(lambda h: 1 / np.cosh(min(abs(h / T), 150)) ** 4, m, s) / T
    assert abs(float(Q.sech2_over_T(m, v, T)) - s2) < 1e-10 * max(1, s2)
    assert abs(float(Q.sech4_over_T(m, v, T)) - s4) < 1e-10 * max(1, s4)


@pytest.mark.parametrize("m,s", [(0.3, 0.5), (0.97, 0.38), (0.0, 1.0)])
def test_zero_temperature_limits_are_closed_forms(m, s):
    v = s * s
    assert float(Q.logcosh_avg(m, v, 0.0)) == pytest.approx(
        m * (2 * norm.cdf(m / s) - 1) + 2 * s * norm.pdf(m / s), abs=1e-14)
    assert float(Q.tanh_avg(m, v, 0.0)) == pytest.approx(2 * norm.cdf(m / s) - 1, abs=1e-14)
    assert float(Q.sech4_over_T(m, v, 0.0)) == pytest.approx(4 / 3 * norm.pdf(m / s) / s, rel=1e-12)
    # and the finite-T values approach them continuously
    assert float(Q.logcosh_avg(m, v, 1e-5)) == pytest.approx(float(Q.logcosh_avg(m, v, 0.0)), abs=1e-9)
    assert float(Q.sech4_over_T(m, v, 1e-5)) == pytest.approx(float(Q.sech4_over_T(m, v, 0.0)), rel=1e-6)


@pytest.mark.parametrize("m,v,T", [(0.5, 0.2, 0.3), (0.9, 0.05, 0.02), (0.2, 0.5, 1.5), (0.0, 0.3, 0.7)])
def test_analytic_derivatives_match_finite_differences(m, v, T):
    g = jax.grad(Q.logcosh_avg, argnums=(0, 1, 2))(m, v, T)
    h = 1e-5
    fd = [(float(Q.logcosh_avg(*[x + h * (k == j) for k, x in enumerate((m, v, T))]))
           - float(Q.logcosh_avg(*[x - h * (k == j) for k, x in enumerate((m, v, T))]))) / (2 * h)
          for j in range(3)]
    np.testing.assert_allclose(np.array(g, float), fd, rtol=1e-7, atol=1e-9)


@pytest.mark.slow
def test_solution_converged_in_node_count():
    """The documented default (160 Gauss-Hermite nodes) is converged: doubling it changes nothing at 1e-12,
    while a deliberately coarse rule (12 nodes) visibly differs (so this test can fail)."""
    # points where T / sqrt(alpha r) > 1, i.e. where the Gauss-Hermite rule is the one used
    pts = dict(alpha=np.array([0.05, 0.01, 0.02, 0.005]), T=np.array([0.3, 0.5, 0.6, 0.8]))
    base = solve(Model(nodes=theory.DEFAULT_NODES), **pts)
    fine = solve(Model(nodes=2 * theory.DEFAULT_NODES), **pts)
    coarse = solve(Model(nodes=6), **pts)
    assert bool(np.all(base.converged)) and bool(np.all(fine.converged))
    for k in ("m", "q", "f"):
        np.testing.assert_allclose(getattr(base, k), getattr(fine, k), atol=1e-12)
    assert np.max(np.abs(np.asarray(coarse.f) - np.asarray(base.f))) > 1e-10


@pytest.mark.parametrize("m,s,rho", [(0.97, 0.38, 0.05), (0.3, 0.5, 0.5), (0.1, 0.2, 0.9)])
def test_laguerre_rule_converged_in_node_count(m, s, rho):
    """Boundary-layer rule (T < s): the default 80 Laguerre nodes agree with 160 to 1e-11; 6 nodes do not."""
    v, T = s * s, rho * s
    for fn in (Q.logcosh_avg, Q.tanh_avg, Q.sech4_over_T):
        base = float(fn(m, v, T, Q.DEFAULT_NODES, Q.LAGUERRE_NODES))
        fine = float(fn(m, v, T, Q.DEFAULT_NODES, 2 * Q.LAGUERRE_NODES))
        coarse = float(fn(m, v, T, Q.DEFAULT_NODES, 6))
        assert abs(base - fine) < 1e-11 * max(1.0, abs(fine))
        assert abs(coarse - fine) > 1e-12
