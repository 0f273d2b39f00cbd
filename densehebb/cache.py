"""The JAX persistent compilation cache, shared by the command line, notebooks and the papers/ scripts.

Importing this module does not start JAX; :func:`use_compilation_cache` only sets environment variables, so
it must run before JAX is first imported (the ``densehebb`` command does it for every run).
"""
from __future__ import annotations

import os


def use_compilation_cache(path: str | None = None) -> str | None:
    """Turn on JAX's persistent compilation cache so that a repeated computation does not recompile.

    The directory is ``path``, else DENSEHEBB_CACHE_DIR, else $XDG_CACHE_HOME/densehebb/jax or
    ~/.cache/densehebb/jax; "off" (or "0", "none", "") disables it.  A JAX_COMPILATION_CACHE_DIR already set
    by the user wins and is left alone.  Returns the directory in use (None: no cache).  Call it before JAX
    is imported (it sets environment variables only); an unwritable directory only costs compile time."""
    if "JAX_COMPILATION_CACHE_DIR" in os.environ:
        return os.environ["JAX_COMPILATION_CACHE_DIR"]
    d = path if path is not None else os.environ.get("DENSEHEBB_CACHE_DIR")
    if d is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        d = os.path.join(base, "densehebb", "jax")
    if d.lower() in ("off", "0", "none", ""):
        return None
    try:
        os.makedirs(d, exist_ok=True)
    except OSError:
        return None
    os.environ["JAX_COMPILATION_CACHE_DIR"] = d
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
    return d
