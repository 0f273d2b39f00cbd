"""Batched Monte Carlo runs: :func:`simulate` -> ``xarray.Dataset``, and :func:`summarize`.

Chain layout: leading axes (T, sample, replica).  Each disorder sample has one Rademacher pattern set,
shared by all temperatures and replicas of that sample; every chain has its own PRNG key.

Protocol of :func:`simulate` (all sweeps are sequential sweeps of N single-spin-flip attempts):

1. Start: ``init="pattern"`` puts every chain at sigma = xi^0 (pattern 0 of its sample, m = 1);
   ``init="random"`` draws i.i.d. +-1 spins, one configuration per (sample, replica) reused at every T.
2. Burn-in: the first ``burn_in`` sweeps are run and discarded (no measurement, acceptance not counted).
   Choose it long compared to the equilibration time; nothing here checks equilibration.
3. Measurement: the remaining ``sweeps - burn_in`` sweeps; observables are measured after every
   ``measure_every``-th sweep, i.e. ``n_measurements = (sweeps - burn_in) / measure_every`` times (this must
   be an integer).  Time averages are over these measurements.  They are also accumulated in ``n_blocks``
   contiguous blocks of (nearly) equal length, kept as ``*_blocks`` variables, for blocking error estimates.

Randomness: the key (an int seed or a JAX key) is folded into independent streams: patterns of sample s
from ``fold_in(fold_in(key, 0), s)``, random initial spins of (s, r) from ``fold_in(key, 1)``, and chain
(t, s, r) from ``fold_in(key, 2)`` folded with s, r, t.  The same key gives bit-identical results; adding
samples, replicas or temperatures does not change the patterns or chains that were already there.
"""
from __future__ import annotations

import functools
import math
from numbers import Integral, Real

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from . import patterns as _patterns
from .dynamics import DYNAMICS, batch_chains, run_sweeps
from .energy import check_order, energy_from_overlaps

INITS = ("pattern", "random")


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
        from theory.spec import convention_name
    except ImportError:
        return "all-tuples" if self_interaction else "distinct-indices"
    return convention_name(bool(self_interaction))


# ------------------------------------------------------------------------------------------- kernel
@functools.lru_cache(maxsize=32)
def _kernel(N, K, P, self_interaction, dynamics, n_blocks, n_replicas):
    """Jitted run of all chains; static: sizes, model, dynamics, number of blocks and of replicas.

    ``burn_in``, ``n_meas`` and ``measure_every`` are traced, so changing the run length does not
    recompile.  Returns per-block sums (m, |m|, e, q, |q|) and the measurement-phase acceptance.
    """
    init1, step1 = DYNAMICS[dynamics](N, K, P, self_interaction)
    init_b, step_b = batch_chains(init1, step1)

    def observe(state):
        m = state.M[..., 0].astype(jnp.float64) / N
        e = energy_from_overlaps(state.M, N, P, self_interaction) / N
        if n_replicas >= 2:
            s0 = state.sigma[..., 0, :].astype(jnp.int32)
            s1 = state.sigma[..., 1, :].astype(jnp.int32)
            q = jnp.sum(s0 * s1, axis=-1).astype(jnp.float64) / N
        else:
            q = jnp.full(state.sigma.shape[:-2], jnp.nan)
        return m, jnp.abs(m), e, q, jnp.abs(q)

    def kernel(xi, keys, sigma0, beta, burn_in, n_meas, measure_every):
        state = init_b(keys, sigma0, xi)
        state = run_sweeps(step_b, state, xi, beta, burn_in)
        accepted0 = state.accepted
        blocks = tuple(jnp.zeros((n_blocks,) + v.shape, jnp.float64) for v in observe(state))

        def measure(t, carry):
            state, blocks = carry
            state = run_sweeps(step_b, state, xi, beta, measure_every)
            b = (t * n_blocks) // n_meas
            blocks = tuple(acc.at[b].add(v) for acc, v in zip(blocks, observe(state)))
            return state, blocks

        state, blocks = jax.lax.fori_loop(0, n_meas, measure, (state, blocks))
        n_attempts = (N * n_meas * measure_every)
        acceptance = (state.accepted - accepted0).astype(jnp.float64) / n_attempts
        return blocks, acceptance, state

    return jax.jit(kernel)


def _chain_keys(key, n_T, n_samples, n_replicas):
    """Keys (n_T, n_samples, n_replicas): fold_in(fold_in(fold_in(key, s), r), t)."""
    def one(t, s, r):
        return jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(key, s), r), t)
    t, s, r = jnp.meshgrid(jnp.arange(n_T), jnp.arange(n_samples), jnp.arange(n_replicas), indexing="ij")
    return jax.vmap(one)(t.ravel(), s.ravel(), r.ravel()).reshape(n_T, n_samples, n_replicas)


def _initial_spins(key, xi, init, n_T, n_replicas):
    """sigma0 with shape (n_T, n_samples, n_replicas, N), int8."""
    n_samples, N, _ = xi.shape
    if init == "pattern":
        s0 = jnp.broadcast_to(xi[:, None, :, 0], (n_samples, n_replicas, N))
    else:
        def one(s, r):
            k = jax.random.fold_in(jax.random.fold_in(key, s), r)
            return jnp.where(jax.random.bernoulli(k, 0.5, (N,)), 1, -1).astype(jnp.int8)
        s, r = jnp.meshgrid(jnp.arange(n_samples), jnp.arange(n_replicas), indexing="ij")
        s0 = jax.vmap(one)(s.ravel(), r.ravel()).reshape(n_samples, n_replicas, N)
    return jnp.broadcast_to(s0, (n_T,) + s0.shape).astype(jnp.int8)


# ----------------------------------------------------------------------------------------- simulate
def simulate(key, N, alpha=None, K=None, T=(0.5,), n_samples=1, n_replicas=2, sweeps=1000, burn_in=200,
             measure_every=1, dynamics="glauber", init="pattern", P=2, self_interaction=False, n_blocks=10):
    """Run independent Monte Carlo chains for every (temperature, disorder sample, replica).

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
        (it is NaN otherwise) and uses replicas 0 and 1.
    sweeps, burn_in, measure_every : int
        Total sweeps (> burn_in >= 0), discarded burn-in sweeps, and sweeps between measurements;
        ``sweeps - burn_in`` must be a multiple of ``measure_every``.
    dynamics : "glauber" | "metropolis"
    init : "pattern" | "random"
    P : int
        Interaction order; only P = 2 is implemented (NotImplementedError otherwise).
    self_interaction : bool
        Energy convention (False: distinct indices, the default; True: all tuples).
    n_blocks : int >= 1
        Number of time blocks kept for blocking errors (capped at the number of measurements).  The
        compiled kernel depends on N, K, P, convention, dynamics, number of blocks and array shapes, not
        on sweeps / burn_in / measure_every.

    Returns
    -------
    xarray.Dataset with dims (T, sample, replica, block) and float64 variables
        m (T, sample, replica): time average of the Mattis overlap m_0 = (1/N) sum_i xi_i^0 sigma_i (signed);
        m_abs: time average of |m_0|;
        energy (T, sample, replica): time average of H/N (energy per neuron, chosen convention);
        acceptance (T, sample, replica): accepted / attempted flips in the measurement phase;
        q, q_abs (T, sample): time averages of q = (1/N) sum_i sigma^0_i sigma^1_i and of |q|;
        m_blocks, m_abs_blocks, energy_blocks (T, sample, replica, block), q_blocks, q_abs_blocks
        (T, sample, block): the same time averages within each block (coordinate ``block_size`` gives
        the measurements per block).
    Attributes record the provenance (package, convention, P, N, K, alpha, dynamics, sweeps, burn-in,
    seed, init, ...).
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
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; available: {list(INITS)}")
    if not isinstance(self_interaction, (bool, np.bool_)):
        raise ValueError(f"self_interaction must be a bool, got {self_interaction!r}")
    n_meas = (sweeps - burn_in) // measure_every
    n_blocks = min(_as_int("n_blocks", n_blocks, 1), n_meas)
    key, seed_attr = _as_key(key)

    xi = _patterns.rademacher(jax.random.fold_in(key, 0), N, K, n_samples)
    sigma0 = _initial_spins(jax.random.fold_in(key, 1), xi, init, temps.size, n_replicas)
    keys = _chain_keys(jax.random.fold_in(key, 2), temps.size, n_samples, n_replicas)
    with np.errstate(divide="ignore"):
        beta = np.where(temps > 0, 1.0 / np.where(temps > 0, temps, 1.0), np.inf)

    run = _kernel(N, K, P, bool(self_interaction), dynamics, n_blocks, n_replicas)
    blocks, acceptance, _ = run(xi, keys, sigma0, jnp.asarray(beta), burn_in, n_meas, measure_every)
    blocks = [np.asarray(b) for b in blocks]
    acceptance = np.asarray(acceptance)

    block_size = np.bincount((np.arange(n_meas) * n_blocks) // n_meas, minlength=n_blocks)
    means = [b.sum(axis=0) / n_meas for b in blocks]
    per_block = [np.moveaxis(b / block_size.reshape((-1,) + (1,) * (b.ndim - 1)), 0, -1) for b in blocks]

    attrs = dict(
        package="densehebb", module="montecarlo.run.simulate", convention=_convention_name(self_interaction),
        self_interaction=int(bool(self_interaction)), P=P, N=N, K=K, alpha=alpha_eff,
        dynamics=dynamics, update_order="sequential sweep i = 0..N-1", init=init,
        sweeps=sweeps, burn_in=burn_in, measure_every=measure_every, n_measurements=n_meas,
        n_blocks=n_blocks, n_samples=n_samples, n_replicas=n_replicas,
        seed=seed_attr, prng_key_data=str(np.asarray(jax.random.key_data(key)).tolist()),
        prng_impl=str(jax.random.key_impl(key)), jax_version=jax.__version__,
        burn_in_note=("the first burn_in sweeps are discarded; observables are measured after every "
                      "measure_every-th of the remaining sweeps and time-averaged"),
        zero_temperature_rule=("T = 0: glauber accepts dH < 0, dH == 0 with probability 1/2; "
                               "metropolis accepts dH <= 0"),
    )
    if alpha is not None:
        attrs["alpha_requested"] = float(alpha)
    return _dataset(temps, n_samples, n_replicas, block_size, means, per_block, acceptance, attrs)


def _dataset(temps, n_samples, n_replicas, block_size, means, per_block, acceptance, attrs):
    """Assemble the xarray.Dataset returned by :func:`simulate` (coordinates carry units / long_name)."""
    m, m_abs, e, q, q_abs = means
    m_b, m_abs_b, e_b, q_b, q_abs_b = per_block
    chain = ("T", "sample", "replica")
    pair = ("T", "sample")
    one = {"units": "1"}
    coords = {
        "T": ("T", temps, {"long_name": "temperature T = 1/beta (k_B = 1)", "units": "coupling units"}),
        "sample": ("sample", np.arange(n_samples), {"long_name": "disorder sample (pattern set) index", **one}),
        "replica": ("replica", np.arange(n_replicas), {"long_name": "replica index (independent chain)", **one}),
        "block": ("block", np.arange(block_size.size), {"long_name": "time block of the measurement phase", **one}),
        "block_size": ("block", block_size, {"long_name": "measurements per time block", **one}),
    }
    mattis = {"long_name": "Mattis overlap with pattern 0, m = (1/N) sum_i xi_i^0 sigma_i, time average", **one}
    mattis_abs = {"long_name": "|Mattis overlap with pattern 0|, time average", **one}
    en = {"long_name": "energy per neuron H/N, time average", "units": "coupling units per neuron"}
    qq = {"long_name": "two-replica overlap q = (1/N) sum_i sigma^0_i sigma^1_i, time average", **one}
    qa = {"long_name": "|two-replica overlap q|, time average", **one}
    blk = " within each time block"
    data = {
        "m": (chain, m, mattis), "m_abs": (chain, m_abs, mattis_abs), "energy": (chain, e, en),
        "acceptance": (chain, acceptance,
                       {"long_name": "accepted / attempted flips in the measurement phase", **one}),
        "q": (pair, q, qq), "q_abs": (pair, q_abs, qa),
        "m_blocks": (chain + ("block",), m_b, {**mattis, "long_name": mattis["long_name"] + blk}),
        "m_abs_blocks": (chain + ("block",), m_abs_b, {**mattis_abs, "long_name": mattis_abs["long_name"] + blk}),
        "energy_blocks": (chain + ("block",), e_b, {**en, "long_name": en["long_name"] + blk}),
        "q_blocks": (pair + ("block",), q_b, {**qq, "long_name": qq["long_name"] + blk}),
        "q_abs_blocks": (pair + ("block",), q_abs_b, {**qa, "long_name": qa["long_name"] + blk}),
    }
    return xr.Dataset(data_vars=data, coords=coords, attrs=attrs)


# ---------------------------------------------------------------------------------------- summarize
def _estimate(values, blocks):
    """(mean, standard error, method) for one observable at one temperature.

    values: (n,) time averages of n independent units (chains or samples); blocks: (n, B) block averages.

    * n >= 2: mean and standard error sqrt(var / n) (ddof = 1) over the independent units ("independent").
    * n == 1: blocking over time for the single unit, SE = std(block means, ddof=1) / sqrt(B)
      ("blocking"); only honest if a block (sweeps - burn_in) / B is much longer than the
      autocorrelation time.  With B < 2 the error is NaN ("none").
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


def _summary_at(ds_t):
    """Summary dict for one temperature slice of a :func:`simulate` dataset."""
    n_chains = ds_t.sizes["sample"] * ds_t.sizes["replica"]
    chain_blocks = lambda name: ds_t[name].values.reshape(n_chains, -1)  # noqa: E731
    out = {"T": float(ds_t["T"]), "n_chains": int(n_chains), "n_samples": int(ds_t.sizes["sample"])}
    for name in ("m", "m_abs", "energy"):
        mean, err, method = _estimate(ds_t[name].values, chain_blocks(name + "_blocks"))
        out[name], out[name + "_err"] = mean, err
    out["error_method_chains"] = method
    for name in ("q", "q_abs"):
        mean, err, method = _estimate(ds_t[name].values, ds_t[name + "_blocks"].values)
        out[name], out[name + "_err"] = mean, err
    out["error_method_q"] = method
    out["acceptance"] = float(ds_t["acceptance"].values.mean())
    return out


def summarize(ds):
    """Disorder- and chain-averaged estimates with standard errors, per temperature.

    Returns, for a dataset with a single temperature, a flat dict; otherwise ``{T: dict}`` keyed by the
    float temperature.  Each dict holds T, n_chains, n_samples, m, m_err, m_abs, m_abs_err, q, q_err,
    q_abs, q_abs_err, energy, energy_err, acceptance (mean over chains) and the error methods.

    Errors are standard errors of the mean over independent units:

    * m, m_abs, energy: the n_samples x n_replicas chains are treated as independent (replicas of one
      sample share the patterns, so with few samples this measures thermal, not disorder, fluctuations);
    * q, q_abs: one value per disorder sample (replicas 0 and 1), SE over samples.

    With a single unit (one chain, resp. one sample) the error comes from blocking over time (the
    ``*_blocks`` variables); it is NaN if there is only one block.  See :func:`_estimate`.
    """
    if ds.sizes["T"] == 1:
        return _summary_at(ds.isel(T=0))
    return {float(t): _summary_at(ds.isel(T=k)) for k, t in enumerate(ds["T"].values)}
