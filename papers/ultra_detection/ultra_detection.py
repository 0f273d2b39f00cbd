"""Ultra-detection: at K proportional to N a P = 4 network still recovers the archetype from noisy examples where
P = 2 fails.

    python papers/ultra_detection/ultra_detection.py [--out-dir papers/ultra_detection/figures] [--quick]

Supervised learning from examples (docs/conventions.md "Learning from examples"): K archetypes, M examples of
quality r each, couplings from the class means, Norm = r^P, distinct indices.  The number of archetypes grows
like the number of neurons, K = N / c (default c = 10).  The load alpha = K / N^(P-1) is then

* P = 2: alpha = 1/c = 0.1, high storage; the RS theory (densehebb.solve at alpha = K/N) has a retrieval state
  only for r close to 1: the load noise, enhanced by the examples' noise, destroys it below;
* P = 4: alpha = 1/(c N^2) -> 0, so the load noise vanishes and only the dataset entropy
  rho = (1 - r^2)/(M r^2) is left: the K-finite theory (densehebb.solve at alpha = 0) holds, with m > 0 down to
  small r.

Theory lines m(r) (and the class-mean overlap n(r)) for both P; Monte Carlo points (densehebb.simulate, Glauber
dynamics at temperature T started at the archetype, errors from disorder samples) at N = 1000 (--quick: 400).
Writes ultra_detection.png and ultra_detection.nc (theory and Monte Carlo, with the parameters as attributes).
Plain temperature T = 1/beta.  Public API only.  About 6 minutes of CPU (--quick: about 2); the figure in
figures/ was made with --theory-points 17.
"""
import argparse
import os
import sys
import time

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "figures"))
    ap.add_argument("--quick", action="store_true", help="N = 400, fewer samples and theory points")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--M", type=int, default=11, help="examples per archetype (default 11)")
    ap.add_argument("--c", type=int, default=10, help="K = N / c archetypes (default 10)")
    ap.add_argument("--T", type=float, default=0.05, help="temperature (default 0.05)")
    ap.add_argument("--theory-points", type=int, default=None,
                    help="theory points in r in [0.2, 1] per P (default 9, --quick 5; each P = 2 point compiles "
                         "its own model, about 10 s)")
    args = ap.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)

    import jax
    import matplotlib
    import xarray as xr

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import densehebb as dh

    t0 = time.time()
    M, c, T = args.M, args.c, args.T
    N = 400 if args.quick else 1000
    K = N // c
    Ps = (2, 4)

    def model(P, r):
        return dh.Model(P=P, examples=dh.Examples(M, float(r), supervised=True))

    # ---- theory: P = 2 at alpha = K/N (N -> infinity with K/N fixed), P = 4 at alpha = 0 (K/N^3 -> 0)
    n_th = args.theory_points or (5 if args.quick else 9)
    r_th = np.round(np.linspace(0.2, 1.0, n_th), 4)
    th = {k: np.full((len(Ps), r_th.size), np.nan) for k in ("m", "n")}
    status = np.empty((len(Ps), r_th.size), dtype=object)
    for i, P in enumerate(Ps):
        alpha = 1.0 / c if P == 2 else 0.0
        for j, r in enumerate(r_th):
            res = dh.solve(model(P, r), alpha, T)
            status[i, j] = str(res.status)
            if res.converged:
                th["m"][i, j], th["n"][i, j] = float(res.m), float(res.n)
        print(f"theory P = {P} done ({time.time() - t0:.0f} s)", file=sys.stderr)

    # ---- Monte Carlo at K = N / c
    r_mc = np.array([0.3, 0.4, 0.5, 0.7, 1.0]) if args.quick else np.array([0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    mc = {k: np.full((len(Ps), r_mc.size), np.nan) for k in ("m", "m_err", "n", "n_err")}
    dyn = None
    for i, P in enumerate(Ps):
        for j, r in enumerate(r_mc):
            key = jax.random.fold_in(jax.random.fold_in(jax.random.key(args.seed), P), j)
            ds = dh.simulate(key, model(P, r), N=N, K=K, T=(T,), n_samples=4 if args.quick else 6, n_replicas=2,
                             sweeps=60, burn_in=20, init="pattern")
            dyn = ds.attrs["dynamics"]
            s = dh.summarize(ds)
            for k in mc:
                mc[k][i, j] = s[k]
        print(f"Monte Carlo P = {P} done ({time.time() - t0:.0f} s)", file=sys.stderr)

    out = xr.Dataset(
        {"m_theory": (("P", "r_theory"), th["m"], {"long_name": "archetype overlap, theory (NaN: no retrieval state)"}),
         "n_theory": (("P", "r_theory"), th["n"], {"long_name": "class-mean overlap, theory"}),
         "status_theory": (("P", "r_theory"), status.astype(str)),
         "m_mc": (("P", "r_mc"), mc["m"], {"long_name": "archetype overlap, Monte Carlo"}),
         "m_mc_err": (("P", "r_mc"), mc["m_err"], {"long_name": "standard error over disorder samples"}),
         "n_mc": (("P", "r_mc"), mc["n"], {"long_name": "class-mean overlap, Monte Carlo"}),
         "n_mc_err": (("P", "r_mc"), mc["n_err"]),
         "alpha": (("P",), np.array([K / N ** (P - 1) for P in Ps]), {"long_name": "load K/N^(P-1) of the MC runs"})},
        coords={"P": list(Ps), "r_theory": r_th, "r_mc": r_mc},
        attrs={"title": "ultra-detection: m versus example quality r at K = N/c", "protocol": "supervised",
               "M": M, "c": c, "N": N, "K": K, "T": T, "normalisation": "r (Norm = r^P)",
               "convention": dh.Model(P=2).convention, "dynamics": str(dyn), "init": "pattern (the archetype)",
               "theory": "P = 2: RS at alpha = 1/c (densehebb.solve); P = 4: K-finite, alpha = 0 (densehebb.solve)",
               "seed": args.seed, "densehebb_version": dh.__version__})
    nc = os.path.join(args.out_dir, "ultra_detection.nc")
    out.to_netcdf(nc)

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for i, (P, col) in enumerate(zip(Ps, ("C3", "C0"))):
        lab = f"P = {P}, alpha = 1/{c}, RS theory" if P == 2 else f"P = {P}, alpha = K/N^3 -> 0 (K finite)"
        ax.plot(r_th, th["m"][i], "-", color=col, lw=1.5, label=lab)
        ax.errorbar(r_mc, mc["m"][i], yerr=mc["m_err"][i], fmt="o", ms=4, capsize=2, color=col,
                    label=f"P = {P} Monte Carlo, N = {N}, K = {K}")
    gone = np.isnan(th["m"][0])
    if gone.any():
        ax.axvspan(r_th[0], r_th[gone][-1], color="C3", alpha=0.08, label="P = 2: no RS retrieval state")
    ax.set_xlabel("example quality r")
    ax.set_ylabel("archetype overlap m")
    ax.set_title(f"Ultra-detection, supervised, M = {M}, K = N/{c}, T = {T}")
    ax.set_ylim(-0.02, 1.05)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    png = os.path.join(args.out_dir, "ultra_detection.png")
    fig.savefig(png, dpi=130)
    print(f"wrote {png} and {nc} ({time.time() - t0:.0f} s)")
    for i, P in enumerate(Ps):
        row = ", ".join(f"r={r:g}: {m:.3f}({e * 1000:.0f})" for r, m, e in zip(r_mc, mc["m"][i], mc["m_err"][i]))
        print(f"P = {P} Monte Carlo m: {row}")


if __name__ == "__main__":
    main()
