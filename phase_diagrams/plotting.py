"""Matplotlib figures of phase diagrams."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

STYLE = {"T_g": ("k", "-", r"$T_g$ (spin glass)"), "T_M": ("C0", "-", r"$T_M$ (retrieval appears)"),
         "T_c": ("C3", "-", r"$T_c$ (retrieval global min.)"), "T_AT": ("C2", "--", r"$T_{AT}$ (RS unstable)"),
         "T_s_1rsb": ("C4", "-.", r"$T_s$ 1RSB (static spin glass)"),
         "T_c_1rsb": ("C1", "-", r"$T_c$ 1RSB (retrieval global min.)")}


def plot_phase_diagram(ds, path=None, ax=None, T_max=None):
    """AGS-style figure: the four lines in the (alpha, T) plane plus alpha_c(T)."""
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 4.5))
    a = ds["alpha"].values
    for k, (c, ls, lab) in STYLE.items():
        if k in ds:
            y = ds[k].values
            ax.plot(a, y, color=c, ls=ls, label=lab)
    if "alpha_Tc" in ds:
        ax.plot(ds["alpha_Tc"].values, ds["T"].values, "o", color="C3", ms=2.5, label=r"$\alpha$ at $T_c$ (along $T$)")
    if "alpha_c" in ds:
        ax.plot(ds["alpha_c"].values, ds["T"].values, "o", color="C0", ms=2.5, label=r"$\alpha_c(T)$")
    if "alpha_c_1rsb" in ds:
        ax.plot(ds["alpha_c_1rsb"].values, ds["T_rsb1"].values, "^", color="C1", ms=4,
                label=r"$\alpha_c(T)$ 1RSB")
    if "alpha_Tc_T0_1rsb" in ds:
        ax.plot([float(ds["alpha_Tc_T0_1rsb"])], [0.0], "D", color="C1", ms=5,
                label=r"$f_R = f_{SG}$ at $T=0$, 1RSB")
    if "alpha_c_T0" in ds:
        ax.plot([float(ds["alpha_c_T0"])], [0.0], "s", color="C0", ms=5)
    if "alpha_Tc_T0" in ds:
        ax.plot([float(ds["alpha_Tc_T0"])], [0.0], "s", color="C3", ms=5)
    P = int(ds.attrs.get("P", 2))
    ax.set_xlabel(r"load $\alpha = K/N$" if P == 2 else r"load $\alpha = K/N^{%d}$" % (P - 1))
    ax.set_ylabel(r"temperature $T = 1/\beta$")
    a_max = np.nanmax(a)
    if "alpha_c_1rsb" in ds and np.any(np.isfinite(ds["alpha_c_1rsb"].values)):
        a_max = max(a_max, np.nanmax(ds["alpha_c_1rsb"].values))
    ax.set_xlim(0, max(0.16, a_max * 1.05) if P == 2 else a_max * 1.08)
    if T_max is None:
        ys = [np.nanmax(ds[k].values) for k in STYLE if k in ds and np.any(np.isfinite(ds[k].values))]
        T_max = 1.4 if P == 2 else 1.1 * max(ys)
    ax.set_ylim(0, T_max)
    ax.set_title(f"P = {ds.attrs.get('P')}, {ds.attrs.get('ansatz', '').upper()}, "
                 f"convention: {ds.attrs.get('convention')}", fontsize=9)
    ax.legend(fontsize=8, loc="best")
    if own:
        fig.tight_layout()
        if path:
            fig.savefig(path, dpi=150)
        plt.close(fig)
    return ax
