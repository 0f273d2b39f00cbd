"""Heating and cooling runs: chains carried through a temperature schedule (hysteresis of first-order
transitions).

:func:`anneal` runs every chain through the temperatures ``T[0], T[1], ...`` *in the given order*, the
state at the end of one stage being the start of the next (unlike :func:`montecarlo.simulate`, where every
temperature starts afresh).  An increasing schedule started at a pattern is a heating run, a decreasing one
started at random spins a cooling run.  At each stage the chains do ``sweeps_per_T`` sequential sweeps; the
last ``measure`` of them are measured (after every sweep) and time-averaged.

Chains: (disorder sample, replica); one Rademacher pattern set per sample, shared by its replicas, sharded
over devices by sample exactly like :func:`montecarlo.simulate` (same stream layout for patterns, initial
spins and chain keys as a one-temperature :func:`simulate`, so results do not depend on the device count).
The dynamics, energies and conventions are those of :mod:`montecarlo.dynamics` (exact O(K) flips, any
P = 2..8, both conventions).
"""
from __future__ import annotations

import functools
import math
import time

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from . import devices as _devices
from . import patterns as _patterns
from .dynamics import DYNAMICS, batched_step
from .energy import check_order, energy_from_overlaps
from .polynomials import flip_plan
from .run import VERSION, _as_int, _as_key, _chain_keys, _convention_name, _initial_spins

INITS = ("pattern", "random")


@functools.lru_cache(maxsize=16)
def _stage_fn(N, K, P, self_interaction, dynamics, n_R, mesh_key):
    """jit(shard_map) of one stage: ``stage(chains (S, R, ...), xi (S, N, K), beta, n_sweeps, n_measure)``.

    Returns (chains, observables) with observables summed over the measured sweeps: m0 (overlap with
    pattern 0), m_abs (|m0|), m_max (max_mu |m_mu|), energy (H/N), all (S, R), and the final m_max (S, R).
    """
    step = batched_step(N, K, dynamics, P, self_interaction)

    def one_sample(chains, xi, beta, n_sweeps, n_measure):
        betas = jnp.full((n_R,), beta, jnp.float64)
        zero = jnp.zeros((n_R,), jnp.float64)

        def body(k, carry):
            chains, acc = carry
            chains = step(chains, xi, betas)
            Mi = chains.M.astype(jnp.int32)
            obs = dict(m0=Mi[:, 0] / N, m_abs=jnp.abs(Mi[:, 0]) / N, m_max=jnp.max(jnp.abs(Mi), axis=-1) / N,
                       energy=energy_from_overlaps(chains.M, N, P, self_interaction) / N)
            on = k >= n_sweeps - n_measure
            acc = {name: acc[name] + jnp.where(on, obs[name], 0.0) for name in acc}
            return chains, acc

        acc0 = dict(m0=zero, m_abs=zero, m_max=zero, energy=zero)
        chains, acc = jax.lax.fori_loop(0, n_sweeps, body, (chains, acc0))
        acc["m_max_final"] = jnp.max(jnp.abs(chains.M.astype(jnp.int32)), axis=-1) / N
        return chains, acc

    def stage(chains, xi, beta, n_sweeps, n_measure):
        return jax.vmap(one_sample, in_axes=(0, 0, None, None, None))(chains, xi, beta, n_sweeps, n_measure)

    return _devices.shard_over_samples(stage, mesh_key)


def anneal(key, N, K, T, *, P=4, self_interaction=False, n_samples=4, n_replicas=2, sweeps_per_T=200,
           measure=100, init="pattern", dynamics="glauber", devices=None, progress=None):
    """Run chains through the temperatures ``T`` in the given order, carrying the state between stages.

    Parameters
    ----------
    key : int or JAX PRNG key
    N, K : int
        Neurons and patterns (low storage: K finite; any K >= 1 works).
    T : sequence of float
        The schedule, visited in order (increasing: heating; decreasing: cooling).  Temperatures >= 0.
    P, self_interaction : interaction order 2..8 and energy convention (default distinct indices).
    n_samples, n_replicas : disorder samples (pattern sets) and chains per sample.
    sweeps_per_T, measure : sweeps per stage and how many of its last sweeps are measured.
    init : "pattern" (every chain at pattern 0, m = 1) or "random" (i.i.d. +-1 spins).
    dynamics : "glauber" or "metropolis".
    devices : as in :func:`montecarlo.simulate` (default all visible; results do not depend on it).
    progress : callable(stage_index, T, seconds) called after each stage, or None.

    Returns
    -------
    xarray.Dataset with dims (step, sample, replica) and coordinate ``T`` along ``step``:
    m (overlap with pattern 0), m_abs, m_max (max over patterns of |m_mu|; the retrieval order parameter
    of a cooling run, which may condense on any pattern or its negative), energy (H/N) -- time averages
    over the measured sweeps of each stage -- and m_max_final (at the end of the stage).
    """
    P = check_order(_as_int("P", P, 2), self_interaction)
    N = _as_int("N", N, 2)
    K = _as_int("K", K, 1)
    temps = np.asarray(T, dtype=np.float64).ravel()
    if temps.size == 0 or not np.all(np.isfinite(temps)) or np.any(temps < 0):
        raise ValueError(f"T must be a non-empty sequence of finite temperatures >= 0, got {T!r}")
    n_samples = _as_int("n_samples", n_samples, 1)
    n_replicas = _as_int("n_replicas", n_replicas, 1)
    sweeps_per_T = _as_int("sweeps_per_T", sweeps_per_T, 1)
    measure = _as_int("measure", measure, 1)
    if measure > sweeps_per_T:
        raise ValueError(f"measure ({measure}) must be <= sweeps_per_T ({sweeps_per_T})")
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; available: {list(INITS)}")
    if dynamics not in ("glauber", "metropolis"):
        raise ValueError(f"dynamics must be 'glauber' or 'metropolis', got {dynamics!r}")
    key, seed_attr = _as_key(key)
    plan = flip_plan(P, bool(self_interaction), N, K)

    mkey = _devices.mesh_key(devices)
    S_pad = _devices.padded_samples(n_samples, mkey)
    xi = _patterns.rademacher(jax.random.fold_in(key, 0), N, K, S_pad)
    sigma0 = _initial_spins(jax.random.fold_in(key, 1), xi, init, 1, n_replicas)[:, 0]      # (S, R, N)
    keys = _chain_keys(jax.random.fold_in(key, 2), 1, S_pad, n_replicas)[:, 0]            # (S, R)
    init1, _ = DYNAMICS[dynamics](N, K, P, bool(self_interaction))
    chains = jax.vmap(jax.vmap(init1, in_axes=(0, 0, None)))(keys, sigma0, xi)
    chains = _devices.put_samples(chains, mkey)
    xi = _devices.put_samples(xi, mkey)
    stage = _stage_fn(N, K, P, bool(self_interaction), dynamics, n_replicas, mkey)

    rows = []
    for i, t in enumerate(temps):
        t0 = time.monotonic()
        beta = jnp.asarray(np.inf if t == 0 else 1.0 / t, jnp.float64)
        chains, acc = stage(chains, xi, beta, jnp.asarray(sweeps_per_T, jnp.int32), jnp.asarray(measure, jnp.int32))
        rows.append(_devices.to_host(acc))
        if progress is not None:
            progress(i, float(t), time.monotonic() - t0)

    dims = ("step", "sample", "replica")
    one = {"units": "1"}
    stack = lambda name: np.stack([np.asarray(r[name])[:n_samples] for r in rows])  # noqa: E731
    data = {
        "m": (dims, stack("m0") / measure, {"long_name": "Mattis overlap with pattern 0, time average", **one}),
        "m_abs": (dims, stack("m_abs") / measure, {"long_name": "|Mattis overlap with pattern 0|, time average",
                                                   **one}),
        "m_max": (dims, stack("m_max") / measure, {"long_name": "max over patterns of |m_mu|, time average", **one}),
        "m_max_final": (dims, stack("m_max_final"), {"long_name": "max over patterns of |m_mu| at the end of the "
                                                                  "stage", **one}),
        "energy": (dims, stack("energy") / measure, {"long_name": "energy per neuron H/N, time average",
                                                     "units": "coupling units per neuron"}),
    }
    coords = {"step": ("step", np.arange(temps.size), {"long_name": "stage of the schedule", **one}),
              "T": ("step", temps, {"long_name": "temperature T = 1/beta of the stage", "units": "coupling units"}),
              "sample": ("sample", np.arange(n_samples), {"long_name": "disorder sample", **one}),
              "replica": ("replica", np.arange(n_replicas), {"long_name": "replica (independent chain)", **one})}
    increasing = bool(np.all(np.diff(temps) > 0))
    decreasing = bool(np.all(np.diff(temps) < 0))
    attrs = dict(package="densehebb", module="montecarlo.anneal.anneal", version=VERSION,
                 convention=_convention_name(self_interaction), self_interaction=int(bool(self_interaction)),
                 P=P, N=N, K=K, alpha=K / N ** (P - 1),
                 protocol=("heating" if increasing else "cooling" if decreasing else "schedule") +
                 f" from init={init}, state carried between stages",
                 init=init, dynamics=dynamics, sweeps_per_T=sweeps_per_T, measured_sweeps_per_T=measure,
                 update_order="sequential sweep i = 0..N-1", n_samples=n_samples, n_replicas=n_replicas,
                 seed=seed_attr, prng_key_data=str(np.asarray(jax.random.key_data(key)).tolist()),
                 n_devices=len(mkey), delta_energy_exact=int(plan.exact), jax_version=jax.__version__)
    return xr.Dataset(data, coords=coords, attrs=attrs)


def crossing_temperature(ds, threshold=0.5, var="m_max"):
    """Temperature where the fraction of chains with ``var >= threshold`` crosses 1/2 along the schedule.

    Linear interpolation between the first pair of stages whose fractions lie on both sides of 1/2 (in the
    schedule's order); NaN if the fraction never crosses.  Returns (T_cross, fractions per stage).
    """
    frac = (ds[var] >= threshold).mean(dim=("sample", "replica")).values
    T = ds["T"].values
    for i in range(1, T.size):
        a, b = frac[i - 1] - 0.5, frac[i] - 0.5
        if a == 0:
            return float(T[i - 1]), frac
        if a * b < 0:
            return float(T[i - 1] + (T[i] - T[i - 1]) * a / (a - b)), frac
    if frac[-1] == 0.5:
        return float(T[-1]), frac
    return math.nan, frac
