"""The (alpha, T) phase diagram of the log-sum-exp network (theory.exponential_thermo; docs/theory.md,
"Exponential networks: finite temperature"): a Dataset with dims (lam, alpha, T) and its figure.

Closed forms and SciPy roots only (no JAX): a 3-lam diagram on the default grid takes well under a second.
"""
from __future__ import annotations

import math

import numpy as np
import xarray as xr

from densehebb.theory import exponential_thermo as et
from densehebb.theory.exponential import max_overlap
from densehebb.theory.provenance import dataset_attrs, describe_variables

N_ALPHA, N_T = 241, 241
#: colours of the phase codes (et.PHASES order)
COLORS = ("#f0f0f0", "#d9d9d9", "#fdd0a2", "#c7e9c0", "#74c476")
SHORT = ("paramagnet (uncondensed)", "paramagnet (condensed)", "metastable retrieval",
         "retrieval (by number of states)", "retrieval (each state)")

_VARS = {
    "lam": ("1", "inverse width lambda of the log-sum-exp energy"),
    "alpha": ("1", "pattern exponent alpha = (1/N) ln K (K = exp(alpha N) patterns)"),
    "T": ("1", "temperature T = 1/beta, Gibbs weight exp(-E/T), E = -(1/lam) ln sum_mu exp(lam N m_mu)"),
    "phase": ("1", "equilibrium phase code (attrs flag_values / flag_meanings; names in Dataset attrs phases)"),
    "m": ("1", "overlap tanh(beta) of a retrieval state with its pattern (NaN where no retrieval state: T >= T_M)"),
    "m_max": ("1", "equilibrium value of max_mu m_mu: tanh(beta) in the retrieval phase, x_alpha in the "
                   "paramagnet"),
    "f": ("1", "equilibrium free energy per neuron (min of f_para and f_ret)"),
    "f_para": ("1", "paramagnet free energy per neuron, -T ln 2 - Phi/lam"),
    "f_state": ("1", "free energy per neuron of one retrieval state, -T ln(2 cosh beta) (NaN for T >= T_M)"),
    "f_ret": ("1", "free energy per neuron of the retrieval phase (all K states, complexity alpha), "
                   "-T (ln 2 + alpha + ln cosh beta) (NaN for T >= T_M)"),
    "T_M": ("1", "retrieval spinodal: retrieval states exist below it (tanh beta > Phi/lam)"),
    "T_c": ("1", "thermodynamic transition: the retrieval phase is the equilibrium phase below it"),
    "T_1": ("1", "one retrieval state has a lower free energy than the paramagnet below it"),
    "Phi": ("1", "REM exponent of the pattern sum of a typical configuration, lim (1/N) ln G"),
    "c": ("1", "overlap one pattern needs to carry G, Phi/lam (retrieval needs c < 1)"),
    "condensed": ("1", "1 where the pattern sum is condensed (alpha < alpha_cond), 0 where uncondensed"),
    "x_alpha": ("1", "largest typical overlap among exp(alpha N) patterns, I(x_alpha) = alpha"),
    "alpha_cond": ("1", "condensation of the pattern sum, I(tanh lam) (T-independent)"),
    "alpha_T0": ("1", "end of the retrieval region as T -> 0, ln 2 - ln(1 + exp(-2 lam)); T_M, T_c, T_1 -> 0 there"),
}


def default_grids(lams, n_alpha=N_ALPHA, n_T=N_T, T_max=None):
    """alpha in (0, ln 2] (linear, n_alpha points), T geometric from 0.01/max(lam) to T_max (default
    4/min(lam))."""
    lams = np.asarray(lams, dtype=np.float64)
    alphas = np.linspace(math.log(2) / n_alpha, math.log(2), n_alpha)
    T_max = 4.0 / lams.min() if T_max is None else float(T_max)
    Ts = np.geomspace(min(0.01 / lams.max(), T_max / 10), T_max, n_T)
    return alphas, Ts


def exponential_diagram(lams, n_alpha=N_ALPHA, n_T=N_T, T_max=None, requested_interaction="log-sum-exp",
                        command=None) -> xr.Dataset:
    """The (alpha, T) phase diagram of the log-sum-exp energy for every lam in ``lams``.

    ``requested_interaction`` "exponential" (the Demircigil energy -G, whose Gibbs measure at any fixed T > 0
    is its T = 0 one as N -> infinity) records that the log-sum-exp diagram was computed in its place."""
    lams = [float(x) for x in np.atleast_1d(lams)]
    if not lams or any(not (math.isfinite(x) and x > 0) for x in lams):
        raise ValueError(f"lam values must be finite and > 0, got {lams!r}")
    if len(set(lams)) != len(lams):
        raise ValueError("lam values must be distinct")
    if requested_interaction not in ("log-sum-exp", "exponential"):
        raise ValueError(f"requested_interaction: log-sum-exp or exponential, got {requested_interaction!r}")
    alphas, Ts = default_grids(lams, n_alpha, n_T, T_max)
    nl, na, nt = len(lams), len(alphas), len(Ts)
    grid = {k: np.full((nl, na, nt), np.nan) for k in ("m", "m_max", "f", "f_para", "f_state", "f_ret")}
    phase = np.zeros((nl, na, nt), dtype=np.int8)
    line = {k: np.full((nl, na), np.nan) for k in ("T_M", "T_c", "T_1", "Phi", "c")}
    cond = np.zeros((nl, na), dtype=np.int8)
    for i, lam in enumerate(lams):
        for j, a in enumerate(alphas):
            fe = et.free_energies(a, Ts, lam)
            for k in grid:
                grid[k][i, j] = fe[k]
            phase[i, j] = fe["phase"]
            for k in line:
                line[k][i, j] = fe[k]
            cond[i, j] = fe["regime"] == "condensed"
    dims3, dims2 = ("lam", "alpha", "T"), ("lam", "alpha")
    ds = xr.Dataset({**{k: (dims3, v) for k, v in grid.items()}, "phase": (dims3, phase),
                     **{k: (dims2, v) for k, v in line.items()}, "condensed": (dims2, cond),
                     "x_alpha": (("alpha",), np.array([max_overlap(a) for a in alphas])),
                     "alpha_cond": (("lam",), np.asarray(et.alpha_cond(np.array(lams)), dtype=np.float64)),
                     "alpha_T0": (("lam",), np.asarray(et.alpha_T0(np.array(lams)), dtype=np.float64))},
                    coords={"lam": np.array(lams), "alpha": alphas, "T": Ts})
    ds["phase"].attrs.update(flag_values=np.arange(len(et.PHASES), dtype=np.int8),
                             flag_meanings=" ".join(p.replace(", ", "_").replace(" ", "_") for p in et.PHASES))
    note = ("" if requested_interaction == "log-sum-exp" else
            "requested: exponential (E = -sum_mu exp(lam N m_mu)); its Gibbs weights exp(beta G) are doubly "
            "exponential in N, so at any fixed T > 0 its measure is the T = 0 one as N -> infinity; the diagram "
            "is that of the log-sum-exp energy, Gibbs weight G^(1/(lam T)) (docs/theory.md)")
    attrs = dataset_attrs(None, command=command,
                          title="log-sum-exp network: (alpha, T) phase diagram (REM treatment of the pattern sum)",
                          interaction="log-sum-exp", requested_interaction=requested_interaction,
                          convention="log-sum-exp", energy=et.ENERGY,
                          load="alpha = (1/N) ln K, K = exp(alpha N) Rademacher patterns",
                          temperature="T = 1/beta, Gibbs weight exp(-E/T) with the O(N) log-sum-exp energy",
                          theory="docs/theory.md, 'Exponential networks: finite temperature'",
                          convention_section="docs/conventions.md, 'Exponential networks'",
                          method="closed forms and SciPy brentq roots (theory.exponential_thermo), float64",
                          phases=" | ".join(f"{i}: {p}" for i, p in enumerate(et.PHASES)),
                          phase_notes=" | ".join(f"{i}: {p}" for i, p in enumerate(et.PHASE_NOTES)),
                          lines_note="T_1 < T_c <= T_M; T_c = T_M (continuous) where the pattern sum is condensed, "
                                     "T_c < T_M (first order) where it is uncondensed; NaN: no retrieval "
                                     "(alpha >= alpha_T0)",
                          note=note or None)
    ds.attrs.update(attrs)
    describe_variables(ds, _VARS)
    return ds


def plot_exponential_diagram(ds, path=None, dpi=150):
    """One panel per lam: the equilibrium phases as colours, T_M, T_c, T_1, the condensation line, log T
    axis.  Returns the Figure (written to ``path`` if given)."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from .plotting import _figure_class

    lams = ds["lam"].values
    fig = _figure_class()(figsize=(4.6 * len(lams) + 0.4, 4.8), layout="constrained")
    axes = fig.subplots(1, len(lams), squeeze=False)[0]
    a, T = ds["alpha"].values, ds["T"].values
    cmap = ListedColormap(COLORS)
    for ax, lam in zip(axes, lams):
        d = ds.sel(lam=lam)
        ax.pcolormesh(a, T, d["phase"].values.T, cmap=cmap, vmin=-0.5, vmax=len(COLORS) - 0.5, shading="nearest")
        ax.plot(a, d["T_M"].values, "k--", lw=1.2, label=r"$T_M$ (retrieval spinodal)")
        ax.plot(a, d["T_c"].values, "k-", lw=1.8, label=r"$T_c$ (retrieval phase)")
        ax.plot(a, d["T_1"].values, "C0:", lw=1.6, label=r"$T_1$ (one state beats paramagnet)")
        ac, a0 = float(d["alpha_cond"]), float(d["alpha_T0"])
        ax.axvline(ac, color="C3", ls="-.", lw=1.0, label=r"$\alpha_{cond}$ (condensation of the pattern sum)")
        ax.plot([a0], [T[0]], "kv", ms=7, clip_on=False, label=r"$\alpha_0$: end of retrieval as $T\to 0$")
        ax.set_yscale("log")
        ax.set_xlim(0, a[-1])
        ax.set_ylim(T[0], T[-1])
        ax.set_xlabel(r"$\alpha = (1/N)\ln K$")
        ax.set_ylabel(r"$T$ (Gibbs weight $e^{-E/T}$, $E = -\lambda^{-1}\ln\sum_\mu e^{\lambda N m_\mu}$)", fontsize=8)
        ax.set_title(rf"log-sum-exp, $\lambda$ = {lam:g}: $\alpha_{{cond}}$ = {ac:.4f}, $\alpha_0$ = {a0:.4f}",
                     fontsize=9)
    h, lab = axes[0].get_legend_handles_labels()
    ph = ds["phase"].values
    patches = [Patch(facecolor=COLORS[k], edgecolor="0.5", label=SHORT[k]) for k in range(len(COLORS))
               if np.any(ph == k)]
    fig.legend(h + patches, lab + [p.get_label() for p in patches], fontsize=7, loc="outside lower center",
               ncol=min(5, 1 + 2 * len(lams)), framealpha=0.9)
    req = ds.attrs.get("requested_interaction", "log-sum-exp")
    if req != "log-sum-exp":
        fig.suptitle("requested --interaction exponential: drawn for its finite-T version,\nthe log-sum-exp "
                     "measure G^(1/(lam T))", fontsize=8)
    if path:
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return fig
