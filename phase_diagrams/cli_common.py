"""Shared pieces of the densehebb CLI: one-line-error parser, number validation, output-path validation,
options given on the command line, JAX-free module loading, JSON output.

Everything here runs before JAX is imported: the CLI validates a command completely (numbers, option
combinations, output paths, memory) before it starts computing, and refuses it with one line
``densehebb: error: ...`` and exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import math
import os
import sys

P_MAX = 8          # = densehebb.theory.model.P_MAX (tests/test_cli_errors.py checks it)
K_MAX = 12         # = densehebb.theory.multitask.K_MAX: exact average over 3^K entries (tests check it)
INT_MAX = 2**62    # integer options above this would overflow the int64 counters (2^63 - 1 for seeds)


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)  # --r is not --replicas: no option prefixes
        super().__init__(*args, **kwargs)

    def error(self, message):  # one line, no usage dump
        sys.stderr.write(f"densehebb: error: {message}\n")
        sys.exit(2)


class UsageError(ValueError):
    pass


def finite(name, lo=None, strict=False, integer=False, hi=None):
    """argparse type: a finite number (or integer) >= lo (> lo if strict) and <= hi; integers are at most
    INT_MAX unless ``hi`` says otherwise."""
    if integer and hi is None:
        hi = INT_MAX

    def conv(text):
        try:
            v = int(text) if integer else float(text)
        except ValueError:
            kind = "an integer" if integer else "a number"
            raise argparse.ArgumentTypeError(f"{name} must be {kind}, got {text!r}") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"{name} must be finite, got {text!r}")
        if lo is not None and (v <= lo if strict else v < lo):
            raise argparse.ArgumentTypeError(f"{name} must be {'>' if strict else '>='} {lo}, got {text!r}")
        if hi is not None and v > hi:
            raise argparse.ArgumentTypeError(f"{name} must be <= {hi}, got {text!r}")
        return v
    return conv


def given_options(parser, argv) -> set:
    """The dests of the options of ``parser`` (a subcommand's parser) that appear in ``argv``, whatever
    their value: an option that does not apply to the chosen mode is refused even if it repeats the
    default.  Options must be spelled in full (allow_abbrev=False), so a token either names one or not."""
    opts = parser._option_string_actions
    out = set()
    for tok in argv:
        if tok == "--":
            break
        a = opts.get(tok.split("=", 1)[0]) if tok.startswith("-") else None
        if a is not None:
            out.add(a.dest)
    return out


def option(dest) -> str:
    return "--" + dest.replace("_", "-")


def refuse(given, dests, why):
    """UsageError naming the first of ``dests`` that was given: ``--X <why>``."""
    for d in dests:
        if d in given:
            raise UsageError(f"{option(d)} {why}")


DATASETS = ("none", "supervised", "unsupervised")


def add_dataset_args(sp, what, gaussian=False):
    """The learning-from-examples options (--dataset, --r, --M, --normalisation[, --gaussian]) of a subcommand;
    ``what`` completes the help of --dataset.  Checked by :func:`check_dataset_args`."""
    sp.add_argument("--dataset", choices=DATASETS, default="none",
                    help="learning from examples: couplings from the class means of M examples per archetype "
                         "(supervised) or from every example (unsupervised)" + what)
    sp.add_argument("--r", type=finite("r", lo=0, strict=True, hi=1), default=None,
                    help="with --dataset: dataset quality r in (0, 1], P(chi = +1) = (1 + r)/2")
    sp.add_argument("--M", type=finite("M", lo=1, integer=True, hi=2**31 - 1), default=None,
                    help="with --dataset: examples per archetype (>= 1)")
    sp.add_argument("--normalisation", choices=("r", "R"), default="r",
                    help="with --dataset: energy divided by r^P (default) or R^(P/2), R = r^2 + (1 - r^2)/M")
    if gaussian:
        sp.add_argument("--gaussian", action="store_true",
                        help="with --dataset: CLT site average s = 1 + sqrt(rho) z instead of the exact binomial")


def check_dataset_args(args, given, need_values=True):
    """--r, --M, --normalisation (, --gaussian) only with a dataset; a dataset needs --r and --M (unless
    ``need_values`` is False: derive keeps them symbolic)."""
    if args.dataset == "none":
        refuse(given, ["r", "M", "normalisation", "gaussian"], "applies with --dataset supervised|unsupervised only")
    elif need_values and (args.r is None or args.M is None):
        raise UsageError(f"--dataset {args.dataset} needs the dataset quality --r (in (0, 1]) and the number of "
                         "examples per archetype --M (>= 1)")


INTERACTIONS = ("polynomial", "exponential", "log-sum-exp")   # = densehebb.theory.model.INTERACTIONS (tested)


def add_interaction_args(sp, what="", extra=()):
    """The interaction-family options of a subcommand: --interaction polynomial|exponential|log-sum-exp and
    --lam (inverse width lambda > 0 of the exponential / log-sum-exp energy, default 1: F(x) = e^x); ``what``
    completes the help of --interaction; ``extra``: further choices of this subcommand only (capacity:
    "attention").  Checked by :func:`check_interaction_args`; docs/conventions.md."""
    sp.add_argument("--interaction", choices=INTERACTIONS + tuple(extra), default="polynomial",
                    help="energy family: polynomial (P-body, default), exponential E = -sum_mu exp(lam N m_mu) "
                         "or log-sum-exp E = -(1/lam) ln sum_mu exp(lam N m_mu), K = exp(alpha N) patterns" + what)
    sp.add_argument("--lam", type=finite("lam", lo=0, strict=True), default=None,
                    help="with --interaction exponential|log-sum-exp: inverse width lambda > 0 (default 1)")


def check_interaction_args(args, given, polynomial_only=()):
    """--lam only with a non-polynomial --interaction; with one, the options ``polynomial_only`` (dests of
    P-body options) are refused.  Sets args.lam to its default 1.0 when it applies and was not given."""
    if args.interaction == "polynomial":
        refuse(given, ["lam"], "applies with --interaction exponential|log-sum-exp only")
        return
    refuse(given, list(polynomial_only), f"does not apply with --interaction {args.interaction} "
           "(K = exp(alpha N) patterns)")
    if args.lam is None:
        args.lam = 1.0


def model_from_args(args, storage="high"):
    """The Model a subcommand's options describe (P, the energy convention, the ansatz where offered)."""
    from densehebb.theory import Model, convention_name

    examples = None
    if getattr(args, "dataset", "none") != "none":          # densehebb mc --dataset ...
        from densehebb.theory.model import Examples

        examples = Examples(M=int(args.M), r=float(args.r), supervised=args.dataset == "supervised",
                            normalisation=args.normalisation, gaussian=bool(getattr(args, "gaussian", False)))
    extra = {}
    if getattr(args, "interaction", "polynomial") != "polynomial":   # add_interaction_args
        extra = {"interaction": args.interaction, "lam": 1.0 if args.lam is None else float(args.lam)}
    return Model(P=getattr(args, "P", 2), convention=convention_name(getattr(args, "self_interaction", False)),
                 ansatz=getattr(args, "ansatz", "rs"), storage=storage, examples=examples, **extra)


def check_output(path, opt, ext=None, kind=None, forbid_ext=()):
    """Validate an output file before anything is computed: a file name (not a directory) in a writable
    directory (or one that can be created in a writable directory), with the extension of its format (``ext``, e.g. ".nc"), not an existing
    read-only or special file.  Returns ``path``; UsageError otherwise."""
    if path is None:
        return None
    full = os.path.abspath(path) if path.strip() else ""
    if full and os.path.isdir(full):
        raise UsageError(f"{opt} {path} is a directory, not a file")
    if not full or path.endswith(("/", os.sep)):
        raise UsageError(f"{opt} needs a file name, got {path!r}")
    if ext is not None and not path.lower().endswith(ext):
        raise UsageError(f"{opt} {path}: a {kind} file must end in {ext}")
    for e, k in forbid_ext:
        if path.lower().endswith(e):
            raise UsageError(f"{opt} {path}: {e} is the extension of {k} files; choose another name")
    # a missing directory is created when the file is written (io.atomic_outputs), so its nearest existing
    # ancestor must be a writable directory
    parent = anc = os.path.dirname(full)
    while not os.path.lexists(anc):
        anc = os.path.dirname(anc)
    if not os.path.isdir(anc):
        raise UsageError(f"{opt} {path}: {anc} is not a directory")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise UsageError(f"{opt} {path}: the directory {anc} is not writable"
                         + ("" if anc == parent else f" (needed to create {parent})"))
    if os.path.lexists(full):
        if not os.path.isfile(full):
            raise UsageError(f"{opt} {path} exists and is not a regular file")
        if not os.access(full, os.W_OK):
            raise UsageError(f"{opt} {path} exists and is read-only")
    return path


def distinct_outputs(**paths):
    """UsageError if two output options name the same file."""
    seen = {}
    for opt, p in paths.items():
        if p is None:
            continue
        key = os.path.realpath(p)
        if key in seen:
            raise UsageError(f"{option(seen[key])} and {option(opt)} name the same file {p}")
        seen[key] = opt


def leaf(name):
    """Import the densehebb module ``name`` (e.g. "densehebb.montecarlo.inputs") WITHOUT running its
    package's ``__init__`` when that is not imported yet (densehebb.montecarlo's and densehebb.theory's
    import JAX, which takes seconds and must wait until the device count is set): the module file is
    executed under its own name and registered in sys.modules, so a later normal import finds the same
    module.  Only for modules that import nothing heavy at module level (montecarlo.inputs,
    montecarlo.checkpoint, theory.provenance)."""
    if name in sys.modules:
        return sys.modules[name]
    package, _, mod = name.rpartition(".")
    if package in sys.modules:
        return importlib.import_module(name)
    pspec = importlib.util.find_spec(package)          # imports densehebb (lazy), not ``package``
    path = os.path.join(pspec.submodule_search_locations[0], mod + ".py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


class VersionAction(argparse.Action):
    """``--version``: ``densehebb <version>`` from the package metadata (theory.provenance.version())."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"densehebb {leaf('densehebb.theory.provenance').version()}")
        parser.exit(0)


def no_answer_line(result) -> str:
    """The stderr line of a result that is not an answer (exit code 3)."""
    status = result.status
    line = f"densehebb: no answer: {status}: {status.message}"
    note = (getattr(result, "note", "") or "").strip()
    if note:
        line += "; " + " ".join(note.split())
    return line


def jsonable(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None  # JSON has no NaN: a missing number is null (see "converged"/"status")
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return v


def emit(obj, as_json):
    obj = jsonable(obj)
    if as_json:
        print(json.dumps(obj))
    else:
        w = max(len(k) for k in obj)
        for k, v in obj.items():
            print(f"{k:<{w}}  {v}")
