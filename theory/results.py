"""One result type for every saddle point, branch end and capacity: :class:`Result`, :class:`Status`.

In the spirit of Optimistix's ``Solution(value, result, stats)``: a Result holds the named order parameters
(plain floats, or NumPy arrays over a grid), one :class:`Status` (an enum with a message per code), the
residual, the iteration count, the stability eigenvalue (replicon) and the Model (hence the convention).
``to_dict()`` gives the flat JSON record the CLI prints; ``to_xarray()`` a Dataset with named dimensions,
CF units and long names, and the provenance attributes of :mod:`theory.provenance`.

A value that was not obtained (not converged, branch missing) is NaN: the status says why.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

import numpy as np

from .model import Model


class Status(str, enum.Enum):
    """Why a result is what it is.  Prints as its name; ``.message`` explains it; ``.ok`` says whether the
    numbers are an answer."""

    CONVERGED = "converged"
    NOT_CONVERGED = "not_converged"
    DIVERGED = "diverged"
    COLLAPSED = "collapsed"
    BRANCH_MISSING = "branch_missing"
    RSB_TRIVIAL = "rsb_trivial"
    X_AT_BOUNDARY = "x_at_boundary"
    RS_STABLE_AT_CAPACITY = "rs_stable_at_capacity"
    RSB_MERGES_INTO_RS = "rsb_merges_into_rs"
    NOT_FOUND = "not_found"

    def __str__(self) -> str:
        return self.value

    @property
    def code(self) -> int:
        return _CODES[self]

    @classmethod
    def from_code(cls, code: int) -> "Status":
        return _BY_CODE[int(code)]

    @property
    def ok(self) -> bool:
        """True if the result's numbers are an answer (converged, or exactly the RS answer)."""
        return self in (Status.CONVERGED, Status.RS_STABLE_AT_CAPACITY)

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    Status.CONVERGED: "the equations are solved to tolerance on the requested branch",
    Status.NOT_CONVERGED: "the solver stopped before reaching tolerance (iteration limit); no answer",
    Status.DIVERGED: "the iteration diverged or left the physical domain; no answer",
    Status.COLLAPSED: "the solution collapsed onto another branch (e.g. m -> 0 on the retrieval branch)",
    Status.BRANCH_MISSING: "the requested branch does not exist at these parameters",
    Status.RSB_TRIVIAL: "no non-trivial 1RSB saddle point: 1RSB coincides with RS here",
    Status.X_AT_BOUNDARY: "non-trivial 1RSB solutions exist but f is largest at x = 1: the RS saddle applies",
    Status.RS_STABLE_AT_CAPACITY: "the RS branch is AT-stable at its end: the capacity is the RS one",
    Status.RSB_MERGES_INTO_RS: "the 1RSB branch merges into an AT-stable RS branch instead of ending in a fold",
    Status.NOT_FOUND: "the line, fold or capacity was not found in the searched range",
}
_CODES = {s: i for i, s in enumerate(Status)}
_BY_CODE = {i: s for s, i in _CODES.items()}

# CF metadata of every variable a Result can carry (units "1": dimensionless)
VARIABLES = {
    "alpha": ("1", "load K / N^(P-1)"),
    "T": ("1", "temperature T = 1/beta (energy units of H)"),
    "m": ("1", "Mattis overlap with the condensed pattern"),
    "q": ("1", "Edwards-Anderson overlap (RS) / q1 (1RSB)"),
    "r": ("1", "AGS noise order parameter r (RS)"),
    "C": ("1", "beta (1 - q), susceptibility-like variable"),
    "q0": ("1", "1RSB overlap between different blocks"),
    "q1": ("1", "1RSB overlap inside a block"),
    "x": ("1", "Parisi block parameter x"),
    "mu": ("1", "beta x (finite as T -> 0)"),
    "f": ("1", "quenched free energy per neuron"),
    "f_rs": ("1", "RS free energy per neuron at the same point"),
    "alpha_c": ("1", "capacity: end of the retrieval branch (load)"),
    "alpha_c_rs": ("1", "RS capacity at the same temperature"),
    "m_c": ("1", "Mattis overlap at the end of the retrieval branch"),
    "T_spinodal": ("1", "temperature where the state appears (spinodal)"),
    "m_spinodal": ("1", "overlap amplitude at the spinodal"),
    "T_thermodynamic": ("1", "temperature where f equals the paramagnet's -T ln 2"),
    "m_thermodynamic": ("1", "overlap amplitude at the thermodynamic transition"),
    "T_stable": ("1", "temperature below which the mixture is a local minimum"),
    "replicon": ("1", "replicon (de Almeida-Thouless) eigenvalue; > 0: locally stable"),
    "residual": ("1", "max abs of the stationarity equations"),
    "iterations": ("1", "solver iterations"),
    "status": ("1", "status code (see flag_meanings)"),
}


def _plain(v):
    """0-d arrays -> Python scalars, other arrays -> NumPy."""
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    a = np.asarray(v)
    if a.ndim == 0:
        return a.item()
    return a


@dataclass(frozen=True, eq=False)
class Result:
    """A saddle point, branch end, capacity or transition (one point, or arrays over a grid).

    model:      the Model solved (gives P, the convention and the ansatz)
    kind:       "saddle", "capacity", "fold" or "transition"
    inputs:     the parameters asked for (alpha, T, branch, ...)
    values:     the named results (order parameters, f, alpha_c, ...): floats or NumPy arrays, NaN if absent
    status:     a Status (one point) or an int array of Status codes (grid; see ``statuses``)
    residual, iterations, replicon: as named (NaN / 0 where they do not apply)
    dims:       dimension names of the arrays (e.g. ("alpha", "T")); () for one point
    note:       a one-line remark (e.g. how a point above the RS capacity was reached)
    extra:      solver internals (raw variables ``x``, brackets) kept for continuation
    """

    model: Model
    kind: str
    inputs: dict
    values: dict
    status: object
    residual: object = math.nan
    iterations: object = 0
    replicon: object = math.nan
    dims: tuple = ()
    note: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "inputs", {k: _plain(v) for k, v in self.inputs.items()})
        object.__setattr__(self, "values", {k: _plain(v) for k, v in self.values.items()})
        for k in ("residual", "iterations", "replicon"):
            object.__setattr__(self, k, _plain(getattr(self, k)))
        if not self.dims and not isinstance(self.status, Status):
            object.__setattr__(self, "status", Status.from_code(int(np.asarray(self.status))))

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        for d in ("values", "inputs", "extra"):
            store = object.__getattribute__(self, d)
            if name in store:
                return store[name]
        raise AttributeError(f"{type(self).__name__} has no field {name!r}; values: "
                             f"{', '.join(object.__getattribute__(self, 'values'))}")

    # --- status -------------------------------------------------------------------------------------
    @property
    def statuses(self):
        """The status of every point: a Status, or an object array of Status over the grid."""
        if isinstance(self.status, Status):
            return self.status
        return np.vectorize(Status.from_code, otypes=[object])(np.asarray(self.status))

    @property
    def converged(self):
        """True where the numbers are an answer (bool, or bool array over the grid)."""
        if isinstance(self.status, Status):
            return self.status.ok
        codes = np.asarray(self.status)
        return (codes == Status.CONVERGED.code) | (codes == Status.RS_STABLE_AT_CAPACITY.code)

    @property
    def stable(self):
        """Locally stable: converged with a positive replicon eigenvalue."""
        rep = np.asarray(self.replicon, dtype=float)
        out = np.asarray(self.converged) & (np.nan_to_num(rep, nan=-1.0) > 0)
        return bool(out) if out.ndim == 0 else out

    @property
    def message(self) -> str:
        return self.status.message if isinstance(self.status, Status) else "see statuses"

    @property
    def shape(self) -> tuple:
        return tuple(np.shape(next(iter(self.values.values())))) if self.values else ()

    def __getitem__(self, index):
        """One point of a grid result, as a scalar Result."""
        pick = lambda v: _plain(np.asarray(v)[index]) if np.ndim(v) else v  # noqa: E731
        return Result(self.model, self.kind, {k: pick(v) for k, v in self.inputs.items()},
                      {k: pick(v) for k, v in self.values.items()}, Status.from_code(np.asarray(self.status)[index])
                      if not isinstance(self.status, Status) else self.status,
                      pick(self.residual), pick(self.iterations), pick(self.replicon), (), self.note,
                      {k: (np.asarray(v)[index] if isinstance(v, np.ndarray) and v.ndim > 1 else v)
                       for k, v in self.extra.items()})

    # --- export -------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Flat record of one point: model, inputs, values, then converged, status, residual, iterations,
        stable, replicon (and note).  Floats stay floats (NaN where absent); JSON writers map NaN to null."""
        if self.dims:
            raise ValueError("to_dict() is for one point; index the result (r[i, j]) or use to_xarray()")
        out = self.model.describe()
        out.update(self.inputs)
        out.update(self.values)
        out.update({"converged": bool(self.converged), "status": self.status.value,
                    "residual": float(self.residual), "iterations": int(self.iterations),
                    "stable": bool(self.stable), "replicon": float(self.replicon)})
        if self.note:
            out["note"] = self.note
        return out

    def to_xarray(self, **attrs):
        """An xarray Dataset: every value, the status codes (CF flag_values / flag_meanings), residual,
        iterations and replicon, with units and long names, and the provenance attributes."""
        import xarray as xr

        from .provenance import dataset_attrs, describe_variables

        dims = self.dims
        coords = {}
        for i, d in enumerate(dims):
            v = np.asarray(self.inputs[d])
            if v.ndim == len(dims):  # broadcast grid -> 1-d coordinate along its own axis
                v = v[tuple(slice(None) if j == i else 0 for j in range(len(dims)))]
            coords[d] = np.asarray(v, dtype=float)
        data = {k: (dims, np.asarray(v, dtype=float)) for k, v in self.values.items()}
        codes = (np.asarray(self.status) if not isinstance(self.status, Status)
                 else np.asarray(self.status.code))
        data["status"] = (dims, codes.astype(np.int8))
        for k in ("residual", "replicon"):
            data[k] = (dims, np.broadcast_to(np.asarray(getattr(self, k), dtype=float), np.shape(codes)))
        data["iterations"] = (dims, np.broadcast_to(np.asarray(self.iterations, dtype=np.int32), np.shape(codes)))
        scalars = {k: v for k, v in self.inputs.items() if k not in dims and not isinstance(v, str)
                   and np.ndim(v) == 0 and v is not None}
        for k, v in scalars.items():
            data[k] = ((), float(v))
        ds = xr.Dataset(data, coords=coords)
        describe_variables(ds, VARIABLES)
        ds["status"].attrs.update({"flag_values": np.arange(len(Status), dtype=np.int8),
                                   "flag_meanings": " ".join(s.value for s in Status)})
        extra = {k: v for k, v in self.inputs.items() if isinstance(v, str)}
        extra.update({"result_kind": self.kind})
        if self.note:
            extra["note"] = self.note
        extra.update(attrs)
        ds.attrs.update(dataset_attrs(self.model, **extra))
        return ds

    def __repr__(self) -> str:
        if self.dims:
            return (f"Result({self.kind}, {self.model.convention}, P={self.model.P}, ansatz={self.model.ansatz}, "
                    f"grid {dict(zip(self.dims, self.shape))}, converged {int(np.sum(self.converged))}/"
                    f"{np.size(self.converged)})")
        vals = ", ".join(f"{k}={v:.10g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.values.items())
        return (f"Result({self.kind}, P={self.model.P}, {self.model.convention}, {self.model.ansatz}, "
                f"{vals}, status={self.status.value})")
