"""Phase diagrams of learning from examples in a dataset plane: (M, T) at fixed (alpha, r), or (rho, T) at fixed
(alpha, M), rho = (1 - r^2)/(M r^2) the dataset entropy.

Every point of the plane is a dataset (M, r) and a temperature; the RS learning theory is solved with the
dataset traced (:func:`theory.learning.solve_datasets`), so the whole plane needs one compiled solver per
branch.  Computed:

* a phase map on the (dataset, T) grid: which states exist (archetype/retrieval, spin glass, paramagnet) and
  which is the global minimum (the paramagnet counts only where its entropy is >= 0, as in
  :mod:`phase_diagrams.lines`); codes in ``phase`` (flag_meanings);
* the lines along T for every dataset value, by bisection batched over the dataset axis (each step one batched
  solve, started from the last solution on the side where the branch exists):
  T_M (the archetype state exists below it), T_c (below it the archetype state is the global minimum; the
  highest such T, NaN where it is not the global minimum at T = 0) and, at alpha > 0, T_g (the spin glass
  exists below it).
Bisection resolves each line to ``T_TOL`` (absolute); a line is NaN where the state does not exist at T = 0.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from densehebb.theory import Model, x64
from densehebb.theory.learning import solve_datasets
from densehebb.theory.provenance import describe_variables

from .io import provenance

PLANES = ("M-T", "rho-T")
T_TOL = 1e-7
PHASES = ("none", "retrieval", "retrieval-metastable", "spin-glass", "paramagnetic")


def _entropy_ok(spec, alpha, T, M, r, pm):
    """Boolean: the paramagnet solution ``pm`` (a Result over the flat points) has non-negative entropy."""
    from .thresholds import _entropy_data
    from densehebb.theory.learning import pack_datasets, template
    from densehebb.theory.numerics import chunked

    conv = np.asarray(pm.converged)
    ok = np.zeros(conv.shape, bool)
    sel = np.flatnonzero(conv)
    if sel.size:
        L, d = pack_datasets(spec, M, r)
        ent = chunked(lambda *a: (_entropy_data(template(spec), L)(*a),),
                      (np.asarray(pm.extra["raw"])[sel], np.broadcast_to(alpha, conv.shape)[sel].astype(float),
                       np.broadcast_to(T, conv.shape)[sel].astype(float), d[sel]))[0]
        ok[sel] = ent >= 0
    return ok


def _states(spec, alpha, T, M, r, x0=None):
    """(f_retrieval, f_competitor, exists_R, exists_SG, exists_PM(physical), retrieval Result) at flat points."""
    R = solve_datasets(spec, alpha, T, M, r, "retrieval", x0=x0)
    fR = np.where(R.converged, R.values["f"], np.nan)
    n = np.size(fR)
    sg = np.zeros(n, bool)
    comp = np.full(n, np.inf)
    if alpha > 0:
        S = solve_datasets(spec, alpha, T, M, r, "spin-glass")
        sg = np.asarray(S.converged)
        comp = np.where(sg, S.values["f"], comp)
    pm = np.zeros(n, bool)
    if np.any(np.asarray(T) > 0):
        PM = solve_datasets(spec, alpha, T, M, r, "paramagnetic")
        pm = _entropy_ok(spec, alpha, T, M, r, PM)
        comp = np.where(pm, np.minimum(comp, PM.values["f"]), comp)
    return fR, comp, np.asarray(R.converged), sg, pm, R


def _bisect(test, lo, hi, tol=T_TOL, max_iter=60):
    """Batched bisection: ``test(T) -> bool array`` true below the line; lo (true) and hi (false) arrays.
    Returns the final (lo, hi); entries with lo = NaN are skipped."""
    lo, hi = lo.copy(), hi.copy()
    for _ in range(max_iter):
        act = np.isfinite(lo) & (hi - lo > tol)
        if not np.any(act):
            break
        mid = np.where(act, 0.5 * (lo + hi), lo)
        ok = test(mid, act)
        lo = np.where(act & ok, mid, lo)
        hi = np.where(act & ~ok, mid, hi)
    return lo, hi


@x64
def dataset_diagram(spec: Model, alpha: float = 0.0, plane: str = "M-T", r: float | None = None,
                    M: int | None = None, Ms=None, rhos=None, Ts=None, T_max=None) -> xr.Dataset:
    """The (M, T) plane at fixed (alpha, r) (``plane="M-T"``; default Ms: a geometric grid of integers up to
    200) or the (rho, T) plane at fixed (alpha, M) (``plane="rho-T"``; r = 1/sqrt(1 + M rho); default rhos:
    0.01..2) of the learning model ``spec`` (P, convention, protocol, normalisation; its own (M, r) are the
    defaults of the fixed one).  Returns an xarray Dataset with the lines T_M, T_c, T_g along the dataset axis
    and the phase map on the (dataset, T) grid, with the dataset parameters and the convention in the attrs."""
    if spec.examples is None:
        raise ValueError("dataset_diagram: the Model needs examples=densehebb.Examples(...)")
    if plane not in PLANES:
        raise ValueError(f"unknown plane {plane!r}; choose one of {', '.join(PLANES)}")
    if not (np.isfinite(alpha) and alpha >= 0):
        raise ValueError("alpha must be finite and >= 0")
    ex = spec.examples
    if plane == "M-T":
        r = float(ex.r if r is None else r)
        Mv = (np.unique(np.round(np.geomspace(1, 200, 32))).astype(np.int64) if Ms is None
              else np.asarray(Ms, dtype=np.int64))
        rv = np.full(Mv.shape, r)
        axis, coord = "M", ("M", Mv.astype(float), {"long_name": "examples per archetype M", "units": "1"})
    else:
        Mfix = int(ex.M if M is None else M)
        rho = np.linspace(0.01, 2.0, 40) if rhos is None else np.asarray(rhos, dtype=float)
        if np.any(~(rho > 0)):
            raise ValueError("rhos must be > 0")
        rv = 1.0 / np.sqrt(1.0 + Mfix * rho)
        Mv = np.full(rho.shape, Mfix)
        axis, coord = "rho", ("rho", rho, {"long_name": "dataset entropy rho = (1 - r^2)/(M r^2)", "units": "1"})
    # the top of the T range: above the archetype state's spinodal at the best dataset of the axis
    n = Mv.size
    if T_max is None:
        t_hi = np.full(n, 4.0)
        while True:
            ex_hi = np.asarray(solve_datasets(spec, alpha, t_hi, Mv, rv, "retrieval").converged)
            if not np.any(ex_hi):
                break
            t_hi = np.where(ex_hi, 2.0 * t_hi, t_hi)
            if np.max(t_hi) > 1e3:
                raise ValueError("dataset_diagram: the archetype state exists at every T (no spinodal below 1e3)")
    else:
        t_hi = np.full(n, float(T_max))

    # T_M: the archetype state exists below it
    R0 = solve_datasets(spec, alpha, 0.0, Mv, rv, "retrieval")
    lo = np.where(R0.converged, 0.0, np.nan)
    last = {"x": np.asarray(R0.extra["raw"])}

    def exists_R(T, act):
        R = solve_datasets(spec, alpha, T, Mv, rv, "retrieval", x0=last["x"])
        ok = np.asarray(R.converged)
        bad = ~ok
        if np.any(bad & act):   # from the default guess where the continued start failed
            R2 = solve_datasets(spec, alpha, T, Mv, rv, "retrieval")
            ok = ok | np.asarray(R2.converged)
            raw = np.where(np.asarray(R.converged)[:, None], R.extra["raw"], R2.extra["raw"])
        else:
            raw = R.extra["raw"]
        last["x"] = np.where((ok & act)[:, None], raw, last["x"])
        return ok
    T_M, _ = _bisect(exists_R, lo, t_hi)

    # T_c: highest T where the archetype state is the global minimum (bisection between 0 and T_M)
    fR0, comp0, _, _, _, _ = _states(spec, alpha, 0.0, Mv, rv)
    lo = np.where(np.isfinite(T_M) & (fR0 <= comp0), 0.0, np.nan)

    def is_global(T, act):
        fR, comp, okR, _, _, _ = _states(spec, alpha, T, Mv, rv)
        return okR & (fR <= comp)
    T_c, _ = _bisect(is_global, lo, np.where(np.isfinite(T_M), T_M, t_hi))

    out = {"T_M": T_M, "T_c": T_c}
    if alpha > 0:
        S0 = solve_datasets(spec, alpha, 1e-12, Mv, rv, "spin-glass")
        lo = np.where(S0.converged, 0.0, np.nan)

        def exists_SG(T, act):
            return np.asarray(solve_datasets(spec, alpha, T, Mv, rv, "spin-glass").converged)
        out["T_g"], _ = _bisect(exists_SG, lo, t_hi)

    # the phase map on the grid
    top = float(np.nanmax(np.concatenate([T_M, out.get("T_g", T_M)])))
    Tg = np.linspace(0.0, 1.15 * top if np.isfinite(top) and top > 0 else 1.0, 48) if Ts is None \
        else np.asarray(Ts, dtype=float)
    DD, TT = np.meshgrid(np.arange(n), Tg, indexing="ij")
    fR, comp, okR, sg, pm, R = _states(spec, alpha, TT.ravel(), Mv[DD.ravel()], rv[DD.ravel()])
    glob = okR & (fR <= comp)
    phase = np.where(glob, 1, np.where(okR, 2, np.where(sg, 3, np.where(pm, 4, 0)))).astype(np.int8)
    shape = DD.shape
    ds = xr.Dataset(coords={axis: coord, "T": ("T", Tg, {"long_name": "temperature T = 1/beta", "units": "1"})})
    doc = {"T_M": "the archetype (learning) state exists below it (end of the retrieval branch)",
           "T_c": "the archetype state is the global minimum below it (f_R <= f of the spin glass and of the "
                  "paramagnet of non-negative entropy)",
           "T_g": "the RS spin-glass solution exists below it"}
    for k, v in out.items():
        ds[k] = (axis, v, {"long_name": doc[k], "units": "1 (temperature T = 1/beta)"})
    ds["phase"] = ((axis, "T"), phase.reshape(shape),
                   {"long_name": "global-minimum phase on the grid", "flag_values": np.arange(len(PHASES),
                                                                                             dtype=np.int8),
                    "flag_meanings": " ".join(p.replace("-", "_") for p in PHASES), "units": "1"})
    ds["m"] = ((axis, "T"), np.asarray(R.values["m"]).reshape(shape),
               {"long_name": "archetype overlap m of the archetype state (NaN where it does not exist)",
                "units": "1"})
    ds["n"] = ((axis, "T"), np.asarray(R.values["n"]).reshape(shape),
               {"long_name": "class-mean overlap n of the archetype state", "units": "1"})
    ds["M_examples"] = (axis, Mv.astype(float), {"long_name": "examples per archetype M", "units": "1"})
    ds["r_quality"] = (axis, rv, {"long_name": "example quality r", "units": "1"})
    ds["rho_entropy"] = (axis, (1 - rv ** 2) / (Mv * rv ** 2), {"long_name": "dataset entropy rho", "units": "1"})
    fixed = ({"fixed_alpha": float(alpha), "fixed_r": float(rv[0])} if plane == "M-T"
             else {"fixed_alpha": float(alpha), "fixed_M": int(Mv[0])})
    shown = spec.replace(examples=ex.__class__(M=int(Mv[0]), r=float(rv[0]), supervised=ex.supervised,
                                               normalisation=ex.normalisation, gaussian=ex.gaussian))
    attrs = provenance(shown, title=f"learning from examples ({ex.protocol}), P = {spec.P}: the ({axis}, T) plane",
                       plane=plane, protocol=ex.protocol, bisection_T_tol=T_TOL, **fixed,
                       note="the dataset varies along the first axis; examples_M / examples_r name its first "
                            "point; NaN lines: the state does not exist at T = 0 for that dataset")
    ds.attrs.update(attrs)
    describe_variables(ds, {})
    return ds


def plot_dataset_diagram(ds, path=None, dpi=150):
    """Figure of a :func:`dataset_diagram` Dataset: the phase map as colours, the lines on top."""
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    axis = "M" if "M" in ds.dims else "rho"
    fig = Figure(figsize=(7.2, 4.6), layout="constrained")
    ax = fig.add_subplot()
    x = ds[axis].values
    cmap = ListedColormap(["white", "#9ecae1", "#deebf7", "#fdd0a2", "#f0f0f0"])
    ax.pcolormesh(x, ds["T"].values, ds["phase"].values.T, cmap=cmap, vmin=-0.5, vmax=4.5, shading="nearest")
    for k, style in (("T_M", "-"), ("T_c", "--"), ("T_g", ":")):
        if k in ds:
            ax.plot(x, ds[k].values, style, color="k", label=f"{k}: {ds[k].attrs['long_name'][:48]}")
    if axis == "M":
        ax.set_xscale("log")
        ax.set_xlabel("examples per archetype M")
    else:
        ax.set_xlabel(r"dataset entropy $\rho = (1 - r^2)/(M r^2)$")
    ax.set_ylabel(r"temperature $T = 1/\beta$")
    a = ds.attrs
    fixed = (f"r = {a.get('fixed_r'):.3g}" if axis == "M" else f"M = {a.get('fixed_M')}")
    ax.set_title(f"P = {a.get('P')}, {a.get('protocol')}, alpha = {a.get('fixed_alpha'):.3g}, {fixed}, "
                 f"normalisation {a.get('examples_normalisation')}, convention: {a.get('convention')}", fontsize=8)
    ax.legend(fontsize=7, loc="upper right")
    ax.text(0.01, 0.01, "blue: archetype state global min.; pale blue: metastable; orange: spin glass; grey: "
                        "paramagnet", transform=ax.transAxes, fontsize=6)
    if path:
        fig.savefig(path, dpi=dpi)
    return fig
