"""densehebb.theory: replica theory of dense Hebbian networks.

Importing this package starts nothing (names load on first use, PEP 562) and leaves JAX's configuration
alone: the public solvers run in float64 inside :func:`densehebb.theory.precision.x64` (scoped), and return
NumPy values.

Conventions: docs/conventions.md (see :mod:`densehebb.theory.model`): N Ising neurons, Rademacher patterns,
high-storage load alpha = K / N^(P-1), Gibbs weight exp(-H/T) with plain beta = 1/T, energy with distinct
indices by default ("distinct-indices") or all tuples ("all-tuples").  Equations: docs/theory.md.
"""
from __future__ import annotations

import importlib

_LAZY = {
    "Model": "model", "Examples": "model", "CONVENTION_DISTINCT": "model", "CONVENTION_ALL_TUPLES": "model",
    "CONVENTIONS": "model", "convention_name": "model",
    "x64": "precision", "DEFAULT_NODES": "quadrature",
    "Result": "results", "Status": "results",
    "BRANCHES": "solver", "solve": "solver", "solve_grid": "solver",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
