"""Symbolic layer: derived equations (sympy -> JAX) equal the numerical theory at random points."""
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from densehebb.theory import dense_rs as D
from densehebb.theory.symbolic import GaussE, derive, pull_constants, stein, z


@pytest.mark.parametrize("P,si", [(2, False), (2, True), (3, False), (4, False), (4, True), (5, True)])
def test_derived_equations_match_numerical_theory(P, si):
    d = derive(P, si)
    eqs = d.to_jax("fixed_point")
    f_sym = d.free_energy_jax()
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


def test_stein_lemma_and_latex():
    a = sp.Symbol("a", positive=True)
    assert sp.simplify(stein(GaussE(z * sp.tanh(a * z))) - pull_constants(a * GaussE(1 - sp.tanh(a * z) ** 2))) == 0
    assert stein(GaussE(z * sp.tanh(a * z))) != GaussE(z * sp.tanh(a * z))
    d = derive(4)
    tex = d._repr_latex_()
    assert tex.startswith("$$") and r"\mathbb{E}_z" in tex and r"\frac{\partial f}{\partial m}" in tex
    # the P-spin noise relation is derived, not typed in: v = alpha q^3 / 6 for P = 4
    v_eq = [e for e in d.fixed_point if e.lhs == sp.Symbol("v", real=True)][0]
    assert sp.simplify(v_eq.rhs - sp.Symbol("alpha", positive=True) * sp.Symbol("q", real=True) ** 3 / 6) == 0


@pytest.mark.parametrize("P,si", [(2, False), (4, True)])
def test_symbolic_1rsb_free_energy_and_conjugates_match_dense_rsb1(P, si):
    """The sympy 1RSB free energy (v0, v1 explicit), lambdified with nested Gauss-Hermite averages, equals
    theory.dense_rsb1 at the conjugates it derives itself (the q0, q1 conditions solved for v0, v1)."""
    import jax.numpy as jnp
    import sympy as sp

    from densehebb.theory import dense_rsb1 as R1
    from densehebb.theory import symbolic as S

    d = S.derive(P, si, "1rsb")
    assert [e.lhs for e in d.fixed_point] == [S.v0, S.v1]
    f_sym = S.free_energy_1rsb_jax(P, si, n=120)
    rng = np.random.default_rng(P + 10 * si)
    for _ in range(2):
        alpha = rng.uniform(0.02, 0.1) if P == 2 else rng.uniform(0.5, 3.0)
        T = rng.uniform(0.3, 0.8)
        # admissible for P = 2: D1 = 1 - (1 - q1)/T > 0 and D0 = D1 - x (q1 - q0)/T > 0
        m_, q1_, x_ = rng.uniform(0.3, 0.9), 1 - 0.4 * T * rng.uniform(0.2, 0.9), rng.uniform(0.2, 0.8)
        q0_ = q1_ - 0.3 * T * (1 - (1 - q1_) / T) * rng.uniform(0.2, 0.9)
        vals = {S.m: m_, S.q0: q0_, S.q1: q1_, S.x_p: x_, S.alpha: alpha, S.beta: 1 / T}
        v0_ = float(d.fixed_point[0].rhs.subs(vals))
        v1_ = float(d.fixed_point[1].rhs.subs(vals))
        _, S0, S1 = R1.noise_terms(q0_, (1 - q1_) / T, x_ / T, alpha, T, P, si)
        assert v0_ == pytest.approx(float(S0), rel=1e-12) and v1_ == pytest.approx(float(S1), rel=1e-12)
        f_num = float(R1.free_energy(jnp.array([m_, q0_, (1 - q1_) / T, x_ / T]), alpha, T, P, si, n=64))
        assert float(f_sym(m_, q0_, q1_, x_, v0_, v1_, alpha, 1 / T)) == pytest.approx(f_num, abs=1e-9)
    assert "\\mathbb{E}_{z_{0}}" in d.latex() and sp.sstr(d.free_energy).count("E_z1") == 1
