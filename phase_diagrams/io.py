"""Provenance attributes and netCDF I/O for the theory's Datasets (one convention for every file the
toolkit writes: :mod:`densehebb.theory.provenance`)."""
from __future__ import annotations

import contextlib
import os

import xarray as xr

from densehebb.theory import quadrature
from densehebb.theory.model import Model
from densehebb.theory.numerics import TOL_RS
from densehebb.theory.provenance import dataset_attrs


def provenance(spec: Model, **extra) -> dict:
    """Provenance attrs of a theory Dataset: the common ones (version, model, convention, command, created)
    plus the quadrature and the solver tolerance."""
    return dataset_attrs(spec, quadrature="Gauss-Hermite + Gauss-Laguerre boundary-layer rule "
                                          "(theory.quadrature)",
                         quadrature_nodes=spec.nodes or quadrature.DEFAULT_NODES,
                         laguerre_nodes=quadrature.LAGUERRE_NODES, solver_tolerance=TOL_RS, **extra)


def temporary_path(path: str) -> str:
    """A temporary file name next to ``path`` (same directory, so a rename is atomic), hidden, with the
    same extension (writers that choose the format from it, e.g. matplotlib, still do the right thing)."""
    d, base = os.path.split(os.path.abspath(path))
    stem, ext = os.path.splitext(base)
    return os.path.join(d, f".{stem}.tmp-{os.getpid()}{ext}")


@contextlib.contextmanager
def atomic_outputs(*paths):
    """Write several files all-or-nothing: yields one temporary path per path (None stays None); when the
    block succeeds each is flushed to disk and renamed over its target (``os.replace``); when it fails, or
    a rename fails, the temporaries (and the targets already renamed in this call) are removed, so a
    failed run leaves no new or half-written file.  Missing directories are created (and removed again,
    if still empty, when the block fails)."""
    created = []
    for p in paths:
        if p is None:
            continue
        d, missing = os.path.dirname(os.path.abspath(p)), []
        while not os.path.isdir(d):
            missing.append(d)
            d = os.path.dirname(d)
        for m in reversed(missing):
            os.mkdir(m)
            created.append(m)
    temps = [None if p is None else temporary_path(p) for p in paths]
    done = []
    try:
        yield temps
        for t in temps:
            if t is not None and os.path.exists(t):
                with open(t, "rb+") as f:
                    os.fsync(f.fileno())
        for p, t in zip(paths, temps):
            if t is not None and os.path.exists(t):
                os.replace(t, p)
                done.append(p)
    except BaseException:
        for p in done:
            with contextlib.suppress(OSError):
                os.remove(p)
        for t in temps:
            if t is not None:
                with contextlib.suppress(OSError):
                    os.remove(t)
        for m in reversed(created):
            with contextlib.suppress(OSError):
                os.rmdir(m)
        raise
    finally:
        for t in temps:
            if t is not None:
                with contextlib.suppress(OSError):
                    os.remove(t)


def to_netcdf(ds: xr.Dataset, path: str) -> str:
    """Write a Dataset to netCDF (scipy backend, netCDF3 64-bit; no extra dependency), atomically: to a
    temporary file in the same directory, renamed over ``path`` when complete (a failed or interrupted
    write leaves no partial file).  The directory is created if needed."""
    with atomic_outputs(path) as (tmp,):
        ds.to_netcdf(tmp, engine="scipy", format="NETCDF3_64BIT")
    return path


def open_dataset(path: str) -> xr.Dataset:
    return xr.load_dataset(path, engine="scipy")
