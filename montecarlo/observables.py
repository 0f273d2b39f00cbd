"""What the engine does after each sweep: the plans of :mod:`montecarlo.engine` for simulate and anneal.

:class:`Measurements` (:func:`montecarlo.run.simulate`), per sample, after every sweep:

1. with parallel tempering, every ``swap_every`` sweeps, a round of replica-exchange moves between
   neighbouring temperatures of the same (sample, replica) -- even pairs (0,1), (2,3), ... on even rounds,
   odd pairs on odd rounds -- accepted with probability min(1, exp((beta_k - beta_{k+1})(E_k - E_{k+1}))):
   the configurations (spins and overlaps) move, keys and counters stay with the temperature slot; the
   configurations are followed as walkers and their round trips lowest T -> highest T -> lowest T are
   counted in the measurement phase (:func:`track_walkers`);
2. in the measurement phase, every ``measure_every`` sweeps, the observables are measured and accumulated
   (block sums, P(q) histogram, autocorrelation sums, optional time series).

Schedule ``sched`` = [burn_in, measure_every, n_measurements, swap_every].  The shapes (blocks, lags,
histogram bins, time-series length) are static fields of the plan.

:class:`StageAverages` (:func:`montecarlo.anneal.anneal`): sums of m (pattern 0), |m|, max_mu |m_mu| and
H/N over the last ``n_measure`` sweeps of a stage of ``n_sweeps``; ``sched`` = [n_sweeps, n_measure].
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from . import learning
from .dynamics import MCState
from .energy import energy_from_overlaps

#: time-averaged per-chain observables of simulate (``chain_observables(cfg)`` adds those of examples)
CHAIN_OBSERVABLES = ("m", "m_abs", "energy", "m_max")


def chain_observables(cfg) -> tuple:
    """Per-chain observables measured by :class:`Measurements`: m, m_abs, energy, m_max, and with
    learning from examples n (class-mean overlap of the condensed class), and unsupervised x_max, x_mean
    (largest and mean example overlap x_a of the condensed class)."""
    ex = getattr(cfg, "examples", None)
    if ex is None or learning.is_diluted(ex):
        return CHAIN_OBSERVABLES
    return CHAIN_OBSERVABLES + (("n",) if ex.supervised else ("n", "x_max", "x_mean"))


def _pairs(n_R):
    """Disjoint replica pairs (0, 1), (2, 3), ...: independent overlaps, cost linear in the replicas."""
    a = jnp.arange(0, 2 * (n_R // 2), 2, dtype=jnp.int32)
    return a, a + 1


def q_bin_index(q, N, q_bins):
    """Histogram bin of an overlap q = j' / N: j = (N q + N) / 2 in 0..N, bin = j * q_bins // (N + 1)."""
    j = jnp.round((q * N + N) / 2).astype(jnp.int32)
    return (j * q_bins) // (N + 1)


# ----------------------------------------------------------------------------------- parallel tempering
def swap_sources(accept):
    """Slot each temperature slot takes its configuration from after a round with accepted pairs
    ``accept`` (T-1, R): slot k takes k + 1 and slot k + 1 takes k where the pair (k, k+1) swapped."""
    T = accept.shape[0] + 1
    n_R = accept.shape[1]
    t = jnp.arange(T)[:, None]
    up = jnp.concatenate([accept, jnp.zeros((1, n_R), bool)], axis=0)     # slot k takes k + 1
    down = jnp.concatenate([jnp.zeros((1, n_R), bool), accept], axis=0)   # slot k + 1 takes k
    return jnp.where(up, t + 1, jnp.where(down, t - 1, t))


def track_walkers(walker, heading, trips, accept, count):
    """Follow the configurations ("walkers") of a tempering ladder through one exchange round.

    ``walker`` (T, R): which walker (0..T-1, its starting slot) sits at each slot; ``heading`` (T, R), per
    walker: 0 not yet at the lowest temperature, +1 last extreme visited the lowest T (heading up), -1 has
    since reached the highest T (heading down); ``trips`` (T, R), per walker: completed round trips lowest T
    -> highest T -> lowest T, counted when ``count`` is true (the measurement phase).  Returns the three
    updated arrays."""
    T = walker.shape[0]
    walker = jnp.take_along_axis(walker, swap_sources(accept), axis=0)
    r = jnp.arange(walker.shape[1])
    bottom, top = walker[0], walker[T - 1]                                   # (R,) walker ids
    done = heading[bottom, r] == -1
    trips = trips.at[bottom, r].add(jnp.where(done & count, 1, 0).astype(trips.dtype))
    heading = heading.at[bottom, r].set(1)
    heading = heading.at[top, r].set(jnp.where(heading[top, r] == 1, -1, heading[top, r]))
    return walker, heading, trips


def swap_round(cfg, chains: MCState, key, beta, parity):
    """One replica-exchange round for one sample (chains with leading axes T, R).

    Pairs (k, k+1) with k % 2 == parity; each is accepted with probability
    min(1, exp((beta_k - beta_{k+1}) (E_k - E_{k+1}))), E the exact energies.  Returns (chains, key,
    attempted (T-1, R) bool, accepted (T-1, R) bool).  ``cfg``: the run's
    :class:`montecarlo.engine.EngineConfig`.
    """
    T = cfg.n_T
    key, sub = jax.random.split(key)
    u = jax.random.uniform(sub, (T - 1, cfg.n_R), jnp.float64)
    E = energy_from_overlaps(chains.M, cfg.N, cfg.P, cfg.self_interaction, cfg.examples)       # (T, R)
    k = jnp.arange(T - 1)
    active = (k % 2) == parity
    delta = (beta[:-1] - beta[1:])[:, None] * (E[:-1] - E[1:])
    accept = active[:, None] & (jnp.log(u) < delta)
    src = swap_sources(accept)                                                 # (T, R)
    sigma = jnp.take_along_axis(chains.sigma, src[..., None], axis=0)
    M = jnp.take_along_axis(chains.M, src.reshape(src.shape + (1,) * (chains.M.ndim - 2)), axis=0)
    chains = chains._replace(sigma=sigma, M=M)
    return chains, key, jnp.broadcast_to(active[:, None], accept.shape), accept


# ------------------------------------------------------------------------------------- simulate's plan
@dataclass(frozen=True)
class Measurements:
    """Tempering and measurements of :func:`montecarlo.run.simulate` (static, hashable)."""

    n_blocks: int
    tempering: bool
    n_track: int
    q_bins: int
    max_lag: int
    series_len: int          # 0: no time series
    targets: tuple           # condensed pattern of each replica (Mattis overlap m)
    levels: bool = False     # also the K overlaps |m_mu| sorted descending per measurement (multitasking)

    def init_aux(self, key, n_S):
        """Tempering keys: sample s uses fold_in(key, s)."""
        return jax.vmap(lambda s: jax.random.fold_in(key, s))(jnp.arange(n_S))

    def observe(self, cfg, chains: MCState):
        """Observables of one sample's chains (leading axes T, R): a dict of arrays.

        m (T, R): Mattis overlap with each replica's target pattern; mattis (T, R, n_track): overlaps with
        patterns 0..n_track-1; m_max: max_mu |m_mu|; energy: H/N; q_pairs (T, n_pairs): overlaps of the
        disjoint replica pairs (exact integers / N); with ``levels`` also levels (T, R, K): the |m_mu| sorted
        descending.  Learning from examples: the patterns are the
        archetypes, and n (T, R) is the class-mean overlap of the target class; unsupervised also x_max and
        x_mean (T, R): the largest and the mean example overlap x_a of the target class.
        """
        N = cfg.N
        ex = cfg.examples
        Mi = learning.archetype_overlaps(chains.M, ex).astype(jnp.int32)
        tgt = jnp.asarray(self.targets, jnp.int32)
        m = jnp.take_along_axis(Mi, tgt[None, :, None], axis=-1)[..., 0].astype(jnp.float64) / N
        mattis = Mi[..., : self.n_track].astype(jnp.float64) / N
        m_max = jnp.max(jnp.abs(Mi), axis=-1).astype(jnp.float64) / N
        e = energy_from_overlaps(chains.M, N, cfg.P, cfg.self_interaction, ex) / N
        extra = {}
        if self.levels:     # |m_mu| sorted descending: the amplitudes level by level (hierarchical states)
            extra["levels"] = -jnp.sort(-jnp.abs(Mi), axis=-1).astype(jnp.float64) / N
        if ex is not None and not learning.is_diluted(ex):
            pick = lambda a: jnp.take_along_axis(a, tgt[None, :, None], axis=-1)[..., 0]  # noqa: E731
            extra["n"] = pick(learning.class_overlaps(chains.M, N, ex))
            if not ex.supervised:
                x = jnp.take_along_axis(learning.example_overlaps(chains.M, N, ex.M), tgt[None, :, None, None],
                                        axis=-2)[..., 0, :]                             # (T, R, M)
                extra["x_max"] = jnp.max(x, axis=-1)
                extra["x_mean"] = jnp.mean(x, axis=-1)
        if cfg.n_R // 2:
            a, b = _pairs(cfg.n_R)
            s = chains.sigma.astype(jnp.int32)
            q = jnp.sum(s[:, a, :] * s[:, b, :], axis=-1).astype(jnp.float64) / N
        else:
            q = jnp.zeros((cfg.n_T, 0), jnp.float64)
        return dict(m=m, m_abs=jnp.abs(m), mattis=mattis, m_max=m_max, energy=e, q_pairs=q, **extra)

    def init_acc(self, cfg, n_S):
        """Zeroed accumulators for ``n_S`` samples (leading axis)."""
        S, T, R, B, L = n_S, cfg.n_T, cfg.n_R, self.n_blocks, self.max_lag
        f = lambda *shape: jnp.zeros(shape, jnp.float64)  # noqa: E731
        acc = dict(
            blocks=dict({name: f(S, T, R, B) for name in chain_observables(cfg)}, q=f(S, T, B), q_abs=f(S, T, B)),
            mattis=f(S, T, R, self.n_track),
            qhist=jnp.zeros((S, T, self.q_bins), jnp.int64),
            acc0=jnp.zeros((S, T, R), jnp.int64),
            swap_attempts=jnp.zeros((S, max(T - 1, 0), R), jnp.int64),
            swap_accepted=jnp.zeros((S, max(T - 1, 0), R), jnp.int64),
        )
        if self.tempering and T > 1:   # the walkers of every ladder, for the round trips (track_walkers)
            acc["walker"] = jnp.broadcast_to(jnp.arange(T, dtype=jnp.int32)[None, :, None], (S, T, R))
            acc["heading"] = jnp.zeros((S, T, R), jnp.int8)
            acc["round_trips"] = jnp.zeros((S, T, R), jnp.int64)
        if self.levels:
            acc["levels"] = f(S, T, R, cfg.K, B)
        for name in ("energy", "m"):
            acc["acf_" + name] = dict(first=f(S, T, R, L), ring=f(S, T, R, L), lag=f(S, T, R, L), sq=f(S, T, R))
        if self.series_len:
            n = self.series_len
            acc["series"] = dict(m=f(S, T, R, n), energy=f(S, T, R, n), q=f(S, T, n))
        return acc

    def accumulate(self, cfg, acc, obs, j, n_meas):
        """Add one measurement (index j of n_meas) of one sample (no sample axis) to its accumulators."""
        n_pairs = cfg.n_R // 2
        b = (j * self.n_blocks) // n_meas
        blocks = dict(acc["blocks"])
        for name in chain_observables(cfg):
            blocks[name] = blocks[name].at[..., b].add(obs[name])
        if n_pairs:
            q01 = obs["q_pairs"][:, 0]
            blocks["q"] = blocks["q"].at[..., b].add(q01)
            blocks["q_abs"] = blocks["q_abs"].at[..., b].add(jnp.abs(q01))
            idx = q_bin_index(obs["q_pairs"], cfg.N, self.q_bins)                       # (T, n_pairs)
            onehot = (idx[..., None] == jnp.arange(self.q_bins)).astype(jnp.int64)     # (T, n_pairs, bins)
            qhist = acc["qhist"] + onehot.sum(axis=1)
        else:
            qhist = acc["qhist"]
        out = dict(acc, blocks=blocks, qhist=qhist, mattis=acc["mattis"] + obs["mattis"])
        if self.levels:
            out["levels"] = acc["levels"].at[..., b].add(obs["levels"])
        L = self.max_lag
        lags = jnp.arange(1, L + 1)
        for name in ("energy", "m"):
            a = acc["acf_" + name]
            x = obs[name]
            prev = a["ring"][..., (j - lags) % L]                  # x_{j-k}, k = 1..L
            valid = (j - lags) >= 0
            lag = a["lag"] + jnp.where(valid, x[..., None] * prev, 0.0)
            ring = a["ring"].at[..., j % L].set(x)
            first = jnp.where(j < L, a["first"].at[..., jnp.minimum(j, L - 1)].set(x), a["first"])
            out["acf_" + name] = dict(first=first, ring=ring, lag=lag, sq=a["sq"] + x * x)
        if self.series_len:
            s = acc["series"]
            q01 = obs["q_pairs"][:, 0] if n_pairs else jnp.full((cfg.n_T,), jnp.nan)
            out["series"] = dict(m=s["m"].at[..., j].set(obs["m"]), energy=s["energy"].at[..., j].set(obs["energy"]),
                                 q=s["q"].at[..., j].set(q01))
        return out

    def after_sweep(self, cfg, chains, swap_key, acc, beta, done, sched):
        burn_in, every, n_meas, swap_every = sched[0], sched[1], sched[2], sched[3]
        acc = dict(acc, acc0=jnp.where(done == burn_in, chains.accepted, acc["acc0"]))
        if self.tempering and cfg.n_T > 1:
            def do_swap(args):
                chains, key, acc = args
                parity = (done // swap_every - 1) % 2
                chains, key, att, ok = swap_round(cfg, chains, key, beta, parity)
                w, h, rt = track_walkers(acc["walker"], acc["heading"], acc["round_trips"], ok, done > burn_in)
                acc = dict(acc, swap_attempts=acc["swap_attempts"] + att, swap_accepted=acc["swap_accepted"] + ok,
                           walker=w, heading=h, round_trips=rt)
                return chains, key, acc
            chains, swap_key, acc = jax.lax.cond(done % swap_every == 0, do_swap, lambda a: a,
                                                 (chains, swap_key, acc))
        is_meas = (done > burn_in) & ((done - burn_in) % every == 0)
        j = (done - burn_in) // every - 1

        def measure(acc):
            return self.accumulate(cfg, acc, self.observe(cfg, chains), j, n_meas)

        acc = jax.lax.cond(is_meas, measure, lambda a: a, acc)
        return chains, swap_key, acc


# --------------------------------------------------------------------------------------- anneal's plan
@dataclass(frozen=True)
class StageAverages:
    """Sums over the last ``n_measure`` sweeps of an anneal stage (sched = [n_sweeps, n_measure]) of m
    (overlap with pattern 0), m_abs, m_max (max_mu |m_mu|) and energy (H/N), per chain (T = 1 slot)."""

    def init_aux(self, key, n_S):
        return None

    def init_acc(self, cfg, n_S):
        z = jnp.zeros((n_S, cfg.n_T, cfg.n_R), jnp.float64)
        return dict(m0=z, m_abs=z, m_max=z, energy=z)

    def after_sweep(self, cfg, chains, aux, acc, beta, done, sched):
        N = cfg.N
        Mi = chains.M.astype(jnp.int32)
        obs = dict(m0=Mi[..., 0] / N, m_abs=jnp.abs(Mi[..., 0]) / N, m_max=jnp.max(jnp.abs(Mi), axis=-1) / N,
                   energy=energy_from_overlaps(chains.M, N, cfg.P, cfg.self_interaction) / N)
        on = done > sched[0] - sched[1]
        acc = {name: acc[name] + jnp.where(on, obs[name], 0.0) for name in acc}
        return chains, aux, acc


# ------------------------------------------------------------------------------------ the loss link
def squared_error_loss(m, nonblank, gauge=True):
    """Sum-of-squared-errors loss of a state against each pattern (docs/montecarlo.md "The loss link"):

        L_mu = (1/2N) sum_i (xi^mu_i - s sigma_i (xi^mu_i)^2)^2 = c_mu - s m_mu,

    the squared distance between the state and pattern mu over the pattern's non-blank entries (blank
    entries carry no target), c_mu = (number of non-blank entries)/N (1 for dense patterns), m_mu the
    (unnormalised) Mattis overlap.  ``gauge=True``: s = sign(m_mu), the distance to the nearer of +-xi^mu
    (for even P the energy cannot tell sigma from -sigma), so L_mu = c_mu - |m_mu|; ``gauge=False``: s = 1.
    ``m`` (..., K), ``nonblank`` (K,); returns (per-pattern L (..., K), total sum_mu L_mu (...))."""
    m = jnp.asarray(m, jnp.float64)
    L = jnp.asarray(nonblank, jnp.float64) - (jnp.abs(m) if gauge else m)
    return L, jnp.sum(L, axis=-1)


def loss_trajectory(key, model, N: int, K: int, T: float = 0.0, sweeps: int = 30, dynamics: str = "greedy",
                    gauge: bool = True):
    """Energy and loss along one chain from a random start, sweep by sweep (the loss link).

    The patterns are drawn as :func:`montecarlo.simulate` draws sample 0 of ``key`` (diluted patterns, or
    examples of -- possibly diluted -- archetypes, ``model.examples``; the loss is taken against the
    archetypes), the chain starts from a random configuration and runs ``sweeps`` sequential sweeps of
    ``dynamics`` at temperature T (T = 0: greedy strict descent by default).  Returns a dict of NumPy
    arrays over sweeps 0..sweeps: energy (H/N, exact), loss (total :func:`squared_error_loss`), loss_mu
    (per pattern), m (the K archetype overlaps), and the names of the dynamics and of the loss."""
    from densehebb.theory.precision import x64

    return x64(_loss_trajectory)(key, model, N, K, T, sweeps, dynamics, gauge)


def _loss_trajectory(key, model, N, K, T, sweeps, dynamics, gauge):
    import numpy as np

    from . import patterns as _patterns
    from .dynamics import DYNAMICS, run_sweeps, state_energy
    from .inputs import as_key, check_model

    model = check_model(model, examples=True, dilution=True)
    key, _ = as_key(key)
    P, si, d = model.P, model.self_interaction, float(model.dilution)
    if model.examples is None:
        ex = learning.DilutedPatterns(d)
        W = _patterns.diluted_patterns(_patterns.diluted(jax.random.fold_in(key, 0), N, K, d, 1))[0]
    else:
        e0 = model.examples
        ex = learning.DilutedExamples(e0, d) if d else e0
        W = _patterns.examples(key, N, K, e0.M, e0.r, 1, e0.supervised, d)[0]
    nonblank = np.asarray(jnp.mean(W[..., 0] != 0, axis=0), float)
    init, step = DYNAMICS[dynamics](N, K, P, si, examples=ex)
    sigma0 = jnp.where(jax.random.bernoulli(jax.random.fold_in(key, 1), 0.5, (N,)), 1, -1).astype(jnp.int8)
    st = init(jax.random.fold_in(key, 2), sigma0, W)
    beta = jnp.inf if T == 0 else 1.0 / float(T)
    one = jax.jit(lambda s: run_sweeps(step, s, W, beta, 1))
    E, m = [], []
    for t in range(sweeps + 1):
        if t:
            st = one(st)
        E.append(float(state_energy(st, N, P, si, ex)) / N)
        m.append(np.asarray(learning.archetype_overlaps(st.M, ex), float) / N)
    m = np.array(m)
    Lmu, L = squared_error_loss(m, nonblank, gauge)
    return {"energy": np.array(E), "loss": np.asarray(L), "loss_mu": np.asarray(Lmu), "m": m,
            "nonblank": nonblank, "dynamics": dynamics, "T": float(T),
            "loss_def": "L = sum_mu (c_mu - " + ("|m_mu|" if gauge else "m_mu") + "), c_mu = non-blank fraction"}
