"""Provenance attributes and netCDF I/O for result Datasets."""
from __future__ import annotations

import datetime
import os

import xarray as xr

import densehebb.theory as theory
from densehebb.theory import quadrature
from densehebb.theory.solver import TOL
from densehebb.theory.model import Model


def provenance(spec: Model, **extra) -> dict:
    """Plain-string/number attrs saying what produced a result (always includes the convention)."""
    attrs = {
        "package": "densehebb",
        "version": theory.__version__,
        "convention": spec.convention,
        "self_interaction": int(spec.self_interaction),
        "P": spec.P,
        "ansatz": spec.ansatz,
        "load": "alpha = K / N^(P-1) (high storage)",
        "temperature": "plain T = 1/beta, Gibbs weight exp(-H/T)",
        "quadrature": "Gauss-Hermite + Gauss-Laguerre boundary-layer rule (theory.quadrature)",
        "quadrature_nodes": spec.nodes or quadrature.DEFAULT_NODES,
        "laguerre_nodes": quadrature.LAGUERRE_NODES,
        "solver_tolerance": TOL,
        "conventions_reference": "shared/CONVENTIONS.md",
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    attrs.update({k: v for k, v in extra.items() if v is not None})
    return attrs


def to_netcdf(ds: xr.Dataset, path: str) -> str:
    """Write a Dataset to netCDF (scipy backend, netCDF3 64-bit; no extra dependency)."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    ds.to_netcdf(path, engine="scipy", format="NETCDF3_64BIT")
    return path


def open_dataset(path: str) -> xr.Dataset:
    return xr.load_dataset(path, engine="scipy")
