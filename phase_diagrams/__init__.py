"""densehebb.phase_diagrams: transition lines, capacity curves, datasets, figures and the CLI.

Composes :mod:`theory` (and :mod:`montecarlo`); neither of those imports this package.
"""
from .lines import T_g, T_M, T_c, T_AT, capacity, alpha_Tc0  # noqa: F401
from .diagram import phase_diagram  # noqa: F401
from .io import to_netcdf, open_dataset, provenance  # noqa: F401
from .plotting import plot_phase_diagram  # noqa: F401
