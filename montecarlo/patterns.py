"""Random pattern sets.

Patterns are i.i.d. Rademacher, P(xi = +1) = P(xi = -1) = 1/2 (docs/conventions.md), stored as ``int8``
with shape (N, K): row i holds the K pattern entries seen by neuron i, so a single-spin update reads one
contiguous row.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def sample_key(key, s):
    """Key of disorder sample ``s``: ``fold_in(key, s)``.

    Using ``fold_in`` (not ``split(key, n)``) makes sample ``s`` independent of how many samples are drawn:
    ``rademacher(key, N, K, 3)[1]`` equals ``rademacher(key, N, K, 5)[1]``.
    """
    return jax.random.fold_in(key, s)


def rademacher_single(key, N: int, K: int):
    """One pattern set: ``int8`` array (N, K) with i.i.d. entries +-1 of probability 1/2."""
    bits = jax.random.bernoulli(key, 0.5, (N, K))
    return jnp.where(bits, 1, -1).astype(jnp.int8)


def rademacher(key, N: int, K: int, n_samples: int = 1):
    """``n_samples`` independent Rademacher pattern sets, ``int8`` array of shape (n_samples, N, K).

    Sample ``s`` is drawn from ``fold_in(key, s)`` (see :func:`sample_key`), so a given sample does not
    depend on ``n_samples``.  ``key`` is a JAX PRNG key (typed or raw ``uint32``).
    """
    N, K, n_samples = int(N), int(K), int(n_samples)
    if N < 1 or K < 1 or n_samples < 1:
        raise ValueError(f"rademacher needs N, K, n_samples >= 1, got N={N}, K={K}, n_samples={n_samples}")
    keys = jax.vmap(lambda s: sample_key(key, s))(jnp.arange(n_samples))
    return jax.vmap(lambda k: rademacher_single(k, N, K))(keys)
