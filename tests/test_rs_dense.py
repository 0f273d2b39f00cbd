"""Dense networks, P >= 3, high storage K = alpha N^(P-1), RS: covariance, equations, T = 0 capacity."""
import math

import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import erf
from scipy.stats import norm

from densehebb.theory import Model, convention_name, solve
from densehebb.theory import dense_rs as D
from densehebb.theory.covariance import alpha_sym, noise_covariance, q_sym
from densehebb.phase_diagrams.lines import capacity


def _E(fn):
    return quad(lambda z: norm.pdf(z) * fn(z), -12, 12, epsabs=1e-14, epsrel=1e-13, limit=400)[0]


@pytest.mark.parametrize("P", range(2, 9))
def test_noise_covariance_derivation(P):
    """Distinct indices: alpha q^P / P!.  All tuples: the Hermite expansion of u^P, whose coefficients
    in closed form are alpha / (j! [((P-j)/2)! 2^((P-j)/2)]^2) for j = P, P-2, ..., >= 1."""
    assert sp.simplify(noise_covariance(P, False) - alpha_sym * q_sym ** P / sp.factorial(P)) == 0
    expected = sum(alpha_sym * q_sym ** j / (sp.factorial(j) * (sp.factorial((P - j) // 2) * 2 ** ((P - j) // 2)) ** 2)
                   for j in range(P, 0, -2))
    assert sp.simplify(noise_covariance(P, True) - expected) == 0


@pytest.mark.parametrize("P,si", [(3, False), (4, False), (4, True), (3, True), (5, False)])
def test_equations_and_free_energy_match_textbook_p_spin_rs(P, si):
    alpha, T, m, q = 0.02, 0.15, 0.7, 0.8
    beta = 1 / T
    xi = lambda k: float(D.xi(q, alpha, P, si, k))  # noqa: E731
    v = xi(1)
    h = m ** (P - 1) / math.factorial(P - 1)
    x = jnp.array([m, beta * (1 - q), v])
    th = lambda z: np.tanh(beta * (h + np.sqrt(v) * z))  # noqa: E731
    e = np.asarray(D.raw_equations(x, alpha, T, P, si))
    np.testing.assert_allclose(e, [m - _E(th), 0.0, beta * (1 - q) - beta * (1 - _E(lambda z: th(z) ** 2))],
                               atol=1e-11)
    # -beta f = beta^2/2 [xi(1) - xi(q) - xi'(q)(1-q)] - beta (P-1) m^P/P! + E ln 2cosh beta(h + sqrt(xi'(q)) z)
    xi1 = float(D.xi(1.0, alpha, P, si))
    mbf = (beta ** 2 / 2 * (xi1 - xi(0) - v * (1 - q)) - beta * (P - 1) * m ** P / math.factorial(P)
           + _E(lambda z: np.log(2 * np.cosh(beta * (h + np.sqrt(v) * z)))))
    assert float(D.free_energy(x, alpha, T, P, si)) == pytest.approx(-mbf / beta, abs=1e-11)


@pytest.mark.parametrize("P", [3, 4, 6])
def test_paramagnet_is_annealed_above_freezing(P):
    alpha, T = 0.05, 1.0
    r = solve(Model(P=P), alpha, T, "paramagnetic")
    assert bool(r.converged) and float(r.q) == pytest.approx(0, abs=1e-14)
    assert float(r.f) == pytest.approx(-T * math.log(2) - alpha / math.factorial(P) / (2 * T), abs=1e-13)


def _closed_form_capacity(P, si):
    """T = 0 RS for P >= 3: q = 1, v = xi'(1) = kappa alpha, m = erf(h(m)/sqrt(2 v)).  The branch ends where
    u = h(m)/sqrt(2v) solves erf(u) = (2/sqrt(pi)) (P-1) u exp(-u^2); then m_c = erf(u) and
    alpha_c = h(m_c)^2 / (2 u^2 kappa)."""
    g = lambda u: erf(u) - 2 / math.sqrt(math.pi) * (P - 1) * u * math.exp(-u * u)  # noqa: E731
    us = np.linspace(1e-3, 6, 6000)
    vals = [g(u) for u in us]
    i = max(k for k in range(len(us) - 1) if vals[k] * vals[k + 1] < 0)
    u = brentq(g, us[i], us[i + 1], xtol=1e-15)
    m = erf(u)
    kappa = float(D.xi(1.0, 1.0, P, si, 1))
    h = m ** (P - 1) / math.factorial(P - 1)
    return h * h / (2 * u * u * kappa), m


@pytest.mark.parametrize("P,si", [(3, False)] + [pytest.param(P, si, marks=pytest.mark.slow) for P, si in
                                                  [(4, False), (5, False), (6, False), (7, False), (8, False),
                                                   (3, True), (4, True)]])
def test_zero_temperature_capacity_satisfies_closed_form(P, si):
    c = capacity(Model(P=P, convention=convention_name(si)), 0.0)
    a_cf, m_cf = _closed_form_capacity(P, si)
    assert c.converged
    assert c.alpha_c == pytest.approx(a_cf, rel=1e-6)
    assert c.m_c == pytest.approx(m_cf, abs=1e-6)


def test_conventions_differ_where_theory_says():
    """P = 4 at the same (alpha, T): the all-tuples noise (extra alpha q^2/8 SK-like term) lowers m."""
    a, T = 0.01, 0.05
    d = solve(Model(P=4), a, T)
    s = solve(Model(P=4, convention="all-tuples"), a, T)
    assert bool(d.converged) and bool(s.converged)
    assert float(s.m) < float(d.m) - 1e-3
