"""Monte Carlo subcommands of the densehebb CLI: ``mc``, ``bench`` and ``capacity --mc``.

User guide: docs/montecarlo.md.
"""
from __future__ import annotations

import math
import os
import re
import sys

from .cli_common import (DATASETS, UsageError, add_dataset_args, add_interaction_args, check_dataset_args,
                         check_interaction_args, check_output, distinct_outputs, emit, finite, leaf, model_from_args,
                         refuse)

_NOT_CHECKPOINT = ((".nc", "netCDF"), (".png", "PNG"))

# ------------------------------------------------------------------------------------------------ mc
_SUMMARY_KEYS = ("m", "m_err", "m_abs", "m_abs_err", "m_max", "q", "q_err", "energy", "energy_err", "acceptance",
                 "tau_energy", "tau_m", "equilibrated", "drift_z",
                 # learning from examples (--dataset): class-mean overlap, unsupervised example overlaps
                 "n", "n_err", "x_max", "x_max_err", "x_mean", "x_mean_err",
                 # diluted patterns (--dilution): m is the list of sorted levels; the overlap with pattern 0,
                 # and how many chains have j = 0..K levels above the threshold
                 "m_pattern0", "m_pattern0_err", "n_condensed_counts", "condensed_threshold")


_MAX_VALUES = 10_000       # values in one list option (a range like 0:1:1e-12 would not fit in memory)


def _float_list(name, lo=None, hi=None, integer=False):
    """argparse type: comma-separated numbers (or start:stop:step for a range)."""
    import argparse

    conv = finite(name, lo=lo, integer=integer)

    def parse(text):
        text = text.strip()
        if ":" in text and not integer:
            parts = text.split(":")
            if len(parts) != 3:
                raise argparse.ArgumentTypeError(f"{name} range must be start:stop:step, got {text!r}")
            a, b, c = (float(conv(p)) for p in parts)
            if c <= 0 or b < a:
                raise argparse.ArgumentTypeError(f"{name} range needs start <= stop and step > 0, got {text!r}")
            n = int(math.floor((b - a) / c + 1e-9)) + 1
            if n > _MAX_VALUES:
                raise argparse.ArgumentTypeError(f"{name} range gives {n} values, more than {_MAX_VALUES}")
            return [round(a + k * c, 12) for k in range(n)]
        vals = [conv(p) for p in text.split(",") if p.strip()]
        if not vals:
            raise argparse.ArgumentTypeError(f"{name} needs at least one value, got {text!r}")
        if hi is not None and any(v > hi for v in vals):
            raise argparse.ArgumentTypeError(f"{name} values must be <= {hi}, got {text!r}")
        return vals

    return parse


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _use_all_cores(single_thread_blas=False):
    """Before JAX starts: one XLA host device per CPU core, unless the user's XLA_FLAGS already fixes the
    device count (then it is respected).  With ``single_thread_blas`` also one BLAS/OpenMP thread (the
    NumPy reference of the benchmark), unless the user set those variables.

    JAX reads XLA_FLAGS when it starts its backend, and NumPy fixes its BLAS threads when it is imported, so
    this only works while neither is imported -- the case for every ``densehebb`` command, since importing
    the CLI imports neither (phase_diagrams loads its JAX modules lazily).  Returns True if the settings
    could take effect, False if JAX (or, with ``single_thread_blas``, NumPy) was already imported (e.g.
    ``main()`` called from Python); nothing is changed then.  Results do not depend on the device count
    (tests/test_mc_devices.py); GPUs are used as usual (the flag only concerns the host platform).
    """
    if "jax" in sys.modules or (single_thread_blas and "numpy" in sys.modules):
        return False
    if single_thread_blas:
        for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
            os.environ.setdefault(var, "1")
    flags = os.environ.get("XLA_FLAGS", "")
    n = _cores()
    if "xla_force_host_platform_device_count" not in flags and n > 1:
        os.environ["XLA_FLAGS"] = (flags + f" --xla_force_host_platform_device_count={n}").strip()
    return True


def _host_devices() -> int:
    """The number of JAX devices the run will shard its samples over, as far as it is known before JAX
    starts: JAX's count if it is running, else the XLA host device count set in XLA_FLAGS (1 if none).
    (GPUs: simulate checks a GPU's own memory once JAX runs.)"""
    if "jax" in sys.modules:
        import jax

        return jax.local_device_count()
    m = re.search(r"xla_force_host_platform_device_count=(\d+)", os.environ.get("XLA_FLAGS", ""))
    return int(m.group(1)) if m else 1


def _mc_inputs():
    """montecarlo.inputs, loaded without JAX (cli_common.leaf)."""
    return leaf("densehebb.montecarlo.inputs")


def validate_mc(args):
    """Everything about `densehebb mc` that can be checked without NumPy or JAX (cmd_mc then checks the
    load and the memory before JAX starts)."""
    g = args.given
    if args.interaction != "polynomial":
        return validate_mc_exp(args)
    check_interaction_args(args, g)
    refuse(g, list(EXP_MC_OPTIONS), "applies with --interaction exponential|log-sum-exp only")
    if len(args.N) != 1:
        raise UsageError("--N takes one size (a comma list applies with --interaction exponential|log-sum-exp "
                         "--census)")
    args.N = args.N[0]
    if args.K is not None and args.alpha is not None:
        raise UsageError("give either --K (low storage) or --alpha (high storage), not both")
    if args.K is None and args.alpha is None:
        raise UsageError("give the load: --alpha (K = round(alpha N^(P-1))) or the number of patterns --K")
    if args.dilution is not None:
        if not args.dilution < 1:
            raise UsageError(f"dilution must lie in [0, 1), got {args.dilution}")
        if args.plefka:
            raise UsageError("--plefka with --dilution is not available (the Plefka flips assume +-1 archetypes)")
        if args.theory:
            raise UsageError("--theory with --dilution is not available in mc (densehebb solve --K --dilution)")
    else:
        refuse(g, ["overlaps"], "applies with --dilution only")
    if args.temperatures is not None and args.T is not None:
        raise UsageError("give either --T or --temperatures, not both")
    temps = args.temperatures if args.temperatures is not None else ([args.T] if args.T is not None else None)
    if temps is None:
        raise UsageError("give the temperature: --T or --temperatures")
    if len(set(temps)) != len(temps):
        raise UsageError(f"temperatures must be distinct, got {temps}")
    if args.tempering:
        if len(temps) < 2:
            raise UsageError("parallel tempering needs at least 2 temperatures (--temperatures)")
        if min(temps) <= 0:
            raise UsageError("parallel tempering needs temperatures > 0")
        if any(b <= a for a, b in zip(temps, temps[1:])):
            raise UsageError(f"parallel tempering needs increasing temperatures, got {temps}")
    else:
        refuse(g, ["swap_every"], "applies with --tempering only")
    if args.dynamics == "greedy" and any(t != 0 for t in temps):
        raise UsageError("dynamics 'greedy' is zero-temperature descent: use T = 0")
    if args.m_min is not None:
        if not -1 < args.m_min < 1:
            raise UsageError(f"--m-min must lie in (-1, 1), got {args.m_min}")
        if args.init not in ("pattern", "patterns"):
            raise UsageError("--m-min needs --init pattern or patterns (a start inside the basin)")
        if args.dilution is not None or args.dataset != "none":
            raise UsageError("--m-min applies to plain patterns only (no --dilution, no --dataset)")
    burn_in = args.sweeps // 2 if args.burn_in is None else args.burn_in
    if args.sweeps <= burn_in:
        raise UsageError(f"sweeps ({args.sweeps}) must exceed burn_in ({burn_in}): nothing would be measured")
    if (args.sweeps - burn_in) % args.measure_every:
        raise UsageError(f"sweeps - burn_in = {args.sweeps - burn_in} must be a multiple of "
                         f"measure_every = {args.measure_every}")
    if args.checkpoint is None:
        refuse(g, ["checkpoint_every"], "applies with --checkpoint only")
    check_dataset_args(args, g)
    if args.plefka and args.dataset == "none":
        raise UsageError("--plefka applies with --dataset supervised|unsupervised only (the Plefka approximation "
                         "of the couplings built from examples)")
    check_output(args.checkpoint, "--checkpoint", forbid_ext=_NOT_CHECKPOINT)
    check_output(args.out, "--out", ".nc", "netCDF")
    distinct_outputs(out=args.out, checkpoint=args.checkpoint)


def _preflight_mc(args, temps):
    """After the device count is set, before JAX: the number of patterns, an existing checkpoint file,
    and the memory of the whole run (montecarlo.inputs.check_memory)."""
    inputs = _mc_inputs()
    K, _ = inputs.load(args.N, args.alpha, args.K, args.P, memory=False)   # the whole run is checked below
    cols, what_K = K, f"K = {K}"
    if args.dilution:            # diluted patterns run as 2 pattern columns, 1 + P overlaps per pattern
        from types import SimpleNamespace

        cols = inputs.pattern_columns(K, args.P, SimpleNamespace(supervised=True, M=1))
        what_K = f"K = {K} diluted patterns"
    if args.dataset != "none":   # stored columns with examples (montecarlo.inputs.pattern_columns)
        from types import SimpleNamespace

        cols = inputs.pattern_columns(K, args.P, SimpleNamespace(supervised=args.dataset == "supervised", M=args.M))
        what_K = f"K = {K} archetypes with M = {args.M} {args.dataset} examples"
    if args.checkpoint is not None and os.path.exists(args.checkpoint):
        leaf("densehebb.montecarlo.checkpoint").read_meta(args.checkpoint)   # ValueError unless a checkpoint
    n_dev = _host_devices()
    inputs.check_memory(args.N, cols, args.samples, len(temps), args.replicas, n_dev,
                        what=f"mc with N = {args.N}, {what_K}, {args.samples} samples x {len(temps)} "
                             f"temperatures x {args.replicas} replicas"
                             + (f" on {n_dev} devices" if n_dev > 1 else ""))


def _write_netcdf(ds, path):
    """ds.to_netcdf(path), atomically (temporary file in the same directory, then rename)."""
    from densehebb.phase_diagrams.io import atomic_outputs

    with atomic_outputs(path) as (tmp,):
        ds.to_netcdf(tmp)


def cmd_mc(args):
    if args.interaction != "polynomial":
        return cmd_mc_exp(args)
    temps = args.temperatures if args.temperatures is not None else [args.T]
    _use_all_cores()
    _preflight_mc(args, temps)
    from densehebb.montecarlo import simulate, summarize

    if args.burn_in is None:
        args.burn_in = args.sweeps // 2
    model = model_from_args(args, storage="high" if args.K is None else "low")
    diluted = args.dilution is not None
    if diluted:
        model = model.replace(dilution=float(args.dilution))
    extra = dict(levels=True, overlaps=args.overlaps) if diluted else {}
    ds = simulate(args.seed, model, N=args.N, alpha=args.alpha, K=args.K, T=temps, **extra,
                  n_samples=args.samples, n_replicas=args.replicas, sweeps=args.sweeps, burn_in=args.burn_in,
                  measure_every=args.measure_every, dynamics=args.dynamics, init=args.init,
                  tempering=args.tempering, swap_every=args.swap_every,
                  checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every,
                  segment_sweeps=args.segment_sweeps, plefka=args.plefka, m_min=args.m_min,
                  progress=not args.quiet and not args.json and sys.stderr.isatty())
    if args.out:
        ds.attrs["command"] = "densehebb " + " ".join(args.argv)
        _write_netcdf(ds, args.out)
    s = summarize(ds)
    per_T = [s] if len(temps) == 1 else [s[float(t)] for t in ds["T"].values]
    out = {"P": args.P, "N": args.N, "K": int(ds.attrs["K"]), "alpha": args.alpha,
           "T": temps[0] if len(temps) == 1 else [float(t) for t in ds["T"].values],
           "convention": model.convention, "dynamics": ds.attrs["dynamics"], "samples": args.samples,
           "replicas": args.replicas, "sweeps": args.sweeps, "burn_in": args.burn_in, "seed": args.seed,
           "exact_arithmetic": bool(ds.attrs["delta_energy_exact"]), "devices": int(ds.attrs["n_devices"]),
           "dataset": args.dataset, "init": args.init}
    if diluted:
        out.update(dilution=float(args.dilution), overlaps=args.overlaps, storage=model.storage,
                   m_order=("m: the K overlaps |m_mu| sorted descending in each measurement, time-averaged and "
                            "averaged over chains level by level (m[0] the largest); m_err their errors"))
    if model.examples is not None:
        out.update(r=model.examples.r, M=model.examples.M, normalisation=model.examples.normalisation,
                   norm=float(ds.attrs["examples_norm"]), plefka=bool(args.plefka))
    if args.m_min is not None:
        out["m_min"] = args.m_min
    if args.tempering:
        out["tempering"] = True
        out["swap_acceptance"] = [float(v) for v in ds["swap_acceptance"].values]
    theory = None
    if args.theory:
        from densehebb.theory import solve

        theory = []
        for t in (temps if len(temps) > 1 else temps[:1]):
            try:
                r = solve(model, 0.0 if args.alpha is None else args.alpha, t, "retrieval")   # --K: alpha = 0
                theory.append(float(r.m) if bool(r.converged) else math.nan)
            except (NotImplementedError, ValueError) as e:  # theory for this P not available
                theory.append(math.nan)
                out["theory_note"] = str(e).splitlines()[0]
    if diluted:              # m: the sorted levels (a list), the other keys as usual
        for d in per_T:
            d.update(m=d["m_levels"], m_err=d["m_levels_err"], m_pattern0=d["m"], m_pattern0_err=d["m_err"])
    if len(per_T) == 1:
        out.update({k: (v if isinstance(v, (bool, list)) else float(v)) for k, v in per_T[0].items()
                    if k in _SUMMARY_KEYS})
        if theory is not None:
            out["m_theory_rs"] = theory[0]
    else:
        out["results"] = [{"T": d["T"], **{k: d[k] for k in _SUMMARY_KEYS if k in d}} for d in per_T]
        if theory is not None:
            for d, m in zip(out["results"], theory):
                d["m_theory_rs"] = m
    if args.checkpoint:
        out["checkpoint"] = args.checkpoint
    if args.out:
        out["out"] = args.out
    emit(out, args.json)
    return 0


# ------------------------------------------------------------------------- mc, exponential networks
EXP_MC_OPTIONS = ("census", "alphas", "errors", "tested")
# options of `mc` that belong to the P-body models (refused with --interaction exponential|log-sum-exp)
POLYNOMIAL_MC_OPTIONS = ("P", "self_interaction", "K", "dilution", "overlaps", "temperatures", "tempering",
                         "swap_every", "checkpoint", "checkpoint_every", "segment_sweeps", "out", "theory", "init",
                         "measure_every", "dataset", "r", "M", "normalisation", "plefka", "m_min")


def validate_mc_exp(args):
    """`mc --interaction exponential|log-sum-exp` without NumPy or JAX: options, sizes, loads, the number
    of patterns and the memory (montecarlo.inputs.exp_patterns / check_exp_memory), before any allocation."""
    g = args.given
    check_interaction_args(args, g, POLYNOMIAL_MC_OPTIONS)
    inputs = _mc_inputs()
    if args.dynamics == "glauber" and "dynamics" in g:
        raise UsageError("--dynamics glauber is not available with --interaction exponential|log-sum-exp "
                         "(Metropolis at T > 0, strict descent at T = 0)")
    if args.census:
        refuse(g, ["alpha", "T", "sweeps", "burn_in", "replicas", "dynamics"], "does not apply with --census "
               "(zero-temperature census over --alphas)")
        if args.alphas is None or len(args.alphas) < 2:
            raise UsageError("--census needs at least 2 loads --alphas (K = round(exp(alpha N)))")
        if any(b <= a for a, b in zip(args.alphas, args.alphas[1:])):
            raise UsageError(f"--alphas must be increasing, got {args.alphas}")
        if len(set(args.N)) != len(args.N):
            raise UsageError(f"N values must be distinct, got {args.N}")
        if not 0.0 <= args.errors < 0.5:
            raise UsageError(f"--errors must lie in [0, 1/2) (fraction of flipped spins), got {args.errors!r}")
        if not args.alphas[0] > 0:
            raise UsageError(f"alpha must be > 0 for the exponential network (K = exp(alpha N) patterns), got "
                             f"{args.alphas[0]}")
        for N in args.N:
            K = inputs.exp_patterns(N, max(args.alphas))
            inputs.check_exp_memory(N, K, census_batch=inputs.exp_census_batch(K),
                                    what=f"the census at N = {N}, alpha = {max(args.alphas)}")
        return
    refuse(g, ["alphas", "errors", "tested"], "applies with --census only")
    if len(args.N) != 1:
        raise UsageError("--N takes one size without --census")
    args.N = args.N[0]
    if args.alpha is None:
        raise UsageError("give the load --alpha (K = round(exp(alpha N)) patterns)")
    if args.T is None:
        raise UsageError("give the temperature --T")
    if args.dynamics == "greedy" and args.T != 0:
        raise UsageError("dynamics 'greedy' is zero-temperature descent: use T = 0")
    burn_in = args.sweeps // 2 if args.burn_in is None else args.burn_in
    if args.sweeps <= burn_in:
        raise UsageError(f"sweeps ({args.sweeps}) must exceed burn_in ({burn_in}): nothing would be measured")
    K = inputs.exp_patterns(args.N, args.alpha)
    inputs.check_exp_memory(args.N, K, chains=args.replicas, what=f"mc with N = {args.N}, alpha = {args.alpha}, "
                            f"{args.replicas} chains")


def cmd_mc_exp(args):
    from densehebb.montecarlo import exponential as ex

    if args.census:
        out = ex.census_scan(args.seed, args.N, args.alphas, args.lam, errors=args.errors, n_tested=args.tested,
                             n_samples=args.samples)
        out = {"interaction": args.interaction, "convention": args.interaction, "lam": out.pop("lam"),
               "dynamics": "zero-temperature", "mode": "census",
               "update": ("stable: no single flip strictly raises G = sum_mu exp(lam N m_mu) (lowers E; both "
                          "energies agree at T = 0); basin: from round(errors N) random errors, one synchronous "
                          "update sigma_i <- sign(G(sigma_i=+1) - G(sigma_i=-1)), zero keeps, returns exactly"),
               "samples": args.samples, "tested_per_sample": args.tested, "seed": args.seed, **out}
        if args.json:
            emit(out, True)
        else:
            print(f"T = 0 census, {args.interaction}, lam = {out['lam']}, errors = {out['errors']} "
                  f"(alpha_1 = {out['alpha_1_theory']:.4f}, basin alpha_1(rho) = {out['alpha_1_basin_theory']:.4f})")
            print("  alpha   " + "".join(f"N={n:<16d}" for n in out["N"]))
            for j, a in enumerate(out["alphas"]):
                print(f"  {a:<7.4f} " + "".join(f"{out['stable_fraction'][i][j]:.3f}/{out['basin_fraction'][i][j]:.3f}"
                                                f"{'':7s}" for i in range(len(out["N"]))))
            for n, c, b in zip(out["N"], out["stable_crossing"], out["basin_crossing"]):
                print(f"crossing (fraction 1/2) N = {n}: stable {c:.4f}, basin {b:.4f}")
        return 0
    out = ex.run_chains(args.seed, args.N, args.alpha, args.lam, args.T, energy=args.interaction,
                        n_samples=args.samples, n_chains=args.replicas, n_sweeps=args.sweeps, burn_in=args.burn_in)
    emit(out, args.json)
    return 0


# --------------------------------------------------------------------------------------------- bench
def cmd_bench(args):
    if args.theory:
        from .bench_theory import run as run_theory

        if args.P is not None:
            raise UsageError("--P selects Monte Carlo cases; the theory benchmark runs its fixed cases")
        run_theory(out=sys.stdout, json_lines=args.json, quick=args.quick, rsb1_grid_n=args.rsb1_grid)
        return 0
    fresh = _use_all_cores(single_thread_blas=True)
    import jax

    from densehebb.montecarlo import bench
    from densehebb.theory import convention_name

    all_cases = bench.QUICK_CASES if args.quick else bench.CASES
    all_learning = bench.QUICK_LEARNING_CASES if args.quick else bench.LEARNING_CASES    # (dataset, P, N, K, M)
    cases = all_cases if args.P is None else [c for c in all_cases if c[0] == args.P]
    learning = all_learning if args.P is None else [c for c in all_learning if c[1] == args.P]
    if not cases and not learning:
        orders = sorted({c[0] for c in all_cases} | {c[1] for c in all_learning})
        raise UsageError(f"no benchmark case for P = {args.P} (the cases have P in {orders})")
    if not fresh:
        sys.stderr.write(f"densehebb bench: note: JAX/NumPy were already imported: running on "
                         f"{jax.device_count()} device(s) with the BLAS threads of this process (use the "
                         "densehebb command for one device per core and single-threaded BLAS)\n")
    exp_cases = None if args.P is None else ()     # the exponential cases have no P: only without --P
    bench.run(json_lines=args.json, quick=args.quick, out=sys.stdout, cases=cases, learning_cases=learning,
              convention=convention_name(args.self_interaction), exp_cases=exp_cases)
    return 0


# ---------------------------------------------------------------------------------------- register
def register(sub, model_args):
    """Add the Monte Carlo subcommands to the CLI's subparsers."""
    m = sub.add_parser("mc", help="Monte Carlo simulation (Glauber/Metropolis, any P, tempering, checkpoints)")
    model_args(m, with_ansatz=False)
    for action in m._actions:          # --T may be replaced by --temperatures, --alpha by --K
        if action.dest in ("T", "alpha"):
            action.required = False
            action.default = None
        if action.dest == "alpha":
            action.help = "load K / N^(P-1) (high storage; or --K)"
    m.add_argument("--K", type=finite("K", lo=1, integer=True, hi=2**31 - 1), default=None,
                   help="number of patterns (low storage; instead of --alpha)")
    m.add_argument("--dilution", type=finite("dilution", lo=0), default=None,
                   help="diluted patterns: fraction d in [0, 1) of blank entries (docs/conventions.md); m is then "
                        "the list of the K overlaps |m_mu| sorted descending in each measurement, averaged "
                        "level by level")
    m.add_argument("--overlaps", choices=("unnormalised", "normalised"), default="unnormalised",
                   help="with --dilution: report m_mu = (1/N) xi^mu . sigma (default) or that divided by 1 - d")
    m.add_argument("--temperatures", type=_float_list("temperatures", lo=0),
                   help="comma-separated temperatures (instead of --T), e.g. for --tempering")
    m.add_argument("--N", type=_float_list("N", lo=2, integer=True), required=True,
                   help="number of neurons (with --census: comma-separated sizes)")
    m.add_argument("--samples", type=finite("samples", lo=1, integer=True), default=8,
                   help="disorder samples (pattern sets)")
    m.add_argument("--replicas", type=finite("replicas", lo=2, integer=True), default=2,
                   help="replicas per sample and temperature (>= 2 for the overlap q)")
    m.add_argument("--sweeps", type=finite("sweeps", lo=2, integer=True), default=400)
    m.add_argument("--burn-in", type=finite("burn-in", lo=1, integer=True), default=None,
                   help="sweeps discarded before measuring (default: sweeps / 2)")
    m.add_argument("--measure-every", type=finite("measure-every", lo=1, integer=True), default=1,
                   help="sweeps between measurements")
    m.add_argument("--seed", type=finite("seed", lo=0, integer=True, hi=2**63 - 1), default=0)
    m.add_argument("--dynamics", choices=("glauber", "metropolis", "greedy"), default="glauber",
                   help="greedy: zero-temperature strict descent (T = 0 only)")
    m.add_argument("--init", choices=("pattern", "patterns", "random", "hierarchical"), default="pattern",
                   help="start at pattern 0, at pattern r for replica r, at random spins, or (diluted patterns) "
                        "at the T = 0 hierarchical state sigma_i = xi^k_i, k the first non-blank pattern; blank "
                        "entries of the start pattern take random spins")
    m.add_argument("--tempering", action="store_true", help="parallel tempering between the --temperatures")
    m.add_argument("--m-min", type=finite("m-min"), default=None,
                   help="basin constraint (constrained Monte Carlo): reject flips that would take the Mattis "
                        "overlap with the start pattern below this value in (-1, 1); samples exp(-H/T) "
                        "restricted to {m >= m-min} (plain patterns, --init pattern or patterns)")
    m.add_argument("--swap-every", type=finite("swap-every", lo=1, integer=True), default=1,
                   help="sweeps between replica-exchange rounds")
    m.add_argument("--checkpoint", metavar="FILE", help="write checkpoints to FILE; rerun the same command "
                                                       "to resume an interrupted run (identical result)")
    m.add_argument("--checkpoint-every", type=finite("checkpoint-every", lo=0), default=60.0,
                   help="seconds between checkpoints (default 60; one is always written at the end)")
    m.add_argument("--segment-sweeps", type=finite("segment-sweeps", lo=1, integer=True), default=None,
                   help="sweeps per compiled call (checkpoint and progress granularity; default: automatic)")
    m.add_argument("--out", metavar="FILE.nc", help="also write the full xarray Dataset to netCDF")
    m.add_argument("--quiet", action="store_true", help="no progress bar")
    m.add_argument("--theory", action="store_true", help="also print the RS retrieval overlap m_theory_rs")
    add_dataset_args(m, "; m is then the archetype overlap and the output adds n (class-mean overlap) and, "
                        "unsupervised, x_max, x_mean (example overlaps)")
    m.add_argument("--plefka", action="store_true",
                   help="with --dataset: the Plefka (first-order mean-field) dynamics, flips accepted with the "
                        "mean-field energy change; the output's dynamics is then e.g. glauber-plefka (the "
                        "observables stay exact; docs/montecarlo.md)")
    add_interaction_args(m, "; with exponential|log-sum-exp: K = round(exp(alpha N)) patterns, Metropolis in "
                            "float64 (T = 0: strict descent), chains started at pattern 0 (--replicas chains per "
                            "sample), or the T = 0 census (--census)")
    m.add_argument("--census", action="store_true",
                   help="with --interaction exponential|log-sum-exp: zero-temperature census over --N sizes and "
                        "--alphas: fraction of tested patterns that are single-flip fixed points, and of one-step "
                        "synchronous updates from --errors random errors that return exactly to the pattern")
    m.add_argument("--alphas", type=_float_list("alphas", lo=0),
                   help="with --census: loads alpha (K = round(exp(alpha N))), increasing; comma list or "
                        "start:stop:step")
    m.add_argument("--errors", type=finite("errors", lo=0), default=0.0,
                   help="with --census: fraction rho in [0, 1/2) of random errors of the one-step basin start")
    m.add_argument("--tested", type=finite("tested", lo=1, integer=True, hi=10**6), default=256,
                   help="with --census: patterns tested per sample (default 256)")
    m.set_defaults(func=cmd_mc, validate=validate_mc)

    b = sub.add_parser("bench", help="Monte Carlo throughput benchmark, or with --theory the theory's speed "
                                     "(one JSON line per case with --json)")
    model_args(b, need_alpha=False, need_T=False, with_ansatz=False)   # --P, --self-interaction, --json
    for action in b._actions:
        if action.dest == "P":          # default: every case; --P selects the cases of one order
            action.default = None
            action.help = "only the cases of this interaction order (default: all)"
        elif action.dest == "json":
            action.help = "one JSON object per line"
    b.add_argument("--quick", action="store_true", help="tiny cases (a few seconds; for tests)")
    b.add_argument("--theory", action="store_true",
                   help="benchmark the theory instead (RS grids vs a SciPy reference, 1RSB grid, CLI wall "
                        "times; about 10 minutes on 2 cores) and report targets_met")
    b.add_argument("--rsb1-grid", type=finite("rsb1-grid", lo=1, integer=True), default=6, metavar="N",
                   help="with --theory: the 1RSB case solves an N x N grid (default 6; 20 takes ~30 min)")
    b.set_defaults(func=cmd_bench, validate=lambda args: None)


# -------------------------------------------------------------------------------------- capacity --mc
def _threshold(text):
    """argparse type of --threshold: 'auto' or a number in [0, 1]."""
    if text.strip().lower() == "auto":
        return "auto"
    return finite("threshold", lo=0, hi=1)(text)


def register_capacity_mc_args(parser):
    """Options of `densehebb capacity --mc` (the capacity parser already has --P, --T, --self-interaction,
    --json)."""
    g = parser.add_argument_group("Monte Carlo capacity (--mc)")
    g.add_argument("--N", type=_float_list("N", lo=2, integer=True), default=None,
                   help="system sizes, comma-separated (default 500,1000,2000 for P = 2)")
    g.add_argument("--alphas", type=_float_list("alphas", lo=0),
                   help="loads: comma list or start:stop:step (default 0.12:0.20:0.01 for P = 2; P >= 3: 13 loads from 0.8 to "
                        "2.0 times the RS T = 0 capacity)")
    g.add_argument("--samples", type=finite("samples", lo=1, integer=True), default=32,
                   help="disorder samples per (N, alpha)")
    g.add_argument("--starts", type=finite("starts", lo=1, integer=True), default=16,
                   help="patterns tested per sample (chains started at patterns 0..starts-1)")
    g.add_argument("--threshold", type=_threshold, default="auto",
                   help="retrieved if the final overlap is >= threshold: 'auto' (default; per N, the minimum of "
                        "the overlap density between its two modes, else the midpoint between the median overlaps "
                        "at the smallest and largest load) or a number in [0, 1]")
    g.add_argument("--max-sweeps", type=finite("max-sweeps", lo=1, integer=True), default=100,
                   help="most zero-temperature sweeps of the quench (default 100)")
    g.add_argument("--seed", type=finite("seed", lo=0, integer=True, hi=2**63 - 1), default=0)
    g.add_argument("--exponent", type=finite("exponent", lo=0, strict=True), default=None,
                   help="fix omega in alpha_c(N) = alpha_c + a N^-omega (default: free with >= 4 sizes, "
                        "else 1/2 with the spread over --omega-range added to the error)")
    g.add_argument("--omega-range", type=_float_list("omega-range", lo=0), default=None,
                   help="lo,hi: omega range whose spread of alpha_c is the systematic error of a fixed-omega fit "
                        "(default 0.3333,1)")
    g.add_argument("--protocol", choices=("greedy", "anneal"), default="greedy",
                   help="greedy: zero-temperature descent from the pattern (a dynamical threshold); anneal: "
                        "glauber with T lowered linearly from --anneal-T to 0, then the greedy quench")
    g.add_argument("--anneal-T", type=finite("anneal-T", lo=0, strict=True), default=0.1,
                   help="starting temperature of the anneal (default 0.1)")
    g.add_argument("--anneal-sweeps", type=finite("anneal-sweeps", lo=1, integer=True), default=100,
                   help="glauber sweeps of the anneal (default 100)")
    g.add_argument("--anneal-stages", type=finite("anneal-stages", lo=1, integer=True), default=10,
                   help="equal temperature stages of the anneal (default 10)")
    g.add_argument("--theory", action="store_true",
                   help="also report the RS and 1RSB capacity and branch-end overlap m_c (T = 0; about 2 minutes "
                        "for P = 3)")
    g.add_argument("--bootstrap", type=finite("bootstrap", lo=2, integer=True, hi=100_000), default=200,
                   help="bootstrap resamplings for the alpha_c(N) errors")
    g.add_argument("--out", metavar="FILE.nc", help="write the final overlaps (Dataset) to netCDF")
    g.add_argument("--quiet", action="store_true", help="no progress bar")


# the options of the --mc group (refused without --mc)
CAPACITY_MC_OPTIONS = ("N", "alphas", "samples", "starts", "threshold", "max_sweeps", "seed", "exponent", "bootstrap",
                       "out", "quiet", "omega_range", "protocol", "anneal_T", "anneal_sweeps", "anneal_stages",
                       "theory")
_DEFAULT_NS_P2 = [500, 1000, 2000]
_DEFAULT_ALPHA_MIN_P2, _DEFAULT_ALPHA_MAX_P2, _DEFAULT_N_ALPHA_P2 = 0.12, 0.2, 9   # montecarlo.capacity.default_alphas(2)
# P >= 3 without --alphas: 13 loads from 0.8 to 2.0 times the RS T = 0 capacity (distinct indices, 4 digits of
# densehebb.capacity; tests/test_mc_cli.py recomputes them).  Finite-N dynamical thresholds lie above alpha_c
# (P = 3 greedy: 0.157-0.18 at N = 50-400, against 0.1261), hence the range.
RS_ALPHA_C_T0 = {3: 0.1261, 4: 0.03298, 5: 0.007199, 6: 0.001314, 7: 0.0002046, 8: 2.772e-05}


def default_load_grid(P):
    """The loads `capacity --mc` uses when --alphas is not given (pure Python: runs before NumPy starts)."""
    if P == 2:
        return [round(_DEFAULT_ALPHA_MIN_P2 + 0.01 * k, 4) for k in range(_DEFAULT_N_ALPHA_P2)]
    return [float(f"{RS_ALPHA_C_T0[P] * (0.8 + 0.1 * k):.4g}") for k in range(13)]


def validate_capacity_mc(args):
    """`capacity --mc` without NumPy or JAX (the BLAS threads are set before NumPy starts): sizes, loads,
    patterns per start, the output file."""
    P = args.P
    if args.N is None and P != 2:
        raise UsageError(f"give the system sizes with --N for P = {P}")
    if args.alphas is None:            # the defaults are filled in here; cmd_capacity_mc uses args as they are
        args.alphas = default_load_grid(P)
    if args.N is None:
        args.N = list(_DEFAULT_NS_P2)
    if len(args.alphas) < 3:
        raise UsageError("give at least 3 loads (--alphas) to locate alpha_c")
    if len(set(args.alphas)) != len(args.alphas):
        raise UsageError(f"alphas must be distinct, got {args.alphas}")
    if len(set(args.N)) != len(args.N):
        raise UsageError(f"N values must be distinct, got {args.N}")
    a_min, a_max = min(args.alphas), max(args.alphas)
    for N in args.N:
        k_min, k_max = (int(round(a * N ** (P - 1))) for a in (a_min, a_max))
        if k_min < args.starts:
            raise UsageError(f"the smallest load gives K = {k_min} patterns at N = {N}, fewer than "
                             f"--starts {args.starts}")
        if k_max > 2**31 - 1:
            raise UsageError(f"the largest load gives K = {k_max} patterns at N = {N}: too many")
    if args.omega_range is not None and (len(args.omega_range) != 2 or not
                                         0 < args.omega_range[0] <= args.omega_range[1]):
        raise UsageError(f"--omega-range must be lo,hi with 0 < lo <= hi, got {args.omega_range}")
    if args.protocol == "anneal" and args.T != 0:
        raise UsageError("--protocol anneal ends in a zero-temperature quench: use it with --T 0")
    if args.anneal_stages > args.anneal_sweeps:
        raise UsageError(f"--anneal-stages ({args.anneal_stages}) must be <= --anneal-sweeps ({args.anneal_sweeps})")
    check_output(args.out, "--out", ".nc", "netCDF")


def cmd_capacity_mc(args):
    _use_all_cores(single_thread_blas=True)
    P = args.P
    Ns, alphas = args.N, args.alphas          # defaults filled in by validate_capacity_mc
    inputs = _mc_inputs()
    n_alpha, a_max = len(alphas), max(alphas)
    n_dev = _host_devices()
    for N in Ns:
        inputs.check_memory(N, int(round(a_max * N ** (P - 1))), n_alpha * args.samples, 1, args.starts, n_dev,
                            what=f"capacity --mc at N = {N}" + (f" on {n_dev} devices" if n_dev > 1 else ""))
    from densehebb.montecarlo.capacity import capacity_curve, extrapolate

    model = model_from_args(args)
    ds = capacity_curve(args.seed, model, Ns=Ns, alphas=alphas, n_samples=args.samples, n_starts=args.starts,
                        T=args.T, max_sweeps=args.max_sweeps, threshold=args.threshold,
                        progress=not args.quiet and not args.json and sys.stderr.isatty(), protocol=args.protocol,
                        anneal_T=args.anneal_T, anneal_sweeps=args.anneal_sweeps, anneal_stages=args.anneal_stages)
    if args.out:
        _write_netcdf(ds, args.out)
    omega_range = tuple(args.omega_range) if args.omega_range is not None else (1 / 3, 1.0)
    r = extrapolate(ds, threshold=args.threshold, exponent=args.exponent, omega_range=omega_range,
                    n_boot=args.bootstrap, seed=args.seed)
    out = {"P": P, "T": args.T, "convention": model.convention, "method": "monte-carlo",
           "protocol": args.protocol if args.T == 0 else "glauber",
           "dynamics": ds.attrs["dynamics"], "N": r["N"], "alphas": r["alphas"], "samples": args.samples,
           "starts": args.starts, "status": r["status"], "message": r["message"], "criterion": r["criterion"],
           "threshold": r["threshold"], "fraction_retrieved": r["fraction"],
           "mean_m_final": r["mean_m_final"], "sweeps": [int(v) for v in ds["sweeps"].values],
           "alpha_c_N": r["alpha_c_N"], "alpha_c_N_err": r["alpha_c_N_err"],
           "fit": r["fit"], "omega": r["omega"], "omega_err": r["omega_err"], "omega_free": r["omega_free"],
           "omega_range": r["omega_range"], "slope": r["slope"], "chi2_dof": r["chi2_dof"],
           "alpha_c_mc": r["alpha_c_mc"], "alpha_c_mc_err": r["alpha_c_mc_err"],
           "alpha_c_mc_stat": r["alpha_c_mc_stat"], "alpha_c_mc_sys": r["alpha_c_mc_sys"]}
    if args.theory:
        from densehebb.phase_diagrams.api import capacity as theory_capacity

        for ans in ("rs", "1rsb"):
            t = theory_capacity(model.replace(ansatz=ans))
            out[f"theory_{ans}"] = {"alpha_c": float(t.alpha_c), "m_c": float(t.m_c), "status": t.status}
    if args.out:
        out["out"] = args.out
    if args.json:
        emit(out, True)
        if r["status"] != "ok":
            print(f"densehebb: capacity --mc: {r['message']}", file=sys.stderr)
    else:
        print(f"capacity from Monte Carlo: P = {P}, T = {args.T}, {out['convention']}, {out['dynamics']}")
        print(f"criterion: {r['criterion']['name']}; threshold per N: "
              + ", ".join(f"{int(n)}: {t:.3f}" for n, t in zip(r["N"], r["threshold"])))
        print("fraction of patterns retrieved:")
        print("  alpha   " + "".join(f"N={n:<9d}" for n in r["N"]))
        for a, row in zip(r["alphas"], zip(*r["fraction"])):
            print(f"  {a:<7.4f} " + "".join(f"{v:<11.3f}" for v in row))
        for n, c, e in zip(r["N"], r["alpha_c_N"], r["alpha_c_N_err"]):
            print(f"alpha_c(N={n}) = {c:.4f} +- {e:.4f}" if math.isfinite(c) else f"alpha_c(N={n}): no crossing")
        if math.isfinite(r["alpha_c_mc"]):
            om = (f"omega = {r['omega']:.3f} +- {r['omega_err']:.3f}" if r["omega_free"] else
                  f"omega = {r['omega']:g} fixed")
            print(f"alpha_c_mc = {r['alpha_c_mc']:.4f} +- {r['alpha_c_mc_err']:.4f} (statistical "
                  f"{r['alpha_c_mc_stat']:.4f}, systematic {r['alpha_c_mc_sys']:.4f}); {om}, chi2/dof = "
                  f"{r['chi2_dof']:.2f}")
            print(f"fit: {out['fit']}")
        for ans in ("rs", "1rsb"):
            if f"theory_{ans}" in out:
                t = out[f"theory_{ans}"]
                print(f"theory {ans.upper()}: alpha_c = {t['alpha_c']:.4f}, m_c = {t['m_c']:.4f}")
        print(f"status: {r['status']}: {r['message']}")
    return 0
