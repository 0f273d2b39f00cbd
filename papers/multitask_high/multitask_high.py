"""Multitasking at high storage (diluted patterns, K = alpha N^(P-1), RS theory): capacities and one Monte Carlo point.

    python papers/multitask_high/multitask_high.py [--part table|mc|all] [--out-dir DIR] [--quick]

Table (T = 0, distinct indices): the end alpha_c of the pure state (n = 1), of the hierarchical states with n = 2
and 3 condensed patterns and of the parallel state with n = 2, for P = 3, 4 and several dilutions d
(theory.multitask_high.state_capacity: continuation in alpha, existence bisection, fold Newton), with the
closed forms alpha_c(pure) = (1-d)^(P-2) alpha_c(0) and alpha_c(hierarchical n) ~ d^(2(n-1)(P-1)) alpha_c(pure),
and the smallest eigenvalue of the reduced Hessian in m halfway to alpha_c (> 0: the amplitudes are stable).

Monte Carlo (P = 3, d = 0.3, alpha = 0.03, T = 0.05; N = 300, 400 (8 samples x 200 sweeps) and 600 (4 x 120),
Glauber from pattern 0):
the aligned fraction of the pattern's non-blank sites m_s / f_s (f_s: the sample's non-blank fraction,
regenerated from the run's PRNG stream) and the replica overlap q against the RS m / (1 - d) and q; samples
whose chains left the pattern (m_s / f_s < 1/2, finite-size escapes) are counted and left out.

Writes multitask_high.json into DIR (default papers/multitask_high/out; the committed run, about 7 minutes on
2 loaded cores: figures/multitask_high.json, quoted in docs/theory.md "Multitasking at high storage").
Unnormalised overlaps (docs/conventions.md "Diluted patterns"); distinct indices; Glauber dynamics.
"""
import argparse
import json
import math
import os
import time

import numpy as np


def table(quick=False):
    from densehebb import Model
    from densehebb.theory import multitask_high as mh

    rows = []
    Ps = (3,) if quick else (3, 4)
    ds = (0.3, 0.5) if quick else (0.1, 0.3, 0.5, 0.7, 0.8)
    states = (("pure", 1), ("hierarchical", 2), ("parallel", 2)) if quick else \
        (("pure", 1), ("hierarchical", 2), ("hierarchical", 3), ("parallel", 2))
    ac0 = {P: mh.state_capacity(Model(P=P), 1, 0.0, "pure").alpha_c for P in Ps}
    for P in Ps:
        for d in ds:
            model = Model(P=P, dilution=d)
            pure = None
            for state, n in states:
                t0 = time.time()
                c = mh.state_capacity(model, n, 0.0, state)
                ac = float(c.alpha_c)
                if state == "pure":
                    pure = ac
                half = mh.solve_state(model, n, 0.5 * ac, 0.0, state) if np.isfinite(ac) else None
                closed = (1 - d) ** (P - 2) * ac0[P] if state == "pure" else \
                    (d ** (2 * (n - 1) * (P - 1)) * pure if state == "hierarchical" else float("nan"))
                row = {"P": P, "d": d, "state": state, "n": n, "alpha_c": ac, "closed_form": closed,
                       "m_c": [float(x) for x in np.atleast_1d(c.m_c)], "status": str(c.status),
                       "ended": c.values.get("ended", ""),
                       "found_at_half": half.found if half is not None and half.converged else "",
                       "min_hessian_eigenvalue_at_half": float(half.min_hessian_eigenvalue)
                       if half is not None else float("nan"), "seconds": round(time.time() - t0, 1)}
                rows.append(row)
                print(json.dumps(row), flush=True)
    return {"alpha_c_d0": {str(P): ac0[P] for P in Ps}, "rows": rows}


def mc(quick=False, seed=7):
    import jax

    from densehebb import Model, solve
    from densehebb.montecarlo import simulate
    from densehebb.montecarlo.patterns import diluted

    P, d, alpha, T = 3, 0.3, 0.03, 0.05
    th = solve(Model(P=P, dilution=d), alpha, T)
    out = {"P": P, "dilution": d, "alpha": alpha, "T": T, "dynamics": "glauber", "init": "pattern",
           "convention": "distinct-indices", "overlaps": "unnormalised",
           "theory": {"m": th.m, "m_over_1_minus_d": th.m / (1 - d), "q": th.q, "replicon": th.replicon,
                      "status": str(th.status)}, "runs": []}
    for N, ns, sweeps in (((300, 4, 100),) if quick else ((300, 8, 200), (400, 8, 200), (600, 4, 120))):
        t0 = time.time()
        ds = simulate(seed, Model(P=P, dilution=d), N=N, alpha=alpha, T=T, n_samples=ns, n_replicas=2,
                      sweeps=sweeps, burn_in=sweeps // 4, levels=False)
        K = int(ds.attrs["K"])
        with jax.enable_x64(True):
            xi0 = np.asarray(diluted(jax.random.fold_in(jax.random.key(seed), 0), N, K, d, ns))[:, :, 0]
        f_s = (xi0.astype(float) ** 2).mean(1)
        m = ds["m"].values[:, 0, :].mean(-1)
        q = ds["q"].values[:, 0]
        u = m / f_s
        keep = u > 0.5
        se = lambda x: float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else float("nan")  # noqa: E731
        run = {"N": N, "K": K, "samples": ns, "sweeps": sweeps, "burn_in": sweeps // 4,
               "escaped_samples": int((~keep).sum()), "m_over_f": float(u[keep].mean()), "m_over_f_err": se(u[keep]),
               "q": float(q[keep].mean()), "q_err": se(q[keep]), "m_over_f_per_sample": u.tolist(),
               "q_per_sample": q.tolist(), "seconds": round(time.time() - t0, 1)}
        out["runs"].append(run)
        print(json.dumps(run), flush=True)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("table", "mc", "all"), default="all")
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    ap.add_argument("--quick", action="store_true", help="fewer points, one smaller Monte Carlo run")
    args = ap.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    res = {}
    if args.part in ("table", "all"):
        res["table"] = table(args.quick)
    if args.part in ("mc", "all"):
        res["mc"] = mc(args.quick)
    path = os.path.join(args.out_dir, f"multitask_high{'_' + args.part if args.part != 'all' else ''}.json")
    with open(path, "w") as fh:
        json.dump(res, fh, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
