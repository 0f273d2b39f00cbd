"""Provenance attributes and netCDF I/O for the theory's Datasets (one convention for every file the
toolkit writes: :mod:`densehebb.theory.provenance`)."""
from __future__ import annotations

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


def to_netcdf(ds: xr.Dataset, path: str) -> str:
    """Write a Dataset to netCDF (scipy backend, netCDF3 64-bit; no extra dependency)."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    ds.to_netcdf(path, engine="scipy", format="NETCDF3_64BIT")
    return path


def open_dataset(path: str) -> xr.Dataset:
    return xr.load_dataset(path, engine="scipy")
