"""Validation of the arguments of the Monte Carlo entry points (one-line ValueErrors), shared by
:func:`~montecarlo.run.simulate`, :func:`~montecarlo.anneal.anneal` and :mod:`montecarlo.capacity`."""
from __future__ import annotations

import math
from numbers import Integral, Real

import jax
import jax.numpy as jnp
import numpy as np

from .polynomials import MAX_P


def as_int(name, value, minimum):
    """``int(value)`` for an integral number >= minimum, else a one-line ValueError."""
    ok = isinstance(value, Integral) or (isinstance(value, Real) and math.isfinite(value)
                                         and float(value).is_integer())
    if isinstance(value, bool) or not ok:
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def check_model(model):
    """The :class:`densehebb.theory.model.Model` of a Monte Carlo run (plain Rademacher patterns only)."""
    from densehebb.theory.model import Model

    if not isinstance(model, Model):
        raise ValueError(f"model must be a densehebb.Model (e.g. dh.Model(P=2)), got {model!r}")
    model.require_plain("Monte Carlo")
    if model.P > MAX_P:
        raise ValueError(f"P must be <= {MAX_P} for Monte Carlo, got {model.P}")
    return model


def temperatures(T, distinct=True):
    """1-D float64 array of finite temperatures >= 0 (distinct unless ``distinct=False``)."""
    try:
        t = np.atleast_1d(np.asarray(T, dtype=np.float64))
    except (TypeError, ValueError):
        raise ValueError(f"T must be a number or a sequence of numbers, got {T!r}") from None
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"T must be a scalar or a non-empty 1-D sequence, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError(f"temperatures must be finite and >= 0, got {t.tolist()}")
    if distinct and np.unique(t).size != t.size:
        raise ValueError(f"temperatures must be distinct, got {t.tolist()}")
    return t


def inverse_temperatures(temps):
    """beta = 1/T (float64 NumPy array), inf at T = 0."""
    temps = np.asarray(temps, np.float64)
    with np.errstate(divide="ignore"):
        return np.where(temps > 0, 1.0 / np.where(temps > 0, temps, 1.0), np.inf)


def load(N, alpha, K, P):
    """Resolve (K, alpha_effective) from alpha or K, with K = round(alpha N^(P-1)) (high storage)."""
    if alpha is None and K is None:
        raise ValueError("give the load: alpha (K = round(alpha N^(P-1))) or the number of patterns K")
    K_from_alpha = None
    if alpha is not None:
        if isinstance(alpha, bool) or not isinstance(alpha, Real) or not math.isfinite(alpha) or alpha < 0:
            raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")
        K_from_alpha = int(round(float(alpha) * N ** (P - 1)))
    if K is not None:
        K = as_int("K", K, 1)
        if K_from_alpha is not None and K_from_alpha != K:
            raise ValueError(f"alpha={alpha!r} gives K = round(alpha N^(P-1)) = {K_from_alpha}, "
                             f"inconsistent with K={K}; give only one of them")
    else:
        K = K_from_alpha
        if K < 1:
            raise ValueError(f"alpha={alpha!r} with N={N} gives K = round(alpha N^(P-1)) = {K}; "
                             "at least one pattern is needed")
    if K > 2**31 - 1:
        raise ValueError(f"K = {K} patterns is too many")
    return K, K / N ** (P - 1)


def as_key(key):
    """(typed JAX key, seed attribute): an int seed -> ``jax.random.key(seed)``; keys pass through."""
    if isinstance(key, Integral) and not isinstance(key, bool):
        return jax.random.key(int(key)), int(key)
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != ():
            raise ValueError(f"key must be a single PRNG key, got shape {key.shape}")
        return key, "none (explicit PRNG key)"
    arr = jnp.asarray(key)
    if arr.dtype != jnp.uint32 or arr.ndim != 1:
        raise ValueError(f"key must be an int seed or a JAX PRNG key, got {key!r}")
    return jax.random.wrap_key_data(arr), "none (explicit PRNG key)"


def key_attrs(key) -> dict:
    """Provenance of a typed key: its raw data and implementation."""
    return dict(prng_key_data=str(np.asarray(jax.random.key_data(key)).tolist()),
                prng_impl=str(jax.random.key_impl(key)))
