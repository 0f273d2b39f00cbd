"""Matplotlib figures of phase diagrams.

Importing this module leaves matplotlib's backend alone (it does not even import pyplot).
:func:`plot_phase_diagram` draws on a :class:`matplotlib.figure.Figure` that pyplot does not manage, so
writing a PNG needs no display (the Agg canvas is chosen by ``savefig`` for the file format), and the Figure
it returns is shown once, inline, as the value of a notebook cell.  Pass ``pyplot=True`` for a figure that
``matplotlib.pyplot.show()`` displays, or ``ax=`` to draw into axes of your own.
"""
from __future__ import annotations

import functools

import numpy as np

STYLE = {"T_g": ("k", "-", r"$T_g$ (spin glass)"), "T_M": ("C0", "-", r"$T_M$ (retrieval appears)"),
         "T_c": ("C3", "-", r"$T_c$ (retrieval global min.)"), "T_AT": ("C2", "--", r"$T_{AT}$ (RS unstable)"),
         "T_s_1rsb": ("C4", "-.", r"$T_s$ 1RSB (static spin glass)"),
         "T_c_1rsb": ("C1", "-", r"$T_c$ 1RSB (retrieval global min.)")}

# region names, as written in the figure
PARAMAGNET, SPIN_GLASS = "paramagnet", "spin glass"
RETRIEVAL, RETRIEVAL_GLOBAL, RETRIEVAL_METASTABLE = "retrieval", "retrieval\n(global min.)", "retrieval\n(metastable)"
REGIONS = (PARAMAGNET, SPIN_GLASS, RETRIEVAL, RETRIEVAL_GLOBAL, RETRIEVAL_METASTABLE)


def _finite(v):
    v = np.asarray(v, dtype=float)
    return v[np.isfinite(v)]


def _max(v):
    v = _finite(v)
    return v.max() if v.size else np.nan


def _scalar(ds, name):
    return float(ds[name]) if name in ds else float("nan")


def _interp(x, xp, fp):
    """Linear interpolation that stays NaN where a neighbour is NaN and outside [xp[0], xp[-1]] (a line
    that does not exist somewhere must not be bridged or extended)."""
    xp, fp = np.asarray(xp, dtype=float), np.asarray(fp, dtype=float)
    order = np.argsort(xp)
    xp, fp = xp[order], fp[order]
    x = np.asarray(x, dtype=float)
    out = np.full(x.shape, np.nan)
    if xp.size == 0:
        return out
    if xp.size == 1:
        out[x == xp[0]] = fp[0]
        return out
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, xp.size - 2)
    x0, x1, f0, f1 = xp[i], xp[i + 1], fp[i], fp[i + 1]
    w = np.where(x1 > x0, (x - x0) / np.where(x1 > x0, x1 - x0, 1.0), 0.0)
    ok = (x >= xp[0]) & (x <= xp[-1])
    out[ok] = (f0 + w * (f1 - f0))[ok]
    return out


def _sqrt_extrapolation(a, alphas, T):
    """A spin-glass line beyond its last computed load, T = c0 + c1 sqrt(alpha) through its last two points
    (the form of the AGS T_g = 1 + sqrt(alpha) for P = 2, and of T_g, T_s for P >= 3, where the spin glass
    scales with sqrt(alpha)).  Used only to decide where a region label may go, never drawn."""
    ok = np.isfinite(T) & (alphas > 0)
    if ok.sum() < 2:
        return np.full(np.shape(a), np.nan)
    (a1, a2), (t1, t2) = alphas[ok][-2:], T[ok][-2:]
    c1 = (t2 - t1) / (np.sqrt(a2) - np.sqrt(a1))
    return t2 + c1 * (np.sqrt(np.asarray(a)) - np.sqrt(a2))


def _line(ds, *names):
    for n in names:
        if n in ds and _finite(ds[n].values).size:
            return n
    return None


def region_names(ds, alpha, T):
    """Name of the phase at each point (alpha, T) (broadcast arrays), from the lines in ``ds``; "" where the
    Dataset does not decide.  Retrieval states exist below T_M(alpha) or left of the capacity alpha_c(T)
    (1RSB capacity included when present); they are the global minimum below T_c(alpha) (the 1RSB T_c when
    present; for RS also left of alpha_Tc(T), which carries the reentrance near T = 0); the spin glass exists
    below T_g(alpha) (the 1RSB static T_s when present); elsewhere the paramagnet."""
    alpha, T = np.broadcast_arrays(np.asarray(alpha, dtype=float), np.asarray(T, dtype=float))
    a_grid = ds["alpha"].values.astype(float)
    exists = np.zeros(alpha.shape, bool)
    if "T_M" in ds:
        tm = _interp(alpha, a_grid, ds["T_M"].values)
        exists |= T < np.nan_to_num(tm, nan=-np.inf)
    for cap, tc in (("alpha_c", "T"), ("alpha_c_1rsb", "T_rsb1")):
        if cap in ds and tc in ds.coords and _finite(ds[cap].values).size:
            ac = _interp(T, ds[tc].values, ds[cap].values)
            exists |= alpha < np.nan_to_num(ac, nan=-np.inf)
    name = np.full(alpha.shape, "", dtype=object)
    tcl = _line(ds, "T_c_1rsb", "T_c")
    if tcl is None:
        name[exists] = RETRIEVAL
    else:
        glob = T < np.nan_to_num(_interp(alpha, a_grid, ds[tcl].values), nan=-np.inf)
        if tcl == "T_c" and "alpha_Tc" in ds:
            atc = _interp(T, ds["T"].values, ds["alpha_Tc"].values)
            glob &= ~(alpha >= atc)  # NaN: no constraint
        name[exists & glob] = RETRIEVAL_GLOBAL
        name[exists & ~glob] = RETRIEVAL_METASTABLE
    sgl = _line(ds, "T_s_1rsb", "T_g")
    if sgl is not None:
        tg_data = ds[sgl].values.astype(float)
        tg = _interp(alpha, a_grid, tg_data)
        beyond = alpha > a_grid.max()
        tg = np.where(beyond, _sqrt_extrapolation(alpha, a_grid, tg_data), tg)
        decided = ~exists & np.isfinite(tg)
        name[decided & (T < tg)] = SPIN_GLASS
        name[decided & (T >= tg)] = PARAMAGNET
    return name


def _curves(ds):
    """Everything drawn, as (x, y, kwargs) in data coordinates."""
    out = []
    a = ds["alpha"].values
    for k, (c, ls, lab) in STYLE.items():
        if k in ds:
            out.append((a, ds[k].values, dict(color=c, ls=ls, label=lab)))
    mk = dict(ls="none")
    if "alpha_Tc" in ds:
        out.append((ds["alpha_Tc"].values, ds["T"].values,
                    dict(marker="o", color="C3", ms=2.5, label=r"$\alpha$ at $T_c$ (along $T$)", **mk)))
    if "alpha_c" in ds:
        out.append((ds["alpha_c"].values, ds["T"].values,
                    dict(marker="o", color="C0", ms=2.5, label=r"$\alpha_c(T)$", **mk)))
    if "alpha_c_1rsb" in ds and "T_rsb1" in ds.coords:
        out.append((ds["alpha_c_1rsb"].values, ds["T_rsb1"].values,
                    dict(marker="^", color="C1", ms=4, label=r"$\alpha_c(T)$ 1RSB", **mk)))
    if "alpha_Tc_T0_1rsb" in ds:
        out.append(([_scalar(ds, "alpha_Tc_T0_1rsb")], [0.0],
                    dict(marker="D", color="C1", ms=5, label=r"$f_R = f_{SG}$ at $T=0$, 1RSB", **mk)))
    if "alpha_c_T0" in ds:
        out.append(([_scalar(ds, "alpha_c_T0")], [0.0], dict(marker="s", color="C0", ms=5, **mk)))
    if "alpha_Tc_T0" in ds:
        out.append(([_scalar(ds, "alpha_Tc_T0")], [0.0], dict(marker="s", color="C3", ms=5, **mk)))
    return out


def axis_limits(ds):
    """(alpha_max, T_max): 20 % beyond the largest capacity (the whole retrieval region) and 15 % above the
    highest line or capacity point."""
    caps = [_scalar(ds, k) for k in ("alpha_c_T0", "alpha_c_T0_1rsb")]
    caps += [_max(ds[k].values) for k in ("alpha_c", "alpha_c_1rsb") if k in ds]
    caps = _finite(caps)
    a_max = caps.max() if caps.size else _max(ds["alpha"].values)
    tops = [_max(ds[k].values) for k in STYLE if k in ds]
    if "alpha_c" in ds:
        tops.append(_max(ds["T"].values[np.isfinite(ds["alpha_c"].values)]))
    t_max = _max(tops)
    if not np.isfinite(t_max):
        t_max = _max(ds["T"].values)
    return 1.2 * a_max, 1.15 * (t_max if t_max > 0 else 1.0)


def _obstacles(curves, nx, ny, xlim, ylim):
    """Grid cells (ny, nx) that a drawn curve or marker passes through (one cell of margin)."""
    blocked = np.zeros((ny, nx), bool)
    for x, y, kw in curves:
        x, y = np.asarray(x, float), np.asarray(y, float)
        u, v = (x - xlim[0]) / (xlim[1] - xlim[0]), (y - ylim[0]) / (ylim[1] - ylim[0])
        pts = [np.stack([u, v], 1)]
        if kw.get("ls") != "none":  # sample the segments between consecutive finite points
            for (u0, v0), (u1, v1) in zip(pts[0][:-1], pts[0][1:]):
                if np.all(np.isfinite([u0, v0, u1, v1])):
                    n = int(np.ceil(max(abs(u1 - u0) * nx, abs(v1 - v0) * ny) * 2)) + 2
                    s = np.linspace(0, 1, n)[:, None]
                    pts.append(np.array([u0, v0]) + s * np.array([u1 - u0, v1 - v0]))
        p = np.concatenate(pts)
        p = p[np.all(np.isfinite(p), 1)]
        i, j = (p[:, 1] * ny).astype(int), (p[:, 0] * nx).astype(int)
        ok = (i >= 0) & (i < ny) & (j >= 0) & (j < nx)
        blocked[i[ok], j[ok]] = True
    grown = blocked.copy()
    grown[1:] |= blocked[:-1]
    grown[:-1] |= blocked[1:]
    grown[:, 1:] |= blocked[:, :-1]
    grown[:, :-1] |= blocked[:, 1:]
    return grown


def _fit(mask, h, w):
    """Centres (i, j) where an h x w box of cells lies entirely inside mask."""
    ny, nx = mask.shape
    if h > ny or w > nx:
        return np.zeros_like(mask)
    s = np.zeros((ny + 1, nx + 1))
    s[1:, 1:] = np.cumsum(np.cumsum(mask, 0), 1)
    full = s[h:, w:] - s[:-h, w:] - s[h:, :-w] + s[:-h, :-w] == h * w
    out = np.zeros_like(mask)
    out[h // 2:h // 2 + full.shape[0], w // 2:w // 2 + full.shape[1]] = full
    return out


def label_regions(ax, ds, curves=None, fontsize=8, n=(160, 120)):
    """Write each region's name inside it, where a box of the text's size fits clear of the drawn lines
    (the point deepest inside the region among those).  Returns the Text artists."""
    from scipy.ndimage import distance_transform_edt

    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    nx, ny = n
    u = xlim[0] + (np.arange(nx) + 0.5) / nx * (xlim[1] - xlim[0])
    v = ylim[0] + (np.arange(ny) + 0.5) / ny * (ylim[1] - ylim[0])
    names = region_names(ds, u[None, :], v[:, None])
    blocked = _obstacles(_curves(ds) if curves is None else curves, nx, ny, xlim, ylim)
    bbox = ax.get_window_extent()
    fig = ax.get_figure()
    w_in, h_in = bbox.width / fig.dpi, bbox.height / fig.dpi
    texts = []
    for name in REGIONS:
        region = names == name
        if region.sum() < 4:
            continue
        free = region & ~blocked
        depth = distance_transform_edt(np.pad(free, 1))[1:-1, 1:-1]  # the axes' edges bound a region too
        lines = name.split("\n")
        for fs in (fontsize, fontsize - 1, fontsize - 2):
            w = int(np.ceil(0.6 * fs * max(map(len, lines)) / 72 / w_in * nx)) + 1
            h = int(np.ceil(1.25 * fs * len(lines) / 72 / h_in * ny)) + 1
            ok = _fit(free, h, w)
            if ok.any():
                i, j = np.unravel_index(np.argmax(np.where(ok, depth, -1)), ok.shape)
                texts.append(ax.text(u[j], v[i], name, ha="center", va="center", fontsize=fs, style="italic",
                                     color="0.25", gid="region:" + name.replace("\n", " ")))
                break
    return texts


@functools.lru_cache(maxsize=None)
def _figure_class():
    from matplotlib.figure import Figure

    class PhaseDiagramFigure(Figure):
        """A Figure that shows itself as PNG in IPython/Jupyter even where pyplot (and so the inline
        backend) was never imported; where it was, IPython's Figure formatter is used instead."""

        def _repr_png_(self):
            import io

            buf = io.BytesIO()
            self.savefig(buf, format="png", bbox_inches="tight")
            return buf.getvalue()

    return PhaseDiagramFigure


def _title(ds):
    P = ds.attrs.get("P", "?")
    ansatz = str(ds.attrs.get("ansatz", "")).upper()
    title = f"P = {P}, {ansatz}, convention: {ds.attrs.get('convention', 'unknown')}"
    a = ds.attrs
    if "examples_M" in a:   # learning from examples: the archetype state and its dataset
        proto = "supervised" if int(a.get("examples_supervised", 1)) else "unsupervised"
        title += (f"\n{proto} learning: M = {int(a['examples_M'])}, r = {float(a['examples_r']):.3g}, "
                  f"normalisation {a.get('examples_normalisation', 'r')}; lines of the archetype state")
    return title


def plot_phase_diagram(ds, path=None, ax=None, T_max=None, alpha_max=None, regions=True, legend=True,
                       pyplot=False, dpi=150):
    """AGS-style figure of a phase-diagram Dataset (:func:`densehebb.phase_diagram`): the lines T_g, T_M,
    T_c, T_AT (and the 1RSB ones) along alpha, the capacity alpha_c(T) along T, the region names inside the
    regions, the legend outside the axes, and the convention in the title.

    ds:         the Dataset; path: write a PNG (or any format matplotlib knows from the suffix) there
    ax:         draw into these axes (the figure is then the axes' own; no layout is changed)
    T_max, alpha_max: axis ranges (default: the whole retrieval region, see :func:`axis_limits`)
    regions:    write the region names; legend: draw the legend (outside the axes, on the right)
    pyplot:     create the figure with ``matplotlib.pyplot`` (so that ``plt.show()`` displays it); default: a
                standalone Figure that needs no display
    Returns the matplotlib Figure.
    """
    if ax is None:
        if pyplot:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=(8.6, 4.6), layout="constrained", FigureClass=_figure_class())
        else:
            fig = _figure_class()(figsize=(8.6, 4.6), layout="constrained")
        ax = fig.add_subplot()
        own = True
    else:
        fig, own = ax.get_figure(), False
    curves = _curves(ds)
    for x, y, kw in curves:
        ax.plot(x, y, **kw)
    P = int(ds.attrs.get("P", 2))
    ax.set_xlabel(r"load $\alpha = K/N$" if P == 2 else r"load $\alpha = K/N^{%d}$" % (P - 1))
    ax.set_ylabel(r"temperature $T = 1/\beta$")
    a_lim, t_lim = axis_limits(ds)
    ax.set_xlim(0, a_lim if alpha_max is None else alpha_max)
    ax.set_ylim(0, t_lim if T_max is None else T_max)
    ax.set_title(_title(ds), fontsize=9)
    if legend:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False)
    if regions:
        if own:
            fig.draw_without_rendering()  # lay out first: the labels are sized to the final axes
        label_regions(ax, ds, curves)
    if path:
        fig.savefig(path, dpi=dpi)
    return fig
