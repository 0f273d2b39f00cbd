"""Zero-temperature thresholds of the exponential network (theory.exponential, docs/theory.md "Exponential
networks"): closed forms against an independent REM root, limits, brute-force finite-N facts (both energies
have the same single-flip fixed points; at rho = 0 the one-step update returns to a pattern exactly when it
is single-flip stable), an exact finite-N sampling of the site-stability probability trending toward alpha_1,
and the CLI contract.
"""
import itertools
import json
import math

import numpy as np
import pytest
from scipy.special import gammaln, logsumexp

import densehebb
from densehebb.phase_diagrams.cli import main
from densehebb.theory import Model
from densehebb.theory import exponential as ex

LN2 = math.log(2.0)
LAMS = np.array([0.02, 0.1, 0.2, 0.25, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 50.0])
RHOS = np.array([0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.45])


# ---------------------------------------------------------------------------------------------- formulas
def test_rate_function():
    m = np.linspace(-0.99, 0.99, 41)
    # I is the Legendre transform of ln cosh: I(m) = max_h [h m - ln cosh h] at h = atanh m
    h = np.arctanh(m)
    assert np.allclose(ex.rate(m), h * m - np.log(np.cosh(h)), atol=1e-14)
    assert ex.rate(1.0) == pytest.approx(LN2, abs=1e-15) and ex.rate(0.0) == 0.0
    # I(m*) = alpha: the largest overlap among exp(alpha N) patterns
    for a in (0.01, 0.2, 0.5, 0.69):
        assert ex.rate(ex.max_overlap(a)) == pytest.approx(a, abs=1e-13)


def test_typical_never_below_all_patterns_on_a_grid():
    L, R = np.meshgrid(LAMS, RHOS)
    a1, ac = ex.alpha_1(L, R), ex.alpha_c(L, R)
    assert a1.shape == L.shape and np.all(np.isfinite(a1)) and np.all(ac > 0)
    assert np.all(a1 >= ac)
    assert np.all(a1 <= LN2) and np.all(ac <= LN2 / 2 + 1e-15)
    # more errors, or a wider interaction (smaller lam), never help
    assert np.all(np.diff(a1, axis=0) <= 1e-15) and np.all(np.diff(a1, axis=1) >= -1e-15)


def test_closed_form_equals_the_rem_root():
    """alpha_1 from the closed form and from brentq on phi(alpha) = lam (1 - 2 rho), phi maximised directly."""
    for lam in (0.05, 0.3, 0.5, 1.0, 2.0, 4.0):
        for rho in (0.0, 0.05, 0.1, 0.25, 0.4):
            root, ok = ex.alpha_1_numeric(lam, rho)
            assert ok
            assert root == pytest.approx(ex.alpha_1(lam, rho), abs=1e-7), (lam, rho)


@pytest.mark.parametrize("lam", [1e-200, 1e-12, 1e-4, 1e4, 1e200])
def test_extreme_lam_converges(lam):
    """No cancellation at small lam (alpha_1 ~ 2 lam (1 - 2 rho)), no overflow at large lam."""
    for rho in (0.0, 0.1, 0.3):
        r = densehebb.capacity(Model(interaction="log-sum-exp", lam=lam), errors=rho)
        assert r.converged and r.alpha_1 > 0
        if lam < 1e-3:
            assert r.alpha_1 == pytest.approx(2 * lam * (1 - 2 * rho), rel=1e-3)
        else:
            assert r.alpha_1 == pytest.approx(ex.rate(1 - 2 * rho), abs=1e-15)


def test_rho_zero_formula_and_limits():
    lam = LAMS
    # rho = 0: alpha_1 = 2 lam - ln cosh 2 lam = ln 2 - ln(1 + exp(-4 lam))
    small = lam < 5
    assert np.allclose(ex.alpha_1(lam[small]), 2 * lam[small] - np.log(np.cosh(2 * lam[small])), atol=1e-14)
    # lam -> infinity: ln 2 (typical: no other pattern at Hamming distance 1) and ln 2 / 2 (all patterns:
    # no pair at Hamming distance 1, the birthday bound)
    assert ex.alpha_1(60.0) == pytest.approx(LN2, abs=1e-15)
    assert ex.alpha_c(60.0) == pytest.approx(LN2 / 2, abs=1e-15)
    for rho in (0.05, 0.1, 0.3):
        s = 1 - 2 * rho
        assert ex.alpha_1(60.0, rho) == pytest.approx(ex.rate(s), abs=1e-15)
        assert ex.alpha_c(60.0, rho) == pytest.approx(ex.rate(s) / 2, abs=1e-15)
        # above lam_rho = atanh(1 - 2 rho)/2 the basin threshold no longer depends on lam
        lr = ex.condensation_lam(rho)
        assert ex.alpha_1(1.01 * lr, rho) == ex.alpha_1(3 * lr, rho)
        assert ex.alpha_1(0.99 * lr, rho) == pytest.approx(ex.rate(s), abs=0.01)     # continuous at lam_rho
        assert ex.alpha_1(0.9 * lr, rho) < ex.rate(s)
    # lam -> 0: alpha_1 ~ 2 lam (1 - 2 rho)
    assert ex.alpha_1(1e-4, 0.1) == pytest.approx(2e-4 * 0.8, rel=1e-3)


def test_basin_rho_to_zero_is_single_flip_threshold():
    for lam in (0.3, 1.0, 2.0, 8.0):
        for rho in (1e-4, 1e-6, 1e-9):
            # alpha_1 moves by at most 4 lam rho (uncondensed) or like I(1) - I(1 - 2 rho) ~ rho ln(1/rho)
            tol = 4 * lam * rho + 2 * rho * math.log(1 / rho) + 2 * rho + 1e-12
            assert ex.alpha_1(lam, rho) == pytest.approx(ex.alpha_1(lam), abs=tol)
            assert ex.alpha_c(lam, rho) == pytest.approx(ex.alpha_c(lam), abs=tol)


def test_values_reported():
    """The numbers quoted in docs/theory.md and the README."""
    assert ex.alpha_1(1.0) == pytest.approx(math.log(2 / (1 + math.exp(-4))), abs=1e-15)
    assert ex.alpha_1(1.0) == pytest.approx(0.67500, abs=5e-6)
    assert ex.alpha_1(2.0) == pytest.approx(0.69281, abs=5e-6)
    assert ex.alpha_c(1.0) == ex.alpha_c(2.0) == pytest.approx(LN2 / 2, abs=1e-15)
    assert ex.alpha_1(1.0, 0.1) == pytest.approx(0.36806, abs=5e-6)   # I(0.8)
    lx = ex.collision_lam()                                             # alpha_1 = alpha_c up to lam_x
    assert ex.alpha_1(lx) == pytest.approx(LN2 / 2, abs=1e-14) and lx == pytest.approx(0.220343, abs=1e-6)
    assert ex.alpha_c(0.99 * lx) == ex.alpha_1(0.99 * lx) and ex.alpha_c(1.01 * lx) < ex.alpha_1(1.01 * lx)
    assert ex.alpha_c(1.0, 0.1) == pytest.approx(0.18403, abs=5e-6)


# --------------------------------------------------------------------------- brute force at finite N
def _patterns(rng, N, alpha):
    K = int(round(math.exp(alpha * N)))
    return rng.choice(np.array([-1, 1], dtype=np.int64), size=(K, N))


def _flip_gains(xi, sigma, lam, j=None):
    """dG_i = G(sigma with spin i flipped) - G(sigma) for every i; with ``j``, lam = j ln 2 and the weights
    2^(j x) are exact (ldexp), so a tie is exactly 0."""
    x = xi @ sigma                                                  # xi^mu . sigma
    xf = x[:, None] - 2 * xi * sigma[None, :]                       # after flipping i
    w = (lambda v: np.exp(lam * v)) if j is None else (lambda v: np.ldexp(1.0, j * v))   # noqa: E731
    return w(xf).sum(axis=0) - w(x).sum()


def _energies(xi, s, j):
    """(exponential, log-sum-exp) energies of the rows of s at lam = j ln 2: exp(lam x) = 2^(j x) is formed
    exactly (ldexp) and the sum G is exact in float64 here (2 j N + log2 K < 53 bits), so ties are exact."""
    x = s @ xi.T
    G = np.ldexp(1.0, j * x).sum(axis=1)
    return -G, -np.log(G) / (j * LN2)


@pytest.mark.parametrize("j,N,alpha,seed", [(1, 12, 0.35, 0), (1, 12, 0.55, 1), (2, 10, 0.45, 2)])
def test_both_energies_have_the_same_single_flip_fixed_points(j, N, alpha, seed):
    """Over all 2^N configurations: no flip lowers E_exp  <=>  no flip lowers E_lse (lam = j ln 2, where both
    energies are evaluated exactly enough that ties are ties); the synchronous updates coincide too."""
    rng = np.random.default_rng(seed)
    lam = j * LN2
    xi = _patterns(rng, N, alpha)
    s = np.array(list(itertools.product([-1, 1], repeat=N)), dtype=np.int64)
    assert 2 * j * N + math.log2(len(xi)) < 53
    e_exp, e_lse = _energies(xi, s, j)
    # the log-sum-exp energy as a user computes it (scipy logsumexp) gives the same moves wherever no tie
    e_user = -logsumexp(lam * (s @ xi.T), axis=1) / lam
    idx = np.arange(len(s))
    fixed, lowers = {}, {}
    for name, e in (("exp", e_exp), ("lse", e_lse)):
        up = np.zeros((len(s), N), dtype=bool)       # flipping spin i lowers E
        for i in range(N):
            nb = idx ^ (1 << (N - 1 - i))            # configuration with spin i flipped (product order)
            up[:, i] = e[nb] < e
        lowers[name], fixed[name] = up, ~up.any(axis=1)
    np.testing.assert_array_equal(lowers["exp"], lowers["lse"])   # every single-flip move is the same
    np.testing.assert_array_equal(fixed["exp"], fixed["lse"])
    for i in range(N):
        nb = idx ^ (1 << (N - 1 - i))
        clear = e_exp[nb] != e_exp                                  # not a tie
        np.testing.assert_array_equal((e_user[nb] < e_user)[clear], lowers["exp"][clear, i])
    n_fixed = int(fixed["exp"].sum())
    assert n_fixed > 0
    # the exact flip gains of G give the same fixed points
    gains = np.array([_flip_gains(xi, row, lam, j) for row in s[fixed["exp"]]])
    assert np.all(gains <= 0)


@pytest.mark.parametrize("N,alpha,lam,seed", [(14, 0.3, 1.0, 3), (14, 0.5, 0.5, 4), (16, 0.6, 2.0, 5)])
def test_one_step_from_a_pattern_is_single_flip_stability(N, alpha, lam, seed):
    """rho = 0: one synchronous T = 0 step from a pattern returns exactly to it iff no single flip lowers the
    energy (the local field of site i decides both) -- so alpha_1(rho -> 0) is the single-flip threshold."""
    rng = np.random.default_rng(seed)
    xi = _patterns(rng, N, alpha)
    agree = 0
    for mu in range(min(len(xi), 200)):
        sigma = xi[mu]
        gains = _flip_gains(xi, sigma, lam)
        single_flip_stable = bool(np.all(gains <= 0))
        # synchronous update: sigma_i' = the sign that gives the larger G (field h_i = G(+) - G(-))
        x = xi @ sigma
        rest = x[:, None] - xi * sigma[None, :]
        h = (np.exp(lam * (rest + xi)) - np.exp(lam * (rest - xi))).sum(axis=0)
        new = np.where(h > 0, 1, np.where(h < 0, -1, sigma))   # a zero field keeps the spin
        assert single_flip_stable == bool(np.all(new == sigma))
        agree += single_flip_stable
    assert 0 < agree


# ------------------------------------------------- exact finite-N sampling of the site stability
def _site_unstable(N, alpha, lam, rho, samples, rng):
    """P(a given site of a pattern fails) at finite N, sampled exactly from the census of the other patterns'
    overlaps with the state on the N - 1 other sites (a Poisson number at each of the N levels, random signs
    t_mu at the site): failure iff sum_mu t_mu exp(lam y_mu) >= exp(lam y_1) (rho = 0: a flip that does not
    raise E; rho > 0: a wrong or zero field).  Levels holding more than 1e15 patterns use the CLT for their
    signed sum (they sit far below the top of the noise)."""
    n = N - 1
    k = np.arange(n + 1)
    logp = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1) - n * LN2
    mean = np.exp(alpha * N + logp)
    big = mean > 1e15
    c = rng.poisson(np.where(big, 0.0, mean), size=(samples, n + 1))
    s = (2 * rng.binomial(c, 0.5) - c).astype(float)
    s += np.where(big, rng.standard_normal((samples, n + 1)) * np.sqrt(mean), 0.0)
    y1 = n - 2 * int(round(rho * N))
    z = (s * np.exp(lam * ((n - 2 * k) - y1))).sum(axis=1)
    return float(np.mean(z >= 1.0))


def _crossing(N, lam, rho, level, rng, samples=3000):
    """The load where the sampled site-failure probability reaches ``level`` (bisection)."""
    lo, hi = 0.05, LN2
    for _ in range(12):
        mid = 0.5 * (lo + hi)
        if _site_unstable(N, mid, lam, rho, samples, rng) >= level:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def test_census_sampler_matches_brute_force():
    """The reduction behind the sampler (site i of pattern 1 fails iff sum t_mu exp(lam y_mu) >= exp(lam (N-1)))
    against real patterns: the fraction of unstable sites at N = 14 agrees within sampling errors."""
    rng = np.random.default_rng(7)
    N, alpha, lam = 14, 0.62, 1.0
    bad = tot = 0
    for _ in range(6):
        xi = _patterns(rng, N, alpha)
        for mu in range(120):
            g = _flip_gains(xi, xi[mu], lam)
            bad += int(np.sum(g >= 0))   # flipping does not raise E (ties count as failures, as in the sampler)
            tot += N
    p_brute = bad / tot
    p_census = _site_unstable(N, alpha, lam, 0.0, 40000, rng)
    err = 3 * math.sqrt(p_census * (1 - p_census) / 40000) + 3 * math.sqrt(p_brute * (1 - p_brute) / 720) * 2
    assert 0.05 < p_brute < 0.95
    assert abs(p_brute - p_census) < err + 0.02


@pytest.mark.parametrize("lam,rho", [(1.0, 0.0), (0.5, 0.0), (1.0, 0.1)])
def test_finite_N_site_stability_moves_to_alpha_1(lam, rho):
    """The load where a site fails with probability 0.159 (one standard deviation of a Gaussian noise reaching
    the signal) approaches alpha_1 as N grows: N = 30 -> 200.  Uncondensed noise (rho = 0): from below, like
    alpha_1 (N - 1)/N; condensed noise (rho = 0.1): from above, like ln(N)/N.  Allowance 0.012 at N = 200."""
    rng = np.random.default_rng(11)
    a1 = ex.alpha_1(lam, rho)
    d = [abs(_crossing(N, lam, rho, 0.159, rng) - a1) for N in (30, 200)]
    assert d[1] < d[0]
    assert d[1] < 0.012


# ------------------------------------------------------------------------------------------- API / CLI
def test_capacity_dispatch():
    r = densehebb.capacity(Model(interaction="log-sum-exp", lam=1.0), errors=0.1, all_patterns=True)
    assert r.converged and r.kind == "capacity"
    assert r.alpha_1 == ex.alpha_1(1.0, 0.1) and r.alpha_c == ex.alpha_c(1.0, 0.1) and r.alpha_max == r.alpha_c
    d = r.to_dict()
    assert d["interaction"] == "log-sum-exp" and d["convention"] == "log-sum-exp" and d["lam"] == 1.0
    r0 = densehebb.capacity(Model(interaction="exponential", lam=2.0))
    assert r0.alpha_max == r0.alpha_1 == ex.alpha_1(2.0) and r0.errors == 0.0
    with pytest.raises(ValueError):
        densehebb.capacity(Model(interaction="exponential"), T=0.1)
    with pytest.raises(ValueError):
        densehebb.capacity(Model(interaction="exponential"), errors=0.5)
    with pytest.raises(ValueError):
        densehebb.capacity(Model(P=2), errors=0.1)


def _cli(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_contract(capsys):
    code, out, err = _cli(capsys, "capacity", "--interaction", "exponential", "--lam", "1", "--json")
    assert code == 0 and err == ""
    rec = json.loads(out)
    assert rec["alpha_1"] == pytest.approx(ex.alpha_1(1.0), abs=1e-15)
    assert rec["alpha_c"] == pytest.approx(LN2 / 2, abs=1e-15)
    assert rec["lam"] == 1.0 and rec["errors"] == 0.0 and rec["interaction"] == "exponential"
    assert rec["convention"] == "exponential" and rec["status"] == "converged"
    code, out, _ = _cli(capsys, "capacity", "--interaction", "log-sum-exp", "--lam", "2", "--errors", "0.1",
                        "--all-patterns", "--json")
    rec = json.loads(out)
    assert code == 0 and rec["alpha_max"] == rec["alpha_c"] == pytest.approx(ex.rate(0.8) / 2, abs=1e-15)
    assert rec["errors"] == 0.1 and rec["all_patterns"] is True


@pytest.mark.parametrize("argv,needle", [
    (["--interaction", "exponential", "--lam", "0"], "lam must be > 0"),
    (["--interaction", "exponential", "--lam", "-2"], "lam must be > 0"),
    (["--interaction", "log-sum-exp", "--lam", "inf"], "lam must be finite"),
    (["--interaction", "exponential", "--errors", "0.5"], "--errors must lie in [0, 1/2)"),
    (["--interaction", "exponential", "--errors", "-0.1"], "errors must be >= 0"),
    (["--interaction", "exponential", "--P", "3"], "--P does not apply"),
    (["--interaction", "exponential", "--T", "0"], "--T does not apply"),
    (["--interaction", "exponential", "--ansatz", "1rsb"], "--ansatz does not apply"),
    (["--interaction", "exponential", "--low-storage"], "--low-storage does not apply"),
    (["--interaction", "exponential", "--dataset", "supervised"], "--dataset does not apply"),
    (["--interaction", "exponential", "--mc"], "--mc with --interaction exponential"),
    (["--interaction", "exponential", "--N", "16"], "--N applies with --mc only"),
    (["--lam", "2"], "--lam applies with --interaction"),
    (["--errors", "0.1"], "--errors applies with --interaction"),
    (["--all-patterns"], "--all-patterns applies with --interaction"),
    (["--interaction", "gaussian"], "invalid choice"),
])
def test_cli_bad_input(capsys, argv, needle):
    import sys

    jax_before = "jax" in sys.modules
    with pytest.raises(SystemExit) as e:
        code = main(["capacity"] + argv)
        raise SystemExit(code)
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert err.startswith("densehebb: error: ") and err.count("\n") == 1 and needle in err
    assert ("jax" in sys.modules) == jax_before


def test_figures():
    from densehebb.phase_diagrams.exponential_plots import capacity_scaling_figure, thresholds_figure

    fig = capacity_scaling_figure({2: 0.137906, 3: 0.126095, 4: 0.0329767}, lam=1.0, N=[10, 100, 1000])
    lines = fig.axes[0].get_lines()
    assert len(lines) == 5
    # at N = 1000 the exponential network's log10 K (all patterns: 0.3466 N / ln 10 = 150.5) is far above P = 4's
    assert lines[3].get_ydata()[-1] == pytest.approx(LN2 / 2 * 1000 / math.log(10))
    assert lines[2].get_ydata()[-1] == pytest.approx(math.log10(0.0329767) + 9)
    assert len(thresholds_figure(lams=[0.1, 1, 10]).axes[0].get_lines()) == 8


def test_cli_interaction_names_match_the_model():
    from densehebb.phase_diagrams.cli_common import INTERACTIONS
    from densehebb.theory.model import INTERACTIONS as MODEL_INTERACTIONS

    assert INTERACTIONS == MODEL_INTERACTIONS
