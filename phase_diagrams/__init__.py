"""densehebb.phase_diagrams: transition lines, capacity curves, datasets, figures and the CLI.

Composes :mod:`densehebb.theory` (and :mod:`densehebb.montecarlo`); neither of those imports this package.

The public names (T_g, T_M, T_c, T_AT, capacity, alpha_Tc0, phase_diagram, to_netcdf, open_dataset,
provenance, plot_phase_diagram; multitasking: dilution_diagram, plot_dilution_diagram,
multitask_global_minimum) are loaded on first use (PEP 562), so that importing the command line
(:mod:`densehebb.phase_diagrams.cli`) does not start JAX: ``densehebb mc`` can then choose the number of XLA host
devices before JAX initialises its backend, and ``densehebb --help`` stays fast.
"""
from densehebb.lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "T_g": ".lines", "T_M": ".lines", "T_c": ".lines", "T_AT": ".lines", "capacity": ".api", "alpha_Tc0": ".lines",
    "phase_diagram": ".diagram",
    "to_netcdf": ".io", "open_dataset": ".io", "provenance": ".io",
    "plot_phase_diagram": ".plotting",
    "dilution_diagram": ".dilution_plane", "plot_dilution_diagram": ".dilution_plane",
    "multitask_global_minimum": ".dilution_plane",
})
