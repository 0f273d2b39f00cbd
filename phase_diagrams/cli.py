"""The ``densehebb`` command line: a thin layer over the Python API.

Subcommands: solve, capacity, phase-diagram, mc.  Bad input gives a one-line error and exit code 2; a
well-posed problem whose solution does not exist or did not converge prints the result with
"converged": false and null numbers, and exits with code 3.  Set DENSEHEBB_DEBUG=1 for tracebacks.
"""
from __future__ import annotations

import os
import sys

from .cli_common import UsageError, Parser, emit, finite
from .cli_mc import register as register_mc
from .cli_mc import register_capacity_mc_args, cmd_capacity_mc


def _spec(args, storage="high"):
    from densehebb.theory import Model, convention_name

    return Model(P=args.P, convention=convention_name(args.self_interaction),
                 ansatz=getattr(args, "ansatz", "rs"), storage=storage)


def _print_result(result, as_json):
    """Every theory subcommand prints the Result's own record; exit code 3 if it is not an answer."""
    emit(result.to_dict(), as_json)
    return 0 if result.converged else 3


def cmd_solve(args):
    from densehebb.theory import solve

    spec = _spec(args)
    if spec.ansatz == "1rsb" and args.branch == "paramagnetic":
        raise UsageError("the paramagnet is replica symmetric: use --ansatz rs")
    return _print_result(solve(spec, args.alpha, args.T, args.branch), args.json)


def cmd_capacity(args):
    if args.mc and args.ansatz != "rs":
        raise UsageError("--ansatz applies to the replica theory, not to --mc (Monte Carlo has no ansatz)")
    if args.mc and args.low_storage:
        raise UsageError("--mc and --low-storage cannot be combined")
    if args.low_storage and args.T != 0.0:
        raise UsageError("--T does not apply with --low-storage (it reports the transition temperatures)")
    if args.low_storage and args.ansatz != "rs":
        raise UsageError("--ansatz does not apply with --low-storage (K finite: no replica ansatz)")
    if args.mc:
        return cmd_capacity_mc(args)
    from densehebb.phase_diagrams.api import capacity

    if args.low_storage:
        return _print_result(capacity(_spec(args, storage="low"), mixture=args.mixture), args.json)
    if args.mixture != 1:
        raise UsageError("--mixture applies with --low-storage only")
    return _print_result(capacity(_spec(args), args.T), args.json)


def cmd_derive(args):
    from densehebb.theory.symbolic import derive

    d = derive(_spec(args))
    print(d.latex() if args.latex else d.text())
    return 0


def cmd_phase_diagram(args):
    import numpy as np

    from densehebb.phase_diagrams.diagram import phase_diagram
    from densehebb.phase_diagrams.io import to_netcdf
    from densehebb.phase_diagrams.plotting import plot_phase_diagram

    spec = _spec(args)
    ds = phase_diagram(spec, progress=not args.quiet and sys.stderr.isatty())
    ds.attrs["command"] = "densehebb " + " ".join(sys.argv[1:])
    to_netcdf(ds, args.out)
    if args.png:
        plot_phase_diagram(ds, args.png)
    summary = {"out": args.out, "png": args.png, "convention": spec.convention, "ansatz": spec.ansatz,
               "alpha_c_T0": float(ds["alpha_c_T0"]), "m_c_T0": float(ds["m_c_T0"]),
               "alpha_Tc_T0": float(ds["alpha_Tc_T0"]),
               "n_alpha": int(ds.sizes["alpha"]), "n_T": int(ds.sizes["T"]),
               "missing_T_M": int(np.isnan(ds["T_M"].values).sum())}
    for k in ("alpha_c_T0_1rsb", "alpha_Tc_T0_1rsb", "e_sg_1rsb"):
        if k in ds:
            summary[k] = float(ds[k])
    emit(summary, args.json)
    return 0


def build_parser():
    p = Parser(prog="densehebb", description="Dense Hebbian networks: replica theory, phase diagrams, "
                                               "Monte Carlo (conventions: docs/conventions.md)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    def model_args(sp, need_alpha=True, need_T=True, T_default=None, with_ansatz=True):
        sp.add_argument("--P", type=finite("P", lo=2, integer=True), default=2, help="interaction order (>= 2)")
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

    s = sub.add_parser("solve", help="solve the saddle-point equations at one (alpha, T)")
    model_args(s)
    s.add_argument("--branch", choices=("retrieval", "spin-glass", "paramagnetic"), default="retrieval")
    s.set_defaults(func=cmd_solve)

    c = sub.add_parser("capacity", help="storage capacity alpha_c(T) and the overlap m_c there")
    model_args(c, need_alpha=False, T_default=0.0)
    c.add_argument("--mc", action="store_true", help="capacity from Monte Carlo (finite-size extrapolation)")
    c.add_argument("--low-storage", action="store_true",
                   help="K finite: spinodal and thermodynamic temperatures of Mattis states (or mixtures)")
    c.add_argument("--mixture", type=finite("mixture", lo=1, integer=True), default=1,
                   help="with --low-storage: symmetric mixture of this many patterns (1 = Mattis)")
    register_capacity_mc_args(c)
    c.set_defaults(func=cmd_capacity)

    d = sub.add_parser("phase-diagram", help="transition lines in the (alpha, T) plane -> netCDF (+ PNG)")
    model_args(d, need_alpha=False, need_T=False)
    d.add_argument("--out", required=True, help="netCDF file to write")
    d.add_argument("--png", help="figure to write")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.set_defaults(func=cmd_phase_diagram)

    dv = sub.add_parser("derive", help="print the free energy and its stationarity equations (sympy)")
    model_args(dv, need_alpha=False, need_T=False)
    dv.add_argument("--latex", action="store_true", help="LaTeX instead of plain text")
    dv.set_defaults(func=cmd_derive)

    register_mc(sub, model_args)
    return p


def _compilation_cache():
    """The JAX persistent compilation cache, on by default for the command line, so that a repeated command
    does not recompile: DENSEHEBB_CACHE_DIR (default: $XDG_CACHE_HOME/densehebb/jax or ~/.cache/densehebb/jax;
    "off" disables it).  A JAX_COMPILATION_CACHE_DIR set by the user wins.  Set through the environment,
    before JAX starts (``densehebb mc`` chooses its device count first)."""
    if "JAX_COMPILATION_CACHE_DIR" in os.environ:
        return
    d = os.environ.get("DENSEHEBB_CACHE_DIR")
    if d is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        d = os.path.join(base, "densehebb", "jax")
    if d.lower() in ("off", "0", "none", ""):
        return
    try:
        os.makedirs(d, exist_ok=True)
    except OSError:
        return  # an unwritable cache only costs compile time
    os.environ["JAX_COMPILATION_CACHE_DIR"] = d
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")


def main(argv=None):
    args = build_parser().parse_args(argv)
    _compilation_cache()
    try:
        return args.func(args)
    except (UsageError, ValueError, NotImplementedError) as e:
        if os.environ.get("DENSEHEBB_DEBUG"):
            raise
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        sys.stderr.write(f"densehebb: error: {msg}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
