"""Monte Carlo subcommands of the densehebb CLI (mc)."""
from __future__ import annotations

from .cli_common import UsageError, _emit, _finite


def cmd_mc(args):
    import jax

    from montecarlo.run import simulate, summarize

    if args.P != 2:
        raise UsageError(f"Monte Carlo for P = {args.P} is not implemented yet (available: P = 2)")
    if args.burn_in is None:
        args.burn_in = args.sweeps // 2
    ds = simulate(jax.random.PRNGKey(args.seed), N=args.N, alpha=args.alpha, T=(args.T,),
                  n_samples=args.samples, n_replicas=args.replicas, sweeps=args.sweeps, burn_in=args.burn_in,
                  dynamics=args.dynamics, init=args.init, P=args.P, self_interaction=args.self_interaction)
    s = summarize(ds)
    out = {"P": args.P, "N": args.N, "K": int(ds.attrs["K"]), "alpha": args.alpha, "T": args.T,
           "convention": ds.attrs["convention"], "dynamics": args.dynamics, "samples": args.samples,
           "replicas": args.replicas, "sweeps": args.sweeps, "burn_in": args.burn_in, "seed": args.seed}
    out.update({k: float(v) for k, v in s.items() if k in
                ("m", "m_err", "q", "q_err", "energy", "energy_err", "acceptance")})
    if args.theory:
        from theory import ModelSpec, solve

        r = solve(ModelSpec(P=2, self_interaction=args.self_interaction), args.alpha, args.T, "retrieval")
        out["m_theory_rs"] = float(r.m)
    _emit(out, args.json)
    return 0


def register(sub, model_args):
    """Add the Monte Carlo subcommands to the CLI's subparsers."""
    m = sub.add_parser("mc", help="Monte Carlo simulation (Glauber/Metropolis), retrieval overlap etc.")
    model_args(m)
    m.add_argument("--N", type=_finite("N", lo=2, integer=True), required=True, help="number of neurons")
    m.add_argument("--samples", type=_finite("samples", lo=1, integer=True), default=8,
                   help="disorder samples (pattern sets)")
    m.add_argument("--replicas", type=_finite("replicas", lo=2, integer=True), default=2,
                   help="replicas per sample (>= 2 for the overlap q)")
    m.add_argument("--sweeps", type=_finite("sweeps", lo=2, integer=True), default=400)
    m.add_argument("--burn-in", type=_finite("burn-in", lo=1, integer=True), default=None,
                   help="sweeps discarded before measuring (default: sweeps / 2)")
    m.add_argument("--seed", type=_finite("seed", lo=0, integer=True), default=0)
    m.add_argument("--dynamics", choices=("glauber", "metropolis"), default="glauber")
    m.add_argument("--init", choices=("pattern", "random"), default="pattern")
    m.add_argument("--theory", action="store_true", help="also print the RS retrieval overlap m_theory_rs")
    m.set_defaults(func=cmd_mc)


def register_capacity_mc_args(parser):
    """Options of `densehebb capacity --mc` (filled in by the Monte Carlo capacity work, issue 4)."""


def cmd_capacity_mc(args):
    raise UsageError("capacity --mc is not implemented yet")
