"""The simulate driver: :func:`simulate` runs batched chains through the engine and returns an
``xarray.Dataset`` (:mod:`montecarlo.dataset`); :func:`summarize` (:mod:`montecarlo.summary`) reduces it.

Chains are (disorder sample, temperature, replica).  Each disorder sample has one Rademacher pattern set,
shared by all temperatures and replicas of that sample; every chain has its own PRNG key.  The engine
(:mod:`montecarlo.engine`) runs whole sweeps inside jitted ``lax`` loops, sharded over all visible devices
by sample (:mod:`montecarlo.devices`); any P = 2..8 and both energy conventions (the :class:`Model`).

Protocol of :func:`simulate` (all sweeps are sequential sweeps of N single-spin-flip attempts):

1. Start: ``init="pattern"`` puts every chain at sigma = xi^0 (pattern 0 of its sample, m = 1);
   ``init="patterns"`` puts replica r at pattern r mod K (and its Mattis overlap m is taken with that
   pattern); ``init="random"`` draws i.i.d. +-1 spins, one configuration per (sample, replica) reused at
   every T.
2. Burn-in: the first ``burn_in`` sweeps are run and discarded (no measurement, acceptance not counted).
3. Measurement: the remaining ``sweeps - burn_in`` sweeps; observables are measured after every
   ``measure_every``-th sweep, i.e. ``n_measurements = (sweeps - burn_in) / measure_every`` times (this must
   be an integer).  Time averages are over these measurements, also kept in ``n_blocks`` contiguous blocks
   for blocking errors; the autocorrelation function of the energy and of m is accumulated on the fly up to
   ``max_lag`` measurements, giving the integrated autocorrelation time (see :func:`summarize`).
4. Parallel tempering (``tempering=True``): every ``swap_every`` sweeps, replica-exchange moves between
   neighbouring temperatures (which must be increasing and > 0); acceptance rates per pair are returned.

Randomness: the key (an int seed or a JAX key) is folded into independent streams (patterns, initial
spins, chains, tempering moves; :mod:`montecarlo.engine`).  The same key gives bit-identical results on
any number of devices and whether or not the run was interrupted and resumed from a checkpoint; adding
samples, replicas or temperatures does not change the patterns or chain keys that were already there.

Checkpoints (``checkpoint=FILE``): the full run state is written atomically at segment boundaries, at most
every ``checkpoint_every`` seconds and at the end; calling :func:`simulate` again with the same arguments
and FILE resumes from it (or returns at once if the run had finished) with exactly the same result.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from numbers import Real

import jax
import jax.numpy as jnp
import numpy as np

from densehebb.theory.precision import x64
from densehebb.theory.provenance import version

from . import checkpoint as _ckpt
from . import devices as _devices
from .dataset import attrs as _attrs
from .dataset import simulate_dataset
from .dynamics import DYNAMICS, dynamics_name
from .engine import INITS, EngineConfig, compiled_segment, start, take_samples
from .inputs import (as_int, as_key, check_memory, check_model, inverse_temperatures, key_attrs, load,
                     pattern_columns, temperatures)
from .observables import Measurements
from . import learning


class _Progress:
    """A tqdm bar over sweeps on stderr, only when asked for and stderr is a terminal."""

    def __init__(self, enabled, total, initial, desc):
        self.bar = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc, unit="sweep", file=sys.stderr,
                            dynamic_ncols=True, leave=False)

    def update(self, n):
        if self.bar is not None:
            self.bar.update(n)

    def close(self):
        if self.bar is not None:
            self.bar.close()


#: what the Plefka option does, in every Dataset of a learning run (docs/montecarlo.md "Plefka dynamics")
PLEFKA_NOTE = ("flips accepted with the first-order mean-field (Plefka) energy change dH = 2 sigma_i h_i, "
               "h_i = sum_mu xibar_i^mu (sum_{j != i} xibar_j^mu sigma_j)^(P-1) / ((P-1)! Norm N^(P-1)) "
               "(unsupervised: every example, with 1/M), instead of the exact dH; the same as the exact dH for P = 2, "
               "different by O(1/N) at finite load and, distinct indices, by O(sqrt(alpha)) at high load "
               "K = alpha N^(P-1); m, n, x and the energy reported are exact")


OVERLAPS = ("unnormalised", "normalised")
#: Dataset variables holding Mattis overlaps (divided by 1 - d with overlaps="normalised")
OVERLAP_VARIABLES = ("m", "m_abs", "m_max", "mattis", "levels", "m_blocks", "m_abs_blocks", "m_max_blocks",
                     "levels_blocks", "m_t")


def _basin_attrs(m_min, wall, N) -> dict:
    """Dataset attributes of the basin constraint (none without one)."""
    if m_min is None:
        return {}
    return dict(m_min=m_min, m_min_wall=int(wall),
                basin_constraint=(f"constrained Monte Carlo: flips that would take the Mattis overlap with the "
                                  f"chain's target pattern below m_min are rejected (M_t >= {int(wall)} of N = {N}); "
                                  "samples exp(-H/T) restricted to {m >= m_min}"))


def _dilution_attrs(d, overlaps, levels, examples=False) -> dict:
    """Attributes of a run with diluted patterns and / or the sorted overlaps (none otherwise)."""
    out = {}
    if d or levels:
        norm = overlaps == "normalised"
        out.update(dilution=d, overlaps=overlaps if norm else "unnormalised",
                   overlaps_note=("m_mu = (1/N) sum_i xi^mu_i sigma_i" + (" / (1 - d) (normalised)" if norm else
                                                                            " (unnormalised, at most 1 - d)")),
                   dilution_note=(("diluted archetypes xi in {-1, 0, +1}, P(0) = d, blank in every example; exact "
                                   "energy through the power sums (montecarlo.learning.DilutedExamples)") if examples
                                  else ("diluted patterns xi in {-1, 0, +1}, P(0) = d; exact energy through the power "
                                        "sums of xi^mu o sigma (montecarlo.learning.DilutedPatterns)")))
    if levels:
        out["levels_note"] = ("levels: |m_mu| sorted descending in each measurement, time-averaged level by "
                              "level (k = 1 the largest)")
    return out


def _example_attrs(model, plan) -> dict:
    """Attributes of a run with couplings built from examples (none for plain patterns)."""
    ex = model.examples
    if ex is None:
        return {}
    plefka = dict(plefka=int(plan.plefka), plefka_note=(PLEFKA_NOTE if plan.plefka else
                                                        "exact dH (no Plefka approximation)"))
    return dict(dataset=ex.protocol, examples_norm=float(plan.norm), **plefka,
                examples_note=("K archetypes xi^mu, M examples eta^{mu,a} = chi^{mu,a} xi^mu each; m: archetype "
                               "overlap, n: class-mean overlap xibar.sigma/(r N)"
                               + ("" if ex.supervised else ", x_max / x_mean: largest / mean example overlap "
                                  "of the condensed class")
                               + ("; archetypes diluted (P(0) = d), blank entries blank in every example"
                                  if model.dilution else "")),
                energy_exact=int(plan.energy_exact))


@x64
def simulate(key, model, N, alpha=None, K=None, T=(0.5,), n_samples=1, n_replicas=2, sweeps=1000, burn_in=200,
             *, measure_every=1, dynamics="glauber", init="pattern", n_blocks=10, tempering=False, swap_every=1,
             n_track=None, q_bins=None, max_lag=None, timeseries=False, checkpoint=None, checkpoint_every=60.0,
             progress=False, devices=None, segment_sweeps=None, plefka=False, levels=None, overlaps="unnormalised",
             m_min=None, _stop_after_segments=None):
    """Run Monte Carlo chains for every (disorder sample, temperature, replica).

    Parameters
    ----------
    key : int or JAX PRNG key
        Seed; the same key gives identical results (see module docstring for the stream layout).
    model : densehebb.Model
        P (2..8) and the energy convention ("distinct-indices" or "all-tuples"); plain Rademacher patterns,
        or couplings built from examples (``model.examples``, :mod:`montecarlo.learning`: K archetypes, the
        patterns being the examples' class means (supervised) or the examples themselves (unsupervised);
        m is the archetype overlap and the Dataset gains n (class-mean overlap) and, unsupervised, x_max
        and x_mean).  Diluted patterns (``model.dilution`` = d > 0, docs/conventions.md "Diluted patterns"):
        entries in {-1, 0, +1}, P(0) = d (:func:`montecarlo.patterns.diluted`), the exact energy with them
        (:class:`montecarlo.learning.DilutedPatterns`); with ``model.examples`` too: examples of diluted
        archetypes, blanks kept (:class:`montecarlo.learning.DilutedExamples`).  The ansatz does not
        apply to simulations.
    N : int >= 2
        Number of neurons.
    alpha, K :
        Load: K = round(alpha N^(P-1)) patterns (give one; if both, they must agree).  Need K >= 1.
    T : float or sequence of float
        Distinct temperatures >= 0 (T = 0: beta = inf, rules in :mod:`montecarlo.dynamics`).
    n_samples, n_replicas : int >= 1
        Disorder samples (pattern sets) and replicas per sample and temperature.  q needs n_replicas >= 2
        (it is NaN otherwise) and uses replicas 0 and 1; P(q) uses the disjoint pairs (0,1), (2,3), ...
    sweeps, burn_in, measure_every : int
        Total sweeps (> burn_in >= 0), discarded burn-in sweeps, and sweeps between measurements;
        ``sweeps - burn_in`` must be a multiple of ``measure_every``.
    dynamics : "glauber" | "metropolis" | "greedy"
        Heat bath, Metropolis, or zero-temperature strict descent (needs every T = 0).
    plefka : bool
        With ``model.examples`` only: the Plefka dynamics, flips accepted with the first-order mean-field
        energy change instead of the exact one (docs/montecarlo.md "Plefka dynamics"); the observables and
        the energy are still exact.  The Dataset's ``dynamics`` attribute is then e.g. "glauber-plefka".
    init : "pattern" | "patterns" | "random" | "hierarchical"
        "hierarchical": sigma_i = xi^k_i for the first pattern k with xi^k_i != 0 (the T = 0 hierarchical
        state of diluted patterns; pattern 0 for plain patterns).  Diluted patterns: the blank entries of
        the start pattern(s) take the spins of the random start.
    levels : bool or None
        Also measure the K overlaps |m_mu| sorted descending in each measurement (``levels``, dims
        (sample, T, replica, level), with blocks): the amplitudes level by level, for multitasking.  Default:
        on for diluted patterns (``model.dilution > 0``).  ``n_track`` then defaults to K (at most 64).
    overlaps : "unnormalised" | "normalised"
        Diluted patterns: the overlaps reported (m, m_abs, m_max, mattis, levels and their blocks and
        series) are m_mu = (1/N) sum_i xi^mu_i sigma_i (at most 1 - d), or those divided by 1 - d.  The
        Dataset's attribute ``overlaps`` says which.
    m_min : None or float in (-1, 1)
        Basin constraint (constrained Monte Carlo, plain patterns, init "pattern" or "patterns"): a flip
        whose new Mattis overlap m = (1/N) sum_i xi_i^t sigma_i with the chain's target pattern t (the
        one it started at) would fall below ``m_min`` is rejected, inside the jitted sweep (O(1) per
        attempt).  The chains then sample exp(-H/T) restricted to {m >= m_min} exactly (detailed balance
        within the set; tempering swaps stay valid since the set does not depend on T).  The wall is on
        the integer overlap, M_t >= ceil(m_min N) (m_min N rounded to 9 decimals first; attribute ``m_min_wall``).  None: no constraint.
    n_blocks : int >= 1
        Number of time blocks kept for blocking errors (capped at the number of measurements).
    tempering : bool
        Parallel tempering between neighbouring temperatures (increasing, all > 0, at least 2), a round
        every ``swap_every`` sweeps (even pairs, then odd pairs).
    n_track : int
        Mattis overlaps with patterns 0..n_track-1 are recorded (``mattis``); default min(K, 3).
    q_bins : int
        Bins of the P(q) histogram over [-1, 1] (default min(N + 1, 101); N + 1 bins resolve every value).
    max_lag : int
        Largest lag (in measurements) of the autocorrelation functions (default min(n_meas - 1, 100)).
    timeseries : bool
        Also return the measured time series (m, energy, q) with dim ``sweep``.
    checkpoint : str or None
        File for atomic checkpoints; an existing checkpoint of the same run is resumed.
    checkpoint_every : float
        Seconds between checkpoints (one is always written at the end).
    progress : bool
        tqdm progress bar on stderr (only if stderr is a terminal).
    devices : None, int or sequence of devices
        Devices to shard the samples over (default: all visible).  Results do not depend on it.
    segment_sweeps : int or None
        Sweeps per jitted call (checkpoint / progress granularity); default: about 4e9 pattern-spin
        updates per call.  Results do not depend on it.

    Returns
    -------
    xarray.Dataset with dims (sample, T, replica, block, pattern, q_bin, lag[, T_pair][, sweep]):
        m, m_abs, m_max, energy, acceptance (sample, T, replica): time averages of the Mattis overlap m
        with the chain's condensed pattern (pattern 0, or r mod K for init="patterns"), of |m|, of
        max_mu |m_mu|, of H/N, and the measurement-phase acceptance; mattis (sample, T, replica, pattern);
        q, q_abs (sample, T): replicas 0 and 1; P_q (sample, T, q_bin): histogram of q over the disjoint
        replica pairs (0,1), (2,3), ... and all measurements (normalised), coordinate q_center; *_blocks:
        block averages; acf_energy, acf_m (T, lag): normalised autocorrelation functions averaged over
        chains; tau_energy, tau_m (T): integrated autocorrelation times in sweeps (see :func:`summarize`);
        swap_acceptance (T_pair): tempering acceptance between T[k] and T[k+1]; round_trips (sample, replica)
        and walker_round_trips (sample, walker, replica): tempering round trips lowest T -> highest T ->
        lowest T completed in the measurement phase (:func:`montecarlo.observables.track_walkers`);
        m_t, energy_t (sample, T, replica, sweep), q_t (sample, T, sweep) with ``timeseries=True``.
    Attributes: the standard provenance (:func:`densehebb.theory.provenance.dataset_attrs`: package,
    version, Model, command, ...) and the run's parameters (N, K, alpha, dynamics, sweeps, burn-in, seed,
    arithmetic of the energy changes, devices, ...); every variable has ``units`` and ``long_name``.
    """
    model = check_model(model, examples=True, dilution=True)
    P, si, ex = model.P, model.self_interaction, model.examples
    dilution = float(model.dilution)
    if dilution:
        ex = learning.DilutedPatterns(dilution) if ex is None else learning.DilutedExamples(ex, dilution)
    if not isinstance(plefka, (bool, np.bool_)):
        raise ValueError(f"plefka must be a bool, got {plefka!r}")
    plefka = bool(plefka)
    if plefka and (ex is None or dilution):
        raise ValueError("plefka: the Plefka dynamics applies to couplings built from examples (model.examples) only")
    levels = bool(dilution) if levels is None else levels
    if not isinstance(levels, (bool, np.bool_)):
        raise ValueError(f"levels must be a bool or None, got {levels!r}")
    levels = bool(levels)
    if overlaps not in OVERLAPS:
        raise ValueError(f"unknown overlaps {overlaps!r}; available: {list(OVERLAPS)}")
    N = as_int("N", N, 2)
    K, alpha_eff = load(N, alpha, K, P, memory=ex is None)
    if ex is not None:
        check_memory(N, pattern_columns(K, P, ex), what=f"N = {N} with K = {K} archetypes and M = {ex.M} examples")
    temps = temperatures(T)
    n_samples = as_int("n_samples", n_samples, 1)
    n_replicas = as_int("n_replicas", n_replicas, 1)
    burn_in = as_int("burn_in", burn_in, 0)
    sweeps = as_int("sweeps", sweeps, 1)
    measure_every = as_int("measure_every", measure_every, 1)
    if sweeps <= burn_in:
        raise ValueError(f"sweeps ({sweeps}) must exceed burn_in ({burn_in}): nothing would be measured")
    if (sweeps - burn_in) % measure_every:
        raise ValueError(f"sweeps - burn_in = {sweeps - burn_in} must be a multiple of "
                         f"measure_every = {measure_every}")
    if dynamics not in DYNAMICS:
        raise ValueError(f"unknown dynamics {dynamics!r}; available: {sorted(DYNAMICS)}")
    if dynamics == "greedy" and np.any(temps != 0):
        raise ValueError("dynamics 'greedy' is zero-temperature descent: use T = 0")
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; available: {list(INITS)}")
    if not isinstance(tempering, (bool, np.bool_)):
        raise ValueError(f"tempering must be a bool, got {tempering!r}")
    swap_every = as_int("swap_every", swap_every, 1)
    if tempering:
        if temps.size < 2:
            raise ValueError("parallel tempering needs at least 2 temperatures")
        if np.any(temps <= 0):
            raise ValueError("parallel tempering needs temperatures > 0")
        if np.any(np.diff(temps) <= 0):
            raise ValueError(f"parallel tempering needs increasing temperatures, got {temps.tolist()}")
    n_meas = (sweeps - burn_in) // measure_every
    n_blocks = min(as_int("n_blocks", n_blocks, 1), n_meas)
    n_track = (min(K, 64 if levels else 3) if n_track is None else min(as_int("n_track", n_track, 1), K))
    q_bins = min(N + 1, 101) if q_bins is None else as_int("q_bins", q_bins, 1)
    max_lag = (max(1, min(n_meas - 1, 100)) if max_lag is None else as_int("max_lag", max_lag, 1))
    if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
        raise ValueError(f"checkpoint must be a file name, got {checkpoint!r}")
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, Real) \
            or not checkpoint_every >= 0:
        raise ValueError(f"checkpoint_every must be a number of seconds >= 0, got {checkpoint_every!r}")
    wall = None
    if m_min is not None:
        if isinstance(m_min, bool) or not isinstance(m_min, Real) or not -1.0 < float(m_min) < 1.0:
            raise ValueError(f"m_min must be None or a number in (-1, 1), got {m_min!r}")
        if ex is not None:
            raise ValueError("m_min: the basin constraint applies to plain patterns only "
                             "(no examples, no dilution)")
        if init not in ("pattern", "patterns"):
            raise ValueError(f"m_min: the basin constraint needs init 'pattern' or 'patterns' (a start "
                             f"inside the basin), got {init!r}")
        m_min = float(m_min)
        wall = math.ceil(round(m_min * N, 9))   # M_t >= m_min N <=> M_t >= ceil(m_min N); rounded so 0.2 * 10 is 2
    key, seed_attr = as_key(key)
    plan_dH = learning.plan_for(N, K, P, si, ex, plefka)

    mkey = _devices.mesh_key(devices)
    S_pad = _devices.padded_samples(n_samples, mkey)
    n_T = temps.size
    check_memory(N, pattern_columns(K, P, ex), n_samples, n_T, n_replicas, len(mkey), what="simulate")  # the whole run, before allocating
    targets = tuple(int(r % K) if init == "patterns" else 0 for r in range(n_replicas))
    cfg = EngineConfig(N=N, K=K, P=P, self_interaction=si, dynamics=dynamics, n_T=n_T, n_R=n_replicas,
                       examples=ex, plefka=plefka, wall=wall, wall_targets=targets if wall is not None else ())
    plan = Measurements(n_blocks=n_blocks, tempering=bool(tempering), n_track=n_track, q_bins=q_bins,
                        max_lag=max_lag, series_len=n_meas if timeseries else 0, targets=targets, levels=levels)
    beta = jnp.asarray(inverse_temperatures(temps))
    sched = jnp.asarray([burn_in, measure_every, n_meas, swap_every], jnp.int64)

    fingerprint = dict(
        version=version(), N=N, K=K, P=P, self_interaction=si, T=temps.tolist(),
        n_samples=n_samples, n_replicas=n_replicas, sweeps=sweeps, burn_in=burn_in,
        measure_every=measure_every, dynamics=dynamics, init=init, n_blocks=n_blocks,
        tempering=bool(tempering), swap_every=swap_every, n_track=n_track, q_bins=q_bins, max_lag=max_lag,
        timeseries=bool(timeseries), prng_key_data=np.asarray(jax.random.key_data(key)).tolist(),
        prng_impl=str(jax.random.key_impl(key)))
    if ex is not None:
        fingerprint["examples"] = [ex.M, ex.r, ex.supervised, ex.normalisation]
    if plefka:
        fingerprint["plefka"] = True
    if dilution:
        fingerprint["dilution"] = dilution
    if levels:
        fingerprint["levels"] = True
    if m_min is not None:
        fingerprint["m_min"] = m_min

    resume = checkpoint is not None and os.path.exists(checkpoint)
    if resume and _ckpt.read_meta(checkpoint).get("fingerprint") != json.loads(json.dumps(fingerprint)):
        raise ValueError(f"checkpoint {os.fspath(checkpoint)} belongs to a different run "
                         "(other parameters or seed); remove it or choose another file")
    xi, carry = start(cfg, plan, init, S_pad)(key)
    done = 0
    if resume:
        # the state is stored for the real samples only: re-pad for this device count
        real, meta = _ckpt.load(checkpoint, take_samples(carry, n_samples))
        carry = jax.tree.map(lambda f, r: f.at[:n_samples].set(r) if f.shape[0] > n_samples else r, carry, real)
        done = int(meta["sweeps_done"])

    carry = _devices.put_samples(carry, mkey)
    xi = _devices.put_samples(xi, mkey)
    run = compiled_segment(cfg, plan, mkey)
    if segment_sweeps is None:
        units = S_pad * n_T * n_replicas * N * K
        segment_sweeps = int(max(1, min(sweeps, 4e9 // max(units, 1))))
    else:
        segment_sweeps = as_int("segment_sweeps", segment_sweeps, 1)

    bar = _Progress(progress, sweeps, done, f"mc P={P} N={N} K={K}")
    last_save = time.monotonic()
    segments = 0
    try:
        while done < sweeps:
            n = min(segment_sweeps, sweeps - done)
            carry = run(carry, xi, beta, sched, jnp.asarray(done, jnp.int64), jnp.asarray(n, jnp.int64))
            jax.block_until_ready(carry)
            done += n
            segments += 1
            bar.update(n)
            if checkpoint is not None and (done == sweeps or time.monotonic() - last_save >= checkpoint_every):
                state = take_samples(_devices.to_host(carry), n_samples)   # collective in a multi-host run
                if jax.process_index() == 0:
                    _ckpt.save(checkpoint, state, dict(fingerprint=fingerprint, sweeps_done=done))
                last_save = time.monotonic()
            if _stop_after_segments is not None and segments >= _stop_after_segments and done < sweeps:
                raise KeyboardInterrupt("stopped on request (test hook)")
    finally:
        bar.close()

    chains, _, acc = take_samples(_devices.to_host(carry), n_samples)
    attrs = _attrs(
        model, "densehebb.montecarlo.simulate", N=N, K=K, alpha=alpha_eff,
        alpha_requested=None if alpha is None else float(alpha),
        dynamics=dynamics_name(dynamics, plefka), update_order="sequential sweep i = 0..N-1", init=init,
        sweeps=sweeps, burn_in=burn_in, measure_every=measure_every, n_measurements=n_meas,
        n_blocks=n_blocks, n_samples=n_samples, n_replicas=n_replicas,
        tempering=bool(tempering), swap_every=swap_every, seed=seed_attr, **key_attrs(key),
        n_devices=len(mkey), device_kind=str(_devices.resolve_devices(devices)[0].device_kind),
        delta_energy_arithmetic=(("Plefka (mean-field) dH, " if plefka else "")
                                 + (f"exact {plan_dH.compute} chunks of {plan_dH.chunk} terms, int64 total"
                                    if plan_dH.exact else "float64 (not exact: terms exceed 2^62)")),
        delta_energy_exact=bool(plan_dH.exact),
        burn_in_note=("the first burn_in sweeps are discarded; observables are measured after every "
                      "measure_every-th of the remaining sweeps and time-averaged"),
        zero_temperature_rule=("T = 0: glauber accepts dH < 0, dH == 0 with probability 1/2; "
                               "metropolis accepts dH <= 0; greedy accepts dH < 0 only"),
        checkpoint=None if checkpoint is None else os.fspath(checkpoint),
        **_basin_attrs(m_min, wall, N), **_example_attrs(model, plan_dH), **_dilution_attrs(dilution, overlaps, levels, model.examples is not None))
    ds = simulate_dataset(cfg, plan, temps, n_samples, n_meas, measure_every, burn_in, chains, acc, attrs)
    if overlaps == "normalised" and dilution:       # (d = 0: dividing by 1 changes nothing)
        for name in OVERLAP_VARIABLES:
            if name in ds:
                ds[name] = (ds[name] / (1.0 - dilution)).assign_attrs(ds[name].attrs)
    return ds
