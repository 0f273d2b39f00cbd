"""Dense Hebbian networks beyond replica symmetry (after Albanese, Alemanno, Alessandrelli, Barra,
"Replica symmetry breaking in dense neural networks", J. Stat. Phys. 2022, arXiv 2111.12997).

    python papers/rsb_dense/rsb_dense.py [--P-max 8] [--diagram-P 4] [--skip-diagram] [--skip-table] [--out-dir DIR]
                                         [--fig-dir DIR]
    (2 cores: the table about 4 min, the P = 4 diagram 6 to 11 min)

1. Ground-state capacity alpha_c(P), P = 2..P-max, at RS and 1RSB (T = 0, distinct indices), the 1RSB
   parameters there, and the spin-glass ground-state energies e_SG sqrt(alpha) (RS and 1RSB; P >= 3).
2. The 1RSB phase diagram of one P (default 4): RS lines, the 1RSB capacity at low T, the 1RSB static
   spin-glass line T_s, and the T = 0 retrieval/spin-glass degeneracy point.

Variables.  densehebb uses H = -(1/(P! N^(P-1))) sum over ordered distinct P-tuples (docs/conventions.md),
plain T = 1/beta and alpha = K/N^(P-1).  The Barra-group papers write the P-body Hebbian energy with the
prefactor 1/(2 N^(P-1)), i.e. H_paper = (P!/2) H: then beta' = 2 beta/P! and T' = (P!/2) T at the same
alpha.  We could not read the paper's body to confirm its normalisation, so the figures show both: the
densehebb variables, and the converted ones labelled "assumed T' = (P!/2) T".  Energies convert like T.
Uses the public API only.
"""
import argparse
import math
import os
import sys

import numpy as np
import xarray as xr

import densehebb as dh
from densehebb.phase_diagrams import provenance

ASSUMED = "assumed paper variables: H' = (P!/2) H, T' = (P!/2) T, same alpha (not checked against the paper)"


def capacity_table(P_max):
    Ps = np.arange(2, P_max + 1)
    keys = ("alpha_c_rs", "m_c_rs", "alpha_c_1rsb", "m_c_1rsb", "q0_1rsb", "mu_1rsb", "e_sg_rs", "e_sg_1rsb")
    v = {k: np.full(len(Ps), np.nan) for k in keys}
    for i, P in enumerate(Ps):
        spec = dh.Model(P=int(P))
        rs = dh.capacity(spec, T=0.0)
        v["alpha_c_rs"][i], v["m_c_rs"][i] = rs.alpha_c, rs.m_c
        c = dh.capacity(spec.replace(ansatz="1rsb"), T=0.0)
        if c.converged:
            v["alpha_c_1rsb"][i], v["m_c_1rsb"][i] = c.alpha_c, c.m_c
            v["q0_1rsb"][i], v["mu_1rsb"][i] = c.q0, c.mu
        if P >= 3:  # spin-glass ground state at alpha = 1: f_SG = e_SG sqrt(alpha) exactly for P >= 3
            for ansatz in ("rs", "1rsb"):
                sg = dh.solve(spec.replace(ansatz=ansatz), alpha=1.0, T=0.0, branch="spin-glass")
                v[f"e_sg_{ansatz}"][i] = float(sg.f) if sg.converged else np.nan
        print(f"P = {P}: alpha_c RS {v['alpha_c_rs'][i]:.6g}, 1RSB {v['alpha_c_1rsb'][i]:.6g}"
              f" (ratio {v['alpha_c_1rsb'][i] / v['alpha_c_rs'][i]:.4f}); e_SG/sqrt(alpha) RS "
              f"{v['e_sg_rs'][i]:.6g}, 1RSB {v['e_sg_1rsb'][i]:.6g}", file=sys.stderr)
    doc = {"alpha_c_rs": "RS ground-state capacity", "m_c_rs": "RS overlap at alpha_c",
           "alpha_c_1rsb": "1RSB ground-state capacity", "m_c_1rsb": "1RSB overlap at alpha_c",
           "q0_1rsb": "1RSB q0 at alpha_c (q1 = 1)", "mu_1rsb": "beta x at alpha_c (x -> 0, T -> 0)",
           "e_sg_rs": "RS spin-glass ground-state energy / sqrt(alpha) (P >= 3)",
           "e_sg_1rsb": "1RSB spin-glass ground-state energy / sqrt(alpha) (P >= 3)"}
    ds = xr.Dataset({k: ("P", v[k], {"long_name": doc[k], "units": "1"}) for k in keys},
                    coords={"P": ("P", Ps, {"long_name": "interaction order P", "units": "1"})})
    ds.attrs.update(provenance(dh.Model(P=2, ansatz="1rsb"), title="alpha_c(P) at RS and 1RSB, T = 0",
                               P="2..%d" % P_max, variables_note=ASSUMED))
    return ds


def plot_capacity(ds, path):
    from matplotlib.figure import Figure  # no pyplot: writes the PNG without a display

    P = ds["P"].values
    fig = Figure(figsize=(9, 3.8))
    ax = fig.subplots(1, 2)
    ax[0].semilogy(P, ds["alpha_c_rs"], "o-", label="RS")
    ax[0].semilogy(P, ds["alpha_c_1rsb"], "s--", label="1RSB")
    ax[0].set_xlabel("P")
    ax[0].set_ylabel(r"$\alpha_c = K/N^{P-1}$ at $T = 0$")
    ax[0].legend()
    ax[1].plot(P, ds["alpha_c_1rsb"] / ds["alpha_c_rs"], "s-", color="C1")
    ax[1].set_xlabel("P")
    ax[1].set_ylabel(r"$\alpha_c^{1RSB}/\alpha_c^{RS}$")
    fig.suptitle(f"dense Hebbian network, convention {ds.attrs['convention']} (alpha is the same in the "
                 "assumed paper variables)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=150)


def plot_diagram_paper_axes(ds, path):
    """The 1RSB diagram with T' = (P!/2) T on the vertical axis (assumed paper variables)."""
    P = int(ds.attrs["P"])
    k = math.factorial(P) / 2
    d2 = ds.copy()
    for name in ("T_g", "T_M", "T_c", "T_AT", "T_s_1rsb", "T_c_1rsb"):
        if name in d2:
            d2[name] = d2[name] * k
    d2 = d2.assign_coords(T=d2["T"] * k)
    if "T_rsb1" in d2.coords:
        d2 = d2.assign_coords(T_rsb1=d2["T_rsb1"] * k)
    fig = dh.plot_phase_diagram(d2)
    fig.axes[0].set_ylabel(r"$T' = (P!/2)\,T$  (assumed paper temperature)")
    fig.savefig(path, dpi=150)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    ap.add_argument("--fig-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "figures"))
    ap.add_argument("--P-max", type=int, default=8)
    ap.add_argument("--diagram-P", type=int, default=4)
    ap.add_argument("--skip-diagram", action="store_true")
    ap.add_argument("--skip-table", action="store_true", help="only the phase diagram")
    args = ap.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    os.makedirs(args.fig_dir, exist_ok=True)
    if not args.skip_table:
        ds = capacity_table(args.P_max)
        nc = dh.to_netcdf(ds, os.path.join(args.out_dir, "alpha_c_vs_P.nc"))
        plot_capacity(ds, os.path.join(args.fig_dir, "alpha_c_vs_P.png"))
        print(f"wrote {nc}")
        for P, a, b in zip(ds["P"].values, ds["alpha_c_rs"].values, ds["alpha_c_1rsb"].values):
            print(f"P = {P}: alpha_c RS = {a:.6g}, 1RSB = {b:.6g}")
    if not args.skip_diagram:
        spec = dh.Model(P=args.diagram_P, ansatz="1rsb")
        pd = dh.phase_diagram(spec, progress=sys.stderr.isatty())
        pd.attrs["variables_note"] = ASSUMED
        name = f"phase_diagram_P{args.diagram_P}_1rsb"
        dh.to_netcdf(pd, os.path.join(args.out_dir, name + ".nc"))
        dh.plot_phase_diagram(pd, os.path.join(args.fig_dir, name + ".png"))
        plot_diagram_paper_axes(pd, os.path.join(args.fig_dir, name + "_paper_axes.png"))
        print(f"wrote {args.out_dir}/{name}.nc and {args.fig_dir}/{name}[_paper_axes].png")


if __name__ == "__main__":
    main()
