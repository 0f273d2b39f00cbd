"""Dense Hebbian networks on real data: scikit-learn's handwritten digits (8 x 8, no download), retrieval quality
versus the interaction order P and versus the number M of examples per class, supervised and unsupervised.

    pip install 'densehebb[digits]'          # scikit-learn, an optional extra
    python papers/digits/digits.py [--out-dir papers/digits/figures] [--seeds 3] [--starts 10] [--quick]

Data: sklearn.datasets.load_digits (1797 images, 10 classes, 174..183 per class), binarised grey level > 8 (of
0..16) -> +1, else -1 (densehebb.montecarlo.realdata.DIGITS_THRESHOLD), N = 64.  Model
(densehebb.montecarlo.realdata): M examples per class chosen at random (explicit keys); supervised couplings
from the class means, unsupervised from every example; distinct-indices energy, Norm = 1.  Every chain starts
at one of the class's stored examples with 20% of its pixels (13 of 64) flipped and runs zero-temperature
sequential greedy dynamics (strict descent) to a fixed point.

Reported (means over classes, starts and seeds; error bars: standard error over seeds):

* mean_overlap: (1/N) sgn(class mean) . sigma, the overlap of the final state with the binarised class mean;
* nearest_overlap: the largest overlap of the final state with a stored example of its own class;
* correct_fraction: how often the stored example nearest to the final state belongs to the chain's class;
* start_mean_overlap: the same overlap of the corrupted start (the baseline).

Sweeps: P = 2..8 at M = --M-at-P (default 10); M = 1, 2, 5, 10, 20, 50, 100, 174 (all of the smallest class)
at P = --P-at-M (default 6).  Writes digits_summary.json, digits_vs_P.png, digits_vs_M.png and the grids
digits_grid_{supervised,unsupervised}.png (one chain per class at P = --P-at-M, M = --M-at-P) into --out-dir.
The overlaps are what the runs give; nothing is asserted about them.  About 2 minutes on 2 cores
(--quick: P = 2, 4, 8 and M = 1, 10, 174, one seed, 3 starts: about 40 s).
"""
import argparse
import json
import os
import sys
import time

KEYS = ("mean_overlap", "mean_cosine", "nearest_overlap", "correct_fraction", "start_mean_overlap",
        "stable_fraction")


def _point(rd, data, P, M, supervised, seeds, starts):
    """Means over seeds (each a mean over classes and starts) and standard errors over seeds."""
    import numpy as np

    recs = [rd.retrieve(s, data, P, M=M, supervised=supervised, corrupt_fraction=0.2, starts=starts).record
            for s in seeds]
    out = {"P": P, "M": M, "dataset": "supervised" if supervised else "unsupervised", "seeds": list(seeds),
           "convention": recs[0]["convention"], "dynamics": recs[0]["dynamics"], "T": recs[0]["T"],
           "exact_arithmetic": all(r["exact_arithmetic"] for r in recs)}
    for k in KEYS:
        v = np.array([r[k] for r in recs])
        out[k] = float(v.mean())
        out[k + "_err"] = float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else None
    return out


def _plot(rows, xkey, path, title):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 3.4))
    axes = fig.subplots(1, 3)
    for ax, key, lab in zip(axes, ("mean_overlap", "nearest_overlap", "correct_fraction"),
                            ("overlap with sgn(class mean)", "overlap with nearest stored example of the class",
                             "nearest stored example in the right class")):
        for ds, style in (("supervised", "o-"), ("unsupervised", "s--")):
            pts = [r for r in rows if r["dataset"] == ds]
            x = [r[xkey] for r in pts]
            y = [r[key] for r in pts]
            e = [r[key + "_err"] or 0.0 for r in pts]
            ax.errorbar(x, y, yerr=e, fmt=style, ms=4, capsize=2, label=ds)
        if key == "mean_overlap":
            base = [r["start_mean_overlap"] for r in rows]
            ax.axhline(sum(base) / len(base), color="grey", lw=0.8, ls=":", label="corrupted start")
        ax.set_xlabel(xkey)
        ax.set_title(lab, fontsize=9)
        ax.set_ylim(-0.02 if key == "correct_fraction" else None, 1.02)
        if xkey == "M":
            ax.set_xscale("log")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "figures"))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--starts", type=int, default=10, help="chains per class and seed")
    ap.add_argument("--P-at-M", type=int, default=6, help="P of the sweep in M")
    ap.add_argument("--M-at-P", type=int, default=10, help="M of the sweep in P")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)

    from densehebb.montecarlo import realdata as rd

    t0 = time.time()
    X, y = rd.digits_arrays()
    data = rd.validate(X, y, (8, 8), {"source": "sklearn.datasets.load_digits", "threshold": rd.DIGITS_THRESHOLD})
    m_all = int(data.counts.min())
    Ps = [2, 4, 8] if args.quick else [2, 3, 4, 5, 6, 7, 8]
    Ms = [1, 10, m_all] if args.quick else [1, 2, 5, 10, 20, 50, 100, m_all]
    seeds = range(1 if args.quick else args.seeds)
    starts = 3 if args.quick else args.starts
    os.makedirs(args.out_dir, exist_ok=True)
    vs_P, vs_M = [], []
    for sup in (True, False):
        for P in Ps:
            vs_P.append(_point(rd, data, P, args.M_at_P, sup, seeds, starts))
            print(f"M = {args.M_at_P:3d} P = {P} {vs_P[-1]['dataset']:>12}: " +
                  " ".join(f"{k} {vs_P[-1][k]:.3f}" for k in KEYS[:4]), flush=True)
        for M in Ms:
            vs_M.append(_point(rd, data, args.P_at_M, M, sup, seeds, starts))
            print(f"P = {args.P_at_M} M = {M:3d} {vs_M[-1]['dataset']:>12}: " +
                  " ".join(f"{k} {vs_M[-1][k]:.3f}" for k in KEYS[:4]), flush=True)
    common = (f"digits (N = 64, 10 classes, pixel > {rd.DIGITS_THRESHOLD} -> +1), 20% of pixels flipped, "
              "greedy T = 0, distinct indices")
    _plot(vs_P, "P", os.path.join(args.out_dir, "digits_vs_P.png"), f"M = {args.M_at_P}; " + common)
    _plot(vs_M, "M", os.path.join(args.out_dir, "digits_vs_M.png"), f"P = {args.P_at_M}; " + common)
    for sup in (True, False):
        res = rd.retrieve(0, data, args.P_at_M, M=args.M_at_P, supervised=sup, corrupt_fraction=0.2)
        rd.plot_grid(res, os.path.join(args.out_dir, f"digits_grid_{'supervised' if sup else 'unsupervised'}.png"))
    summary = {"data": "sklearn.datasets.load_digits", "threshold": rd.DIGITS_THRESHOLD, "N": data.N, "K": data.K,
               "class_sizes": data.counts.tolist(), "corrupt": 0.2, "start": "example", "starts_per_class": starts,
               "norm": 1.0, "vs_P": vs_P, "vs_M": vs_M, "seconds": round(time.time() - t0, 1),
               "command": " ".join([os.path.basename(sys.argv[0])] + list(argv if argv is not None else sys.argv[1:]))}
    with open(os.path.join(args.out_dir, "digits_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"wrote {args.out_dir} in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
