"""One Dataset convention for every netCDF the toolkit writes (theory lines, Monte Carlo, capacity,
hysteresis): the same provenance attributes, CF units and long names on every variable.

Attributes: package, version (from the installed package metadata), the Model (P, convention, ansatz,
storage, noise covariance, ...), the command or call that produced the data, the conventions reference
(docs/conventions.md, shipped with the project) and the creation time.
"""
from __future__ import annotations

import datetime
import sys

CONVENTIONS_REFERENCE = "docs/conventions.md"


def version() -> str:
    """The installed densehebb version (package metadata)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _v

    try:
        return _v("densehebb")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def command_line() -> str:
    """How this process was started: the densehebb command, or the Python script and its arguments."""
    argv = list(sys.argv)
    if argv and argv[0].endswith("densehebb"):
        return "densehebb " + " ".join(argv[1:])
    return "python " + " ".join(argv) if argv and argv[0] else "python (interactive)"


def dataset_attrs(model=None, /, command: str | None = None, **extra) -> dict:
    """Provenance attrs (plain strings and numbers, netCDF3-safe).  ``model`` may be None for data that
    is not tied to one model (then P and convention must come in ``extra``)."""
    attrs = {"package": "densehebb", "version": version(), "Conventions": "CF-1.8",
             "conventions_reference": CONVENTIONS_REFERENCE,
             "load": "alpha = K / N^(P-1) (high storage)",
             "temperature": "plain T = 1/beta, Gibbs weight exp(-H/T)"}
    if model is not None:
        attrs.update(model.describe())
        attrs["self_interaction"] = int(model.self_interaction)
    attrs["command"] = command if command is not None else command_line()
    attrs["created"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    for k, v in extra.items():
        if v is None:
            continue
        attrs[k] = int(v) if isinstance(v, bool) else v
    return attrs


def describe_variables(ds, table: dict, default_units: str = "1") -> None:
    """Set CF ``units`` and ``long_name`` on every variable and coordinate of ``ds`` from ``table``
    (name -> (units, long_name)); names not in the table keep what they have, and get units "1"."""
    for name in list(ds.variables):
        var = ds[name]
        if name in table:
            units, long_name = table[name]
            var.attrs.setdefault("units", units)
            var.attrs.setdefault("long_name", long_name)
        var.attrs.setdefault("units", default_units)
        var.attrs.setdefault("long_name", name)
