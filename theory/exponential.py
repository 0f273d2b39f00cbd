"""Zero-temperature thresholds of the exponential network (binary neurons, K = exp(alpha N) Rademacher patterns).

Energies (docs/conventions.md, "Exponential networks"): with G(sigma) = sum_mu exp(lam N m_mu),

* "exponential" (Demircigil et al.):  E(sigma) = -G(sigma);
* "log-sum-exp" (modern Hopfield):    E(sigma) = -(1/lam) ln G(sigma).

Both are decreasing functions of G, so every zero-temperature statement below (single-flip fixed points,
the synchronous update, the one-step basin) holds for both.  Derivation: docs/theory.md, "Exponential
networks: zero-temperature thresholds".  The results, with I(m) the rate function of a Rademacher overlap
(:func:`rate`) and rho the fraction of random errors of the starting state (rho = 0: the pattern itself,
where one synchronous step returns to the pattern exactly when the pattern is single-flip stable):

* typical pattern:  alpha_1(rho, lam) = min_{0 <= m <= 1 - 2 rho} [I(m) + 2 lam (1 - 2 rho - m)]
                    = 2 lam (1 - 2 rho) - ln cosh(2 lam)   if tanh(2 lam) < 1 - 2 rho (the noise is a sum of
                                                           exponentially many terms: uncondensed REM),
                    = I(1 - 2 rho)                          otherwise (the noise is the largest other overlap);
  at rho = 0:       alpha_1(lam) = ln 2 - ln(1 + exp(-4 lam));
* all patterns:     alpha_c(rho, lam) = min(alpha_1(rho, lam), I(1 - 2 rho) / 2)
                    (the second term: no pair of patterns closer than the error radius, a birthday bound);
* lam -> infinity:  alpha_1 -> I(1 - 2 rho) (ln 2 at rho = 0), alpha_c -> I(1 - 2 rho) / 2 (ln 2 / 2).

The closed forms are evaluated in float64; :func:`alpha_1_numeric` solves phi(alpha) = lam (1 - 2 rho) for
the REM noise exponent phi (:func:`noise_exponent`, a direct maximisation over the overlap levels) with a
SciPy root finder, an independent route that :func:`thresholds` reports as the residual.
"""
from __future__ import annotations

import math

import numpy as np

LN2 = math.log(2.0)
INTERACTIONS_EXP = ("exponential", "log-sum-exp")
ENERGIES = {"exponential": "E = -sum_mu exp(lam N m_mu)",
            "log-sum-exp": "E = -(1/lam) ln sum_mu exp(lam N m_mu)"}


def _check(lam, errors):
    lam = np.asarray(lam, dtype=np.float64)
    errors = np.asarray(errors, dtype=np.float64)
    if not np.all(np.isfinite(lam) & (lam > 0)):
        raise ValueError(f"lam must be finite and > 0, got {lam!r}")
    if not np.all((errors >= 0) & (errors < 0.5)):
        raise ValueError(f"errors (fraction rho of flipped spins) must lie in [0, 1/2), got {errors!r}")
    return lam, errors


def rate(m):
    """I(m) = (1+m)/2 ln(1+m) + (1-m)/2 ln(1-m): the large-deviation rate of the overlap m of a Rademacher
    pattern with a fixed configuration, P(m) ~ exp(-N I(m)); I(+-1) = ln 2.  Vectorised, float64."""
    m = np.abs(np.asarray(m, dtype=np.float64))
    if np.any(m > 1):
        raise ValueError("rate: overlaps lie in [-1, 1]")
    with np.errstate(divide="ignore", invalid="ignore"):
        a = 0.5 * (1 + m) * np.log1p(m)
        b = np.where(m < 1, 0.5 * (1 - m) * np.log1p(-np.minimum(m, 1 - 1e-300)), 0.0)
    # small m: the two terms cancel to O(m^2); use I(m) = sum_k m^(2k) / (2k (2k - 1)) (to m^12: exact here)
    m2 = m * m
    series = m2 * (1 / 2 + m2 * (1 / 12 + m2 * (1 / 30 + m2 * (1 / 56 + m2 * (1 / 90 + m2 / 132)))))
    out = np.where(m < 0.05, series, a + b)
    return out if out.ndim else float(out)


def max_overlap(alpha):
    """m*(alpha) in [0, 1]: the largest overlap among exp(alpha N) random patterns with a fixed configuration,
    I(m*) = alpha (SciPy brentq; 1 for alpha >= ln 2)."""
    from scipy.optimize import brentq

    a = float(alpha)
    if a <= 0:
        return 0.0
    if a >= LN2:
        return 1.0
    # m^2/2 <= I(m) <= m^2 on [0, 1] brackets the root: sqrt(alpha) <= m* <= sqrt(2 alpha)
    lo, hi = math.sqrt(a), min(1.0, math.sqrt(2.0 * a))
    if rate(lo) >= a:
        return lo
    if rate(hi) <= a:
        return hi
    return float(brentq(lambda m: rate(m) - a, lo, hi, xtol=1e-15 * lo, rtol=4 * np.finfo(float).eps))


def noise_exponent(alpha, lam):
    """phi(alpha, lam) = lim (1/N) ln |noise| of the REM sum Z = sum_mu t_mu exp(lam N m_mu) over exp(alpha N)
    patterns with random signs t_mu: max over the occupied overlap levels 0 <= m <= m*(alpha) of
    (alpha - I(m))/2 + lam m (a level holding exp(N (alpha - I(m))) terms adds up to the square root of
    their number; the top level holds O(1) terms).  Direct bounded maximisation (SciPy), no closed form."""
    from scipy.optimize import minimize_scalar

    a, lam = float(alpha), float(lam)
    if a <= 0:
        return 0.0
    ms = max_overlap(a)
    f = lambda m: -((a - rate(m)) / 2 + lam * m)   # noqa: E731
    r = minimize_scalar(f, bounds=(0.0, ms), method="bounded", options={"xatol": 1e-13})
    return float(max(-r.fun, -f(ms), -f(0.0)))


def _ln_cosh(x):
    """ln cosh x without overflow (large x) or cancellation (small x)."""
    x = np.abs(np.asarray(x, dtype=np.float64))
    return np.where(x < 1.0, np.log1p(2.0 * np.sinh(0.5 * np.minimum(x, 1.0)) ** 2),
                    x + np.log1p(np.exp(-2.0 * np.maximum(x, 1.0))) - LN2)


def alpha_1(lam, errors=0.0):
    """Typical-pattern threshold alpha_1(rho, lam) (closed form, float64, vectorised over lam and errors)."""
    lam, rho = _check(lam, errors)
    s = 1.0 - 2.0 * rho
    # 2 lam s - ln cosh(2 lam); for lam >= 1/2 this is ln 2 - log1p(exp(-4 lam)) - 4 lam rho
    uncondensed = np.where(lam < 0.5, 2.0 * lam * s - _ln_cosh(2.0 * lam),
                           LN2 - np.log1p(np.exp(-4.0 * np.maximum(lam, 0.5))) - 4.0 * lam * rho)
    out = np.where(np.tanh(2.0 * lam) < s, uncondensed, rate(s))
    return out if out.ndim else float(out)


def alpha_c(lam, errors=0.0):
    """All-patterns threshold alpha_c(rho, lam) = min(alpha_1(rho, lam), I(1 - 2 rho)/2)."""
    lam, rho = _check(lam, errors)
    out = np.minimum(alpha_1(lam, rho), 0.5 * np.asarray(rate(1.0 - 2.0 * rho)))
    return out if np.ndim(out) else float(out)


def condensation_lam(errors=0.0):
    """lam_rho = atanh(1 - 2 rho)/2 = ln((1 - rho)/rho)/4: above it the noise of the one-step update is the
    single largest other overlap (condensed REM) and alpha_1 = I(1 - 2 rho) no longer depends on lam
    (infinite at rho = 0)."""
    _, rho = _check(1.0, errors)
    with np.errstate(divide="ignore"):
        out = 0.25 * np.log((1.0 - rho) / rho)
    return out if np.ndim(out) else float(out)


def collision_lam():
    """lam_x = asinh(1)/4 = ln(1 + sqrt 2)/4: alpha_1(lam) = ln 2 / 2 there; above it the all-patterns threshold
    at rho = 0 is set by pattern collisions (ln 2 / 2) and lies below alpha_1."""
    return math.asinh(1.0) / 4.0


def alpha_1_numeric(lam, errors=0.0):
    """alpha_1 by the root of phi(alpha, lam) = lam (1 - 2 rho) (SciPy brentq on (0, ln 2], phi by direct
    maximisation): the REM statement without the closed form.  Returns (alpha_1, converged)."""
    from scipy.optimize import brentq

    _check(lam, errors)
    lam, rho = float(lam), float(errors)
    signal = lam * (1.0 - 2.0 * rho)
    g = lambda a: noise_exponent(a, lam) - signal   # noqa: E731
    # bracket from bounds on phi, not from the closed form: phi(alpha) >= alpha/2 (the level m = 0) and
    # phi(alpha) <= alpha/2 + lam sqrt(2 alpha) (I(m) >= m^2/2, so m* <= sqrt(2 alpha))
    s = 1.0 - 2.0 * rho
    hi = min(LN2, 2.0 * signal)
    lo = min(s * s / 8.0, signal)
    for _ in range(60):
        if g(lo) < 0:
            break
        lo *= 1e-3
    if g(hi) < 0 or g(lo) >= 0:      # cannot happen; kept as an honest status
        return float("nan"), False
    root, info = brentq(g, lo, hi, xtol=1e-13 * lo, rtol=1e-14, maxiter=500, full_output=True)
    return float(root), bool(info.converged)


def thresholds(model, errors=0.0, all_patterns=False):
    """The zero-temperature thresholds of ``model`` (interaction "exponential" or "log-sum-exp", lam), as a
    Result (kind "capacity"): alpha_1 and alpha_c at the error fraction ``errors`` (rho; 0: single-flip
    stability of the pattern itself), alpha_max (= alpha_c with ``all_patterns``, alpha_1 otherwise), K
    exponent per neuron in bits (alpha_max / ln 2), and m_noise = tanh(2 lam) (the overlap level that carries
    the noise when it is collective).  The residual is |closed form - REM root| for alpha_1."""
    from .results import Result, Status

    if model.interaction not in INTERACTIONS_EXP:
        raise ValueError(f"thresholds: the exponential or log-sum-exp interaction only, got {model.interaction!r}")
    lam, rho = float(model.lam), float(errors)
    _check(lam, rho)
    a1, ac = alpha_1(lam, rho), alpha_c(lam, rho)
    num, ok = alpha_1_numeric(lam, rho)
    resid = abs(num - a1) if ok else float("nan")
    status = Status.CONVERGED if ok and (resid < 1e-8 or resid < 1e-6 * a1) else Status.NOT_CONVERGED
    amax = ac if all_patterns else a1
    regime = "collective (uncondensed REM)" if math.tanh(2 * lam) < 1 - 2 * rho else \
        "largest other overlap (condensed REM)"
    binding = ("pattern pairs closer than the error radius (I(1 - 2 rho)/2)" if ac < a1
               else "the typical-pattern noise (alpha_1)")
    inputs = {"convention": model.interaction, "energy": ENERGIES[model.interaction], "errors": rho,
              "all_patterns": bool(all_patterns),
              "criterion": ("one synchronous T = 0 update from the pattern with a fraction rho of random errors "
                            "returns exactly to it" if rho > 0 else
                            "the pattern is a fixed point of T = 0 single-flip dynamics (no flip lowers E)"),
              "patterns": "all K = exp(alpha N) patterns at once" if all_patterns else "a typical pattern"}
    values = {"alpha_1": a1, "alpha_c": ac, "alpha_max": amax, "bits_per_neuron": amax / LN2,
              "m_noise": math.tanh(2 * lam)}
    note = (f"alpha_1: noise = {regime}; alpha_c: bound set by {binding}; both energies share these T = 0 "
            "thresholds (docs/theory.md)")
    return Result(model, "capacity", inputs, values, status, residual=resid, iterations=0, note=note)
