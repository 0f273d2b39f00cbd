"""Compiled solvers kept across processes: a jitted function is traced once per machine, not once per run.

JAX's persistent compilation cache (which the ``densehebb`` command switches on) skips the XLA compilation
of a function seen before, but not its tracing: every new process traces each solver again to find its
cache key, and for the nested quadratures of this library that is most of a warm command's time (about
0.35 s for the RS Newton step, seconds for the 1RSB system).  :func:`jit` stores the traced program
(``jax.export``, StableHLO) next to the compilation cache and reloads it in later processes, where only the
(cached) compilation is left.

Active only when both hold: a persistent compilation cache directory is configured (``jax_compilation_
cache_dir``: the command line sets it, tests too; a notebook user can set it) and the ``flatbuffers``
package (JAX's serializer; the ``fast`` extra) is installed.  Otherwise :func:`jit` is ``jax.jit``.  Entries
are keyed by the caller's key (the static model specification), the argument shapes and dtypes, the JAX
version and a hash of this package's source, so that a changed solver is never served from an old entry.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache

import jax
import numpy as np

_DIRNAME = "densehebb-export"


@lru_cache(maxsize=None)
def source_hash() -> str:
    """Hash of every Python file of the densehebb package (theory, montecarlo, phase_diagrams, root)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    h = hashlib.sha256()
    for sub in ("theory", "densehebb", "montecarlo", "phase_diagrams"):
        d = os.path.join(root, sub)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith(".py"):
                with open(os.path.join(d, name), "rb") as fh:
                    h.update(name.encode() + b"\0" + fh.read())
    return h.hexdigest()[:16]


def _cache_dir():
    return _export_dir(jax.config.jax_compilation_cache_dir)


@lru_cache(maxsize=None)
def _export_dir(compilation_cache_dir):
    if not compilation_cache_dir:
        return None
    try:
        import flatbuffers  # noqa: F401  (jax.export's serializer)
    except ImportError:
        return None
    return os.path.join(compilation_cache_dir, _DIRNAME)


def store_path(name: str):
    """Path of a small derived file kept next to the stored exports (its name made unique to this source),
    or None where nothing is stored (no compilation cache configured)."""
    d = jax.config.jax_compilation_cache_dir
    if not d:
        return None
    return os.path.join(d, _DIRNAME, f"{source_hash()}-{name}")


def _write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file (nothing on failure: a cache only saves time)."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        pass


def store_json(path: str, obj) -> None:
    """Write ``obj`` as JSON to ``path`` atomically."""
    import json

    _write_atomically(path, json.dumps(obj).encode())


def _dtype(a):
    return np.dtype(a.dtype) if hasattr(a, "dtype") else np.result_type(a)


class _Cached:
    """A function compiled through stored exports, one per argument signature."""

    def __init__(self, fun, key):
        self.key = key
        self.jitted = jax.jit(fun)
        self.by_sig = {}

    def _load(self, args, directory):
        from jax import export

        sig = tuple((np.shape(a), _dtype(a).str) for a in args)
        if sig in self.by_sig:
            return self.by_sig[sig]
        digest = hashlib.sha256(repr((self.key, sig, jax.__version__, source_hash(),
                                      bool(jax.config.jax_enable_x64))).encode()).hexdigest()[:32]
        path = os.path.join(directory, digest + ".exp")
        exp = None
        if os.path.exists(path):
            try:
                with open(path, "rb") as fh:
                    exp = export.deserialize(bytearray(fh.read()))
            except Exception:  # a damaged entry is re-exported
                exp = None
        if exp is None:
            exp = export.export(self.jitted)(*(jax.ShapeDtypeStruct(np.shape(a), _dtype(a)) for a in args))
            _write_atomically(path, bytes(exp.serialize()))
        f = jax.jit(exp.call)
        self.by_sig[sig] = f
        return f

    def __call__(self, *args):
        directory = _cache_dir()
        if directory is None or any(isinstance(a, jax.core.Tracer) for a in args):
            return self.jitted(*args)
        return self._load(args, directory)(*args)


def jit(fun, key):
    """``jax.jit(fun)`` whose traced program is stored on disk under ``key`` (a repr-stable description of
    everything ``fun`` closes over: model, branch, tolerances) when a compilation cache is configured."""
    return _Cached(fun, key)
