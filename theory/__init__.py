"""densehebb.theory: replica theory of dense Hebbian networks.

Importing this package switches JAX to float64 (theory is always computed in double precision).

Conventions follow shared/CONVENTIONS.md (see :mod:`theory.spec`): N Ising neurons, Rademacher patterns,
high-storage load alpha = K / N^(P-1), Gibbs weight exp(-H/T) with plain beta = 1/T, energy with distinct
indices by default ("distinct-indices") or all tuples (``self_interaction=True``).
"""
import jax

jax.config.update("jax_enable_x64", True)

from .spec import ModelSpec, CONVENTION_DISTINCT, CONVENTION_ALL_TUPLES, convention_name  # noqa: E402
from .quadrature import DEFAULT_NODES  # noqa: E402
from .solver import SolveResult, solve, solve_grid, BRANCHES  # noqa: E402
from .rsb1_solver import solve_rsb1, capacity_rsb1  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "ModelSpec", "CONVENTION_DISTINCT", "CONVENTION_ALL_TUPLES", "convention_name", "DEFAULT_NODES",
    "SolveResult", "solve", "solve_grid", "BRANCHES", "solve_rsb1", "capacity_rsb1", "__version__",
]
