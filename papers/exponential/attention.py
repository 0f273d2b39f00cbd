"""One softmax (attention) step of the continuous modern Hopfield network: the retrieval error against the load,
theory (N -> infinity, and the annealed finite-N crossing) against simulation (docs/theory.md, "Continuous
states: the one-step attention error").

    python papers/exponential/attention.py [--beta 0.5] [--N 12,16,20,24] [--tested 512] [--fig-dir DIR] [--quick]

K = round(exp(alpha N)) Gaussian or spherical patterns, one step x' = Xi softmax(beta Xi^T x) from x = xi^mu
for ``--tested`` patterns per load (montecarlo.attention.scan_alpha: 2 pattern sets, tested/2 patterns each).
Writes attention.png (left: mean error e = |x' - xi|^2 / N against alpha, simulation at each N and the N = infinity
step; right: the fraction of tested patterns whose softmax weight exceeds 1/2, with alpha_1 and the annealed
finite-N alpha_N) and attention.json, and prints the crossings table of the README (the README's N = 28, 32 rows
and 1024 Gaussian tests need ``--N 12,16,20,24,28,32 --tested 1024``: about 15 minutes on 2 cores).
Default run: about 2 minutes on 2 cores; ``--quick`` (N = 12, 16, 128 tests): about 30 s.  Public API only.
"""
import argparse
import json
import os

import numpy as np

from densehebb.montecarlo.attention import crossing, scan_alpha
from densehebb.theory import attention as at

HERE = os.path.dirname(os.path.abspath(__file__))


def run(beta, Ns, tested, kinds=("spherical", "gaussian"), seed=1):
    out = {"beta": beta, "tested": tested, "seed": seed, "kinds": {}}
    for kind in kinds:
        a1 = float(at.alpha_1(beta, kind))
        # the error curve over a wide range, and a fine grid around alpha_1 for the crossing (the spherical
        # fall is sharp, the Gaussian one wide: the target's |xi|^2 fluctuates)
        half = 0.03 if kind == "spherical" else 0.09
        fine = np.round(np.linspace(a1 - half, a1 + half, 13), 5)
        wide = np.round(np.linspace(0.4 * a1, 1.4 * a1, 11), 5)
        alphas = np.unique(np.concatenate([wide, fine]))
        theory = [at.error(float(a), beta, kind) for a in alphas]
        rows = {}
        for N in Ns:
            scan = scan_alpha(N, alphas, beta, kind, n_samples=2, n_tested=max(1, tested // 2), seed=seed)
            c, ce = crossing([r for r in scan if abs(r["alpha"] - a1) <= half + 1e-12], with_error=True)
            rows[N] = {"scan": scan, "crossing": c, "crossing_err": ce,
                       "alpha_N": float(at.alpha_1_finite_n(beta, N, kind)), "K_max": max(r["K"] for r in scan)}
            print(f"{kind:9s} N = {N:2d}: crossing {c:.4f} +- {ce:.4f}  annealed alpha_N {rows[N]['alpha_N']:.4f}  "
                  f"alpha_1 {a1:.4f}  largest K {rows[N]['K_max']}", flush=True)
        out["kinds"][kind] = {"alpha_1": a1, "alphas": alphas.tolist(),
                              "theory_error": [t["error"] for t in theory],
                              "theory_regime": [t["regime"] for t in theory], "N": rows}
    return out


def figure(res, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = list(res["kinds"])
    fig, axes = plt.subplots(len(kinds), 2, figsize=(11, 4.2 * len(kinds)), squeeze=False)
    for row, kind in zip(axes, kinds):
        d = res["kinds"][kind]
        a = np.asarray(d["alphas"])
        Ns = sorted(d["N"], key=int)
        colors = plt.cm.viridis(np.linspace(0.1, 0.85, len(Ns)))
        row[0].plot(a, d["theory_error"], "k-", drawstyle="steps-post", lw=1.5, label=r"N = $\infty$ (theory)")
        for N, c in zip(Ns, colors):
            s = d["N"][N]["scan"]
            row[0].errorbar([r["alpha"] for r in s], [r["error"] for r in s], [r["error_err"] for r in s],
                            fmt="o", ms=3, color=c, label=f"N = {N}")
            row[1].errorbar([r["alpha"] for r in s], [r["retrieved"] for r in s], [r["retrieved_err"] for r in s],
                            fmt="o-", ms=3, lw=0.8, color=c, label=f"N = {N} (crossing {d['N'][N]['crossing']:.4f})")
            row[1].axvline(d["N"][N]["alpha_N"], color=c, ls=":", lw=0.8)
        for ax in row:
            ax.axvline(d["alpha_1"], color="k", ls="--", lw=0.8)
            ax.set_xlabel(r"$\alpha$  (K = exp($\alpha$ N))")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        row[0].set_ylabel(r"mean error $|x' - \xi|^2 / N$")
        row[1].set_ylabel(r"fraction with $p_{target} > 1/2$")
        row[1].axhline(0.5, color="0.5", lw=0.6)
        row[0].set_title(f"{kind} patterns, beta = {res['beta']:g}: one softmax step from a stored pattern")
        row[1].set_title(rf"dashed: $\alpha_1$ = {d['alpha_1']:.4f} (N = $\infty$); dotted: annealed $\alpha_N$")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--beta", type=float, default=0.5)
    ap.add_argument("--N", default="12,16,20,24")
    ap.add_argument("--tested", type=int, default=512)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fig-dir", default=os.path.join(HERE, "figures"))
    ap.add_argument("--quick", action="store_true", help="N = 12, 16 and 128 tested patterns")
    a = ap.parse_args()
    if not 0 < a.beta <= 1:
        ap.error("--beta must lie in (0, 1]: above 1 the Gaussian threshold is condensed (no finite-N theory here)")
    Ns = (12, 16) if a.quick else tuple(int(n) for n in a.N.split(","))
    tested = 128 if a.quick else a.tested
    if min(Ns) < 4 or tested < 2:
        ap.error("--N values must be >= 4 and --tested >= 2")
    os.makedirs(a.fig_dir, exist_ok=True)
    res = run(a.beta, Ns, tested, seed=a.seed)
    res["convention"] = ("one synchronous softmax step x' = Xi softmax(beta Xi^T x), logits beta xi . x, "
                         "K = round(exp(alpha N)); docs/conventions.md 'Continuous states and the attention update'")
    figure(res, os.path.join(a.fig_dir, "attention.png"))
    with open(os.path.join(a.fig_dir, "attention.json"), "w") as f:
        json.dump(res, f, indent=1, default=lambda o: o.item() if hasattr(o, "item") else str(o))
    print("wrote", os.path.join(a.fig_dir, "attention.png"))


if __name__ == "__main__":
    main()
