"""Hysteresis of the first-order low-storage retrieval transition, P = 4: heating and cooling Monte Carlo
against the theory's spinodal and thermodynamic temperatures.

    python papers/mc_hysteresis/hysteresis.py [--out-dir papers/mc_hysteresis/out] [--quick]

Model: P = 4, K = 3 patterns (low storage: K finite), distinct-indices energy
H = -(1/N^3) sum_mu e_4(xi^mu sigma) (``--self-interaction``: all tuples), Glauber sequential sweeps
(montecarlo.anneal: the state is carried from one temperature to the next).

* Heating: every chain starts at pattern 0 (m = 1) at T = 0.040; T is raised in steps of dT.
* Cooling: every chain starts at random spins (m ~ N^-1/2) at T = 0.110; T is lowered in steps of dT.

At each temperature ``--sweeps`` sweeps, the last ``--measure`` of them time-averaged.  A chain retrieves if
the time average of max_mu |m_mu| is >= 0.5; T_loss(N) (heating) and T_gain(N) (cooling) are where the
fraction of retrieving chains crosses 1/2 (linear interpolation; errors by bootstrap over disorder samples).

Theory (theory.low_storage, K finite, both conventions agree): Mattis states exist below
T_spinodal = 0.082631 and have a lower free energy than the paramagnet below T_thermodynamic = 0.060492.
For P >= 3 the paramagnet m = 0 stays locally stable at every T > 0, so a cooling run has to cross a
free-energy barrier of order N: it should retrieve only below T_thermodynamic, and ever later as N grows.
Near the spinodal the barrier of the Mattis state vanishes like N (T_spinodal - T)^(3/2), so a heating
run of fixed length loses the pattern at T_spinodal - T_loss(N) ~ N^(-2/3); the script fits
T_loss(N) = T_inf - a N^(-2/3) and compares T_inf with T_spinodal.

Writes hysteresis.nc (all runs, theory temperatures and fit in the attributes), hysteresis.png and
hysteresis_summary.json into --out-dir; the committed figure is figures/hysteresis.png.  Plain temperature
T = 1/beta (the toolkit's convention).  About 2-3 minutes on 2 cores (--quick: about 20 s).
"""
import argparse
import json
import os
import sys
import time


def _all_cores():
    """One XLA host device per core before JAX starts (results do not depend on it); a user's XLA_FLAGS
    device count is respected."""
    flags = os.environ.get("XLA_FLAGS", "")
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if "jax" not in sys.modules and "xla_force_host_platform_device_count" not in flags and n > 1:
        os.environ["XLA_FLAGS"] = (flags + f" --xla_force_host_platform_device_count={n}").strip()


def _crossings(ds, threshold, rng, n_boot, crossing_temperature):
    """Crossing temperature of the retrieving fraction (densehebb.montecarlo.crossing_temperature) and its
    bootstrap error over disorder samples.  Returns (T_cross, T_err)."""
    import numpy as np

    Tc, _ = crossing_temperature(ds, threshold)
    S = ds.sizes["sample"]
    boots = np.asarray([crossing_temperature(ds.isel(sample=rng.integers(0, S, S)), threshold)[0]
                        for _ in range(n_boot)])
    err = float(np.nanstd(boots, ddof=1)) if np.isfinite(Tc) and np.isfinite(boots).sum() > 2 else np.nan
    return float(Tc), err


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    ap.add_argument("--N", default="128,256,512,1024,2048", help="system sizes, comma-separated")
    ap.add_argument("--K", type=int, default=3, help="number of patterns (finite)")
    ap.add_argument("--samples", type=int, default=8, help="disorder samples (pattern sets)")
    ap.add_argument("--replicas", type=int, default=4, help="chains per sample")
    ap.add_argument("--sweeps", type=int, default=400, help="sweeps per temperature")
    ap.add_argument("--measure", type=int, default=200, help="last sweeps of each temperature averaged")
    ap.add_argument("--dT", type=float, default=0.002, help="temperature step")
    ap.add_argument("--threshold", type=float, default=0.5, help="retrieval: time-averaged max|m_mu| >= this")
    ap.add_argument("--self-interaction", action="store_true", help="all-tuples energy convention")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="N = 64, 128, 256, fewer chains and sweeps (~20 s)")
    args = ap.parse_args(argv)
    if args.quick:
        args.N, args.samples, args.replicas, args.sweeps, args.measure, args.dT = "64,128,256", 4, 2, 200, 100, 0.004
    Ns = [int(v) for v in args.N.split(",")]
    os.makedirs(args.out_dir, exist_ok=True)

    _all_cores()
    import jax
    import matplotlib
    import numpy as np
    import xarray as xr

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import densehebb as dh
    from densehebb.montecarlo import crossing_temperature
    from densehebb.theory.low_storage import solve_mixture, temperature_of_amplitude, transitions
    from densehebb.theory.provenance import dataset_attrs, describe_variables

    P = 4
    model = dh.Model(P=P, convention="all-tuples" if args.self_interaction else "distinct-indices")
    low = model.replace(storage="low")       # the theory of K finite (both conventions agree there)
    t_start = time.time()
    tr = transitions(low)
    T_sp, T_th = tr.T_spinodal, tr.T_thermodynamic

    T_heat = np.round(np.arange(0.040, 0.110 + 1e-9, args.dT), 6)
    T_cool = np.round(np.arange(0.110, args.dT / 2, -args.dT), 6)
    key = jax.random.key(args.seed)
    rng = np.random.default_rng(args.seed)
    runs = {}
    rows = []
    for N in Ns:
        t0 = time.time()
        common = dict(N=N, K=args.K, n_samples=args.samples, n_replicas=args.replicas, sweeps_per_T=args.sweeps,
                      measure=args.measure)
        heat = dh.anneal(jax.random.fold_in(jax.random.fold_in(key, N), 0), model, T=T_heat, init="pattern", **common)
        cool = dh.anneal(jax.random.fold_in(jax.random.fold_in(key, N), 1), model, T=T_cool, init="random", **common)
        runs[N] = (heat, cool)
        Tl, Tl_err = _crossings(heat, args.threshold, rng, 200, crossing_temperature)
        Tg, Tg_err = _crossings(cool, args.threshold, rng, 200, crossing_temperature)
        rows.append(dict(N=N, T_loss=Tl, T_loss_err=Tl_err, T_gain=Tg, T_gain_err=Tg_err, N_times_T_gain=N * Tg,
                         seconds=time.time() - t0))
        print(f"N = {N:5d}: heating loses retrieval at T = {Tl:.4f} +- {Tl_err:.4f}, cooling acquires it at "
              f"T = {Tg:.4f} +- {Tg_err:.4f}  ({time.time() - t0:.0f} s)", file=sys.stderr)

    # finite-size fit of the heating transition: T_loss(N) = T_inf - a N^(-2/3)
    N_arr = np.array([r["N"] for r in rows], float)
    Tl = np.array([r["T_loss"] for r in rows])
    Tl_err = np.array([r["T_loss_err"] for r in rows])
    ok = np.isfinite(Tl)
    fit = {"form": "T_loss(N) = T_inf - a N^(-2/3)", "T_inf": np.nan, "T_inf_err": np.nan, "a": np.nan,
           "chi2_dof": np.nan}
    if ok.sum() >= 3:
        sig = np.maximum(np.where(np.isfinite(Tl_err), Tl_err, args.dT), args.dT / 4)[ok]
        X = np.stack([np.ones(ok.sum()), -N_arr[ok] ** (-2 / 3)], axis=1)
        W = 1 / sig**2
        cov = np.linalg.inv(X.T @ (X * W[:, None]))
        beta = cov @ (X.T @ (W * Tl[ok]))
        res = (Tl[ok] - X @ beta) / sig
        dof = max(ok.sum() - 2, 1)
        fit.update(T_inf=float(beta[0]), T_inf_err=float(np.sqrt(cov[0, 0])), a=float(beta[1]),
                   chi2_dof=float(res @ res / dof))
    # with T_inf fixed at the theory's T_spinodal: the exponent x of T_spinodal - T_loss(N) ~ N^-x (expect 2/3)
    gap = T_sp - Tl
    good = ok & (gap > 0)
    if good.sum() >= 2:
        sl = np.maximum(np.where(np.isfinite(Tl_err), Tl_err, args.dT), args.dT / 4)[good] / gap[good]
        X = np.stack([np.ones(good.sum()), np.log(N_arr[good])], axis=1)
        W = 1 / sl**2
        cov = np.linalg.inv(X.T @ (X * W[:, None]))
        beta = cov @ (X.T @ (W * np.log(gap[good])))
        fit.update(exponent_with_T_spinodal=float(-beta[1]), exponent_err=float(np.sqrt(cov[1, 1])))

    # ---- theory curves: stable (upper) Mattis branch up to the spinodal, unstable branch below it
    T_up = np.linspace(0.03, T_sp * (1 - 1e-9), 120)
    m_up = np.array([solve_mixture(low, t).m for t in T_up])
    m_low = np.linspace(0.05, tr.m_spinodal, 80)
    T_low = np.array([temperature_of_amplitude(m, P) for m in m_low])

    # ---- dataset
    def stack(name, which):
        return np.stack([runs[N][which][name].values for N in Ns])

    conv = runs[Ns[0]][0].attrs["convention"]
    data = {}
    for which, tag in ((0, "heat"), (1, "cool")):
        dims = ("N", "sample", f"step_{tag}", "replica")
        for name in ("m", "m_abs", "m_max", "m_max_final", "energy"):
            data[f"{name}_{tag}"] = (dims, stack(name, which), dict(runs[Ns[0]][which][name].attrs,
                                                                    protocol="heating" if tag == "heat" else "cooling"))
    data["T_loss"] = (("N",), Tl, {"long_name": "heating run: T where half of the chains have lost the pattern",
                                   "units": "coupling units"})
    data["T_loss_err"] = (("N",), Tl_err, {"long_name": "bootstrap error (disorder samples)", "units": "coupling units"})
    data["T_gain"] = (("N",), np.array([r["T_gain"] for r in rows]),
                      {"long_name": "cooling run: T where half of the chains retrieve a pattern (NaN: never)",
                       "units": "coupling units"})
    data["T_gain_err"] = (("N",), np.array([r["T_gain_err"] for r in rows]),
                          {"long_name": "bootstrap error (disorder samples)", "units": "coupling units"})
    coords = {"N": ("N", np.array(Ns)), "T_heat": (("step_heat",), T_heat, {"units": "coupling units"}),
              "T_cool": (("step_cool",), T_cool, {"units": "coupling units"})}
    attrs = dataset_attrs(low, script="papers/mc_hysteresis/hysteresis.py", K=args.K, dynamics="glauber",
                          sweeps_per_T=args.sweeps, measured_sweeps_per_T=args.measure, n_samples=args.samples,
                          n_replicas=args.replicas, retrieval_threshold=args.threshold, seed=args.seed,
                          T_spinodal_theory=T_sp, T_thermodynamic_theory=T_th, fit_form=fit["form"],
                          fit_T_inf=fit["T_inf"], fit_T_inf_err=fit["T_inf_err"], fit_chi2_dof=fit["chi2_dof"],
                          fit_exponent_with_T_spinodal=fit.get("exponent_with_T_spinodal", np.nan))
    attrs.pop("ansatz", None)
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    describe_variables(ds, {"N": ("1", "number of neurons"), "T_heat": ("coupling units", "temperature of the heating stage"),
                            "T_cool": ("coupling units", "temperature of the cooling stage")})
    nc = os.path.join(args.out_dir, "hysteresis.nc")
    ds.to_netcdf(nc)

    # ---- figure
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 6), gridspec_kw={"width_ratios": [1.5, 1]})
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(Ns)))
    for c, N in zip(colors, Ns):
        heat, cool = runs[N]
        ax.plot(T_heat, heat["m_max"].mean(("sample", "replica")), "-o", ms=2.5, color=c, label=f"N = {N} heating")
        ax.plot(T_cool, cool["m_max"].mean(("sample", "replica")), "--", color=c, lw=1.2, label=f"N = {N} cooling")
    ax.plot(T_up, m_up, "k-", lw=2, alpha=0.7, label="theory: Mattis state")
    ax.plot(T_low, m_low, "k:", lw=1.5, alpha=0.7, label="theory: unstable branch")
    for t, name, ls in ((T_th, "T_thermodynamic", "--"), (T_sp, "T_spinodal", ":")):
        ax.axvline(t, color="crimson", ls=ls, lw=1.2)
        ax.text(t, 0.5, f" {name}\n {t:.4f}", color="crimson", fontsize=8, rotation=90, va="center", ha="right")
    ax.set_xlim(0, 0.11)
    ax.set_ylim(0, 1.03)
    ax.set_xlabel("temperature T (plain, T = 1/beta)")
    ax.set_ylabel("max_mu |m_mu|  (mean over chains)")
    ax.legend(fontsize=7, ncol=3, loc="upper left", bbox_to_anchor=(-0.02, -0.14), frameon=False)
    ax.set_title(f"P = 4, K = {args.K}, {conv}: heating (from a pattern) vs cooling (from random)", fontsize=9)

    bx.axhline(T_sp, color="crimson", ls=":", label=f"T_spinodal = {T_sp:.4f}")
    bx.axhline(T_th, color="crimson", ls="--", label=f"T_thermodynamic = {T_th:.4f}")
    bx.errorbar(N_arr, Tl, yerr=np.nan_to_num(Tl_err), fmt="o", color="C0", capsize=3, label="heating: T_loss(N)")
    Tg = np.array([r["T_gain"] for r in rows])
    Tg_err = np.array([r["T_gain_err"] for r in rows])
    got = np.isfinite(Tg)
    bx.errorbar(N_arr[got], Tg[got], yerr=np.nan_to_num(Tg_err[got]), fmt="s", color="C1", capsize=3,
                label="cooling: T_gain(N)")
    for n in N_arr[~got]:
        bx.annotate("", xy=(n, 0.0), xytext=(n, 0.012), arrowprops=dict(arrowstyle="->", color="C1"))
    if (~got).any():
        bx.plot([], [], "v", color="C1", label=f"cooling: no retrieval down to T = {T_cool[-1]:g}")
    if np.isfinite(fit["T_inf"]):
        nn = np.geomspace(N_arr.min() / 1.5, N_arr.max() * 8, 100)
        bx.plot(nn, fit["T_inf"] - fit["a"] * nn ** (-2 / 3), color="C0", lw=1,
                label=f"fit T_inf - a N^-2/3: T_inf = {fit['T_inf']:.4f} +- {fit['T_inf_err']:.4f}")
    if "exponent_with_T_spinodal" in fit:
        bx.plot([], [], " ", label=f"T_spinodal - T_loss ~ N^-x: x = {fit['exponent_with_T_spinodal']:.2f} "
                                   f"+- {fit['exponent_err']:.2f} (expect 2/3)")
    bx.set_xscale("log")
    bx.set_ylim(0, 0.1)
    bx.set_xlabel("N")
    bx.set_ylabel("T where half of the chains (lose | gain) retrieval")
    bx.legend(fontsize=7, loc="upper left", bbox_to_anchor=(-0.02, -0.14), ncol=1, frameon=False)
    bx.set_title(f"Glauber, {args.sweeps} sweeps per T (last {args.measure} averaged), "
                 f"{args.samples}x{args.replicas} chains", fontsize=9)
    fig.tight_layout()
    png = os.path.join(args.out_dir, "hysteresis.png")
    fig.savefig(png, dpi=130)

    summary = dict(P=P, K=args.K, convention=conv, T_spinodal_theory=T_sp, T_thermodynamic_theory=T_th,
                   sizes=rows, fit=fit, sweeps_per_T=args.sweeps, measured_sweeps_per_T=args.measure,
                   samples=args.samples, replicas=args.replicas, dT=args.dT, threshold=args.threshold,
                   seconds=time.time() - t_start, netcdf=os.path.relpath(nc), png=os.path.relpath(png))
    summary = json.loads(json.dumps(summary, default=float).replace("NaN", "null"))
    with open(os.path.join(args.out_dir, "hysteresis_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
