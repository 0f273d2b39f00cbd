"""Finite-temperature theory of the log-sum-exp network: the (alpha, T) phase diagram.

Model (docs/conventions.md, "Exponential networks"): N binary neurons, K = exp(alpha N) Rademacher patterns,
G(sigma) = sum_mu exp(lam N m_mu), energy E_lse = -(1/lam) ln G, Gibbs weight exp(-beta E_lse) = G^gamma with
gamma = beta / lam, T = 1/beta.  Derivation: docs/theory.md, "Exponential networks: finite temperature".
With I the overlap rate function (:func:`theory.exponential.rate`) and x_alpha the largest typical
overlap (I(x_alpha) = alpha, :func:`theory.exponential.max_overlap`):

* the pattern sum of a typical configuration is a random-energy model at inverse temperature lam,
  (1/N) ln G -> Phi(alpha, lam) = alpha + ln cosh lam   if alpha >= alpha_cond(lam) = I(tanh lam)
  (uncondensed: exponentially many patterns at overlap tanh lam carry G), else lam x_alpha (condensed: the
  best-overlapping patterns carry G);  c = Phi / lam is the overlap a pattern needs to dominate G;
* paramagnet:      -beta f_para = ln 2 + beta c                                  (all T);
* one retrieval state (overlap m = tanh beta with one pattern), a local maximum of
  -beta f(m) = ln 2 - I(m) + beta max(m, c) iff tanh beta > c (T < T_M):  -beta f_state = ln 2 + ln cosh beta;
* the retrieval phase (all K states, complexity alpha):  -beta f_ret = ln 2 + alpha + ln cosh beta;
* -beta f = ln 2 + max(beta c, alpha + ln cosh beta [T < T_M]).

Lines (functions of alpha at fixed lam; NaN where they do not exist, i.e. c >= 1, alpha >= alpha_0(lam)):
T_M = 1/atanh(c) (retrieval states exist below it); T_c (the retrieval phase dominates below it) = T_M in
the condensed regime (continuous), 1/beta_2 with beta_2 > lam the second root of alpha + ln cosh b = b c in
the uncondensed regime (first order; b = lam is always a root); T_1 (one retrieval state beats the
paramagnet below it): root of ln cosh b = b c.  T_1 < T_c <= T_M.  All three reach T = 0 at
alpha_0(lam) = lam - ln cosh lam = ln 2 - ln(1 + exp(-2 lam)).

Everything is float64 NumPy with SciPy brentq roots; :func:`enumerate_exact` is the brute-force reference
(all 2^N configurations) that the tests compare with.
"""
from __future__ import annotations

import math

import numpy as np

from .exponential import LN2, _ln_cosh, max_overlap, rate

#: phase codes of :func:`phase_code` (the Dataset stores them with these names)
PHASES = ("paramagnet, uncondensed pattern sum",
          "paramagnet, condensed pattern sum",
          "metastable retrieval",
          "retrieval phase, states above the paramagnet",
          "retrieval phase, states below the paramagnet")
PHASE_NOTES = ("T > T_M, alpha > alpha_cond: no retrieval state; G of a typical configuration is carried by "
               "exponentially many patterns at overlap tanh(lam)",
               "T > T_M = T_c, alpha < alpha_cond: no retrieval state; G of a typical configuration is carried by "
               "its best-overlapping patterns (overlap x_alpha)",
               "T_c < T < T_M: retrieval states (overlap tanh(beta)) are local minima of the free energy, the "
               "paramagnet is the equilibrium phase",
               "T_1 < T < T_c: the Gibbs measure is on the K retrieval states (their number exp(alpha N) wins), "
               "each single state has a higher free energy than the paramagnet",
               "T < T_1: each retrieval state alone has a lower free energy than the paramagnet")
ENERGY = "E = -(1/lam) ln sum_mu exp(lam N m_mu), Gibbs weight exp(-E/T) = G^(1/(lam T))"


def _check(alpha, lam):
    a, lam = float(alpha), float(lam)
    if not (math.isfinite(lam) and lam > 0):
        raise ValueError(f"lam must be finite and > 0, got {lam!r}")
    if not (math.isfinite(a) and 0 <= a <= LN2):
        raise ValueError(f"alpha (K = exp(alpha N)) must lie in [0, ln 2], got {a!r}")
    return a, lam


def alpha_cond(lam):
    """alpha_cond(lam) = I(tanh lam) = lam tanh lam - ln cosh lam: below it the pattern sum of a typical
    configuration is condensed on its best-overlapping patterns (independent of T).  Vectorised."""
    lam = np.asarray(lam, dtype=np.float64)
    out = np.asarray(rate(np.tanh(lam)))
    return out if out.ndim else float(out)


def alpha_T0(lam):
    """alpha_0(lam) = lam - ln cosh lam = ln 2 - ln(1 + exp(-2 lam)): the end of the retrieval region as
    T -> 0 (Phi = lam there; uncondensed since alpha_0 > alpha_cond).  Vectorised."""
    lam = np.asarray(lam, dtype=np.float64)
    out = LN2 - np.log1p(np.exp(-2.0 * lam))
    return out if out.ndim else float(out)


def bulk(alpha, lam):
    """Phi(alpha, lam) = lim (1/N) ln G(sigma) for a typical configuration sigma (REM at inverse temperature
    lam): alpha + ln cosh lam if alpha >= alpha_cond(lam), else lam x_alpha.  Scalar, float64."""
    a, lam = _check(alpha, lam)
    if a >= alpha_cond(lam):
        return a + float(_ln_cosh(lam))
    return lam * max_overlap(a)


def bulk_numeric(alpha, lam):
    """Phi by direct maximisation of alpha - I(m) + lam m over the occupied levels 0 <= m <= x_alpha (SciPy
    bounded minimiser): the REM statement without the closed form (tests compare the two)."""
    from scipy.optimize import minimize_scalar

    a, lam = _check(alpha, lam)
    xs = max_overlap(a)
    f = lambda m: -(a - rate(m) + lam * m)   # noqa: E731
    r = minimize_scalar(f, bounds=(0.0, xs), method="bounded", options={"xatol": 1e-13})
    return float(max(-r.fun, -f(xs), -f(0.0)))


def threshold_overlap(alpha, lam):
    """c = Phi / lam: the overlap one pattern needs for its own term to dominate G (>= 1: never)."""
    return bulk(alpha, lam) / float(lam)


def _brentq(f, lo, hi):
    from scipy.optimize import brentq

    r, info = brentq(f, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500, full_output=True)
    if not info.converged:      # brentq raises before this on a bad bracket; kept as an honest status
        raise RuntimeError(f"brentq did not converge: {info.flag}")
    return float(r)


def lines(alpha, lam):
    """The transition temperatures at one (alpha, lam): dict with Phi, c, regime ("condensed" /
    "uncondensed"), T_M, T_c, T_1 (NaN where retrieval does not exist: c >= 1) and beta roots."""
    a, lam = _check(alpha, lam)
    phi = bulk(a, lam)
    c = phi / lam
    condensed = a < alpha_cond(lam)
    out = {"Phi": phi, "c": c, "regime": "condensed" if condensed else "uncondensed",
           "T_M": math.nan, "T_c": math.nan, "T_1": math.nan}
    if a == 0.0:                      # one pattern (K subexponential): E = -N m, m = tanh(beta) at every T
        out.update(T_M=math.inf, T_c=math.inf, T_1=math.inf)
        return out
    if not c < 1.0:
        return out
    bM = math.atanh(c)
    out["T_M"] = 1.0 / bM
    # T_1: ln cosh b = b c, the root above b_M (g = ln cosh b - b c is convex, g(0) = 0, minimum at b_M;
    # g(b) >= b (1 - c) - ln 2, which is ln 2 at b = 2 ln 2 / (1 - c): a bracket robust to rounding)
    g = lambda b: float(_ln_cosh(b)) - b * c   # noqa: E731
    out["T_1"] = 1.0 / _brentq(g, bM, max(bM, 2.0 * LN2 / (1.0 - c)))
    if condensed:
        out["T_c"] = out["T_M"]
    else:
        # h = alpha + ln cosh b - b c: convex, h(lam) = 0 (exact identity), minimum at b_M > lam (uncondensed),
        # h(b) >= alpha - ln 2 + b (1 - c), which is ln 2 at b = (2 ln 2 - alpha)/(1 - c)
        h = lambda b: a + g(b)   # noqa: E731
        hi = max(bM, (2.0 * LN2 - a) / (1.0 - c))
        out["T_c"] = out["T_M"] if h(bM) >= 0 else 1.0 / _brentq(h, bM, hi)
    return out


def free_energies(alpha, T, lam):
    """Free energies per neuron at one (alpha, lam) on the temperatures T (array): dict with f_para, f_state
    (one retrieval state; NaN for T >= T_M), f_ret (the retrieval phase, with its complexity alpha; NaN for
    T >= T_M), f (the equilibrium one), m (retrieval overlap tanh(beta), NaN for T >= T_M), m_max (the
    equilibrium value of the largest overlap max_mu m_mu: tanh(beta) in the retrieval phase, x_alpha in the
    paramagnet), phase (codes into PHASES)."""
    a, lam = _check(alpha, lam)
    T = np.asarray(T, dtype=np.float64)
    if np.any(~(T > 0)):
        raise ValueError("temperatures must be > 0")
    L = lines(a, lam)
    beta = 1.0 / T
    c = L["c"]
    exists = T < L["T_M"]
    lc = _ln_cosh(beta)
    f_para = -T * LN2 - c
    f_state = np.where(exists, -T * (LN2 + lc), np.nan)
    f_ret = np.where(exists, -T * (LN2 + a + lc), np.nan)
    f = np.fmin(f_para, f_ret)
    # (condensed regime: f_ret <= f_para wherever the branch exists, by ln cosh b >= b x_alpha - alpha)
    retr = exists & (f_ret <= f_para)
    m = np.where(exists, np.tanh(beta), np.nan)
    m_max = np.where(retr, np.tanh(beta), max_overlap(a))
    phase = np.where(retr, np.where(T < L["T_1"], 4, 3),
                     np.where(exists, 2, np.where(a < alpha_cond(lam), 1, 0)))
    return {"f_para": f_para, "f_state": f_state, "f_ret": f_ret, "f": f, "m": m, "m_max": m_max,
            "phase": phase.astype(np.int8), **L}


def ln_partition(alpha, T, lam):
    """lim (1/N) ln Z = -f/T, Z = sum_sigma G(sigma)^(1/(lam T)) (array over T)."""
    T = np.asarray(T, dtype=np.float64)
    return -free_energies(alpha, T, lam)["f"] / T


# ------------------------------------------------------------------------------ exact enumeration (finite N)
def _half_states(n):
    """All 2^n spin vectors on n sites, float64, shape (2^n, n)."""
    idx = np.arange(1 << n, dtype=np.int64)[:, None]
    return (1 - 2 * ((idx >> np.arange(n)) & 1)).astype(np.float64)


def enumerate_exact(xi, lam, betas, soft=8.0):
    """Brute force over all 2^N configurations of one instance (patterns ``xi``, shape (K, N), entries +-1):
    returns (lnZ, m_max), arrays over ``betas``: lnZ = ln sum_sigma G(sigma)^(beta/lam) and m_max = the Gibbs
    mean of max_mu |m_mu|.

    Split sigma = (a, b) into two halves: exp(lam xi.sigma) = exp(lam xi_A.a) exp(lam xi_B.b), so the 2^N
    values of G are one matrix product (2^nA x K) @ (K x 2^nB) in float64 (no K x 2^N array).  max_mu |x_mu|
    (x = N m, integers of the parity of N) is recovered exactly from the soft maximum
    (1/t) ln sum_{mu, +-} exp(+-t x_mu) in [max, max + ln(2K)/t], which is below max + 2 for t = ``soft``
    when ln(2K) < 2 t; the largest integer of the right parity below it is the maximum."""
    from scipy.special import logsumexp

    xi = np.asarray(xi, dtype=np.float64)
    K, N = xi.shape
    lam = float(lam)
    if math.log(2 * K) >= 1.9 * soft:
        raise ValueError("enumerate_exact: raise soft (ln(2K) must stay below 2 soft)")
    if lam * N > 600 or soft * N > 300:
        raise ValueError("enumerate_exact: lam N or soft N too large for float64 without shifts")
    nA = N // 2
    nB = N - nA
    SA, SB = _half_states(nA), _half_states(nB)
    XA, XB = SA @ xi[:, :nA].T, SB @ xi[:, nA:].T          # (2^nA, K), (2^nB, K): integer overlaps
    lnG = np.log(np.exp(lam * XA) @ np.exp(lam * XB).T).ravel()
    t = float(soft)
    H = np.exp(t * (XA - nA)) @ np.exp(t * (XB - nB)).T + np.exp(-t * (XA + nA)) @ np.exp(-t * (XB + nB)).T
    smax = (np.log(H) / t + N).ravel()
    par = N % 2
    xmax = 2.0 * np.floor((smax - par + 1e-7) / 2.0) + par
    lnZ, mmax = [], []
    for b in np.atleast_1d(np.asarray(betas, dtype=np.float64)):
        w = (b / lam) * lnG
        z = logsumexp(w)
        lnZ.append(z)
        mmax.append(float(np.sum(np.exp(w - z) * xmax)) / N)
    return np.array(lnZ), np.array(mmax)


def enumerate_max_overlap_direct(xi):
    """max_mu |xi^mu . sigma| for every sigma by a direct (2^N x K) product (small N only; checks the soft
    maximum of :func:`enumerate_exact`), in the same order of configurations."""
    xi = np.asarray(xi, dtype=np.float64)
    K, N = xi.shape
    nA = N // 2
    SA, SB = _half_states(nA), _half_states(N - nA)
    S = np.concatenate([np.repeat(SA, len(SB), axis=0), np.tile(SB, (len(SA), 1))], axis=1)
    return np.abs(S @ xi.T).max(axis=1)
