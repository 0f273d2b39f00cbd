"""Storage capacity from simulation: which patterns remain retrieval attractors, versus the load.

Protocol (:func:`capacity_curve`).  For every system size N and load alpha (K = round(alpha N^(P-1))),
``n_samples`` independent pattern sets are drawn; in each, chains start exactly at patterns
0..n_starts-1 (one chain per starting pattern).  ``protocol``:

* ``"greedy"`` (default): zero-temperature sequential dynamics (``greedy``: flip iff dH < 0, sites
  i = 0..N-1 in order) until a whole sweep makes no flip -- a fixed point -- or ``max_sweeps``.  Descent
  stops in the first local minimum next to the pattern: it measures a *dynamical* threshold (for P >= 3
  the minima near a pattern are many, and the greedy alpha_c(N) lies above the thermodynamic one).
* ``"anneal"``: first ``anneal_sweeps`` Glauber sweeps with the temperature lowered linearly from
  ``anneal_T`` to 0 (in ``anneal_stages`` equal stages, stage k at T = anneal_T (1 - k / anneal_stages)),
  then the greedy quench above.  Thermal moves let the chain leave shallow minima near the pattern, so a
  pattern counts as retrieved only if a low-temperature state of high overlap survives: closer to the
  thermodynamic criterion (an upper bound of the equilibrium alpha_c, approached as the anneal gets slower).

(At T > 0 -- the ``T`` argument -- the chains run ``glauber`` at T for ``max_sweeps`` sweeps instead.)
The final Mattis overlap m_f with the starting pattern is recorded.  Both protocols run through the one
engine (:func:`montecarlo.engine.compiled_segment`; the anneal is segments of the ``glauber`` engine with
the stage's beta, then segments of the ``greedy`` engine on the same chains).

All loads of one N run together as one batch: the pattern sets are padded with zero columns up to the
largest K of the grid (a zero column contributes exactly nothing to any energy change), so each N compiles
once.  The runs use the Monte Carlo engine (exact O(K) energy changes, samples sharded over devices).

Retrieval criterion (:func:`choose_threshold`).  A pattern is retrieved if m_f >= threshold.  The default,
``threshold="auto"``, follows the data, per N: the final overlaps pooled over all loads are smoothed
(Gaussian kernel density, Scott's bandwidth) and, if the density is bimodal (two local maxima, each at
least ``MODE_MIN`` = 0.15 of the highest density, the dip between them below ``DIP_RATIO`` = 0.8 of the
lower maximum, and at least ``MODE_MASS`` = 5% of the chains on either side of the dip), the threshold is
the density minimum between the two highest modes (criterion ``"histogram-minimum"``: retrieved near the
branch-end overlap, lost far below).  Otherwise (one broad mode, as for greedy descent at small N and
P = 3, where lost chains stop at m ~ 0.65-0.75) it is the midpoint between the median m_f at the smallest
and at the largest load (criterion ``"midpoint"``).  Either is raised to ``AUTO_STOP`` = 0.5 if lower:
"auto" runs stop once every chain with m >= 0.5 sits at a fixed point (chains below it, lost, may still be
moving away).  The fixed 0.9 of earlier versions is wrong for P >= 3, where both theories put the
branch-end overlap below 0.9 (P = 3: m_c = 0.838 RS, 0.651 1RSB).  A number gives a fixed threshold.

Finite-size extrapolation (:func:`extrapolate`, :func:`fit_finite_size`).  alpha_c(N) is the load where the
retrieved fraction f(alpha) crosses 1/2 (maximum-likelihood logistic fit, accepted only when the measured
fractions bracket 1/2 and the centre lies inside the load grid; otherwise no crossing, NaN), with a
bootstrap error over disorder samples.  Fit form alpha_c(N) = alpha_c + a N^(-omega): with >= 4 sizes
omega is free (weighted nonlinear least squares, ``scipy.optimize.curve_fit``); with 2 or 3 sizes omega
is fixed at ``exponent`` (default 1/2) and the spread of alpha_c over omega in ``omega_range`` (default
[1/3, 1]) is added in quadrature to its error (``alpha_c_mc_sys``).  Errors are inflated by
sqrt(chi^2/dof) when that exceeds 1.  ``status``: "ok", "partial" (some sizes had no crossing), "no-crossing"
(no size had one), "single-size" (one crossing: no extrapolation) or "fit-failed".
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

PROTOCOLS = ("greedy", "anneal")
#: the density dip must lie below this fraction of the lower mode for the overlaps to count as bimodal
DIP_RATIO = 0.8
#: a mode must reach this fraction of the highest density, and each side of the dip hold this fraction of chains
MODE_MIN, MODE_MASS = 0.15, 0.05
#: "auto" runs stop once every chain with m >= AUTO_STOP is at a fixed point; the chosen threshold is >= it
AUTO_STOP = 0.5


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
def run_size(key, model, N, alphas, n_samples=16, n_starts=16, T=0.0, max_sweeps=100, threshold=None,
             devices=None, check_every=2, protocol="greedy", anneal_T=0.1, anneal_sweeps=100, anneal_stages=10):
    """Final overlaps for one N over all loads (``model``: P and convention).

    Returns a dict with m_final (n_alpha, n_samples, n_starts), K (n_alpha,), sweeps (sweeps run, the
    anneal included), converged (n_alpha, n_samples, n_starts) bool (a fixed point was reached, T = 0 only).

    ``protocol``: "greedy" or "anneal" (see the module docstring; ``anneal_T``, ``anneal_sweeps``,
    ``anneal_stages`` set the linear anneal to T = 0 before the greedy quench).
    Stopping rule at T = 0: the run stops as soon as every chain whose overlap is still >= ``threshold``
    (None or "auto": :data:`AUTO_STOP` = 0.5, the lowest threshold the automatic criterion may choose) sits
    at a fixed point (a whole sweep without a flip), or after ``max_sweeps``: chains still moving then have
    already fallen below it and, under descent, keep moving away from the pattern (their m_final is recorded
    as it is; ``converged`` is False for them).  At
    T > 0 the chains run ``max_sweeps`` glauber sweeps.
    """
    model = check_model(model)
    P = model.P
    key, _ = as_key(key)
    N = as_int("N", N, 2)
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if protocol == "anneal" and T != 0:
        raise ValueError("protocol 'anneal' ends in a zero-temperature quench: use it with T = 0")
    if not (math.isfinite(anneal_T) and anneal_T > 0):
        raise ValueError(f"anneal_T must be a finite temperature > 0, got {anneal_T!r}")
    anneal_sweeps = as_int("anneal_sweeps", anneal_sweeps, 1)
    anneal_stages = as_int("anneal_stages", anneal_stages, 1)
    if anneal_stages > anneal_sweeps:
        raise ValueError(f"anneal_stages ({anneal_stages}) must be <= anneal_sweeps ({anneal_sweeps})")
    stop = AUTO_STOP if threshold is None or isinstance(threshold, str) else float(threshold)
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

    def run(carry, n, seg=segment, b=None):
        b = beta if b is None else b
        return seg(carry, xi, b, none, jnp.asarray(0, jnp.int64), jnp.asarray(n, jnp.int64))

    probe = _own_overlap(int(n_starts))
    beta = jnp.asarray([np.inf if T == 0 else 1.0 / T])
    done = 0
    if protocol == "anneal":
        # the same engine with the glauber rule (same chain state type), stage k at T_k = T0 (1 - k / n)
        warm = compiled_segment(EngineConfig(N=N, K=max(Ks), P=P, self_interaction=model.self_interaction,
                                             dynamics="glauber", n_T=1, n_R=int(n_starts)), Sweeps(), mkey)
        per = np.diff(np.linspace(0, anneal_sweeps, anneal_stages + 1).round().astype(int))
        for k, n in enumerate(per):
            Tk = anneal_T * (1.0 - k / anneal_stages)
            carry = run(carry, int(n), warm, jnp.asarray([1.0 / Tk]))
        done += anneal_sweeps
    moving = np.ones((S_pad, n_starts), bool)
    quench = 0
    if T == 0:
        while quench < max_sweeps:
            n = min(check_every, max_sweeps - quench)
            if n > 1:
                carry = run(carry, n - 1)
                quench += n - 1
            before, _ = _devices.to_host(probe(carry[0]))
            carry = run(carry, 1)
            quench += 1
            after, M_own = _devices.to_host(probe(carry[0]))
            moving = after != before
            high = M_own >= stop * N
            if not (moving & high)[:S].any():
                break
    else:
        carry = run(carry, max_sweeps)
        quench = max_sweeps
    done += quench
    _, M_own = _devices.to_host(probe(carry[0]))
    m = M_own[:S].astype(np.float64) / N
    shape = (len(Ks), n_samples, n_starts)
    conv = ~moving[:S] if T == 0 else np.zeros((S, n_starts), bool)
    return dict(m_final=m.reshape(shape), K=np.asarray(Ks), sweeps=done, converged=conv.reshape(shape))


def _protocol_text(protocol, T, anneal_T, anneal_sweeps, anneal_stages):
    if T != 0:
        return "glauber"
    if protocol == "anneal":
        return (f"anneal: glauber, T lowered linearly from {anneal_T:g} to 0 in {anneal_stages} stages over "
                f"{anneal_sweeps} sweeps, then greedy (zero-temperature strict descent) to a fixed point")
    return "greedy (zero-temperature strict descent)"


@x64
def capacity_curve(key, model, Ns=(500, 1000, 2000), alphas=None, n_samples=32, n_starts=16, T=0.0,
                   max_sweeps=100, threshold="auto", devices=None, progress=False, protocol="greedy",
                   anneal_T=0.1, anneal_sweeps=100, anneal_stages=10):
    """Final retrieval overlaps versus load for several N: an ``xarray.Dataset``.

    Variables: m_final (N, alpha, sample, start); K (N, alpha); sweeps (N): sweeps run; converged
    (N, alpha, sample, start): the chain reached a fixed point (T = 0).  ``key``: int seed or PRNG key;
    size N uses ``fold_in(key, N)``.  ``model``: P and convention (plain patterns).  ``threshold``: "auto"
    (every chain runs to its fixed point; the criterion is chosen afterwards by :func:`extrapolate`) or a
    number (the stopping rule of :func:`run_size`; stored in the attrs as the default criterion).
    ``protocol``: "greedy" or "anneal" (module docstring).  The attrs name the protocol and the dynamics.
    """
    model = check_model(model)
    key, seed_attr = as_key(key)
    P = model.P
    if alphas is None:
        alphas = default_alphas(P)
    alphas = np.asarray(sorted(float(a) for a in alphas))
    if threshold is None:
        threshold = "auto"
    if isinstance(threshold, str) and threshold != "auto":
        raise ValueError(f"threshold must be 'auto' or a number in [0, 1], got {threshold!r}")
    Ns = [int(n) for n in Ns]
    out = []
    it = Ns
    if progress:
        from tqdm import tqdm
        it = tqdm(Ns, desc="capacity --mc", unit="N", leave=False)
    for N in it:
        out.append(run_size(jax.random.fold_in(key, N), model, N, alphas, n_samples, n_starts, T, max_sweeps,
                            threshold, devices, protocol=protocol, anneal_T=anneal_T,
                            anneal_sweeps=anneal_sweeps, anneal_stages=anneal_stages))
    dyn = _protocol_text(protocol, T, anneal_T, anneal_sweeps, anneal_stages)
    extra = dict(anneal_T=float(anneal_T), anneal_sweeps=int(anneal_sweeps),
                 anneal_stages=int(anneal_stages)) if protocol == "anneal" else {}
    attrs = _attrs(model, "densehebb.montecarlo.capacity_curve", T=float(T), dynamics=dyn,
                   protocol_name=protocol if T == 0 else "glauber",
                   protocol="chains started at patterns 0..n_starts-1, " +
                            ("annealed to T = 0, then " if protocol == "anneal" and T == 0 else "") +
                            "run to a fixed point (T = 0) or max_sweeps; retrieved if m_final >= threshold",
                   n_samples=n_samples, n_starts=n_starts, max_sweeps=max_sweeps,
                   threshold=threshold if isinstance(threshold, str) else float(threshold),
                   seed=seed_attr, **extra, **key_attrs(key))
    return capacity_dataset(Ns, alphas, out, attrs)


def default_alphas(P):
    if P == 2:
        return np.round(np.arange(0.12, 0.2001, 0.01), 4)
    raise ValueError(f"give the loads (alphas) for P = {P}")


# ------------------------------------------------------------------------------------ the criterion
def choose_threshold(m_final):
    """Retrieval threshold for one N from its final overlaps ``m_final`` (n_alpha, ...), loads ascending.

    The threshold is never below :data:`AUTO_STOP` (chains below it may have been stopped while moving;
    ``clamped`` says whether it was raised to it).
    Returns a dict: threshold, criterion ("histogram-minimum" or "midpoint"), clamped, modes (the two modes of the
    pooled density, or None), m_low_load / m_high_load (median m_f at the smallest / largest load).
    See the module docstring for the rule.
    """
    from scipy.stats import gaussian_kde

    m = np.asarray(m_final, float)
    lo_med = float(np.median(m[0]))
    hi_med = float(np.median(m[-1]))
    out = dict(m_low_load=lo_med, m_high_load=hi_med, modes=None)
    pooled = m.ravel()
    if np.ptp(pooled) > 0:
        grid = np.linspace(pooled.min(), pooled.max(), 401)
        dens = gaussian_kde(pooled)(grid)
        peaks = [i for i in range(1, len(grid) - 1) if dens[i] >= dens[i - 1] and dens[i] > dens[i + 1]]
        if dens[0] > dens[1]:
            peaks.insert(0, 0)
        if dens[-1] > dens[-2]:
            peaks.append(len(grid) - 1)
        peaks = [i for i in peaks if dens[i] >= MODE_MIN * dens.max()]      # a few stray chains are no mode
        if len(peaks) >= 2:
            a, b = sorted(sorted(peaks, key=lambda i: dens[i])[-2:])
            dip = a + int(np.argmin(dens[a:b + 1]))
            below = float(np.mean(pooled < grid[dip]))
            if dens[dip] < DIP_RATIO * min(dens[a], dens[b]) and MODE_MASS <= below <= 1 - MODE_MASS:
                out.update(threshold=float(grid[dip]), criterion="histogram-minimum",
                           modes=[float(grid[a]), float(grid[b])])
    if "threshold" not in out:
        out.update(threshold=0.5 * (lo_med + hi_med), criterion="midpoint")
    out["clamped"] = out["threshold"] < AUTO_STOP
    out["threshold"] = max(out["threshold"], AUTO_STOP)
    return out


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



def _centre(alphas, k, n):
    """The logistic centre if the measured fractions bracket 1/2 and it lies inside the grid, else NaN."""
    f = np.asarray(k, float) / np.asarray(n, float)
    if not (f.max() >= 0.5 and f.min() < 0.5):
        return math.nan
    c = _logistic_fit(alphas, k, n)
    return c if alphas[0] <= c <= alphas[-1] else math.nan


def _fit_fixed(Ns, c, err, omega):
    """Weighted linear least squares of c = alpha_c + a N^-omega: (alpha_c, a, cov (2, 2), chi2)."""
    x = np.asarray(Ns, float) ** (-omega)
    w = 1.0 / np.asarray(err, float)
    A = np.stack([np.ones_like(x), x], axis=1) * w[:, None]
    beta, *_ = np.linalg.lstsq(A, c * w, rcond=None)
    cov = np.linalg.pinv(A.T @ A)
    chi2 = float(np.sum((A @ beta - c * w) ** 2))
    return float(beta[0]), float(beta[1]), cov, chi2


def fit_finite_size(Ns, alpha_c_N, err, exponent=None, omega_range=(1 / 3, 1.0), free_min_sizes=4):
    """Fit alpha_c(N) = alpha_c + a N^(-omega) to the crossings ``alpha_c_N`` +- ``err`` (NaN entries dropped).

    ``exponent`` None: omega free (weighted nonlinear least squares, scipy ``curve_fit``) when there are at
    least ``free_min_sizes`` sizes (if that fit fails, fixed at 1/2 as below, said in ``fit``), else fixed
    at 1/2; a number: omega fixed there.  With omega fixed, the fit is repeated for omega over
    ``omega_range`` (11 values) and the largest change of alpha_c is the systematic error
    ``alpha_c_mc_sys``, added in quadrature to the statistical one.  Errors are inflated by
    sqrt(chi^2/dof) when that exceeds 1.

    Returns a dict: alpha_c_mc, alpha_c_mc_err, alpha_c_mc_stat, alpha_c_mc_sys, slope, omega, omega_err
    (None when fixed), omega_free (bool), omega_range, chi2_dof, n_sizes, fit (the form, in words), status
    ("ok", "single-size" (fewer than 2 usable sizes), "fit-failed").  Never raises on numerical trouble.
    """
    Ns = np.asarray(Ns, float)
    c = np.asarray(alpha_c_N, float)
    err = np.asarray(err, float)
    use = np.isfinite(c) & np.isfinite(err) & (err > 0)
    Ns, c, err = Ns[use], c[use], err[use]
    n = len(Ns)
    lo, hi = float(omega_range[0]), float(omega_range[1])
    free = exponent is None and n >= free_min_sizes
    om0 = 0.5 if exponent is None else float(exponent)
    out = dict(alpha_c_mc=math.nan, alpha_c_mc_err=math.nan, alpha_c_mc_stat=math.nan, alpha_c_mc_sys=math.nan,
               slope=math.nan, omega=om0, omega_err=None, omega_free=free, omega_range=[lo, hi],
               chi2_dof=math.nan, n_sizes=n)
    if free:
        out["fit"] = ("alpha_c(N) = alpha_c + a N^-omega, omega free (weighted nonlinear least squares, "
                      "scipy curve_fit)")
    else:
        out["fit"] = (f"alpha_c(N) = alpha_c + a N^-omega, omega fixed at {om0:g} (weighted least squares); "
                      f"systematic error: spread of alpha_c over omega in [{lo:g}, {hi:g}]")
    if n < 2:
        out["status"] = "single-size"
        return out
    bad = (RuntimeError, ValueError, np.linalg.LinAlgError)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):       # results checked for finiteness
        try:
            out.update(_fit_into(Ns, c, err, free, om0, lo, hi))
            out["status"] = "ok"
            return out
        except bad as exc:
            reason = str(exc)
        if free:            # the free exponent failed: fall back to omega = 1/2 with the range propagated
            try:
                out.update(_fit_into(Ns, c, err, False, om0, lo, hi), omega_free=False, omega_err=None, status="ok",
                           fit=(f"alpha_c(N) = alpha_c + a N^-omega; the free-omega fit failed ({reason}), omega "
                                f"fixed at {om0:g} (weighted least squares); systematic error: spread of alpha_c "
                                f"over omega in [{lo:g}, {hi:g}]"))
                return out
            except bad as exc:
                reason = str(exc)
    out.update(alpha_c_mc=math.nan, alpha_c_mc_err=math.nan, status="fit-failed", reason=reason)
    return out


def _fit_into(Ns, c, err, free, om0, lo, hi):
    """The fit of :func:`fit_finite_size`: a dict of its results; raises on non-finite results."""
    import warnings

    n = len(Ns)
    if free:
        from scipy.optimize import OptimizeWarning, curve_fit

        def f(N, a0, a, om):
            return a0 + a * N ** (-om)
        a0, a, _, _ = _fit_fixed(Ns, c, err, om0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)        # a singular covariance is caught below
            p, cov = curve_fit(f, Ns, c, p0=[a0, a, om0], sigma=err, absolute_sigma=True,
                               bounds=([-np.inf, -np.inf, 0.05], [np.inf, np.inf, 3.0]), maxfev=20000)
        chi2 = float(np.sum(((f(Ns, *p) - c) / err) ** 2))
        dof = n - 3
        scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
        e = np.sqrt(np.diag(cov) * scale)
        if not np.all(np.isfinite(e)):
            raise RuntimeError("singular covariance")
        r = dict(alpha_c_mc=float(p[0]), alpha_c_mc_stat=float(e[0]), alpha_c_mc_sys=0.0, alpha_c_mc_err=float(e[0]),
                 slope=float(p[1]), omega=float(p[2]), omega_err=float(e[2]),
                 chi2_dof=chi2 / dof if dof > 0 else math.nan)
    else:
        a0, a, cov, chi2 = _fit_fixed(Ns, c, err, om0)
        dof = n - 2
        scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
        stat = math.sqrt(cov[0, 0] * scale)
        sys = max(abs(_fit_fixed(Ns, c, err, om)[0] - a0) for om in np.linspace(lo, hi, 11))
        r = dict(alpha_c_mc=a0, alpha_c_mc_stat=stat, alpha_c_mc_sys=sys, alpha_c_mc_err=math.hypot(stat, sys),
                 slope=a, chi2_dof=chi2 / dof if dof > 0 else math.nan)
    if not (math.isfinite(r["alpha_c_mc"]) and math.isfinite(r["alpha_c_mc_err"])):
        raise RuntimeError("non-finite result")
    return r


def extrapolate(ds, threshold=None, exponent=None, omega_range=(1 / 3, 1.0), n_boot=200, seed=0):
    """Finite-size extrapolation of alpha_c from a :func:`capacity_curve` Dataset.

    ``threshold``: None (the Dataset's, "auto" if it has none), "auto" (:func:`choose_threshold` per N) or
    a number.  alpha_c(N): maximum-likelihood logistic fit of the retrieved fraction f(alpha)
    (m_final >= threshold), centre where f = 1/2, NaN when the fractions do not bracket 1/2 (no crossing);
    error: bootstrap over disorder samples (``n_boot`` resamplings, independently at each load; the
    threshold is held at its value for the data).  Then :func:`fit_finite_size` (``exponent``,
    ``omega_range``).

    Returns a dict: status ("ok", "partial", "no-crossing", "single-size", "fit-failed"), message (one
    line), criterion (name and per-N details), threshold (per N), alpha_c_mc, alpha_c_mc_err (NaN when there
    is no extrapolation), alpha_c_mc_stat, alpha_c_mc_sys, slope, omega, omega_err, omega_free, omega_range,
    chi2_dof, fit, N, alpha_c_N, alpha_c_N_err (NaN where no crossing), crossing (per N bool), alphas,
    fraction (N x alpha), mean_m_final (N x alpha) and ``stats``: the :class:`~montecarlo.stats.Stats` of every
    alpha_c(N) (bootstrap) and of the limit alpha_c_mc.
    """
    if threshold is None:
        threshold = ds.attrs.get("threshold", "auto")
    alphas = ds["alpha"].values
    Ns = ds["N"].values
    rng = np.random.default_rng(seed)
    m_all = ds["m_final"].values                                       # (N, alpha, sample, start)
    n_s, n_r = m_all.shape[2], m_all.shape[3]
    thr, crit = [], []
    for i in range(len(Ns)):
        if isinstance(threshold, str):
            if threshold != "auto":
                raise ValueError(f"threshold must be 'auto' or a number, got {threshold!r}")
            ch = choose_threshold(m_all[i])
        else:
            ch = dict(threshold=float(threshold), criterion="fixed")
        thr.append(ch["threshold"])
        crit.append(ch)
    ok = m_all >= np.asarray(thr)[:, None, None, None]
    per_sample = ok.sum(axis=3)                                        # (N, alpha, sample)
    n = np.full(len(alphas), n_s * n_r)
    c, c_err = [], []
    for i in range(len(Ns)):
        k = per_sample[i].sum(axis=1)
        ci = _centre(alphas, k, n)
        ei = math.nan
        if math.isfinite(ci):
            boots = []
            for _ in range(n_boot):
                idx = rng.integers(0, n_s, size=(len(alphas), n_s))
                boots.append(_centre(alphas, np.take_along_axis(per_sample[i], idx, axis=1).sum(axis=1), n))
            boots = np.asarray(boots)
            boots = boots[np.isfinite(boots)]
            if len(boots) >= 2:
                # floor: a twentieth of the grid step (a bootstrap without any spread is not an error of 0)
                ei = max(float(np.std(boots, ddof=1)), 0.05 * float(np.min(np.diff(alphas))))
        c.append(ci)
        c_err.append(ei)
    per_N = [Stats(float(ci), ei, math.nan, "bootstrap") for ci, ei in zip(c, c_err)]
    crossing = [bool(math.isfinite(v)) for v in c]
    fit = fit_finite_size(Ns, c, c_err, exponent, omega_range)
    if not any(crossing):
        status = "no-crossing"
        f = ok.mean(axis=(2, 3))
        side = "above" if f.min() >= 0.5 else "below" if f.max() < 0.5 else "around"
        message = (f"no crossing: the retrieved fraction stays {side} 1/2 over the loads "
                   f"{alphas[0]:g}..{alphas[-1]:g} at every N; widen --alphas")
    elif fit["status"] != "ok":
        status = fit["status"]
        message = ("one size with a crossing: no finite-size extrapolation" if status == "single-size"
                   else f"finite-size fit failed ({fit.get('reason', '')})")
    else:
        status = "ok" if all(crossing) else "partial"
        message = ("alpha_c extrapolated" if status == "ok" else
                   "alpha_c extrapolated without N = " + ",".join(str(int(N)) for N, x in zip(Ns, crossing) if not x)
                   + " (no crossing there)")
    names = sorted({ch["criterion"] for ch in crit})
    criterion = dict(name="/".join(names), per_N=[_jsonable_crit(ch) for ch in crit],
                     rule=("fixed threshold" if names == ["fixed"] else
                           "per N: minimum of the kernel density of the pooled final overlaps between its two "
                           f"modes if bimodal (modes >= {MODE_MIN:g} x highest, dip < {DIP_RATIO:g} x lower mode, "
                           f">= {MODE_MASS:g} of the chains on each side), else the midpoint between "
                           "the median final overlap at the smallest and at the largest load"))
    limit = Stats(fit["alpha_c_mc"], fit["alpha_c_mc_err"], math.nan,
                  "weighted least squares" if fit["status"] == "ok" else "unavailable")
    out = dict(status=status, message=message, criterion=criterion, threshold=[float(t) for t in thr],
               N=Ns.tolist(), alpha_c_N=[float(v) for v in c], alpha_c_N_err=[float(v) for v in c_err],
               crossing=crossing, alphas=alphas.tolist(), fraction=ok.mean(axis=(2, 3)).tolist(),
               mean_m_final=m_all.mean(axis=(2, 3)).tolist(), exponent=fit["omega"])
    out.update({k: v for k, v in fit.items() if k not in ("status", "reason")})
    out.update(limit.to_dict("alpha_c_mc"))
    out["stats"] = {"alpha_c_N": per_N, "alpha_c_mc": limit}
    return out


def _jsonable_crit(ch):
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in ch.items()}
