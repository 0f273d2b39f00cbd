"""How many examples a dense network needs to learn: thresholds in M (learning from examples, RS).

The threshold for learning at given (r, alpha, T, P) is the smallest number M of examples per archetype from
which the archetype (learning) state

* ``exists``:  the retrieval branch of the RS learning theory has a converged solution;
* ``global``:  it exists and is the global minimum of f (below the spin glass and the paramagnet of
  non-negative entropy, as for the storage lines, :func:`phase_diagrams.lines._delta_f`; unsupervised at
  alpha = 0 also below the example ("storing") attractors of :func:`example_limit`; at alpha > 0 the
  example state is not yet a competitor);
* ``overlap``: it exists and its archetype overlap m reaches ``m_target``.

M is an integer and the theory is solved exactly in it (binomial site sums): one traced solver
(:func:`theory.learning.solve_datasets`) evaluates a geometric grid of M in [1, M_max] for every r at once,
then every integer of the bracket where the criterion starts to hold (k-section in rounds of at most 16
integers).  M_min is the smallest M from which the criterion holds at every M evaluated up to M_max;
rho_max = (1 - r^2)/(M_min r^2) is the largest dataset entropy that still learns.  Unsupervised, K finite
(alpha = 0): also the largest M at which the example ("storing") attractors exist
(:func:`theory.low_storage.solve_examples`), and so the window where both kinds coexist.
"""
from __future__ import annotations

import math

import numpy as np

from densehebb.theory import Model, Result, Status, x64
from densehebb.theory.learning import physical_paramagnet, solve_datasets, template

CRITERIA = ("exists", "global", "overlap")
M_MAX = 10_000
GRID = 40      # points of the geometric grid in M
ROUND = 16     # integers per refinement round


def _holds(spec, criterion, m_target, alpha, T, M, r):
    """criterion (bool array) and the retrieval Result at the flat points (M, r) (same alpha, T)."""
    R = solve_datasets(spec, alpha, T, M, r, "retrieval")
    ok = np.asarray(R.converged)
    if criterion == "overlap":
        ok = ok & (np.asarray(R.values["m"]) >= m_target)
    elif criterion == "global":
        comp = np.full(M.shape, np.inf)
        if alpha > 0:
            S = solve_datasets(spec, alpha, T, M, r, "spin-glass")
            comp = np.where(np.asarray(S.converged), np.asarray(S.values["f"]), comp)
        if T > 0:
            good, f_pm = physical_paramagnet(spec, alpha, T, M, r)
            comp = np.where(good, np.minimum(comp, f_pm), comp)
        if not spec.examples.supervised and alpha == 0:
            comp = np.minimum(comp, _example_f(spec, T, M, r, ok))
        ok = ok & (np.asarray(R.values["f"]) <= comp)
    return ok, R


def _example_f(spec, T, M, r, where):
    """Unsupervised, K finite: f of the example ("storing") attractor at the points (M, r) flagged ``where``
    (+inf where there is none: M beyond :func:`example_limit`, or the example state collapsed, unstable or
    nearer the symmetric point than the pure example, as in :func:`example_limit`)."""
    from densehebb.theory.low_storage import solve_examples

    out = np.full(np.shape(M), np.inf)
    limits = {}
    for i in np.flatnonzero(where):
        Mi, ri = int(M[i]), float(r[i])
        if ri >= 1 or Mi < 2:
            continue
        if ri not in limits:
            limits[ri] = example_limit(spec, ri, T, max(int(np.max(M)), 2))
        if not Mi <= limits[ri]:     # NaN (none) or beyond the last example attractor
            continue
        mod = spec.replace(storage="low", examples=spec.examples.replace(M=Mi, r=ri, gaussian=False))
        res = solve_examples(mod, T, "example")
        if res.converged and res.replicon > 0 and res.values["x"] - res.values["y"] >= (1 - ri * ri) / 2:
            out[i] = res.values["f"]
    return out


def _first_from(holds_sorted):
    """Index of the first element from which every element holds (len if the last does not hold)."""
    bad = np.flatnonzero(~holds_sorted)
    return 0 if bad.size == 0 else int(bad[-1]) + 1


@x64
def threshold(spec: Model, r, alpha: float = 0.0, T: float = 0.0, criterion: str = "exists",
              m_target: float = 0.9, M_max: int = M_MAX) -> Result:
    """M_min(r): the threshold for learning (see the module docstring), for one r or an array of r (one
    batched solve per round for all of them).  A Result of kind "threshold": values M_min, rho_max, and m, n
    of the archetype state at M_min (unsupervised at alpha = 0 also M_example_max, the largest M with an
    example attractor, and the coexistence window); status branch_missing where the criterion is not met up
    to M_max (M_min NaN)."""
    if spec.examples is None:
        raise ValueError("threshold: the Model needs examples=densehebb.Examples(...) (the protocol)")
    if criterion not in CRITERIA:
        raise ValueError(f"unknown criterion {criterion!r}; choose one of {', '.join(CRITERIA)}")
    if not (math.isfinite(alpha) and alpha >= 0 and math.isfinite(T) and T >= 0):
        raise ValueError("alpha and T must be finite and >= 0")
    if not (0 < m_target <= 1):
        raise ValueError(f"m_target must lie in (0, 1], got {m_target!r}")
    if int(M_max) < 1:
        raise ValueError("M_max must be >= 1")
    r_in = np.asarray(r, dtype=float)
    rs = np.atleast_1d(r_in).ravel()
    if np.any(~(rs > 0)) or np.any(rs > 1):
        raise ValueError("examples: r must lie in (0, 1]")
    M_max = int(M_max)
    grid = np.unique(np.round(np.geomspace(1, M_max, GRID)).astype(np.int64))
    MM, RR = np.meshgrid(grid, rs, indexing="ij")
    hold, _ = _holds(spec, criterion, m_target, alpha, T, MM.ravel(), RR.ravel())
    hold = hold.reshape(MM.shape)
    M_min = np.full(rs.size, np.nan)
    lo = np.zeros(rs.size, np.int64)   # largest M known to fail (0: none)
    hi = np.zeros(rs.size, np.int64)   # smallest M from which it holds on the grid
    for j in range(rs.size):
        i = _first_from(hold[:, j])
        if i < grid.size:
            hi[j] = grid[i]
            lo[j] = grid[i - 1] if i > 0 else 0
    # refine every bracket (lo, hi] until it is at most ROUND integers wide, then every integer in it
    while True:
        todo = [j for j in range(rs.size) if hi[j] and hi[j] - lo[j] > 1]
        if not todo:
            break
        Ms, Rs, owner = [], [], []
        for j in todo:
            width = hi[j] - lo[j] - 1
            cand = (np.arange(lo[j] + 1, hi[j]) if width <= ROUND else
                    np.unique(np.round(np.linspace(lo[j], hi[j], ROUND + 2)[1:-1]).astype(np.int64)))
            Ms.append(cand)
            Rs.append(np.full(cand.size, rs[j]))
            owner.append(np.full(cand.size, j))
        Ms, Rs, owner = np.concatenate(Ms), np.concatenate(Rs), np.concatenate(owner)
        h, _ = _holds(spec, criterion, m_target, alpha, T, Ms, Rs)
        for j in todo:
            sel = owner == j
            cand, hj = Ms[sel], h[sel]
            i = _first_from(hj)
            new_hi = cand[i] if i < cand.size else hi[j]
            new_lo = cand[i - 1] if i > 0 else lo[j]
            if hi[j] - lo[j] - 1 <= ROUND:
                new_lo = new_hi - 1    # every integer of the bracket was evaluated
            lo[j], hi[j] = new_lo, new_hi
    found = hi > 0
    M_min[found] = hi[found]
    Mq = np.where(found, hi, 1)
    _, R = _holds(spec, "exists", m_target, alpha, T, Mq, rs)
    nan = np.where(found, 1.0, np.nan)
    values = {"M_min": M_min, "rho_max": (1 - rs ** 2) / (M_min * rs ** 2),
              "m": np.asarray(R.values["m"]) * nan, "n": np.asarray(R.values["n"]) * nan}
    status = np.where(found, Status.CONVERGED.code, Status.BRANCH_MISSING.code).astype(np.int8)
    inputs = {"r": rs, "alpha": float(alpha), "T": float(T), "criterion": criterion, "M_max": M_max}
    if criterion == "overlap":
        inputs["m_target"] = float(m_target)
    note = f"M_min: smallest M from which the criterion holds at every M evaluated up to M_max = {M_max}"
    if not spec.examples.supervised and alpha == 0:
        values["M_example_max"] = np.array([example_limit(spec, float(x), float(T), M_max) for x in rs])
        values["coexistence"] = np.where(np.isfinite(M_min) & (values["M_example_max"] >= M_min),
                                         values["M_example_max"] - M_min + 1, 0.0)
    model = template(spec) if rs.size > 1 else spec.replace(examples=spec.examples.replace(r=float(rs[0])))
    if r_in.ndim == 0:
        return Result(model, "threshold", {k: (float(v[0]) if isinstance(v, np.ndarray) else v)
                                           for k, v in inputs.items()},
                      {k: float(v[0]) for k, v in values.items()}, Status.from_code(int(status[0])), note=note)
    return Result(model, "threshold", inputs, values, status, dims=("r",), note=note)


def example_limit(spec: Model, r: float, T: float, M_max: int = M_MAX) -> float:
    """Unsupervised, K finite: the largest M at which an example attractor sigma ~ eta^1 exists: the example
    state of :func:`theory.low_storage.solve_examples` converged, locally stable, and nearer the pure example
    than the symmetric (archetype) point, x - y >= (1 - r^2)/2 (pure example: x - y = 1 - r^2; at T = 0 the
    archetype state of even M also has solutions with x - y of a few per cent, ties broken towards one
    example, which do not count).  NaN if none at M = 2, M_max if up to M_max; bisection on existence (assumed
    lost for good once lost).  At T = 0 the pure example is a fixed point iff (M - 1) r^(2(P-1)) < 1."""
    from densehebb.theory.low_storage import solve_examples

    def exists(M):
        ex = spec.examples
        mod = spec.replace(storage="low", examples=ex.replace(M=int(M), r=r, supervised=False, gaussian=False))
        res = solve_examples(mod, T, "example")
        return bool(res.converged) and res.replicon > 0 and res.values["x"] - res.values["y"] >= (1 - r * r) / 2

    if r >= 1 or not exists(2):
        return float("nan")
    lo, hi = 2, 4
    while hi <= M_max and exists(hi):
        lo, hi = hi, 2 * hi
    if hi > M_max:
        if exists(M_max):
            return float(M_max)
        hi = M_max
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if exists(mid) else (lo, mid)
    return float(lo)


#: names, units and long names of a :func:`threshold_curves` Dataset
CURVE_VARIABLES = {
    "P": ("1", "interaction order P"),
    "r": ("1", "dataset quality r, P(chi = +1) = (1 + r)/2"),
    "M_min": ("1", "threshold for learning: smallest number of examples per archetype"),
    "rho_max": ("1", "largest dataset entropy that still learns, (1 - r^2)/(M_min r^2)"),
    "m": ("1", "archetype overlap at M_min"),
    "n": ("1", "class-mean overlap at M_min"),
    "M_example_max": ("1", "largest M with an example (storing) attractor (unsupervised, K finite)"),
    "coexistence": ("1", "number of M at which archetype and example attractors coexist"),
    "status": ("1", "threshold status (converged: found; branch_missing: not met up to M_max)"),
}


def threshold_curves(spec: Model, Ps, r, alpha: float = 0.0, T: float = 0.0, criterion: str = "exists",
                     m_target: float = 0.9, M_max: int = M_MAX, progress=None):
    """Threshold curves M_min(r) for several interaction orders: an xarray Dataset with dims (P, r) holding
    M_min, rho_max, m, n at M_min (and for unsupervised learning at alpha = 0 M_example_max and the
    coexistence count) and the status codes, one :func:`threshold` per P (each a batched search over all r).
    ``spec`` gives the protocol, normalisation, CLT option and convention; its P and M are ignored.
    Provenance (protocol, criterion, alpha, T, convention) in the attrs; NaN where the criterion is not met
    up to M_max (status branch_missing)."""
    import xarray as xr

    from densehebb.theory.provenance import dataset_attrs, describe_variables

    Ps = [int(p) for p in np.atleast_1d(Ps)]
    rs = np.atleast_1d(np.asarray(r, dtype=float)).ravel()
    if not Ps or rs.size == 0:
        raise ValueError("threshold_curves needs at least one P and one r")
    if len(set(Ps)) != len(Ps) or np.unique(rs).size != rs.size:
        raise ValueError("threshold_curves: the P and r values must be distinct")
    rows = []
    for P in Ps:
        if progress:
            progress(f"P = {P}: M_min at {rs.size} values of r ...")
        rows.append(threshold(spec.replace(P=P), rs, alpha, T, criterion, m_target, M_max))
    names = list(rows[0].values)
    data = {k: (("P", "r"), np.stack([np.asarray(res.values[k], float) for res in rows])) for k in names}
    data["status"] = (("P", "r"), np.stack([np.asarray(res.status, np.int8) for res in rows]))
    ds = xr.Dataset(data, coords={"P": np.array(Ps, np.int32), "r": rs})
    describe_variables(ds, CURVE_VARIABLES)
    ds["status"].attrs.update({"flag_values": np.arange(len(Status), dtype=np.int8),
                               "flag_meanings": " ".join(s.value for s in Status)})
    ex = spec.examples
    model = template(spec)
    attrs = dataset_attrs(model, result_kind="threshold_curves", protocol=ex.protocol, criterion=criterion,
                          alpha=float(alpha), T=float(T), M_max=int(M_max), note=rows[0].note)
    for k in ("P", "examples_M", "examples_r", "noise_covariance"):
        attrs.pop(k, None)     # P and r are coordinates; M is what is searched (the covariance depends on it)
    if criterion == "overlap":
        attrs["m_target"] = float(m_target)
    ds.attrs.update(attrs)
    return ds


def plot_threshold_curves(ds, path=None, dpi=150):
    """Figure of a :func:`threshold_curves` Dataset: M_min(r) (log scale) for every P, and rho_max(r)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 4.0), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    r = ds["r"].values
    for P in ds["P"].values:
        row = ds.sel(P=P)
        ax1.plot(r, row["M_min"].values, "o-", ms=3, label=f"P = {int(P)}")
        ax2.plot(r, row["rho_max"].values, "o-", ms=3, label=f"P = {int(P)}")
    for ax in (ax1, ax2):
        ax.set_xlabel(r"dataset quality $r$")
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    ax1.set_ylabel(r"threshold $M_{\min}$ (examples per archetype)")
    ax2.set_ylabel(r"$\rho_{\max} = (1 - r^2)/(M_{\min} r^2)$")
    a = ds.attrs
    crit = a.get("criterion")
    if crit == "overlap":
        crit += f" m >= {a.get('m_target'):.3g}"
    fig.suptitle(f"threshold for learning, {a.get('protocol')}: criterion {crit}, alpha = {a.get('alpha'):.3g}, "
                 f"T = {a.get('T'):.3g}, normalisation {a.get('examples_normalisation')}, convention: "
                 f"{a.get('convention')}", fontsize=8)
    if path:
        fig.savefig(path, dpi=dpi)
    return fig
