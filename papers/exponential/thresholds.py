"""Exponential network (binary patterns, K = exp(alpha N)): zero-temperature threshold curves and the
capacity-scaling comparison with the P-body networks (docs/theory.md, "Exponential networks").

    python papers/exponential/thresholds.py [--lam 1] [--fig-dir DIR] [--no-mc]
    (1-2 minutes for the theory and the P = 2, 3, 4 capacities; the Monte Carlo census a few minutes more)

Writes thresholds.png (alpha_1, alpha_c against lam for rho = 0, 0.1, 0.2, with the Monte Carlo crossings at
the largest N as points), capacity_scaling.png (log10 K_max against N for P = 2, 3, 4 and the exponential
network) and crossings.png: the zero-temperature census (montecarlo.exponential.census_scan: the fraction of
tested patterns that are single-flip fixed points, lam = 0.25, N = 16..32; the one-step basin from 10%
random errors, lam = 1, N = 10, 20, 30) crosses 1/2 at an alpha that moves toward the theory's alpha_1 as N
grows.  Public API only.
"""
import argparse
import os

import densehebb as dh
from densehebb.montecarlo.exponential import census_scan
from densehebb.phase_diagrams.exponential_plots import capacity_scaling_figure, crossings_figure, thresholds_figure
from densehebb.theory import exponential as ex


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lam", type=float, default=1.0)
    ap.add_argument("--fig-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "figures"))
    ap.add_argument("--no-mc", action="store_true", help="skip the Monte Carlo census")
    ap.add_argument("--samples", type=int, default=2, help="pattern sets per census point (256 patterns tested each)")
    a = ap.parse_args()
    os.makedirs(a.fig_dir, exist_ok=True)
    poly = {}
    for P in (2, 3, 4):
        r = dh.capacity(dh.Model(P=P), T=0.0)
        poly[P] = float(r.alpha_c)
        print(f"P = {P}: alpha_c = {r.alpha_c:.6g} ({r.status})")
    for lam in (1.0, 2.0, float("inf")):
        if lam == float("inf"):
            print("lam = inf: alpha_1 = ln 2, alpha_c = ln 2 / 2")
            continue
        r = dh.capacity(dh.Model(interaction="log-sum-exp", lam=lam))
        rb = dh.capacity(dh.Model(interaction="log-sum-exp", lam=lam), errors=0.1)
        print(f"lam = {lam:g}: alpha_1 = {r.alpha_1:.6f}, alpha_c = {r.alpha_c:.6f}; rho = 0.1: "
              f"alpha_1 = {rb.alpha_1:.6f}, alpha_c = {rb.alpha_c:.6f}")
    mc_points, scans = [], []
    if not a.no_mc:
        grids = ((0.25, 0.0, [16, 20, 24, 28, 32], [0.2 + 0.0125 * k for k in range(17)]),
                 (1.0, 0.1, [10, 20, 30], [0.1 + 0.025 * k for k in range(15)]))
        for lam, rho, Ns, alphas in grids:
            r = census_scan(1, Ns, alphas, lam, errors=rho, n_tested=256, n_samples=a.samples)
            scans.append(r)
            key = "basin_crossing" if rho > 0 else "stable_crossing"
            th = r["alpha_1_basin_theory"] if rho > 0 else r["alpha_1_theory"]
            for N, c, e in zip(r["N"], r[key], r[key + "_err"]):
                print(f"MC lam = {lam:g}, rho = {rho:g}, N = {N}: crossing alpha = {c:.4f} +- {e:.4f} "
                      f"(alpha_1 = {th:.4f})")
            mc_points.append((lam, rho, r[key][-1], r[key + "_err"][-1], f"MC crossing, N = {r['N'][-1]}"))
        crossings_figure(scans).savefig(os.path.join(a.fig_dir, "crossings.png"), dpi=150, bbox_inches="tight")
    thresholds_figure(mc_points=mc_points).savefig(os.path.join(a.fig_dir, "thresholds.png"), dpi=150, bbox_inches="tight")
    capacity_scaling_figure(poly, lam=a.lam).savefig(os.path.join(a.fig_dir, "capacity_scaling.png"), dpi=150,
                                                     bbox_inches="tight")
    print(f"alpha_1 = alpha_c for lam <= {ex.collision_lam():.5f}")
    print("figures in", a.fig_dir)


if __name__ == "__main__":
    main()
