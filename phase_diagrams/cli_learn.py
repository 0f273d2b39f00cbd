"""``densehebb learn``: dense Hebbian couplings from a user's labelled +-1 examples (an ``.npz``), retrieval from
corrupted examples, and ``--write-digits`` (scikit-learn's 8 x 8 digits as such an ``.npz``).

    densehebb learn --data FILE.npz --P 4 --dataset supervised|unsupervised [--M M] [--T 0] [--corrupt 0.2]
                    [--starts 1] [--start example|unseen] [--max-sweeps 100] [--dynamics greedy|glauber|metropolis]
                    [--seed 0] [--self-interaction] [--png grid.png] [--quiet] --json
    densehebb learn --write-digits FILE.npz [--threshold 8]

The data file is loaded and validated with NumPy before JAX starts (shape, +-1 values, integer labels, M
against the class sizes): bad input is one line ``densehebb: error: ...`` and exit code 2.  The model and the
report: :mod:`densehebb.montecarlo.realdata` and docs/montecarlo.md ("Real data").
"""
from __future__ import annotations

import sys

from .cli_common import UsageError, check_output, emit, finite, leaf, refuse

_RETRIEVAL_OPTIONS = ("data", "dataset", "M", "P", "T", "corrupt", "starts", "start", "max_sweeps", "dynamics", "seed",
                      "self_interaction", "png", "quiet")


def _realdata():
    return leaf("densehebb.montecarlo.realdata")       # NumPy only: no JAX before validation is complete


def register(sub, model_args):
    """Add ``learn`` to the CLI's subparsers."""
    rd_threshold = 8          # = montecarlo.realdata.DIGITS_THRESHOLD (tests check it)
    p = sub.add_parser("learn", help="couplings from labelled +-1 examples in an .npz (supervised/unsupervised), "
                                     "retrieval from corrupted examples; --write-digits writes sklearn's digits")
    model_args(p, need_alpha=False, T_default=0.0, with_ansatz=False)
    p.add_argument("--data", help="dataset .npz: 'patterns' (samples, N) of +-1, integer 'labels' (samples,), "
                                  "optional 'shape' (rows, columns) for the figure")
    p.add_argument("--dataset", choices=("supervised", "unsupervised"), default=None,
                   help="couplings from the class means (supervised) or from every example (unsupervised)")
    p.add_argument("--M", type=finite("M", lo=1, integer=True, hi=2**31 - 1), default=None,
                   help="examples per class, chosen at random (default: the smallest class size, minus 1 with "
                        "--start unseen)")
    p.add_argument("--corrupt", type=finite("corrupt", lo=0, hi=1), default=0.2,
                   help="fraction of the start example's sites flipped (exactly round(corrupt N); default 0.2)")
    p.add_argument("--starts", type=finite("starts", lo=1, integer=True, hi=10_000), default=1,
                   help="chains per class (different start examples and corruptions; default 1)")
    p.add_argument("--start", choices=("example", "unseen"), default="example",
                   help="start from a stored example (default) or from one of the class not used in the couplings")
    p.add_argument("--max-sweeps", type=finite("max-sweeps", lo=1, integer=True, hi=10**7), default=100,
                   help="sweep limit (T = 0 stops earlier at a fixed point; default 100)")
    p.add_argument("--dynamics", choices=("greedy", "glauber", "metropolis"), default=None,
                   help="default: greedy (strict descent) at T = 0, glauber at T > 0")
    p.add_argument("--seed", type=finite("seed", lo=0, integer=True, hi=2**63 - 1), default=0)
    p.add_argument("--png", help="PNG grid: per class the corrupted start, the final state, the class mean")
    p.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    p.add_argument("--write-digits", metavar="FILE.npz",
                   help="write scikit-learn's digits (8 x 8, 1797 images, needs scikit-learn) as a dataset .npz, "
                        "binarised grey level > threshold -> +1, and exit")
    p.add_argument("--threshold", type=finite("threshold", lo=0, integer=True, hi=15), default=rd_threshold,
                   help=f"with --write-digits: grey levels 0..16 above it become +1 (default {rd_threshold})")
    for action in p._actions:
        if action.dest == "json":
            action.help = ("one JSON object: settings (P, N, K, M, dataset, convention, dynamics, T, seed, ...), "
                           "overlaps (mean_overlap, mean_cosine, nearest_overlap, correct_fraction) and per_class")
        if action.dest == "T":
            action.help = "temperature (>= 0; default 0: zero-temperature descent; energy with Norm = 1)"
    p.set_defaults(func=cmd_learn, validate=validate_learn)


def validate_learn(args):
    g = args.given
    if args.write_digits is not None:
        refuse(g, _RETRIEVAL_OPTIONS + ("json",), "does not apply with --write-digits (it only writes the .npz)")
        check_output(args.write_digits, "--write-digits", ".npz", "NumPy .npz")
        import importlib.util

        if importlib.util.find_spec("sklearn") is None:
            raise UsageError("--write-digits needs scikit-learn, an optional extra: pip install 'densehebb[digits]'"
                             " (or pip install scikit-learn)")
        return
    refuse(g, ["threshold"], "applies with --write-digits only")
    if args.data is None:
        raise UsageError("learn needs --data FILE.npz (or --write-digits FILE.npz to write the digits set)")
    if args.dataset is None:
        raise UsageError("learn needs --dataset supervised|unsupervised")
    if args.dynamics == "greedy" and args.T > 0:
        raise UsageError("--dynamics greedy is zero-temperature descent: use --T 0 or glauber/metropolis")
    check_output(args.png, "--png", ".png", "PNG")
    rd = _realdata()
    try:
        data = rd.load(args.data)
        M = rd.default_M(data, args.start) if args.M is None else args.M
        if M < 1:
            raise rd.DataError(f"--start unseen needs a class with at least 2 examples (class sizes "
                               f"{data.counts.min()}..{data.counts.max()})")
        rd.check_M(data, M, args.start, args.starts)
    except rd.DataError as e:
        raise UsageError(str(e)) from None
    args.loaded, args.M_used = data, M


def cmd_learn(args):
    rd = _realdata()
    if args.write_digits is not None:
        data = rd.write_digits(args.write_digits, args.threshold)
        sys.stderr.write(f"densehebb: learn: wrote {args.write_digits}: {data.patterns.shape[0]} digits, N = {data.N}, "
                         f"{data.K} classes, grey level > {args.threshold} -> +1\n")
        return 0
    if not args.quiet:
        sys.stderr.write(f"densehebb: learn: {args.dataset}, P = {args.P}, M = {args.M_used}, {args.loaded.K} classes, "
                         f"N = {args.loaded.N}: compiling and running ...\n")
    res = rd.retrieve(args.seed, args.loaded, args.P, M=args.M_used, supervised=args.dataset == "supervised",
                      T=args.T, corrupt_fraction=args.corrupt, max_sweeps=args.max_sweeps, starts=args.starts,
                      start=args.start, dynamics=args.dynamics, self_interaction=args.self_interaction)
    rec = dict(res.record)
    if args.png:
        rd.plot_grid(res, args.png)
        rec["png"] = args.png
    if args.json:
        emit(rec, True)
    else:
        flat = {k: v for k, v in rec.items() if k not in ("per_class", "overlap_definitions")}
        emit(flat, False)
        for pc in rec["per_class"]:
            print(f"class {pc['label']}: mean_overlap {pc['mean_overlap']:.4f}  nearest_overlap "
                  f"{pc['nearest_overlap']:.4f}  nearest_class {pc['nearest_class']}  sweeps {pc['sweeps']}")
    return 0
