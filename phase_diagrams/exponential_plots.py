"""Figures of the exponential network's zero-temperature thresholds (theory.exponential; docs/theory.md,
"Exponential networks").  Matplotlib Figures that pyplot does not manage (no display needed; they show
themselves inline in a notebook), like :mod:`phase_diagrams.plotting`.
"""
from __future__ import annotations

import math

import numpy as np

from densehebb.theory import exponential as ex

#: AGS P = 2 capacity, K = 0.138 N (RS, T = 0; densehebb.capacity(Model(P=2)) gives 0.137906)
ALPHA_C_P2 = 0.137906


def polynomial_capacities(Ps=(2, 3, 4)) -> dict:
    """RS T = 0 capacities alpha_c (K = alpha_c N^(P-1), distinct indices) from ``densehebb.capacity``."""
    from .api import capacity
    from densehebb.theory import Model

    out = {}
    for P in Ps:
        r = capacity(Model(P=int(P)), 0.0)
        if not r.converged:
            raise RuntimeError(f"capacity for P = {P} did not converge: {r.status}")
        out[int(P)] = float(r.alpha_c)
    return out


def _figure_and_axes(ax):
    """(figure, axes): a new 6.4 x 4.4 in figure that shows itself in notebooks, or ``ax`` and its figure."""
    if ax is not None:
        return ax.figure, ax
    from .plotting import _figure_class

    fig = _figure_class()(figsize=(6.4, 4.4))
    return fig, fig.add_subplot(1, 1, 1)


def capacity_scaling_figure(polynomial: dict | None = None, lam: float = 1.0, N=None, ax=None):
    """log10 K_max against N: P-body networks (K = alpha_c N^(P-1), ``polynomial`` = {P: alpha_c}; None:
    computed with :func:`polynomial_capacities` for P = 2, 3, 4) and the exponential network at ``lam``
    (K = exp(alpha N) with alpha_c, all patterns, and alpha_1, a typical pattern).  Returns the Figure."""
    if polynomial is None:
        polynomial = polynomial_capacities()
    N = np.geomspace(8, 1024, 200) if N is None else np.asarray(N, dtype=float)
    fig, ax = _figure_and_axes(ax)
    for i, (P, a) in enumerate(sorted(polynomial.items())):
        ax.plot(N, np.log10(a) + (P - 1) * np.log10(N), color=f"C{i}",
                label=f"P = {P}: K = {a:.4g} N" + ("" if P == 2 else f"$^{P - 1}$") + " (RS, T = 0)")
    a1, ac = ex.alpha_1(lam), ex.alpha_c(lam)
    ax.plot(N, ac * N / math.log(10), "k-", label=rf"exponential, $\lambda$ = {lam:g}: K = exp({ac:.4f} N), all patterns")
    ax.plot(N, a1 * N / math.log(10), "k--", label=rf"exponential, $\lambda$ = {lam:g}: K = exp({a1:.4f} N), typical")
    ax.set_xscale("log")
    ax.set_yscale("log")    # log K ~ (P - 1) log N: slopes 0 on this scale, against log K ~ N: slope 1
    ax.set_xlabel("N (neurons)")
    ax.set_ylabel(r"$\log_{10} K_{\max}$")
    ax.set_ylim(0.1, None)
    ax.set_title("capacity scaling: P-body (retrieval branch end) vs exponential (exact T = 0 fixed points)\n"
                 "P-body: distinct indices; exponential: binary patterns, both energies",
                 fontsize=8)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3, which="both")
    return fig


def thresholds_figure(lams=None, rhos=(0.0, 0.1, 0.2), ax=None, mc_points=()):
    """alpha_1(rho, lam) (solid) and alpha_c(rho, lam) (dashed) against lam for a few error fractions rho.
    ``mc_points``: (lam, rho, alpha, alpha_err, label) Monte Carlo crossings (montecarlo.exponential.census_scan)
    drawn as points in the colour of their rho.  Returns the Figure."""
    lams = np.geomspace(0.02, 20, 300) if lams is None else np.asarray(lams, dtype=float)
    fig, ax = _figure_and_axes(ax)
    for i, rho in enumerate(rhos):
        ax.plot(lams, ex.alpha_1(lams, rho), color=f"C{i}", label=rf"$\alpha_1$, $\rho$ = {rho:g}")
        ax.plot(lams, ex.alpha_c(lams, rho), color=f"C{i}", ls="--", label=rf"$\alpha_c$, $\rho$ = {rho:g}")
    for (lam, rho, a, e, label) in mc_points:
        i = list(rhos).index(rho) if rho in rhos else len(rhos)
        ax.errorbar([lam], [a], yerr=[e], fmt="o", ms=4, color=f"C{i}", label=label)
    ax.axhline(math.log(2), color="0.5", lw=0.8, ls=":")
    ax.axhline(math.log(2) / 2, color="0.5", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel(r"$\lambda$")
    ax.set_ylabel(r"$\alpha$  (K = exp($\alpha$ N))")
    ax.set_title("exponential network, binary patterns, T = 0: typical (solid) and all-patterns (dashed)\n"
                 r"thresholds; $\rho$ > 0: one synchronous step from $\rho N$ random errors", fontsize=8)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3, which="both")
    return fig


def crossings_figure(scans, ax=None):
    """Monte Carlo crossings (where half of the tested patterns are single-flip stable, or return in one
    synchronous step from rho N errors) against 1/N, with the asymptotic alpha_1 of theory.exponential as
    horizontal lines at 1/N = 0.  ``scans``: results of montecarlo.exponential.census_scan (dicts; the basin
    crossing is drawn when errors > 0).  Returns the Figure."""
    fig, ax = _figure_and_axes(ax)
    for i, r in enumerate(scans):
        basin = r["errors"] > 0
        c = np.array(r["basin_crossing" if basin else "stable_crossing"], dtype=float)
        e = np.array(r["basin_crossing_err" if basin else "stable_crossing_err"], dtype=float)
        x = 1.0 / np.array(r["N"], dtype=float)
        th = r["alpha_1_basin_theory"] if basin else r["alpha_1_theory"]
        what = rf"basin $\rho$ = {r['errors']:g}" if basin else "fixed points"
        ax.errorbar(x, c, yerr=e, fmt="o-", ms=4, color=f"C{i}",
                    label=rf"$\lambda$ = {r['lam']:g}, {what}: MC crossing (fraction 1/2)")
        ax.plot([0.0], [th], marker="*", ms=10, color=f"C{i}", ls="none",
                label=rf"$\alpha_1$ = {th:.4f} (N $\to\infty$)")
        ax.axhline(th, color=f"C{i}", lw=0.8, ls=":")
    ax.set_xlim(0, None)
    ax.set_xlabel("1/N")
    ax.set_ylabel(r"$\alpha$  (K = exp($\alpha$ N))")
    ax.set_title("exponential network, T = 0: finite-N crossings vs the asymptotic thresholds\n"
                 "(census of tested patterns; both energies share these T = 0 properties)", fontsize=8)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return fig
