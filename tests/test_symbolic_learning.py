"""Symbolic layer for learning from examples: the sympy free energy and its derived equations equal
theory.learning (exact binomial site sum, Gaussian site), reduce to the storage derivation at r = 1, and
`densehebb derive --dataset` prints them."""
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from densehebb.phase_diagrams.cli import main
from densehebb.theory import symbolic as S
from densehebb.theory import symbolic_learning as SL
from densehebb.theory.learning import Learning
from densehebb.theory.model import Examples, Model
from densehebb.theory.symbolic import derive, derive_learning

M_EX = 4   # one M everywhere: theory.learning's site arrays keep one shape (its quadrature compiles once)


def _spec(P, supervised, si, normalisation, gaussian=False, r=0.7):
    return Model(P=P, convention="all-tuples" if si else "distinct-indices",
                 examples=Examples(M=M_EX, r=r, supervised=supervised, normalisation=normalisation,
                                   gaussian=gaussian))


def _compare(spec, seed, points=2):
    """f, the fixed-point residuals and the conditions df/dx of derive(spec) (lambdified) against
    Learning(spec).free_energy and raw_equations (its autodiff gradient, (df/dn / (g h'(n)), 2 df/dC,
    2 df/dv)), evaluated eagerly in float64."""
    d = derive(spec)
    assert d.args == (SL.n, SL.C, SL.v, S.alpha, S.beta)
    assert [e.lhs for e in d.fixed_point] == [SL.n, SL.C, SL.v]
    f_sym, fp_sym, cond_sym = d.free_energy_jax(), d.to_jax(), d.to_jax("conditions")
    L = Learning(spec)
    gmax = 1.0 if spec.P > 2 else float(np.max(L.gk))
    rng = np.random.default_rng(seed)
    with jax.enable_x64(True):
        for _ in range(points):
            n, q, v = rng.uniform(0.3, 0.95), rng.uniform(0.2, 0.9), rng.uniform(0.05, 0.5)
            alpha, T = rng.uniform(0.01, 0.1), rng.uniform(0.4, 1.2)
            C = (1 - q) / T
            if spec.P == 2:          # keep 1 - gamma_k C > 0 (the log of the soft modes)
                C = min(C, 0.8 / gmax)
            x = jnp.array([n, C, v])
            args = (n, C, v, alpha, 1 / T)
            assert float(f_sym(*args)) == pytest.approx(float(L.free_energy(x, alpha, T)), abs=1e-11)
            # symbolic residuals (n - E s tanh, C - beta(1 - q), v - xi'(q)); numeric order (n, v, C)
            raw = np.asarray(L.raw_equations(x, alpha, T))
            np.testing.assert_allclose(np.asarray(fp_sym(*args)), raw[[0, 2, 1]], atol=1e-11)
            hp = L.g * n ** (spec.P - 2) / math.factorial(spec.P - 2)
            np.testing.assert_allclose(np.asarray(cond_sym(*args)), [hp * raw[0], raw[1] / 2, raw[2] / 2],
                                       atol=1e-11)


def _cases(fast):
    """(P, supervised, all-tuples, normalisation): the ``fast`` ones cover every P with both protocols, both
    conventions and both normalisations; the rest of the product is marked slow."""
    out = []
    for P in (2, 3, 4):
        for supervised in (True, False):
            for si in (False, True):
                for norm in ("r", "R"):
                    c = (P, supervised, si, norm)
                    out.append(c if c in fast else pytest.param(*c, marks=pytest.mark.slow))
    return out


FAST = {(2, True, False, "r"), (2, False, True, "R"), (3, True, True, "R"), (3, False, False, "r"),
        (4, True, False, "R"), (4, False, True, "r")}


@pytest.mark.parametrize("P,supervised,si,normalisation", _cases(FAST))
def test_symbolic_equals_numeric_binomial(P, supervised, si, normalisation):
    _compare(_spec(P, supervised, si, normalisation, r=0.6 + 0.1 * P / 4), seed=P + 7 * supervised + 3 * si)


@pytest.mark.parametrize("P,supervised,si,normalisation", [
    (2, True, False, "r"), (3, False, True, "R"),
    pytest.param(2, False, True, "R", marks=pytest.mark.slow),
    pytest.param(4, True, False, "r", marks=pytest.mark.slow)])
def test_symbolic_equals_numeric_gaussian_site(P, supervised, si, normalisation):
    """gaussian=True: the symbolic E_u E_z (nested Gauss-Hermite) equals theory.learning, which combines the
    two Gaussians into one."""
    _compare(_spec(P, supervised, si, normalisation, gaussian=True), seed=11 + P)


@pytest.mark.parametrize("P", [2, 3, 4])
@pytest.mark.parametrize("si", [False, True])
def test_r_equal_one_is_the_storage_derivation(P, si):
    """r = 1 (M symbolic): g = 1, s = 1, R = 1 and the learning covariance is the storage one, for both
    protocols, both normalisations and the Gaussian site -- the free energy is derive(Model(P))'s with n = m,
    C = beta (1 - q), and the v equation is the storage v = xi'(q)."""
    conv = "all-tuples" if si else "distinct-indices"
    ref = derive(Model(P=P, convention=conv))
    m, q, beta = S.m, S.q, S.beta
    to_storage = {SL.n: m, SL.C: beta * (1 - q)}
    v_ref = [e.rhs for e in ref.fixed_point if e.lhs == S.v][0]
    for supervised, normalisation, gaussian in ((True, "r", False), (False, "R", False), (True, "R", True)):
        d = derive_learning(P, conv, supervised, normalisation, gaussian, r=1)
        assert isinstance(d.M, sp.Symbol) and d.R == 1 and d.g == 1
        assert sp.simplify(d.free_energy.subs(to_storage) - ref.free_energy) == 0, (supervised, normalisation)
        assert sp.simplify(d.fixed_point[2].rhs.subs(to_storage) - v_ref) == 0
        assert d.fixed_point[0].rhs.subs(to_storage) == [e.rhs for e in ref.fixed_point if e.lhs == m][0]


@pytest.mark.parametrize("P,supervised,normalisation,gaussian",
                         [(2, False, "R", False), (3, True, "r", True), (4, False, "r", False)])
def test_general_equations_with_r_M_substituted(P, supervised, normalisation, gaussian):
    """The printed general equations (r, M, R symbols) with r, M substituted are the derivation with r, M
    given; for P >= 3 the v equation is xi'(q) at q = 1 - C/beta."""
    g = derive_learning(P, "distinct-indices", supervised, normalisation, gaussian)
    d = derive_learning(P, "distinct-indices", supervised, normalisation, gaussian, r=0.75, M=6)
    vals = {SL.r_sym: sp.Rational(3, 4), SL.M_sym: 6}

    def same(general, specific):   # (linearity of the averages puts constant factors in or out)
        return sp.simplify(SL.site_linear(general.subs(g.definitions).subs(vals) - specific)) == 0
    assert same(g.free_energy, d.free_energy)
    for eg, ed in zip(g.fixed_point, d.fixed_point):
        assert same(eg.rhs, ed.rhs), eg
    if P > 2:
        xi_prime = sp.diff(d.xi, S.q_sym).subs(S.q_sym, 1 - SL.C / S.beta)
        assert sp.simplify(d.fixed_point[2].rhs - xi_prime) == 0


def test_site_average_operator():
    """E_S is the binomial expectation: explicit() sums C(M,k) p^(M-k) (1-p)^k over S = M - 2k (E s = 1,
    E s^2 = 1 + rho); E[c] = c; r = 1 leaves S = M; derivatives pass under it; a Sum while M is a symbol."""
    r, M, Ssym = sp.Rational(3, 5), 7, SL.S_sym
    s = Ssym / (M * r)
    assert SL.SiteE(s, Ssym, M, r).explicit() == 1
    rho = (1 - r ** 2) / (M * r ** 2)
    assert sp.simplify(SL.SiteE(s ** 2, Ssym, M, r).explicit() - (1 + rho)) == 0
    assert SL.SiteE(SL.n ** 2, Ssym, M, r) == SL.n ** 2
    assert SL.SiteE(Ssym ** 3, Ssym, SL.M_sym, 1) == SL.M_sym ** 3
    e = SL.SiteE(sp.tanh(SL.n * Ssym), Ssym, SL.M_sym, SL.r_sym)
    assert sp.diff(e, SL.n) == SL.SiteE(Ssym * (1 - sp.tanh(SL.n * Ssym) ** 2), Ssym, SL.M_sym, SL.r_sym)
    assert isinstance(e.explicit(), sp.Sum)
    assert sp.sstr(e) == "E_S[tanh(S*n)]" and sp.latex(e).startswith(r"\mathbb{E}_{S}")


def test_derivation_interface_and_errors():
    d = derive_learning(4)
    assert d is derive_learning(4)                                   # cached
    assert isinstance(d.r, sp.Symbol) and isinstance(d.M, sp.Symbol)
    text = d.text()
    assert text.splitlines()[0] == ("P = 4, ansatz = rs, convention = distinct-indices, dataset = supervised, "
                                    "normalisation = r, r, M symbolic")
    assert "E_S[E_z[log(2*cosh(" in text and "fixed-point form:" in text
    assert d._repr_latex_().startswith("$$") and r"\mathbb{E}_{S}" in d.latex()
    with pytest.raises(ValueError, match="r and M as numbers"):
        d.to_jax()
    spec = _spec(3, False, False, "R")
    assert derive(spec) is derive_learning(3, "distinct-indices", False, "R", False, r=0.7, M=M_EX)
    assert S.free_energy_expr(spec) == derive(spec).free_energy
    with pytest.raises(NotImplementedError, match="replica symmetric"):
        derive(spec.replace(ansatz="1rsb"))
    with pytest.raises(NotImplementedError, match="low storage"):
        derive(spec.replace(storage="low"))
    with pytest.raises(ValueError, match="normalisation"):
        derive_learning(3, normalisation="x")
    with pytest.raises(ValueError, match="r must lie"):
        derive_learning(3, r=1.5)


def test_cli_derive_dataset(capsys):
    assert main(["derive", "--P", "4", "--dataset", "supervised"]) == 0
    assert capsys.readouterr().out == derive_learning(4).text() + "\n"
    assert main(["derive", "--P", "3", "--dataset", "unsupervised", "--r", "0.8", "--M", "10",
                 "--normalisation", "R", "--self-interaction", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    d = derive_learning(3, "all-tuples", False, "R", False, r=0.8, M=10)
    assert rec["dataset"] == "unsupervised" and rec["r"] == 0.8 and rec["M"] == 10
    assert rec["normalisation"] == "R" and rec["gaussian"] is False and rec["convention"] == "all-tuples"
    assert rec["free_energy"] == sp.sstr(d.free_energy)
    assert set(rec["stationarity"]) == {"n", "C", "v"} and [e["lhs"] for e in rec["fixed_point"]] == ["n", "C", "v"]
    assert main(["derive", "--P", "2", "--dataset", "supervised", "--gaussian", "--r", "0.5", "--json",
                 "--latex"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert "M" not in rec and rec["r"] == 0.5 and rec["format"] == "latex" and r"\mathbb{E}_{u}" in rec["free_energy"]


@pytest.mark.parametrize("argv,msg", [
    (["--r", "0.5"], "--r applies with --dataset"),
    (["--gaussian"], "--gaussian applies with --dataset"),
    (["--normalisation", "R"], "--normalisation applies with --dataset"),
    (["--dataset", "supervised", "--ansatz", "1rsb"], "replica symmetric only"),
    (["--dataset", "supervised", "--r", "0"], "r must be > 0"),
    (["--dataset", "unsupervised", "--M", "0"], "M must be >= 1"),
    (["--dataset", "both"], "invalid choice"),
])
def test_cli_derive_dataset_errors(argv, msg, capsys):
    with pytest.raises(SystemExit) as e:
        code = main(["derive", "--P", "3"] + argv)
        raise SystemExit(code)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("densehebb: error:") and msg in err[0]
