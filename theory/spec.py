"""Static model specification (hashable; drives compilation) and the canonical conventions.

Traced parameters (alpha, T) are *not* part of the spec: one compiled solver serves a whole grid.
"""
from __future__ import annotations

from dataclasses import dataclass

CONVENTION_DISTINCT = "distinct-indices"
CONVENTION_ALL_TUPLES = "all-tuples"


def convention_name(self_interaction: bool) -> str:
    """Name of the energy convention, as written into every output (JSON keys, netCDF attrs)."""
    return CONVENTION_ALL_TUPLES if self_interaction else CONVENTION_DISTINCT


@dataclass(frozen=True)
class ModelSpec:
    """What model is solved; everything here is static (changing it recompiles).

    P : int
        Interaction order (P >= 2).  P = 2 is the Hopfield / Amit-Gutfreund-Sompolinsky model.
    self_interaction : bool
        False (default): distinct indices, H = -(1/N^(P-1)) sum_mu e_P(xi^mu * sigma).
        True: all tuples, H = -(N/P!) sum_mu m_mu^P.  For P = 2 the two differ by the constant K/2,
        i.e. f(all tuples) = f(distinct) - alpha/2.
    ansatz : str
        "rs" (replica symmetric) or "1rsb" (one step of RSB, any P, T >= 0: theory.rsb1_solver).
    nodes : int
        Gauss-Hermite order used for the Gaussian averages (see :mod:`theory.quadrature`).
    """

    P: int = 2
    self_interaction: bool = False
    ansatz: str = "rs"
    nodes: int = 0  # 0 -> quadrature.DEFAULT_NODES

    def __post_init__(self):
        if not isinstance(self.P, int) or self.P < 2:
            raise ValueError(f"P must be an integer >= 2, got {self.P!r}")
        if self.ansatz not in ("rs", "1rsb"):
            raise ValueError(f"unknown ansatz {self.ansatz!r}; available: 'rs', '1rsb'")
        if self.nodes < 0:
            raise ValueError(f"nodes must be positive, got {self.nodes}")

    @property
    def convention(self) -> str:
        return convention_name(self.self_interaction)

