"""Low-storage multitasking theory (theory.multitask): K Mattis overlaps with diluted patterns.

Checked against: theory.low_storage at d = 0 (Mattis states, symmetric mixtures), a direct NumPy enumeration
and finite differences of f, the T = 0 closed forms (hierarchical amplitudes, existence condition on both
sides of its boundary), the pure state's transitions (P = 2: T_c = 1 - d), the Landau threshold d = 2/3
from the Hessian, and a signal-to-noise computation on explicit random diluted patterns at N = 20000.
"""
import itertools
import json
import math
import subprocess
import sys

import jax
import numpy as np
import pytest

import densehebb
from densehebb.theory import Model, Status
from densehebb.theory import multitask as mt
from densehebb.theory.low_storage import solve_mixture


def low(P, d=0.0):
    return Model(P=P, storage="low", dilution=d)


# ------------------------------------------------------------------------------------ d = 0
@pytest.mark.parametrize("P", [2, 3, 4])
def test_d0_reproduces_low_storage_mattis_and_mixtures(P):
    T = {2: 0.3, 3: 0.15, 4: 0.05}[P]
    ref = solve_mixture(Model(P=P, storage="low"), T, 1)
    r = mt.solve_state(low(P), 3, T, "pure")
    assert r.status is Status.CONVERGED
    assert r.m[0] == pytest.approx(ref.m, abs=1e-12) and np.all(r.m[1:] < 1e-12)
    assert r.f == pytest.approx(ref.f, abs=1e-12)
    T3 = {2: 0.2, 3: 0.08, 4: 0.01}[P]
    ref3 = solve_mixture(Model(P=P, storage="low"), T3, 3)
    for K in (3, 5):
        r3 = mt.solve_state(low(P), K, T3, "mixture", n=3)
        assert r3.status is Status.CONVERGED, r3.note
        assert np.allclose(r3.m[:3], ref3.m, atol=1e-12) and np.all(r3.m[3:] < 1e-12)
        assert r3.f == pytest.approx(ref3.f, abs=1e-12)


# ------------------------------------------------------------------------------------ f itself
def _f_numpy(m, d, T, P):
    """Independent: explicit loop over {-1,0,1}^K with the pattern-entry probabilities."""
    K = len(m)
    tot = 0.0
    for xi in itertools.product((-1, 0, 1), repeat=K):
        w = np.prod([d if x == 0 else (1 - d) / 2 for x in xi])
        h = sum(x * mm ** (P - 1) for x, mm in zip(xi, m)) / math.factorial(P - 1)
        tot += w * (T * np.log(2 * np.cosh(h / T)) if T > 0 else abs(h))
    return (P - 1) / math.factorial(P) * sum(mm ** P for mm in m) - tot


@pytest.mark.parametrize("P,T", [(2, 0.2), (3, 0.05), (4, 0.0)])
def test_free_energy_enumeration_gradient_and_hessian(P, T):
    d, m = 0.4, np.array([0.5, 0.3, 0.2, 0.1])
    f = float(mt.free_energy(m, d, T, P))
    assert f == pytest.approx(_f_numpy(m, d, T, P), abs=1e-13)
    full = mt.configurations(4)
    assert f == pytest.approx(float(mt.free_energy(m, d, T, P, full, None)), abs=1e-14)
    if T == 0:
        return
    # gradient: k_mu (m_mu - Phi_mu), k = m^(P-2)/(P-2)!; checked against finite differences of the NumPy f
    g = np.asarray(jax.grad(mt.free_energy)(m, d, T, P))
    k = m ** (P - 2) / math.factorial(P - 2)
    assert np.allclose(g, k * (m - np.asarray(mt.fixed_point_map(m, d, T, P))), atol=1e-13)
    eps = 1e-6
    fd = [(_f_numpy(m + eps * e, d, T, P) - _f_numpy(m - eps * e, d, T, P)) / (2 * eps) for e in np.eye(4)]
    assert np.allclose(g, fd, atol=1e-8)
    # Hessian at a stationary point: autodiff = diag(k) - k k^T C
    r = mt.solve_state(low(P, d), 4, T, "hierarchical" if P == 2 else "pure")
    assert r.converged
    ms = np.asarray(r.m)
    H_ad = np.asarray(jax.hessian(mt.free_energy)(ms, d, T, P))
    H, lam = mt.hessian(ms, d, T, P)
    assert np.allclose(H_ad, np.asarray(H), atol=1e-10)
    if P == 2:
        assert float(lam) == pytest.approx(np.linalg.eigvalsh(H_ad).min(), abs=1e-10)


# ------------------------------------------------------------------------------------ T = 0 closed forms
@pytest.mark.parametrize("P,K", [(2, 3), (2, 4), (3, 3), (4, 5)])
def test_T0_hierarchical_closed_form_and_existence_boundary(P, K):
    d_star = mt.hierarchical_boundary_T0(P, K)
    D = d_star ** (P - 1)
    assert 1 - 2 * D + D ** K == pytest.approx(0, abs=1e-12)
    if (P, K) == (2, 3):
        assert d_star == pytest.approx((math.sqrt(5) - 1) / 2, abs=1e-12)
    for d, exists in ((d_star - 0.01, True), (d_star + 0.01, False)):
        closed = (1 - d) * d ** np.arange(K)
        assert mt.hierarchical_exists_T0(P, K, d) is exists
        # direct: is the closed form a fixed point of m <- E[xi sign h] (plain 3^K enumeration, NumPy)?
        xi = mt.configurations(K)
        w = np.prod(np.where(xi == 0, d, (1 - d) / 2), axis=1)
        phi = xi.T @ (w * np.sign(xi @ closed ** (P - 1)))
        assert np.allclose(phi, closed, atol=1e-14) is exists
        r = mt.solve_state(low(P, d), K, 0.0, "hierarchical")
        if exists:
            assert r.status is Status.CONVERGED and np.allclose(r.m, closed, atol=1e-14)
            assert r.f == pytest.approx(_f_numpy(closed, d, 0.0, P), abs=1e-13) and r.stable
        else:
            assert r.status is Status.COLLAPSED and "not a fixed point" in r.note


def test_K_le_2_hierarchical_always_exists():
    assert mt.hierarchical_boundary_T0(2, 2) == 1.0
    assert all(mt.hierarchical_exists_T0(P, 2, d) for P in (2, 5) for d in (0.1, 0.9, 0.99))


def test_T0_hierarchical_global_minimum_P2_K3():
    """The hierarchical state is the T = 0 global minimum at d = 0.5 but not at d = 0.6 (where it still
    exists): another fixed point of the sign dynamics has a lower f."""
    for d, is_global in ((0.5, True), (0.6, False)):
        h = mt.solve_state(low(2, d), 3, 0.0, "hierarchical")
        g = mt.solve_state(low(2, d), 3, 0.0, "global")
        assert h.converged and g.converged and g.inputs["n_starts"] > 20
        assert (h.f <= g.f + 1e-12) is is_global
        # P = 2, T = 0: f = -(1/2) sum m^2 at any fixed point
        assert g.f == pytest.approx(-0.5 * np.sum(np.asarray(g.m) ** 2), abs=1e-12)


@pytest.mark.slow
def test_T0_hierarchical_global_end_P2_K3():
    d_end = mt.hierarchical_global_end_T0(2, 3)
    assert 0.5 < d_end < mt.hierarchical_boundary_T0(2, 3)


# ------------------------------------------------------------------------------------ transitions
@pytest.mark.parametrize("d", [0.0, 0.3, 0.7])
def test_P2_critical_temperature_is_one_minus_d(d):
    tr = mt.transitions(low(2, d))
    assert tr.continuous and tr.T_thermodynamic == pytest.approx(1 - d, abs=1e-8)
    assert mt.solve_state(low(2, d), 2, 0.99 * (1 - d), "pure").converged
    above = mt.solve_state(low(2, d), 2, 1.01 * (1 - d), "pure")
    assert above.status is Status.BRANCH_MISSING


@pytest.mark.parametrize("P", [3, 4])
def test_dense_pure_transitions_scale_with_dilution(P):
    d = 0.5
    tr = mt.transitions(low(P, d))
    assert not tr.continuous and 0 < tr.T_thermodynamic < tr.T_spinodal
    # thermodynamic: the pure state's f equals the paramagnet's -T ln 2 (direct solve at K = 2)
    r = mt.solve_state(low(P, d), 2, tr.T_thermodynamic, "pure")
    assert r.f == pytest.approx(-tr.T_thermodynamic * math.log(2), abs=1e-9)
    assert mt.solve_state(low(P, d), 2, 0.995 * tr.T_spinodal, "pure").converged
    assert mt.solve_state(low(P, d), 2, 1.005 * tr.T_spinodal, "pure").status is Status.BRANCH_MISSING


def test_landau_threshold_two_thirds_from_the_hessian():
    """P = 2, just below T_c: the pure state is a local minimum for d < 2/3 and a saddle for d > 2/3; the
    parallel state the reverse (K = 3 and K = 4)."""
    assert mt.landau_threshold(2) == pytest.approx(2 / 3) and math.isnan(mt.landau_threshold(3))
    for K in (3, 4):
        for d, pure_stable in ((0.6, True), (0.73, False)):
            T = 0.985 * (1 - d)
            p = mt.solve_state(low(2, d), K, T, "pure")
            q = mt.solve_state(low(2, d), K, T, "parallel")
            assert p.converged and q.converged
            assert p.stable is pure_stable and q.stable is (not pure_stable)
            assert (p.f < q.f) is pure_stable


def test_P2_pure_transverse_instability_line():
    d = 0.4
    T_u = mt.pure_instability_temperature(d)
    assert 0 < T_u < 1 - d
    assert mt.pure_transverse_curvature(d, T_u) == pytest.approx(0, abs=1e-10)
    for T, stable in ((1.02 * T_u, True), (0.98 * T_u, False)):
        p = mt.solve_state(low(2, d), 3, T, "pure")
        assert p.converged and p.stable is stable
        h = mt.solve_state(low(2, d), 3, T, "hierarchical")
        assert h.status is (Status.COLLAPSED if stable else Status.CONVERGED), h.note


# ------------------------------------------------------------------------------------ signal to noise
@pytest.mark.parametrize("P,K,d", [(2, 3, 0.5), (2, 3, 0.7), (3, 3, 0.72), (3, 3, 0.86), (2, 5, 0.45)])
def test_signal_to_noise_T0_agrees_with_statistical_mechanics(P, K, d):
    """Explicit random diluted patterns (N = 20000): the hierarchical sigma (first non-blank pattern) has
    overlaps (1-d) d^(k-1) within sampling error, and is a fixed point of sign dynamics (every site with a
    nonzero field keeps its sign) exactly when the theory says the T = 0 hierarchical state exists; where it
    is not, the fraction of unstable sites is the probability of the worst configurations."""
    N = 20000
    rng = np.random.default_rng(12 + K + int(100 * d))
    xi = rng.choice([-1, 0, 1], size=(K, N), p=[(1 - d) / 2, d, (1 - d) / 2]).astype(float)
    nz = xi != 0
    first = np.argmax(nz, axis=0)
    sigma = np.where(nz.any(0), xi[first, np.arange(N)], 1.0)
    m = xi @ sigma / N
    closed = (1 - d) * d ** np.arange(K)
    se = np.sqrt(closed * (1 - closed) / N) + np.sqrt(d ** K / N)   # binomial + free-spin sampling error
    assert np.all(np.abs(m - closed) < 5 * se)
    h = (m ** (P - 1)) @ xi / math.factorial(P - 1)   # the local fields of H = -(N/P!) sum m^P
    flips = (np.sign(h) != sigma) & nz.any(0)
    theory = mt.solve_state(low(P, d), K, 0.0, "hierarchical")
    assert bool(flips.sum() == 0) == (theory.status is Status.CONVERGED)
    if flips.sum():   # K = 3: unstable sites are xi^1 != 0 with both later patterns opposite
        p_bad = (1 - d) * ((1 - d) / 2) ** 2
        assert abs(flips.mean() - p_bad) < 5 * math.sqrt(p_bad / N)


# ------------------------------------------------------------------------------------ states, dispatch
def test_states_and_global_search():
    m = low(2, 0.5)
    h = mt.solve_state(m, 3, 0.1, "hierarchical")
    assert h.converged and h.stable and h.found == "hierarchical" and np.all(np.diff(h.m) < 0)
    # self-consistency: m = E[xi tanh(beta h)]
    assert np.allclose(h.m, np.asarray(mt.fixed_point_map(np.asarray(h.m), 0.5, 0.1, 2)), atol=1e-10)
    g = mt.solve_state(m, 3, 0.1, "global", seed=3)
    assert g.converged and g.f <= h.f + 1e-12 and g.inputs["seed"] == 3 and g.winner
    n = mt.solve_state(m, 3, 0.1, "hierarchical", normalised=True)
    assert np.allclose(n.m, np.asarray(h.m) / 0.5) and n.inputs["overlaps"] == "normalised"
    with pytest.raises(ValueError, match="odd"):
        mt.solve_state(m, 3, 0.1, "mixture", n=2)
    with pytest.raises(ValueError, match="K must"):
        mt.solve_state(m, 13, 0.1)


def test_K10_hierarchy_truncates_at_finite_T():
    """K = 10 (3^10 configurations) solves; at T = 0.1, d = 0.3 only two levels of the hierarchy survive."""
    r = mt.solve_state(low(2, 0.3), 10, 0.1, "hierarchical")
    assert r.converged and r.found == "hierarchical" and r.n_condensed == 2


def test_public_dispatch_and_refusals():
    r = densehebb.solve(low(2, 0.5), T=0.1, K=3)
    assert r.converged and len(r.m) == 3
    assert densehebb.capacity(low(2, 0.3)).T_thermodynamic == pytest.approx(0.7, abs=1e-8)
    with pytest.raises(NotImplementedError, match="high-storage RS"):   # high storage: RS only (multitask_high)
        densehebb.solve(Model(P=2, dilution=0.3, ansatz="1rsb"), 0.05, 0.1)
    with pytest.raises(NotImplementedError, match="no replica ansatz"):
        densehebb.solve(Model(P=3, storage="low", ansatz="1rsb", dilution=0.3), T=0.1, K=3)
    with pytest.raises(ValueError, match="needs the number of patterns K"):
        densehebb.solve(low(2, 0.3), 0.0, 0.1)
    with pytest.raises(ValueError, match="exclusive"):
        densehebb.solve(low(2, 0.3), 0.1, 0.1, K=3)
    from densehebb.theory.model import Examples
    # examples of diluted archetypes: theory.multitask_learning (tests/test_multitask_learning.py); no mixtures
    with pytest.raises(NotImplementedError, match="no mixtures"):
        densehebb.solve(Model(P=2, storage="low", dilution=0.3, examples=Examples(M=3, r=0.5)), T=0.1, K=3,
                        state="mixture", mixture=3)


def test_cli_limits_match_library():
    from densehebb.phase_diagrams import cli_common
    assert cli_common.K_MAX == mt.K_MAX


# ------------------------------------------------------------------------------------ CLI
CLI = [sys.executable, "-m", "densehebb.phase_diagrams.cli"]


def test_cli_solve_K_contract():
    p = subprocess.run(CLI + ["solve", "--P", "2", "--K", "3", "--dilution", "0.5", "--T", "0.1", "--json",
                              "--quiet"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    for k in ("P", "K", "dilution", "T", "state", "m", "f", "converged", "status", "stable", "convention",
              "residual", "overlaps"):
        assert k in d, k
    assert d["state"] == "hierarchical" and d["overlaps"] == "unnormalised" and len(d["m"]) == 3
    assert d["m"] == sorted(d["m"], reverse=True) and d["converged"] and d["stable"]
    ref = mt.solve_state(low(2, 0.5), 3, 0.1, "hierarchical")
    assert np.allclose(d["m"], ref.m, atol=1e-12)
    p = subprocess.run(CLI + ["solve", "--K", "3", "--dilution", "0.5", "--T", "0.1", "--state", "global",
                              "--json", "--quiet"], capture_output=True, text=True, timeout=300)
    d = json.loads(p.stdout)
    assert p.returncode == 0 and d["n_starts"] > 20 and d["winner"] and d["state"] == "global"


@pytest.mark.parametrize("args,msg", [
    (("--K", "3", "--alpha", "0.1", "--T", "0.1"), "mutually exclusive"),
    (("--T", "0.1"), "give --alpha"),
    (("--K", "0", "--T", "0.1"), "K must be >= 1"),
    (("--K", "13", "--T", "0.1"), "K must be <= 12"),
    (("--K", "3", "--dilution", "1", "--T", "0.1"), "dilution must lie in [0, 1)"),
    (("--K", "3", "--dilution", "-0.2", "--T", "0.1"), "dilution must be >= 0"),
    (("--alpha", "0.1", "--T", "0.1", "--state", "pure"), "--state applies with --K only"),
    (("--alpha", "0.1", "--T", "0.1", "--dilution", "0.3", "--ansatz", "1rsb"), "replica-symmetric theory only"),
    (("--K", "3", "--T", "0.1", "--state", "mixture"), "needs --mixture"),
    (("--K", "3", "--T", "0.1", "--state", "mixture", "--mixture", "5"), "at most K"),
    (("--K", "3", "--T", "0.1", "--ansatz", "1rsb"), "--ansatz does not apply with --K"),
])
def test_cli_solve_K_bad_input(args, msg, capsys):
    from densehebb.phase_diagrams.cli import main

    with pytest.raises(SystemExit) as e:
        raise SystemExit(main(["solve", *args]))
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("densehebb: error:") and msg in err
