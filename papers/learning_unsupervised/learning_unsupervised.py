"""Unsupervised learning in dense Hebbian networks, replica-symmetric theory and Monte Carlo (after Agliari,
Albanese, Alemanno, Alessandrelli, Barra, Giannotti, Lotito, Pedreschi, "Dense Hebbian neural networks: a
replica symmetric picture of unsupervised learning", arXiv 2211.14067).

    python papers/learning_unsupervised/learning_unsupervised.py [--out-dir DIR] [--fig-dir DIR] [--quick]
    (2 cores: a few minutes; --quick: fewer P, M, r and a small Monte Carlo, no phase diagram)

Model (docs/conventions.md "Learning from examples"): every example eta^{mu,a} = chi^{mu,a} xi^mu, a = 1..M,
P(chi = +1) = (1 + r)/2, is stored on its own, H = -(1/(M Norm N^(P-1))) sum_mu sum_a e_P(eta^{mu,a} sigma);
dataset entropy rho = (1 - r^2)/(M r^2); distinct-indices energy, Norm = r^P; m = archetype overlap, n =
class-mean overlap, x_a = example overlaps.  The papers' own figures could not be read; the panels below are
the ones their abstracts describe, computed with densehebb's RS theory (theory.learning, theory.low_storage)
and Monte Carlo (dh.simulate).

1. learning_curves_unsupervised.png: m (top) and n (bottom) of the archetype (learning) state versus rho at
   r = 0.4 (M = 1..3000): theory lines for P = 2, 3, 4, (a) low load (K finite) at T = 0 (the majority vote,
   the same for every P and for the supervised network), (b) low load at T' = (P!/2) T = 0.5, (c) high storage
   alpha = ALPHA_HIGH[P] at T = 0, large-M Gaussian (CLT) site average (here the noise of the stored examples,
   xi(1) ~ alpha/(M r^(2P)) at small M, depends on r and M separately, not only on rho).  Points: Monte
   Carlo (Glauber, started at the archetype, error bars from disorder samples): low load K = 2 for P = 2, 3, 4;
   P = 2 at alpha = 0.03.  Where the examples are attractors the chains can leave the archetype for an example
   (m -> r): see figure 3.
2. phase_diagram_unsupervised.png: left, the RS (alpha, T) diagram of P = 4 at r = 0.6, M = 20, with the
   assumed paper temperature on the right axis; right, the thresholds at T = 0: M_min(r) where the archetype
   state exists at alpha = ALPHA_HIGH[P] (lines; Gaussian site average), where it reaches m >= 0.9 at low
   load (dashed, exact sites, the majority vote), and M_example_max(r) (dotted), the largest M at which the
   examples are still attractors at low load, (M - 1) r^(2(P-1)) < 1: between the dashed and dotted lines
   both kinds of attractor coexist.
3. competition_unsupervised.png: K finite, T = 0, r = 0.4, versus M: m of the archetype state and of the
   example state (theory.low_storage.solve_examples: x_1 = 1, m = r, exists up to M_example_max), their free
   energies f_example - f_archetype (the archetype state is the lower one once this is positive), and the
   Monte Carlo chains started at the archetype: m and the largest example overlap x_max (x_max -> 1: the chain
   went to an example).

Writes netCDF data into --out-dir (default papers/learning_unsupervised/out, not committed) and the PNGs and a
JSON summary into --fig-dir (default papers/learning_unsupervised/figures).  Public API only.
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


def competition(Ps, r, Ms):
    """K finite, T = 0: the example state (solve_examples; kept where it is the pure example x_1 = 1 and
    (M - 1) r^(2(P-1)) < 1, example_state_exists_T0; beyond, the iteration from (1, r^2) may settle on a
    partly condensed x > y state, not counted here) and the archetype state (solve_datasets at alpha = 0) versus M."""
    import densehebb as dh
    from densehebb.theory.learning import solve_datasets
    from densehebb.theory.low_storage import example_state_exists_T0, solve_examples

    Ms = np.asarray(Ms, np.int64)
    shape = (len(Ps), Ms.size)
    out = {k: np.full(shape, np.nan) for k in ("m_arch", "n_arch", "f_arch", "m_ex", "x_ex", "y_ex", "f_ex",
                                               "replicon_ex")}
    for j, P in enumerate(Ps):
        R = solve_datasets(lc.spec_of(P, False), 0.0, 0.0, Ms, r, "retrieval")
        ok = np.asarray(R.converged)
        for k in ("m", "n", "f"):
            out[k + "_arch"][j] = np.where(ok, R.values[k], np.nan)
        for i, M in enumerate(Ms):
            if M < 2:
                continue
            model = dh.Model(P=P, storage="low", examples=dh.Examples(M=int(M), r=r, supervised=False))
            E = solve_examples(model, 0.0, "example")
            # the pure example (x_1 = 1) only, and only where it is exact: (M - 1) r^(2(P-1)) < 1 (beyond, the
            # sites that flip it have weights below double precision and the iteration still returns x = 1)
            if E.converged and E.replicon > 0 and E.x > 1 - 1e-9 and example_state_exists_T0(model):
                out["m_ex"][j, i], out["x_ex"][j, i], out["y_ex"][j, i] = E.m, E.x, E.y
                out["f_ex"][j, i], out["replicon_ex"][j, i] = E.f, E.replicon
    import xarray as xr

    doc = {"m_arch": "archetype overlap of the archetype state", "n_arch": "class-mean overlap of the archetype state",
           "f_arch": "free energy per neuron of the archetype state", "m_ex": "archetype overlap of the example state",
           "x_ex": "overlap with the retrieved example", "y_ex": "overlap with the other examples of its class",
           "f_ex": "free energy per neuron of the example state",
           "replicon_ex": "smallest Hessian eigenvalue of the example state (> 0: stable)"}
    ds = xr.Dataset({k: (("P", "M"), v, {"long_name": doc[k], "units": "1"}) for k, v in out.items()},
                    coords={"P": ("P", list(Ps)), "M": ("M", Ms), "rho": ("M", lc.rho_of(Ms, r))})
    ds.attrs.update(r=float(r), T=0.0, storage="low (K finite)")
    return ds


def main(argv=None):
    args, t0 = lc.setup(__doc__, HERE, argv)

    import jax
    from matplotlib.figure import Figure

    q = args.quick
    Ps = (2, 4) if q else lc.PS
    Ps_mc = (4,) if q else lc.PS
    Ms_mc = (2, 16) if q else (2, 8, 32, 128)
    Ms_high = (64,) if q else (4, 16, 64)
    Ms = np.union1d(lc.m_grid(3000, 8 if q else 36), Ms_mc + Ms_high)
    cases = [("low load, T = 0", lambda P: 0.0, lambda P: 0.0, False),
             (f"low load, T' = {lc.T_PAPER_LOW}", lambda P: 0.0, lambda P: lc.t_plain(P, lc.T_PAPER_LOW), False),
             ("high storage, T = 0", lambda P: lc.ALPHA_HIGH[P], lambda P: 0.0, True)]
    log = lambda s: lc.log(s, t0)  # noqa: E731
    spec0 = lc.spec_of(2, False, 1, R_CURVES)

    # ---- theory: learning curves and the K-finite competition
    log("theory: learning curves")
    cur = lc.theory_curves(False, Ps, R_CURVES, Ms, cases)
    lc.write(cur, os.path.join(args.out_dir, "learning_curves_unsupervised.nc"), spec0,
             "unsupervised learning curves m(rho), n(rho), archetype state, RS")
    log("theory: example state vs archetype state (K finite, T = 0)")
    Ms_comp = np.union1d(lc.m_grid(1000, 10 if q else 40), Ms_mc)
    comp = competition(Ps, R_CURVES, Ms_comp)
    lc.write(comp, os.path.join(args.out_dir, "competition_unsupervised.nc"), spec0,
             "unsupervised, K finite, T = 0: example state against archetype state")

    # ---- Monte Carlo
    key = jax.random.key(args.seed)
    N_low, N_high = (300, 300) if q else (2000, 1000)
    mc_low, mc_high = [], []
    for P in Ps_mc:
        log(f"Monte Carlo low load P = {P}, N = {N_low}, K = 2")
        mc_low += lc.mc_points(jax.random.fold_in(key, P), False, P, R_CURVES, Ms_mc, N_low,
                               (0.0, lc.t_plain(P, lc.T_PAPER_LOW)), K=2, n_samples=2 if q else 4)
    log(f"Monte Carlo high storage P = 2, alpha = {lc.ALPHA_HIGH[2]}, N = {N_high}")
    mc_high += lc.mc_points(jax.random.fold_in(key, 100), False, 2, R_CURVES, Ms_high, N_high, (0.0,),
                            alpha=lc.ALPHA_HIGH[2], n_samples=2 if q else 4)
    for rows, name in ((mc_low, "mc_low_load"), (mc_high, "mc_high_storage")):
        lc.write(lc.rows_to_dataset(rows, name), os.path.join(args.out_dir, f"{name}_unsupervised.nc"), spec0,
                 f"unsupervised Monte Carlo, {name}")

    # ---- thresholds at T = 0
    rs = np.linspace(0.1, 0.9, 5 if q else 9)
    log("thresholds M_min(r)")
    thr = lc.thresholds(False, Ps, rs, lambda P: lc.ALPHA_HIGH[P], lambda P: 0.0, "exists",
                         gaussian=True)
    thr_mv = lc.thresholds(False, Ps, rs, lambda P: 0.0, lambda P: 0.0, "overlap", 0.9)
    lc.write(thr, os.path.join(args.out_dir, "thresholds_unsupervised.nc"), spec0,
             "unsupervised threshold for learning, archetype state exists at alpha = ALPHA_HIGH[P], T = 0")
    lc.write(thr_mv, os.path.join(args.out_dir, "thresholds_overlap_unsupervised.nc"), spec0,
             "unsupervised threshold for learning, m >= 0.9 at low load, T = 0, and M_example_max")

    # ---- phase diagram
    pd = None
    if not q:
        pd = lc.diagram(False, PD["P"], PD["r"], PD["M"], 6, 4, t0)
        lc.write(pd, os.path.join(args.out_dir, "phase_diagram_unsupervised.nc"),
                 lc.spec_of(PD["P"], False, PD["M"], PD["r"]), "unsupervised (alpha, T) phase diagram, RS")

    # ---- figures
    log("figures")
    colors = lc.COLORS
    fig, ax = lc.plot_curves(cur, mc_low, mc_high, cases, "unsupervised")
    ax[0, 0].axhline(R_CURVES, color="grey", ls=":", lw=1, label="example state: m = r (M < M_example_max)")
    ax[0, 0].legend(fontsize=7, loc="lower left")
    p1 = os.path.join(args.fig_dir, "learning_curves_unsupervised.png")
    fig.savefig(p1, dpi=120)

    fig = Figure(figsize=(14 if pd is not None else 7, 5))
    axs = np.atleast_1d(fig.subplots(1, 2 if pd is not None else 1))
    if pd is not None:
        lc.plot_diagram(pd, axs[0], PD["P"])
        axs[0].set_title(f"P = {PD['P']}, r = {PD['r']}, M = {PD['M']} (rho = {lc.rho_of(PD['M'], PD['r']):.3g}); "
                         f"{lc.CONV}", fontsize=9)
        axs[0].set_xlabel("alpha = K / N^(P-1)")
    a = axs[-1]
    for j, P in enumerate(thr["P"].values):
        c = colors[int(P)]
        a.semilogy(rs, thr["M_min"].isel(P=j), "o-", ms=3, color=c,
                   label=f"P = {P}: exists at alpha = {lc.ALPHA_HIGH[int(P)]:g} (Gaussian sites)")
        a.semilogy(rs, thr_mv["M_example_max"].isel(P=j), ":", color=c, lw=1.5,
                   label=f"P = {P}: M_example_max (low load)")
    a.semilogy(rs, thr_mv["M_min"].isel(P=0), "k--", lw=1, label="m >= 0.9 at low load (every P)")
    a.set_xlabel("dataset quality r")
    a.set_ylabel("M (examples per archetype)")
    a.set_ylim(0.8, 2e4)
    a.set_title(f"thresholds at T = 0, unsupervised, {lc.CONV}", fontsize=9)
    a.grid(alpha=0.3, which="both")
    a.legend(fontsize=6.5, ncol=2)
    fig.tight_layout()
    p2 = os.path.join(args.fig_dir, "phase_diagram_unsupervised.png")
    fig.savefig(p2, dpi=120)

    fig = Figure(figsize=(14, 4.3))
    ax = fig.subplots(1, 3)
    for j, P in enumerate(comp["P"].values):
        c = colors[int(P)]
        ax[0].semilogx(comp["M"], comp["m_arch"].isel(P=j), "-", color=c, label=f"P = {P}: archetype state")
        ax[0].semilogx(comp["M"], comp["m_ex"].isel(P=j), "--", color=c, lw=2, label=f"P = {P}: example state")
        ax[1].semilogx(comp["M"], comp["x_ex"].isel(P=j), "--", color=c, lw=2)
        ax[1].semilogx(comp["M"], R_CURVES * comp["n_arch"].isel(P=j), "-", color=c)
        ax[2].semilogx(comp["M"], comp["f_ex"].isel(P=j) - comp["f_arch"].isel(P=j), "-", color=c,
                       label=f"P = {P}")
    for P in sorted({d["P"] for d in mc_low}):
        sel = [d for d in mc_low if d["P"] == P and d["T"] == 0]
        for k, var in ((0, "m"), (1, "x_max")):
            ax[k].errorbar([d["M"] for d in sel], [d[var] for d in sel], yerr=[d[var + "_err"] for d in sel],
                           fmt="o", ms=5, capsize=2, color=colors[P], mfc="white",
                           label=f"MC P = {P}, N = {sel[0]['N']}, K = {sel[0]['K']}, T = 0" if k == 0 else None)
    ax[0].set_ylabel("archetype overlap m")
    ax[1].set_ylabel("example overlap x (dashed: x_1 of the example state;\nsolid: r n of the archetype state; "
                     "points: MC x_max)", fontsize=8)
    ax[2].set_ylabel("f_example - f_archetype (per neuron, plain T)")
    ax[2].axhline(0, color="k", lw=0.6)
    for a in ax:
        a.set_xlabel(f"M (examples per archetype), r = {R_CURVES}")
        a.grid(alpha=0.3)
    ax[0].legend(fontsize=6.5, loc="center right")
    ax[2].legend(fontsize=7)
    fig.suptitle(f"unsupervised, K finite, T = 0: examples (storing) against archetype (learning); lines RS theory, "
                 f"points Monte Carlo (Glauber from the archetype); {lc.CONV}", fontsize=10)
    fig.tight_layout()
    p3 = os.path.join(args.fig_dir, "competition_unsupervised.png")
    fig.savefig(p3, dpi=120)

    # ---- summary
    def drop(c, j, level=0.5):
        mm = cur["m"].isel(case=c, P=j).values
        ok = np.flatnonzero(mm >= level)
        return float(cur["rho"].values[ok].max()) if ok.size else None

    def z(rows, case):
        return [(d["m"] - float(cur["m"].isel(case=case(d), P=list(Ps).index(d["P"])).sel(M=d["M"])))
                / max(d["m_err"], 1e-3) for d in rows]

    z_low, z_high = z(mc_low, lambda d: 0 if d["T"] == 0 else 1), z(mc_high, lambda d: 2)
    f_cross = {}
    for j, P in enumerate(comp["P"].values):
        dfe = (comp["f_ex"] - comp["f_arch"]).isel(P=j).values
        pos = np.flatnonzero(dfe > 0)
        f_cross[str(int(P))] = int(comp["M"].values[pos[0]]) if pos.size else None
    summary = {"r_curves": R_CURVES, "convention": "distinct-indices", "normalisation": "r",
               "rho_max_m_ge_0.5": {cases[c][0]: {str(P): drop(c, j) for j, P in enumerate(Ps)} for c in range(3)},
               "M_example_max_T0": {str(int(P)): float(np.nanmax(np.where(np.isfinite(comp["m_ex"].isel(P=j)),
                                                                       comp["M"], np.nan)))
                                    for j, P in enumerate(comp["P"].values)},
               "first_M_with_f_archetype_below_f_example_T0": f_cross,
               "thresholds_exists": {str(int(P)): dict(zip(map(float, rs), map(float, thr["M_min"].isel(P=j).values)))
                                     for j, P in enumerate(thr["P"].values)},
               "M_example_max_vs_r": {str(int(P)): dict(zip(map(float, rs),
                                                            map(float, thr_mv["M_example_max"].isel(P=j).values)))
                                      for j, P in enumerate(thr_mv["P"].values)},
               "mc_low_load": mc_low, "mc_high_storage": mc_high,
               "mc_minus_theory_over_err_low_load": z_low, "mc_minus_theory_over_err_high_storage": z_high,
               "seconds": round(time.time() - t0, 1), "quick": q}
    with open(os.path.join(args.fig_dir, "learning_unsupervised_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    for c in range(3):
        print(f"{cases[c][0]}: largest rho with m >= 0.5: " +
              ", ".join(f"P = {P}: {drop(c, j)}" for j, P in enumerate(Ps)))
    print("K finite, T = 0: largest M with example attractors " + json.dumps(summary["M_example_max_T0"]) +
          "; first M where f_archetype < f_example " + json.dumps(f_cross))
    for d, zz in zip(mc_low + mc_high, z_low + z_high):
        print(f"MC P = {d['P']} N = {d['N']} K = {d['K']} T = {d['T']:.4g} M = {d['M']:3d} rho = {d['rho']:.3g}: "
              f"m = {d['m']:.4f} +- {d['m_err']:.4f} "
              f"(archetype-state theory {d['m'] - zz * max(d['m_err'], 1e-3):.4f}),"
              f" x_max = {d['x_max']:.4f} +- {d['x_max_err']:.4f}")
    print(f"wrote {p1}, {p2}, {p3} in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
