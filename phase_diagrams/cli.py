"""The ``densehebb`` command line: a thin layer over the Python API.

Subcommands: solve, capacity, threshold, derive, phase-diagram, mc, bench, learn.  Every command is validated completely
before anything is computed or written (numbers and their ranges, option combinations -- an option that
does not apply to the chosen mode is refused --, output paths, the memory of a Monte Carlo run), without
importing JAX: bad input gives one line ``densehebb: error: ...`` on stderr and exit code 2 within a
second or two.  A well-posed problem whose solution does not exist or did not converge prints the result
with "converged": false and null numbers on stdout, one line ``densehebb: no answer: <status>: <why>``
on stderr, and exits with code 3.  Output files are written atomically (temporary file, then rename).
Set DENSEHEBB_DEBUG=1 for tracebacks.
"""
from __future__ import annotations

import os
import sys

from .cli_common import (INTERACTIONS, K_MAX, P_MAX, Parser, UsageError, VersionAction, add_dataset_args,
                         add_interaction_args, check_dataset_args, check_interaction_args, check_output, emit, finite,
                         given_options, model_from_args, no_answer_line, refuse)
from .cli_learn import register as register_learn
from .cli_mc import register as register_mc
from .cli_mc import register_capacity_mc_args, cmd_capacity_mc, validate_capacity_mc, CAPACITY_MC_OPTIONS
from .cli_mc import _float_list


def _print_result(result, as_json, add=None):
    """Every theory subcommand prints the Result's own record (plus ``add``); exit code 3 if it is not an
    answer, with the reason on stderr (stdout keeps the pure record)."""
    rec = result.to_dict()
    if add and "r" in add and "r" in rec:   # --dataset: "r" is the dataset quality; the AGS noise r is r_noise
        rec["r_noise"] = rec.pop("r")
    rec.update(add or {})
    return _emit_answer(rec, result.converged, as_json, no_answer_line(result))


def _emit_answer(rec, converged, as_json, reason):
    """Print ``rec``; exit code 0 if it is an answer (``converged``), else 3 with the one-line ``reason`` on
    stderr (for a Result: :func:`no_answer_line`)."""
    emit(rec, as_json)
    if converged:
        return 0
    sys.stdout.flush()
    sys.stderr.write(reason + "\n")
    return 3


class Reporter:
    """Progress on stderr for long commands (stdout keeps the result, pure JSON with --json).

    Called as ``reporter(message)`` -> one line ``densehebb: <command>: <message>`` at once, or
    ``reporter(stage, done, total)`` -> on a TTY a tqdm bar per stage; otherwise plain lines
    ``densehebb: <command>: <stage> <done>/<total>`` at the start, at the end and at most every
    ``every`` seconds in between."""

    def __init__(self, command, every=5.0, stream=None):
        import time

        self.command, self.every, self._clock = command, every, time.monotonic
        self.stream = sys.stderr if stream is None else stream
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self._bar, self._last = None, -float("inf")

    def _line(self, text):
        self.stream.write(f"densehebb: {self.command}: {text}\n")
        self.stream.flush()

    def __call__(self, stage, done=None, total=None):
        if done is None:
            if self._bar is not None:
                self._bar.write(f"densehebb: {self.command}: {stage}", file=self.stream)
            else:
                self._line(stage)
            return
        if self.tty:
            if done == 0 or self._bar is None:
                from tqdm import tqdm

                self.close()
                self._bar = tqdm(total=total, desc=stage, leave=False, file=self.stream)
            self._bar.n = done
            self._bar.refresh()
            if total is not None and done >= total:
                self.close()
            return
        now = self._clock()
        if done == 0 or (total is not None and done >= total) or now - self._last >= self.every:
            self._last = now
            self._line(f"{stage} {done}/{total}" if total is not None else f"{stage} {done}")

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _reporter(args):
    """The progress reporter of a command, or None with --quiet."""
    return None if getattr(args, "quiet", False) else Reporter(args.command)


# ------------------------------------------------------------------------------------------ validation
MULTITASK_OPTIONS = ["state", "mixture", "normalised", "seed"]


def validate_solve(args):
    g = args.given
    if "K" in g and "alpha" in g:
        raise UsageError("--K (K finite patterns, low storage) and --alpha (high storage) are mutually exclusive")
    if "K" not in g and "alpha" not in g:
        raise UsageError("give --alpha (high storage, load K / N^(P-1)) or --K (low storage, K patterns)")
    if not 0.0 <= args.dilution < 1.0:
        raise UsageError(f"--dilution must lie in [0, 1), got {args.dilution!r}")
    if "K" not in g:
        refuse(g, MULTITASK_OPTIONS, "applies with --K only (low storage, K patterns)")
        if args.dilution:
            _check_dilution_high(args, g)
    else:
        refuse(g, ["branch"], "does not apply with --K (choose a --state)")
        refuse(g, ["ansatz"], "does not apply with --K (K finite: no replica ansatz)")
        check_dataset_args(args, g)
        if args.dataset != "none":   # diluted archetypes learnt from examples: theory.multitask_learning
            refuse(g, ["gaussian"], "does not apply with --K (the exact binomial site average)")
            if args.state == "mixture":
                raise UsageError("--state mixture does not apply with --dataset (states: pure, hierarchical, "
                                 "parallel, global)")
            if args.M is not None and args.r is not None:
                letters = 3 if args.r == 1 else args.M + 2
                if letters ** args.K > 3 ** 12:
                    raise UsageError(f"--K {args.K} with --M {args.M}: the exact site average needs "
                                     f"{letters}^{args.K} rows, more than 3^12 (lower --K or --M)")
        if args.state == "mixture":
            if args.mixture is None:
                raise UsageError("--state mixture needs --mixture n (odd, 1..K)")
            if args.mixture % 2 == 0 or args.mixture > args.K:
                raise UsageError(f"--mixture must be odd and at most K = {args.K}, got {args.mixture}")
        else:
            refuse(g, ["mixture"], "applies with --state mixture only")
        if args.state != "global":
            refuse(g, ["seed"], "applies with --state global only (the random starts)")
        return
    if args.ansatz == "1rsb" and args.branch == "paramagnetic":
        raise UsageError("the paramagnet is replica symmetric: use --ansatz rs")
    check_dataset_args(args, args.given)
    if args.dataset != "none" and args.ansatz != "rs":
        raise UsageError("--dataset: learning from examples is replica symmetric only (--ansatz rs)")
    if args.branch == "example" and (args.dataset != "unsupervised" or args.gaussian):
        raise UsageError("--branch example (the example state) needs --dataset unsupervised (exact binomial "
                         "sites, no --gaussian)")


EXPONENTIAL_CAPACITY_OPTIONS = ("errors", "all_patterns")
# options of `capacity --interaction attention` (continuous states, theory.attention)
ATTENTION_CAPACITY_OPTIONS = ("beta", "patterns")
# options of `capacity` that belong to the P-body (polynomial) models
POLYNOMIAL_CAPACITY_OPTIONS = ("P", "T", "ansatz", "self_interaction", "low_storage", "mixture", "dataset", "r", "M",
                               "dilution", "normalisation", "gaussian")


def _check_dilution_high(args, g):
    """--dilution with --alpha (high storage): the RS pure state of theory.multitask_high only."""
    if args.ansatz != "rs":
        raise UsageError("--dilution at high storage: replica-symmetric theory only (--ansatz rs)")
    if getattr(args, "dataset", "none") != "none":
        raise UsageError("--dilution with --dataset: learning from diluted examples is not available here")
    if getattr(args, "branch", "retrieval") == "example":
        raise UsageError("--branch example belongs to learning from examples, not to diluted patterns")


def validate_capacity(args):
    g = args.given
    if args.interaction == "attention":
        refuse(g, ["lam", "mc", *EXPONENTIAL_CAPACITY_OPTIONS, *POLYNOMIAL_CAPACITY_OPTIONS,
                   *[o for o in CAPACITY_MC_OPTIONS if o != "quiet"]],
               "does not apply with --interaction attention (continuous states, one softmax step)")
        if args.beta is None:
            args.beta = 1.0
        return
    refuse(g, list(ATTENTION_CAPACITY_OPTIONS), "applies with --interaction attention only")
    check_interaction_args(args, g, POLYNOMIAL_CAPACITY_OPTIONS)
    if args.interaction != "polynomial":
        if args.mc:
            raise UsageError(f"--mc with --interaction {args.interaction}: the Monte Carlo census of the "
                             f"exponential network is `densehebb mc --interaction {args.interaction} --census`")
        refuse(g, [o for o in CAPACITY_MC_OPTIONS if o != "quiet"], "applies with --mc only")
        if not 0.0 <= args.errors < 0.5:
            raise UsageError(f"--errors must lie in [0, 1/2) (fraction of flipped spins), got {args.errors!r}")
        return
    refuse(g, list(EXPONENTIAL_CAPACITY_OPTIONS), "applies with --interaction exponential|log-sum-exp only")
    if not 0.0 <= args.dilution < 1.0:
        raise UsageError(f"--dilution must lie in [0, 1), got {args.dilution!r}")
    if args.dilution and args.mc:
        raise UsageError("--dilution with --mc: the Monte Carlo capacity is that of plain patterns (densehebb mc "
                         "--dilution simulates diluted patterns)")
    if args.dilution and not args.low_storage:
        _check_dilution_high(args, g)
    if args.mc and args.low_storage:
        raise UsageError("--mc and --low-storage cannot be combined")
    if args.mc:
        refuse(g, ["dataset", "r", "M", "normalisation", "gaussian"], "does not apply with --mc (the Monte Carlo "
               "capacity is that of plain storage)")
        refuse(g, ["ansatz"], "applies to the replica theory, not to --mc (Monte Carlo has no ansatz)")
        refuse(g, ["mixture"], "applies with --low-storage only")
        validate_capacity_mc(args)
        return
    refuse(g, [o for o in CAPACITY_MC_OPTIONS if o != "quiet"], "applies with --mc only")
    check_dataset_args(args, g)
    if args.dataset != "none":
        if args.low_storage:
            raise UsageError("--dataset: the capacity of the archetype state is a high-storage quantity "
                             "(K finite: densehebb solve --alpha 0 --dataset ...)")
        if args.ansatz != "rs":
            raise UsageError("--dataset: learning from examples is replica symmetric only (--ansatz rs)")
    if args.low_storage:
        refuse(g, ["T"], "does not apply with --low-storage (it reports the transition temperatures)")
        refuse(g, ["ansatz"], "does not apply with --low-storage (K finite: no replica ansatz)")
        if args.mixture % 2 == 0 or args.mixture > 9:
            raise UsageError("mixture size n must be odd and between 1 and 9 (even mixtures have ties)")
    else:
        refuse(g, ["mixture"], "applies with --low-storage only")


def validate_threshold(args):
    if args.criterion != "overlap":
        refuse(args.given, ["m_target"], "applies with --criterion overlap only")
    bad = [p for p in args.P if p > P_MAX]
    if bad:
        raise UsageError(f"argument --P: P must be <= {P_MAX}, got {bad[0]}")
    bad = [r for r in args.r if not 0 < r <= 1]
    if bad:
        raise UsageError(f"argument --r: r must lie in (0, 1], got {bad[0]!r}")
    if len(set(args.P)) != len(args.P) or len(set(args.r)) != len(args.r):
        raise UsageError("--P and --r values must be distinct")
    if args.out is None:
        refuse(args.given, ["png"], "applies with --out only (threshold curves)")
        if len(args.P) > 1 or len(args.r) > 1:
            raise UsageError("several --P or --r values make threshold curves: give --out FILE.nc")
    else:
        check_output(args.out, "--out", ".nc", "netCDF")
        check_output(args.png, "--png", ".png", "PNG")


def validate_derive(args):
    check_dataset_args(args, args.given, need_values=False)     # r, M stay symbolic unless given
    if args.dataset != "none" and args.ansatz != "rs":
        raise UsageError("--dataset: learning from examples is replica symmetric only (--ansatz rs)")


DILUTION_PLANE_OPTIONS = ["n_d", "n_T", "d_max", "T_max", "n_random", "seed", "normalised"]
K_PLANE = (2, 6)   # = densehebb.phase_diagrams.dilution_plane.K_DIAGRAM (tests check it)


def validate_phase_diagram(args):
    check_output(args.out, "--out", ".nc", "netCDF")
    check_output(args.png, "--png", ".png", "PNG")
    g = args.given
    if args.interaction != "polynomial":
        return _validate_exponential_diagram(args, g)
    refuse(g, ["lam", "n_alpha"], "applies with --interaction exponential|log-sum-exp only")
    if args.dilution_plane or "K" in g:
        if not args.dilution_plane:
            raise UsageError("--K applies with --dilution-plane only (the (d, T) plane of K diluted patterns)")
        if "K" not in g:
            raise UsageError("--dilution-plane needs --K (the number of patterns, "
                             f"{K_PLANE[0]}..{K_PLANE[1]})")
        if not K_PLANE[0] <= args.K <= K_PLANE[1]:
            raise UsageError(f"--K must lie in {K_PLANE[0]}..{K_PLANE[1]} for --dilution-plane (the exact average "
                             f"over 3^K entries at every grid point and start), got {args.K}")
        refuse(g, ["dataset", "r", "M", "normalisation", "gaussian"],
               "does not apply with --dilution-plane (learning from examples with diluted patterns: not in the "
               "multitask theory)")
        if args.ansatz != "rs":
            raise UsageError("--ansatz 1rsb does not apply with --dilution-plane (K finite: no replica ansatz)")
        refuse(g, ["plane"], "does not apply with --dilution-plane (the plane is (d, T))")
        refuse(g, ["alpha"], "does not apply with --dilution-plane (K finite patterns: low storage)")
        if not 0 < args.d_max < 1:
            raise UsageError(f"--d-max must lie in (0, 1), got {args.d_max!r}")
        return
    refuse(g, DILUTION_PLANE_OPTIONS, "applies with --dilution-plane only")
    if args.plane == "alpha-T":
        refuse(g, ["alpha"], "applies with --plane M-T or rho-T only (the alpha-T plane spans the loads)")
        check_dataset_args(args, g)
    else:
        if args.dataset == "none":
            raise UsageError(f"--plane {args.plane} is a plane of learning from examples: give --dataset "
                             "supervised|unsupervised")
        need, free = ("r", "M") if args.plane == "M-T" else ("M", "r")
        if getattr(args, need) is None:
            raise UsageError(f"--plane {args.plane} needs --{need} (fixed along the plane)")
        refuse(g, [free], f"does not apply with --plane {args.plane} ({free} varies along the plane)")
    if args.dataset != "none" and args.ansatz != "rs":
        raise UsageError("--dataset: learning from examples is replica symmetric only (--ansatz rs)")


EXPONENTIAL_DIAGRAM_MAX_LAM = 8
EXPONENTIAL_DIAGRAM_GRID = 241    # = phase_diagrams.exponential_thermo.N_ALPHA, N_T (default grid points)


def _positive_list(name):
    """argparse type: comma-separated finite numbers > 0."""
    conv = finite(name, lo=0, strict=True)
    return lambda text: [conv(p) for p in text.split(",") if p.strip()] or conv("")


def _validate_exponential_diagram(args, g):
    """phase-diagram --interaction exponential|log-sum-exp: the (alpha, T) diagram of the log-sum-exp energy
    (phase_diagrams.exponential_thermo); --lam L[,L2..] (each > 0), --n-alpha, --n-T, --T-max."""
    refuse(g, ["P", "ansatz", "self_interaction", "dataset", "r", "M", "normalisation", "gaussian", "plane", "alpha",
               "dilution_plane", "K", "n_d", "d_max", "n_random", "seed", "normalised"],
           f"does not apply with --interaction {args.interaction} (K = exp(alpha N) patterns; the diagram spans "
           "alpha and T)")
    lams = [1.0] if args.lam is None else list(args.lam)
    if len(set(lams)) != len(lams):
        raise UsageError("--lam values must be distinct")
    if len(lams) > EXPONENTIAL_DIAGRAM_MAX_LAM:
        raise UsageError(f"--lam: at most {EXPONENTIAL_DIAGRAM_MAX_LAM} values (one panel each), got {len(lams)}")
    args.lam = lams
    args.n_alpha = args.n_alpha or EXPONENTIAL_DIAGRAM_GRID
    args.n_T = args.n_T or EXPONENTIAL_DIAGRAM_GRID
    if len(lams) * args.n_alpha * args.n_T > 4_000_000:
        raise UsageError(f"--lam x --n-alpha x --n-T = {len(lams) * args.n_alpha * args.n_T} grid points, more than "
                         "4000000 (lower --n-alpha or --n-T)")


# ------------------------------------------------------------------------------------------- commands
def cmd_solve(args):
    from densehebb.theory import solve

    if args.K is not None:
        return _solve_multitask(args)
    spec, report = model_from_args(args).replace(dilution=float(args.dilution)), _reporter(args)
    if report:
        report(f"compiling the RS solver for P = {spec.P} ..." if spec.ansatz == "rs" else
               f"solving the 1RSB saddle point for P = {spec.P} (RS start, scan in mu = beta x) ...")
    add = _dataset_record(args, spec)   # learning from examples: m is the archetype overlap, n the class-mean one
    return _print_result(solve(spec, args.alpha, args.T, args.branch), args.json, add)


def _solve_multitask(args):
    """solve --K: the low-storage multitasking theory (theory.multitask): m is the list of K overlaps."""
    import numpy as np

    from densehebb.theory import solve

    spec = model_from_args(args, storage="low").replace(dilution=float(args.dilution))
    report = _reporter(args)
    if report:
        report(f"compiling the K = {args.K} multitask theory for P = {spec.P} (3^K exact average) and solving "
               f"the {args.state} state ...")
    res = solve(spec, T=args.T, K=args.K, state=args.state, mixture=args.mixture, normalised=args.normalised,
                seed=args.seed)
    rec = {"P": spec.P, "K": args.K, "dilution": float(args.dilution), "T": float(args.T), "state": args.state,
           "m": [float(x) for x in np.asarray(res.m, dtype=float)], "f": float(res.f),
           "converged": bool(res.converged), "status": res.status.value, "stable": bool(res.stable),
           "convention": spec.convention, "overlaps": res.inputs["overlaps"], "storage": "low",
           "residual": float(res.residual), "min_hessian_eigenvalue": float(res.replicon),
           "found": res.values.get("found", ""), "n_condensed": int(res.values.get("n_condensed", 0))}
    if spec.examples is not None:     # m: archetype overlaps; n: class-mean overlaps (theory.multitask_learning)
        rec.update(_dataset_record(args, spec), n=[float(x) for x in np.asarray(res.n, dtype=float)],
                   lam_transverse=float(res.values["lam_transverse"]),
                   stable_supervised=bool(res.values["stable_supervised"]),
                   stable_unsupervised=bool(res.values["stable_unsupervised"]))
    if args.state == "mixture":
        rec["mixture"] = int(args.mixture)
    if args.state == "global":
        rec.update({"n_starts": int(res.inputs["n_starts"]), "seed": int(args.seed),
                    "winner": res.values.get("winner", ""), "n_at_minimum": int(res.values.get("n_at_minimum", 0))})
    if res.note:
        rec["note"] = res.note
    return _emit_answer(rec, res.converged, args.json, no_answer_line(res))


def _dataset_record(args, spec):
    """The dataset keys of a learning-from-examples record (None without --dataset)."""
    ex = spec.examples
    if ex is None:
        return None
    return {"dataset": args.dataset, "r": ex.r, "M": ex.M, "rho": ex.rho, "normalisation": ex.normalisation,
            "gaussian": ex.gaussian}


def cmd_threshold(args):
    from densehebb.phase_diagrams.thresholds import threshold
    from densehebb.theory import Model, convention_name
    from densehebb.theory.model import Examples

    spec = Model(P=args.P[0], convention=convention_name(args.self_interaction),
                 examples=Examples(M=1, r=float(args.r[0]), supervised=args.dataset == "supervised",
                                   normalisation=args.normalisation, gaussian=bool(args.gaussian)))
    report = _reporter(args)
    if args.out is not None:
        return _threshold_curves(args, spec, report)
    args.r = float(args.r[0])
    if report:
        report(f"compiling the RS learning theory for P = {spec.P} (one solver for every M) and searching M in "
               f"[1, {args.M_max}] ...")
    res = threshold(spec, float(args.r), args.alpha, args.T, args.criterion, args.m_target, args.M_max)
    rec = res.to_dict()
    for k in ("examples_M", "examples_r", "residual", "iterations", "stable", "replicon", "noise_covariance"):
        rec.pop(k, None)   # a threshold is a search over solves: each M's residual is that of its solve
    for k in ("M_min", "M_example_max", "coexistence"):
        if k in rec and rec[k] == rec[k]:
            rec[k] = int(rec[k])
    rec.update({"dataset": args.dataset, "normalisation": args.normalisation, "gaussian": bool(args.gaussian)})
    return _emit_answer(rec, res.converged, args.json, f"densehebb: no answer: {res.status.value}: the criterion "
                        f"{args.criterion!r} is not met at any M up to M_max = {args.M_max}")


def _threshold_curves(args, spec, report):
    """threshold --out: M_min(r) for every --P (phase_diagrams.thresholds.threshold_curves)."""
    import numpy as np

    from densehebb.phase_diagrams.io import atomic_outputs, to_netcdf
    from densehebb.phase_diagrams.thresholds import plot_threshold_curves, threshold_curves

    ds = threshold_curves(spec, args.P, args.r, args.alpha, args.T, args.criterion, args.m_target, args.M_max,
                          progress=report)
    ds.attrs["command"] = "densehebb " + " ".join(args.argv)
    with atomic_outputs(args.out, args.png) as (nc_tmp, png_tmp):
        to_netcdf(ds, nc_tmp)
        if args.png:
            plot_threshold_curves(ds, png_tmp)
    M = ds["M_min"].values
    summary = {"out": args.out, "png": args.png, "convention": spec.convention, "dataset": args.dataset,
               "criterion": args.criterion, "alpha": float(args.alpha), "T": float(args.T),
               "P": [int(p) for p in args.P], "r": [float(x) for x in args.r],
               "M_min": [[None if np.isnan(v) else int(v) for v in row] for row in M],
               "missing": int(np.isnan(M).sum()), "normalisation": args.normalisation,
               "gaussian": bool(args.gaussian)}
    if args.criterion == "overlap":
        summary["m_target"] = float(args.m_target)
    emit(summary, args.json)
    return 0


def _capacity_attention(args):
    """`capacity --interaction attention`: the one-step threshold alpha_1(beta) of theory.attention."""
    from densehebb.theory import attention as ta

    b, kind = float(args.beta), args.patterns
    a1 = ta.alpha_1(b, kind)
    num, ok = ta.alpha_1_numeric(b, kind)
    resid = abs(num - a1) if ok else float("nan")
    converged = bool(ok and resid < 1e-8)
    mb, ms = ta.saddle_overlap(b, kind), ta.max_overlap(a1, kind)
    above = ta.error(a1 * (1 + 1e-9), b, kind)
    rec = {"interaction": "attention", "patterns": kind, "beta": b,
           "convention": "x' = Xi softmax(beta Xi^T x), logits beta xi.x = beta N m, |x|^2 = N, "
                         "K = exp(alpha N); error e = |x' - xi|^2 / N after one step from x = xi",
           "criterion": "the target's softmax weight tends to 1 as N -> infinity (typical pattern)",
           "alpha_1": a1, "m_b": mb, "regime_at_threshold": "condensed" if mb > ms else "uncondensed",
           "error_just_above": above["error"], "converged": converged,
           "status": "converged" if converged else "not_converged", "residual": resid,
           "note": "REM count of the other patterns (docs/theory.md, 'Continuous states'); closed form, "
                   "residual = |closed form - REM root|"}
    return _emit_answer(rec, converged, args.json,
                        f"densehebb: capacity: alpha_1 not confirmed by the REM root (residual {resid!r})")


def cmd_capacity(args):
    if args.mc:
        return cmd_capacity_mc(args)
    from densehebb.phase_diagrams.api import capacity

    if args.interaction == "attention":
        return _capacity_attention(args)
    if args.interaction != "polynomial":
        # T = 0 thresholds of the exponential network (theory.exponential); the replica-theory fields of the
        # generic record (ansatz, storage, replicon, stable) do not apply and are dropped
        res = capacity(model_from_args(args), errors=args.errors, all_patterns=args.all_patterns)
        rec = res.to_dict()
        for k in ("ansatz", "storage", "replicon", "stable", "iterations"):
            rec.pop(k, None)
        return _emit_answer(rec, res.converged, args.json, no_answer_line(res))

    if args.low_storage:
        return _print_result(capacity(model_from_args(args, storage="low").replace(dilution=float(args.dilution)),
                                      mixture=args.mixture), args.json)
    spec, report = model_from_args(args).replace(dilution=float(args.dilution)), _reporter(args)
    if spec.examples is not None:
        if report:
            report(f"compiling the RS learning theory for P = {spec.P} and locating the end of the archetype "
                   "(retrieval) branch ...")
        return _print_result(capacity(spec, args.T), args.json, _dataset_record(args, spec))
    if report:
        report(f"compiling the RS{' and 1RSB' if spec.ansatz == '1rsb' else ''} solver{'s' if spec.ansatz == '1rsb' else ''} "
               f"for P = {spec.P} and locating the end of the retrieval branch ...")
    return _print_result(capacity(spec, args.T, progress=report), args.json)


def cmd_derive(args):
    from densehebb.theory.symbolic import derive

    add = {}
    if args.dataset != "none":      # learning from examples: r, M symbolic unless given
        from densehebb.theory import convention_name
        from densehebb.theory.symbolic import derive_learning

        d = derive_learning(args.P, convention_name(args.self_interaction), args.dataset == "supervised",
                            args.normalisation, args.gaussian, args.r, args.M)
        add = {"dataset": args.dataset, "normalisation": args.normalisation, "gaussian": args.gaussian}
        add.update({k: getattr(args, k) for k in ("r", "M") if getattr(args, k) is not None})
    else:
        d = derive(model_from_args(args))
    if not args.json:
        print(d.latex() if args.latex else d.text())
        return 0
    import sympy as sp

    fmt = sp.latex if args.latex else sp.sstr
    emit({"P": d.P, "convention": d.convention, "ansatz": d.ansatz, **add,
          "format": "latex" if args.latex else "sympy", "free_energy": fmt(d.free_energy),
          "stationarity": {sp.sstr(x): fmt(c) for x, c in d.conditions.items()},
          "fixed_point": [{"lhs": fmt(e.lhs), "rhs": fmt(e.rhs)} for e in d.fixed_point]}, True)
    return 0


def cmd_phase_diagram(args):
    import numpy as np

    from densehebb.phase_diagrams.diagram import phase_diagram
    from densehebb.phase_diagrams.io import atomic_outputs, to_netcdf

    if args.interaction != "polynomial":
        return _exponential_diagram(args)
    if args.dilution_plane:
        return _dilution_plane(args)
    if args.plane != "alpha-T":
        return _dataset_plane(args)
    spec = model_from_args(args)
    report = _reporter(args)
    try:
        ds = phase_diagram(spec, progress=report)
    finally:
        if report:
            report.close()
    ds.attrs["command"] = "densehebb " + " ".join(args.argv)
    with atomic_outputs(args.out, args.png) as (nc_tmp, png_tmp):   # both files or neither
        to_netcdf(ds, nc_tmp)
        if args.png:
            from densehebb.phase_diagrams.plotting import plot_phase_diagram

            plot_phase_diagram(ds, png_tmp)
    summary = {"out": args.out, "png": args.png, "convention": spec.convention, "ansatz": spec.ansatz,
               "alpha_c_T0": float(ds["alpha_c_T0"]), "m_c_T0": float(ds["m_c_T0"]),
               "alpha_Tc_T0": float(ds["alpha_Tc_T0"]),
               "n_alpha": int(ds.sizes["alpha"]), "n_T": int(ds.sizes["T"]),
               "missing_T_M": int(np.isnan(ds["T_M"].values).sum())}
    for k in ("alpha_c_T0_1rsb", "alpha_Tc_T0_1rsb", "e_sg_1rsb"):
        if k in ds:
            summary[k] = float(ds[k])
    summary.update(_dataset_record(args, spec) or {})
    emit(summary, args.json)
    return 0


def _exponential_diagram(args):
    """phase-diagram --interaction log-sum-exp|exponential: phase_diagrams.exponential_thermo (closed forms).
    "exponential" (E = -G) gets the diagram of its finite-temperature version, the log-sum-exp measure, with a
    note on stderr and requested_interaction = "exponential" in the attrs."""
    import numpy as np

    from densehebb.phase_diagrams.exponential_thermo import exponential_diagram, plot_exponential_diagram
    from densehebb.phase_diagrams.io import atomic_outputs, to_netcdf

    if args.interaction == "exponential":      # not progress: said even with --quiet
        sys.stderr.write("densehebb: phase-diagram: note: the exponential energy -sum_mu exp(lam N m_mu) has Gibbs "
                         "weights doubly exponential in N (its T > 0 measure is the T = 0 one as N -> infinity); "
                         "writing the diagram of its finite-temperature version, the log-sum-exp energy "
                         "(attrs interaction = log-sum-exp, requested_interaction = exponential)\n")
    ds = exponential_diagram(args.lam, n_alpha=args.n_alpha, n_T=args.n_T, T_max=args.T_max,
                             requested_interaction=args.interaction, command="densehebb " + " ".join(args.argv))
    with atomic_outputs(args.out, args.png) as (nc_tmp, png_tmp):   # both files or neither
        to_netcdf(ds, nc_tmp)
        if args.png:
            plot_exponential_diagram(ds, png_tmp)
    from densehebb.theory.exponential_thermo import lines

    fin = lambda v: float(v) if np.isfinite(v) else None  # noqa: E731
    per_lam = []
    for lam in ds["lam"].values:
        d = ds.sel(lam=lam)
        at = [{"alpha": a, "regime": L["regime"], "T_M": fin(L["T_M"]), "T_c": fin(L["T_c"]), "T_1": fin(L["T_1"])}
              for a, L in ((a, lines(a, float(lam))) for a in (0.1, 0.3))]
        per_lam.append({"lam": float(lam), "alpha_cond": float(d["alpha_cond"]), "alpha_T0": float(d["alpha_T0"]),
                        "lines_at": at})
    summary = {"out": args.out, "png": args.png, "interaction": "log-sum-exp",
               "requested_interaction": args.interaction, "convention": "log-sum-exp",
               "energy": ds.attrs["energy"], "n_alpha": int(ds.sizes["alpha"]), "n_T": int(ds.sizes["T"]),
               "T_range": [float(ds["T"][0]), float(ds["T"][-1])], "lam": per_lam}
    emit(summary, args.json)
    return 0


def _dilution_plane(args):
    """phase-diagram --K --dilution-plane: phase_diagrams.dilution_plane (multitasking, low storage)."""
    import time

    import numpy as np

    from densehebb.phase_diagrams.dilution_plane import PHASES, dilution_diagram, plot_dilution_diagram
    from densehebb.phase_diagrams.io import atomic_outputs, to_netcdf
    from densehebb.theory import convention_name

    t0 = time.time()
    report = _reporter(args)
    if report:
        report(f"compiling the K = {args.K} multitask theory for P = {args.P} (3^K exact average, one compile for "
               "the plane) ...")
    ds = dilution_diagram(args.P, args.K, n_d=args.n_d, n_T=args.n_T, d_max=args.d_max, T_max=args.T_max,
                          n_random=args.n_random, seed=args.seed, convention=convention_name(args.self_interaction),
                          normalised=args.normalised, progress=report)
    ds.attrs["command"] = "densehebb " + " ".join(args.argv)
    with atomic_outputs(args.out, args.png) as (nc_tmp, png_tmp):   # both files or neither
        to_netcdf(ds, nc_tmp)
        if args.png:
            plot_dilution_diagram(ds, png_tmp)
    ph = ds["phase"].values
    fin = lambda v: float(v) if np.isfinite(v) else None  # noqa: E731
    summary = {"out": args.out, "png": args.png, "P": int(args.P), "K": int(args.K),
               "convention": ds.attrs["convention"], "overlaps": ds.attrs["overlaps"], "storage": "low",
               "n_d": int(ds.sizes["d"]), "n_T": int(ds.sizes["T"]), "n_starts": int(ds.attrs["n_starts"]),
               "phases": {p: int(np.sum(ph == i)) for i, p in enumerate(PHASES) if np.any(ph == i)},
               "other_states": ds.attrs["other_states"],
               "d_hierarchical_exists_T0": fin(ds["d_hierarchical_exists_T0"]),
               "d_hierarchical_global_T0": fin(ds["d_hierarchical_global_T0"]),
               "d_landau": fin(ds["d_landau"]), "T_c_d0": fin(ds["T_c_d0"]),
               "seconds": round(time.time() - t0, 2)}
    emit(summary, args.json)
    return 0


def _dataset_plane(args):
    """phase-diagram --plane M-T|rho-T: phase_diagrams.dataset_plane."""
    import numpy as np

    from densehebb.phase_diagrams.dataset_plane import dataset_diagram, plot_dataset_diagram
    from densehebb.phase_diagrams.io import atomic_outputs, to_netcdf
    from densehebb.theory import Model, convention_name
    from densehebb.theory.model import Examples

    M = int(args.M) if args.M is not None else 1
    r = float(args.r) if args.r is not None else 1.0
    spec = Model(P=args.P, convention=convention_name(args.self_interaction),
                 examples=Examples(M=M, r=r, supervised=args.dataset == "supervised",
                                   normalisation=args.normalisation, gaussian=bool(args.gaussian)))
    report = _reporter(args)
    if report:
        report(f"compiling the RS learning theory for P = {spec.P} (one solver for the whole plane) and tracing "
               f"T_M, T_c{', T_g' if args.alpha else ''} along {args.plane.split('-')[0]} ...")
    ds = dataset_diagram(spec, alpha=float(args.alpha or 0.0), plane=args.plane)
    ds.attrs["command"] = "densehebb " + " ".join(args.argv)
    with atomic_outputs(args.out, args.png) as (nc_tmp, png_tmp):
        to_netcdf(ds, nc_tmp)
        if args.png:
            plot_dataset_diagram(ds, png_tmp)
    axis = "M" if args.plane == "M-T" else "rho"
    summary = {"out": args.out, "png": args.png, "convention": spec.convention, "plane": args.plane,
               "dataset": args.dataset, "alpha": float(args.alpha or 0.0), f"n_{axis}": int(ds.sizes[axis]),
               "n_T": int(ds.sizes["T"]), "normalisation": args.normalisation, "gaussian": bool(args.gaussian)}
    summary.update({"r": r} if args.plane == "M-T" else {"M": M})
    for k in ("T_M", "T_c", "T_g"):
        if k in ds:
            summary[f"missing_{k}"] = int(np.isnan(ds[k].values).sum())
            summary[f"{k}_max"] = float(np.nanmax(ds[k].values)) if np.any(np.isfinite(ds[k].values)) else None
    emit(summary, args.json)
    return 0


def build_parser():
    p = Parser(prog="densehebb", description="Dense Hebbian networks: replica theory, phase diagrams, "
                                               "Monte Carlo (conventions: docs/conventions.md)")
    p.add_argument("--version", action=VersionAction, help="print densehebb <version> and exit")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    def model_args(sp, need_alpha=True, need_T=True, T_default=None, with_ansatz=True):
        sp.add_argument("--P", type=finite("P", lo=2, integer=True, hi=P_MAX), default=2,
                        help=f"interaction order (2..{P_MAX})")
        if need_alpha:
            sp.add_argument("--alpha", type=finite("alpha", lo=0), required=True, help="load K / N^(P-1)")
        if need_T:
            sp.add_argument("--T", type=finite("T", lo=0), required=T_default is None, default=T_default,
                            help="temperature (>= 0)")
        if with_ansatz:
            sp.add_argument("--ansatz", choices=("rs", "1rsb"), default="rs",
                            help="replica ansatz (1rsb: one step of RSB, theory.rsb1_solver)")
        sp.add_argument("--self-interaction", action="store_true",
                        help="all-tuples energy convention (default: distinct indices)")
        sp.add_argument("--json", action="store_true", help="print one JSON object")

    s = sub.add_parser("solve", help="solve the saddle-point equations at one (alpha, T), or at low storage with "
                                     "K patterns (--K, optionally diluted)")
    model_args(s, need_alpha=False)
    s.add_argument("--alpha", type=finite("alpha", lo=0), default=None,
                   help="load K / N^(P-1) (high storage; exactly one of --alpha and --K)")
    s.add_argument("--K", type=finite("K", lo=1, integer=True, hi=K_MAX), default=None,
                   help=f"low storage: K patterns (1..{K_MAX}, exact average over 3^K entries; theory.multitask); "
                        "m is then the list of the K overlaps, sorted descending")
    s.add_argument("--dilution", type=finite("dilution", lo=0), default=0.0,
                   help="fraction d in [0, 1) of blank pattern entries (multitasking): with --K the low-storage "
                        "theory; with --alpha the high-storage RS pure state (theory.multitask_high)")
    s.add_argument("--state", choices=("hierarchical", "parallel", "pure", "mixture", "global"),
                   default="hierarchical",
                   help="with --K: hierarchical (default; continued in T from its T = 0 form), parallel (all "
                        "equal), pure, mixture (--mixture n), global (multi-start minimum of f)")
    s.add_argument("--mixture", type=finite("mixture", lo=1, integer=True, hi=K_MAX), default=None,
                   help="with --state mixture: symmetric mixture of n patterns (odd, <= K)")
    s.add_argument("--normalised", action="store_true",
                   help="with --K: overlaps divided by 1 - d (default: unnormalised, at most 1 - d)")
    s.add_argument("--seed", type=finite("seed", lo=0, integer=True, hi=2**32 - 1), default=0,
                   help="with --state global: seed of the random starts (numpy default_rng)")
    s.add_argument("--branch", choices=("retrieval", "spin-glass", "paramagnetic", "example"), default="retrieval",
                   help="example: with --dataset unsupervised, the state retrieving one example (adds x, its "
                        "overlap, y, the overlap with each other example of the class; theory.learning_example)")
    s.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_dataset_args(s, "; m is then the archetype overlap and the output adds n (class-mean overlap), dataset, "
                        "r, M, rho (the AGS noise parameter r is then r_noise; RS theory: theory.learning)", gaussian=True)
    s.set_defaults(func=cmd_solve, validate=validate_solve)

    c = sub.add_parser("capacity", help="storage capacity alpha_c(T) and the overlap m_c there")
    model_args(c, need_alpha=False, T_default=0.0)
    c.add_argument("--mc", action="store_true", help="capacity from Monte Carlo (finite-size extrapolation)")
    c.add_argument("--low-storage", action="store_true",
                   help="K finite: spinodal and thermodynamic temperatures of Mattis states (or mixtures)")
    c.add_argument("--mixture", type=finite("mixture", lo=1, integer=True), default=1,
                   help="with --low-storage: symmetric mixture of this many patterns (1 = Mattis)")
    add_interaction_args(c, ": the zero-temperature thresholds alpha_1 (typical pattern) and alpha_c (all "
                            "patterns) of the exponential network, K = exp(alpha N) (theory.exponential); "
                            "attention: continuous states, the one-softmax-step threshold alpha_1(beta) "
                            "(theory.attention)", extra=("attention",))
    c.add_argument("--beta", type=finite("beta", lo=0, strict=True), default=None,
                   help="with --interaction attention: softmax inverse temperature beta > 0, logits beta xi.x "
                        "(default 1)")
    c.add_argument("--patterns", choices=("gaussian", "spherical"), default="gaussian",
                   help="with --interaction attention: Gaussian N(0, 1) or spherical (|xi|^2 = N) patterns")
    c.add_argument("--errors", type=finite("errors", lo=0), default=0.0,
                   help="with --interaction exponential|log-sum-exp: fraction rho in [0, 1/2) of random errors of "
                        "the starting state; > 0: one-step basin thresholds (default 0: single-flip stability)")
    c.add_argument("--all-patterns", action="store_true",
                   help="with --interaction exponential|log-sum-exp: alpha_max is alpha_c (all patterns at once) "
                        "instead of alpha_1 (a typical pattern)")
    c.add_argument("--dilution", type=finite("dilution", lo=0), default=0.0,
                   help="fraction d in [0, 1) of blank pattern entries: alpha_c of the RS pure state "
                        "(theory.multitask_high; T = 0, P >= 3: (1-d)^(P-2) alpha_c(0)); with --low-storage the "
                        "pure state's transitions (theory.multitask)")
    register_capacity_mc_args(c)
    add_dataset_args(c, ": the capacity of the archetype (learning) state; the output adds n_c (class-mean "
                        "overlap at alpha_c), dataset, r, M, rho (RS, high storage)", gaussian=True)
    c.set_defaults(func=cmd_capacity, validate=validate_capacity)

    th = sub.add_parser("threshold", help="learning from examples: the smallest number of examples per "
                                          "archetype M_min at which the archetype state is learnt")
    th.add_argument("--P", type=_float_list("P", lo=2, integer=True), default=[2],
                    help=f"interaction order (2..{P_MAX}); with --out a comma-separated list (threshold curves)")
    th.add_argument("--dataset", choices=("supervised", "unsupervised"), required=True,
                    help="couplings from the class means (supervised) or from every example (unsupervised)")
    th.add_argument("--r", type=_float_list("r", lo=0), required=True,
                    help="dataset quality r in (0, 1], P(chi = +1) = (1 + r)/2; with --out a comma-separated "
                         "list or a range start:stop:step (threshold curves M_min(r))")
    th.add_argument("--out", help="threshold curves: write M_min(r) for every --P and --r to this netCDF file")
    th.add_argument("--png", help="with --out: also draw the curves to this PNG")
    th.add_argument("--alpha", type=finite("alpha", lo=0), default=0.0,
                    help="load K / N^(P-1) (default 0: K finite)")
    th.add_argument("--T", type=finite("T", lo=0), default=0.0, help="temperature (>= 0, default 0)")
    th.add_argument("--criterion", choices=("exists", "global", "overlap"), default="exists",
                    help="the archetype state exists (default), is the global minimum of f, or has overlap "
                         "m >= --m-target")
    th.add_argument("--m-target", type=finite("m-target", lo=0, strict=True, hi=1), default=0.9,
                    help="with --criterion overlap: the archetype overlap to reach (default 0.9)")
    th.add_argument("--M-max", type=finite("M-max", lo=1, integer=True, hi=10**6), default=10_000,
                    help="largest M searched (default 10000)")
    th.add_argument("--normalisation", choices=("r", "R"), default="r",
                    help="energy divided by r^P (default) or R^(P/2), R = r^2 + (1 - r^2)/M")
    th.add_argument("--gaussian", action="store_true",
                    help="CLT site average s = 1 + sqrt(rho) z instead of the exact binomial")
    th.add_argument("--self-interaction", action="store_true",
                    help="all-tuples energy convention (default: distinct indices)")
    th.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    th.add_argument("--json", action="store_true", help="print one JSON object")
    th.set_defaults(func=cmd_threshold, validate=validate_threshold)

    d = sub.add_parser("phase-diagram", help="transition lines in the (alpha, T) plane -> netCDF (+ PNG)")
    model_args(d, need_alpha=False, need_T=False)
    d.add_argument("--out", required=True, help="netCDF file to write")
    d.add_argument("--png", help="figure to write")
    d.add_argument("--quiet", action="store_true", help="no progress on stderr (bar or lines)")
    add_dataset_args(d, ": the (alpha, T) diagram of the archetype (learning) state at fixed (r, M), or with "
                        "--plane a dataset plane", gaussian=True)
    d.add_argument("--plane", choices=("alpha-T", "M-T", "rho-T"), default="alpha-T",
                   help="alpha-T (default); with --dataset: M-T at fixed (--alpha, --r) or rho-T at fixed "
                        "(--alpha, --M), rho = (1 - r^2)/(M r^2)")
    d.add_argument("--alpha", type=finite("alpha", lo=0), default=None,
                   help="with --plane M-T or rho-T: the fixed load (default 0: K finite)")
    d.add_argument("--dilution-plane", action="store_true",
                   help="multitasking (low storage, diluted patterns): the (d, T) diagram of K patterns (--K) -- "
                        "pure / hierarchical / parallel / mixture / paramagnetic regions of the global minimum "
                        "and the transition lines (phase_diagrams.dilution_plane)")
    d.add_argument("--K", type=finite("K", lo=1, integer=True, hi=K_MAX), default=None,
                   help=f"with --dilution-plane: the number of patterns ({K_PLANE[0]}..{K_PLANE[1]})")
    d.add_argument("--n-d", type=finite("n-d", lo=3, integer=True, hi=1001), default=None,
                   help="with --dilution-plane: grid points along d (default 61 for K <= 3, fewer for larger K)")
    d.add_argument("--n-T", type=finite("n-T", lo=3, integer=True, hi=1001), default=None,
                   help="with --dilution-plane: grid points along T (default as --n-d); with --interaction "
                        "exponential|log-sum-exp: geometric T grid points (default 241)")
    d.add_argument("--d-max", type=finite("d-max", lo=0, strict=True), default=0.95,
                   help="with --dilution-plane: the largest d of the grid (default 0.95, < 1)")
    d.add_argument("--T-max", type=finite("T-max", lo=0, strict=True), default=None,
                   help="with --dilution-plane: the largest T (default 1.1 times the pure spinodal at d = 0); "
                        "with --interaction exponential|log-sum-exp: default 4 / min(lam)")
    d.add_argument("--interaction", choices=INTERACTIONS, default="polynomial",
                   help="exponential|log-sum-exp: the (alpha, T) diagram of the log-sum-exp energy "
                        "E = -(1/lam) ln sum_mu exp(lam N m_mu), K = exp(alpha N) patterns (REM closed forms, "
                        "phase_diagrams.exponential_thermo); exponential (E = -sum_mu exp(lam N m_mu)) is drawn "
                        "for its finite-temperature version, the log-sum-exp measure, and says so")
    d.add_argument("--lam", type=_positive_list("lam"), default=None,
                   help="with --interaction exponential|log-sum-exp: inverse width(s) lambda > 0, comma-separated "
                        "(one panel each; default 1)")
    d.add_argument("--n-alpha", type=finite("n-alpha", lo=3, integer=True, hi=2001), default=None,
                   help="with --interaction exponential|log-sum-exp: grid points in alpha on (0, ln 2] (default 241)")
    d.add_argument("--n-random", type=finite("n-random", lo=0, integer=True, hi=1000), default=24,
                   help="with --dilution-plane: random starts per grid point besides the named states (default 24)")
    d.add_argument("--seed", type=finite("seed", lo=0, integer=True, hi=2**32 - 1), default=0,
                   help="with --dilution-plane: seed of the random starts (numpy default_rng)")
    d.add_argument("--normalised", action="store_true",
                   help="with --dilution-plane: amplitudes divided by 1 - d (default: unnormalised)")
    d.set_defaults(func=cmd_phase_diagram, validate=validate_phase_diagram)

    dv = sub.add_parser("derive", help="print the free energy and its stationarity equations (sympy)")
    model_args(dv, need_alpha=False, need_T=False)
    dv.add_argument("--latex", action="store_true", help="LaTeX instead of plain text")
    add_dataset_args(dv, "; variables (n, C, v), r and M symbolic unless given (theory.symbolic_learning)",
                     gaussian=True)
    for action in dv._actions:
        if action.dest == "json":
            action.help = ("one JSON object: free_energy, stationarity {variable: df/dx}, fixed_point "
                           "[{lhs, rhs}] as sympy strings (LaTeX with --latex)")
    dv.set_defaults(func=cmd_derive, validate=validate_derive)

    register_mc(sub, model_args)
    register_learn(sub, model_args)
    return p


def _compilation_cache():
    """The JAX persistent compilation cache, on by default for the command line, so that a repeated command
    does not recompile (:func:`densehebb.cache.use_compilation_cache`; DENSEHEBB_CACHE_DIR=off disables it).
    Set through the environment, before JAX starts (``densehebb mc`` chooses its device count first)."""
    from densehebb.cache import use_compilation_cache

    use_compilation_cache()


def _subparser(parser, command):
    import argparse

    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            return a.choices[command]
    raise AssertionError("no subcommands")


def main(argv=None):
    """Run one command (``argv`` without the program name; default sys.argv[1:]); returns the exit code
    (argparse errors exit with code 2 through SystemExit)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    args.given = given_options(_subparser(parser, args.command), argv)
    try:
        args.validate(args)       # complete validation, before JAX is imported and before any file is written
        _compilation_cache()
        from .cli_mc import _use_all_cores

        _use_all_cores()          # one XLA host device per core: RS grids run their chunks on all of them
        return args.func(args)
    except (UsageError, ValueError, NotImplementedError, OverflowError, MemoryError) as e:
        if os.environ.get("DENSEHEBB_DEBUG"):
            raise
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        sys.stderr.write(f"densehebb: error: {msg}\n")
        return 2
    except BrokenPipeError:       # `densehebb ... | head`: the reader left; no traceback
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1


if __name__ == "__main__":
    sys.exit(main())
