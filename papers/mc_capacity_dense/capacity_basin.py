"""In-basin (constrained) Monte Carlo of the retrieval state of dense networks against RS and 1RSB: issue 13.

    python papers/mc_capacity_dense/capacity_basin.py [--quick] [--P 3,4] [--Ns ..] [--alphas ..] [--m-min X]
        [--extra-m-min X@alpha@N] [--sweeps S] [--burn-in B] [--samples n] [--measure-every k] [--seed S]
        [--out-dir DIR] [--fig-dir DIR] [--plot-only]

The theories (RS, 1RSB) describe the retrieval *branch*, a metastable state at the loads where they differ.
Unconstrained tempering at low T (capacity_thermo.py) hops between the retrieval basin and deeper
non-retrieval states and does not equilibrate beyond N ~ 32.  Here every chain samples the Boltzmann measure
restricted to the retrieval basin {m >= m_min} (``densehebb.montecarlo.simulate(..., m_min=...)``: a flip
whose new Mattis overlap with pattern 0, where every chain starts, would fall below m_min is rejected; the
restricted measure is sampled exactly, tests/test_mc_basin.py), with parallel tempering on the low ladder of
capacity_thermo.py (6 temperatures geometric in [0.01, 0.06] for P = 3, [0.004, 0.024] for P = 4), Glauber
sequential sweeps, convention distinct indices (H = -(1/N^(P-1)) sum_mu e_P(xi^mu o sigma)).

Per (P, N, alpha) at T_min: m and e (errors and spread over disorder samples), tau_int(e), run length in tau,
round trips, the m histogram of the time series, the wall fractions (measurements at the lowest allowed
overlap M = wall, and with m < m_min + 0.1: the measure piling up at the wall is the finite-N signature that
the retrieval branch has ended, or that the wall region holds lower free energy than the retrieval state),
the interior averages (m, e over measurements with m >= m_min + 0.1) and q of replicas 0 and 1.  A point is
equilibrated when the measured sweeps are at least 50 tau_int(e) (a reliable estimate, or no energy
fluctuation at all) and every ladder made a round trip (as capacity_thermo.py).  Large-N limits of m and e
(fit_limit of capacity_thermo.py: 1/N and N^(-1/2) forms) on the equilibrated points, against RS and 1RSB at
T = 0 (``densehebb.solve``, ansatz rs / 1rsb).  Output: out/summary_basin.json, figures/capacity_basin.png.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time

import numpy as np

import densehebb as dh
from densehebb.montecarlo import simulate, summarize

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from capacity_thermo import (CONVENTION, EQ_ROUND_TRIPS, EQ_TAU, _f, capacities, common_parser,  # noqa: E402
                             fit_limit, theory)

NEAR = 0.1        # "near the wall": m < m_min + NEAR
FULL = {3: dict(Ns=(32, 48, 64, 96, 128), alphas=(0.09, 0.12, 0.14, 0.16), T=(0.01, 0.06)),
        4: dict(Ns=(16, 24, 32), alphas=(0.024, 0.031, 0.036, 0.042), T=(0.004, 0.024))}
QUICK = {3: dict(Ns=(16, 24), alphas=(0.09, 0.16), T=(0.01, 0.06)),
         4: dict(Ns=(12, 16), alphas=(0.024, 0.042), T=(0.004, 0.024))}
MC_FULL = dict(n_T=6, n_samples=6, n_replicas=2, sweeps=8000, burn_in=2000, measure_every=4, max_lag=500)
MC_QUICK = dict(n_T=6, n_samples=3, n_replicas=2, sweeps=400, burn_in=100, measure_every=2, max_lag=100)


def _se(x):
    x = np.asarray(x, float)
    return _f(x.std(ddof=1) / math.sqrt(x.size)) if x.size >= 2 else None


def mc_point(key, P, N, alpha, T_lo, T_hi, mc, m_min):
    temps = np.geomspace(T_lo, T_hi, mc["n_T"])
    t0 = time.perf_counter()
    ds = simulate(key, dh.Model(P=P, convention=CONVENTION), N, alpha=alpha, T=temps, n_samples=mc["n_samples"],
                  n_replicas=mc["n_replicas"], sweeps=mc["sweeps"], burn_in=mc["burn_in"],
                  measure_every=mc["measure_every"], tempering=True, init="pattern", dynamics="glauber",
                  timeseries=True, max_lag=mc.get("max_lag"), m_min=m_min)
    wall_s = time.perf_counter() - t0
    s = summarize(ds)[float(temps[0])]
    wall = int(ds.attrs["m_min_wall"])
    mt = ds["m_t"].isel(T=0).transpose("sample", "replica", "sweep").values
    et = ds["energy_t"].isel(T=0).transpose("sample", "replica", "sweep").values
    Mt = np.rint(mt * N).astype(int)
    m_s, e_s = mt.mean(axis=(1, 2)), et.mean(axis=(1, 2))          # per disorder sample
    at_wall = Mt <= wall + 1                                       # the lowest allowed M (M = N mod 2)
    near = mt < m_min + NEAR
    interior = ~near
    has = interior.any(axis=(1, 2))
    m_int = np.array([mt[i][interior[i]].mean() for i in range(len(has)) if has[i]])
    e_int = np.array([et[i][interior[i]].mean() for i in range(len(has)) if has[i]])
    hist, edges = np.histogram(mt.ravel(), bins=20, range=(m_min, 1.0))
    tau_e = s["tau_energy"]
    rt_min = int(ds["round_trips"].values.min())
    meas = mc["sweeps"] - mc["burn_in"]
    frozen = not math.isfinite(tau_e)
    eq = bool((frozen or (s["tau_energy_reliable"] and meas >= EQ_TAU * tau_e)) and rt_min >= EQ_ROUND_TRIPS)
    K = int(ds.attrs["K"])
    chain_sweeps = mc["sweeps"] * mc["n_T"] * mc["n_samples"] * mc["n_replicas"]
    row = dict(P=P, N=N, alpha=float(alpha), alpha_eff=float(ds.attrs["alpha"]), K=K, T=temps.tolist(),
               m_min=float(m_min), wall_M=wall, m_min_never_violated=bool(float(ds["m_t"].min()) >= m_min),
               m=s["m"], m_err=s["m_err"], m_spread=_f(m_s.std(ddof=1)) if m_s.size > 1 else None,
               e=s["energy"], e_err=s["energy_err"], e_spread=_f(e_s.std(ddof=1)) if e_s.size > 1 else None,
               m_samples=m_s.tolist(), e_samples=e_s.tolist(),
               frac_at_wall=float(at_wall.mean()), frac_near_wall=float(near.mean()),
               frac_near_wall_samples=near.mean(axis=(1, 2)).tolist(),
               m_interior=_f(m_int.mean()) if m_int.size else None, m_interior_err=_se(m_int),
               e_interior=_f(e_int.mean()) if e_int.size else None, e_interior_err=_se(e_int),
               n_samples_interior=int(m_int.size),
               m_hist=dict(edges=edges.tolist(), counts=hist.astype(int).tolist()),
               q=_f(s["q"]), q_err=_f(s["q_err"]),
               tau_energy=_f(tau_e), tau_m=_f(s["tau_m"]), tau_reliable=bool(s["tau_energy_reliable"]),
               measured_over_tau=_f(s["measured_over_tau"]), drift_z=_f(s["drift_z"]),
               swap_acceptance=[_f(v) for v in ds["swap_acceptance"].values],
               round_trips=int(ds["round_trips"].values.sum()), round_trips_min_per_ladder=rt_min,
               equilibrated_issue13=eq, acceptance=s["acceptance"], wall_s=wall_s,
               sweeps=mc["sweeps"], burn_in=mc["burn_in"], n_samples=mc["n_samples"],
               pattern_spin_updates_per_s=chain_sweeps * N * K / wall_s)
    print(f"P={P} N={N} alpha={alpha:.4g} K={K} m_min={m_min}: m={row['m']:.3f}({row['m_err']:.3f}) "
          f"e={row['e']:.5f}({row['e_err']:.5f}) near-wall={row['frac_near_wall']:.2f} at-wall={row['frac_at_wall']:.2f} "
          f"m_int={row['m_interior']} tauE={row['tau_energy']} meas/tau={row['measured_over_tau']} "
          f"rt min {rt_min} q={row['q']} eq={eq} ({wall_s:.0f} s, {row['pattern_spin_updates_per_s']:.2g} upd/s)",
          file=sys.stderr, flush=True)
    return row


def derive(d):
    """Large-N limits of m and e (all in-basin measurements, and interior) on the equilibrated points of the
    main m_min, per load."""
    rows = [r for r in d["mc"] if r["m_min"] == d["m_min"]]
    d["limits"] = {}
    for key in ("m", "e", "m_interior", "e_interior"):
        d["limits"][key] = {}
        for alpha in sorted({r["alpha"] for r in rows}):
            rs_ = [r for r in rows if r["alpha"] == alpha and r.get("equilibrated_issue13")
                   and r.get(key + "_err") and r.get(key) is not None]
            d["limits"][key][f"{alpha:g}"] = fit_limit([r["N"] for r in rs_], [r[key] for r in rs_],
                                                       [r[key + "_err"] for r in rs_])
    return d


def plot(summary, path):
    from matplotlib.figure import Figure

    Ps = [P for P in ("3", "4") if P in summary["P"]]
    fig = Figure(figsize=(15, 4.2 * len(Ps)))
    ax = fig.subplots(len(Ps), 3, squeeze=False)
    for row, P in enumerate(Ps):
        d = summary["P"][P]
        th = d["theory"]
        a = np.asarray(th["alpha"])
        rows = [r for r in d["mc"] if r["m_min"] == d["m_min"]]
        Ns = sorted({r["N"] for r in rows})
        for col, (key, lab) in enumerate((("m", "m at T_min"), ("e", "e = H/N at T_min"))):
            A = ax[row, col]
            for ansatz, ls in (("rs", "-"), ("1rsb", "--")):
                if ansatz in th:
                    y = np.asarray([np.nan if v is None else v for v in th[ansatz][key]], float)
                    A.plot(a, y, ls, color="k", label=f"{ansatz.upper()} T = 0")
            for i, N in enumerate(Ns):
                rr = sorted([r for r in rows if r["N"] == N], key=lambda r: r["alpha"])
                x = np.asarray([r["alpha"] for r in rr]) * (1 + 0.004 * (i - len(Ns) / 2))
                y = np.asarray([r[key] for r in rr], float)
                err = np.asarray([r[key + "_err"] or 0 for r in rr], float)
                eq = np.asarray([r["equilibrated_issue13"] for r in rr], bool)
                h = A.errorbar(x, y, err, fmt="o", mfc="none", ms=5, capsize=2, label=f"N = {N} (filled: eq.)")
                A.plot(x[eq], y[eq], "o", color=h[0].get_color(), ms=5)
                yi = np.asarray([np.nan if r[key + "_interior"] is None else r[key + "_interior"] for r in rr], float)
                A.plot(x, yi, "x", color=h[0].get_color(), ms=6)
            cap = d.get("capacity") or {}
            for ansatz, ls in (("rs", ":"), ("1rsb", "-.")):
                if cap.get(ansatz, {}).get("alpha_c"):
                    A.axvline(cap[ansatz]["alpha_c"], ls=ls, color="gray", lw=0.8)
            A.set_xlabel("alpha")
            A.set_ylabel(lab)
            A.set_title(f"P = {P}: in-basin (m >= {d['m_min']}) MC vs theory (x: interior, m >= {d['m_min'] + NEAR:g})",
                        fontsize=9)
            A.legend(fontsize=7)
        A = ax[row, 2]
        for N in Ns:
            rr = sorted([r for r in rows if r["N"] == N], key=lambda r: r["alpha"])
            A.plot([r["alpha"] for r in rr], [r["frac_near_wall"] for r in rr], "o-", label=f"N = {N}")
        A.set_xlabel("alpha")
        A.set_ylabel(f"fraction of T_min measurements with m < m_min + {NEAR}")
        A.set_title("pile-up at the wall")
        A.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def table(summary) -> str:
    lines = ["| P | alpha | m RS / 1RSB | e RS / 1RSB | N | m_min | m | e | near wall | at wall | m, e interior | "
             "tau_E | meas./tau | rt min | q | eq. |", "|" + "---|" * 16]
    fmt = lambda v, p=3: "none" if v is None else f"{v:.{p}f}"   # noqa: E731
    for P, d in summary["P"].items():
        th = d.get("theory_points", d["theory"])
        for r in sorted(d["mc"], key=lambda r: (r["alpha"], r["N"], -r["m_min"])):
            i = int(np.argmin(np.abs(np.asarray(th["alpha"]) - r["alpha"])))
            tm = f"{fmt(th['rs']['m'][i])} / {fmt(th['1rsb']['m'][i]) if '1rsb' in th else '-'}"
            te = f"{fmt(th['rs']['e'][i], 5)} / {fmt(th['1rsb']['e'][i], 5) if '1rsb' in th else '-'}"
            lines.append(
                f"| {P} | {r['alpha']:g} | {tm} | {te} | {r['N']} | {r['m_min']:g} | {r['m']:.3f}({r['m_err'] or 0:.3f}) | "
                f"{r['e']:.4f}({r['e_err'] or 0:.4f}) | {r['frac_near_wall']:.2f} | {r['frac_at_wall']:.2f} | "
                f"{fmt(r['m_interior'])}, {fmt(r['e_interior'], 4)} | {fmt(r['tau_energy'], 0)} | "
                f"{fmt(r['measured_over_tau'], 0)} | {r['round_trips_min_per_ladder']} | {fmt(r['q'])} | "
                f"{'yes' if r['equilibrated_issue13'] else 'no'} |")
    return "\n".join(lines)


def main(argv=None):
    ap = common_parser(__doc__, "tiny sizes, RS theory only (~1 min)")
    ap.add_argument("--P", default="3")
    ap.add_argument("--m-min", type=float, default=0.5)
    ap.add_argument("--extra-m-min", default=None,
                    help="second wall at one point, 'X@alpha@N[,X@alpha@N..]' (e.g. 0.4@0.14@64)")
    ap.add_argument("--sweeps", type=int, default=None)
    ap.add_argument("--burn-in", type=int, default=None)
    ap.add_argument("--samples", type=int, default=None)
    ap.add_argument("--measure-every", type=int, default=None)
    ap.add_argument("--alphas", default=None)
    ap.add_argument("--Ns", default=None)
    ap.add_argument("--plot-only", action="store_true")
    args = ap.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    out_json = os.path.join(args.out_dir, "summary_basin.json")
    if args.plot_only:
        if not os.path.exists(out_json):            # the committed run
            out_json = os.path.join(HERE, "figures", "summary_basin.json")
        with open(out_json) as fh:
            summary = json.load(fh)
    else:
        summary = json.load(open(out_json)) if os.path.exists(out_json) and not args.quick else {"P": {}}
        mc = dict(MC_QUICK if args.quick else MC_FULL)
        for k, v in (("sweeps", args.sweeps), ("burn_in", args.burn_in), ("n_samples", args.samples),
                     ("measure_every", args.measure_every)):
            if v is not None:
                mc[k] = v
        summary.update(convention=CONVENTION, dynamics="glauber (heat bath), sequential sweeps, parallel tempering",
                       seed=args.seed, quick=bool(args.quick))
        summary.setdefault("mc", {})
        for P in [int(p) for p in args.P.split(",")]:
            grid = dict((QUICK if args.quick else FULL)[P])
            if args.alphas:
                grid["alphas"] = tuple(float(a) for a in args.alphas.split(","))
            if args.Ns is not None:          # "" : only the --extra-m-min points
                grid["Ns"] = tuple(int(n) for n in args.Ns.split(",") if n)
            d = summary["P"].setdefault(str(P), {"mc": []})
            a_th = np.round(np.linspace(min(grid["alphas"]) * 0.8, max(grid["alphas"]) * 1.05, 18), 5)
            d["theory"] = theory(P, a_th, grid["T"][0], with_1rsb=not args.quick)
            if not args.quick:
                d["capacity"] = capacities(P)
            d["m_min"] = args.m_min
            d["mc_params"] = mc
            points = [(N, a, args.m_min) for N in grid["Ns"] for a in grid["alphas"]]
            for spec in (args.extra_m_min.split(",") if args.extra_m_min else []):
                x, a, n = spec.split("@")
                points.append((int(n), float(a), float(x)))
            for N, alpha, m_min in points:
                row = mc_point(args.seed, P, N, alpha, *grid["T"], mc, m_min)
                d["mc"] = [r for r in d["mc"] if (r["N"], r["alpha"], r["m_min"]) != (N, alpha, m_min)] + [row]
                derive(d)
                with open(out_json, "w") as fh:
                    json.dump(summary, fh, indent=1)
    changed = False
    for P, d in summary["P"].items():
        derive(d)
        alphas = sorted({r["alpha"] for r in d["mc"]})
        if d.get("theory_points", {}).get("alpha") != alphas:     # RS and 1RSB at the simulated loads
            d["theory_points"] = theory(int(P), alphas, d["mc"][0]["T"][0], with_1rsb="1rsb" in d["theory"])
            changed = True
    if changed:
        with open(out_json, "w") as fh:
            json.dump(summary, fh, indent=1)
    print(table(summary))
    for P, d in summary["P"].items():
        for key, lim in d["limits"].items():
            for a, L in lim.items():
                if L:
                    print(f"P={P} {key} alpha={a}: limit {L['limit']:.4f} +- {L['stat_err']:.4f} (stat) "
                          f"+- {L['sys_err']:.4f} (sys), N = {L['N_used']}")
    os.makedirs(args.fig_dir, exist_ok=True)
    plot(summary, os.path.join(args.fig_dir, "capacity_basin.png"))
    return summary


if __name__ == "__main__":
    main()
