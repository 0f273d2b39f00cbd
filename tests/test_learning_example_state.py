"""The unsupervised example ("storing") state in high storage (theory/learning_example.py, solve(...,
branch="example")): the free energy against its definition (all 2^M example signs, the noise from the
covariance formula A(q) + (M-1) A(r^2 q)), alpha = 0 against low_storage.solve_examples, the independent
implementation of docs/derivations/learning/learn_theory.py at alpha > 0, the exact limits M = 1 (storage of
the examples) and r = 1 (collapse onto the archetype = storage state), T = 0 existence, stability, CLI."""
import importlib.util
import itertools
import json
import math
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import erf

from densehebb.theory import Examples, Model, solve
from densehebb.theory.covariance import noise_coefficients
from densehebb.theory.results import Status

HERE = os.path.dirname(os.path.abspath(__file__))
DERIV = os.path.join(HERE, "..", "docs", "derivations", "learning", "learn_theory.py")
CONV = {"distinct": "distinct", "all-tuples": "all"}   # learn_theory's names


def _learn_theory():
    spec = importlib.util.spec_from_file_location("learn_theory", DERIV)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _model(P, M, r, normalisation="r", convention="distinct"):
    return Model(P=P, convention=convention,
                 examples=Examples(M=M, r=r, supervised=False, normalisation=normalisation))


def _theory(spec):
    from densehebb.theory.learning_example import LearningExample

    return LearningExample(spec)


# ---------------------------------------------------------------- the free energy against its definition
@pytest.mark.parametrize("P,M,conv,nm,T", [(3, 4, "all-tuples", "R", 0.1), (4, 3, "distinct", "r", 0.0),
                                           (3, 3, "distinct", "r", 0.0)])
def test_free_energy_and_equations_match_definition(P, M, conv, nm, T):
    """f(x, y, C, v) of LearningExample against a direct evaluation: the condensed energy and field summed over
    all 2^M example signs chi (product measure), z by adaptive quadrature (T > 0) or E|h + s z| (T = 0), and the
    noise from xi(q) = alpha/(M Norm^2) [A(q) + (M-1) A(r^2 q)] (derivation.md 2.3); stationarity: the
    autodiff equations are x - E[chi^1 tanh], y - E[chi^2 tanh] over the same enumeration."""
    r, alpha = 0.55, 0.03
    spec = _model(P, M, r, nm, conv)
    th = _theory(spec)
    nrm = spec.examples.norm(P)
    x, y, C, v = 0.83, 0.41, 0.7, 0.05
    chi = np.array(list(itertools.product((1.0, -1.0), repeat=M)))
    w = np.prod((1.0 + r * chi) / 2.0, axis=1)
    xa = np.array([x] + [y] * (M - 1))
    h = chi @ xa ** (P - 1) / (M * nrm * math.factorial(P - 1))
    if T > 0:
        def gauss(fn, hh):
            return quad(lambda z: fn((hh + math.sqrt(v) * z) / T) * np.exp(-z * z / 2) / math.sqrt(2 * np.pi),
                        -12, 12, epsabs=1e-14, limit=200)[0]
        site = np.sum(w * [T * gauss(lambda u: np.logaddexp(u, -u), hh) for hh in h])
        tanh = np.array([gauss(np.tanh, hh) for hh in h])
    else:
        s = math.sqrt(v)
        site = np.sum(w * (h * erf(h / (s * math.sqrt(2))) + 2 * s * np.exp(-h * h / (2 * s * s)) / math.sqrt(2 * np.pi)))
        tanh = erf(h / (s * math.sqrt(2)))
    a = np.array(noise_coefficients(P, conv == "all-tuples"), dtype=float)
    A = np.polynomial.Polynomial(a)
    xi = lambda q: alpha / (M * nrm ** 2) * (A(q) + (M - 1) * A(r * r * q))  # noqa: E731
    dxi = lambda q: alpha / (M * nrm ** 2) * (A.deriv()(q) + (M - 1) * r * r * A.deriv()(r * r * q))  # noqa: E731
    noise = (xi(1.0) - xi(1.0 - C * T)) / (2 * T) if T > 0 else 0.5 * C * dxi(1.0)
    E = (P - 1) / (math.factorial(P) * M * nrm) * np.sum(xa ** P)
    f_def = E + 0.5 * v * C - noise - site
    X = jnp.array([x, y, C, v])
    assert float(jax.jit(th.free_energy)(X, alpha, T)) == pytest.approx(f_def, abs=1e-11)
    e = np.asarray(jax.jit(th.raw_equations)(X, alpha, T))
    assert e[0] == pytest.approx(x - np.sum(w * chi[:, 0] * tanh), abs=1e-11)
    assert e[1] == pytest.approx(y - np.sum(w * chi[:, 1] * tanh), abs=1e-11)
    assert e[2] == pytest.approx(v - dxi(1.0 - C * T), abs=1e-11)


# ---------------------------------------------------------------- alpha = 0: the K-finite example state
@pytest.mark.parametrize("P,M,r,nm,conv,T", [(3, 3, 0.6, "r", "distinct", 0.0), (4, 5, 0.5, "R", "all-tuples", 0.05),
                                             (2, 3, 0.5, "R", "distinct", 0.2), (3, 9, 0.8, "r", "distinct", 0.0)])
def test_alpha0_is_low_storage(P, M, r, nm, conv, T):
    """alpha = 0 reproduces low_storage.solve_examples(state="example"): x, y, m, n, f and the Hessian
    eigenvalue (lambda_x = its replicon), or its collapse (P = 3, M = 9, r = 0.8: (M-1) r^4 > 1)."""
    from densehebb.theory.low_storage import solve_examples

    spec = _model(P, M, r, nm, conv)
    res = solve(spec, 0.0, T, branch="example")
    ref = solve_examples(spec, T, "example")
    assert res.status == ref.status
    if ref.converged:
        for k in ("x", "y", "m", "n", "f"):
            assert float(res.values[k]) == pytest.approx(ref.values[k], abs=1e-9), k
        assert float(res.values["lambda_x"]) == pytest.approx(ref.replicon, abs=1e-9)
        assert float(res.values["lambda_AT"]) == 1.0 and res.replicon == pytest.approx(ref.replicon, abs=1e-9)
        assert res.stable == (ref.replicon > 0)


@pytest.mark.parametrize("r,exists", [(0.6, True), (0.75, False)])
def test_T0_existence_at_vanishing_load(r, exists):
    """P = 3, M = 5: the pure example (x = 1, y = r^2) is a T = 0 solution iff (M-1) r^4 < 1 (r < 0.7071);
    at a small load (alpha = 1e-6) it stays, as x -> 1; without it the ansatz collapses onto x = y."""
    assert ((5 - 1) * r ** 4 < 1) == exists
    res = solve(_model(3, 5, r), np.array([0.0, 1e-6]), 0.0, branch="example")
    if exists:
        assert np.all(res.converged)
        assert res.values["x"][0] == 1.0 and res.values["y"][0] == pytest.approx(r * r, abs=1e-14)
        assert res.values["x"][1] == pytest.approx(1.0, abs=1e-9)
        assert np.all(res.values["lambda_x"] > 0)
    else:
        assert np.all(np.asarray(res.status) == Status.COLLAPSED.code)


# ---------------------------------------------------------------- alpha > 0: the independent implementation
@pytest.mark.parametrize("P,M,r,nm,conv,alpha,T", [
    (3, 5, 0.6, "R", "distinct", 0.01, 0.0), (3, 3, 0.5, "r", "all-tuples", 0.003, 0.0),
    (2, 3, 0.5, "r", "distinct", 0.01, 0.1), (2, 3, 0.5, "R", "all-tuples", 0.01, 0.1),
    (5, 6, 0.6, "r", "distinct", 0.001, 0.02)])
def test_high_storage_against_learn_theory(P, M, r, nm, conv, alpha, T):
    """learn_theory.example_state (P >= 3) / ags_state(example=True) (P = 2, soft modes): damped iteration of
    the same RS equations written independently (NumPy)."""
    Lt = _learn_theory()
    res = solve(_model(P, M, r, nm, conv), alpha, T, branch="example")
    if P == 2:
        ref = Lt.ags_state(M, r, T, alpha, "unsup", nm, CONV[conv], example=True)
    else:
        ref = Lt.example_state(P, M, r, T, nm, CONV[conv], alpha)
    assert res.converged
    for k in ("x", "y", "m", "n", "q", "f"):
        assert float(res.values[k]) == pytest.approx(float(ref[k]), abs=2e-9), k


@pytest.mark.slow
def test_collapse_where_learn_theory_flows_to_x_equals_y():
    """P = 3, M = 5, r = 0.6, Norm = R, all tuples, alpha = 0.01, T = 0.02 and P = 2, M = 4, r = 0.6, Norm R,
    all tuples, alpha = 0.005, T = 0: the independent iteration from the pure example ends at x = y; so does
    the solver (status collapsed)."""
    Lt = _learn_theory()
    for P, M, r, alpha, T in ((3, 5, 0.6, 0.01, 0.02), (2, 4, 0.6, 0.005, 0.0)):
        ref = (Lt.ags_state(M, r, T, alpha, "unsup", "R", "all", example=True) if P == 2
               else Lt.example_state(P, M, r, T, "R", "all", alpha))
        assert abs(ref["x"] - ref["y"]) < 1e-8
        assert solve(_model(P, M, r, "R", "all-tuples"), alpha, T, branch="example").status.value == "collapsed"


# ---------------------------------------------------------------- exact limits
@pytest.mark.parametrize("P,conv,nm,alpha,T", [(3, "distinct", "r", 0.05, 0.0), (2, "distinct", "r", 0.05, 0.1),
                                               (4, "all-tuples", "r", 0.005, 0.05)])
def test_M1_is_storage_of_the_examples(P, conv, nm, alpha, T):
    """M = 1: the examples are independent Rademacher patterns and H = H_storage/Norm, so
    f(alpha, T) = f_storage(alpha, T Norm)/Norm, x = m_storage, q = q_storage (y absent: NaN)."""
    r = 0.7
    spec = _model(P, 1, r, nm, conv)
    nrm = spec.examples.norm(P)
    res = solve(spec, alpha, T, branch="example")
    st = solve(Model(P=P, convention=conv), alpha, T * nrm)
    assert res.converged and st.converged
    assert float(res.values["x"]) == pytest.approx(st.m, abs=1e-9)
    assert float(res.values["q"]) == pytest.approx(st.q, abs=1e-9)
    assert float(res.values["f"]) == pytest.approx(st.f / nrm, abs=1e-9)
    assert float(res.values["n"]) == pytest.approx(st.m / r, abs=1e-9) and np.isnan(res.values["y"])


def test_r1_collapses_onto_storage():
    """r = 1: every example is the archetype, x = y identically: the example ansatz collapses (status
    collapsed) and its end point is the storage retrieval state (raw x = y = m_storage)."""
    res = solve(_model(3, 3, 1.0), 0.05, 0.0, branch="example")
    st = solve(Model(P=3), 0.05, 0.0)
    assert res.status.value == "collapsed" and not res.converged and np.isnan(res.values["x"])
    x, y = res.extra["raw"][:2]
    assert x == pytest.approx(st.m, abs=1e-9) and y == pytest.approx(st.m, abs=1e-9)


# ---------------------------------------------------------------- stability
@pytest.mark.slow
def test_condensed_stability_vanishes_at_the_fold():
    """P = 3, M = 5, r = 0.69 (just inside (M-1) r^4 < 1), T = 0: continuing in alpha the example branch ends
    at a fold near alpha = 9e-5, where the smallest Hessian eigenvalue lambda_x (positive on the branch)
    decreases towards 0; beyond it the ansatz collapses."""
    spec = _model(3, 5, 0.69)
    x0, lam = None, []
    for a in (1e-5, 4e-5, 6e-5, 8e-5):
        res = solve(spec, a, 0.0, branch="example", x0=x0)
        assert res.converged
        x0 = res.extra["raw"]
        lam.append(float(res.values["lambda_x"]))
    assert all(v > 0 for v in lam) and all(b < a for a, b in zip(lam, lam[1:])) and lam[-1] < 0.75 * lam[0]
    assert solve(spec, 1.2e-4, 0.0, branch="example", x0=x0).status.value == "collapsed"


# ---------------------------------------------------------------- input checks and the CLI
def test_bad_input():
    from densehebb.theory.learning import solve_datasets

    with pytest.raises(ValueError, match="unsupervised"):
        solve(Model(P=3, examples=Examples(M=3, r=0.6, supervised=True)), 0.01, 0.0, branch="example")
    with pytest.raises(ValueError, match="unsupervised"):
        solve(Model(P=3), 0.01, 0.0, branch="example")
    with pytest.raises(ValueError, match="gaussian"):
        solve(Model(P=3, examples=Examples(M=3, r=0.6, supervised=False, gaussian=True)), 0.01, 0.0, branch="example")
    with pytest.raises(ValueError, match="example"):
        solve_datasets(_model(3, 3, 0.6), 0.01, 0.0, 3, 0.6, branch="example")


CLI = [sys.executable, "-m", "densehebb.phase_diagrams.cli"]


def _cli(*args):
    return subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("extra", [[], ["--dataset", "supervised", "--r", "0.6", "--M", "3"],
                                   ["--dataset", "unsupervised", "--r", "0.6", "--M", "3", "--gaussian"]])
def test_cli_example_branch_needs_unsupervised(extra):
    p = _cli("solve", "--P", "4", "--alpha", "0.01", "--T", "0", "--branch", "example", *extra)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and p.stderr.startswith("densehebb: error: ")


def test_cli_example_branch():
    p = _cli("solve", "--P", "4", "--alpha", "0.001", "--T", "0.02", "--dataset", "unsupervised", "--r", "0.6",
             "--M", "4", "--branch", "example", "--json", "--quiet")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    for k in ("m", "q", "f", "converged", "status", "residual", "stable", "convention", "dataset", "r", "M", "rho",
              "n", "x", "y"):
        assert k in d, k
    assert d["converged"] and d["branch"] == "example" and d["r"] == 0.6 and d["M"] == 4
    assert 0.99 < d["x"] <= 1 and abs(d["y"] - 0.36) < 0.01 and d["n"] == pytest.approx((d["x"] + 3 * d["y"]) / 2.4)
