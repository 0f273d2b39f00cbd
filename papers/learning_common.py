"""Shared pieces of papers/learning_supervised and papers/learning_unsupervised (public API only).

Learning from examples (docs/conventions.md): archetypes xi^mu, M examples eta^{mu,a} = chi^{mu,a} xi^mu per
archetype with P(chi = +1) = (1 + r)/2, dataset entropy rho = (1 - r^2)/(M r^2); archetype overlap m, class-mean
overlap n.  Distinct-indices energy, Norm = r^P (the toolkit's defaults), load alpha = K/N^(P-1), plain T.

Temperatures.  The Barra-group papers write the P-body energy with a prefactor 1/(2 N^(P-1)) on the P-th power
of the overlap (so H_paper = (P!/2) H and T' = (P!/2) T at the same alpha).  We could not read the papers'
bodies to confirm this, so the scripts name their temperatures by T' = (P!/2) T, "assumed paper temperature",
and also give the plain T (as papers/rsb_dense does).  The load alpha and the entropy rho are the same in both.
"""
from __future__ import annotations

import math
import os
import sys
import time

import numpy as np
import xarray as xr

import densehebb

PS = (2, 3, 4)                      # interaction orders of the theory lines and of the Monte Carlo
# high-storage loads: about a fifth of each P's RS capacity of plain patterns at T = 0 (docs/theory.md:
# 0.1379, 0.1261, 0.0330, 0.00720, 0.00131 for P = 2..6, distinct indices)
ALPHA_HIGH = {2: 0.03, 3: 0.025, 4: 0.006, 5: 0.0015, 6: 0.0003}
T_PAPER_LOW = 0.5                   # the "low temperature" T' = (P!/2) T of the learning curves
ASSUMED = ("temperatures also given as T' = (P!/2) T, the assumed variable of the papers (energy prefactor "
           "1/(2 N^(P-1)) on the P-th power of the overlap; not checked against the papers' bodies); alpha = "
           "K/N^(P-1) and rho = (1 - r^2)/(M r^2) as in the papers")


def setup(doc: str, here: str, argv=None):
    """The command line of a learning paper script (--out-dir, --fig-dir, --quick, --seed), its folders and
    the compilation cache: (args, start time)."""
    import argparse
    import time

    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--out-dir", default=os.path.join(here, "out"))
    ap.add_argument("--fig-dir", default=os.path.join(here, "figures"))
    ap.add_argument("--quick", action="store_true", help="smoke run: P = 2, 4, few points, no phase diagram")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    os.makedirs(args.fig_dir, exist_ok=True)
    t0 = time.time()
    densehebb.use_compilation_cache()   # before JAX starts: a second run does not recompile
    return args, t0


def t_plain(P: int, t_paper: float) -> float:
    """Plain T of the assumed paper temperature T' = (P!/2) T."""
    return 2.0 * t_paper / math.factorial(P)


def rho_of(M, r):
    return (1.0 - np.asarray(r, float) ** 2) / (np.asarray(M, float) * np.asarray(r, float) ** 2)


def m_grid(M_max: int, n: int) -> np.ndarray:
    return np.unique(np.round(np.geomspace(1, M_max, n)).astype(np.int64))


def log(msg, t0):
    print(f"[{time.time() - t0:6.1f} s] {msg}", file=sys.stderr, flush=True)


def spec_of(P: int, supervised: bool, M: int = 1, r: float = 1.0, storage: str = "high", gaussian: bool = False):
    import densehebb as dh

    return dh.Model(P=P, storage=storage, examples=dh.Examples(M=int(M), r=float(r), supervised=supervised,
                                                               gaussian=gaussian))


# ------------------------------------------------------------------------------------------ theory
def theory_curves(supervised: bool, Ps, r: float, Ms, cases):
    """m, n (archetype state, RS) on the grid (case, P, M): ``cases`` a list of (label, alpha(P), T(P),
    gaussian); one traced solver per P and site average (solve_datasets: the dataset (M, r) is traced).
    gaussian: the large-M (CLT) site average s = 1 + sqrt(rho) z instead of the exact binomial sum (used at
    high storage, where the exact sums over M + 1 site values make the solver slow at large M)."""
    from densehebb.theory.learning import solve_datasets

    Ms = np.asarray(Ms, np.int64)
    shape = (len(cases), len(Ps), Ms.size)
    m, n, ok = np.full(shape, np.nan), np.full(shape, np.nan), np.zeros(shape, bool)
    alpha, T = np.zeros(shape[:2]), np.zeros(shape[:2])
    for j, P in enumerate(Ps):
        a = np.array([c[1](P) for c in cases])
        t = np.array([c[2](P) for c in cases])
        alpha[:, j], T[:, j] = a, t
        for g in (False, True):
            sel = np.array([bool(c[3]) == g for c in cases])
            if not sel.any():
                continue
            R = solve_datasets(spec_of(P, supervised, gaussian=g), a[sel, None], t[sel, None], Ms[None, :], r,
                               "retrieval")
            conv = np.asarray(R.converged)
            ok[sel, j] = conv
            m[sel, j] = np.where(conv, R.values["m"], np.nan)
            n[sel, j] = np.where(conv, R.values["n"], np.nan)
    ds = xr.Dataset(
        {"m": (("case", "P", "M"), m, {"long_name": "archetype overlap m of the archetype (learning) state, RS",
                                       "units": "1"}),
         "n": (("case", "P", "M"), n, {"long_name": "class-mean overlap n, RS", "units": "1"}),
         "converged": (("case", "P", "M"), ok.astype(np.int8), {"long_name": "1 where the RS solver converged on "
                                                                "the retrieval branch", "units": "1"}),
         "alpha": (("case", "P"), alpha, {"long_name": "load alpha = K/N^(P-1)", "units": "1"}),
         "T": (("case", "P"), T, {"long_name": "plain temperature T", "units": "1"}),
         "gaussian": ("case", np.array([int(bool(c[3])) for c in cases], np.int8),
                      {"long_name": "1: large-M Gaussian (CLT) site average; 0: exact binomial site sum",
                       "units": "1"})},
        coords={"case": ("case", [c[0] for c in cases]), "P": ("P", list(Ps)),
                "M": ("M", Ms, {"long_name": "examples per archetype", "units": "1"}),
                "rho": ("M", rho_of(Ms, r), {"long_name": "dataset entropy rho = (1 - r^2)/(M r^2)",
                                             "units": "1"})})
    ds.attrs["r"] = float(r)
    return ds


def thresholds(supervised: bool, Ps, rs, alpha_of, T_of, criterion="exists", m_target=0.9, M_max=3000,
               gaussian=False):
    """M_min(r), rho_max(r) for each P (phase_diagrams.thresholds.threshold, batched over r); gaussian: the
    large-M site average (see theory_curves)."""
    from densehebb.phase_diagrams.thresholds import threshold

    rs = np.asarray(rs, float)
    keys = ("M_min", "rho_max", "m", "n") + (() if supervised else ("M_example_max",))
    out = {k: np.full((len(Ps), rs.size), np.nan) for k in keys}
    for j, P in enumerate(Ps):
        R = threshold(spec_of(P, supervised, gaussian=gaussian), rs, alpha=alpha_of(P), T=T_of(P), criterion=criterion,
                      m_target=m_target, M_max=M_max)
        for k in keys:
            if k in R.values:
                out[k][j] = R.values[k]
    doc = {"M_min": "smallest M from which the criterion holds (threshold for learning)",
           "rho_max": "largest dataset entropy that learns, (1 - r^2)/(M_min r^2)",
           "m": "archetype overlap at M_min", "n": "class-mean overlap at M_min",
           "M_example_max": "largest M with example (storing) attractors, K finite"}
    ds = xr.Dataset({k: (("P", "r"), v, {"long_name": doc[k], "units": "1"}) for k, v in out.items()},
                    coords={"P": ("P", list(Ps)), "r": ("r", rs, {"long_name": "dataset quality r",
                                                                    "units": "1"})})
    ds["alpha"] = ("P", [float(alpha_of(P)) for P in Ps], {"long_name": "load alpha = K/N^(P-1)", "units": "1"})
    ds["T"] = ("P", [float(T_of(P)) for P in Ps], {"long_name": "plain temperature", "units": "1"})
    ds.attrs.update(criterion=criterion, M_max=int(M_max),
                    site_average="large-M Gaussian (CLT)" if gaussian else "exact binomial")
    if criterion == "overlap":
        ds.attrs["m_target"] = float(m_target)
    return ds


def diagram(supervised: bool, P: int, r: float, M: int, n_alpha: int, n_T: int, t0):
    """The RS (alpha, T) phase diagram of the learning model (P, r, M) on a coarse grid from the archetype
    state's own capacity and low-load spinodal (dh.phase_diagram)."""
    import densehebb as dh
    from densehebb.phase_diagrams.diagram import default_grids

    spec = spec_of(P, supervised, M, r)
    da, dt = default_grids(spec)
    alphas = np.geomspace(da[0], da[-1], n_alpha)
    Ts = np.linspace(dt[0], dt[-1], n_T)
    log(f"phase diagram P = {P}, r = {r}, M = {M}: {n_alpha} x {n_T} grid", t0)
    return dh.phase_diagram(spec, alphas, Ts)


def plot_diagram(pd, ax, P):
    """dh.plot_phase_diagram into ax, with the assumed paper temperature T' = (P!/2) T on a right axis."""
    import densehebb as dh

    dh.plot_phase_diagram(pd, ax=ax, legend=False)
    ax.legend(fontsize=7, loc="upper right")
    k = math.factorial(P) / 2
    ax.set_ylabel("T (plain temperature, T = 1/beta)")
    sec = ax.secondary_yaxis("right", functions=(lambda t: k * t, lambda t: t / k))
    sec.set_ylabel(f"T' = (P!/2) T = {k:g} T (assumed paper temperature)", fontsize=8)


# ------------------------------------------------------------------------------------------ Monte Carlo
def mc_points(key, supervised: bool, P: int, r: float, Ms, N: int, T, alpha=None, K=None, n_samples=4,
              sweeps=40, burn_in=20, init="pattern"):
    """Monte Carlo (Glauber, sequential sweeps, started at the archetype xi^0) at each M: summaries per T."""
    import jax

    import densehebb as dh

    rows = []
    for M in Ms:
        model = spec_of(P, supervised, M, r)
        ds = dh.simulate(jax.random.fold_in(key, int(M)), model, N=N, alpha=alpha, K=K, T=tuple(T),
                         n_samples=n_samples, n_replicas=2, sweeps=sweeps, burn_in=burn_in, init=init)
        s = dh.summarize(ds)
        if len(T) == 1:
            s = {float(T[0]): s}
        for t in T:
            d = s[float(t)]
            row = {"P": P, "M": int(M), "rho": float(rho_of(M, r)), "T": float(t), "N": N,
                   "K": int(ds.attrs["K"]), "dynamics": ds.attrs["dynamics"], "init": init}
            for k in ("m", "n", "x_max", "x_mean"):
                if k in d:
                    row[k], row[k + "_err"] = float(d[k]), float(d[k + "_err"])
            rows.append(row)
    return rows


def rows_to_dataset(rows, name):
    """A flat Dataset (dim ``point``) of Monte Carlo rows."""
    keys = [k for k in rows[0] if k not in ("dynamics", "init")]
    ds = xr.Dataset({k: ("point", np.array([r.get(k, np.nan) for r in rows])) for k in keys})
    ds.attrs.update(dynamics=rows[0]["dynamics"], init=rows[0]["init"], description=name)
    return ds


CONV = "distinct indices, Norm = r^P"
COLORS = {P: f"C{i}" for i, P in enumerate(PS)}


def plot_curves(cur, mc_low, mc_high, cases, protocol):
    """Learning curves m(rho) (top) and n(rho) (bottom), one column per case: theory lines, Monte Carlo points
    (low load: the T = 0 points in column 0, the others in column 1; mc_high in column 2)."""
    from matplotlib.figure import Figure

    Ps = [int(P) for P in cur["P"].values]
    fig = Figure(figsize=(14, 7.5))
    ax = fig.subplots(2, 3, sharex=True)
    for c in range(3):
        for j, P in enumerate(Ps):
            for row, var in ((0, "m"), (1, "n")):
                ax[row, c].plot(cur["rho"], cur[var].isel(case=c, P=j), "-", color=COLORS[P], lw=1.4,
                                label=f"P = {P}" + (f", alpha = {float(cur['alpha'][c, j]):g}" if c == 2 else "") +
                                (f" (T = {float(cur['T'][c, j]):.3g})" if c == 1 else ""))
        pts = mc_high if c == 2 else [d for d in mc_low if (d["T"] == 0) == (c == 0)]
        for P in sorted({d["P"] for d in pts}):
            sel = [d for d in pts if d["P"] == P]
            for row, var in ((0, "m"), (1, "n")):
                ax[row, c].errorbar([d["rho"] for d in sel], [d[var] for d in sel],
                                    yerr=[d[var + "_err"] for d in sel], fmt="o", ms=4, capsize=2, color=COLORS[P],
                                    mfc="white", label=f"MC P = {P}, N = {sel[0]['N']}, K = {sel[0]['K']}")
        ax[0, c].set_title(cases[c][0] + ("" if c == 2 else " (alpha = 0)") +
                           (": Gaussian (large-M) site average" if cases[c][3] else ": exact binomial sites"),
                           fontsize=9)
        ax[1, c].set_xlabel("dataset entropy rho = (1 - r^2)/(M r^2)  (r = %g, M = 1..%d)"
                            % (cur.attrs["r"], int(cur["M"].values[-1])))
        ax[1, c].set_xscale("log")
        ax[0, c].set_ylim(0, 1.05)
        for a in ax[:, c]:
            a.grid(alpha=0.3)
        ax[0, c].legend(fontsize=7, loc="lower left")
    ax[0, 0].set_ylabel("archetype overlap m")
    ax[1, 0].set_ylabel("class-mean overlap n = xibar . sigma/(r N)")
    fig.suptitle(f"{protocol} dense Hebbian learning, RS theory (lines) and Monte Carlo (Glauber from the "
                 f"archetype, points); {CONV}; T' = (P!/2) T: assumed paper temperature", fontsize=10)
    fig.tight_layout()
    return fig, ax


def write(ds, path, spec, title, **attrs):
    """netCDF with the provenance attributes of ``spec`` (the P of the file is in its data)."""
    from densehebb.phase_diagrams import provenance

    ds = ds.copy()
    ds.attrs.update(provenance(spec, title=title, variables_note=ASSUMED, **attrs))
    tmp = path + ".tmp"
    ds.to_netcdf(tmp)
    os.replace(tmp, path)
    return path
