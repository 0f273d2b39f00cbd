"""The one Monte Carlo engine: a jitted *segment* of whole sweeps of batched chains, sharded by disorder
sample.  :func:`~montecarlo.run.simulate`, :func:`~montecarlo.anneal.anneal`,
:mod:`montecarlo.capacity` and :mod:`montecarlo.bench` all run their sweeps through :func:`compiled_segment`.

Layout.  Every array of the run state (the *carry* ``(chains, aux, acc)``) has the disorder-sample axis
first; chains are (sample, temperature, replica), the axis order of every Monte Carlo Dataset too.  One
pattern set per sample is shared by all its chains.  The carry is sharded over devices along that first
axis (``jax.shard_map``, :mod:`montecarlo.devices`): nothing couples different samples, so every device runs
the same program on its own samples and the numbers do not depend on the device count.

One sweep of the segment (``lax.fori_loop`` over sweeps, traced length):

1. every chain does one sequential single-spin-flip sweep (:func:`montecarlo.dynamics.batched_step`; the
   T x R chains of a sample are swept together, with identical numbers to vmapping the single-chain step);
2. the run's *plan* (a static, hashable object) does what its protocol needs after the sweep:
   :class:`Sweeps` nothing (capacity runs, benchmark), :class:`montecarlo.observables.Measurements`
   tempering moves and measurements (simulate), :class:`montecarlo.observables.StageAverages` time
   averages over the last sweeps of a stage (anneal).  A plan has ``init_aux(key, n_S)`` (extra per-sample
   state, e.g. the tempering keys), ``init_acc(cfg, n_S)`` (zeroed accumulators) and
   ``after_sweep(cfg, chains, aux, acc, beta, done, sched)`` for one sample (vmapped here).

The schedule ``sched`` (an int64 vector the plan interprets, e.g. burn-in and measurement interval) and
the number of sweeps are traced, so run-length changes do not recompile.  All randomness comes from keys
stored in the carry, so a run split into segments (checkpoints) gives exactly the numbers of an
uninterrupted run.

Initial state (:func:`start`): patterns of sample s from ``fold_in(fold_in(key, 0), s)``; random initial
spins of (s, r) from ``fold_in(fold_in(fold_in(key, 1), s), r)``; chain (s, t, r) from
``fold_in(fold_in(fold_in(fold_in(key, 2), s), r), t)``; the plan's extra state from ``fold_in(key, 3)``.
Learning from examples (``cfg.examples``): the pattern set of sample s is
:func:`montecarlo.patterns.examples` of the run key (archetypes from stream 0 -- the plain patterns of the
same key --, the examples' chi from stream 4), and "pattern" / "patterns" starts use the archetypes.
Diluted patterns (``cfg.examples`` a :class:`montecarlo.learning.DilutedPatterns`): stream 0 as for plain
patterns (:func:`montecarlo.patterns.diluted`), blank start entries filled from the random start.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from . import devices as _devices
from . import learning as _learning
from . import patterns as _patterns
from .dynamics import DYNAMICS, batched_step

INITS = ("pattern", "patterns", "random", "hierarchical")


@dataclass(frozen=True)
class EngineConfig:
    """The chains of a run (static, hashable): N neurons, K patterns, order P, convention, dynamics rule,
    n_T temperatures and n_R replicas per disorder sample; ``examples`` (a :class:`densehebb.Examples`)
    for couplings built from examples (then K counts archetypes); ``plefka``: their Plefka (mean-field)
    flips (:func:`montecarlo.learning.delta_energy_plefka`)."""

    N: int
    K: int
    P: int
    self_interaction: bool
    dynamics: str
    n_T: int
    n_R: int
    examples: object = None
    plefka: bool = False
    wall: int | None = None
    wall_targets: tuple = ()


def make_step(cfg: EngineConfig):
    """Sweep of all chains of one sample: ``step(chains (T, R, ...), xi (N, K), beta (T,))``.

    ``cfg.wall`` (basin constraint): flips that would take the overlap M_t of replica r's target pattern
    t = ``cfg.wall_targets[r]`` below ``cfg.wall`` are rejected (:func:`montecarlo.dynamics.batched_step`)."""
    targets = None
    if cfg.wall is not None:
        targets = tuple(cfg.wall_targets) * cfg.n_T          # flat chain t * R + r -> wall_targets[r]
    stepC = batched_step(cfg.N, cfg.K, cfg.dynamics, cfg.P, cfg.self_interaction, examples=cfg.examples,
                         plefka=cfg.plefka, wall=cfg.wall, targets=targets)
    T, R = cfg.n_T, cfg.n_R

    def step(chains, xi, beta):
        flat = jax.tree.map(lambda x: x.reshape((T * R,) + x.shape[2:]), chains)
        flat = stepC(flat, xi, jnp.repeat(beta, R))
        return jax.tree.map(lambda x: x.reshape((T, R) + x.shape[1:]), flat)

    return step


def make_init(cfg: EngineConfig):
    """``init(keys (T, R), sigma0 (T, R, N), xi (N, K)) -> MCState`` for one sample."""
    init1, _ = DYNAMICS[cfg.dynamics](cfg.N, cfg.K, cfg.P, cfg.self_interaction, examples=cfg.examples,
                                      plefka=cfg.plefka)
    return jax.vmap(jax.vmap(init1, in_axes=(0, 0, None)), in_axes=(0, 0, None))


@dataclass(frozen=True)
class Sweeps:
    """Plan of a run that only sweeps (no measurement inside the loop)."""

    def init_aux(self, key, n_S):
        return None

    def init_acc(self, cfg, n_S):
        return {}

    after_sweep = None


# ------------------------------------------------------------------------------------------ the segment
def segment_fn(cfg: EngineConfig, plan):
    """The un-jitted segment for local samples: ``segment(carry, xi, beta, sched, t0, n)``.

    carry = (chains (S, T, R, ...), aux, acc); xi (S, N, K); beta (T,); sched: the plan's int64 schedule;
    t0 = sweeps already done; n = sweeps to do now.
    """
    step = make_step(cfg)
    sweep = jax.vmap(step, in_axes=(0, 0, None))
    after = plan.after_sweep

    def segment(carry, xi, beta, sched, t0, n):
        def body(k, carry):
            chains, aux, acc = carry
            chains = sweep(chains, xi, beta)
            if after is not None:
                done = t0 + k + 1
                chains, aux, acc = jax.vmap(functools.partial(after, cfg), in_axes=(0, 0, 0, None, None, None))(
                    chains, aux, acc, beta, done, sched)
            return chains, aux, acc

        return jax.lax.fori_loop(0, n, body, carry)

    return segment


@functools.lru_cache(maxsize=32)
def compiled_segment(cfg: EngineConfig, plan, mesh_key):
    """Jitted segment, sharded over the samples axis of the mesh ``mesh_key`` (see devices.mesh_key)."""
    return _devices.shard_over_samples(segment_fn(cfg, plan), mesh_key)


# ------------------------------------------------------------------------------------- initial state
def chain_keys(key, n_samples, n_T, n_replicas):
    """Keys (n_samples, n_T, n_replicas): chain (s, t, r) gets fold_in(fold_in(fold_in(key, s), r), t)."""
    def one(s, t, r):
        return jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(key, s), r), t)
    s, t, r = jnp.meshgrid(jnp.arange(n_samples), jnp.arange(n_T), jnp.arange(n_replicas), indexing="ij")
    return jax.vmap(one)(s.ravel(), t.ravel(), r.ravel()).reshape(n_samples, n_T, n_replicas)


def initial_spins(key, xi, init, n_T, n_replicas):
    """sigma0 (n_samples, n_T, n_replicas, N) int8: "pattern" (pattern 0 of the sample), "patterns"
    (replica r at pattern r mod K), "random" (one configuration per (sample, replica), at every T) or
    "hierarchical" (sigma_i = xi^k_i for the first k with xi^k_i != 0: the T = 0 hierarchical state of
    diluted patterns; pattern 0 for plain patterns).  Blank entries (diluted patterns, xi = 0) of the chosen
    pattern(s) take the spins of the random start (the same draws for every init), so plain patterns start
    exactly where they did before."""
    n_samples, N, K = xi.shape

    def one(s, r):
        k = jax.random.fold_in(jax.random.fold_in(key, s), r)
        return jnp.where(jax.random.bernoulli(k, 0.5, (N,)), 1, -1).astype(jnp.int8)

    s, r = jnp.meshgrid(jnp.arange(n_samples), jnp.arange(n_replicas), indexing="ij")
    rand = jax.vmap(one)(s.ravel(), r.ravel()).reshape(n_samples, n_replicas, N)
    if init == "pattern":
        s0 = jnp.broadcast_to(xi[:, None, :, 0], (n_samples, n_replicas, N))
    elif init == "patterns":
        idx = jnp.arange(n_replicas) % K
        s0 = jnp.moveaxis(xi[:, :, idx], 2, 1)                                   # (S, R, N)
    elif init == "hierarchical":
        first = jnp.argmax(xi != 0, axis=-1)                                     # (S, N); 0 if all blank
        h = jnp.take_along_axis(xi, first[..., None], axis=-1)[..., 0]           # 0 where all are blank
        s0 = jnp.broadcast_to(h[:, None, :], (n_samples, n_replicas, N))
    else:
        s0 = rand
    s0 = jnp.where(s0 != 0, s0, rand)
    return jnp.broadcast_to(s0[:, None], (n_samples, n_T, n_replicas, N)).astype(jnp.int8)


@functools.lru_cache(maxsize=32)
def start(cfg: EngineConfig, plan, init: str, S_pad: int):
    """Jitted ``key -> (xi (S, N, K), carry)`` with Rademacher patterns (one compilation per config); with
    ``cfg.examples`` the example pattern sets (S, N, K, C) of :func:`montecarlo.patterns.examples`, or for
    :class:`~montecarlo.learning.DilutedPatterns` the pattern sets (S, N, K, 2) of
    :func:`montecarlo.patterns.diluted_patterns` (the diluted patterns of sample s drawn from
    ``fold_in(fold_in(key, 0), s)``: for d = 0 the plain patterns of the same key)."""
    def setup(key):
        ex = cfg.examples
        if ex is None:
            xi = _patterns.rademacher(jax.random.fold_in(key, 0), cfg.N, cfg.K, S_pad)
            arche = xi
        elif _learning.is_diluted(ex):
            arche = _patterns.diluted(jax.random.fold_in(key, 0), cfg.N, cfg.K, ex.dilution, S_pad)
            xi = _patterns.diluted_patterns(arche)
        else:
            xi = _patterns.examples(key, cfg.N, cfg.K, ex.M, ex.r, S_pad, ex.supervised,
                                    _learning.archetype_dilution(ex))
            arche = xi[..., 0].astype(jnp.int8)
        sigma0 = initial_spins(jax.random.fold_in(key, 1), arche, init, cfg.n_T, cfg.n_R)
        keys = chain_keys(jax.random.fold_in(key, 2), S_pad, cfg.n_T, cfg.n_R)
        chains = jax.vmap(make_init(cfg))(keys, sigma0, xi)
        return xi, (chains, plan.init_aux(jax.random.fold_in(key, 3), S_pad), plan.init_acc(cfg, S_pad))

    return jax.jit(setup)


def take_samples(tree, n):
    """The first n samples of every leaf (drops the padding samples)."""
    return jax.tree.map(lambda x: x[:n], tree)
