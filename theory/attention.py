"""One softmax (attention) step of the continuous modern Hopfield network: the large-N retrieval error.

Model (docs/conventions.md, "Continuous states and the attention update"): K = exp(alpha N) patterns
xi^mu in R^N, either Gaussian (i.i.d. N(0, 1) entries) or spherical (uniform on the sphere |xi|^2 = N);
a state x in R^N with |x|^2 = N; overlaps m_mu = xi^mu . x / N; the update

    x' = sum_mu p_mu xi^mu,     p = softmax(beta N m) = softmax(beta Xi^T x)

(logits beta xi^mu . x with no 1/N or 1/sqrt(N) factor: the only scaling with a finite threshold when
K = exp(alpha N), docs/theory.md).  From x = xi^1 the retrieval error is e = |x' - xi^1|^2 / N.

Large-N results (a random energy model for the partition sum of the exp(alpha N) non-target patterns;
derivation: docs/theory.md, "Continuous states: the one-step attention error"), with I(m) the rate of one
non-target overlap (Gaussian: m^2/2; spherical: -ln(1 - m^2)/2):

* the target's weight dominates (e -> 0) iff alpha < alpha_1(beta) = min_{0 <= m <= 1} [I(m) + beta (1 - m)];
    Gaussian:  alpha_1 = beta - beta^2/2 (beta <= 1), 1/2 (beta >= 1);
    spherical: alpha_1 = beta (1 - m_b) - ln(1 - m_b^2)/2, m_b = (sqrt(1 + 4 beta^2) - 1)/(2 beta)
               (grows like ln(beta)/2 + ...: no finite beta -> infinity limit);
* above it the weight sits on the non-target patterns at the overlap level m_b (Gaussian: m_b = beta)
  when that level is occupied (I(m_b) < alpha: uncondensed REM, e -> (1 - m_b)^2), or on the few largest
  overlaps m*(alpha), I(m*) = alpha (condensed: Poisson-Dirichlet weights with parameter
  x = I'(m*)/beta, E e -> (1 - m*)^2 + (1 - x) |r|^2/N where |r|^2/N = 1 (Gaussian), 1 - m*^2 (spherical)).

Everything float64, NumPy/SciPy.
"""
from __future__ import annotations

import math

import numpy as np

PATTERNS = ("gaussian", "spherical")


def _check(beta, kind):
    if kind not in PATTERNS:
        raise ValueError(f"patterns must be one of {PATTERNS}, got {kind!r}")
    b = float(beta)
    if not (math.isfinite(b) and b > 0):
        raise ValueError(f"beta must be finite and > 0, got {beta!r}")
    return b


def rate(m, kind):
    """I(m): P(m_mu ~ m) ~ exp(-N I(m)) for one non-target overlap; Gaussian m^2/2, spherical -ln(1-m^2)/2."""
    m = np.asarray(m, dtype=np.float64)
    out = 0.5 * m * m if kind == "gaussian" else -0.5 * np.log1p(-m * m)
    return out if out.ndim else float(out)


def rate_prime(m, kind):
    """I'(m): Gaussian m, spherical m / (1 - m^2)."""
    m = np.asarray(m, dtype=np.float64)
    out = m if kind == "gaussian" else m / (1.0 - m * m)
    return out if out.ndim else float(out)


def max_overlap(alpha, kind):
    """m*(alpha): the largest of exp(alpha N) non-target overlaps, I(m*) = alpha.
    Gaussian sqrt(2 alpha) (may exceed 1), spherical sqrt(1 - exp(-2 alpha))."""
    a = float(alpha)
    return math.sqrt(2.0 * a) if kind == "gaussian" else math.sqrt(-math.expm1(-2.0 * a))


def saddle_overlap(beta, kind):
    """m_b: the overlap level that dominates the uncondensed sum, I'(m_b) = beta.
    Gaussian beta, spherical (sqrt(1 + 4 beta^2) - 1)/(2 beta) (written without cancellation)."""
    b = _check(beta, kind)
    return b if kind == "gaussian" else 2.0 * b / (1.0 + math.sqrt(1.0 + 4.0 * b * b))


def log_partition(alpha, beta, kind):
    """Phi(alpha, beta) = lim (1/N) ln sum_{mu >= 2} exp(beta N m_mu) = max_{0 <= m <= m*} [alpha - I(m) + beta m].
    Returns (Phi, condensed)."""
    b = _check(beta, kind)
    a = float(alpha)
    if a <= 0:
        return 0.0, False
    mb, ms = saddle_overlap(b, kind), max_overlap(a, kind)
    if mb <= ms:
        return a - rate(mb, kind) + b * mb, False
    return b * ms, True


def alpha_1(beta, kind="gaussian"):
    """The one-step retrieval threshold alpha_1(beta) (closed form, float64)."""
    b = _check(beta, kind)
    if kind == "gaussian":
        return b - 0.5 * b * b if b <= 1.0 else 0.5
    mb = saddle_overlap(b, kind)
    return b * (1.0 - mb) - 0.5 * math.log1p(-mb * mb)


def alpha_1_numeric(beta, kind="gaussian"):
    """alpha_1 as the root of Phi(alpha, beta) = beta (SciPy brentq on the REM log-partition, an independent
    route to the closed form).  Returns (alpha_1, converged)."""
    from scipy.optimize import brentq

    b = _check(beta, kind)
    g = lambda a: log_partition(a, b, kind)[0] - b   # noqa: E731  (Phi(alpha) - beta, increasing in alpha)
    lo, hi = 1e-12, 1.0
    while g(hi) < 0 and hi < 1e6:
        hi *= 2.0
    if g(lo) >= 0 or g(hi) < 0:
        return float("nan"), False
    root, info = brentq(g, lo, hi, xtol=1e-14, rtol=1e-14, maxiter=500, full_output=True)
    return float(root), bool(info.converged)


def error(alpha, beta, kind="gaussian"):
    """The N -> infinity one-step error E e = E |x' - xi^1|^2 / N from x = xi^1, and the limit overlap
    m' = x'.xi^1 / N.  Returns a dict: error, overlap, regime ('retrieval' | 'uncondensed' | 'condensed'),
    participation (E sum_{mu >= 2} p_mu^2 among the non-target weights: 0 uncondensed, 1 - x condensed)."""
    b = _check(beta, kind)
    a = float(alpha)
    if a < alpha_1(b, kind):
        return {"error": 0.0, "overlap": 1.0, "regime": "retrieval", "participation": 1.0}
    phi, condensed = log_partition(a, b, kind)
    if not condensed:
        mb = saddle_overlap(b, kind)
        return {"error": (1.0 - mb) ** 2, "overlap": mb, "regime": "uncondensed", "participation": 0.0}
    ms = max_overlap(a, kind)
    x = rate_prime(ms, kind) / b          # Poisson-Dirichlet parameter, < 1 when condensed
    r2 = 1.0 if kind == "gaussian" else 1.0 - ms * ms
    return {"error": (1.0 - ms) ** 2 + (1.0 - x) * r2, "overlap": ms, "regime": "condensed",
            "participation": 1.0 - x}


def log_mgf(beta, N, kind="gaussian"):
    """ln E exp(beta N m) for one non-target overlap m = xi . x / N at finite N, |x|^2 = N exactly.
    Gaussian: m ~ N(0, 1/N), beta^2 N / 2.  Spherical: m = cos of a uniform angle, density
    (1 - m^2)^((N-3)/2) / B(1/2, (N-1)/2) on [-1, 1]; the integral by SciPy quad, shifted by the exponent's
    maximum (no overflow at any N).  Equals Gamma(nu + 1) (2/z)^nu I_nu(z), nu = N/2 - 1, z = beta N (test)."""
    from scipy.integrate import quad
    from scipy.special import betaln

    b = _check(beta, kind)
    if kind == "gaussian":
        return 0.5 * b * b * N
    if N < 3:
        raise ValueError("spherical patterns: N >= 3")
    c = 0.5 * (N - 3)
    f = lambda m: c * math.log1p(-m * m) + b * N * m if abs(m) < 1 else -math.inf   # noqa: E731
    # maximum: c * 2m / (1 - m^2) = b N  ->  b N m^2 + 2 c m - b N = 0
    m0 = b * N / (c + math.sqrt(c * c + (b * N) ** 2)) if c > 0 else 1.0
    f0 = f(m0) if m0 < 1 else b * N
    val, _ = quad(lambda m: math.exp(f(m) - f0), -1.0, 1.0, points=[m0] if m0 < 1 else None, limit=200,
                  epsabs=0.0, epsrel=1e-12)
    return float(f0 + math.log(val) - betaln(0.5, 0.5 * (N - 1)))


def alpha_1_finite_n(beta, N, kind="gaussian"):
    """Finite-N (annealed) estimate of the alpha where the target's softmax weight is 1/2 for a typical (median)
    pattern: (K - 1) E exp(beta N m) = exp(beta |xi^1|^2), K = exp(alpha N), i.e.
    alpha_N = ln(1 + exp(beta q N - ln E exp(beta N m))) / N, with q N = N (spherical) or the median of
    chi^2_N (Gaussian: |xi^1|^2 is random, and the non-target overlaps scale with |xi^1|, giving
    ln E = beta^2 q N / 2).  Annealed: it replaces the partition sum of the others by its mean, accurate in
    the uncondensed regime (m_b inside the occupied levels), not in the condensed one.  Tends to alpha_1(beta)
    as N -> infinity (uncondensed threshold).  NaN for Gaussian patterns at beta > 1, where the threshold is
    condensed (spherical patterns: always uncondensed at the threshold)."""
    from scipy.stats import chi2

    b = _check(beta, kind)
    if kind == "gaussian" and b > 1.0:
        return float("nan")          # the threshold is condensed (set by the largest other overlap)
    if kind == "gaussian":
        qN = float(chi2.median(N))
        expo = b * qN - 0.5 * b * b * qN
    else:
        expo = b * N - log_mgf(b, N, kind)
    return float(np.logaddexp(0.0, expo) / N)
