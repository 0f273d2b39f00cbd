"""densehebb: statistical mechanics of dense Hebbian networks (Hopfield networks with P-body interactions).

The public API, in one place::

    import densehebb as dh
    model = dh.Model(P=4)                                # frozen, hashable: P, convention, ansatz, ...
    r = dh.solve(model, alpha=0.03, T=0.005)              # a dh.Result: r.m, r.f, r.status, r.to_dict()
    g = dh.solve(model, alphas[:, None], Ts[None, :])     # a grid: r.to_xarray() is an xarray Dataset
    c = dh.capacity(model.replace(ansatz="1rsb"))        # alpha_c at T = 0, as a Result
    ds = dh.phase_diagram(dh.Model(P=2))                 # transition lines as an xarray Dataset
    mc = dh.simulate(jax.random.PRNGKey(0), model, N=1000, alpha=0.05, T=0.3)   # Monte Carlo Dataset
    d = dh.derive(model)                                 # sympy derivation (LaTeX in notebooks)

Subpackages: :mod:`densehebb.theory` (replica theory), :mod:`densehebb.montecarlo` (JAX Monte Carlo),
:mod:`densehebb.phase_diagrams` (lines, Datasets, figures, the ``densehebb`` command).  Conventions:
docs/conventions.md; equations: docs/theory.md.

Importing densehebb starts neither JAX nor matplotlib and changes no global configuration: the toolkit's
computations run in float64 in a scoped context (:func:`densehebb.theory.precision.x64`).  Names are loaded
on first use (PEP 562).
"""
from __future__ import annotations

import importlib

_LAZY = {
    "Model": "densehebb.theory.model", "Examples": "densehebb.theory.model",
    "CONVENTIONS": "densehebb.theory.model",
    "Result": "densehebb.theory.results", "Status": "densehebb.theory.results",
    "solve": "densehebb.theory.solver", "solve_grid": "densehebb.theory.solver",
    "derive": "densehebb.theory.symbolic",
    "x64": "densehebb.theory.precision",
    "capacity": "densehebb.phase_diagrams.api", "phase_diagram": "densehebb.phase_diagrams.diagram",
    "plot_phase_diagram": "densehebb.phase_diagrams.plotting",
    "to_netcdf": "densehebb.phase_diagrams.io", "open_dataset": "densehebb.phase_diagrams.io",
    "simulate": "densehebb.montecarlo", "summarize": "densehebb.montecarlo",
    "anneal": "densehebb.montecarlo", "Stats": "densehebb.montecarlo",
    "use_compilation_cache": "densehebb.cache",
}

_SUBPACKAGES = ("theory", "montecarlo", "phase_diagrams")

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    if name == "__version__":
        from densehebb.theory.provenance import version

        return version()
    if name in _SUBPACKAGES:
        return importlib.import_module(f"densehebb.{name}")
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'densehebb' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBPACKAGES))
