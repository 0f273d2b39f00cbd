"""Multitasking networks learning from examples of diluted archetypes, low storage (theory.multitask_learning).

Checked: d = 0, K = 1 is theory.low_storage.solve_examples (archetype state, both protocols, both
normalisations); r = 1 is theory.multitask (the plain diluted patterns); the merged (xi, S) site alphabet
against a brute-force enumeration of the examples themselves (xi, chi^1..chi^M) -- the unsupervised free
energy in the K M example overlaps is stationary at x_{mu a} = p_mu with the supervised free energy, the
archetype overlaps agree and the unsupervised Hessian's smallest eigenvalue is the one reported; the two
protocols give identical equations (same m, n, f) and the same learning threshold in M; the T = 0
hierarchical closed form (majority vote, p0 = P(u = 0)) and its existence margin on both sides of the
boundary.  Monte Carlo (slow): supervised and unsupervised amplitudes agree within errors and with theory.
"""
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
from scipy.optimize import brentq

import densehebb as dh
from densehebb.theory import low_storage
from densehebb.theory import multitask as mt
from densehebb.theory import multitask_learning as ml
from densehebb.theory.results import Status


def model(P, d, M, r, supervised=True, normalisation="r"):
    return dh.Model(P=P, storage="low", dilution=d,
                    examples=dh.Examples(M=M, r=r, supervised=supervised, normalisation=normalisation))


# ------------------------------------------------------------------------------------------ limits
@pytest.mark.slow      # solve_examples compiles the RS solver: about 10 s a case
@pytest.mark.parametrize("P,T,normalisation,supervised", [(2, 0.3, "r", True), (2, 0.3, "R", False),
                                                          (3, 0.1, "r", False), (3, 0.1, "R", True)])
def test_d0_single_archetype_is_solve_examples(P, T, normalisation, supervised):
    M, r = 5, 0.6
    mod = model(P, 0.0, M, r, supervised, normalisation)
    ref = low_storage.solve_examples(mod.replace(dilution=0.0), T, "archetype")
    got = ml.solve_learning(mod, 1, T, "pure")
    assert ref.converged and got.status is Status.CONVERGED
    assert got.m[0] == pytest.approx(abs(ref.m), abs=1e-9)
    assert got.n[0] == pytest.approx(abs(ref.n), abs=1e-9)
    assert got.f == pytest.approx(ref.f, abs=1e-9)
    if supervised:      # solve_examples' Hessian is in n; ours in q = n r / Norm^(1/P)
        scale = (r / ml.coupling_scale(mod.examples, P)) ** 2
        assert got.replicon * scale == pytest.approx(ref.replicon, rel=1e-7)
    else:               # both in the example overlaps x_a
        assert got.replicon == pytest.approx(ref.replicon, rel=1e-7)


@pytest.mark.parametrize("P,d,T,state,K", [(2, 0.5, 0.1, "hierarchical", 3), (2, 0.75, 0.1, "parallel", 3),
                                           (3, 0.6, 0.02, "pure", 2), (2, 0.2, 0.0, "hierarchical", 3)])
@pytest.mark.parametrize("M", [1, 4])
def test_r1_is_the_plain_multitask_theory(P, d, T, state, K, M):
    got = ml.solve_learning(model(P, d, M, 1.0), K, T, state)
    ref = mt.solve_state(dh.Model(P=P, storage="low", dilution=d), K, T, state)
    assert got.status is ref.status is Status.CONVERGED
    np.testing.assert_allclose(got.m, ref.m, atol=1e-10)
    np.testing.assert_allclose(got.n, ref.m, atol=1e-10)          # r = 1: the class mean is the archetype
    assert got.f == pytest.approx(ref.f, abs=1e-12)
    assert got.replicon == pytest.approx(ref.replicon, abs=1e-9) or not np.isfinite(ref.replicon)


def test_r1_closed_form_margin_is_multitask():
    for P, K, d in [(2, 3, 0.5), (3, 4, 0.7), (2, 3, 0.65)]:
        a = ml.hierarchical_margin_T0(P, K, 5, 1.0, d)
        assert a == pytest.approx(mt.hierarchical_margin_T0(P, K, d), abs=1e-14)


# ------------------------------------------------------------------------- brute force over the examples
def _brute(P, K, M, r, d, T, normalisation):
    """Sites (xi_mu, chi^{mu,1..M}) enumerated: returns (XI (R, K), ETA (R, K, M), W (R,), Norm)."""
    L = [(0.0, np.zeros(M), d)]
    for x in (1.0, -1.0):
        for chi in itertools.product((1.0, -1.0), repeat=M):
            chi = np.array(chi)
            L.append((x, x * chi, 0.5 * (1 - d) * np.prod(np.where(chi > 0, (1 + r) / 2, (1 - r) / 2))))
    rows = list(itertools.product(range(len(L)), repeat=K))
    XI = jnp.array([[L[i][0] for i in row] for row in rows])
    ETA = jnp.array([[L[i][1] for i in row] for row in rows])
    W = jnp.array([np.prod([L[i][2] for i in row]) for row in rows])
    return XI, ETA, W, dh.Examples(M=M, r=r, normalisation=normalisation).norm(P)


def _ln2cosh(h, T):
    a = jnp.abs(h) / T
    return T * (a + jnp.log1p(jnp.exp(-2 * a)))


@pytest.mark.parametrize("P,d,T,state,normalisation", [(2, 0.3, 0.3, "hierarchical", "r"),
                                                       (3, 0.6, 0.05, "pure", "r"),
                                                       (3, 0.6, 0.02, "pure", "R"),
                                                       (4, 0.5, 0.01, "pure", "r")])
def test_protocols_share_the_equations_brute_force(P, d, T, state, normalisation):
    K, M, r = 2, 3, 0.7
    XI, ETA, W, Nrm = _brute(P, K, M, r, d, T, normalisation)
    uns = ml.solve_learning(model(P, d, M, r, False, normalisation), K, T, state)
    sup = ml.solve_learning(model(P, d, M, r, True, normalisation), K, T, state)
    assert uns.status is Status.CONVERGED
    p = jnp.asarray(uns.values["q"]) * Nrm ** (1 / P)          # p_mu = xibar.sigma/N (f is symmetric in mu)

    def f_uns(x):       # unsupervised, in the K M example overlaps
        h = jnp.einsum("rka,ka->r", ETA, x ** (P - 1)) / (M * Nrm * math.factorial(P - 1))
        return (P - 1) / (math.factorial(P) * M * Nrm) * jnp.sum(x ** P) - jnp.sum(W * _ln2cosh(h, T))

    def f_sup(p):       # supervised, in the K class-mean overlaps
        h = jnp.einsum("rka,k->r", ETA, p ** (P - 1)) / (M * Nrm * math.factorial(P - 1))
        return (P - 1) / (math.factorial(P) * Nrm) * jnp.sum(p ** P) - jnp.sum(W * _ln2cosh(h, T))

    x = jnp.repeat(p[:, None], M, axis=1)
    assert float(f_uns(x)) == pytest.approx(uns.f, abs=1e-12)
    assert float(f_sup(p)) == pytest.approx(sup.f, abs=1e-12)
    assert float(jnp.max(jnp.abs(jax.jit(jax.grad(f_uns))(x)))) < 1e-10
    assert float(jnp.max(jnp.abs(jax.jit(jax.grad(f_sup))(p)))) < 1e-10
    h = jnp.einsum("rka,k->r", ETA, p ** (P - 1)) / (M * Nrm * math.factorial(P - 1))
    m = jnp.abs(XI.T @ (W * jnp.tanh(h / T)))
    np.testing.assert_allclose(np.sort(np.asarray(m))[::-1], uns.m, atol=1e-10)
    cond = np.abs(np.asarray(p)) > 1e-6
    Hx = np.asarray(jax.jit(jax.hessian(f_uns))(x)).reshape(K * M, K * M)
    keep = np.repeat(cond, M) if P > 2 else np.ones(K * M, bool)
    assert np.min(np.linalg.eigvalsh(Hx[np.ix_(keep, keep)])) == pytest.approx(uns.replicon, rel=1e-7)
    Hp = np.asarray(jax.jit(jax.hessian(f_sup))(p))
    keep = cond if P > 2 else np.ones(K, bool)
    lam_p = np.min(np.linalg.eigvalsh(Hp[np.ix_(keep, keep)]))
    assert lam_p == pytest.approx(sup.replicon / ml.coupling_scale(sup.model.examples, P) ** 2, rel=1e-7)


@pytest.mark.parametrize("P,d,T", [(2, 0.4, 0.1), pytest.param(3, 0.5, 0.03, marks=pytest.mark.slow), (2, 0.3, 0.0)])
def test_supervised_equals_unsupervised(P, d, T):
    """Every named state: the same status, m, n and f for both protocols (one set of equations).  The
    global minimum can differ only through stability: the unsupervised protocol also needs the transverse
    (example-direction) eigenvalues positive, so where the winners differ the supervised one must be
    transversally unstable."""
    M, r, K = 5, 0.6, 2
    for state in ("hierarchical", "pure", "parallel"):
        a = ml.solve_learning(model(P, d, M, r, True), K, T, state)
        b = ml.solve_learning(model(P, d, M, r, False), K, T, state)
        assert a.status is b.status
        if a.status.ok:
            np.testing.assert_array_equal(a.m, b.m)
            np.testing.assert_array_equal(a.n, b.n)
            assert a.f == b.f and a.values["lam_transverse"] == b.values["lam_transverse"]
    a = ml.solve_learning(model(P, d, M, r, True), K, T, "global")
    b = ml.solve_learning(model(P, d, M, r, False), K, T, "global")
    assert a.status is Status.CONVERGED
    if b.status is not Status.CONVERGED or not np.array_equal(a.m, b.m):
        assert not a.values["stable_unsupervised"]
    else:
        assert a.f == b.f


# ------------------------------------------------------------------------------------------ T = 0
def _majority(M, r):
    k = np.arange(M + 1)
    pk = scipy.stats.binom.pmf(k, M, (1 + r) / 2)      # k examples agree with the archetype
    S = 2 * k - M
    return pk[S > 0].sum() - pk[S < 0].sum(), pk[S == 0].sum()


@pytest.mark.parametrize("P,K,M,r", [(2, 3, 3, 0.8), (3, 3, 4, 0.7), (2, 4, 2, 0.9)])
def test_T0_hierarchical_closed_form_and_its_boundary(P, K, M, r):
    mv, p_tie = _majority(M, r)
    margin = lambda d: ml.hierarchical_margin_T0(P, K, M, r, d)  # noqa: E731
    assert margin(0.0) > 0 > margin(0.9)
    d_star = brentq(margin, 0.0, 0.9, xtol=1e-13)
    for d in (d_star - 0.01, 0.5 * d_star):
        res = ml.solve_learning(model(P, d, M, r), K, 0.0, "hierarchical")
        assert res.status is Status.CONVERGED, res.note
        p0 = d + (1 - d) * p_tie
        np.testing.assert_allclose(res.m, (1 - d) * mv * p0 ** np.arange(K), atol=1e-12)
    res = ml.solve_learning(model(P, d_star + 0.01, M, r), K, 0.0, "hierarchical")
    assert res.status is Status.COLLAPSED and "not a fixed point" in res.note


def test_T0_amplitudes_follow_the_majority_vote():
    """At fixed d the top amplitude is (1-d) times the majority-vote accuracy: it grows with M (odd M) and r."""
    d, P, K = 0.1, 2, 2
    tops = [ml.solve_learning(model(P, d, M, 0.5), K, 0.0, "hierarchical") for M in (1, 3, 5)]
    assert all(t.status is Status.CONVERGED for t in tops)
    vals = [t.m[0] / (1 - d) for t in tops]
    assert vals == pytest.approx([_majority(M, 0.5)[0] for M in (1, 3, 5)], abs=1e-12)
    assert vals[0] < vals[1] < vals[2]


# ------------------------------------------------------------------------------------------ threshold
@pytest.mark.slow      # about 10 s: one solve per M
def test_learning_threshold_in_M_is_the_same_for_both_protocols():
    mod = model(2, 0.2, 1, 0.5)
    th = ml.learning_threshold(mod, 2, 0.05, m_star=0.8, M_max=40)
    assert th["overlap"] is not None and th["overlap"] == th["supervised"] == th["unsupervised"]
    M0 = th["overlap"]
    assert th["m"][M0] >= 0.8 > max(v for k, v in th["m"].items() if k < M0)
    # the threshold is a property of the shared equations: recompute at M0 - 1 and M0 with either protocol
    for sup in (True, False):
        lo = ml.solve_learning(model(2, 0.2, M0 - 1, 0.5, sup), 2, 0.05, "hierarchical", normalised=True)
        hi = ml.solve_learning(model(2, 0.2, M0, 0.5, sup), 2, 0.05, "hierarchical", normalised=True)
        assert lo.m[0] < 0.8 <= hi.m[0]


def test_bad_inputs():
    with pytest.raises(ValueError, match="no examples"):
        ml.solve_learning(dh.Model(P=2, storage="low", dilution=0.3), 2, 0.1)
    with pytest.raises(ValueError, match="rows"):
        ml.solve_learning(model(2, 0.3, 30, 0.5), 6, 0.1)
    with pytest.raises(ValueError, match="unknown state"):
        ml.solve_learning(model(2, 0.3, 3, 0.5), 2, 0.1, "mixture")


def test_solve_dispatch():
    mod = model(2, 0.4, 5, 0.8, False)
    a = dh.solve(mod, T=0.1, K=2, state="hierarchical")
    b = ml.solve_learning(mod, 2, 0.1, "hierarchical")
    np.testing.assert_array_equal(a.m, b.m)
    with pytest.raises(NotImplementedError, match="no mixtures"):
        dh.solve(mod, T=0.1, K=3, state="mixture", mixture=3)


def test_T0_pure_state_converges():
    """T = 0 pure states (one pattern condensed): the uncondensed averages cancel only up to rounding, which
    the sign map must not turn into O(1) fields at the sites blank in the condensed pattern (a fix in
    theory.multitask.fixed_point_map: before it, e.g. d = 0.3, K = 3 was reported not converged)."""
    for d in (0.01, 0.122, 0.3, 0.71):
        for K in (3, 5):
            r = mt.solve_state(dh.Model(P=2, storage="low", dilution=d), K, 0.0, "pure")
            assert r.status is Status.CONVERGED and r.m[0] == pytest.approx(1 - d, abs=1e-14)
    for P in (2, 8):
        r = ml.solve_learning(model(P, 0.5, 3, 0.8), 2, 0.0, "pure")
        mv = 0.8 * (3 - 0.8 ** 2) / 2      # majority of 3: P(S > 0) - P(S < 0) = r (3 - r^2)/2
        assert r.status is Status.CONVERGED and r.m[0] == pytest.approx(0.5 * mv, abs=1e-14)


# ------------------------------------------------------------------------------------------ CLI
def test_cli_solve_K_with_dataset(capsys):
    import json

    from densehebb.phase_diagrams.cli import main

    rec = {}
    for ds in ("supervised", "unsupervised"):
        assert main(["solve", "--P", "2", "--K", "2", "--dilution", "0.4", "--T", "0.1", "--dataset", ds, "--r", "0.8",
                     "--M", "5", "--json", "--quiet"]) == 0
        rec[ds] = json.loads(capsys.readouterr().out)
    ref = ml.solve_learning(model(2, 0.4, 5, 0.8), 2, 0.1, "hierarchical")
    for ds, d in rec.items():
        assert d["dataset"] == ds and d["M"] == 5 and d["r"] == 0.8 and d["overlaps"] == "unnormalised"
        assert d["m"] == pytest.approx(list(ref.m), abs=1e-12) and d["n"] == pytest.approx(list(ref.n), abs=1e-12)
    assert rec["supervised"]["f"] == rec["unsupervised"]["f"]


@pytest.mark.parametrize("args,msg", [
    (("--dataset", "supervised", "--r", "0.8"), "needs the dataset quality"),
    (("--dataset", "supervised", "--r", "0.8", "--M", "40", "--K", "6"), "more than 3^12"),
    (("--dataset", "supervised", "--r", "0.8", "--M", "3", "--state", "mixture", "--mixture", "1"),
     "--state mixture does not apply with --dataset"),
    (("--dataset", "supervised", "--r", "0.8", "--M", "3", "--gaussian"), "--gaussian does not apply with --K"),
    (("--r", "0.8"), "--r applies with --dataset"),
])
def test_cli_solve_K_dataset_errors(args, msg, capsys):
    from densehebb.phase_diagrams.cli import main

    argv = ["solve", "--P", "2", "--dilution", "0.4", "--T", "0.1", *args]
    if "--K" not in args:
        argv += ["--K", "3"]
    with pytest.raises(SystemExit) as e:
        raise SystemExit(main(argv))
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("densehebb: error:") and msg in err
