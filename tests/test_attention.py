"""One softmax (attention) step of the continuous modern Hopfield network: theory.attention (large-N REM
threshold and error) and montecarlo.attention (the chunked JAX step), docs/theory.md "Continuous states: the
one-step attention error"."""
import math

import numpy as np
import pytest

from densehebb.montecarlo import attention as ma
from densehebb.theory import attention as ta

BETAS = [0.05, 0.2, 0.5, 0.9, 1.0, 1.3, 3.0, 20.0]


@pytest.mark.parametrize("kind", ta.PATTERNS)
def test_closed_form_equals_rem_root(kind):
    """alpha_1 in closed form = the root of Phi(alpha, beta) = beta (REM log-partition, SciPy brentq)."""
    for b in BETAS:
        num, ok = ta.alpha_1_numeric(b, kind)
        assert ok
        assert abs(num - ta.alpha_1(b, kind)) < 1e-10, (kind, b)


@pytest.mark.parametrize("kind", ta.PATTERNS)
def test_threshold_is_min_over_levels(kind):
    """alpha_1 = min over 0 <= m <= 1 of I(m) + beta (1 - m) (brute-force grid, an independent third route)."""
    m = np.linspace(0.0, 1.0 - 1e-9, 400001)
    for b in BETAS:
        brute = np.min(ta.rate(m, kind) + b * (1.0 - m))
        assert abs(brute - ta.alpha_1(b, kind)) < 1e-6, (kind, b)


def test_beta_limits_of_the_threshold():
    """beta -> infinity: nearest-pattern retrieval.  Gaussian: the target is nearest iff the largest other
    overlap sqrt(2 alpha) is below 1, alpha_1 -> 1/2 (reached at beta = 1).  Spherical: the largest other
    overlap sqrt(1 - exp(-2 alpha)) < 1 for every alpha, alpha_1 -> infinity as 1/2 + ln(beta)/2.
    beta -> 0: alpha_1 ~ beta -> 0 (no retrieval)."""
    assert ta.alpha_1(1.0, "gaussian") == 0.5 and ta.alpha_1(1e6, "gaussian") == 0.5
    assert ta.max_overlap(0.5, "gaussian") == pytest.approx(1.0)
    for b in (1e3, 1e5):
        assert ta.alpha_1(b, "spherical") == pytest.approx(0.5 + 0.5 * math.log(b), abs=2.0 / b)
    for kind in ta.PATTERNS:
        b = 1e-6
        assert ta.alpha_1(b, kind) == pytest.approx(b, rel=1e-5)
        # monotone in beta (more selective softmax retrieves at higher load)
        a = [ta.alpha_1(x, kind) for x in np.linspace(0.01, 5, 200)]
        assert np.all(np.diff(a) >= -1e-15)


def test_error_regimes():
    """Below alpha_1: e = 0.  Above (uncondensed): e = (1 - m_b)^2, -> 1 as beta -> 0 (x' = the mean of the
    patterns, |mean|^2/N -> 0).  Gaussian, beta > 1, alpha > 1/2 (condensed): (1 - sqrt(2 alpha))^2 +
    1 - sqrt(2 alpha)/beta (Poisson-Dirichlet participation); at beta -> infinity (x -> 0) one other pattern:
    |xi^nu - xi^1|^2/N = (1 - m*)^2 + 1."""
    for kind in ta.PATTERNS:
        assert ta.error(0.5 * ta.alpha_1(0.7, kind), 0.7, kind)["error"] == 0.0
        r = ta.error(0.3, 1e-4, kind)
        assert r["regime"] == "uncondensed" and r["error"] == pytest.approx(1.0, abs=3e-4)
    assert ta.error(0.45, 0.5, "gaussian")["error"] == pytest.approx(0.25)
    r = ta.error(0.72, 3.0, "gaussian")
    ms = math.sqrt(1.44)
    assert r["regime"] == "condensed" and r["error"] == pytest.approx((1 - ms) ** 2 + 1 - ms / 3.0)
    assert ta.error(0.72, 1e9, "gaussian")["error"] == pytest.approx((1 - ms) ** 2 + 1, rel=1e-8)
    # spherical: the condensed regime never lies above the threshold
    for b in (0.3, 1.0, 5.0):
        a1 = ta.alpha_1(b, "spherical")
        for a in (a1 * 1.01, a1 * 2, a1 * 10):
            assert ta.error(a, b, "spherical")["regime"] == "uncondensed"


def _numpy_step(xi, x, beta):
    logits = beta * (xi @ x.T).T
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return p @ xi, p


@pytest.mark.parametrize("kind", ta.PATTERNS)
def test_jax_step_equals_numpy(kind):
    """The chunked JAX step (3 chunks of 128, the last one masked) = a plain NumPy softmax over all patterns."""
    import jax

    N, K, n, chunk, beta, seed = 10, 300, 5, 128, 0.7, 3
    res = ma.softmax_step(seed, N, beta=beta, kind=kind, n_tested=n, K=K, chunk=chunk)
    xi = np.asarray(ma.patterns(jax.random.key(seed), N, K, kind, chunk=ma.chunk_size(K, n, chunk)))
    assert xi.shape == (K, N)
    if kind == "spherical":
        assert np.allclose(np.sum(xi ** 2, axis=1), N, rtol=1e-12)
    xp, p = _numpy_step(xi, xi[:n], beta)
    assert np.allclose(res["x_new"], xp, rtol=1e-11, atol=1e-12)
    assert np.allclose(res["p_target"], p[np.arange(n), np.arange(n)], rtol=1e-10)
    assert np.allclose(res["error"], np.sum((xp - xi[:n]) ** 2, axis=1) / N, rtol=1e-10)


def test_step_beta_limits():
    """beta -> infinity: x' is the pattern with the largest overlap (nearest pattern for spherical ones, the
    target itself); beta -> 0: x' is the mean of all patterns."""
    import jax

    N, K, n = 8, 200, 6
    for kind in ta.PATTERNS:
        xi = np.asarray(ma.patterns(jax.random.key(1), N, K, kind, chunk=ma.chunk_size(K, n)))
        big = ma.softmax_step(1, N, beta=200.0, kind=kind, n_tested=n, K=K)
        nearest = xi[np.argmax(xi[:n] @ xi.T, axis=1)]
        assert np.allclose(big["x_new"], nearest, atol=1e-8)
        if kind == "spherical":
            assert np.allclose(big["x_new"], xi[:n], atol=1e-8) and np.all(big["error"] < 1e-15)
        small = ma.softmax_step(1, N, beta=1e-12, kind=kind, n_tested=n, K=K)
        assert np.allclose(small["x_new"], np.broadcast_to(xi.mean(axis=0), (n, N)), atol=1e-9)


@pytest.mark.slow
def test_finite_n_trend_toward_the_threshold():
    """Spherical patterns, beta = 1/2 (alpha_1 = 0.3870, error above it (1 - m_b)^2 = 0.3431, m_b = sqrt 2 - 1).
    N = 12 and 20, 4 pattern sets x 64 tested patterns: at alpha = alpha_1/2 the mean error falls toward 0,
    at 1.5 alpha_1 it rises toward 0.3431 (both by more than 3 standard errors of the difference); the
    retrieved fraction (p_target > 1/2) is above 1/2 at alpha_1 - 0.03 and below at alpha_1 + 0.03 at N = 20
    (allowance 0.03 on the crossing; measured crossings 0.381-0.389 for N = 12..32, README table).  Allowance on
    the error: N = 20 within 0.04 of the limit above, below 0.002 under it (measured about 0.32 and 0.0002)."""
    beta, kind = 0.5, "spherical"
    a1 = ta.alpha_1(beta, kind)
    lim = ta.error(1.5 * a1, beta, kind)["error"]
    assert lim == pytest.approx((2 - math.sqrt(2)) ** 2)
    out = {N: ma.scan_alpha(N, [0.5 * a1, a1 - 0.03, a1 + 0.03, 1.5 * a1], beta, kind, n_samples=4,
                            n_tested=64, seed=7) for N in (12, 20)}
    lo12, _, _, hi12 = out[12]
    lo20, below, above, hi20 = out[20]
    d = lambda a, b, k: (b[k] - a[k]) / math.hypot(a[k + "_err"], b[k + "_err"])   # noqa: E731
    assert d(lo12, lo20, "error") < -3 and lo20["error"] < 0.002
    assert d(hi12, hi20, "error") > 3 and lim - 0.04 < hi20["error"] < lim
    assert below["retrieved"] > 0.5 > above["retrieved"]
    assert ma.crossing([below, above]) == pytest.approx(ta.alpha_1_finite_n(beta, 20, kind), abs=0.03)


def test_finite_n_annealed_threshold():
    """log_mgf (quadrature) = the Bessel closed form Gamma(nu+1) (2/z)^nu I_nu(z); the annealed finite-N
    crossing tends to alpha_1 (spherical, and Gaussian at beta <= 1); NaN where the threshold is condensed."""
    from scipy.special import gammaln, ive

    for N in (4, 12, 40, 200):
        nu, z = N / 2 - 1, 0.5 * N
        bessel = gammaln(nu + 1) + nu * math.log(2 / z) + math.log(ive(nu, z)) + z
        assert ta.log_mgf(0.5, N, "spherical") == pytest.approx(bessel, rel=1e-10)
    for kind in ta.PATTERNS:
        a = [ta.alpha_1_finite_n(0.5, N, kind) for N in (64, 1024, 16384)]
        gaps = np.abs(np.array(a) - ta.alpha_1(0.5, kind))
        assert gaps[-1] < 1e-3 and gaps[-1] < gaps[0]
    assert math.isnan(ta.alpha_1_finite_n(2.0, 20, "gaussian"))


def _cli(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "densehebb.phase_diagrams.cli", "capacity", *args],
                          capture_output=True, text=True, timeout=120)


def test_cli_capacity_attention():
    """`densehebb capacity --interaction attention --beta B --patterns K --json` -> alpha_1 of theory.attention;
    bad or foreign options: one line, exit 2."""
    import json

    r = _cli("--interaction", "attention", "--beta", "0.5", "--patterns", "spherical", "--json")
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    assert rec["alpha_1"] == pytest.approx(ta.alpha_1(0.5, "spherical"), rel=1e-14)
    assert rec["patterns"] == "spherical" and rec["converged"] and "softmax" in rec["convention"]
    assert rec["error_just_above"] == pytest.approx((2 - math.sqrt(2)) ** 2)
    for bad in (["--interaction", "attention", "--beta", "-1"], ["--interaction", "attention", "--lam", "2"],
                ["--interaction", "attention", "--errors", "0.1"], ["--beta", "2"],
                ["--interaction", "log-sum-exp", "--patterns", "gaussian"]):
        r = _cli(*bad)
        assert r.returncode == 2 and r.stderr.startswith("densehebb: error: ") and r.stderr.count("\n") == 1, bad
