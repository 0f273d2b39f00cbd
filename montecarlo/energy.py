"""Energies of the P-body Hebbian network (any P = 2..8, both conventions), exact and incremental.

Conventions (docs/conventions.md), with the integer overlaps M_mu = sum_i xi_i^mu sigma_i:

* distinct indices (default, ``self_interaction=False``):
      H = -(1/N^(P-1)) sum_mu e_P(xi^mu sigma) = -(1/(P! N^(P-1))) sum_mu Q_P(M_mu),
  Q_P = P! e_P written with Newton's identities (P = 2: Q = M^2 - N, so H = -(1/2N) sum_mu (M_mu^2 - N));
* all tuples (``self_interaction=True``): H = -(1/(P! N^(P-1))) sum_mu M_mu^P = -(N/P!) sum_mu m_mu^P.

The polynomials are generated with sympy (:mod:`montecarlo.polynomials`) and evaluated in int64 (exact
whenever K max|Q| < 2^63, which covers every practical case; otherwise float64).

Single-spin flip: dH = scale * sum_mu x_mu G(M_mu - x_mu), x_mu = xi_i^mu sigma_i, an O(K) pass over the
overlaps *before* the flip (:func:`flip_sum`; see :mod:`montecarlo.polynomials` for G, the chunked exact
integer summation and its bounds).  For P = 2 this is dH = (2/N)(sigma_i h_i - K), h_i = sum_mu xi_i^mu M_mu.

:func:`energy_reference` is the definition itself (sum over index tuples, O(N^P K)) for tests at small N.
"""
from __future__ import annotations

import itertools
import math
from typing import Callable

import jax.numpy as jnp
import numpy as np

from .polynomials import MAX_P, FlipPlan, energy_plan, flip_plan

_DTYPES = {"int32": jnp.int32, "int64": jnp.int64, "float64": jnp.float64}


def check_order(P, self_interaction=False) -> int:
    """Validate the interaction order; returns ``int(P)``.  ValueError unless P is an integer in 2..8."""
    if isinstance(P, bool) or not isinstance(P, (int, np.integer)) or P < 2:
        try:
            ok = not isinstance(P, bool) and float(P).is_integer() and P >= 2
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"P must be an integer >= 2, got {P!r}")
    P = int(P)
    if P > MAX_P:
        raise ValueError(f"P must be <= {MAX_P} for Monte Carlo, got {P}")
    return P


def overlap_dtype(N: int):
    """Narrowest signed integer type holding every overlap |M| <= N (int8, int16 or int32)."""
    N = int(N)
    return jnp.int8 if N <= 127 else jnp.int16 if N <= 32767 else jnp.int32


def overlaps(sigma, xi):
    """Exact integer overlaps M_mu = sum_i xi_i^mu sigma_i.

    sigma: (..., N) spins +-1 (any integer dtype); xi: (N, K) patterns.  Returns ``int32`` (..., K).
    """
    return jnp.matmul(jnp.asarray(sigma).astype(jnp.int32), jnp.asarray(xi).astype(jnp.int32))


def _horner(coeffs, y, dtype):
    """sum_j coeffs[j] y^j by Horner's rule in ``dtype`` (coeffs are Python ints; a leading 1 is free)."""
    if len(coeffs) == 1:
        return jnp.full(y.shape, coeffs[0], dtype)
    acc = y if coeffs[-1] == 1 else jnp.asarray(coeffs[-1], dtype) * y
    for k, a in enumerate(reversed(coeffs[:-1])):
        if k:
            acc = acc * y
        if a:
            acc = acc + jnp.asarray(a, dtype)
    return acc


def energy_sum(M, N: int, P: int = 2, self_interaction: bool = False):
    """S = sum_mu Q(M_mu) (exact int64 when possible, see :func:`montecarlo.polynomials.energy_plan`)."""
    M = jnp.asarray(M)
    plan = energy_plan(check_order(P), bool(self_interaction), int(N), int(M.shape[-1]))
    dt = _DTYPES[plan.compute]
    return jnp.sum(_horner(plan.coeffs, M.astype(dt), dt), axis=-1, dtype=dt)


def energy_from_overlaps(M, N: int, P: int = 2, self_interaction: bool = False, examples=None):
    """Energy H (not per neuron) from the integer overlaps M (..., K); float64, batched over leading axes.

    H = -S / (P! N^(P-1)) with S = sum_mu Q(M_mu) an exact integer (the only rounding is the final
    conversion and division).  ``examples`` (a :class:`densehebb.Examples`): M are the state overlaps
    (..., K, C) of couplings built from examples (:func:`montecarlo.learning.energy_from_state`).
    """
    P = check_order(P, self_interaction)
    M = jnp.asarray(M)
    if examples is not None:
        from . import learning

        K = int(M.shape[-2])
        return learning.energy_from_state(M, learning.plan_for(N, K, P, self_interaction, examples))
    plan = energy_plan(P, bool(self_interaction), int(N), int(M.shape[-1]))
    return -energy_sum(M, N, P, self_interaction).astype(jnp.float64) / float(plan.denominator)


def energy(sigma, xi, P: int = 2, self_interaction: bool = False):
    """Exact energy H(sigma) recomputed from scratch (float64, not per neuron).

    sigma: (..., N) with entries +-1 (leading axes are batch axes, e.g. all 2^N states); xi: (N, K).
    """
    xi = jnp.asarray(xi)
    return energy_from_overlaps(overlaps(sigma, xi), xi.shape[0], P, self_interaction)


def energy_reference(sigma, xi, P: int = 2, self_interaction: bool = False) -> float:
    """The definition, summed over index tuples in NumPy (O(N^P K); for tests at small N).

    distinct: H = -(1/(P! N^(P-1))) sum_mu sum_{i1..iP pairwise distinct} prod_a xi_{ia}^mu sigma_{ia};
    all tuples: the same sum over all N^P index tuples.  sigma: (N,), xi: (N, K).
    """
    P = check_order(P, self_interaction)
    x = np.asarray(xi, dtype=np.int64).T * np.asarray(sigma, dtype=np.int64)[None, :]  # (K, N)
    N = x.shape[1]
    tuples = (itertools.product(range(N), repeat=P) if self_interaction
              else itertools.permutations(range(N), P))
    total = 0
    for idx in tuples:
        total += int(np.prod(x[:, list(idx)], axis=1).sum())
    return -total / (math.factorial(P) * N ** (P - 1))


# --------------------------------------------------------------------------------------- single flips
def flip_sum(M, xi_row, s, plan: FlipPlan):
    """n = sum_mu x_mu G'(M_mu - x_mu) with x_mu = s * xi_row[mu]; dH = plan.scale * n.

    M: (K,) overlaps *before* the flip (any integer dtype); xi_row: (K,) the flipped site's pattern
    entries; s: its current spin (+-1).  Returns int64 (exact; ``plan.exact``) or float64.  The K terms
    are summed in chunks of ``plan.chunk`` in ``plan.compute`` arithmetic (exact, see
    :mod:`montecarlo.polynomials`), the chunk sums in int64.  Works under ``vmap`` (leading batch axes
    are added by the transformation, the reduction is over the last axis).
    """
    dt = _DTYPES[plan.compute]
    K, L = plan.K, plan.chunk
    x = jnp.asarray(s).astype(dt) * jnp.asarray(xi_row).astype(dt)
    y = jnp.asarray(M).astype(dt) - x
    g = _horner(plan.coeffs, y * y, dt)
    if plan.parity:
        g = g * y
    t = x * g
    out = jnp.int64 if plan.exact else jnp.float64
    J = K // L
    n = jnp.zeros((), out)
    if J:
        main = t[: J * L].reshape(J, L).sum(axis=-1, dtype=dt)
        n = n + main.astype(out).sum()
    if J * L < K:
        n = n + t[J * L:].sum(dtype=dt).astype(out)
    return n


def delta_energy_fn(P: int = 2, self_interaction: bool = False) -> Callable:
    """The O(K) kernel ``kernel(s_i, xi_i, M, N) -> dH`` (float64) for (P, self_interaction)."""
    P = check_order(P, self_interaction)
    si = bool(self_interaction)

    def kernel(s_i, xi_i, M, N):
        plan = flip_plan(P, si, int(N), int(jnp.shape(M)[-1]))
        return flip_sum(M, xi_i, s_i, plan).astype(jnp.float64) * plan.scale

    return kernel


def delta_energy(sigma, xi, M, i, P: int = 2, self_interaction: bool = False):
    """Energy change of flipping spin ``i``, computed incrementally in O(K).

    sigma: (N,) current spins; xi: (N, K) patterns; M: (K,) overlaps of ``sigma``; i: site index.
    Returns float64 dH = H(sigma with sigma_i -> -sigma_i) - H(sigma).
    """
    xi = jnp.asarray(xi)
    return delta_energy_fn(P, self_interaction)(jnp.asarray(sigma)[i], xi[i], jnp.asarray(M), xi.shape[0])
