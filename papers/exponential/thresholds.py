"""Exponential network (binary patterns, K = exp(alpha N)): zero-temperature threshold curves and the
capacity-scaling comparison with the P-body networks (docs/theory.md, "Exponential networks").

    python papers/exponential/thresholds.py [--lam 1] [--fig-dir DIR]      (1-2 minutes: the P = 2, 3, 4 capacities)

Writes thresholds.png (alpha_1, alpha_c against lam for rho = 0, 0.1, 0.2) and capacity_scaling.png
(log10 K_max against N for P = 2, 3, 4 and the exponential network).  Monte Carlo points (the fixed-point
census at N = 16..32) are not drawn yet: they come with the exponential Monte Carlo.  Public API only.
"""
import argparse
import os

import densehebb as dh
from densehebb.phase_diagrams.exponential_plots import capacity_scaling_figure, thresholds_figure
from densehebb.theory import exponential as ex


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lam", type=float, default=1.0)
    ap.add_argument("--fig-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "figures"))
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
    thresholds_figure().savefig(os.path.join(a.fig_dir, "thresholds.png"), dpi=150, bbox_inches="tight")
    capacity_scaling_figure(poly, lam=a.lam).savefig(os.path.join(a.fig_dir, "capacity_scaling.png"), dpi=150,
                                                     bbox_inches="tight")
    print(f"alpha_1 = alpha_c for lam <= {ex.collision_lam():.5f}")
    print("figures in", a.fig_dir)


if __name__ == "__main__":
    main()
