"""densehebb.phase_diagrams: transition lines, capacity curves, datasets, figures and the CLI.

Composes :mod:`theory` (and :mod:`montecarlo`); neither of those imports this package.
"""
from .lines import T_g, T_M, T_c, T_AT, capacity, alpha_Tc0  # noqa: F401
