"""Symbolic layer: derived equations (sympy -> JAX) equal the numerical theory at random points."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from densehebb.theory import dense_rs as D
from densehebb.theory import dense_rsb1 as R1
from densehebb.theory import symbolic as S
from densehebb.theory.model import Model
from densehebb.theory.symbolic import GaussE, derive, pull_constants, stein, z

# `densehebb derive --P 4` (RS, distinct indices): the text is part of the interface
P4_RS_TEXT = """\
P = 4, ansatz = rs, convention = distinct-indices
f = beta*(alpha*q**4/24 - alpha/24 + v*(1 - q))/2 + m**4/8 - E_z[log(2*cosh(beta*(m**3/6 + sqrt(v)*z)))]/beta
stationarity:
  df/dm = m**2*(m - E_z[tanh(beta*(m**3 + 6*sqrt(v)*z)/6)])/2 = 0
  df/dq = beta*(alpha*q**3 - 6*v)/12 = 0
  df/dv = -beta*(q - E_z[tanh(beta*(m**3 + 6*sqrt(v)*z)/6)**2])/2 = 0
fixed-point form:
  m = E_z[tanh(beta*(m**3/6 + sqrt(v)*z))]
  q = E_z[tanh(beta*(m**3 + 6*sqrt(v)*z)/6)**2]
  v = alpha*q**3/6"""


def _model(P, si, ansatz="rs"):
    return Model(P=P, convention="all-tuples" if si else "distinct-indices", ansatz=ansatz)


# the first P = 2 case also pays dense_rs's compilation (~7 s of its ~12 s)
@pytest.mark.parametrize("P,si", [(2, False), (2, True), (3, False), (4, False), (4, True), (5, True)])
def test_derived_equations_match_numerical_theory(P, si):
    d = derive(_model(P, si))
    assert d.args == (S.m, S.q, S.v, S.alpha, S.beta)
    eqs = d.to_jax("fixed_point")
    conds = d.to_jax("conditions")
    f_sym = d.free_energy_jax()
    grad_f = jax.grad(lambda *a: f_sym(*a), argnums=(0, 1, 2))
    rng = np.random.default_rng(P + 10 * si)
    for _ in range(4):
        m, q = rng.uniform(0.3, 0.95), rng.uniform(0.2, 0.9)
        alpha, T = rng.uniform(0.01, 0.1), rng.uniform(0.4, 1.2)
        beta = 1 / T
        if P == 2:  # keep 1 - beta(1 - q) > 0
            q = max(q, 1 - 0.9 * T)
        v = rng.uniform(0.05, 0.5)
        x = jnp.array([m, beta * (1 - q), v])
        num = np.asarray(D.raw_equations(x, alpha, T, P, si))
        sym = np.asarray(eqs(m, q, v, alpha, beta))
        # symbolic (m - E tanh, q - E tanh^2, v - xi'(q)); numeric (m - E tanh, v - xi'(q), beta (E tanh^2 - q))
        np.testing.assert_allclose([sym[0], sym[2], -beta * sym[1]], num, atol=1e-10)
        assert float(f_sym(m, q, v, alpha, beta)) == pytest.approx(float(D.free_energy(x, alpha, T, P, si)),
                                                                   abs=1e-10)
        # the derived conditions (Stein's lemma applied) are the gradient of the lambdified free energy
        np.testing.assert_allclose(np.asarray(conds(m, q, v, alpha, beta)),
                                   np.array(grad_f(m, q, v, alpha, beta)), atol=1e-8)


def test_stein_lemma_and_latex():
    a = sp.Symbol("a", positive=True)
    assert sp.simplify(stein(GaussE(z * sp.tanh(a * z))) - pull_constants(a * GaussE(1 - sp.tanh(a * z) ** 2))) == 0
    assert stein(GaussE(z * sp.tanh(a * z))) != GaussE(z * sp.tanh(a * z))
    d = derive(Model(P=4))
    tex = d._repr_latex_()
    assert tex.startswith("$$") and r"\mathbb{E}_z" in tex and r"\frac{\partial f}{\partial m}" in tex
    # the P-spin noise relation is derived, not typed in: v = alpha q^3 / 6 for P = 4
    v_eq = [e for e in d.fixed_point if e.lhs == sp.Symbol("v", real=True)][0]
    assert sp.simplify(v_eq.rhs - sp.Symbol("alpha", positive=True) * sp.Symbol("q", real=True) ** 3 / 6) == 0
    assert d.text() == P4_RS_TEXT and repr(d) == P4_RS_TEXT


def test_derive_takes_a_model():
    assert derive(Model(P=3)) is derive(Model(P=3))  # cached per model
    assert derive(Model(P=3, convention="all-tuples")).convention == "all-tuples"
    with pytest.raises(TypeError, match="Model"):
        derive(4)
    with pytest.raises(NotImplementedError, match="low storage"):
        derive(Model(P=4, storage="low"))
    with pytest.raises(NotImplementedError, match="diluted"):
        derive(Model(P=4, dilution=0.2))
    with pytest.raises(ValueError, match="which"):
        derive(Model(P=3)).to_jax("nonsense")
    with pytest.raises(ValueError, match="Gauss-Hermite"):
        derive(Model(P=3)).free_energy_jax(n=500)


def test_jax_functions_are_float64_without_global_x64():
    """The lambdified functions compute in float64 even when the user's JAX runs in float32."""
    m, q, v, alpha, T = 0.8, 0.7, 0.2, 0.05, 0.5
    x = jnp.array([m, (1 - q) / T, v])
    f_ref = float(D.free_energy(x, alpha, T, 3, False))
    d = derive(Model(P=3))
    with jax.enable_x64(False):
        f = d.free_energy_jax()(m, q, v, alpha, 1 / T)
        eqs = d.to_jax()(m, q, v, alpha, 1 / T)
        f1 = S.free_energy_jax(Model(P=3, ansatz="1rsb"))(m, 0.5, q, 0.4, 0.1, v, alpha, 1 / T)
        assert jnp.ones(1).dtype == jnp.float32  # the user's setting is untouched
    assert f.dtype == eqs.dtype == f1.dtype == jnp.float64
    assert abs(float(f) - f_ref) < 1e-12
    # arrays broadcast like NumPy
    vals = d.free_energy_jax()(np.array([m, 0.5]), q, v, alpha, 1 / T)
    assert vals.shape == (2,) and abs(float(vals[0]) - f_ref) < 1e-12


def _rsb1_point(rng, P, T):
    """A random admissible 1RSB point (for P = 2: D1 = 1 - (1 - q1)/T > 0 and D0 = D1 - x (q1 - q0)/T > 0)."""
    alpha = rng.uniform(0.02, 0.1) if P == 2 else rng.uniform(0.5, 3.0)
    m_, q1_, x_ = rng.uniform(0.3, 0.9), 1 - 0.4 * T * rng.uniform(0.2, 0.9), rng.uniform(0.2, 0.8)
    q0_ = q1_ - 0.3 * T * (1 - (1 - q1_) / T) * rng.uniform(0.2, 0.9)
    return alpha, m_, q0_, q1_, x_


@pytest.mark.parametrize("P,si", [(2, False), (3, False), (4, True), (5, False)])
def test_symbolic_1rsb_free_energy_matches_dense_rsb1(P, si):
    """The sympy 1RSB free energy (v0, v1 explicit), lambdified with nested Gauss-Hermite averages, equals
    theory.dense_rsb1 at the conjugates v0 = S0, v1 = S1 that dense_rsb1 eliminates."""
    f_sym = S.free_energy_jax(_model(P, si, "1rsb"))
    rng = np.random.default_rng(P + 10 * si)
    for _ in range(3):
        T = rng.uniform(0.3, 0.8)
        alpha, m_, q0_, q1_, x_ = _rsb1_point(rng, P, T)
        _, S0, S1 = R1.noise_terms(q0_, (1 - q1_) / T, x_ / T, alpha, T, P, si)
        f_num = float(R1.free_energy(jnp.array([m_, q0_, (1 - q1_) / T, x_ / T]), alpha, T, P, si, n=64))
        assert float(f_sym(m_, q0_, q1_, x_, float(S0), float(S1), alpha, 1 / T)) == pytest.approx(f_num, abs=1e-8)


@pytest.mark.parametrize("P,si", [(2, False), (4, False)])
def test_symbolic_1rsb_fixed_point_matches_dense_rsb1(P, si):
    """derive(Model(..., ansatz="1rsb")): the q0, q1 conditions solved for v0, v1 are dense_rsb1's field
    variances S0, S1, as expressions and through to_jax (residuals v0 - S0, v1 - S1)."""
    d = derive(_model(P, si, "1rsb"))
    assert [e.lhs for e in d.fixed_point] == [S.v0, S.v1]
    assert d.args == (S.m, S.q0, S.q1, S.x_p, S.v0, S.v1, S.alpha, S.beta)
    residual = d.to_jax()
    rng = np.random.default_rng(P + 10 * si)
    for _ in range(2):
        T = rng.uniform(0.3, 0.8)
        alpha, m_, q0_, q1_, x_ = _rsb1_point(rng, P, T)
        _, S0, S1 = R1.noise_terms(q0_, (1 - q1_) / T, x_ / T, alpha, T, P, si)
        vals = {S.m: m_, S.q0: q0_, S.q1: q1_, S.x_p: x_, S.alpha: alpha, S.beta: 1 / T}
        assert float(d.fixed_point[0].rhs.subs(vals)) == pytest.approx(float(S0), rel=1e-12)
        assert float(d.fixed_point[1].rhs.subs(vals)) == pytest.approx(float(S1), rel=1e-12)
        np.testing.assert_allclose(np.asarray(residual(m_, q0_, q1_, x_, 0.3, 0.7, alpha, 1 / T)),
                                   [0.3 - float(S0), 0.7 - float(S1)], atol=1e-12)


@pytest.mark.slow
def test_symbolic_1rsb_conditions_are_the_gradient():
    """All six 1RSB stationarity conditions (nested averages, lambdified) equal the autodiff gradient of the
    lambdified free energy; at dense_rsb1's conjugates the q0, q1 conditions vanish.  The text and LaTeX
    carry the nested averages."""
    d = derive(Model(P=4, ansatz="1rsb"))
    conds = d.to_jax("conditions", n=60)
    f_sym = d.free_energy_jax(n=60)
    grad_f = jax.grad(lambda *a: f_sym(*a), argnums=tuple(range(6)))
    rng = np.random.default_rng(7)
    T = 0.5
    alpha, m_, q0_, q1_, x_ = _rsb1_point(rng, 4, T)
    _, S0, S1 = R1.noise_terms(q0_, (1 - q1_) / T, x_ / T, alpha, T, 4, False)
    for v0_, v1_ in [(0.3, 0.7), (float(S0), float(S1))]:
        vals = (m_, q0_, q1_, x_, v0_, v1_, alpha, 1 / T)
        c = np.asarray(conds(*vals))
        np.testing.assert_allclose(c, np.array(grad_f(*vals)), atol=1e-10)
    assert abs(c[1]) < 1e-12 and abs(c[2]) < 1e-12
    assert "\\mathbb{E}_{z_{0}}" in d.latex() and sp.sstr(d.free_energy).count("E_z1") == 1
    assert d.text().splitlines()[0] == "P = 4, ansatz = 1rsb, convention = distinct-indices"
    assert len([ln for ln in d.text().splitlines() if ln.startswith("  df/d")]) == 6
