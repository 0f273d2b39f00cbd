"""Monte Carlo against the RS and 1RSB retrieval theories of dense networks (P = 3, 4): issue 13.

    python papers/mc_capacity_dense/capacity_thermo.py [--quick] [--P 3,4] [--plot-only] [--out-dir DIR]
        [--fig-dir DIR] [--seed S] [--sweeps S] [--burn-in B] [--samples n] [--alphas a,b,..] [--Ns n1,n2,..]
        [--no-greedy]

Full run: about 10 min per P on the 2-core development machine (shared with other jobs; P = 3 and 4 ran as two
processes, ``--P 3`` / ``--P 4``); ``--quick`` (tiny sizes, RS theory only, no greedy capacity curve): about
1.5 min, and tests/test_mc_capacity_thermo.py runs ``--quick --P 3 --alphas 0.03``.

What it does (public API only; convention distinct indices, H = -(1/N^(P-1)) sum_mu e_P(xi^mu o sigma)):

1. Theory at T = 0: the retrieval overlap m(alpha) and the ground-state energy per neuron e(alpha) = f(T = 0)
   on the retrieval branch, RS (``densehebb.solve``, ansatz rs) and 1RSB (ansatz 1rsb), and the capacities
   alpha_c (``densehebb.capacity``).  Also RS at the lowest simulated temperature T_min, to show the thermal
   shift of m and f there (f(T_min) is a free energy; |f(T_min) - f(0)| bounds the T_min correction).
2. Monte Carlo (``densehebb.montecarlo.simulate``): Glauber sequential sweeps, parallel tempering over a
   geometric ladder of 6 temperatures [T_min, T_max] (P = 3: 0.01..0.06, P = 4: 0.004..0.024), every chain
   started at pattern 0, several disorder samples, 2 replicas per temperature.  The ladder stays low on
   purpose: the retrieval state is a metastable branch (spin-glass-like states of lower energy exist at
   these N), and the theories describe that branch, so the tempering equilibrates within its basin and
   "survival" (time-averaged m at T_min >= M_LOST = 0.5 in a (sample, replica) ladder) says whether the
   retrieval state persisted through the run.  Reported per (P, N, alpha): m, e at T_min (all ladders and
   the surviving ones), the surviving fraction, tau_int of e and m at T_min, swap acceptance, tempering
   round trips.  Large-N limits of the surviving-chain m and e: linear fits in 1/N and in N^(-1/2); the
   spread between the two forms is quoted as the systematic error.  alpha_c(N) (thermal route) is the load
   where the surviving fraction crosses 1/2 (linear interpolation).
3. alpha_c(N) from greedy descent: ``densehebb.montecarlo.capacity_curve`` + ``extrapolate`` as they are on
   main, with threshold 0.5 (below both theories' branch-end overlaps 0.65 (P = 3), 0.82 (P = 4)).
4. Figure (figures/capacity_thermo.png) and JSON summary (out/summary.json).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

import densehebb as dh
from densehebb.montecarlo import capacity_curve, extrapolate, simulate, summarize

HERE = os.path.dirname(os.path.abspath(__file__))
M_LOST = 0.5      # a ladder keeps the retrieval state if its time-averaged m at T_min is at least this
CONVENTION = "distinct-indices"

FULL = {
    3: dict(Ns=(40, 60, 84), alphas=(0.03, 0.09, 0.115, 0.13, 0.145, 0.165), T=(0.01, 0.06),
            greedy_Ns=(50, 100), greedy_alphas=tuple(np.round(np.arange(0.10, 0.2201, 0.015), 4))),
    4: dict(Ns=(24, 32, 40), alphas=(0.01, 0.024, 0.031, 0.035, 0.039, 0.045), T=(0.004, 0.024),
            greedy_Ns=(24, 32, 40), greedy_alphas=tuple(np.round(np.arange(0.024, 0.0601, 0.004), 4))),
}
QUICK = {
    3: dict(Ns=(20, 28), alphas=(0.03, 0.12), T=(0.01, 0.06), greedy_Ns=(), greedy_alphas=()),
    4: dict(Ns=(14, 18), alphas=(0.01, 0.033), T=(0.004, 0.024), greedy_Ns=(), greedy_alphas=()),
}
MC_FULL = dict(n_T=6, n_samples=6, n_replicas=2, sweeps=800, burn_in=200, measure_every=2)
MC_QUICK = dict(n_T=6, n_samples=4, n_replicas=2, sweeps=300, burn_in=100, measure_every=2)


def _f(x):
    x = float(x)
    return x if math.isfinite(x) else None


# ------------------------------------------------------------------------------------------------ theory
def theory(P, alphas, T_min, with_1rsb):
    """RS and 1RSB retrieval branch at T = 0 (and RS at T_min) on the load grid."""
    a = np.asarray(alphas, float)
    out = {"alpha": a.tolist()}
    rs = dh.solve(dh.Model(P=P, convention=CONVENTION), alpha=a, T=0.0, branch="retrieval")
    out["rs"] = dict(m=[_f(v) for v in np.where(rs.converged, rs.m, np.nan)],
                     e=[_f(v) for v in np.where(rs.converged, rs.f, np.nan)],
                     converged=[bool(c) for c in np.atleast_1d(rs.converged)])
    rsT = dh.solve(dh.Model(P=P, convention=CONVENTION), alpha=a, T=float(T_min), branch="retrieval")
    out["rs_T_min"] = dict(T=float(T_min), m=[_f(v) for v in np.where(rsT.converged, rsT.m, np.nan)],
                           f=[_f(v) for v in np.where(rsT.converged, rsT.f, np.nan)])
    if with_1rsb:
        r1 = dh.solve(dh.Model(P=P, convention=CONVENTION, ansatz="1rsb"), alpha=a, T=0.0, branch="retrieval")
        conv = np.atleast_1d(r1.converged)
        out["1rsb"] = dict(m=[_f(v) for v in np.where(conv, r1.m, np.nan)],
                           e=[_f(v) for v in np.where(conv, r1.f, np.nan)], converged=[bool(c) for c in conv],
                           statuses=[str(s) for s in np.atleast_1d(r1.statuses)] if hasattr(r1, "statuses")
                           else None,
                           note="where the 1RSB solver has no distinct solution (small alpha) 1RSB = RS")
    return out


def capacities(P):
    out = {}
    for ansatz in ("rs", "1rsb"):
        c = dh.capacity(dh.Model(P=P, convention=CONVENTION, ansatz=ansatz), T=0.0)
        out[ansatz] = dict(alpha_c=_f(c.alpha_c), m_c=_f(c.m_c), converged=bool(c.converged))
    return out


# ----------------------------------------------------------------------------------------- Monte Carlo
def mc_point(key, P, N, alpha, T_lo, T_hi, mc):
    temps = np.geomspace(T_lo, T_hi, mc["n_T"])
    t0 = time.perf_counter()
    ds = simulate(key, dh.Model(P=P, convention=CONVENTION), N, alpha=alpha, T=temps, n_samples=mc["n_samples"],
                  n_replicas=mc["n_replicas"], sweeps=mc["sweeps"], burn_in=mc["burn_in"],
                  measure_every=mc["measure_every"], tempering=True, init="pattern", dynamics="glauber")
    wall = time.perf_counter() - t0
    s = summarize(ds)[float(temps[0])]
    m0 = ds["m"].isel(T=0).values.ravel()                  # (sample * replica) time averages at T_min
    e0 = ds["energy"].isel(T=0).values.ravel()
    alive = m0 >= M_LOST
    n = alive.sum()
    K = int(ds.attrs["K"])
    chain_sweeps = mc["sweeps"] * mc["n_T"] * mc["n_samples"] * mc["n_replicas"]
    row = dict(P=P, N=N, alpha=float(alpha), alpha_eff=float(ds.attrs["alpha"]), K=K, T=temps.tolist(),
               m=s["m"], m_err=s["m_err"], e=s["energy"], e_err=s["energy_err"],
               survival=float(alive.mean()), n_ladders=int(alive.size),
               m_ret=_f(m0[alive].mean()) if n else None,
               m_ret_err=_f(m0[alive].std(ddof=1) / math.sqrt(n)) if n >= 2 else None,
               e_ret=_f(e0[alive].mean()) if n else None,
               e_ret_err=_f(e0[alive].std(ddof=1) / math.sqrt(n)) if n >= 2 else None,
               tau_energy=_f(s["tau_energy"]), tau_m=_f(s["tau_m"]), tau_reliable=bool(s["tau_energy_reliable"]),
               measured_over_tau=_f(s["measured_over_tau"]), equilibrated=bool(s["equilibrated"]),
               swap_acceptance=[_f(v) for v in ds["swap_acceptance"].values],
               round_trips=int(ds["round_trips"].values.sum()),
               round_trips_min_per_ladder=int(ds["round_trips"].values.min()),
               q=_f(s["q"]), acceptance=s["acceptance"], wall_s=wall,
               pattern_spin_updates_per_s=chain_sweeps * N * K / wall)
    print(f"P={P} N={N} alpha={alpha:.4g} K={K}: m={row['m']:.3f}({row['m_err']:.3f}) e={row['e']:.5f} "
          f"surv={row['survival']:.2f} m_ret={row['m_ret']} e_ret={row['e_ret']} tauE={row['tau_energy']} "
          f"rt={row['round_trips']} ({wall:.0f} s)", file=sys.stderr, flush=True)
    return row


def fit_limit(Ns, y, err):
    """Large-N limit of y(N): weighted linear fits in x = 1/N and x = N^(-1/2); the mean of the two
    intercepts, their statistical errors and the half spread between them (systematic)."""
    Ns, y, err = np.asarray(Ns, float), np.asarray(y, float), np.asarray(err, float)
    ok = np.isfinite(y) & np.isfinite(err) & (err > 0)
    if ok.sum() < 2:
        return None
    out = {}
    for name, x in (("1/N", 1 / Ns[ok]), ("N^-1/2", Ns[ok] ** -0.5)):
        w = 1 / err[ok] ** 2
        A = np.stack([np.ones_like(x), x], 1)
        cov = np.linalg.inv(A.T @ (A * w[:, None]))
        b = cov @ (A.T @ (w * y[ok]))
        dof = ok.sum() - 2
        chi2 = float(np.sum(w * (y[ok] - A @ b) ** 2))
        scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
        out[name] = dict(limit=float(b[0]), err=float(math.sqrt(cov[0, 0] * scale)), slope=float(b[1]),
                         chi2_dof=chi2 / dof if dof > 0 else None)
    a, b = out["1/N"], out["N^-1/2"]
    out["limit"] = 0.5 * (a["limit"] + b["limit"])
    out["stat_err"] = max(a["err"], b["err"])
    out["sys_err"] = 0.5 * abs(a["limit"] - b["limit"])
    out["N_used"] = Ns[ok].astype(int).tolist()
    return out


def crossing(alphas, f, level=0.5):
    """Load where f first drops below ``level`` (linear interpolation), None if it does not."""
    for i in range(len(alphas) - 1):
        if f[i] >= level > f[i + 1]:
            return float(alphas[i] + (f[i] - level) / (f[i] - f[i + 1]) * (alphas[i + 1] - alphas[i]))
    return None


def greedy_capacity(P, Ns, alphas, seed):
    """alpha_c(N) from zero-temperature descent (montecarlo.capacity as it is), threshold M_LOST."""
    if not Ns:
        return None
    ds = capacity_curve(seed, dh.Model(P=P, convention=CONVENTION), Ns=Ns, alphas=alphas, n_samples=8,
                        n_starts=8, max_sweeps=100, threshold=M_LOST)
    try:
        ex = extrapolate(ds, threshold=M_LOST, n_boot=100)
        ex.pop("stats", None)
        # the logistic centre is an extrapolation when the retrieved fraction never crosses 1/2 in the grid
        inside = [crossing(np.asarray(alphas), np.asarray(fr)) is not None for fr in ex["fraction"]]
        return dict(ex, crossing_in_grid=inside, error=None,
                    note=None if all(inside) else "no 1/2 crossing inside the load grid for some N: their "
                    "alpha_c(N) (logistic centre) lie outside the grid and the extrapolation is not meaningful")
    except Exception as exc:     # the estimator on main can fail (issue 13); keep the per-N data
        frac = (ds["m_final"].values >= M_LOST).mean(axis=(2, 3))
        return dict(N=list(Ns), alphas=list(alphas), fraction=frac.tolist(),
                    alpha_c_N=[crossing(np.asarray(alphas), fr) for fr in frac],
                    error=f"extrapolate failed: {type(exc).__name__}: {exc}")


# --------------------------------------------------------------------------------------------- figure
def plot(summary, path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 8))
    ax = fig.subplots(2, 3, squeeze=False)
    for row, P in enumerate((3, 4)):
        if str(P) not in summary["P"]:
            continue
        d = summary["P"][str(P)]
        th = d["theory"]
        a_th = np.asarray(th["alpha"])
        cap = d.get("capacity")
        # alpha_c(N)
        A = ax[row, 0]
        if cap:
            for ansatz, ls in (("rs", "-"), ("1rsb", "--")):
                if cap[ansatz]["alpha_c"]:
                    A.axhline(cap[ansatz]["alpha_c"], ls=ls, color="k", label=f"{ansatz.upper()} alpha_c")
        tc = d["alpha_c_thermal"]
        Ns = np.asarray(tc["N"], float)
        ac = np.asarray([np.nan if v is None else v for v in tc["alpha_c_N"]], float)
        A.plot(Ns ** -0.5, ac, "o", label="tempering: survival crosses 1/2")
        g = d.get("greedy")
        if g and g.get("alpha_c_N"):
            gN = np.asarray(g["N"], float)
            inside = np.asarray(g.get("crossing_in_grid") or [crossing(np.asarray(g["alphas"]), np.asarray(fr))
                                                              is not None for fr in g["fraction"]], bool)
            gc = np.asarray([np.nan if v is None else v for v in g["alpha_c_N"]], float)
            ge = np.asarray(g.get("alpha_c_N_err") or [0.0] * len(gN), float)
            if inside.any():
                A.errorbar(gN[inside] ** -0.5, gc[inside], yerr=ge[inside], fmt="s",
                           label="greedy descent (capacity_curve, m >= 0.5)")
            if (~inside).any():
                A.plot(gN[~inside] ** -0.5, np.full((~inside).sum(), max(g["alphas"])), "^", color="C1",
                       label=f"greedy: retrieved beyond the grid (alpha_c(N) > {max(g['alphas']):g})")
        A.set_xlabel(r"$N^{-1/2}$")
        A.set_ylabel(r"$\alpha_c(N)$")
        A.set_xlim(left=0)
        A.set_title(f"P = {P}")
        A.legend(fontsize=7)
        # m(alpha), e(alpha)
        for col, (key, lab) in enumerate((("m", "m"), ("e", "e = H/N")), start=1):
            B = ax[row, col]
            for ansatz, ls in (("rs", "-"), ("1rsb", "--")):
                if ansatz in th:
                    B.plot(a_th, np.asarray([np.nan if v is None else v for v in th[ansatz][key]], float), ls,
                           color="k", label=f"{ansatz.upper()} T = 0")
            for i, N in enumerate(sorted({r["N"] for r in d["mc"]})):
                rows = [r for r in d["mc"] if r["N"] == N and r[key + "_ret"] is not None]
                B.errorbar([r["alpha"] for r in rows], [r[key + "_ret"] for r in rows],
                           yerr=[r[key + "_ret_err"] or 0 for r in rows], fmt="o", ms=3, color=f"C{i}",
                           label=f"MC N = {N} (surviving ladders, T_min)")
            lim = d.get("limits", {}).get(key, {})
            la = [float(k) for k, v in lim.items() if v]
            if la:
                B.errorbar(la, [lim[k]["limit"] for k in lim if lim[k]],
                           yerr=[math.hypot(lim[k]["stat_err"], lim[k]["sys_err"]) for k in lim if lim[k]],
                           fmt="D", color="r", ms=4, label="MC N -> inf")
            B.set_xlabel(r"$\alpha = K/N^{P-1}$")
            B.set_ylabel(lab)
            B.legend(fontsize=6)
    fig.suptitle(f"dense Hebbian network, convention {CONVENTION}, Glauber + parallel tempering from the pattern; "
                 "greedy: zero-T descent", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)


def table(summary) -> str:
    """Markdown tables of the summary: theory and Monte Carlo per (P, alpha, N), the large-N limits."""
    lines = []
    fmt = lambda v, n=4: "-" if v is None else f"{v:.{n}f}"  # noqa: E731
    for P, d in sorted(summary["P"].items()):
        th = d["theory"]
        cap = d.get("capacity") or {}
        lines.append(f"P = {P}: alpha_c RS {fmt((cap.get('rs') or {}).get('alpha_c'))}, 1RSB "
                     f"{fmt((cap.get('1rsb') or {}).get('alpha_c'))}; thermal-route alpha_c(N) "
                     + ", ".join(f"N={n}: {fmt(a)}" for n, a in zip(d["alpha_c_thermal"]["N"],
                                                                   d["alpha_c_thermal"]["alpha_c_N"])))
        g = d.get("greedy")
        if g:
            lines.append("greedy alpha_c(N): " + ", ".join(f"N={n}: {fmt(a)}" for n, a in zip(g["N"], g["alpha_c_N"]))
                         + (f"; extrapolated {fmt(g.get('alpha_c_mc'))} +- {fmt(g.get('alpha_c_mc_err'))}"
                            if g.get("alpha_c_mc") is not None else "")
                         + (f" ({g['error']})" if g.get("error") else ""))
        lines.append("")
        lines.append("| alpha | m RS | m 1RSB | e RS | e 1RSB | N | survival | m (surviving) | e (surviving) | "
                     "e (all) | tau_E | meas/tau | round trips (min/ladder) |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in d["mc"]:
            i = th["alpha"].index(r["alpha"])
            r1 = th.get("1rsb", {})
            lines.append(
                f"| {r['alpha']:g} | {fmt(th['rs']['m'][i])} | {fmt(r1.get('m', [None] * 99)[i])} | "
                f"{fmt(th['rs']['e'][i], 5)} | {fmt(r1.get('e', [None] * 99)[i], 5)} | {r['N']} | "
                f"{r['survival']:.2f} | {fmt(r['m_ret'], 3)}({fmt(r['m_ret_err'], 3)}) | "
                f"{fmt(r['e_ret'], 5)}({fmt(r['e_ret_err'], 5)}) | {fmt(r['e'], 5)} | {fmt(r['tau_energy'], 0)} | "
                f"{fmt(r['measured_over_tau'], 1)} | {r['round_trips']} ({r['round_trips_min_per_ladder']}) |")
        lines.append("")
        lines.append("| alpha | m(N->inf) | stat | sys | e(N->inf) | stat | sys |")
        lines.append("|---|---|---|---|---|---|---|")
        for a in d["limits"]["m"]:
            lm, le = d["limits"]["m"][a], d["limits"]["e"][a]
            lines.append(f"| {a} | {fmt(lm and lm['limit'], 3)} | {fmt(lm and lm['stat_err'], 3)} | "
                         f"{fmt(lm and lm['sys_err'], 3)} | {fmt(le and le['limit'], 4)} | "
                         f"{fmt(le and le['stat_err'], 4)} | {fmt(le and le['sys_err'], 4)} |")
        lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, RS theory only, no greedy curve (~1-2 min)")
    ap.add_argument("--out-dir", default=os.path.join(HERE, "out"))
    ap.add_argument("--fig-dir", default=os.path.join(HERE, "figures"))
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--P", default="3,4", help="orders to run (default 3,4); the others already in "
                    "out/summary.json (same --quick) are kept, so P = 3 and P = 4 may run as two processes")
    ap.add_argument("--sweeps", type=int, default=None, help="Monte Carlo sweeps per run (default 800; quick 300)")
    ap.add_argument("--burn-in", type=int, default=None, help="burn-in sweeps (default 200; quick 100)")
    ap.add_argument("--samples", type=int, default=None, help="disorder samples per point (default 6; quick 4)")
    ap.add_argument("--alphas", default=None, help="comma-separated loads (override the grid of every P run)")
    ap.add_argument("--Ns", default=None, help="comma-separated sizes (override the grid of every P run)")
    ap.add_argument("--no-greedy", action="store_true", help="skip the greedy capacity curves")
    ap.add_argument("--plot-only", action="store_true", help="redraw the figure from out/summary.json")
    args = ap.parse_args(argv)
    Ps = [int(p) for p in str(args.P).split(",")]
    if any(p not in (3, 4) for p in Ps):
        ap.error(f"--P: 3 and/or 4, got {args.P!r}")
    path = os.path.join(args.out_dir, "summary.json")
    if args.plot_only:
        if not os.path.exists(path):     # a fresh clone: the committed run
            path = os.path.join(HERE, "figures", "summary.json")
        with open(path) as fh:
            summary = json.load(fh)
        plot(summary, os.path.join(args.fig_dir, "capacity_thermo.png"))
        print(table(summary))
        return summary
    os.makedirs(args.out_dir, exist_ok=True)
    os.makedirs(args.fig_dir, exist_ok=True)
    grid, mc = (QUICK, MC_QUICK) if args.quick else (FULL, MC_FULL)
    mc = dict(mc)
    for k, v in (("sweeps", args.sweeps), ("burn_in", args.burn_in), ("n_samples", args.samples)):
        if v is not None:
            mc[k] = int(v)
    t_start = time.perf_counter()
    summary = dict(convention=CONVENTION, dynamics="glauber (heat bath), sequential sweeps, parallel tempering",
                   init="pattern 0", m_lost=M_LOST, quick=bool(args.quick), mc=mc, seed=args.seed, P={})
    for P in Ps:
        g = dict(grid[P])
        if args.alphas:
            g["alphas"] = tuple(float(a) for a in args.alphas.split(","))
        if args.Ns:
            g["Ns"] = tuple(int(n) for n in args.Ns.split(","))
        d = {"theory": theory(P, g["alphas"], g["T"][0], with_1rsb=not args.quick)}
        d["capacity"] = None if args.quick else capacities(P)
        rows = []
        for N in g["Ns"]:
            for alpha in g["alphas"]:
                key = args.seed * 1000003 + P * 10007 + N * 101 + int(round(alpha * 1e5))
                rows.append(mc_point(key, P, N, alpha, g["T"][0], g["T"][1], mc))
        d["mc"] = rows
        # thermal-route alpha_c(N) and large-N limits
        al = np.asarray(g["alphas"])
        d["alpha_c_thermal"] = dict(N=list(g["Ns"]), alpha_c_N=[
            crossing(al, np.asarray([r["survival"] for r in rows if r["N"] == N])) for N in g["Ns"]])
        d["limits"] = {}
        for key in ("m", "e"):
            d["limits"][key] = {}
            for alpha in g["alphas"]:
                rs_ = [r for r in rows if r["alpha"] == alpha and r[key + "_ret_err"] is not None]
                d["limits"][key][f"{alpha:g}"] = fit_limit([r["N"] for r in rs_], [r[key + "_ret"] for r in rs_],
                                                           [r[key + "_ret_err"] for r in rs_])
        d["greedy"] = None if args.no_greedy else greedy_capacity(P, g["greedy_Ns"], g["greedy_alphas"], args.seed)
        summary["P"][str(P)] = d
        d["wall_s"] = time.perf_counter() - t_start
    summary["wall_s"] = time.perf_counter() - t_start
    if os.path.exists(path):     # keep the other order's results of a run of the same kind
        with open(path) as fh:
            old = json.load(fh)
        if old.get("quick") == summary["quick"]:
            for P, v in old["P"].items():
                summary["P"].setdefault(P, v)
    with open(path, "w") as fh:
        json.dump(summary, fh, indent=1)
    plot(summary, os.path.join(args.fig_dir, "capacity_thermo.png"))
    print(table(summary))
    print(f"wrote {path} and {os.path.join(args.fig_dir, 'capacity_thermo.png')} ({summary['wall_s']:.0f} s)")
    return summary


if __name__ == "__main__":
    main()
