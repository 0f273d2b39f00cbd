"""densehebb.theory: replica theory of dense Hebbian networks.

Importing this package starts nothing (names load on first use, PEP 562) and leaves JAX's configuration
alone: the public solvers run in float64 inside :func:`densehebb.theory.precision.x64` (scoped), and return
NumPy values.

Conventions: docs/conventions.md (see :mod:`densehebb.theory.model`): N Ising neurons, Rademacher patterns,
high-storage load alpha = K / N^(P-1), Gibbs weight exp(-H/T) with plain beta = 1/T, energy with distinct
indices by default ("distinct-indices") or all tuples ("all-tuples").  Equations: docs/theory.md.
"""
from densehebb.lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "Model": ".model", "Examples": ".model", "CONVENTION_DISTINCT": ".model", "CONVENTION_ALL_TUPLES": ".model",
    "CONVENTIONS": ".model", "convention_name": ".model",
    "x64": ".precision", "DEFAULT_NODES": ".quadrature",
    "Result": ".results", "Status": ".results",
    "BRANCHES": ".solver", "solve": ".solver", "solve_grid": ".solver",
})
