"""The one description of what is solved or simulated: :class:`Model`.

A Model is frozen and hashable: it is the *static* part of every computation (changing it recompiles),
validated once, here.  Traced parameters (alpha, T, ...) are never part of it, so one compiled solver serves
a whole (alpha, T) grid.  The theory solvers, the phase-diagram lines, the symbolic layer and the Monte
Carlo all take a Model.  Conventions: docs/conventions.md.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

CONVENTION_DISTINCT = "distinct-indices"
CONVENTION_ALL_TUPLES = "all-tuples"
CONVENTIONS = (CONVENTION_DISTINCT, CONVENTION_ALL_TUPLES)
_CONVENTION_ALIASES = {"distinct-indices": CONVENTION_DISTINCT, "distinct": CONVENTION_DISTINCT,
                       "all-tuples": CONVENTION_ALL_TUPLES, "self-interaction": CONVENTION_ALL_TUPLES}
ANSATZE = ("rs", "1rsb")
STORAGES = ("high", "low")
NORMALISATIONS = ("r", "R")   # Examples.normalisation: Norm = r^P or R^(P/2)
#: interaction families: the P-body polynomial energy (order P), or K = exp(alpha N) patterns with the
#: exponential energy -sum_mu exp(lam N m_mu) (Demircigil et al.) or the log-sum-exp energy
#: -(1/lam) ln sum_mu exp(lam N m_mu) (modern Hopfield / attention); docs/conventions.md
INTERACTIONS = ("polynomial", "exponential", "log-sum-exp")
P_MAX = 8  # the exact Monte Carlo polynomials and the tested theory cover P = 2..8


def convention_name(self_interaction: bool) -> str:
    """Name of the energy convention, as written into every output (JSON keys, netCDF attrs)."""
    return CONVENTION_ALL_TUPLES if self_interaction else CONVENTION_DISTINCT


@dataclass(frozen=True)
class Examples:
    """A dataset of examples (learning from examples; room for that model family, see docs/conventions.md).

    M examples per archetype, quality r in (0, 1] (P(chi = +1) = (1 + r)/2), ``supervised`` selects the
    class-mean couplings (True) or the per-example ones (False).  ``normalisation`` is the Norm dividing the
    energy: "r" (default, Norm = r^P, so that the condensed signal at sigma = xi^mu is 1 for large M) or
    "R" (Norm = R^(P/2), R = r^2 + (1 - r^2)/M); :meth:`norm` gives its value.  ``gaussian`` (theory only)
    replaces the exact binomial site average over S by its CLT form s = S/(M r) = 1 + sqrt(rho) z
    (theory.learning); the Monte Carlo always draws the examples themselves and refuses it."""

    M: int
    r: float
    supervised: bool = True
    normalisation: str = "r"
    gaussian: bool = False

    def __post_init__(self):
        if not isinstance(self.M, int) or isinstance(self.M, bool) or self.M < 1:
            raise ValueError(f"examples: M must be an integer >= 1, got {self.M!r}")
        try:
            r = float(self.r)
        except (TypeError, ValueError):
            raise ValueError(f"examples: r must be a number in (0, 1], got {self.r!r}") from None
        if isinstance(self.r, bool) or not (0.0 < r <= 1.0):
            raise ValueError(f"examples: r must lie in (0, 1], got {self.r!r}")
        object.__setattr__(self, "r", r)
        if not isinstance(self.supervised, bool):
            raise ValueError(f"examples: supervised must be a bool, got {self.supervised!r}")
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"examples: unknown normalisation {self.normalisation!r}; available: "
                             f"{', '.join(NORMALISATIONS)}")
        if not isinstance(self.gaussian, bool):
            raise ValueError(f"examples: gaussian must be a bool, got {self.gaussian!r}")

    def replace(self, **changes) -> "Examples":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    @property
    def protocol(self) -> str:
        """"supervised" or "unsupervised"."""
        return "supervised" if self.supervised else "unsupervised"

    @property
    def R(self) -> float:
        """R = r^2 + (1 - r^2)/M."""
        return self.r ** 2 + (1.0 - self.r ** 2) / self.M

    def norm(self, P: int) -> float:
        """Norm of the energy for interaction order P: r^P ("r") or R^(P/2) ("R")."""
        return self.r ** P if self.normalisation == "r" else self.R ** (P / 2)

    @property
    def rho(self) -> float:
        """Dataset entropy rho = (1 - r^2) / (M r^2)."""
        return (1.0 - self.r ** 2) / (self.M * self.r ** 2)


@dataclass(frozen=True)
class Model:
    """A dense Hebbian network as the toolkit solves or simulates it (static, hashable).

    P : int
        Interaction order, 2..8.  P = 2 is the Hopfield / Amit-Gutfreund-Sompolinsky model.
    convention : str
        Energy convention: "distinct-indices" (default), H = -(1/N^(P-1)) sum_mu e_P(xi^mu * sigma), or
        "all-tuples", H = -(N/P!) sum_mu m_mu^P.  For P = 2 they differ by the constant K/2.
    ansatz : str
        "rs" (replica symmetric) or "1rsb" (one step of replica-symmetry breaking).
    storage : str
        "high" (K = alpha N^(P-1), the default) or "low" (K finite).
    nodes : int
        Gauss-Hermite order of the RS Gaussian averages (0: theory.quadrature.DEFAULT_NODES).
    examples : Examples or None
        Learning from examples: the dataset the couplings are built from (None: the patterns themselves).
    dilution : float
        Fraction d of blank pattern entries (multitasking networks; 0: dense Rademacher patterns).
    interaction : str
        "polynomial" (default: the P-body energy of order P), "exponential" or "log-sum-exp" (K = exp(alpha N)
        patterns; P is then not used).
    lam : float
        Inverse width lambda > 0 of the exponential / log-sum-exp interaction (1: F(x) = e^x).
    """

    P: int = 2
    convention: str = CONVENTION_DISTINCT
    ansatz: str = "rs"
    storage: str = "high"
    nodes: int = 0
    examples: Examples | None = None
    dilution: float = 0.0
    interaction: str = "polynomial"
    lam: float = 1.0

    def __post_init__(self):
        if isinstance(self.P, bool) or not isinstance(self.P, int) or not 2 <= self.P <= P_MAX:
            raise ValueError(f"P must be an integer in 2..{P_MAX}, got {self.P!r}")
        conv = _CONVENTION_ALIASES.get(self.convention)
        if conv is None:
            raise ValueError(f"unknown convention {self.convention!r}; available: {', '.join(CONVENTIONS)}")
        object.__setattr__(self, "convention", conv)
        if self.ansatz not in ANSATZE:
            raise ValueError(f"unknown ansatz {self.ansatz!r}; available: {', '.join(ANSATZE)}")
        if self.storage not in STORAGES:
            raise ValueError(f"unknown storage {self.storage!r}; available: {', '.join(STORAGES)}")
        if isinstance(self.nodes, bool) or not isinstance(self.nodes, int) or self.nodes < 0:
            raise ValueError(f"nodes must be a non-negative integer, got {self.nodes!r}")
        if self.examples is not None and not isinstance(self.examples, Examples):
            raise ValueError("examples must be a densehebb.Examples (or None)")
        if not (0.0 <= float(self.dilution) < 1.0):
            raise ValueError(f"dilution must lie in [0, 1), got {self.dilution!r}")
        if self.interaction not in INTERACTIONS:
            raise ValueError(f"unknown interaction {self.interaction!r}; available: {', '.join(INTERACTIONS)}")
        try:
            lam = float(self.lam)
        except (TypeError, ValueError):
            raise ValueError(f"lam must be a number > 0, got {self.lam!r}") from None
        if isinstance(self.lam, bool) or not (lam > 0 and lam < float("inf")):
            raise ValueError(f"lam must be a finite number > 0, got {self.lam!r}")
        object.__setattr__(self, "lam", lam)

    @property
    def self_interaction(self) -> bool:
        """True for the all-tuples convention."""
        return self.convention == CONVENTION_ALL_TUPLES

    def replace(self, **changes) -> "Model":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    @property
    def noise_covariance(self):
        """xi(q) of the high-storage noise, a sympy expression in q and alpha (theory.covariance; for P = 2
        the exact AGS treatment is the log-det noise, whose Gaussian part is this alpha q^2 / 2)."""
        from .covariance import noise_covariance

        return noise_covariance(self.P, self.self_interaction)

    def describe(self) -> dict:
        """Plain attributes naming the model (for JSON and netCDF provenance)."""
        out = {"P": self.P, "convention": self.convention, "ansatz": self.ansatz, "storage": self.storage}
        if self.storage == "high":
            from .covariance import noise_summary

            out["noise_covariance"] = noise_summary(self.P, self.self_interaction)[1]
            if self.examples is not None:   # the dataset's covariance (theory.learning.noise_poly), not storage's
                from .learning import noise_poly

                c = noise_poly(self.P, self.self_interaction, self.examples)
                out["noise_covariance"] = "alpha*(" + " + ".join(
                    f"{v:.12g}" + ("" if j == 0 else "*q" if j == 1 else f"*q**{j}")
                    for j, v in enumerate(c) if v != 0) + ")"
        if self.examples is not None:
            out.update({"examples_M": self.examples.M, "examples_r": float(self.examples.r),
                        "examples_supervised": int(self.examples.supervised),
                        "examples_normalisation": self.examples.normalisation,
                        "examples_gaussian": int(self.examples.gaussian)})
        if self.dilution:
            out["dilution"] = float(self.dilution)
            if self.storage == "high":   # theory.multitask_high: the non-condensed noise scales with 1 - d
                out["noise_covariance"] = (f"(1-dilution)**{self.P}*({out['noise_covariance']})" if self.P > 2 else
                                           f"AGS soft mode of strength 1-dilution ({out['noise_covariance']} at d=0)")
                out["overlaps"] = "unnormalised"
        if self.interaction != "polynomial":
            out.update({"interaction": self.interaction, "lam": self.lam})
            for k in ("P", "noise_covariance"):
                out.pop(k, None)
        return out

    def require_plain(self, what: str, dilution: bool = False) -> None:
        """Raise a one-line error if this model family is not (yet) covered by ``what``; ``dilution=True``:
        ``what`` covers diluted patterns (the low-storage multitasking theory, theory.multitask)."""
        if self.interaction != "polynomial":
            raise NotImplementedError(f"{what}: the {self.interaction} interaction is not available here")
        if self.examples is not None:
            raise NotImplementedError(f"{what}: learning from examples is not available yet")
        if self.dilution and not dilution:
            if self.storage == "high":
                raise NotImplementedError(f"{what}: diluted patterns are available at low storage (Model("
                                          "storage='low'), K finite: theory.multitask) and in the high-storage RS "
                                          "theory (densehebb.solve / capacity, theory.multitask_high) only")
            raise NotImplementedError(f"{what}: diluted patterns are not available here (low storage with "
                                      "dilution: theory.multitask, densehebb.solve(model, T=..., K=...))")
