"""Storage capacity from simulation: which patterns remain retrieval attractors, versus the load.

Protocol (:func:`capacity_curve`).  For every system size N and load alpha (K = round(alpha N^(P-1))),
``n_samples`` independent pattern sets are drawn; in each, chains start exactly at patterns
0..n_starts-1 (one chain per starting pattern) and run zero-temperature sequential dynamics
(``greedy``: flip iff dH < 0, sites i = 0..N-1 in order) until a whole sweep makes no flip -- a fixed point
-- or ``max_sweeps`` is reached.  (At T > 0 the chains run ``glauber`` for ``max_sweeps`` sweeps instead.)
The final Mattis overlap m_f with the starting pattern is recorded.  A pattern counts as retrieved if
m_f >= ``threshold`` (default 0.9: below alpha_c the retrieval fixed point has m ~ 0.97-1, above it the
chain drifts to m ~ 0.3).

All loads of one N run together as one batch: the pattern sets are padded with zero columns up to the
largest K of the grid (a zero column contributes exactly nothing to any energy change), so each N compiles
once.  The runs use the Monte Carlo engine (exact O(K) energy changes, samples sharded over devices).

Finite-size extrapolation (:func:`extrapolate`).  alpha_c(N) is the load where the retrieved fraction
f(alpha) crosses 1/2 (linear interpolation between the grid points that bracket the crossing), with a
bootstrap error over disorder samples.  The estimates are fitted by weighted least squares with
alpha_c(N) = alpha_c + a N^(-1/2) (``exponent``), and alpha_c (``alpha_c_mc``) is reported with its
standard error (``alpha_c_mc_err``, inflated by sqrt(chi^2/dof) when that exceeds 1).
"""
from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from densehebb.theory.precision import x64

from . import devices as _devices
from . import patterns as _patterns
from .dataset import attrs as _attrs
from .dataset import capacity_dataset
from .engine import EngineConfig, Sweeps, compiled_segment, make_init
from .inputs import as_int, as_key, check_model, key_attrs
from .stats import Stats


@functools.lru_cache(maxsize=16)
def _setup(cfg: EngineConfig, S_pad: int, Ks: tuple, n_samples: int):
    """Jitted key -> (xi (S_pad, N, Kmax) zero-padded per load, chains (S, 1, R) started at patterns 0..R-1)."""
    N, Kmax, R = cfg.N, cfg.K, cfg.n_R
    init = make_init(cfg)
    # sample index s = a * n_samples + j: load a, disorder sample j
    K_of = np.repeat(np.asarray(Ks, np.int32), n_samples)
    K_of = np.concatenate([K_of, np.full(S_pad - K_of.size, Ks[-1], np.int32)])

    def setup(key):
        def one(s, K_s):
            a, j = s // n_samples, s % n_samples
            k = jax.random.fold_in(jax.random.fold_in(key, a), j)
            xi = _patterns.rademacher_single(k, N, Kmax)
            return jnp.where(jnp.arange(Kmax)[None, :] < K_s, xi, 0).astype(jnp.int8)
        xi = jax.vmap(one)(jnp.arange(S_pad), jnp.asarray(K_of))
        sigma0 = jnp.moveaxis(xi[:, :, :R], 2, 1)[:, None]                      # (S, 1, R, N)
        keys = jax.vmap(lambda s: jax.random.split(jax.random.fold_in(jax.random.fold_in(key, 10**6), s),
                                                   R))(jnp.arange(S_pad))[:, None]
        return xi, jax.vmap(init)(keys, sigma0, xi)

    return jax.jit(setup)


@functools.lru_cache(maxsize=16)
def _own_overlap(R):
    """Jitted chains -> (accepted (S, R), m_own (S, R) integer overlap of replica r with pattern r)."""
    def f(chains):
        M = chains.M[:, 0].astype(jnp.int32)                                 # (S, R, K)
        r = jnp.arange(R)
        return chains.accepted[:, 0], M[:, r, r]
    return jax.jit(f)


@x64
def run_size(key, model, N, alphas, n_samples=16, n_starts=16, T=0.0, max_sweeps=100, threshold=0.9,
             devices=None, check_every=2):
    """Final overlaps for one N over all loads (``model``: P and convention).

    Returns a dict with m_final (n_alpha, n_samples, n_starts), K (n_alpha,), sweeps (sweeps run),
    converged (n_alpha, n_samples, n_starts) bool (a fixed point was reached, T = 0 only).

    Stopping rule at T = 0: the run stops as soon as every chain whose overlap is still >= ``threshold``
    sits at a fixed point (a whole sweep without a flip), or after ``max_sweeps``.  Chains that are
    still moving at that time have already fallen below the threshold and, under descent, keep moving
    away from the pattern (their m_final is recorded as it is; ``converged`` is False for them).  At
    T > 0 the chains run ``max_sweeps`` glauber sweeps.
    """
    model = check_model(model)
    P = model.P
    key, _ = as_key(key)
    N = as_int("N", N, 2)
    alphas = np.asarray(alphas, np.float64)
    Ks = tuple(int(round(a * N ** (P - 1))) for a in alphas)
    if min(Ks) < n_starts:
        raise ValueError(f"the smallest load gives K = {min(Ks)} patterns at N = {N}, fewer than "
                         f"n_starts = {n_starts}")
    dyn = "greedy" if T == 0 else "glauber"
    cfg = EngineConfig(N=N, K=max(Ks), P=P, self_interaction=model.self_interaction, dynamics=dyn, n_T=1,
                       n_R=int(n_starts))
    mkey = _devices.mesh_key(devices)
    S = len(Ks) * n_samples
    S_pad = _devices.padded_samples(S, mkey)
    xi, chains = _setup(cfg, S_pad, Ks, int(n_samples))(key)
    xi = _devices.put_samples(xi, mkey)
    carry = _devices.put_samples((chains, None, {}), mkey)
    segment = compiled_segment(cfg, Sweeps(), mkey)
    none = jnp.zeros((0,), jnp.int64)

    def run(carry, n):
        return segment(carry, xi, beta, none, jnp.asarray(0, jnp.int64), jnp.asarray(n, jnp.int64))

    probe = _own_overlap(int(n_starts))
    beta = jnp.asarray([np.inf if T == 0 else 1.0 / T])
    done = 0
    moving = np.ones((S_pad, n_starts), bool)
    if T == 0:
        while done < max_sweeps:
            n = min(check_every, max_sweeps - done)
            if n > 1:
                carry = run(carry, n - 1)
                done += n - 1
            before, _ = _devices.to_host(probe(carry[0]))
            carry = run(carry, 1)
            done += 1
            after, M_own = _devices.to_host(probe(carry[0]))
            moving = after != before
            high = M_own >= threshold * N
            if not (moving & high)[:S].any():
                break
    else:
        carry = run(carry, max_sweeps)
        done = max_sweeps
    _, M_own = _devices.to_host(probe(carry[0]))
    m = M_own[:S].astype(np.float64) / N
    shape = (len(Ks), n_samples, n_starts)
    conv = ~moving[:S] if T == 0 else np.zeros((S, n_starts), bool)
    return dict(m_final=m.reshape(shape), K=np.asarray(Ks), sweeps=done, converged=conv.reshape(shape))


@x64
def capacity_curve(key, model, Ns=(500, 1000, 2000), alphas=None, n_samples=32, n_starts=16, T=0.0,
                   max_sweeps=100, threshold=0.9, devices=None, progress=False):
    """Final retrieval overlaps versus load for several N: an ``xarray.Dataset``.

    Variables: m_final (N, alpha, sample, start); K (N, alpha); sweeps (N): sweeps run; converged
    (N, alpha, sample, start): the chain reached a fixed point (T = 0).  ``key``: int seed or PRNG key;
    size N uses ``fold_in(key, N)``.  ``model``: P and convention (plain patterns).
    """
    model = check_model(model)
    key, seed_attr = as_key(key)
    P = model.P
    if alphas is None:
        alphas = default_alphas(P)
    alphas = np.asarray(sorted(float(a) for a in alphas))
    Ns = [int(n) for n in Ns]
    out = []
    it = Ns
    if progress:
        from tqdm import tqdm
        it = tqdm(Ns, desc="capacity --mc", unit="N", leave=False)
    for N in it:
        out.append(run_size(jax.random.fold_in(key, N), model, N, alphas, n_samples, n_starts, T, max_sweeps,
                            threshold, devices))
    attrs = _attrs(model, "densehebb.montecarlo.capacity_curve", T=float(T),
                   dynamics="greedy (zero-temperature strict descent)" if T == 0 else "glauber",
                   protocol="chains started at patterns 0..n_starts-1, run to a fixed point (T = 0) or "
                            "max_sweeps; retrieved if m_final >= threshold",
                   n_samples=n_samples, n_starts=n_starts, max_sweeps=max_sweeps, threshold=threshold,
                   seed=seed_attr, **key_attrs(key))
    return capacity_dataset(Ns, alphas, out, attrs)


def default_alphas(P):
    if P == 2:
        return np.round(np.arange(0.12, 0.2001, 0.01), 4)
    raise ValueError(f"give the loads (alphas) for P = {P}")


# ------------------------------------------------------------------------------------- extrapolation
def _logistic_fit(alphas, k, n):
    """Maximum-likelihood fit of f(alpha) = 1 / (1 + exp((alpha - c) / w)) to k retrieved out of n.

    Returns c (the load where f = 1/2).  Binomial likelihood; w > 0 is fitted in log space.
    """
    from scipy.optimize import minimize

    alphas = np.asarray(alphas, float)
    k = np.asarray(k, float)
    n = np.asarray(n, float)
    f = k / n
    # start: linear interpolation of the 1/2 crossing
    c0 = _crossing(alphas, f)
    if not np.isfinite(c0):
        c0 = alphas[np.argmin(np.abs(f - 0.5))]
    w0 = max(0.25 * (alphas[-1] - alphas[0]) / max(len(alphas) - 1, 1), 1e-4)

    def nll(p):
        c, lw = p
        z = (alphas - c) / np.exp(lw)
        # log f = -log(1 + e^z), log(1 - f) = z - log(1 + e^z)
        l1p = np.logaddexp(0.0, z)
        return -np.sum(k * (-l1p) + (n - k) * (z - l1p))

    res = minimize(nll, [c0, math.log(w0)], method="Nelder-Mead",
                   options=dict(xatol=1e-7, fatol=1e-9, maxiter=4000))
    return float(res.x[0])


def _crossing(alphas, f):
    """Load where f first crosses 1/2 downwards (linear interpolation), NaN if it does not."""
    for a in range(len(alphas) - 1):
        if f[a] >= 0.5 > f[a + 1]:
            return float(alphas[a] + (f[a] - 0.5) / (f[a] - f[a + 1]) * (alphas[a + 1] - alphas[a]))
    return math.nan


def extrapolate(ds, threshold=None, exponent=0.5, n_boot=200, seed=0):
    """Finite-size extrapolation of alpha_c from a :func:`capacity_curve` Dataset.

    alpha_c(N): maximum-likelihood logistic fit of the retrieved fraction f(alpha) (m_final >= threshold),
    centre where f = 1/2; error: bootstrap over disorder samples (``n_boot`` resamplings, independently at
    each load).  Then a weighted least-squares fit alpha_c(N) = alpha_c + a N^(-exponent).

    Returns a dict: alpha_c_mc, alpha_c_mc_err, slope, chi2_dof, N, alpha_c_N, alpha_c_N_err, exponent,
    threshold, fraction (N x alpha list), mean_m_final (N x alpha list), alphas, and ``stats``: the
    :class:`~montecarlo.stats.Stats` of every alpha_c(N) (bootstrap) and of the limit alpha_c_mc.
    """
    thr = float(ds.attrs.get("threshold", 0.9)) if threshold is None else float(threshold)
    alphas = ds["alpha"].values
    Ns = ds["N"].values
    rng = np.random.default_rng(seed)
    ok = ds["m_final"].values >= thr                                  # (N, alpha, sample, start)
    n_s, n_r = ok.shape[2], ok.shape[3]
    per_sample = ok.sum(axis=3)                                        # (N, alpha, sample)
    c, c_err = [], []
    for i in range(len(Ns)):
        k = per_sample[i].sum(axis=1)
        n = np.full(len(alphas), n_s * n_r)
        c.append(_logistic_fit(alphas, k, n))
        boots = []
        for _ in range(n_boot):
            idx = rng.integers(0, n_s, size=(len(alphas), n_s))
            kb = np.take_along_axis(per_sample[i], idx, axis=1).sum(axis=1)
            boots.append(_logistic_fit(alphas, kb, n))
        c_err.append(float(np.std(boots, ddof=1)))
    per_N = [Stats(float(ci), ei, math.nan, "bootstrap") for ci, ei in zip(c, c_err)]
    c, c_err = np.asarray(c), np.asarray(c_err)
    x = Ns.astype(float) ** (-exponent)
    out = dict(N=Ns.tolist(), alpha_c_N=c.tolist(), alpha_c_N_err=c_err.tolist(), exponent=exponent,
               threshold=thr, alphas=alphas.tolist(),
               fraction=ok.mean(axis=(2, 3)).tolist(),
               mean_m_final=ds["m_final"].values.mean(axis=(2, 3)).tolist())
    if len(Ns) >= 2 and np.all(c_err > 0):
        w = 1.0 / c_err**2
        A = np.stack([np.ones_like(x), x], axis=1)
        cov = np.linalg.inv(A.T @ (A * w[:, None]))
        beta = cov @ (A.T @ (w * c))
        resid = c - A @ beta
        dof = len(Ns) - 2
        chi2 = float(np.sum(w * resid**2))
        scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
        limit = Stats(float(beta[0]), float(math.sqrt(cov[0, 0] * scale)), math.nan, "weighted least squares")
        out.update(slope=float(beta[1]), chi2_dof=chi2 / dof if dof > 0 else math.nan)
    else:
        limit = Stats(math.nan, math.nan, math.nan, "unavailable")
        out.update(slope=math.nan, chi2_dof=math.nan)
    out.update(limit.to_dict("alpha_c_mc"), stats={"alpha_c_N": per_N, "alpha_c_mc": limit})
    return out
