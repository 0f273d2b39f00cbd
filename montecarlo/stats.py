"""Statistics of Monte Carlo data: the :class:`Stats` record and the estimators behind every summary.

:class:`Stats` (in the spirit of NetKet's ``Stats``) is what every Monte Carlo summary is built from
(:func:`montecarlo.summary.summarize`, :func:`~montecarlo.summary.equilibration`,
:func:`~montecarlo.summary.summarize_anneal`, :func:`montecarlo.capacity.extrapolate`): the mean, its
standard error, and the integrated autocorrelation time of the underlying series (NaN where the units are
independent, e.g. disorder samples).

Integrated autocorrelation time, Sokal's convention: tau_int = 1/2 + sum_{k >= 1} rho(k), so that the
variance of the mean of n correlated measurements is 2 tau_int var / n (tau_int = 1/2 for independent
data; for an AR(1) series x_t = phi x_{t-1} + noise, 2 tau_int = (1 + phi) / (1 - phi)).  The sum is cut
at Sokal's automatic window, the first W >= c tau_int(W) with c = 6.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

SOKAL_C = 6.0


class Stats(NamedTuple):
    """Mean, standard error of the mean, integrated autocorrelation time (Sokal convention, in the units
    of the series: sweeps for the Monte Carlo observables; NaN when not applicable) and how the error was
    obtained (``method``: "samples", "replicas ...", "independent", "blocking", "autocorrelation",
    "bootstrap", "none" or "unavailable")."""

    mean: float
    error: float = math.nan
    tau_int: float = math.nan
    method: str = ""

    def __repr__(self):
        tau = "" if math.isnan(self.tau_int) else f", tau_int={self.tau_int:.3g}"
        return f"Stats({self.mean:.6g} +- {self.error:.2g}{tau}, {self.method or 'n/a'})"

    def to_dict(self, name: str) -> dict:
        """``{name: mean, name_err: error}`` (the keys of the summaries)."""
        return {name: self.mean, name + "_err": self.error}


# ------------------------------------------------------------------------------------ independent units
def estimate(values, blocks=None) -> Stats:
    """Mean and standard error of one observable from independent units (chains or disorder samples).

    values: (n,) time averages of n independent units; blocks: (n, B) their time-block averages.

    * n >= 2: standard error sqrt(var / n) (ddof = 1) over the units ("independent").
    * n == 1: blocking over time for the single unit, SE = std(block means, ddof=1) / sqrt(B) ("blocking";
      only honest if a block is much longer than the autocorrelation time).  With B < 2: NaN ("none").
    * all-NaN values (q with a single replica): NaN, NaN ("unavailable").
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    if np.all(np.isnan(values)):
        return Stats(math.nan, math.nan, math.nan, "unavailable")
    mean = float(values.mean())
    if values.size >= 2:
        return Stats(mean, float(values.std(ddof=1) / math.sqrt(values.size)), math.nan, "independent")
    b = np.asarray(blocks if blocks is not None else [], dtype=np.float64).ravel()
    if b.size < 2:
        return Stats(mean, math.nan, math.nan, "none")
    return Stats(mean, float(b.std(ddof=1) / math.sqrt(b.size)), math.nan, "blocking")


# ----------------------------------------------------------------------------------- autocorrelations
def tau_int(rho, c: float = SOKAL_C):
    """Integrated autocorrelation time of a normalised autocorrelation function rho(0..L) (rho(0) = 1) with
    Sokal's automatic window: (tau, window, reliable).  ``reliable`` is False when the window did not close
    within the available lags (or hit a NaN lag)."""
    rho = np.asarray(rho, dtype=np.float64)
    tau = 0.5
    for W in range(1, rho.size):
        if not np.isfinite(rho[W]):
            return tau, W - 1, False
        tau += rho[W]
        if W >= c * tau:
            return tau, W, True
    return tau, rho.size - 1, False


def autocorrelation(x, max_lag=None):
    """Normalised autocorrelation rho(k), k = 0..max_lag, of a 1-D series (FFT, biased estimator)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    n = x.size
    L = n - 1 if max_lag is None else min(int(max_lag), n - 1)
    d = x - x.mean()
    f = np.fft.rfft(d, n=2 * n)
    c = np.fft.irfft(f * np.conj(f))[: L + 1] / n
    if not c[0] > 0:
        return np.full(L + 1, np.nan)
    return c / c[0]


def statistics(x, c: float = SOKAL_C) -> Stats:
    """:class:`Stats` of one time series (measurements in order): mean, error sqrt(2 tau_int var / n)
    and tau_int (in measurements) with Sokal's window.  A constant series has error 0 and tau_int NaN."""
    x = np.asarray(x, dtype=np.float64).ravel()
    n = x.size
    if n == 0:
        return Stats(math.nan, math.nan, math.nan, "unavailable")
    mean = float(x.mean())
    var = float(x.var())
    if n < 2 or not var > 0:
        return Stats(mean, 0.0 if n >= 2 else math.nan, math.nan, "autocorrelation")
    tau, _, _ = tau_int(autocorrelation(x), c)
    return Stats(mean, math.sqrt(2.0 * tau * var / n), float(tau), "autocorrelation")


def acf_from_sums(a, total, n, L):
    """Autocovariances C(k), k = 0..L, per chain, from the engine's on-the-fly sums (any leading axes).

    a: dict with ``first`` (the first L values), ``ring`` (the last L values, index j % L), ``lag``
    (sum_{j >= k} x_j x_{j-k}, k = 1..L) and ``sq`` (sum x_j^2); total = sum x_j; n measurements.
    C(k) = sum_{j>=k} x_j x_{j-k} / (n-k) - head_k tail_k / (n-k)^2 with head_k = sum_{j>=k} x_j and
    tail_k = sum_{j<n-k} x_j.  Lags with n - k < 2 are NaN.
    """
    first, ring, lag, sq = a["first"], a["ring"], a["lag"], a["sq"]
    shape = total.shape
    C = np.full(shape + (L + 1,), np.nan)
    C[..., 0] = sq / n - (total / n) ** 2
    cum_first = np.cumsum(first, axis=-1)
    for k in range(1, L + 1):
        nk = n - k
        if nk < 2:
            break
        head = total - cum_first[..., k - 1]
        last = sum(ring[..., (j % L)] for j in range(n - k, n))   # the last k values
        tail = total - last
        C[..., k] = lag[..., k - 1] / nk - head * tail / nk**2
    return C
