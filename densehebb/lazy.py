"""Lazy public names for the densehebb packages (PEP 562): importing a package runs nothing heavy; a name
is imported from its module on first use and then cached in the package namespace."""
from __future__ import annotations

import importlib


def attach(package: str, names: dict):
    """(__getattr__, __dir__, __all__) for ``package`` whose public ``names`` map to modules (relative to
    ``package`` when they start with a dot, absolute otherwise)."""
    import sys

    def __getattr__(name):
        if name in names:
            value = getattr(importlib.import_module(names[name], package), name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__, sorted(names)
