"""Amit, Gutfreund, Sompolinsky, Ann. Phys. 173, 30 (1987): the (alpha, T) phase diagram of the Hopfield
model (their Fig. 1): T_g, T_M, T_c and the RS-instability line T_AT (their T_R), with the capacity.

    python papers/ags1987/phase_diagram.py [--out-dir papers/ags1987/out]

Writes ags1987_phase_diagram.nc (all lines, with provenance) and ags1987_phase_diagram.png.
Axes: AGS use the same plain temperature T = 1/beta and load alpha = K/N as densehebb (distinct indices).
Uses the public API only.
"""
import argparse
import os
import sys

import numpy as np

import densehebb as dh


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    args = ap.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    alphas = np.unique(np.round(np.concatenate([
        [1e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 7.5e-3], np.arange(0.01, 0.1376, 0.0025),
        np.linspace(0.05, 0.0518, 7), [0.136, 0.137, 0.1375, 0.1378, 0.13789]]), 6))
    Ts = np.round(np.arange(0.0, 0.9751, 0.0125), 6)
    ds = dh.phase_diagram(dh.Model(P=2), alphas=alphas, Ts=Ts, progress=sys.stderr.isatty())
    ds.attrs["reproduces"] = "Amit, Gutfreund, Sompolinsky, Ann. Phys. 173, 30 (1987), Fig. 1"
    nc = dh.to_netcdf(ds, os.path.join(args.out_dir, "ags1987_phase_diagram.nc"))
    png = os.path.join(args.out_dir, "ags1987_phase_diagram.png")
    dh.plot_phase_diagram(ds, png)
    print(f"wrote {nc} and {png}")
    print(f"alpha_c(T=0) = {float(ds['alpha_c_T0']):.6f}, m_c = {float(ds['m_c_T0']):.6f}, "
          f"T_c meets T=0 at alpha = {float(ds['alpha_Tc_T0']):.6f}  [convention: {ds.attrs['convention']}]")


if __name__ == "__main__":
    main()
