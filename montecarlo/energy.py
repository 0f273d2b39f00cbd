"""Energies of the P-body Hebbian network, exact and incremental.

Conventions (shared/CONVENTIONS.md), written with the integer overlaps M_mu = sum_i xi_i^mu sigma_i:

* distinct indices (default, ``self_interaction=False``), P = 2:
      H = -(1/(2N)) sum_mu (M_mu^2 - N)
* all tuples (``self_interaction=True``), P = 2:
      H = -(1/(2N)) sum_mu M_mu^2   (= distinct-indices energy - K/2)

Single-spin flip (P = 2).  Flipping sigma_i changes M_mu -> M_mu - 2 x_mu with x_mu = xi_i^mu sigma_i, so
M_mu^2 -> M_mu^2 - 4 x_mu M_mu + 4 (x_mu^2 = 1) and, in both conventions (the "-N" term is constant),
      dH = -(1/(2N)) sum_mu (4 - 4 x_mu M_mu) = (2/N) (sigma_i h_i - K),   h_i = sum_mu xi_i^mu M_mu,
with M the overlaps *before* the flip.  h_i is an integer dot product of one pattern row with M: one
attempt costs O(K).  Since dH = (2/N) * integer, dH == 0 is exact in floating point.

The incremental energy is looked up by (P, self_interaction) in :data:`DELTA_KERNELS`; P > 2 (general P via
elementary symmetric polynomials / Newton identities) is not implemented yet and raises NotImplementedError.
"""
from __future__ import annotations

from typing import Callable

import jax.numpy as jnp

IMPLEMENTED_P = (2,)


def check_order(P, self_interaction=False) -> int:
    """Validate the interaction order; returns ``int(P)``.

    Raises ValueError for P < 2 (or non-integer P) and NotImplementedError for P > 2.
    """
    if isinstance(P, bool) or int(P) != P or P < 2:
        raise ValueError(f"P must be an integer >= 2, got {P!r}")
    P = int(P)
    if P not in IMPLEMENTED_P:
        raise NotImplementedError(
            f"Monte Carlo energies are implemented for P = 2 only (got P = {P}, "
            f"self_interaction={bool(self_interaction)}); general P via elementary symmetric polynomials "
            "/ Newton identities is a planned extension")
    return P


def overlaps(sigma, xi):
    """Exact integer overlaps M_mu = sum_i xi_i^mu sigma_i.

    sigma: (..., N) spins +-1 (any integer dtype); xi: (N, K) patterns.  Returns ``int32`` (..., K)
    (|M_mu| <= N, exact).
    """
    return jnp.matmul(jnp.asarray(sigma).astype(jnp.int32), jnp.asarray(xi).astype(jnp.int32))


def energy_from_overlaps(M, N: int, P: int = 2, self_interaction: bool = False):
    """Energy H (not per neuron) from the integer overlaps M (..., K); float64, batched over leading axes.

    P = 2: H = -(sum_mu M_mu^2 - K N) / (2N) (distinct indices) or -(sum_mu M_mu^2) / (2N) (all tuples).
    The sum of squares is an exact int64.
    """
    check_order(P, self_interaction)
    M = jnp.asarray(M).astype(jnp.int64)
    K = M.shape[-1]
    num = jnp.sum(M * M, axis=-1)
    if not self_interaction:
        num = num - K * N
    return -num.astype(jnp.float64) / (2.0 * N)


def energy(sigma, xi, P: int = 2, self_interaction: bool = False):
    """Exact energy H(sigma) recomputed from scratch (float64, not per neuron).

    sigma: (..., N) with entries +-1 (leading axes are batch axes, e.g. all 2^N states); xi: (N, K).
    Convention: see module docstring (``self_interaction=False`` is the distinct-indices default).
    """
    xi = jnp.asarray(xi)
    return energy_from_overlaps(overlaps(sigma, xi), xi.shape[0], P, self_interaction)


def _delta_p2(s_i, xi_i, M, N):
    """dH for flipping one spin, P = 2 (identical in both conventions).

    s_i: current spin (+-1); xi_i: (K,) pattern row of that site; M: (K,) overlaps *before* the flip, of
    an integer dtype wide enough for |h| <= K N (int32 if K N < 2^31).  Returns float64
    dH = (2/N) (s_i sum_mu xi_i^mu M_mu - K).
    """
    K = M.shape[-1]
    h = jnp.dot(xi_i.astype(M.dtype), M)
    n = s_i.astype(M.dtype) * h - K
    return (2.0 * n.astype(jnp.float64)) / N


#: Incremental energy kernels ``kernel(s_i, xi_i, M, N) -> dH`` keyed by (P, self_interaction).
#: For P = 2 both conventions share the kernel: they differ by the constant K/2 only.
DELTA_KERNELS: dict[tuple[int, bool], Callable] = {
    (2, False): _delta_p2,
    (2, True): _delta_p2,
}


def delta_energy_fn(P: int = 2, self_interaction: bool = False) -> Callable:
    """The O(K) kernel ``kernel(s_i, xi_i, M, N) -> dH`` for (P, self_interaction).

    Raises ValueError for invalid P and NotImplementedError for P > 2.
    """
    P = check_order(P, self_interaction)
    return DELTA_KERNELS[(P, bool(self_interaction))]


def accumulator_dtype(N: int, K: int):
    """Integer dtype for the local-field dot product h = xi_i . M (|h| <= K N): int32 when safe, else int64."""
    return jnp.int32 if int(N) * int(K) < 2**31 - 1 else jnp.int64


def delta_energy(sigma, xi, M, i, P: int = 2, self_interaction: bool = False):
    """Energy change of flipping spin ``i``, computed incrementally in O(K).

    sigma: (N,) current spins; xi: (N, K) patterns; M: (K,) overlaps of ``sigma`` (``overlaps(sigma, xi)``);
    i: site index.  Returns float64 dH = H(sigma with sigma_i -> -sigma_i) - H(sigma).
    """
    kernel = delta_energy_fn(P, self_interaction)
    xi = jnp.asarray(xi)
    N, K = xi.shape
    M = jnp.asarray(M).astype(accumulator_dtype(N, K))
    return kernel(jnp.asarray(sigma)[i], xi[i], M, N)
