"""Monte Carlo points with error bars on the replica theory (P = 2, Hopfield / AGS, distinct indices).

    python papers/mc_overlay/overlay.py [--out-dir papers/mc_overlay/out] [--quick]

Left panel: the retrieval overlap m(T) at fixed load alpha = 0.05: Monte Carlo (N = 1000 and 2000, Glauber
dynamics started at a pattern, errors from disorder samples) on the replica-symmetric retrieval solution,
which ends at the spinodal T_M(alpha).  Finite N smooths the jump at T_M.
Right panel: the fraction of patterns that remain zero-temperature attractors versus alpha for several N
(greedy sequential dynamics started at each pattern), the finite-size estimates alpha_c(N), their
extrapolation alpha_c(N) = alpha_c + a N^-1/2, and the RS capacity alpha_c = 0.1379 from the theory.

Writes mc_overlay.png and the Monte Carlo data (mc_overlay_mT.nc, mc_overlay_capacity.nc, summary JSON).
Plain temperature T = 1/beta and load alpha = K/N (the toolkit's conventions).  Public API only.
"""
import argparse
import json
import os
import sys
import time

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    ap.add_argument("--quick", action="store_true", help="smaller systems and fewer samples (about 30 s)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)

    import jax
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import densehebb as dh
    from densehebb.montecarlo import capacity_curve, extrapolate
    from densehebb.phase_diagrams import T_M

    spec = dh.Model(P=2)
    alpha = 0.05
    t0 = time.time()

    # ---- theory: m(T) along alpha = 0.05 up to the spinodal, and the T = 0 capacity
    t_m = T_M(spec, alpha)
    T_th = np.linspace(0.0, t_m, 200)
    m_th = np.array([float(dh.solve(spec, alpha, t, "retrieval").m) for t in T_th])
    cap = dh.capacity(spec, 0.0)

    # ---- Monte Carlo m(T)
    Ts = np.round(np.arange(0.1, 0.651, 0.05), 3)
    sizes = (500,) if args.quick else (1000, 2000)
    mT = {}
    for N in sizes:
        ds = dh.simulate(jax.random.fold_in(jax.random.key(args.seed), N), spec, N=N, alpha=alpha, T=Ts,
                         n_samples=4 if args.quick else 8, n_replicas=2, sweeps=300, burn_in=100,
                         progress=sys.stderr.isatty())
        ds.to_netcdf(os.path.join(args.out_dir, f"mc_overlay_mT_N{N}.nc"))
        s = dh.summarize(ds)
        mT[N] = (np.array([s[float(t)]["m"] for t in Ts]), np.array([s[float(t)]["m_err"] for t in Ts]))

    # ---- Monte Carlo capacity
    Ns = (200, 400, 800) if args.quick else (500, 1000, 2000)
    cds = capacity_curve(jax.random.key(args.seed), spec, Ns=Ns, n_samples=8 if args.quick else 32, n_starts=16,
                         progress=sys.stderr.isatty())
    cds.to_netcdf(os.path.join(args.out_dir, "mc_overlay_capacity.nc"))
    ex = extrapolate(cds)

    # ---- figure
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.3))
    a1.plot(T_th, m_th, "k-", lw=1.5, label=f"RS theory (T_M = {t_m:.3f})")
    for (N, (m, e)), c in zip(mT.items(), ("C0", "C3")):
        a1.errorbar(Ts, m, yerr=e, fmt="o", ms=4, capsize=2, color=c, label=f"Monte Carlo N = {N}")
    a1.axvline(t_m, color="k", ls=":", lw=0.8)
    a1.set_xlabel("T (plain temperature, T = 1/beta)")
    a1.set_ylabel("retrieval overlap m")
    a1.set_title(f"P = 2, alpha = {alpha}, {spec.convention}")
    a1.set_ylim(0, 1.05)
    a1.legend(fontsize=8, loc="lower left")

    frac = cds["m_final"].values >= np.asarray(ex["threshold"])[:, None, None, None]   # per-N threshold
    for i, N in enumerate(cds["N"].values):
        f = frac[i].mean(axis=(1, 2))
        se = frac[i].mean(axis=2).std(axis=1, ddof=1) / np.sqrt(frac.shape[2])
        a2.errorbar(cds["alpha"].values, f, yerr=se, fmt="o-", ms=3, capsize=2, lw=0.8,
                    label=f"N = {N}: alpha_c(N) = {ex['alpha_c_N'][i]:.3f}")
    a2.axhline(0.5, color="gray", lw=0.6, ls="--")
    a2.axvline(float(cap.alpha_c), color="k", lw=1.2, label=f"RS theory alpha_c = {float(cap.alpha_c):.4f}")
    a2.axvspan(ex["alpha_c_mc"] - ex["alpha_c_mc_err"], ex["alpha_c_mc"] + ex["alpha_c_mc_err"], color="C2",
               alpha=0.3, label=f"MC extrapolation {ex['alpha_c_mc']:.4f} +- {ex['alpha_c_mc_err']:.4f}")
    a2.set_xlabel("alpha = K / N")
    thr = ", ".join(f"{t:.2f}" for t in ex["threshold"])
    a2.set_ylabel(f"fraction retrieved (m_final >= {thr}; {ex['criterion']['name']})")
    a2.set_title("T = 0 capacity: greedy dynamics from each pattern")
    a2.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    png = os.path.join(args.out_dir, "mc_overlay.png")
    fig.savefig(png, dpi=130)

    summary = {"alpha": alpha, "T_M_theory": t_m, "alpha_c_theory_rs": float(cap.alpha_c),
               "alpha_c_mc": ex["alpha_c_mc"], "alpha_c_mc_err": ex["alpha_c_mc_err"], "N_capacity": list(map(int, Ns)),
               "alpha_c_N": ex["alpha_c_N"], "alpha_c_N_err": ex["alpha_c_N_err"], "chi2_dof": ex["chi2_dof"],
               "m_T": {str(N): {"T": Ts.tolist(), "m": m.tolist(), "m_err": e.tolist()} for N, (m, e) in mT.items()},
               "convention": spec.convention, "seconds": time.time() - t0}
    with open(os.path.join(args.out_dir, "mc_overlay_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"wrote {png}")
    print(f"alpha_c: Monte Carlo {ex['alpha_c_mc']:.4f} +- {ex['alpha_c_mc_err']:.4f} "
          f"(N = {', '.join(map(str, Ns))}), RS theory {float(cap.alpha_c):.4f}  [{spec.convention}]")


if __name__ == "__main__":
    main()
