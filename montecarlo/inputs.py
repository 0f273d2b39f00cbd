"""Validation of the arguments of the Monte Carlo entry points (one-line ValueErrors), shared by
:func:`~montecarlo.run.simulate`, :func:`~montecarlo.anneal.anneal` and :mod:`montecarlo.capacity`, and
the memory guard (:func:`memory_estimate`, :func:`available_memory`, :func:`check_memory`).

Importing this module does not import JAX (only NumPy): the ``densehebb`` command line loads it to
validate a run, and refuse one that cannot fit in memory, before JAX starts.  Keep it that way: import
JAX (and the other modules of this package) inside the functions that need them.
"""
from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from densehebb.theory.resources import available_memory, format_bytes  # noqa: F401  (re-exported)


def as_int(name, value, minimum):
    """``int(value)`` for an integral number >= minimum, else a one-line ValueError."""
    ok = isinstance(value, Integral) or (isinstance(value, Real) and math.isfinite(value)
                                         and float(value).is_integer())
    if isinstance(value, bool) or not ok:
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def check_model(model, examples=False, dilution=False):
    """The :class:`densehebb.theory.model.Model` of a Monte Carlo run: plain Rademacher patterns, or with
    ``examples=True`` (simulate) also couplings built from examples (``Model.examples``), with
    ``dilution=True`` (simulate) also diluted patterns (``Model.dilution``), and with both the examples of
    diluted archetypes."""
    from densehebb.theory.model import Model

    from .polynomials import MAX_P

    if not isinstance(model, Model):
        raise ValueError(f"model must be a densehebb.Model (e.g. dh.Model(P=2)), got {model!r}")
    if dilution and model.dilution:
        check_model(model.replace(dilution=0.0), examples=examples)
        return model
    if examples and model.examples is not None:
        model.replace(examples=None).require_plain("Monte Carlo")     # other families are still refused
        if model.examples.gaussian:
            raise ValueError("Monte Carlo: examples.gaussian is a theory option (the CLT site average); "
                             "the simulation draws the examples themselves")
    else:
        model.require_plain("Monte Carlo")
    if model.P > MAX_P:
        raise ValueError(f"P must be <= {MAX_P} for Monte Carlo, got {model.P}")
    return model


def pattern_columns(K, P, examples=None) -> int:
    """The K of the memory guard for a run with K patterns (archetypes): K for plain patterns; with learning
    from examples an upper bound of the stored columns, 2 K (1 + P) (supervised: 2 pattern columns, 1 + P
    int64 overlaps per archetype) or K (1 + M) (unsupervised: archetype and M examples)."""
    if examples is None:
        return int(K)
    return int(K) * (2 * (1 + int(P)) if examples.supervised else 1 + int(examples.M))


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


def load(N, alpha, K, P, *, memory=True):
    """Resolve (K, alpha_effective) from alpha or K, with K = round(alpha N^(P-1)) (high storage).
    ``memory``: also refuse a pattern set that cannot fit in memory (one sample and one chain; callers that
    know the whole run check it with :func:`check_memory`)."""
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
    # one sample's patterns and one chain must fit (the caller checks the whole run: check_memory)
    if memory:
        check_memory(N, K, what=f"N = {N} with K = {K} patterns")
    return K, K / N ** (P - 1)


def as_key(key):
    """(typed JAX key, seed attribute): an int seed -> ``jax.random.key(seed)``; keys pass through."""
    import jax
    import jax.numpy as jnp

    if isinstance(key, Integral) and not isinstance(key, bool):
        if not -2**63 <= int(key) < 2**63:
            raise ValueError(f"an int seed must fit in 64 signed bits, got {key!r}")
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
    import jax

    return dict(prng_key_data=str(np.asarray(jax.random.key_data(key)).tolist()),
                prng_impl=str(jax.random.key_impl(key)))


# ------------------------------------------------------------------------------------------ memory guard
def memory_estimate(N, K, n_samples=1, n_T=1, n_replicas=1, n_devices=1) -> dict:
    """Bytes of memory a Monte Carlo run needs at its peak, to refuse runs that cannot fit before anything
    is allocated (the JAX runtime itself, a few hundred MiB, is not counted).

    Per disorder sample: the patterns, N K entries, stored as ``int8`` but drawn as 64-bit random bits and
    ``float64`` uniforms (``jax.random.bernoulli`` in 64-bit mode): 17 bytes per entry while they are
    drawn (measured: 16-17 bytes per entry of peak memory for 1e8 entries per sample, P = 2 and 3; this
    also covers the ``float32`` copy, 4 N K, of the P = 2 kernel).  Per chain (chains = samples x
    temperatures x replicas): the spins (``int8``, N), the overlaps (K; counted as ``int32``, the width
    they are computed in) and the sweep's random numbers (a ``float64`` uniform and its acceptance
    threshold per site, 16 N).  The samples are sharded over ``n_devices`` (padded to a multiple of it):
    ``per_device`` is one device's share, ``total`` that of all devices (what counts when they share the
    host's memory, as CPU devices do).  Exact Python integers (no overflow for absurd sizes).
    """
    N, K, n_samples, n_T, n_replicas, n_devices = (int(v) for v in (N, K, n_samples, n_T, n_replicas, n_devices))
    if min(N, K, n_samples, n_T, n_replicas, n_devices) < 1:
        raise ValueError("memory_estimate: every size must be >= 1")
    s_dev = -(-n_samples // n_devices)                      # samples per device (padded)
    chains = s_dev * n_T * n_replicas
    parts = {"patterns": s_dev * N * K * PATTERN_BYTES, "spins": chains * N, "overlaps": chains * K * 4,
             "randoms": chains * N * 16}
    per_device = sum(parts.values())
    return dict(parts, per_device=per_device, total=per_device * n_devices, chains_per_device=chains,
                samples_per_device=s_dev, devices=n_devices)


PATTERN_BYTES = 17   # peak bytes per pattern entry (see memory_estimate)


def check_memory(N, K, n_samples=1, n_T=1, n_replicas=1, n_devices=1, *, available=None, per_device=False,
                 what="this run") -> dict:
    """:func:`memory_estimate`, or a one-line ValueError saying how much the run would need and how much
    memory is available, when it does not fit.  ``available``: bytes (default :func:`available_memory`;
    if that is unknown nothing is refused); ``per_device``: compare one device's share with ``available``
    (devices with their own memory, e.g. GPUs) instead of the total (host devices sharing the memory)."""
    est = memory_estimate(N, K, n_samples, n_T, n_replicas, n_devices)
    avail = available_memory() if available is None else int(available)
    need = est["per_device"] if per_device else est["total"]
    if avail is not None and need > avail:
        f = 1 if per_device else est["devices"]
        n_chains = est["chains_per_device"] * f
        where = " per device" if per_device else ""
        raise ValueError(
            f"{what} needs about {format_bytes(need)} of memory{where} (patterns "
            f"{format_bytes(est['patterns'] * f)}, {n_chains} chain{'s' if n_chains != 1 else ''} "
            f"{format_bytes((est['spins'] + est['overlaps'] + est['randoms']) * f)}) but {format_bytes(avail)} "
            "is available; reduce N, the load, the samples, temperatures or replicas")
    return est


# ------------------------------------------------------------------ exponential networks (montecarlo.exponential)
EXP_N_MAX = 64               # sizes of the exponential network: K = exp(alpha N) patterns must fit in memory
EXP_K_MAX = 2**31 - 1        # int32 indices


def exp_patterns(N, alpha):
    """K = round(exp(alpha N)) for the exponential network, or a one-line ValueError when alpha <= 0, N is out
    of range or K is not storable (no NumPy; exact for any alpha N)."""
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0 for the exponential network (K = exp(alpha N) patterns), got {alpha}")
    if not 2 <= N <= EXP_N_MAX:
        raise ValueError(f"N = {N} is out of range for the exponential network (2..{EXP_N_MAX}: K = exp(alpha N) "
                         "patterns must fit in memory)")
    if alpha * N > math.log(EXP_K_MAX):
        raise ValueError(f"K = exp(alpha N) = e^{alpha * N:.4g} patterns at N = {N}, alpha = {alpha}: too many "
                         f"(at most {EXP_K_MAX})")
    return max(1, int(round(math.exp(alpha * N))))


def exp_memory(N, K, chains=0, census_batch=0) -> int:
    """Peak bytes of montecarlo.exponential for K patterns of N sites: the patterns (int8, drawn through
    64-bit random bits: PATTERN_BYTES per entry; the census pads K to a power of 2 and keeps a float64 copy,
    8 N K'), per chain the overlaps (int32) and three float64 K-vectors of a flip, per census row four float64
    K-vectors (overlaps, weights and temporaries)."""
    if census_batch:
        Kb = 1 << max(0, (K - 1).bit_length())
        return Kb * N * (PATTERN_BYTES + 8) + census_batch * Kb * 32
    return K * N * PATTERN_BYTES + chains * K * (4 + 24)


def exp_census_batch(K, budget=2**27) -> int:
    """Tested patterns per compiled census call: about ``budget`` bytes of float64 work arrays (4 K' per row,
    K' = K padded to a power of 2), between 1 and 256."""
    Kb = 1 << max(0, (K - 1).bit_length())
    return int(max(1, min(256, budget // (32 * Kb))))


def check_exp_memory(N, K, chains=0, census_batch=0, what="this run", available=None) -> int:
    need = exp_memory(N, K, chains, census_batch)
    avail = available_memory() if available is None else int(available)
    if avail is not None and need > avail:
        raise ValueError(f"{what} needs about {format_bytes(need)} of memory for K = {K} patterns of N = {N} "
                         f"sites but {format_bytes(avail)} is available; reduce alpha or N")
    return need
