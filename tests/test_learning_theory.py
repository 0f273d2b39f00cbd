"""Learning from examples, RS theory (theory/learning.py): reductions, exact limits, noise covariance by
direct sampling, and the independent implementation of docs/derivations/learning/learn_theory.py."""
import importlib.util
import math
import os

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import erf
from scipy.stats import binom, norm

from densehebb.theory import Examples, Model, solve
from densehebb.theory.learning import Learning, noise_poly, site_distribution, soft_modes

HERE = os.path.dirname(os.path.abspath(__file__))
DERIV = os.path.join(HERE, "..", "docs", "derivations", "learning", "learn_theory.py")


def _learn_theory():
    spec = importlib.util.spec_from_file_location("learn_theory", DERIV)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _model(P, M, r, supervised=True, normalisation="r", convention="distinct", gaussian=False):
    return Model(P=P, convention=convention,
                 examples=Examples(M=M, r=r, supervised=supervised, normalisation=normalisation, gaussian=gaussian))


# ---------------------------------------------------------------- (a) r = 1 is the storage theory
@pytest.mark.parametrize("P,conv,alpha,T", [
    (2, "distinct", 0.1, 0.0), (2, "all-tuples", 0.05, 0.3), (2, "distinct", 0.0, 0.5),
    (3, "distinct", 0.05, 0.1), (3, "all-tuples", 0.02, 0.0), (3, "distinct", 0.0, 0.2),
    (4, "distinct", 0.02, 0.0), (4, "all-tuples", 0.01, 0.05), (4, "distinct", 0.0, 0.0)])
def test_r1_is_storage(P, conv, alpha, T):
    base = solve(Model(P=P, convention=conv), alpha, T)
    assert base.converged
    for sup, M in ((True, 1), (False, 9), (True, 4)):
        r = solve(_model(P, M, 1.0, sup, convention=conv), alpha, T)
        assert r.converged, (sup, M, r.status)
        for k in ("m", "q", "f"):
            assert float(getattr(r, k)) == pytest.approx(float(getattr(base, k)), abs=1e-10), k
        assert r.n == pytest.approx(r.m, abs=1e-10)
        if T > 0:
            assert r.replicon == pytest.approx(base.replicon, abs=1e-10)


# ---------------------------------------------------------------- (b) low load, T = 0: majority vote
@pytest.mark.parametrize("P,M,r,normalisation", [(2, 11, 0.5, "r"), (2, 4, 0.5, "r"), (3, 9, 0.4, "R"),
                                                  (4, 7, 0.5, "r"), (3, 6, 0.3, "r")])
def test_low_load_T0_majority_vote(P, M, r, normalisation):
    res = solve(_model(P, M, r, normalisation=normalisation), 0.0, 0.0)
    assert res.converged
    k = np.arange(M + 1)
    S = M - 2 * k
    w = binom.pmf(k, M, (1 - r) / 2)
    assert res.m == pytest.approx(w[S > 0].sum() - w[S < 0].sum(), abs=1e-12)
    s = S / (M * r)
    assert res.n == pytest.approx(np.sum(w * np.abs(s)), abs=1e-12)
    ex = Examples(M=M, r=r, normalisation=normalisation)
    g = r ** P / ex.norm(P)
    assert res.f == pytest.approx(-g * np.sum(w * np.abs(s)) ** P / math.factorial(P), abs=1e-12)  # -g (E|s|)^P/P!
    # unsupervised archetype state: identical in low storage
    ru = solve(_model(P, M, r, supervised=False, normalisation=normalisation), 0.0, 0.0)
    assert (ru.m, ru.n, ru.f) == pytest.approx((res.m, res.n, res.f), abs=1e-14)


def test_low_load_T0_majority_vote_even_M_checks_md():
    """checks.md section 2: M = 4, r = 0.5 gives m = 0.6875 (S = 0 sites are free, contribute 0)."""
    assert solve(_model(2, 4, 0.5), 0.0, 0.0).m == pytest.approx(0.6875, abs=1e-12)


@pytest.mark.parametrize("P,M,r", [(2, 4, 0.5), (3, 9, 0.4), (5, 3, 0.7)])
def test_low_load_T0_gaussian_closed_form(P, M, r):
    res = solve(_model(P, M, r, gaussian=True), 0.0, 0.0)
    rho = (1 - r * r) / (M * r * r)
    assert res.converged
    assert res.m == pytest.approx(erf(1 / math.sqrt(2 * rho)), abs=1e-12)
    assert res.n == pytest.approx(erf(1 / math.sqrt(2 * rho)) + math.sqrt(2 * rho / math.pi)
                                  * math.exp(-1 / (2 * rho)), abs=1e-12)
    if (P, M) == (2, 4):
        assert res.m == pytest.approx(0.7518, abs=1e-4)  # checks.md: CLT 0.7518 vs exact 0.6875


def test_gaussian_is_the_large_M_limit_of_the_binomial():
    """At fixed rho the binomial site average tends to the CLT one as M grows (r = 1/sqrt(1 + M rho))."""
    rho = 0.3
    diffs = []
    for M in (10, 160):
        r = 1 / math.sqrt(1 + M * rho)
        a = solve(_model(3, M, r), 0.0, 0.1)
        b = solve(_model(3, M, r, gaussian=True), 0.0, 0.1)
        diffs.append(abs(a.m - b.m))
    assert diffs[0] > 3 * diffs[1] and diffs[1] < 0.01


# ---------------------------------------------------------------- free energy = its definition
@pytest.mark.parametrize("P,sup,conv", [(3, True, "distinct"), (3, False, "all-tuples"), (4, False, "distinct")])
def test_free_energy_and_equations_match_definition(P, sup, conv):
    """f and the equations at an arbitrary (non-stationary) point against the formula written with scipy
    quadrature and an explicit site sum."""
    M, r, alpha, T, n, q = 5, 0.6, 0.03, 0.2, 0.8, 0.7
    spec = _model(P, M, r, sup, convention=conv)
    L = Learning(spec)
    beta = 1 / T
    c = noise_poly(P, spec.self_interaction, spec.examples)
    xi = lambda q, d=0: alpha * np.polynomial.Polynomial(c).deriv(d)(q) if d else alpha * np.polynomial.Polynomial(c)(q)  # noqa: E731
    v = xi(q, 1)
    s, w, _ = site_distribution(M, r)
    g = r ** P / spec.examples.norm(P)
    h = g * n ** (P - 1) / math.factorial(P - 1)

    def E(fn):
        return sum(wt * quad(lambda z: norm.pdf(z) * fn(h * st + math.sqrt(v) * z, st), -12, 12,
                             epsabs=1e-14, epsrel=1e-13, limit=400)[0] for st, wt in zip(s, w))
    f_def = (g * (P - 1) * n ** P / math.factorial(P) + 0.5 * beta * (v * (1 - q) - xi(1.0) + xi(q))
             - T * E(lambda y, st: np.logaddexp(beta * y, -beta * y)))
    x = jnp.array([n, beta * (1 - q), v])
    assert float(L.free_energy(x, alpha, T)) == pytest.approx(f_def, abs=1e-11)
    e = np.asarray(L.raw_equations(x, alpha, T))
    En = E(lambda y, st: st * np.tanh(beta * y))
    Eq = E(lambda y, st: np.tanh(beta * y) ** 2)
    np.testing.assert_allclose(e, [n - En, 0.0, beta * (1 - q) - beta * (1 - Eq)], atol=1e-10)
    m, qq, _ = L.order_parameters(x, alpha, T)
    assert float(m) == pytest.approx(E(lambda y, st: np.tanh(beta * y)), abs=1e-11)


# ---------------------------------------------------------------- (c) noise covariance by direct sampling
def _e_P(y, P):
    """Elementary symmetric polynomial e_P of the rows of y (Newton's identities)."""
    p = [None] + [np.sum(y ** k, axis=-1) for k in range(1, P + 1)]
    e = [np.ones(y.shape[:-1])]
    for k in range(1, P + 1):
        e.append(sum((-1) ** (i - 1) * e[k - i] * p[i] for i in range(1, k + 1)) / k)
    return e[P]


def _class_energy(yv, P, all_tuples):
    return yv.sum(-1) ** P / math.factorial(P) if all_tuples else _e_P(yv, P)


def _sampled_xi(P, ex, all_tuples, N, q, n_classes, seed):
    """N^(P-2) Cov_class[E(sigma), E(tau)] (= xi(q)/alpha at finite N), its standard error, and the exact
    finite-N distinct-indices factor P! e_P(sigma tau)/(N q)^P... returned as e_P(sigma tau)."""
    rng = np.random.default_rng(seed)
    sigma = np.ones(N)
    tau = np.ones(N)
    tau[: int(round(N * (1 - q) / 2))] = -1.0
    nrm = ex.norm(P)
    prods = []
    for _ in range(n_classes // 2000):
        B = 2000
        xi = rng.choice([-1.0, 1.0], size=(B, 1, N))
        chi = np.where(rng.random((B, ex.M, N)) < (1 + ex.r) / 2, 1.0, -1.0)
        if ex.supervised:
            pat = xi * chi.mean(1, keepdims=True)          # xibar, one per class
            scale = 1.0 / nrm
        else:
            pat = xi * chi                                  # M examples per class
            scale = 1.0 / (ex.M * nrm)
        Es = -scale * _class_energy(pat * sigma, P, all_tuples).sum(-1) / N ** (P - 1)
        Et = -scale * _class_energy(pat * tau, P, all_tuples).sum(-1) / N ** (P - 1)
        prods.append(np.stack([Es, Et]))
    a = np.concatenate(prods, axis=1)
    d = a - a.mean(1, keepdims=True)
    pp = d[0] * d[1] * N ** (P - 2)
    return pp.mean(), pp.std() / math.sqrt(pp.size), _e_P((sigma * tau)[None], P)[0]


@pytest.mark.parametrize("P", [2, 3])
@pytest.mark.parametrize("supervised", [True, False])
@pytest.mark.parametrize("all_tuples", [False, True])
def test_noise_covariance_by_sampling(P, supervised, all_tuples):
    N, M, r = 120, 5, 0.5
    ex = Examples(M=M, r=r, supervised=supervised)
    c = noise_poly(P, all_tuples, ex)
    for q, seed in ((1.0, 11), (0.5, 12), (0.0, 13)):
        val, se, eP = _sampled_xi(P, ex, all_tuples, N, q, 40000, seed)
        theory = np.polynomial.Polynomial(c)(q)
        if not all_tuples:
            theory = c[P] * math.factorial(P) * eP / N ** P      # exact at finite N (distinct indices)
            bias = 0.0
        else:
            bias = 4.0 / N * np.polynomial.Polynomial(np.abs(c))(1.0)   # O(1/N) finite-N terms
        assert abs(val - theory) < 4.5 * se + bias, (q, val, se, theory)
        if P == 2:  # the Gaussian part of the soft modes: alpha q^2/2 sum_k w_k gamma_k^2
            wk, gk = soft_modes(ex)
            assert np.polynomial.Polynomial(c)(q) == pytest.approx(q * q / 2 * np.sum(wk * gk ** 2), rel=1e-13)


def test_noise_covariance_closed_forms():
    """derivation.md section 0 table: the four (protocol, normalisation) distinct-index amplitudes."""
    P, M, r = 3, 5, 0.5
    R, rho = r * r + (1 - r * r) / M, (1 - r * r) / (M * r * r)
    amp = lambda sup, nm: noise_poly(P, False, Examples(M=M, r=r, supervised=sup, normalisation=nm))[P] * 6  # noqa: E731
    assert amp(True, "r") == pytest.approx((1 + rho) ** P, rel=1e-14)
    assert amp(True, "R") == pytest.approx(1.0, rel=1e-14)
    assert amp(False, "r") == pytest.approx(1 + (1 - r ** (2 * P)) / (M * r ** (2 * P)), rel=1e-14)
    assert amp(False, "R") == pytest.approx((r ** (2 * P) + (1 - r ** (2 * P)) / M) / R ** P, rel=1e-14)


# ---------------------------------------------------------------- (d) the independent implementation
@pytest.mark.parametrize("P,M,r,proto,nm,T", [(2, 11, 0.5, "sup", "r", 0.5), (3, 9, 0.4, "sup", "R", 0.15),
                                               (4, 7, 0.5, "sup", "r", 0.1), (3, 15, 0.5, "unsup", "r", 0.2)])
def test_low_storage_against_learn_theory(P, M, r, proto, nm, T):
    Lt = _learn_theory()
    ref = Lt.archetype_state(P, M, r, T, proto, nm, "distinct")
    res = solve(_model(P, M, r, proto == "sup", nm), 0.0, T)
    assert res.converged
    for k in ("m", "n", "q", "f"):
        assert float(getattr(res, k)) == pytest.approx(ref[k], abs=1e-8), k


def test_low_storage_checks_md_values():
    """checks.md section 2 ("binom" columns, 4 digits)."""
    for (P, M, r, nm, T), (m, n) in {(2, 11, 0.5, "r", 0.5): (0.8407, 0.9655), (3, 9, 0.4, "r", 0.35): (0.6825, 0.9822),
                                     (2, 11, 0.5, "R", 0.5): (0.7840, 0.9178)}.items():
        res = solve(_model(P, M, r, normalisation=nm), 0.0, T)
        assert (res.m, res.n) == pytest.approx((m, n), abs=6e-5)


@pytest.mark.parametrize("P,conv,proto,nm,alpha,T", [
    (3, "distinct", "sup", "r", 0.04, 0.1), (3, "distinct", "unsup", "r", 0.04, 0.1),
    (3, "all-tuples", "unsup", "R", 0.01, 0.1), (2, "distinct", "sup", "r", 0.05, 0.3),
    (2, "distinct", "unsup", "r", 0.05, 0.3), (2, "all-tuples", "unsup", "R", 0.05, 0.0)])
def test_high_storage_against_learn_theory(P, conv, proto, nm, alpha, T):
    Lt = _learn_theory()
    M, r = 10, (0.8 if P == 2 else 0.6)
    c = "distinct" if conv == "distinct" else "all"
    ref = (Lt.ags_state(M, r, T, alpha, proto, nm, c) if P == 2
           else Lt.archetype_state(P, M, r, T, proto, nm, c, alpha=alpha))
    res = solve(_model(P, M, r, proto == "sup", nm, conv), alpha, T)
    assert res.converged
    for k in ("m", "n", "q", "f"):
        assert float(getattr(res, k)) == pytest.approx(ref[k], abs=5e-9), k
    if T > 0:
        assert res.replicon > 0


def test_grid_and_result_fields():
    res = solve(_model(3, 9, 0.6), np.array([0.0, 0.01]), 0.1)
    ds = res.to_xarray()
    assert {"m", "n", "q", "f"} <= set(ds.data_vars)
    assert bool(np.all(res.converged))
    d = solve(_model(3, 9, 0.6, gaussian=True), 0.01, 0.1).to_dict()
    assert d["examples_gaussian"] == 1 and d["examples_M"] == 9 and "n" in d


# ---------------------------------------------------------------- (e) bad input
@pytest.mark.parametrize("kwargs", [dict(M=0, r=0.5), dict(M=3, r=0.0), dict(M=3, r=1.5), dict(M=2.5, r=0.5),
                                    dict(M=3, r=0.5, gaussian="yes"), dict(M=3, r=0.5, normalisation="x")])
def test_bad_examples(kwargs):
    with pytest.raises(ValueError) as e:
        Examples(**kwargs)
    assert "\n" not in str(e.value) and str(e.value).startswith("examples:")


def test_bad_solve_input():
    spec = _model(3, 5, 0.5)
    for a, t in ((-0.1, 0.1), (0.1, -1.0), (np.nan, 0.1)):
        with pytest.raises(ValueError) as e:
            solve(spec, a, t)
        assert "\n" not in str(e.value)
    with pytest.raises(NotImplementedError, match="1rsb|replica symmetric"):
        solve(spec.replace(ansatz="1rsb"), 0.01, 0.1)
    with pytest.raises(NotImplementedError, match="diluted"):
        solve(spec.replace(dilution=0.1), 0.01, 0.1)


# ---------------------------------------------------------------- low storage: archetype and example states
@pytest.mark.parametrize("P,M,r,nm,T", [(3, 9, 0.4, "r", 0.2), (3, 9, 0.4, "r", 0.5), (4, 5, 0.6, "r", 0.1),
                                        (2, 5, 0.3, "r", 1.0), (3, 9, 0.4, "R", 0.15)])
def test_example_state_against_learn_theory(P, M, r, nm, T):
    from densehebb.theory.low_storage import solve_examples

    ref = _learn_theory().example_state(P, M, r, T, nm)
    res = solve_examples(_model(P, M, r, False, nm), T, "example")
    assert res.converged and res.replicon > 0
    for k in ("x", "y", "m", "n", "f"):
        assert float(getattr(res, k)) == pytest.approx(ref[k], abs=1e-8), k


def test_example_state_melts_and_archetype_hessian():
    """P = 2, M = 5, r = 0.3, T = 1.8: the example ansatz flows to x = y (checks.md); the archetype state's
    Hessian eigenvalues are derivation.md's uniform/transverse ones times K0 x^(P-2)."""
    from densehebb.theory.low_storage import solve_examples

    Lt = _learn_theory()
    assert solve_examples(_model(2, 5, 0.3, False), 1.8, "example").status.value == "collapsed"
    for P, M, r, T in ((3, 9, 0.4, 0.2), (2, 5, 0.3, 1.0)):
        a = solve_examples(_model(P, M, r, False), T)
        x = r * a.n
        K = x ** (P - 2) / (math.factorial(P - 2) * M * r ** P)
        lu, lt = Lt.unsup_sym_hessian(P, M, r, T, a.n)
        assert a.replicon == pytest.approx(K * min(lu, lt), abs=1e-10)
        s = solve_examples(_model(P, M, r, True), T)    # supervised: the uniform direction only
        assert (s.m, s.n, s.f) == pytest.approx((a.m, a.n, a.f), abs=1e-13)
        assert s.replicon == pytest.approx(K * M * r * r * lu, abs=1e-10)   # d2f/dn2 = g h'(n) (...), g h' = M r^2 K


@pytest.mark.parametrize("P,r,M_ok,M_bad", [(3, 0.5, 16, 18), (2, 0.4, 7, 8), (4, 0.7, 9, 10)])
def test_pure_example_T0_existence(P, r, M_ok, M_bad):
    """sigma = eta^1 (x = 1, y = r^2, m = r, n = (1 + (M-1) r^2)/(M r)) solves the T = 0 equations iff
    (M - 1) r^(2(P-1)) < 1."""
    from densehebb.theory.low_storage import example_state_exists_T0, solve_examples

    ok, bad = _model(P, M_ok, r, False), _model(P, M_bad, r, False)
    assert example_state_exists_T0(ok) and not example_state_exists_T0(bad)
    res = solve_examples(ok, 0.0, "example")
    assert (res.x, res.y, res.m) == pytest.approx((1.0, r * r, r), abs=1e-14)
    assert res.n == pytest.approx((1 + (M_ok - 1) * r * r) / (M_ok * r), abs=1e-14)
    b = solve_examples(bad, 0.0, "example")
    assert not (b.converged and b.x == 1.0 and b.y == pytest.approx(r * r, abs=1e-14))


def test_low_storage_examples_bad_input():
    from densehebb.theory.low_storage import solve_examples

    with pytest.raises(ValueError, match="unsupervised"):
        solve_examples(_model(3, 5, 0.5, True), 0.1, "example")
    with pytest.raises(ValueError, match="unknown state"):
        solve_examples(_model(3, 5, 0.5, False), 0.1, "mixture")
    with pytest.raises(ValueError, match="no examples"):
        solve_examples(Model(P=3), 0.1)
