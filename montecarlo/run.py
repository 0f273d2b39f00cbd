"""Batched Monte Carlo runs: :func:`simulate` -> ``xarray.Dataset``, and :func:`summarize`.

Chains are (temperature, disorder sample, replica).  Each disorder sample has one Rademacher pattern set,
shared by all temperatures and replicas of that sample; every chain has its own PRNG key.  The engine
(:mod:`montecarlo.engine`) runs whole sweeps inside jitted ``lax`` loops, sharded over all visible devices
by sample (:mod:`montecarlo.devices`); any P = 2..8 and both energy conventions.

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

Randomness: the key (an int seed or a JAX key) is folded into independent streams: patterns of sample s
from ``fold_in(fold_in(key, 0), s)``, random initial spins of (s, r) from ``fold_in(key, 1)``, chain
(t, s, r) from ``fold_in(key, 2)`` folded with s, r, t, and the tempering moves of sample s from
``fold_in(fold_in(key, 3), s)``.  The same key gives bit-identical results on any number of devices and
whether or not the run was interrupted and resumed from a checkpoint; adding samples, replicas or
temperatures does not change the patterns or chain keys that were already there.

Checkpoints (``checkpoint=FILE``): the full run state is written atomically at segment boundaries, at most
every ``checkpoint_every`` seconds and at the end; calling :func:`simulate` again with the same arguments
and FILE resumes from it (or returns at once if the run had finished) with exactly the same result.
"""
from __future__ import annotations

import functools
import json
import math
import os
import sys
import time
import warnings
from numbers import Integral, Real

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from . import checkpoint as _ckpt
from . import devices as _devices
from . import patterns as _patterns
from .dynamics import DYNAMICS
from .energy import check_order
from .engine import EngineConfig, compiled_segment, init_accumulators, make_init
from .polynomials import flip_plan

INITS = ("pattern", "patterns", "random")
VERSION = "0.2.0"


# ----------------------------------------------------------------------------------------- validation
def _as_int(name, value, minimum):
    """``int(value)`` for an integral number >= minimum, else a one-line ValueError."""
    ok = isinstance(value, Integral) or (isinstance(value, Real) and math.isfinite(value)
                                         and float(value).is_integer())
    if isinstance(value, bool) or not ok:
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def _temperatures(T):
    """1-D float64 array of distinct, finite temperatures >= 0."""
    try:
        t = np.atleast_1d(np.asarray(T, dtype=np.float64))
    except (TypeError, ValueError):
        raise ValueError(f"T must be a number or a sequence of numbers, got {T!r}") from None
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"T must be a scalar or a non-empty 1-D sequence, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError(f"temperatures must be finite and >= 0, got {t.tolist()}")
    if np.unique(t).size != t.size:
        raise ValueError(f"temperatures must be distinct, got {t.tolist()}")
    return t


def _load(N, alpha, K, P):
    """Resolve (K, alpha_effective) from alpha or K, with K = round(alpha N^(P-1)) (high storage)."""
    if alpha is None and K is None:
        raise ValueError("give the load: alpha (K = round(alpha N^(P-1))) or the number of patterns K")
    K_from_alpha = None
    if alpha is not None:
        if isinstance(alpha, bool) or not isinstance(alpha, Real) or not math.isfinite(alpha) or alpha < 0:
            raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")
        K_from_alpha = int(round(float(alpha) * N ** (P - 1)))
    if K is not None:
        K = _as_int("K", K, 1)
        if K_from_alpha is not None and K_from_alpha != K:
            raise ValueError(f"alpha={alpha!r} gives K = round(alpha N^(P-1)) = {K_from_alpha}, "
                             f"inconsistent with K={K}; give only one of them")
    else:
        K = K_from_alpha
        if K < 1:
            raise ValueError(f"alpha={alpha!r} with N={N} gives K = round(alpha N^(P-1)) = {K}; "
                             "at least one pattern is needed")
    if K > 2**31 - 1:
        raise ValueError(f"K = {K} patterns is too many")
    return K, K / N ** (P - 1)


def _as_key(key):
    """(typed JAX key, seed attribute): an int seed -> ``jax.random.key(seed)``; keys pass through."""
    if isinstance(key, Integral) and not isinstance(key, bool):
        return jax.random.key(int(key)), int(key)
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != ():
            raise ValueError(f"key must be a single PRNG key, got shape {key.shape}")
        return key, "none (explicit PRNG key)"
    arr = jnp.asarray(key)
    if arr.dtype != jnp.uint32 or arr.ndim != 1:
        raise ValueError(f"key must be an int seed or a JAX PRNG key, got {key!r}")
    return jax.random.wrap_key_data(arr), "none (explicit PRNG key)"


def _convention_name(self_interaction):
    """Canonical convention name from :func:`theory.spec.convention_name`.

    Falls back to the same two literal names when the ``theory`` package cannot be imported (it is
    developed separately); tests/test_mc_run.py checks that both agree whenever it can.
    """
    try:
        from densehebb.theory.model import convention_name
    except ImportError:
        return "all-tuples" if self_interaction else "distinct-indices"
    return convention_name(bool(self_interaction))


# ------------------------------------------------------------------------------------ initial state
def _chain_keys(key, n_T, n_samples, n_replicas):
    """Keys (n_samples, n_T, n_replicas): chain (t, s, r) gets fold_in(fold_in(fold_in(key, s), r), t)."""
    def one(s, t, r):
        return jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(key, s), r), t)
    s, t, r = jnp.meshgrid(jnp.arange(n_samples), jnp.arange(n_T), jnp.arange(n_replicas), indexing="ij")
    return jax.vmap(one)(s.ravel(), t.ravel(), r.ravel()).reshape(n_samples, n_T, n_replicas)


def _initial_spins(key, xi, init, n_T, n_replicas):
    """sigma0 with shape (n_samples, n_T, n_replicas, N), int8."""
    n_samples, N, K = xi.shape
    if init == "pattern":
        s0 = jnp.broadcast_to(xi[:, None, :, 0], (n_samples, n_replicas, N))
    elif init == "patterns":
        idx = jnp.arange(n_replicas) % K
        s0 = jnp.moveaxis(xi[:, :, idx], 2, 1)                                   # (S, R, N)
    else:
        def one(s, r):
            k = jax.random.fold_in(jax.random.fold_in(key, s), r)
            return jnp.where(jax.random.bernoulli(k, 0.5, (N,)), 1, -1).astype(jnp.int8)
        s, r = jnp.meshgrid(jnp.arange(n_samples), jnp.arange(n_replicas), indexing="ij")
        s0 = jax.vmap(one)(s.ravel(), r.ravel()).reshape(n_samples, n_replicas, N)
    return jnp.broadcast_to(s0[:, None], (n_samples, n_T, n_replicas, N)).astype(jnp.int8)


# ------------------------------------------------------------------------------------------ progress
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


# ----------------------------------------------------------------------------------------- simulate
def simulate(key, N, alpha=None, K=None, T=(0.5,), n_samples=1, n_replicas=2, sweeps=1000, burn_in=200,
             measure_every=1, dynamics="glauber", init="pattern", P=2, self_interaction=False, n_blocks=10,
             *, tempering=False, swap_every=1, n_track=None, q_bins=None, max_lag=None, timeseries=False,
             checkpoint=None, checkpoint_every=60.0, progress=False, devices=None, segment_sweeps=None,
             _stop_after_segments=None):
    """Run Monte Carlo chains for every (temperature, disorder sample, replica).

    Parameters
    ----------
    key : int or JAX PRNG key
        Seed; the same key gives identical results (see module docstring for the stream layout).
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
    init : "pattern" | "patterns" | "random"
    P : int, 2..8
        Interaction order.
    self_interaction : bool
        Energy convention (False: distinct indices, the default; True: all tuples).
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
    xarray.Dataset with dims (T, sample, replica, block, pattern, q_bin, lag[, T_pair][, sweep]):
        m, m_abs, m_max, energy, acceptance (T, sample, replica): time averages of the Mattis overlap m
        with the chain's condensed pattern (pattern 0, or r mod K for init="patterns"), of |m|, of
        max_mu |m_mu|, of H/N, and the measurement-phase acceptance; mattis (T, sample, replica, pattern);
        q, q_abs (T, sample): replicas 0 and 1; P_q (T, sample, q_bin): histogram of q over the disjoint
        replica pairs (0,1), (2,3), ... and all measurements (normalised), coordinate q_center; *_blocks: block averages;
        acf_energy, acf_m (T, lag): normalised autocorrelation functions averaged over chains;
        tau_energy, tau_m (T): integrated autocorrelation times in sweeps (see :func:`summarize`);
        swap_acceptance (T_pair): tempering acceptance between T[k] and T[k+1];
        m_t, energy_t (T, sample, replica, sweep), q_t (T, sample, sweep) with ``timeseries=True``.
    Attributes record the provenance (package, convention, P, N, K, alpha, dynamics, sweeps, burn-in,
    seed, arithmetic of the energy changes, devices, ...).
    """
    P = check_order(_as_int("P", P, 2), self_interaction)
    N = _as_int("N", N, 2)
    K, alpha_eff = _load(N, alpha, K, P)
    temps = _temperatures(T)
    n_samples = _as_int("n_samples", n_samples, 1)
    n_replicas = _as_int("n_replicas", n_replicas, 1)
    burn_in = _as_int("burn_in", burn_in, 0)
    sweeps = _as_int("sweeps", sweeps, 1)
    measure_every = _as_int("measure_every", measure_every, 1)
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
    if not isinstance(self_interaction, (bool, np.bool_)):
        raise ValueError(f"self_interaction must be a bool, got {self_interaction!r}")
    if not isinstance(tempering, (bool, np.bool_)):
        raise ValueError(f"tempering must be a bool, got {tempering!r}")
    swap_every = _as_int("swap_every", swap_every, 1)
    if tempering:
        if temps.size < 2:
            raise ValueError("parallel tempering needs at least 2 temperatures")
        if np.any(temps <= 0):
            raise ValueError("parallel tempering needs temperatures > 0")
        if np.any(np.diff(temps) <= 0):
            raise ValueError(f"parallel tempering needs increasing temperatures, got {temps.tolist()}")
    n_meas = (sweeps - burn_in) // measure_every
    n_blocks = min(_as_int("n_blocks", n_blocks, 1), n_meas)
    n_track = min(K, 3) if n_track is None else min(_as_int("n_track", n_track, 1), K)
    q_bins = min(N + 1, 101) if q_bins is None else _as_int("q_bins", q_bins, 1)
    max_lag = (max(1, min(n_meas - 1, 100)) if max_lag is None else _as_int("max_lag", max_lag, 1))
    if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
        raise ValueError(f"checkpoint must be a file name, got {checkpoint!r}")
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, Real) \
            or not checkpoint_every >= 0:
        raise ValueError(f"checkpoint_every must be a number of seconds >= 0, got {checkpoint_every!r}")
    key, seed_attr = _as_key(key)
    plan = flip_plan(P, bool(self_interaction), N, K)

    mkey = _devices.mesh_key(devices)
    S_pad = _devices.padded_samples(n_samples, mkey)
    n_T = temps.size
    targets = tuple(int(r % K) if init == "patterns" else 0 for r in range(n_replicas))
    cfg = EngineConfig(N=N, K=K, P=P, self_interaction=bool(self_interaction), dynamics=dynamics, n_T=n_T,
                       n_R=n_replicas, n_blocks=n_blocks, tempering=bool(tempering), n_track=n_track,
                       q_bins=q_bins, max_lag=max_lag, series_len=n_meas if timeseries else 0,
                       targets=targets)

    with np.errstate(divide="ignore"):
        beta = np.where(temps > 0, 1.0 / np.where(temps > 0, temps, 1.0), np.inf)
    sched = jnp.asarray([burn_in, measure_every, n_meas, swap_every], jnp.int64)

    fingerprint = dict(
        version=VERSION, N=N, K=K, P=P, self_interaction=bool(self_interaction), T=temps.tolist(),
        n_samples=n_samples, n_replicas=n_replicas, sweeps=sweeps, burn_in=burn_in,
        measure_every=measure_every, dynamics=dynamics, init=init, n_blocks=n_blocks,
        tempering=bool(tempering), swap_every=swap_every, n_track=n_track, q_bins=q_bins, max_lag=max_lag,
        timeseries=bool(timeseries), prng_key_data=np.asarray(jax.random.key_data(key)).tolist(),
        prng_impl=str(jax.random.key_impl(key)))

    xi, carry = _setup(cfg, init, S_pad)(key)
    done = 0
    if checkpoint is not None and os.path.exists(checkpoint):
        meta = _ckpt.read_meta(checkpoint)
        if meta.get("fingerprint") != json.loads(json.dumps(fingerprint)):
            raise ValueError(f"checkpoint {os.fspath(checkpoint)} belongs to a different run "
                             "(other parameters or seed); remove it or choose another file")
        # the state is stored for the real samples only: re-pad for this device count
        real, meta = _ckpt.load(checkpoint, _take_samples(carry, n_samples))
        carry = _merge_samples(carry, real, n_samples)
        done = int(meta["sweeps_done"])

    carry = _devices.put_samples(carry, mkey)
    xi = _devices.put_samples(xi, mkey)
    run = compiled_segment(cfg, mkey)
    if segment_sweeps is None:
        units = S_pad * n_T * n_replicas * N * K
        segment_sweeps = int(max(1, min(sweeps, 4e9 // max(units, 1))))
    else:
        segment_sweeps = _as_int("segment_sweeps", segment_sweeps, 1)

    bar = _Progress(progress, sweeps, done, f"mc P={P} N={N} K={K}")
    last_save = time.monotonic()
    segments = 0
    try:
        while done < sweeps:
            n = min(segment_sweeps, sweeps - done)
            carry = run(carry, xi, jnp.asarray(beta), sched, jnp.asarray(done, jnp.int64),
                        jnp.asarray(n, jnp.int64))
            jax.block_until_ready(carry)
            done += n
            segments += 1
            bar.update(n)
            if checkpoint is not None and (done == sweeps or time.monotonic() - last_save >= checkpoint_every):
                state = _take_samples(_host(carry), n_samples)       # collective in a multi-host run
                if jax.process_index() == 0:
                    _ckpt.save(checkpoint, state, dict(fingerprint=fingerprint, sweeps_done=done))
                last_save = time.monotonic()
            if _stop_after_segments is not None and segments >= _stop_after_segments and done < sweeps:
                raise KeyboardInterrupt("stopped on request (test hook)")
    finally:
        bar.close()

    chains, _, acc = _take_samples(_host(carry), n_samples)
    attrs = dict(
        package="densehebb", module="montecarlo.run.simulate", version=VERSION,
        convention=_convention_name(self_interaction),
        self_interaction=int(bool(self_interaction)), P=P, N=N, K=K, alpha=alpha_eff,
        dynamics=dynamics, update_order="sequential sweep i = 0..N-1", init=init,
        sweeps=sweeps, burn_in=burn_in, measure_every=measure_every, n_measurements=n_meas,
        n_blocks=n_blocks, n_samples=n_samples, n_replicas=n_replicas,
        tempering=int(bool(tempering)), swap_every=swap_every,
        seed=seed_attr, prng_key_data=str(np.asarray(jax.random.key_data(key)).tolist()),
        prng_impl=str(jax.random.key_impl(key)), jax_version=jax.__version__,
        n_devices=len(mkey), device_kind=str(_devices.resolve_devices(devices)[0].device_kind),
        delta_energy_arithmetic=(f"exact {plan.compute} chunks of {plan.chunk} terms, int64 total"
                                 if plan.exact else "float64 (not exact: terms exceed 2^62)"),
        delta_energy_exact=int(plan.exact),
        burn_in_note=("the first burn_in sweeps are discarded; observables are measured after every "
                      "measure_every-th of the remaining sweeps and time-averaged"),
        zero_temperature_rule=("T = 0: glauber accepts dH < 0, dH == 0 with probability 1/2; "
                               "metropolis accepts dH <= 0; greedy accepts dH < 0 only"),
    )
    if alpha is not None:
        attrs["alpha_requested"] = float(alpha)
    if checkpoint is not None:
        attrs["checkpoint"] = os.fspath(checkpoint)
    return _dataset(cfg, temps, n_samples, n_meas, measure_every, burn_in, chains, acc, attrs)


@functools.lru_cache(maxsize=16)
def _setup(cfg: EngineConfig, init: str, S_pad: int):
    """One jitted function key -> (patterns (S, N, K), initial carry): one compilation per configuration."""
    N, K, n_T, n_R = cfg.N, cfg.K, cfg.n_T, cfg.n_R

    def setup(key):
        xi = _patterns.rademacher(jax.random.fold_in(key, 0), N, K, S_pad)
        sigma0 = _initial_spins(jax.random.fold_in(key, 1), xi, init, n_T, n_R)
        keys = _chain_keys(jax.random.fold_in(key, 2), n_T, S_pad, n_R)
        chains = jax.vmap(make_init(cfg))(keys, sigma0, xi)
        swap_keys = jax.vmap(lambda s: jax.random.fold_in(jax.random.fold_in(key, 3), s))(jnp.arange(S_pad))
        return xi, (chains, swap_keys, init_accumulators(cfg, S_pad))

    return jax.jit(setup)


def _take_samples(tree, n):
    return jax.tree.map(lambda x: x[:n], tree)


def _merge_samples(full, real, n):
    return jax.tree.map(lambda f, r: f.at[:n].set(r) if f.shape[0] > n else r, full, real)


def _host(tree):
    """Device arrays -> host (keys stay typed JAX arrays, on the host's default device); gathers across
    processes in a multi-host run."""
    return _devices.to_host(tree)


# -------------------------------------------------------------------------------- autocorrelations
def _acf(a, total, n, L):
    """Autocovariances C(k), k = 0..L, per chain, from the engine's on-the-fly sums (numpy, any leading axes).

    C(k) = sum_{j>=k} x_j x_{j-k} / (n-k) - head_k tail_k / (n-k)^2 with head_k = sum_{j>=k} x_j and
    tail_k = sum_{j<n-k} x_j.  Lags with n - k < 2 are NaN.
    """
    first, ring, lag, sq = a["first"], a["ring"], a["lag"], a["sq"]
    shape = total.shape
    C = np.full(shape + (L + 1,), np.nan)
    C[..., 0] = sq / n - (total / n) ** 2
    cum_first = np.cumsum(first, axis=-1)
    for k in range(1, L + 1):
        nk = n - k
        if nk < 2:
            break
        head = total - cum_first[..., k - 1]
        last = sum(ring[..., (j % L)] for j in range(n - k, n))   # the last k values
        tail = total - last
        C[..., k] = lag[..., k - 1] / nk - head * tail / nk**2
    return C


def _tau_int(rho, c=6.0):
    """Integrated autocorrelation time with Sokal's automatic window: (tau, window, reliable)."""
    tau = 0.5
    for W in range(1, rho.size):
        if not np.isfinite(rho[W]):
            return tau, W - 1, False
        tau += rho[W]
        if W >= c * tau:
            return tau, W, True
    return tau, rho.size - 1, False


# ---------------------------------------------------------------------------------------- dataset
def _dataset(cfg, temps, n_samples, n_meas, measure_every, burn_in, chains, acc, attrs):
    """Assemble the xarray.Dataset returned by :func:`simulate` (internal layout (S, T, R) -> (T, S, R))."""
    N, B = cfg.N, cfg.n_blocks
    sw = lambda x: np.swapaxes(np.asarray(x), 0, 1)  # noqa: E731  (S, T, ...) -> (T, S, ...)
    block_size = np.bincount((np.arange(n_meas) * B) // n_meas, minlength=B)
    blocks = {k: sw(v) for k, v in acc["blocks"].items()}
    means = {k: v.sum(axis=-1) / n_meas for k, v in blocks.items()}
    per_block = {k: v / block_size for k, v in blocks.items()}
    if cfg.n_pairs == 0:
        for k in ("q", "q_abs"):
            means[k] = np.full(means[k].shape, np.nan)
            per_block[k] = np.full(per_block[k].shape, np.nan)
    n_attempts = N * n_meas * measure_every
    acceptance = sw((np.asarray(chains.accepted) - acc["acc0"]) / n_attempts)

    chain = ("T", "sample", "replica")
    pair = ("T", "sample")
    one = {"units": "1"}
    coords = {
        "T": ("T", temps, {"long_name": "temperature T = 1/beta (k_B = 1)", "units": "coupling units"}),
        "sample": ("sample", np.arange(n_samples), {"long_name": "disorder sample (pattern set) index", **one}),
        "replica": ("replica", np.arange(cfg.n_R), {"long_name": "replica index (independent chain)", **one}),
        "block": ("block", np.arange(B), {"long_name": "time block of the measurement phase", **one}),
        "block_size": ("block", block_size, {"long_name": "measurements per time block", **one}),
        "pattern": ("pattern", np.arange(cfg.n_track), {"long_name": "pattern index mu", **one}),
        "target_pattern": ("replica", np.asarray(cfg.targets),
                           {"long_name": "condensed pattern of the Mattis overlap m", **one}),
    }
    mattis = {"long_name": "Mattis overlap with the condensed pattern, m = (1/N) sum_i xi_i sigma_i, "
                           "time average", **one}
    mattis_abs = {"long_name": "|Mattis overlap with the condensed pattern|, time average", **one}
    mmax = {"long_name": "max over patterns of |m_mu|, time average", **one}
    en = {"long_name": "energy per neuron H/N, time average", "units": "coupling units per neuron"}
    qq = {"long_name": "two-replica overlap q = (1/N) sum_i sigma^0_i sigma^1_i, time average", **one}
    qa = {"long_name": "|two-replica overlap q|, time average", **one}
    blk = " within each time block"
    data = {
        "m": (chain, means["m"], mattis), "m_abs": (chain, means["m_abs"], mattis_abs),
        "m_max": (chain, means["m_max"], mmax), "energy": (chain, means["energy"], en),
        "acceptance": (chain, acceptance,
                       {"long_name": "accepted / attempted flips in the measurement phase", **one}),
        "q": (pair, means["q"], qq), "q_abs": (pair, means["q_abs"], qa),
        "mattis": (chain + ("pattern",), sw(acc["mattis"]) / n_meas,
                   {"long_name": "Mattis overlaps m_mu with patterns mu = 0..n_track-1, time average", **one}),
    }
    for name, att, dims in (("m", mattis, chain), ("m_abs", mattis_abs, chain), ("m_max", mmax, chain),
                            ("energy", en, chain), ("q", qq, pair), ("q_abs", qa, pair)):
        data[name + "_blocks"] = (dims + ("block",), per_block[name],
                                  {**att, "long_name": att["long_name"] + blk})

    # P(q): histogram over all replica pairs and measurements
    nb = cfg.q_bins
    j = np.arange(N + 1)
    b_of_j = (j * nb) // (N + 1)
    q_vals = (2 * j - N) / N
    centers = np.array([q_vals[b_of_j == b].mean() if np.any(b_of_j == b) else np.nan for b in range(nb)])
    lo = np.array([q_vals[b_of_j == b].min() if np.any(b_of_j == b) else np.nan for b in range(nb)])
    hi = np.array([q_vals[b_of_j == b].max() if np.any(b_of_j == b) else np.nan for b in range(nb)])
    counts = sw(acc["qhist"])
    tot = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        Pq = np.where(tot > 0, counts / np.maximum(tot, 1), np.nan)
    coords["q_bin"] = ("q_bin", np.arange(nb), {"long_name": "P(q) histogram bin", **one})
    coords["q_center"] = ("q_bin", centers, {"long_name": "mean overlap value in the bin", **one})
    coords["q_low"] = ("q_bin", lo, {"long_name": "smallest overlap value in the bin", **one})
    coords["q_high"] = ("q_bin", hi, {"long_name": "largest overlap value in the bin", **one})
    data["P_q"] = (pair + ("q_bin",), Pq, {"long_name": "P(q): fraction of replica-pair measurements with q "
                                                      "in the bin (pairs (0,1), (2,3), ...)", **one})
    data["q_counts"] = (pair + ("q_bin",), counts, {"long_name": "replica-pair measurements per q bin", **one})

    # autocorrelation (per T, averaged over chains) and integrated times
    L = cfg.max_lag
    coords["lag"] = ("lag", np.arange(L + 1) * measure_every,
                     {"long_name": "lag in sweeps", "units": "sweeps"})
    taus = {}
    for name, total in (("energy", blocks["energy"].sum(-1)), ("m", blocks["m"].sum(-1))):
        a = {k: sw(v) for k, v in acc["acf_" + name].items()}
        C = _acf(a, total, n_meas, L)                              # (T, S, R, L+1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)        # lags beyond the run: all NaN
            Cbar = np.nanmean(C.reshape(C.shape[0], -1, L + 1), axis=1)
        rho = np.full(Cbar.shape, np.nan)
        tau = np.full(Cbar.shape[0], np.nan)
        ok = np.zeros(Cbar.shape[0], bool)
        for t in range(Cbar.shape[0]):
            if np.isfinite(Cbar[t, 0]) and Cbar[t, 0] > 1e-300:
                rho[t] = Cbar[t] / Cbar[t, 0]
                tau_t, _, ok[t] = _tau_int(rho[t])
                tau[t] = tau_t * measure_every
        taus[name] = (tau, ok)
        data["acf_" + name] = (("T", "lag"), rho, {"long_name": f"normalised autocorrelation of {name}, "
                                                                "averaged over chains", **one})
        data["tau_" + name] = (("T",), tau, {"long_name": f"integrated autocorrelation time of {name} "
                                                         "(Sokal window, c = 6)", "units": "sweeps"})
        data["tau_" + name + "_reliable"] = (("T",), ok.astype(np.int8),
                                             {"long_name": "1 if the automatic window closed within max_lag",
                                              **one})

    # parallel tempering
    if cfg.n_T > 1:
        att = sw(acc["swap_attempts"]).sum(axis=(1, 2)) if cfg.tempering else np.zeros(cfg.n_T - 1)
        ok = sw(acc["swap_accepted"]).sum(axis=(1, 2)) if cfg.tempering else np.zeros(cfg.n_T - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(att > 0, ok / np.maximum(att, 1), np.nan)
        coords["T_pair"] = ("T_pair", np.arange(cfg.n_T - 1), {"long_name": "pair of neighbouring temperatures", **one})
        coords["T_low"] = ("T_pair", temps[:-1], {"long_name": "lower temperature of the pair", "units": "coupling units"})
        coords["T_high"] = ("T_pair", temps[1:], {"long_name": "higher temperature of the pair", "units": "coupling units"})
        data["swap_acceptance"] = (("T_pair",), rate, {"long_name": "replica-exchange acceptance rate", **one})
        data["swap_attempts"] = (("T_pair",), att.astype(np.int64), {"long_name": "replica-exchange attempts", **one})

    if cfg.series_len:
        s = {k: sw(v) for k, v in acc["series"].items()}
        coords["sweep"] = ("sweep", burn_in + (np.arange(n_meas) + 1) * measure_every,
                           {"long_name": "sweeps completed at the measurement", "units": "sweeps"})
        data["m_t"] = (chain + ("sweep",), s["m"], {**mattis, "long_name": "Mattis overlap m, time series"})
        data["energy_t"] = (chain + ("sweep",), s["energy"], {**en, "long_name": "energy per neuron, time series"})
        q_t = s["q"] if cfg.n_pairs else np.full(s["q"].shape, np.nan)
        data["q_t"] = (pair + ("sweep",), q_t, {**qq, "long_name": "overlap q of replicas 0 and 1, time series"})
    return xr.Dataset(data_vars=data, coords=coords, attrs=attrs)


# ---------------------------------------------------------------------------------------- summarize
def _estimate(values, blocks):
    """(mean, standard error, method) for one observable at one temperature.

    values: (n,) time averages of n independent units; blocks: (n, B) block averages.

    * n >= 2: mean and standard error sqrt(var / n) (ddof = 1) over the units.
    * n == 1: blocking over time for the single unit, SE = std(block means, ddof=1) / sqrt(B)
      ("blocking"); only honest if a block is much longer than the autocorrelation time.  With B < 2 the
      error is NaN ("none").
    * all-NaN values (q with a single replica): NaN, NaN ("unavailable").
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    if np.all(np.isnan(values)):
        return math.nan, math.nan, "unavailable"
    mean = float(values.mean())
    if values.size >= 2:
        return mean, float(values.std(ddof=1) / math.sqrt(values.size)), "independent"
    b = np.asarray(blocks, dtype=np.float64).ravel()
    if b.size < 2:
        return mean, math.nan, "none"
    return mean, float(b.std(ddof=1) / math.sqrt(b.size)), "blocking"


def _summary_at(ds_t, k):
    """Summary dict for one temperature slice of a :func:`simulate` dataset."""
    n_s, n_r = ds_t.sizes["sample"], ds_t.sizes["replica"]
    out = {"T": float(ds_t["T"]), "n_chains": int(n_s * n_r), "n_samples": int(n_s)}
    for name in ("m", "m_abs", "m_max", "energy"):
        v = ds_t[name].values                                   # (S, R)
        b = ds_t[name + "_blocks"].values                       # (S, R, B)
        if n_s >= 2:   # disorder samples are the independent units (replicas averaged within a sample)
            mean, err, _ = _estimate(v.mean(axis=1), b.mean(axis=1))
            method = "samples"
        elif n_r >= 2:
            mean, err, _ = _estimate(v.ravel(), b.reshape(n_r, -1))
            method = "replicas (one sample: thermal error only)"
        else:
            mean, err, method = _estimate(v.ravel(), b.reshape(1, -1))
        out[name], out[name + "_err"] = mean, err
    out["error_method_chains"] = method
    for name in ("q", "q_abs"):
        mean, err, method = _estimate(ds_t[name].values, ds_t[name + "_blocks"].values)
        out[name], out[name + "_err"] = mean, err
    out["error_method_q"] = "samples" if method == "independent" else method
    out["acceptance"] = float(ds_t["acceptance"].values.mean())
    for name in ("energy", "m"):
        out["tau_" + name] = float(ds_t["tau_" + name])
        out["tau_" + name + "_reliable"] = bool(ds_t["tau_" + name + "_reliable"])
    return out


def equilibration(ds, k=None):
    """Equilibration diagnostics at temperature index ``k`` (all temperatures if None).

    For each temperature: tau (the larger integrated autocorrelation time of energy and m, in sweeps),
    burn_in_over_tau, measured_over_tau ((sweeps - burn_in) / tau, the number of independent
    measurements is about half of it), drift_z (difference of the chain-averaged energy between the
    second and first half of the measurement phase, in standard errors over chains) and ``equilibrated``:
    tau estimates reliable, burn-in >= 10 tau, measurement >= 50 tau and |drift_z| < 3.
    """
    out = {}
    sweeps, burn_in = int(ds.attrs["sweeps"]), int(ds.attrs["burn_in"])
    ks = range(ds.sizes["T"]) if k is None else [k]
    for i in ks:
        d = ds.isel(T=i)
        tau_vals = [float(d["tau_energy"]), float(d["tau_m"])]
        finite = [t for t in tau_vals if math.isfinite(t)]
        reliable = all(bool(d["tau_" + n + "_reliable"]) or not math.isfinite(float(d["tau_" + n]))
                       for n in ("energy", "m"))
        tau = max(finite) if finite else math.nan
        eb = d["energy_blocks"].values.reshape(-1, d.sizes["block"])
        B = eb.shape[1]
        if B >= 2 and eb.shape[0] >= 2:
            diff = eb[:, B // 2:].mean(axis=1) - eb[:, : B // 2].mean(axis=1)
            se = diff.std(ddof=1) / math.sqrt(diff.size)
            drift = float(diff.mean() / se) if se > 0 else (0.0 if diff.mean() == 0 else math.inf)
        else:
            drift = math.nan
        frozen = not finite  # no fluctuations at all (e.g. T = 0 fixed points)
        eq = frozen or (reliable and burn_in >= 10 * tau and (sweeps - burn_in) >= 50 * tau
                        and (not math.isfinite(drift) or abs(drift) < 3))
        out[float(d["T"])] = {"tau": tau, "tau_reliable": reliable,
                              "burn_in_over_tau": burn_in / tau if finite else math.inf,
                              "measured_over_tau": (sweeps - burn_in) / tau if finite else math.inf,
                              "drift_z": drift, "equilibrated": bool(eq)}
    return out if k is None else out[next(iter(out))]


def summarize(ds):
    """Disorder- and chain-averaged estimates with standard errors, per temperature.

    Returns, for a dataset with a single temperature, a flat dict; otherwise ``{T: dict}`` keyed by the
    float temperature.  Each dict holds T, n_chains, n_samples, m, m_err, m_abs, m_abs_err, m_max,
    m_max_err, q, q_err, q_abs, q_abs_err, energy, energy_err, acceptance (mean over chains), tau_energy,
    tau_m (integrated autocorrelation times in sweeps) and their reliability, the equilibration
    diagnostics of :func:`equilibration` (``equilibrated``, ``drift_z``, ...), and with tempering
    ``swap_acceptance_up`` (acceptance of swaps with the next higher temperature).

    Errors (standard errors of the mean) come from disorder samples:

    * m, m_abs, m_max, energy: with n_samples >= 2 the replica-averaged value of each sample is one
      independent unit ("samples"); with a single sample the replicas are the units (thermal error only);
      with a single chain, blocking over time.
    * q, q_abs: one value per disorder sample (replicas 0 and 1), SE over samples.
    """
    out = {}
    eq = equilibration(ds)
    for k, t in enumerate(ds["T"].values):
        d = _summary_at(ds.isel(T=k), k)
        e = eq[float(t)]
        d.update(equilibrated=e["equilibrated"], drift_z=e["drift_z"], burn_in_over_tau=e["burn_in_over_tau"],
                 measured_over_tau=e["measured_over_tau"])
        if "swap_acceptance" in ds and k < ds.sizes["T"] - 1 and int(ds.attrs.get("tempering", 0)):
            d["swap_acceptance_up"] = float(ds["swap_acceptance"].values[k])
        out[float(t)] = d
    if ds.sizes["T"] == 1:
        return out[next(iter(out))]
    return out
