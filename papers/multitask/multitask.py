"""Multitasking with diluted patterns (low storage, P = 2, K = 3): amplitudes versus dilution, and the (d, T)
phase diagram -- theory lines, Monte Carlo points.  Public API only.

    python papers/multitask/multitask.py [--out-dir papers/multitask/out] [--fig-dir papers/multitask/figures]
                                         [--quick] [--seed 0]

Patterns xi^mu_i in {-1, 0, +1}, P(0) = d (docs/conventions.md "Diluted patterns").  Left panel: the three
amplitudes m_1 >= m_2 >= m_3 of the global minimum of the low-storage free energy (exact 3^K average,
multi-start: densehebb.phase_diagrams.multitask_global_minimum) versus d at a few temperatures, and the
T = 0 hierarchical closed form m_k = (1 - d) d^(k-1); Monte Carlo points (densehebb.simulate with diluted
patterns, N = 10^4, Glauber dynamics from the hierarchical start sigma_i = xi^k_i at the first non-blank k,
the sorted overlaps |m_mu| level by level, errors over disorder samples).  Right panel: the (d, T) phase
diagram of K = 3 (densehebb.phase_diagrams.dilution_diagram, the same as
``densehebb phase-diagram --P 2 --K 3 --dilution-plane``).

Axes: UNNORMALISED overlaps m_mu = (1/N) sum_i xi^mu_i sigma_i (at most 1 - d) and the plain T = 1/beta of
H = -(N/2) sum_mu m_mu^2 (P = 2), i.e. T_c = 1 - d.  We could not read the papers' bodies, so we do not know
whether their figures divide the overlaps by 1 - d or rescale T; the axes say which convention is drawn.
Writes multitask.png, multitask_summary.json (figures) and the Monte Carlo / diagram netCDF (out).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

import densehebb


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default=os.path.join(here, "out"))
    ap.add_argument("--fig-dir", default=os.path.join(here, "figures"))
    ap.add_argument("--quick", action="store_true", help="smoke run: N = 2000, fewer points, coarse diagram")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    os.makedirs(args.fig_dir, exist_ok=True)
    densehebb.use_compilation_cache()   # before JAX starts: a second run does not recompile
    t0 = time.time()

    import jax
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import densehebb as dh
    from densehebb.phase_diagrams import dilution_diagram, multitask_global_minimum, plot_dilution_diagram

    P, K = 2, 3
    Ts = (0.05, 0.15, 0.25)
    colors = ("C0", "C3", "C2")

    # ---- theory: amplitudes of the global minimum along d at each T (one batched multi-start solve)
    d_th = np.linspace(0.0, 0.95, 40 if args.quick else 96)
    g = multitask_global_minimum(P, K, np.tile(d_th, len(Ts)), np.repeat(Ts, d_th.size))
    theory = {T: g["m"][i * d_th.size:(i + 1) * d_th.size] for i, T in enumerate(Ts)}
    print(f"theory curves: {time.time() - t0:.1f} s", file=sys.stderr)

    # ---- the (d, T) phase diagram of K = 3
    t1 = time.time()
    ds = dilution_diagram(P, K, n_d=25 if args.quick else None, n_T=25 if args.quick else None)
    ds.to_netcdf(os.path.join(args.out_dir, "multitask_diagram_K3.nc"), engine="scipy")
    t_diagram = time.time() - t1
    print(f"phase diagram: {t_diagram:.1f} s", file=sys.stderr)

    # ---- Monte Carlo: N = 10^4, hierarchical start, all temperatures of one d in one run
    N = 2000 if args.quick else 10_000
    d_mc = (0.2, 0.5, 0.8) if args.quick else (0.1, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9)
    n_samples = 2 if args.quick else 4
    sweeps, burn = (60, 20) if args.quick else (300, 100)
    mc = {T: {"d": [], "m": [], "err": [], "n_condensed_counts": []} for T in Ts}
    t1 = time.time()
    for i, d in enumerate(d_mc):
        sim = dh.simulate(jax.random.fold_in(jax.random.key(args.seed), i), dh.Model(P=P, dilution=float(d)), N=N,
                          K=K, T=Ts, n_samples=n_samples, n_replicas=1, sweeps=sweeps, burn_in=burn,
                          init="hierarchical", progress=sys.stderr.isatty())
        sim.to_netcdf(os.path.join(args.out_dir, f"multitask_mc_d{d:.2f}.nc"))
        s = dh.summarize(sim)
        for T in Ts:
            r = s[float(T)]
            mc[T]["d"].append(float(d))
            mc[T]["m"].append([float(x) for x in r["m_levels"]])
            mc[T]["err"].append([float(x) for x in r["m_levels_err"]])
            mc[T]["n_condensed_counts"].append(r["n_condensed_counts"])
        print(f"Monte Carlo d = {d}: {time.time() - t1:.1f} s", file=sys.stderr)
    t_mc = time.time() - t1

    # ---- figure
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(14, 5.4))
    for T, c in zip(Ts, colors):
        m = theory[T]
        for k, ls in zip(range(K), ("-", "--", ":")):
            a1.plot(d_th, m[:, k], ls, color=c, lw=1.3, label=f"theory T = {T}, m_{k + 1}" if k == 0 else None)
        x = np.array(mc[T]["d"])
        y, e = np.array(mc[T]["m"]), np.array(mc[T]["err"])
        for k, mk in zip(range(K), ("o", "s", "^")):
            a1.errorbar(x, y[:, k], yerr=e[:, k], fmt=mk, ms=4, color=c, capsize=2, lw=0.8,
                        label=f"Monte Carlo T = {T}" if k == 0 else None)
    dd = np.linspace(0, 0.95, 200)
    for k in range(K):
        a1.plot(dd, (1 - dd) * dd ** k, color="0.5", lw=0.8, ls="-." if k else "-",
                label="T = 0 hierarchy (1-d) d^(k-1)" if k == 0 else None)
    a1.set_xlabel("dilution d = P(xi = 0)")
    a1.set_ylabel("amplitudes m_k (unnormalised, at most 1 - d)")
    a1.set_title(f"P = 2, K = 3, m_k = (1/N) sum_i xi^k_i sigma_i sorted: solid m_1, dashed m_2, dotted m_3\n"
                 f"Monte Carlo: N = {N}, {n_samples} samples, Glauber, hierarchical start, {sweeps} sweeps "
                 f"({burn} burn-in)", fontsize=8)
    a1.set_xlim(0, 0.95)
    a1.set_ylim(0, 1.0)
    a1.legend(fontsize=7, loc="upper right")
    plot_dilution_diagram(ds, ax=a2)
    fig.tight_layout()
    png = os.path.join(args.fig_dir, "multitask.png")
    fig.savefig(png, dpi=120)

    # theory at the Monte Carlo points, for the summary
    phases = ds["phase"].attrs["flag_meanings"].split()
    chk = {}
    for T in Ts:
        g = multitask_global_minimum(P, K, np.array(mc[T]["d"]), np.full(len(mc[T]["d"]), T))
        y, e = np.array(mc[T]["m"]), np.array(mc[T]["err"])
        chk[str(T)] = {"d": mc[T]["d"], "theory": g["m"].tolist(), "mc": y.tolist(), "mc_err": e.tolist(),
                       "theory_phase": [phases[c] for c in g["phase"].tolist()],
                       "n_condensed_counts": mc[T]["n_condensed_counts"],
                       "max_abs_diff": float(np.max(np.abs(y - g["m"])))}
    summary = {"P": P, "K": K, "T": list(Ts), "N": N, "n_samples": n_samples, "sweeps": sweeps, "burn_in": burn,
               "dynamics": "glauber", "init": "hierarchical", "overlaps": "unnormalised",
               "convention": dh.Model(P=P).convention, "phase_codes": ds["phase"].attrs["flag_meanings"],
               "d_hierarchical_exists_T0": float(ds["d_hierarchical_exists_T0"]),
               "d_hierarchical_global_T0": float(ds["d_hierarchical_global_T0"]),
               "d_landau": float(ds["d_landau"]), "other_states": ds.attrs["other_states"],
               "theory_vs_mc": chk, "seconds_diagram": round(t_diagram, 1), "seconds_mc": round(t_mc, 1),
               "seconds": round(time.time() - t0, 1), "quick": bool(args.quick)}
    with open(os.path.join(args.fig_dir, "multitask_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"wrote {png} ({summary['seconds']} s)")


if __name__ == "__main__":
    main()
