"""Supervised learning in dense Hebbian networks, replica-symmetric theory and Monte Carlo (after Agliari,
Albanese, Alemanno, Alessandrelli, Barra, Giannotti, Lotito, Pedreschi, "Dense Hebbian neural networks: a
replica symmetric picture of supervised learning", Physica A 626 (2023) 129076, arXiv 2212.00606).

    python papers/learning_supervised/learning_supervised.py [--out-dir DIR] [--fig-dir DIR] [--quick]
    (2 cores: a few minutes; --quick: fewer P, M, r and a small Monte Carlo, no phase diagram)

Model (docs/conventions.md "Learning from examples"): the couplings are built from the class means
xibar^mu = (1/M) sum_a eta^{mu,a} of M examples eta = chi xi per archetype, P(chi = +1) = (1 + r)/2, dataset
entropy rho = (1 - r^2)/(M r^2); distinct-indices energy, Norm = r^P; m = archetype overlap, n = class-mean
overlap.  The papers' own figures could not be read; the panels below are the ones their abstracts describe
(performance versus the quality r and quantity M of the dataset, the load and the noise), computed with
densehebb's RS theory (theory.learning) and Monte Carlo (dh.simulate).

1. learning_curves_supervised.png: m (top) and n (bottom) versus rho at r = 0.4 (M = 1..3000): theory lines
   for P = 2, 3, 4 in three regimes, (a) low load (K finite) at T = 0, where the archetype state is the
   majority vote sign(S) and m does not depend on P, (b) low load at T' = (P!/2) T = 0.5, (c) high storage
   alpha = ALPHA_HIGH[P] (about a fifth of each P's plain capacity) at T = 0, with the large-M Gaussian (CLT)
   site average s = 1 + sqrt(rho) z (the exact binomial sums are slow there; M = 1 is then not exact).
   Points: Monte Carlo (Glauber, started at the archetype, error bars from disorder samples), low load K = 3
   for P = 2, 3, 4 in (a), (b); P = 2 at alpha = 0.03 in (c).
2. phase_diagram_supervised.png: left, the RS (alpha, T) diagram of P = 4 at r = 0.6, M = 20 (T_M of the
   archetype state, T_c, T_g, T_AT, alpha_c(T)), with the assumed paper temperature T' on the right axis;
   right, the threshold for learning M_min(r) at T = 0: the archetype state reaches m >= 0.9 at alpha =
   ALPHA_HIGH[P] (lines; large-M Gaussian site average; for P >= 3 it exists down to M = 1), and at low load
   (dashed; exact sites; the majority vote, the same for every P).

Writes netCDF data into --out-dir (default papers/learning_supervised/out, not committed) and the PNGs and a
JSON summary into --fig-dir (default papers/learning_supervised/figures).  Public API only.
"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import learning_common as lc  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
R_CURVES = 0.4
PD = dict(P=4, r=0.6, M=20)


def main(argv=None):
    args, t0 = lc.setup(__doc__, HERE, argv)

    import jax
    from matplotlib.figure import Figure

    q = args.quick
    Ps = (2, 4) if q else lc.PS
    Ps_mc = (2,) if q else lc.PS
    Ms_mc = (1, 4, 16)
    Ms_high = (16,) if q else (4, 16, 64)
    Ms = np.union1d(lc.m_grid(3000, 8 if q else 36), Ms_mc + Ms_high)     # the Monte Carlo M are on the theory grid
    cases = [("low load, T = 0", lambda P: 0.0, lambda P: 0.0, False),
             (f"low load, T' = {lc.T_PAPER_LOW}", lambda P: 0.0, lambda P: lc.t_plain(P, lc.T_PAPER_LOW), False),
             ("high storage, T = 0", lambda P: lc.ALPHA_HIGH[P], lambda P: 0.0, True)]
    log = lambda s: lc.log(s, t0)  # noqa: E731

    # ---- theory: learning curves
    log("theory: learning curves")
    cur = lc.theory_curves(True, Ps, R_CURVES, Ms, cases)
    lc.write(cur, os.path.join(args.out_dir, "learning_curves_supervised.nc"), lc.spec_of(2, True, 1, R_CURVES),
             "supervised learning curves m(rho), n(rho), archetype state, RS")

    # ---- Monte Carlo
    key = jax.random.key(args.seed)
    N_low, N_high = (300, 300) if q else (2000, 1000)
    mc_low, mc_high = [], []
    for P in Ps_mc:
        log(f"Monte Carlo low load P = {P}, N = {N_low}, K = 3")
        mc_low += lc.mc_points(jax.random.fold_in(key, P), True, P, R_CURVES, Ms_mc, N_low,
                               (0.0, lc.t_plain(P, lc.T_PAPER_LOW)), K=3, n_samples=2 if q else 4)
    log(f"Monte Carlo high storage P = 2, alpha = {lc.ALPHA_HIGH[2]}, N = {N_high}")
    mc_high += lc.mc_points(jax.random.fold_in(key, 100), True, 2, R_CURVES, Ms_high, N_high, (0.0,),
                            alpha=lc.ALPHA_HIGH[2], n_samples=2 if q else 4)
    for rows, name in ((mc_low, "mc_low_load"), (mc_high, "mc_high_storage")):
        lc.write(lc.rows_to_dataset(rows, name), os.path.join(args.out_dir, f"{name}_supervised.nc"),
                 lc.spec_of(2, True, 1, R_CURVES), f"supervised Monte Carlo, {name}")

    # ---- thresholds at T = 0
    rs = np.linspace(0.1, 0.9, 5 if q else 9)
    log("thresholds M_min(r)")
    # at high storage the archetype state of P >= 3 exists down to M = 1 here (the class-mean signal grows
    # with rho as fast as the noise), so the threshold asks for m >= 0.9
    thr = lc.thresholds(True, Ps, rs, lambda P: lc.ALPHA_HIGH[P], lambda P: 0.0, "overlap", 0.9,
                        gaussian=True)
    thr_mv = lc.thresholds(True, Ps[:1] if q else Ps, rs, lambda P: 0.0, lambda P: 0.0, "overlap", 0.9)
    lc.write(thr, os.path.join(args.out_dir, "thresholds_supervised.nc"), lc.spec_of(2, True),
             "supervised threshold for learning, m >= 0.9 at alpha = ALPHA_HIGH[P], T = 0")
    lc.write(thr_mv, os.path.join(args.out_dir, "thresholds_overlap_supervised.nc"), lc.spec_of(2, True),
             "supervised threshold for learning, m >= 0.9 at low load, T = 0")

    # ---- phase diagram
    pd = None
    if not q:
        pd = lc.diagram(True, PD["P"], PD["r"], PD["M"], 6, 4, t0)
        lc.write(pd, os.path.join(args.out_dir, "phase_diagram_supervised.nc"),
                 lc.spec_of(PD["P"], True, PD["M"], PD["r"]), "supervised (alpha, T) phase diagram, RS")

    # ---- figures
    log("figures")
    conv = lc.CONV
    colors = lc.COLORS
    fig, ax = lc.plot_curves(cur, mc_low, mc_high, cases, "supervised")
    p1 = os.path.join(args.fig_dir, "learning_curves_supervised.png")
    fig.savefig(p1, dpi=120)

    fig = Figure(figsize=(14 if pd is not None else 7, 5))
    axs = fig.subplots(1, 2 if pd is not None else 1)
    axs = np.atleast_1d(axs)
    if pd is not None:
        lc.plot_diagram(pd, axs[0], PD["P"])
        axs[0].set_title(f"P = {PD['P']}, r = {PD['r']}, M = {PD['M']} (rho = {lc.rho_of(PD['M'], PD['r']):.3g}); "
                         f"{conv}", fontsize=9)
        axs[0].set_xlabel("alpha = K / N^(P-1)")
    a = axs[-1]
    for j, P in enumerate(thr["P"].values):
        a.semilogy(rs, thr["M_min"].isel(P=j), "o-", ms=3, color=colors[int(P)],
                   label=f"P = {P}: m >= 0.9 at alpha = {lc.ALPHA_HIGH[int(P)]:g} (Gaussian sites)")
    for j, P in enumerate(thr_mv["P"].values):
        a.semilogy(rs, thr_mv["M_min"].isel(P=j), "--", color=colors[int(P)], lw=1,
                   label="m >= 0.9 at low load (exact sites; every P)" if j == 0 else None)
    a.set_xlabel("dataset quality r")
    a.set_ylabel("threshold M_min (examples per archetype)")
    a.set_title(f"threshold for learning at T = 0, supervised, {conv}", fontsize=9)
    a.grid(alpha=0.3, which="both")
    a.legend(fontsize=7)
    fig.tight_layout()
    p2 = os.path.join(args.fig_dir, "phase_diagram_supervised.png")
    fig.savefig(p2, dpi=120)

    # ---- summary
    def drop(c, j, level=0.5):
        """largest rho at which the theory m still reaches ``level``"""
        mm = cur["m"].isel(case=c, P=j).values
        ok = np.flatnonzero(mm >= level)
        return float(cur["rho"].values[ok].max()) if ok.size else None

    def z(rows, case):
        return [(d["m"] - float(cur["m"].isel(case=case(d), P=list(Ps).index(d["P"])).sel(M=d["M"])))
                / max(d["m_err"], 1e-3) for d in rows]

    z_low, z_high = z(mc_low, lambda d: 0 if d["T"] == 0 else 1), z(mc_high, lambda d: 2)
    summary = {"r_curves": R_CURVES, "convention": "distinct-indices", "normalisation": "r",
               "rho_max_m_ge_0.5": {cases[c][0]: {str(P): drop(c, j) for j, P in enumerate(Ps)} for c in range(3)},
               "thresholds_m_ge_0.9_high_storage": {
                   str(int(P)): dict(zip(map(float, rs), map(float, thr["M_min"].isel(P=j).values)))
                   for j, P in enumerate(thr["P"].values)},
               "mc_low_load": mc_low, "mc_high_storage": mc_high,
               "mc_minus_theory_over_err_low_load": z_low, "mc_minus_theory_over_err_high_storage": z_high,
               "seconds": round(time.time() - t0, 1), "quick": q}
    if pd is not None:
        summary["phase_diagram"] = {k: np.nan_to_num(pd[k].values, nan=-1).tolist() for k in ("T_M", "T_c")}
        summary["phase_diagram"]["alpha"] = pd["alpha"].values.tolist()
    with open(os.path.join(args.fig_dir, "learning_supervised_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    for c in range(3):
        print(f"{cases[c][0]}: largest rho with m >= 0.5: " +
              ", ".join(f"P = {P}: {drop(c, j)}" for j, P in enumerate(Ps)))
    for d, zz in zip(mc_low + mc_high, z_low + z_high):
        print(f"MC P = {d['P']} N = {d['N']} K = {d['K']} T = {d['T']:.4g} M = {d['M']:3d} rho = {d['rho']:.3g}: "
              f"m = {d['m']:.4f} +- {d['m_err']:.4f} (theory {d['m'] - zz * max(d['m_err'], 1e-3):.4f}), "
              f"n = {d['n']:.4f} +- {d['n_err']:.4f}")
    print(f"wrote {p1}, {p2} in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
