"""densehebb.theory: replica theory of dense Hebbian networks.

Importing this package leaves JAX's configuration alone: the public solvers run in float64 inside
:func:`densehebb.theory.precision.x64` (scoped), and return NumPy values.

Conventions: docs/conventions.md (see :mod:`densehebb.theory.model`): N Ising neurons, Rademacher patterns,
high-storage load alpha = K / N^(P-1), Gibbs weight exp(-H/T) with plain beta = 1/T, energy with distinct
indices by default ("distinct-indices") or all tuples ("all-tuples").  Equations: docs/theory.md.
"""
from .model import (CONVENTION_ALL_TUPLES, CONVENTION_DISTINCT, CONVENTIONS, Examples, Model,  # noqa: F401
                    convention_name)
from .precision import x64  # noqa: F401
from .quadrature import DEFAULT_NODES  # noqa: F401
from .results import Result, Status  # noqa: F401
from .solver import BRANCHES, solve, solve_grid  # noqa: F401

__all__ = [
    "Model", "Examples", "CONVENTION_DISTINCT", "CONVENTION_ALL_TUPLES", "CONVENTIONS", "convention_name",
    "DEFAULT_NODES", "Result", "Status", "solve", "solve_grid", "BRANCHES", "x64",
]
