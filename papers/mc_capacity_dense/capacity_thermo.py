"""Monte Carlo against the RS and 1RSB retrieval theories of dense networks (P = 3, 4): issue 13.

    python papers/mc_capacity_dense/capacity_thermo.py [--quick] [--P 3,4] [--plot-only] [--out-dir DIR]
        [--fig-dir DIR] [--seed S] [--sweeps S] [--burn-in B] [--samples n] [--measure-every k] [--max-lag L]
        [--alphas a,b,..] [--Ns n1,n2,..] [--no-greedy]

Full run (12000 sweeps, 3 sizes x 4 loads per P, greedy curves): 747 s (P = 3) and 698 s (P = 4) wall as two
processes next to each other on the 2-core development machine shared with other jobs (load average 7-10);
the long runs at the smallest size (``--Ns 24`` / ``--Ns 16 --sweeps 96000 --burn-in 8000 --measure-every 8
--max-lag 1500 --no-greedy``, figures/summary_long.json) took about 20 min each.  ``--quick`` (tiny sizes,
RS theory only, no greedy capacity curve): about 1 min, and tests/test_mc_capacity_thermo.py runs
``--quick --P 3 --alphas 0.03``.

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
   round trips, the energy histogram at T_min (``energy_histogram``, all ladders and surviving ones), P(q)
   of replicas 0 and 1 -- both started at pattern 0 -- at T_min (``overlap_distribution``) and q over the
   samples where both keep the pattern (against RS q(T_min)), and, from the time series, the weight of the
   retrieval basin (measurements with m >= M_LOST; |m| for even P) with m and e averaged inside it.
   A point counts as equilibrated (``equilibrated_issue13``) when at T_min the measured sweeps are at least
   EQ_TAU = 50 tau_int(e) with a reliable (window-closed) tau estimate, or the energy does not fluctuate at
   all, AND every (sample, replica) ladder made at least one round trip; only such points enter the fits.  Large-N limits of the surviving-chain m and e: linear fits in 1/N and in N^(-1/2); the
   spread between the two forms is quoted as the systematic error.  alpha_c(N) (thermal route) is the load
   where the surviving fraction crosses 1/2 (linear interpolation).
3. alpha_c(N) from greedy descent: ``densehebb.montecarlo.capacity_curve`` + ``extrapolate`` with the
   data-driven criterion (threshold "auto"; omega fixed at 1/2 with the spread over [1/3, 1] as systematic
   error for 2-3 sizes), and for comparison with the fixed threshold 0.5 of the earlier run.
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
from densehebb.montecarlo import (capacity_curve, energy_histogram, extrapolate, overlap_distribution, simulate,
                                  summarize)

HERE = os.path.dirname(os.path.abspath(__file__))
M_LOST = 0.5      # a ladder keeps the retrieval state if its time-averaged m at T_min is at least this
CONVENTION = "distinct-indices"

FULL = {
    3: dict(Ns=(24, 32, 48), alphas=(0.09, 0.12, 0.14, 0.16), T=(0.01, 0.06),
            greedy_Ns=(50, 100), greedy_alphas=tuple(np.round(np.arange(0.10, 0.2201, 0.015), 4))),
    4: dict(Ns=(16, 20, 24), alphas=(0.024, 0.031, 0.036, 0.042), T=(0.004, 0.024),
            greedy_Ns=(24, 32, 40), greedy_alphas=tuple(np.round(np.arange(0.024, 0.0601, 0.004), 4))),
}
QUICK = {
    3: dict(Ns=(20, 28), alphas=(0.03, 0.12), T=(0.01, 0.06), greedy_Ns=(), greedy_alphas=()),
    4: dict(Ns=(14, 18), alphas=(0.01, 0.033), T=(0.004, 0.024), greedy_Ns=(), greedy_alphas=()),
}
MC_FULL = dict(n_T=6, n_samples=6, n_replicas=2, sweeps=12000, burn_in=2000, measure_every=4, max_lag=500)
MC_QUICK = dict(n_T=6, n_samples=4, n_replicas=2, sweeps=300, burn_in=100, measure_every=2, max_lag=100)
#: equilibration criterion of a reported point (issue 13): at T_min the measured sweeps are at least
#: EQ_TAU tau_int of the energy (a reliable estimate) and every (sample, replica) ladder completed a round trip
EQ_TAU, EQ_ROUND_TRIPS = 50, 1


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
                           f=[_f(v) for v in np.where(rsT.converged, rsT.f, np.nan)],
                           q=[_f(v) for v in np.where(rsT.converged, rsT.q, np.nan)])
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
                  measure_every=mc["measure_every"], tempering=True, init="pattern", dynamics="glauber",
                  timeseries=True, max_lag=mc.get("max_lag"))
    wall = time.perf_counter() - t0
    s = summarize(ds)[float(temps[0])]
    m0 = ds["m"].isel(T=0).values.ravel()                  # (sample * replica) time averages at T_min
    e0 = ds["energy"].isel(T=0).values.ravel()
    alive = m0 >= M_LOST
    n = alive.sum()
    alive_sr = ds["m"].isel(T=0).transpose("sample", "replica").values >= M_LOST
    both = alive_sr[:, 0] & alive_sr[:, 1]          # samples whose replicas 0 and 1 both keep the pattern
    hist = energy_histogram(ds, 0, bins=40)
    hist_ret = energy_histogram(ds, 0, bins=hist["edges"], chains=alive_sr) if n else None
    pq = overlap_distribution(ds, 0)
    pq_ret = overlap_distribution(ds, 0, samples=both) if both.any() else None
    # per measurement: the retrieval basin (m_t >= M_LOST; |m_t| for even P, where -xi is degenerate) at T_min
    mt = ds["m_t"].isel(T=0).transpose("sample", "replica", "sweep").values
    et = ds["energy_t"].isel(T=0).transpose("sample", "replica", "sweep").values
    in_ret = (np.abs(mt) if P % 2 == 0 else mt) >= M_LOST
    w_s = in_ret.mean(axis=(1, 2))                                   # per sample: weight of the basin
    has = in_ret.any(axis=(1, 2))
    m_c = np.array([np.abs(mt[i][in_ret[i]]).mean() for i in range(len(has)) if has[i]])
    e_c = np.array([et[i][in_ret[i]].mean() for i in range(len(has)) if has[i]])
    se = lambda x: _f(x.std(ddof=1) / math.sqrt(x.size)) if x.size >= 2 else None  # noqa: E731
    cond = dict(w_ret=_f(w_s.mean()), w_ret_err=se(w_s), m_cond=_f(m_c.mean()) if m_c.size else None,
                m_cond_err=se(m_c), e_cond=_f(e_c.mean()) if e_c.size else None, e_cond_err=se(e_c),
                n_samples_cond=int(m_c.size))
    tau_e = s["tau_energy"]
    rt_min = int(ds["round_trips"].values.min())
    meas = mc["sweeps"] - mc["burn_in"]
    frozen = not math.isfinite(tau_e)            # no energy fluctuation at T_min at all: no tau to measure
    eq_crit = bool((frozen or (s["tau_energy_reliable"] and meas >= EQ_TAU * tau_e)) and rt_min >= EQ_ROUND_TRIPS)
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
               round_trips_min_per_ladder=rt_min,
               equilibrated_issue13=eq_crit, burn_in_over_tau=_f(s["burn_in_over_tau"]), drift_z=_f(s["drift_z"]),
               tau_m_reliable=bool(s["tau_m_reliable"]),
               energy_histogram=hist, energy_histogram_surviving=hist_ret,
               P_q=dict(q_center=pq["q_center"], P_q=pq["P_q"]), q_samples=pq["q"],
               q_ret=_f(np.mean(pq_ret["q"])) if pq_ret else None,
               q_ret_err=_f(np.std(pq_ret["q"], ddof=1) / math.sqrt(len(pq_ret["q"]))) if pq_ret and
               len(pq_ret["q"]) >= 2 else None,
               P_q_surviving=dict(q_center=pq_ret["q_center"], P_q=pq_ret["P_q"]) if pq_ret else None,
               **cond, q=_f(s["q"]), acceptance=s["acceptance"], wall_s=wall,
               pattern_spin_updates_per_s=chain_sweeps * N * K / wall)
    print(f"P={P} N={N} alpha={alpha:.4g} K={K}: m={row['m']:.3f}({row['m_err']:.3f}) e={row['e']:.5f} "
          f"surv={row['survival']:.2f} m_ret={row['m_ret']} e_ret={row['e_ret']} tauE={row['tau_energy']} "
          f"rt={row['round_trips']} min {rt_min} meas/tau={row['measured_over_tau']} eq={eq_crit} ({wall:.0f} s)", file=sys.stderr, flush=True)
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


def derive(d):
    """Thermal-route alpha_c(N) (survival crossing 1/2) and the large-N limits of m and e (equilibrated points
    only) from the rows ``d["mc"]`` of one P, into ``d``."""
    rows = d["mc"]
    Ns = sorted({r["N"] for r in rows})
    alphas = sorted({r["alpha"] for r in rows})
    d["alpha_c_thermal"] = dict(N=Ns, alpha_c_N=[
        crossing(np.asarray([r["alpha"] for r in rows if r["N"] == N]),
                 np.asarray([r["survival"] for r in rows if r["N"] == N])) for N in Ns])
    d["limits"] = {}
    for key in ("m", "e"):
        d["limits"][key] = {}
        for alpha in alphas:
            rs_ = [r for r in rows if r["alpha"] == alpha and r[key + "_ret_err"] is not None
                   and r.get("equilibrated_issue13")]      # equilibrated points only
            d["limits"][key][f"{alpha:g}"] = fit_limit([r["N"] for r in rs_], [r[key + "_ret"] for r in rs_],
                                                       [r[key + "_ret_err"] for r in rs_])
    return d


def with_long_runs(summary, long_summary):
    """The summary with the rows of the longer runs of the same (P, N, alpha) -- the same seeds, hence the same
    disorder samples, run longer -- in place of the short ones (``run`` = "long"), limits re-derived."""
    out = json.loads(json.dumps(summary))
    for P, dl in long_summary["P"].items():
        if P not in out["P"]:
            continue
        d = out["P"][P]
        longs = {(r["N"], r["alpha"]): dict(r, run="long", sweeps=long_summary["mc"]["sweeps"]) for r in dl["mc"]}
        d["mc"] = [longs.get((r["N"], r["alpha"]), r) for r in d["mc"]]
        derive(d)
    out["long_runs"] = long_summary["mc"]
    return out


def crossing(alphas, f, level=0.5):
    """Load where f first drops below ``level`` (linear interpolation), None if it does not."""
    for i in range(len(alphas) - 1):
        if f[i] >= level > f[i + 1]:
            return float(alphas[i] + (f[i] - level) / (f[i] - f[i + 1]) * (alphas[i + 1] - alphas[i]))
    return None


def greedy_capacity(P, Ns, alphas, seed):
    """alpha_c(N) from zero-temperature descent: ``capacity_curve`` (threshold "auto": every chain runs to its
    fixed point) and ``extrapolate`` with the data-driven criterion (threshold "auto", free omega with >= 4
    sizes, else omega = 1/2 with the spread over [1/3, 1] as systematic error), and, for comparison with the
    earlier run, with the fixed threshold M_LOST."""
    if not Ns:
        return None
    ds = capacity_curve(seed, dh.Model(P=P, convention=CONVENTION), Ns=Ns, alphas=alphas, n_samples=8,
                        n_starts=8, max_sweeps=100, threshold="auto")
    out = {}
    for name, thr in (("auto", "auto"), ("fixed", M_LOST)):
        ex = extrapolate(ds, threshold=thr, n_boot=100)
        ex.pop("stats", None)
        out[name] = json.loads(json.dumps(ex, default=float).replace("NaN", "null"))
    res = dict(out["auto"])
    res["fixed_threshold"] = out["fixed"]
    res["crossing_in_grid"] = res.get("crossing")
    res["alpha_c_N"] = [v for v in res["alpha_c_N"]]
    res["error"] = None
    return res


# --------------------------------------------------------------------------------------------- figure
def plot(summary, path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(17, 8))
    ax = fig.subplots(2, 4, squeeze=False)
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
                           label="greedy descent (capacity_curve, threshold auto)")
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
                for eq in (True, False):     # filled: equilibrated (issue-13 criterion), open: not
                    rr = [r for r in rows if bool(r.get("equilibrated_issue13")) == eq]
                    if rr:
                        B.errorbar([r["alpha"] for r in rr], [r[key + "_ret"] for r in rr],
                                   yerr=[r[key + "_ret_err"] or 0 for r in rr], fmt="o", ms=4, color=f"C{i}",
                                   mfc=None if eq else "none",
                                   label=f"MC N = {N}, surviving ladders, T_min"
                                   + ("" if eq else " (open: not equilibrated)"))
            lim = d.get("limits", {}).get(key, {})
            la = [float(k) for k, v in lim.items() if v]
            if la:
                B.errorbar(la, [lim[k]["limit"] for k in lim if lim[k]],
                           yerr=[math.hypot(lim[k]["stat_err"], lim[k]["sys_err"]) for k in lim if lim[k]],
                           fmt="D", color="r", ms=4, label="MC N -> inf")
            B.set_xlabel(r"$\alpha = K/N^{P-1}$")
            B.set_ylabel(lab)
            B.legend(fontsize=6)
        # energy histograms at T_min, largest N (every measurement of every ladder; filled: equilibrated)
        H = ax[row, 3]
        long_N = [r["N"] for r in d["mc"] if r.get("run") == "long"]     # the longest runs if there are any
        N_max = min(long_N) if long_N else max(r["N"] for r in d["mc"])
        for i, r in enumerate(r for r in d["mc"] if r["N"] == N_max and r.get("energy_histogram")):
            h = r["energy_histogram"]
            eq = r.get("equilibrated_issue13")
            H.stairs(h["density"], h["edges"], color=f"C{i}", fill=bool(eq), alpha=0.35 if eq else 1.0,
                     label=f"alpha = {r['alpha']:g}" + ("" if eq else " (not equilibrated)"))
            j = th["alpha"].index(r["alpha"])
            for ansatz, ls in (("rs", "-"), ("1rsb", "--")):
                if ansatz in th and th[ansatz]["e"][j] is not None:
                    H.axvline(th[ansatz]["e"][j], color=f"C{i}", ls=ls, lw=0.8)
        H.set_xlabel(f"e = H/N at T_min, N = {N_max} (lines: RS -, 1RSB --, T = 0)")
        H.set_ylabel("density")
        H.legend(fontsize=6)
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
                     "e (all) | tau_E | meas/tau | round trips (min/ladder) | q (surviving) | equilibrated |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in d["mc"]:
            i = th["alpha"].index(r["alpha"])
            r1 = th.get("1rsb", {})
            lines.append(
                f"| {r['alpha']:g} | {fmt(th['rs']['m'][i])} | {fmt(r1.get('m', [None] * 99)[i])} | "
                f"{fmt(th['rs']['e'][i], 5)} | {fmt(r1.get('e', [None] * 99)[i], 5)} | {r['N']}"
                f"{' (long)' if r.get('run') == 'long' else ''} | "
                f"{r['survival']:.2f} | {fmt(r['m_ret'], 3)}({fmt(r['m_ret_err'], 3)}) | "
                f"{fmt(r['e_ret'], 5)}({fmt(r['e_ret_err'], 5)}) | {fmt(r['e'], 5)} | {fmt(r['tau_energy'], 0)} | "
                f"{fmt(r['measured_over_tau'], 1)} | {r['round_trips']} ({r['round_trips_min_per_ladder']}) | "
                f"{fmt(r.get('q_ret'), 3)} | {'yes' if r.get('equilibrated_issue13') else 'no'} |")
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
def common_parser(doc, quick_help):
    """The options every script of this folder takes: --quick, --out-dir, --fig-dir, --seed."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--out-dir", default=os.path.join(HERE, "out"))
    ap.add_argument("--fig-dir", default=os.path.join(HERE, "figures"))
    ap.add_argument("--seed", type=int, default=13)
    return ap


def main(argv=None):
    ap = common_parser(__doc__, "tiny sizes, RS theory only, no greedy curve (~1-2 min)")
    ap.add_argument("--P", default="3,4", help="orders to run (default 3,4); the others already in "
                    "out/summary.json (same --quick) are kept, so P = 3 and P = 4 may run as two processes")
    ap.add_argument("--sweeps", type=int, default=None, help="Monte Carlo sweeps per run (default 800; quick 300)")
    ap.add_argument("--burn-in", type=int, default=None, help="burn-in sweeps (default 200; quick 100)")
    ap.add_argument("--samples", type=int, default=None, help="disorder samples per point (default 6; quick 4)")
    ap.add_argument("--measure-every", type=int, default=None, help="sweeps between measurements (default 4)")
    ap.add_argument("--max-lag", type=int, default=None, help="autocorrelation window in measurements (default 500)")
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
        long_path = os.path.join(os.path.dirname(path), "summary_long.json")
        if os.path.exists(long_path):    # the longer runs of some (N, alpha) replace the short ones
            with open(long_path) as fh:
                summary = with_long_runs(summary, json.load(fh))
        plot(summary, os.path.join(args.fig_dir, "capacity_thermo.png"))
        print(table(summary))
        return summary
    os.makedirs(args.out_dir, exist_ok=True)
    os.makedirs(args.fig_dir, exist_ok=True)
    grid, mc = (QUICK, MC_QUICK) if args.quick else (FULL, MC_FULL)
    mc = dict(mc)
    for k, v in (("sweeps", args.sweeps), ("burn_in", args.burn_in), ("n_samples", args.samples),
                 ("measure_every", args.measure_every), ("max_lag", args.max_lag)):
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
        derive(d)
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
