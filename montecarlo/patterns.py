"""Random pattern sets.

Patterns are i.i.d. Rademacher, P(xi = +1) = P(xi = -1) = 1/2 (docs/conventions.md), or diluted
(:func:`diluted`: entries 0 with probability d, docs/conventions.md "Diluted patterns"), stored as ``int8``
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


# --------------------------------------------------------------------------------------- diluted patterns
#: fold_in index, under a sample's key, of the blank mask of diluted patterns (the signs use the key itself)
BLANK_STREAM = 1


def diluted_single(key, N: int, K: int, d: float):
    """One diluted pattern set: ``int8`` (N, K), entries 0 with probability d, else +-1 with probability 1/2.

    The signs are the draw of :func:`rademacher_single` with the same key (so d = 0 gives exactly the plain
    patterns), the blanks ``bernoulli(fold_in(key, BLANK_STREAM), d)``."""
    signs = rademacher_single(key, N, K)
    if float(d) == 0.0:
        return signs
    blank = jax.random.bernoulli(jax.random.fold_in(key, BLANK_STREAM), float(d), (N, K))
    return jnp.where(blank, 0, signs).astype(jnp.int8)


def diluted(key, N: int, K: int, d: float, n_samples: int = 1):
    """``n_samples`` diluted pattern sets (docs/conventions.md "Diluted patterns"), ``int8`` (n_samples, N, K)
    with entries in {-1, 0, +1}, P(0) = d.  Sample ``s`` is drawn from ``fold_in(key, s)`` as in
    :func:`rademacher` (:func:`diluted_single`); for d = 0 the result equals ``rademacher(key, N, K, n_samples)``."""
    N, K, n_samples = int(N), int(K), int(n_samples)
    if N < 1 or K < 1 or n_samples < 1:
        raise ValueError(f"diluted needs N, K, n_samples >= 1, got N={N}, K={K}, n_samples={n_samples}")
    if not 0.0 <= float(d) < 1.0:
        raise ValueError(f"diluted: the dilution d must lie in [0, 1), got {d!r}")
    keys = jax.vmap(lambda s: sample_key(key, s))(jnp.arange(n_samples))
    return jax.vmap(lambda k: diluted_single(k, N, K, d))(keys)


def diluted_patterns(xi):
    """The pattern set (..., N, K, 2) with which the Monte Carlo runs diluted patterns xi (..., N, K): the
    supervised pattern set of :func:`example_patterns` with every S_i = 1 (one example per class, equal to
    the pattern: w = xi in {-1, 0, 1}); :mod:`montecarlo.learning` evaluates its energy exactly through the
    power sums (odd: the overlap, even: the number of non-blank entries)."""
    xi = jnp.asarray(xi).astype(jnp.int8)
    return example_patterns(xi, S=jnp.ones_like(xi))


# ------------------------------------------------------------------------------ learning from examples
#: Streams of the run key (montecarlo.engine uses 0..3): archetypes share stream 0 with plain patterns, so
#: the archetypes of a seed are the plain patterns of that seed; the examples' chi come from stream 4.
ARCHETYPE_STREAM, EXAMPLE_STREAM = 0, 4


def example_noise(key, N: int, K: int, M: int, r: float):
    """chi of one sample: ``int8`` (M, N, K), i.i.d. +-1 with P(chi = +1) = (1 + r)/2; example a is drawn
    from ``fold_in(key, a)`` (so example a does not depend on M).  Drawn one example at a time."""
    p = (1.0 + float(r)) / 2.0

    def one(a):
        return jnp.where(jax.random.bernoulli(jax.random.fold_in(key, a), p, (N, K)), 1, -1).astype(jnp.int8)

    return jax.lax.map(one, jnp.arange(M))


def example_sums(key, N: int, K: int, M: int, r: float):
    """S = sum_a chi^a of one sample, (N, K), without materialising chi (same draws as
    :func:`example_noise`); ``int8`` for M <= 127, else int16 / int32."""
    dt = jnp.int8 if M <= 127 else jnp.int16 if M <= 32767 else jnp.int32
    p = (1.0 + float(r)) / 2.0

    def body(a, S):
        b = jax.random.bernoulli(jax.random.fold_in(key, a), p, (N, K))
        return S + jnp.where(b, 1, -1).astype(dt)

    return jax.lax.fori_loop(0, M, body, jnp.zeros((N, K), dt))


def example_patterns(xi, chi=None, *, S=None, supervised=True):
    """The pattern set of a dataset, ``(N, K, C)`` (leading batch axes allowed), fed to the Monte Carlo.

    Column 0 is the archetype xi^mu (``int8`` +-1).  Supervised (C = 2): column 1 is w = M xibar^mu =
    S xi^mu, S_i = sum_a chi^a_i (integer in [-M, M]; give ``chi`` (..., M, N, K) or ``S`` (..., N, K)).
    Unsupervised (C = 1 + M): columns 1..M are the examples eta^{mu,a} = chi^{mu,a} xi^mu (``int8``).
    """
    xi = jnp.asarray(xi)
    if supervised:
        if S is None:
            M = jnp.shape(chi)[-3]
            dt = jnp.int8 if M <= 127 else jnp.int16 if M <= 32767 else jnp.int32
            S = jnp.sum(jnp.asarray(chi).astype(dt), axis=-3, dtype=dt)
        S = jnp.asarray(S)
        return jnp.stack([xi.astype(S.dtype), S * xi.astype(S.dtype)], axis=-1)
    eta = jnp.moveaxis(jnp.asarray(chi), -3, -1) * xi[..., None]                # (..., N, K, M)
    return jnp.concatenate([xi[..., None], eta], axis=-1).astype(jnp.int8)


def examples(key, N: int, K: int, M: int, r: float, n_samples: int = 1, supervised: bool = True,
             dilution: float = 0.0):
    """``n_samples`` datasets as Monte Carlo pattern sets, ``(n_samples, N, K, C)`` (:func:`example_patterns`).

    Order of draws (``key`` is the run key of :func:`montecarlo.simulate`): the archetypes of sample s are
    ``rademacher(fold_in(key, 0), N, K, n)[s]`` -- the plain patterns of the same key -- and chi^{mu,a} of
    sample s is drawn from ``fold_in(fold_in(fold_in(key, 4), s), a)`` as Bernoulli((1 + r)/2) of shape
    (N, K) (:func:`example_noise`).  Supervised and unsupervised sets of one key hold the same examples.
    ``dilution`` d > 0: diluted archetypes, ``diluted(fold_in(key, 0), N, K, d, n)[s]`` (the diluted patterns
    of the same key; d = 0 gives the Rademacher ones), whose blank entries are blank in every example
    (eta = chi xi); the chi are the same draws.
    """
    N, K, M, n_samples = int(N), int(K), int(M), int(n_samples)
    if min(N, K, M, n_samples) < 1:
        raise ValueError(f"examples needs N, K, M, n_samples >= 1, got N={N}, K={K}, M={M}, n_samples={n_samples}")
    if not 0.0 < float(r) <= 1.0:
        raise ValueError(f"examples: r must lie in (0, 1], got {r!r}")
    xi = diluted(jax.random.fold_in(key, ARCHETYPE_STREAM), N, K, float(dilution), n_samples)
    kx = jax.random.fold_in(key, EXAMPLE_STREAM)

    def one(s, x):
        k = sample_key(kx, s)
        if supervised:
            return example_patterns(x, S=example_sums(k, N, K, M, r), supervised=True)
        return example_patterns(x, example_noise(k, N, K, M, r), supervised=False)

    return jax.vmap(one)(jnp.arange(n_samples), xi)


def draw_examples(key, N: int, K: int, M: int, r: float, n_samples: int = 1, dilution: float = 0.0):
    """(xi (n_samples, N, K), chi (n_samples, M, N, K)): the archetypes and example noise of
    :func:`examples` (same key, same draws)."""
    xi = diluted(jax.random.fold_in(key, ARCHETYPE_STREAM), int(N), int(K), float(dilution), int(n_samples))
    kx = jax.random.fold_in(key, EXAMPLE_STREAM)
    chi = jax.vmap(lambda s: example_noise(sample_key(kx, s), int(N), int(K), int(M), r))(jnp.arange(int(n_samples)))
    return xi, chi
