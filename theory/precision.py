"""Double precision for the toolkit's own computations, without touching the user's JAX configuration.

Importing densehebb does not switch JAX to float64.  Every public entry point of the toolkit (theory
solvers, lines, phase diagrams, Monte Carlo runs) runs inside ``jax.enable_x64(True)`` via :func:`x64`, so
its arrays are float64 while the user's own JAX code keeps its float32 default.  Results come back as NumPy
(float64), which does not depend on JAX's flag.  The compiled functions are cached per precision, so a
solver compiled here is reused on every later call.

Opt-out / opt-in: users who want float64 everywhere set ``jax.config.update("jax_enable_x64", True)``
themselves; nothing here undoes it.
"""
from __future__ import annotations

import functools

import jax


def x64(fn):
    """Decorator: run ``fn`` with JAX's 64-bit mode on (scoped to the call; nests)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with jax.enable_x64(True):
            return fn(*args, **kwargs)

    return wrapper
