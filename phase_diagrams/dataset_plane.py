"""Phase diagrams of learning from examples in a dataset plane: (M, T) at fixed (alpha, r), or (rho, T) at fixed
(alpha, M), rho = (1 - r^2)/(M r^2) the dataset entropy.

Every point of the plane is a dataset (M, r) and a temperature; the RS learning theory is solved with the
dataset traced (:func:`theory.learning.solve_datasets`), so the whole plane needs one compiled solver per
branch.  Computed:

* the lines along T for every dataset value, batched over the dataset axis (each step one batched solve,
  Newton continued from the last solution on the side where the branch exists):
  T_M (the archetype state exists below it: bisection on existence, then the fold Newton with the dataset
  traced, certified as in :func:`theory.bifurcation.fold`), T_c (below it the archetype state is the global
  minimum against the spin glass and the paramagnet of non-negative entropy, as in :mod:`phase_diagrams.lines`:
  bisection on the sign of the free-energy difference to ``T_TOL``; NaN where it is not the global minimum at
  T = 0) and, at alpha > 0, T_g (P >= 3: the fold of the RS spin glass; P = 2: the paramagnet's instability);
  ``<line>_method`` says how each value was found;
* the phase map on a (dataset, T) grid read from those lines (each line is assumed single-valued in T: no
  reentrance), with m and n of the archetype state solved wherever it exists.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from densehebb.theory import Model, x64
from densehebb.theory.learning import fold_T_datasets, physical_paramagnet, solve_datasets
from densehebb.theory.numerics import BRACKET_RTOL, TOL_FOLD
from densehebb.theory.provenance import describe_variables

from .io import provenance

PLANES = ("M-T", "rho-T")
T_TOL = 1e-9
PHASES = ("none", "retrieval", "retrieval-metastable", "spin-glass", "paramagnetic")


def _bisect(test, lo, hi, rtol=BRACKET_RTOL, atol=T_TOL, max_iter=80):
    """Batched bisection: ``test(T, active) -> bool array``, true below the line; lo (true) and hi (false)
    arrays, entries with lo = NaN skipped; stops at a width rtol * hi + atol."""
    lo, hi = lo.copy(), hi.copy()
    for _ in range(max_iter):
        act = np.isfinite(lo) & (hi - lo > rtol * hi + atol)
        if not np.any(act):
            break
        mid = np.where(act, 0.5 * (lo + hi), lo)
        ok = test(mid, act)
        lo = np.where(act & ok, mid, lo)
        hi = np.where(act & ~ok, mid, hi)
    return lo, hi


def _solved(R):
    """(converged, raw x, f with NaN where not converged) of a flat solve_datasets Result."""
    ok = np.asarray(R.converged)
    return ok, np.asarray(R.extra["raw"]), np.where(ok, R.values["f"], np.nan)


def _or_else(first, second, where=True):
    """Merge two _solved triples: the second where the first did not converge and the second did (and
    ``where``)."""
    (ok1, raw1, f1), (ok2, raw2, f2) = first, second
    use = ok2 & ~ok1 & where
    return ok1 | use, np.where(use[:, None], raw2, raw1), np.where(use, f2, f1)


def _continued(spec, alpha, T, Mv, rv, branch, x0):
    """Newton only, from x0 (continuation), then from the default guess where that failed:
    (converged, raw x, f)."""
    out = _solved(solve_datasets(spec, alpha, T, Mv, rv, branch, x0=x0, fallback=False))
    if not np.all(out[0]):
        out = _or_else(out, _solved(solve_datasets(spec, alpha, T, Mv, rv, branch, fallback=False)))
    return out


def _spinodal(spec, alpha, Mv, rv, branch, t_hi):
    """The end in T of ``branch`` for every dataset: bisection on existence (Newton continued from the last
    solution) to a relative bracket BRACKET_RTOL, then the fold Newton (:func:`theory.learning.fold_T_datasets`)
    from the last solution, certified as in :func:`theory.bifurcation.fold` (converged, at or just beyond the
    bracket); where it is not, the bisection goes on to T_TOL (with the full solver) and the value is marked
    "bisection".  Returns (T, method codes 0 fold / 1 bisection / 2 absent at T = 0, x at the lower end)."""
    T0 = 0.0 if branch == "retrieval" else 1e-9
    R0 = solve_datasets(spec, alpha, T0, Mv, rv, branch)
    lo = np.where(R0.converged, T0, np.nan)
    x = np.asarray(R0.extra["raw"]).copy()

    def exists(T, act):
        ok, raw, _ = _continued(spec, alpha, T, Mv, rv, branch, x)
        x[:] = np.where((ok & act)[:, None], raw, x)
        return ok
    lo, hi = _bisect(exists, lo, t_hi)
    Tf = np.full(Mv.shape, np.nan)
    how = np.full(Mv.shape, 2, np.int8)
    has = np.isfinite(lo)
    if np.any(has):
        i = np.flatnonzero(has)
        p, _, res = fold_T_datasets(spec, alpha, lo[i], x[i], Mv[i], rv[i], branch)
        good = (res <= TOL_FOLD) & (p >= lo[i] - 1e-9) & (p <= hi[i] + 10 * (hi[i] - lo[i]))
        Tf[i[good]], how[i[good]] = p[good], 0
        bad = i[~good]
        if bad.size:   # finish by bisection with the full solver (every stage)
            def exists_full(T, act):
                return np.asarray(solve_datasets(spec, alpha, T, Mv[bad], rv[bad], branch).converged)
            lo_b, hi_b = _bisect(exists_full, lo[bad], hi[bad], rtol=0.0)
            Tf[bad], how[bad] = 0.5 * (lo_b + hi_b), 1
    return Tf, how, x


def _pm_instability(spec, alpha, Mv, rv, t_hi):
    """P = 2: T_g, where the paramagnet (exact, q = 0) becomes unstable (its replicon changes sign), by
    bisection to T_TOL; below gamma_max it does not exist (counted as unstable)."""
    def unstable(T, act):
        pm = solve_datasets(spec, alpha, T, Mv, rv, "paramagnetic")
        return ~(np.asarray(pm.replicon) > 0)
    lo, hi = _bisect(unstable, np.zeros(Mv.shape), t_hi, rtol=0.0)
    return 0.5 * (lo + hi), np.ones(Mv.shape, np.int8)


def _global_line(spec, alpha, Mv, rv, T_M, T_g):
    """T_c: the highest T below which the archetype state is the global minimum, by bisection to T_TOL on the
    sign of f_R - f_competitor (each branch continued by Newton from its last solution, the full solver
    where that fails but the branch should exist: below T_M, below T_g).  NaN where the archetype state is
    not the global minimum at T = 0."""
    xs = {}

    def delta(T, act, init=False):
        n = Mv.size
        fR = np.full(n, np.nan)
        comp = np.full(n, np.inf)
        for branch, top in (("retrieval", T_M), ("spin-glass", T_g)):
            if branch == "spin-glass" and not alpha > 0:
                continue
            if init or branch not in xs:
                ok, raw, f = _solved(solve_datasets(spec, alpha, T, Mv, rv, branch))
            else:
                ok, raw, f = _continued(spec, alpha, T, Mv, rv, branch, xs[branch])
                miss = ~ok & act & (T < np.nan_to_num(top, nan=-1.0))
                if np.any(miss):   # the full solver where the branch should exist
                    ok, raw, f = _or_else((ok, raw, f), _solved(solve_datasets(spec, alpha, T, Mv, rv, branch)),
                                          miss)
            xs[branch] = np.where((ok & act)[:, None], raw, xs.get(branch, raw))
            if branch == "retrieval":
                fR = f
            else:
                comp = np.where(ok, np.minimum(comp, f), comp)
        if np.any(T > 0):
            good, f_pm = physical_paramagnet(spec, alpha, T, Mv, rv)
            comp = np.where(good, np.minimum(comp, f_pm), comp)
        return fR, comp

    fR0, comp0 = delta(np.zeros(Mv.shape), np.ones(Mv.shape, bool), init=True)
    lo = np.where(np.isfinite(T_M) & (fR0 <= comp0), 0.0, np.nan)

    def is_global(T, act):
        fR, comp = delta(T, act)
        return np.isfinite(fR) & (fR <= comp)
    lo, hi = _bisect(is_global, lo, np.where(np.isfinite(T_M), T_M, 0.0), rtol=0.0)
    return np.where(np.isfinite(lo), 0.5 * (lo + hi), np.nan), np.where(np.isfinite(lo), 1, 2).astype(np.int8)


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
    out, how = {}, {}
    out["T_M"], how["T_M"], x_R = _spinodal(spec, alpha, Mv, rv, "retrieval", t_hi)
    if alpha > 0:
        if spec.P == 2:
            out["T_g"], how["T_g"] = _pm_instability(spec, alpha, Mv, rv, t_hi)
        else:
            out["T_g"], how["T_g"], _ = _spinodal(spec, alpha, Mv, rv, "spin-glass", t_hi)
    out["T_c"], how["T_c"] = _global_line(spec, alpha, Mv, rv, out["T_M"], out.get("T_g"))

    # the phase map on the grid, from the lines (one phase below T_c, metastable archetype state up to T_M,
    # spin glass below T_g, paramagnet above); m and n solved where the archetype state exists
    T_M = out["T_M"]
    top = float(np.nanmax(np.concatenate([T_M, out.get("T_g", T_M)])))
    Tg = np.linspace(0.0, 1.15 * top if np.isfinite(top) and top > 0 else 1.0, 48) if Ts is None \
        else np.asarray(Ts, dtype=float)
    DD, TT = np.meshgrid(np.arange(n), Tg, indexing="ij")
    below = lambda line: TT < np.nan_to_num(line, nan=-1.0)[:, None]  # noqa: E731
    okR = below(T_M)
    glob = below(out["T_c"])
    sg = below(out["T_g"]) if "T_g" in out else np.zeros(TT.shape, bool)
    phase = np.where(glob, 1, np.where(okR, 2, np.where(sg, 3, np.where(TT > 0, 4, 0)))).astype(np.int8)
    m_grid, n_grid = np.full(TT.shape, np.nan), np.full(TT.shape, np.nan)
    if np.any(okR):
        R = solve_datasets(spec, alpha, TT[okR], Mv[DD[okR]], rv[DD[okR]], "retrieval")
        m_grid[okR], n_grid[okR] = R.values["m"], R.values["n"]
    shape = DD.shape
    ds = xr.Dataset(coords={axis: coord, "T": ("T", Tg, {"long_name": "temperature T = 1/beta", "units": "1"})})
    doc = {"T_M": "the archetype (learning) state exists below it (end of the retrieval branch)",
           "T_c": "the archetype state is the global minimum below it (f_R <= f of the spin glass and of the "
                  "paramagnet of non-negative entropy)",
           "T_g": "the RS spin-glass solution exists below it"}
    for k, v in out.items():
        ds[k] = (axis, v, {"long_name": doc[k], "units": "1 (temperature T = 1/beta)"})
        ds[f"{k}_method"] = (axis, how[k], {"long_name": f"how {k} was found", "units": "1",
                                            "flag_values": np.array([0, 1, 2], np.int8),
                                            "flag_meanings": "fold_newton bisection absent"})
    ds["phase"] = ((axis, "T"), phase.reshape(shape),
                   {"long_name": "global-minimum phase on the grid", "flag_values": np.arange(len(PHASES),
                                                                                             dtype=np.int8),
                    "flag_meanings": " ".join(p.replace("-", "_") for p in PHASES), "units": "1"})
    ds["m"] = ((axis, "T"), m_grid,
               {"long_name": "archetype overlap m of the archetype state (NaN where it does not exist)",
                "units": "1"})
    ds["n"] = ((axis, "T"), n_grid,
               {"long_name": "class-mean overlap n of the archetype state", "units": "1"})
    ds["M_examples"] = (axis, Mv.astype(float), {"long_name": "examples per archetype M", "units": "1"})
    ds["r_quality"] = (axis, rv, {"long_name": "example quality r", "units": "1"})
    ds["rho_entropy"] = (axis, (1 - rv ** 2) / (Mv * rv ** 2), {"long_name": "dataset entropy rho", "units": "1"})
    fixed = ({"fixed_alpha": float(alpha), "fixed_r": float(rv[0])} if plane == "M-T"
             else {"fixed_alpha": float(alpha), "fixed_M": int(Mv[0])})
    shown = spec.replace(examples=ex.replace(M=int(Mv[0]), r=float(rv[0])))
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
    short = {"T_M": "T_M: archetype state exists below", "T_c": "T_c: archetype state is the global minimum below",
             "T_g": "T_g: RS spin glass exists below"}
    for k, style in (("T_M", "-"), ("T_c", "--"), ("T_g", ":")):
        if k in ds:
            ax.plot(x, ds[k].values, style, color="k", label=short[k])
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
