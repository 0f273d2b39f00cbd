"""Heating and cooling runs: chains carried through a temperature schedule (hysteresis of first-order
transitions).

:func:`anneal` runs every chain through the temperatures ``T[0], T[1], ...`` *in the given order*, the
state at the end of one stage being the start of the next (unlike :func:`montecarlo.simulate`, where every
temperature starts afresh).  An increasing schedule started at a pattern is a heating run, a decreasing one
started at random spins a cooling run.  At each stage the chains do ``sweeps_per_T`` sequential sweeps; the
last ``measure`` of them are measured (after every sweep) and time-averaged.

Chains: (disorder sample, replica); one Rademacher pattern set per sample, shared by its replicas.  The
sweeps run in the one engine (:mod:`montecarlo.engine`, plan :class:`montecarlo.observables.StageAverages`),
sharded over devices by sample, with the stream layout of a one-temperature :func:`simulate` (patterns,
initial spins and chain keys), so results do not depend on the device count.  The dynamics, energies and
conventions are those of :mod:`montecarlo.dynamics` (exact O(K) flips, any P = 2..8, both conventions).
"""
from __future__ import annotations

import math
import time

import jax.numpy as jnp
import numpy as np

from densehebb.theory.precision import x64

from . import devices as _devices
from .dataset import anneal_dataset
from .dataset import attrs as _attrs
from .engine import EngineConfig, compiled_segment, start
from .inputs import as_int, as_key, check_model, inverse_temperatures, key_attrs, temperatures
from .observables import StageAverages
from .polynomials import flip_plan

INITS = ("pattern", "random")


@x64
def anneal(key, model, N, K, T, *, n_samples=4, n_replicas=2, sweeps_per_T=200, measure=100, init="pattern",
           dynamics="glauber", devices=None, progress=None):
    """Run chains through the temperatures ``T`` in the given order, carrying the state between stages.

    Parameters
    ----------
    key : int or JAX PRNG key
    model : densehebb.Model
        P (2..8) and the energy convention.
    N, K : int
        Neurons and patterns (low storage: K finite; any K >= 1 works).
    T : sequence of float
        The schedule, visited in order (increasing: heating; decreasing: cooling).  Temperatures >= 0.
    n_samples, n_replicas : disorder samples (pattern sets) and chains per sample.
    sweeps_per_T, measure : sweeps per stage and how many of its last sweeps are measured.
    init : "pattern" (every chain at pattern 0, m = 1) or "random" (i.i.d. +-1 spins).
    dynamics : "glauber" or "metropolis".
    devices : as in :func:`montecarlo.simulate` (default all visible; results do not depend on it).
    progress : callable(stage_index, T, seconds) called after each stage, or None.

    Returns
    -------
    xarray.Dataset with dims (sample, step, replica) and coordinate ``T`` along ``step``:
    m (overlap with pattern 0), m_abs, m_max (max over patterns of |m_mu|; the retrieval order parameter
    of a cooling run, which may condense on any pattern or its negative), energy (H/N) -- time averages
    over the measured sweeps of each stage -- and m_max_final (at the end of the stage).
    :func:`summarize_anneal` gives the per-stage :class:`~montecarlo.stats.Stats`.
    """
    model = check_model(model)
    P, si = model.P, model.self_interaction
    N = as_int("N", N, 2)
    K = as_int("K", K, 1)
    try:
        temps = temperatures(np.asarray(T, dtype=np.float64).ravel(), distinct=False)
    except (TypeError, ValueError):
        raise ValueError(f"T must be a non-empty sequence of finite temperatures >= 0, got {T!r}") from None
    n_samples = as_int("n_samples", n_samples, 1)
    n_replicas = as_int("n_replicas", n_replicas, 1)
    sweeps_per_T = as_int("sweeps_per_T", sweeps_per_T, 1)
    measure = as_int("measure", measure, 1)
    if measure > sweeps_per_T:
        raise ValueError(f"measure ({measure}) must be <= sweeps_per_T ({sweeps_per_T})")
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; available: {list(INITS)}")
    if dynamics not in ("glauber", "metropolis"):
        raise ValueError(f"dynamics must be 'glauber' or 'metropolis', got {dynamics!r}")
    key, seed_attr = as_key(key)
    plan_dH = flip_plan(P, si, N, K)

    mkey = _devices.mesh_key(devices)
    S_pad = _devices.padded_samples(n_samples, mkey)
    cfg = EngineConfig(N=N, K=K, P=P, self_interaction=si, dynamics=dynamics, n_T=1, n_R=n_replicas)
    plan = StageAverages()
    setup = start(cfg, plan, init, S_pad)
    xi, (chains, aux, acc0) = setup(key)
    chains = _devices.put_samples(chains, mkey)
    xi = _devices.put_samples(xi, mkey)
    stage = compiled_segment(cfg, plan, mkey)
    sched = jnp.asarray([sweeps_per_T, measure], jnp.int64)
    zero = jnp.asarray(0, jnp.int64)

    rows = []
    for i, (t, beta) in enumerate(zip(temps, inverse_temperatures(temps))):
        t0 = time.monotonic()
        carry = (chains, aux, _devices.put_samples(acc0, mkey))
        chains, _, acc = stage(carry, xi, jnp.asarray([beta]), sched, zero, jnp.asarray(sweeps_per_T, jnp.int64))
        row = {k: v[:, 0] for k, v in _devices.to_host(acc).items()}                 # (S, R)
        M = _devices.to_host(chains.M)[:, 0].astype(np.int32)
        row["m_max_final"] = np.max(np.abs(M), axis=-1) / N
        rows.append(row)
        if progress is not None:
            progress(i, float(t), time.monotonic() - t0)

    increasing = bool(np.all(np.diff(temps) > 0))
    decreasing = bool(np.all(np.diff(temps) < 0))
    attrs = _attrs(
        model, "densehebb.montecarlo.anneal", N=N, K=K, alpha=K / N ** (P - 1),
        protocol=("heating" if increasing else "cooling" if decreasing else "schedule") +
        f" from init={init}, state carried between stages",
        init=init, dynamics=dynamics, sweeps_per_T=sweeps_per_T, measured_sweeps_per_T=measure,
        update_order="sequential sweep i = 0..N-1", n_samples=n_samples, n_replicas=n_replicas,
        seed=seed_attr, **key_attrs(key), n_devices=len(mkey), delta_energy_exact=bool(plan_dH.exact))
    return anneal_dataset(temps, n_samples, n_replicas, measure, rows, attrs)


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
