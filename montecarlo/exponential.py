"""Monte Carlo and exact zero-temperature checks of the exponential network at finite N.

Model (docs/conventions.md, "Exponential networks"): N binary neurons, K = round(exp(alpha N)) Rademacher
patterns (``int8``, shape (K, N), drawn from an explicit PRNG key), integer overlaps x_mu = xi^mu . sigma =
N m_mu (``int32``), G(sigma) = sum_mu exp(lam x_mu) and the two energies

* "log-sum-exp": E = -(1/lam) ln G;
* "exponential": E = -G.

G itself overflows float64 (lam N + alpha N > 709 happens), so everything is computed from the stable
logarithm ln G = lam x_max + ln sum_mu exp(lam (x_mu - x_max)) (max-shift) and from *ratios*: a flip of
site i changes x_mu by -2 s_mu, s_mu = xi^mu_i sigma_i, so with w_mu = exp(lam (x_mu - x_max)),
S+ = sum_{s_mu = +1} w_mu, S- = sum_{s_mu = -1} w_mu, S = S+ + S-,

    G'/G - 1 = D/S,      D = expm1(-2 lam) S+ + expm1(2 lam) S-,      d ln G = log1p(D/S).

* log-sum-exp: dE = -d ln G / lam  (O(1));
* exponential: dE = -G expm1(d ln G), and the Metropolis factor exp(-beta dE) for dE > 0 is
  exp(-exp(ln beta + ln G + ln(-expm1(d ln G)))), which underflows to 0 instead of overflowing.

At T = 0 both energies take a flip iff D > 0 (G grows), so their zero-temperature dynamics (the same
random site order) are identical; at T > 0 they differ.  Ties: for rational lam, D = 0 exactly only when
the integer level counts cancel (e^lam is transcendental), i.e. a structural tie such as a pattern pair at
Hamming distance 1 exchanged by the flip.  In float64 such a tie shows up as |D| at rounding level, so
|D| <= TIE * (|expm1(-2 lam)| S+ + expm1(2 lam) S-) is treated as D = 0: a tie is not a lowering flip
(conventions.md: a flip with dE = 0 is not taken, a zero local field keeps the spin).

Zero-temperature census (:func:`census`): for each tested pattern (the first ``n_tested`` of a sample,
i.i.d. so a random subset) all N flip gains at once from two matrix products, X = B Xi^T (overlaps) and
F = W Xi with W = exp(lam (X - max)) (the matrix-product + log-sum-exp kernel): S+- = (S +- b_i F_i)/2.

* stable: no site has D_i > 0 (single-flip fixed point);
* one-step basin: from the pattern with exactly round(rho N) random sites flipped, one synchronous
  update sigma_i <- sign(h_i), h_i = G(sigma_i = +1) - G(sigma_i = -1) (zero keeps the spin; this is the
  exact per-site flip-energy rule of either energy, *not* the softmax field sum_mu xi^mu_i softmax(lam x)_mu,
  which differs from it by the site's own contribution to x_mu), equals the pattern exactly.

Chains (:func:`run_chains`): the state is a pytree :class:`ExpChain` (spins, overlaps, its PRNG key,
acceptance count), C chains of one pattern set vectorised; sweeps are sequential in the site index
(lax.fori_loop inside lax.scan), each flip O(C K).  Everything runs in float64 (JAX 64-bit mode on).
"""
from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import numpy as np

ENERGIES = ("exponential", "log-sum-exp")
#: relative size of |D| below which a flip is a tie (see module docstring)
TIE = 1e-10


def n_patterns(N, alpha):
    """K = round(exp(alpha N)) (at least 1)."""
    return max(1, int(round(math.exp(alpha * N))))


def _check_energy(energy):
    if energy not in ENERGIES:
        raise ValueError(f"energy must be one of {ENERGIES}, got {energy!r}")


def patterns(key, N, K):
    """K Rademacher patterns of N sites, int8 (K, N), from the PRNG key."""
    import jax
    import jax.numpy as jnp

    return jax.random.rademacher(key, (K, N), dtype=jnp.int8)


class ExpChain(NamedTuple):
    """State of C chains on one pattern set (a pytree): spins (C, N) int8, overlaps x (C, K) int32, the
    chains' PRNG key, accepted flips per chain (int64)."""
    sigma: object
    x: object
    key: object
    accepted: object


def init_chains(key, xi, sigma0):
    """Chains started at the configurations sigma0 (C, N); overlaps computed once exactly."""
    import jax.numpy as jnp

    sigma0 = jnp.asarray(sigma0, jnp.int8)
    x = (sigma0.astype(jnp.int32) @ jnp.asarray(xi, jnp.int32).T).astype(jnp.int32)
    return ExpChain(sigma0, x, key, jnp.zeros(sigma0.shape[0], jnp.int64))


def _constants(lam):
    import jax.numpy as jnp

    return jnp.expm1(-2.0 * lam), jnp.expm1(2.0 * lam)


def ln_g(x, lam):
    """ln G = ln sum_mu exp(lam x_mu) along the last axis, max-shifted (float64)."""
    import jax.numpy as jnp

    xm = jnp.max(x, axis=-1)
    return lam * xm + jnp.log(jnp.sum(jnp.exp(lam * (x - xm[..., None]).astype(jnp.float64)), axis=-1))


def energy_of(x, lam, energy):
    """(E, ln G): E = -(1/lam) ln G (log-sum-exp) or -exp(ln G) (exponential; inf where it overflows)."""
    import jax.numpy as jnp

    lg = ln_g(x, lam)
    return (-lg / lam if energy == "log-sum-exp" else -jnp.exp(lg)), lg


def _flip(state, i, xi, lam, beta, u, energy, zero_T):
    """Attempt to flip site i in every chain (Metropolis at beta; strict descent when zero_T)."""
    import jax.numpy as jnp

    em, ep = _constants(lam)
    xi_i = xi[:, i].astype(jnp.int32)                                  # (K,)
    s = state.sigma[:, i].astype(jnp.int32)[:, None] * xi_i[None, :]   # (C, K)
    xm = jnp.max(state.x, axis=1, keepdims=True)
    w = jnp.exp(lam * (state.x - xm).astype(jnp.float64))
    sp = jnp.sum(jnp.where(s > 0, w, 0.0), axis=1)
    sm = jnp.sum(jnp.where(s < 0, w, 0.0), axis=1)
    S = sp + sm
    D = em * sp + ep * sm
    tie = jnp.abs(D) <= TIE * (-em * sp + ep * sm)
    dlg = jnp.where(tie, 0.0, jnp.log1p(D / S))
    if zero_T:
        acc = (D > 0) & ~tie
    else:
        if energy == "log-sum-exp":
            log_acc = jnp.minimum(0.0, beta * dlg / lam)
        else:   # -beta dE = beta G expm1(dlg); for dE > 0 in logs
            lg = lam * xm[:, 0] + jnp.log(S)
            up = dlg < 0
            log_acc = jnp.where(up, -jnp.exp(jnp.log(beta) + lg + jnp.log(-jnp.expm1(jnp.where(up, dlg, -1.0)))),
                                0.0)
        acc = jnp.log(u) < log_acc
    sign = jnp.where(acc, -1, 1)
    x = state.x - jnp.where(acc[:, None], 2 * s, 0).astype(jnp.int32)
    sigma = state.sigma.at[:, i].multiply(sign.astype(jnp.int8))
    return ExpChain(sigma, x, state.key, state.accepted + acc.astype(jnp.int64))


@partial(__import__("jax").jit, static_argnames=("energy", "zero_T", "n_sweeps", "record"))
def sweeps(state, xi, lam, beta, *, energy, zero_T, n_sweeps, record=False):
    """``n_sweeps`` sequential sweeps (sites 0..N-1) of all chains; returns (state, trace) with per sweep the
    overlap x_0 / N with pattern 0 (C,), ln G (C,) and, with ``record``, the spins (C, N)."""
    import jax
    import jax.numpy as jnp

    N = xi.shape[1]
    C = state.sigma.shape[0]

    def one(st, _):
        key, sub = jax.random.split(st.key)
        u = jax.random.uniform(sub, (N, C), dtype=jnp.float64)
        st = st._replace(key=key)
        st = jax.lax.fori_loop(0, N, lambda i, s_: _flip(s_, i, xi, lam, beta, u[i], energy, zero_T), st)
        out = (st.x[:, 0].astype(jnp.float64) / N, ln_g(st.x, lam)) + ((st.sigma,) if record else ())
        return st, out

    return jax.lax.scan(one, state, None, length=n_sweeps)


def _x64(fn):
    from densehebb.theory.precision import x64

    return x64(fn)


def run_chains(seed, N, alpha, lam, T, energy="log-sum-exp", n_samples=1, n_chains=4, n_sweeps=100,
               burn_in=None, K=None):
    """Metropolis (T > 0) or zero-temperature strict descent (T = 0, random-free sequential sweeps) of
    ``n_chains`` chains per pattern set, started at pattern 0, for ``n_samples`` pattern sets.  Returns a dict:
    m (overlap with the start pattern, averaged over the measured sweeps and chains) and its error (over
    samples x chains), energy per neuron (log-sum-exp: E/N; exponential: -exp(ln G)/N, possibly inf) and
    ln G / N, acceptance, dynamics, the final overlaps."""
    return _x64(_run_chains)(seed, N, alpha, lam, T, energy, n_samples, n_chains, n_sweeps, burn_in, K)


def _run_chains(seed, N, alpha, lam, T, energy, n_samples, n_chains, n_sweeps, burn_in, K):
    import jax
    import jax.numpy as jnp

    _check_energy(energy)
    K = n_patterns(N, alpha) if K is None else int(K)
    burn_in = n_sweeps // 2 if burn_in is None else int(burn_in)
    zero_T = T == 0
    beta = 0.0 if zero_T else 1.0 / T
    m_all, lg_all, acc, m_final = [], [], [], []
    key = jax.random.key(seed)
    for s in range(n_samples):
        kp, kc = jax.random.split(jax.random.fold_in(key, s))
        xi = patterns(kp, N, K)
        st = init_chains(kc, xi, jnp.broadcast_to(xi[0], (n_chains, N)))
        st, (m, lg) = sweeps(st, xi, float(lam), float(beta), energy=energy, zero_T=zero_T, n_sweeps=n_sweeps)
        m, lg = np.asarray(m)[burn_in:], np.asarray(lg)[burn_in:]
        m_all.append(m.mean(axis=0))
        lg_all.append(lg.mean(axis=0))
        acc.append(np.asarray(st.accepted) / (n_sweeps * N))
        m_final.append(np.asarray(st.x[:, 0]) / N)
    m_c = np.concatenate(m_all)
    lg_c = np.concatenate(lg_all)
    n = m_c.size
    lgN = float(lg_c.mean() / N)
    e = -lgN / lam if energy == "log-sum-exp" else -math.exp(min(lgN * N, 709.0)) / N if lgN * N < 709 else -math.inf
    return dict(N=N, K=K, alpha=alpha, lam=float(lam), T=float(T), interaction=energy, convention=energy,
                energy_formula=("E = -(1/lam) ln sum_mu exp(lam N m_mu)" if energy == "log-sum-exp"
                                else "E = -sum_mu exp(lam N m_mu)"),
                dynamics="zero-temperature" if zero_T else "metropolis",
                sweep_order="sequential sites 0..N-1", samples=n_samples, chains=n_chains, sweeps=n_sweeps,
                burn_in=burn_in, m=float(m_c.mean()), m_err=float(m_c.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0,
                m_final=float(np.concatenate(m_final).mean()),
                ln_G_per_neuron=lgN, energy=float(e),
                energy_note=("E/N from the mean ln G (log-sum-exp: exact mean; exponential: -exp(<ln G>)/N)"),
                acceptance=float(np.concatenate(acc).mean()), seed=seed)


# ------------------------------------------------------------------------------ zero-temperature census
def flip_gains(B, xi, lam, K=None):
    """For states B (n, N) (+-1) and patterns xi (K', N): (D, scale) of shape (n, N), D_i > 0 iff flipping
    site i raises G (lowers both energies), |D| <= TIE scale a tie.  Two matrix products (module docstring).
    ``K``: only the first K rows of xi are patterns (the rest is padding, weight 0)."""
    import jax.numpy as jnp

    em, ep = _constants(lam)
    Bf = B.astype(jnp.float64)
    xf = xi.astype(jnp.float64)
    X = Bf @ xf.T                                     # exact integers
    if K is None:
        W = jnp.exp(lam * (X - jnp.max(X, axis=1, keepdims=True)))
    else:
        valid = jnp.arange(xi.shape[0]) < K
        xm = jnp.max(jnp.where(valid, X, -jnp.inf), axis=1, keepdims=True)
        W = jnp.where(valid, jnp.exp(lam * (X - xm)), 0.0)
    S = jnp.sum(W, axis=1, keepdims=True)
    bF = Bf * (W @ xf)
    sp, sm = 0.5 * (S + bF), 0.5 * (S - bF)
    return em * sp + ep * sm, -em * sp + ep * sm


@partial(__import__("jax").jit, static_argnames=("n_err",))
def _census_batch(xi, idx, key, lam, K, n_err):
    """Stability and one-step basin success of the patterns xi[idx] (xi padded beyond row K)."""
    import jax
    import jax.numpy as jnp

    B = xi[idx]
    D, sc = flip_gains(B, xi, lam, K)
    stable = jnp.all((D <= TIE * sc), axis=1)
    if n_err == 0:
        return stable, stable
    order = jnp.argsort(jax.random.uniform(key, B.shape), axis=1)
    flip = jnp.zeros(B.shape, bool).at[jnp.arange(B.shape[0])[:, None], order[:, :n_err]].set(True)
    C = jnp.where(flip, -B, B)
    D, sc = flip_gains(C, xi, lam, K)
    new = jnp.where(D > TIE * sc, -C, C)
    return stable, jnp.all(new == B, axis=1)


def census_batch_size(K):
    """Tested patterns per compiled census call (montecarlo.inputs.exp_census_batch)."""
    from .inputs import exp_census_batch

    return exp_census_batch(K)


def padded(K):
    """K rounded up to a power of 2 (the census pads the pattern array: one compilation per bucket)."""
    return 1 << max(0, (K - 1).bit_length())


def sample_patterns(seed, s, N, K):
    """The patterns of sample s of a census with this seed, padded with zero rows to :func:`padded` (K) rows
    (int8; the first K rows of a Rademacher draw of that shape), and the key of its corruptions."""
    import jax
    import jax.numpy as jnp

    kp, kb = jax.random.split(jax.random.fold_in(jax.random.key(seed), s))
    Kb = padded(K)
    xi = patterns(kp, N, Kb)
    return jnp.where((jnp.arange(Kb) < K)[:, None], xi, jnp.int8(0)), kb


def census(seed, N, alpha, lam, errors=0.0, n_tested=256, n_samples=4, K=None):
    """Zero-temperature census of one (N, alpha): over ``n_samples`` pattern sets, the first ``n_tested``
    patterns of each are tested (single-flip stability; one-step basin from round(errors N) random errors).
    Returns a dict with the fractions and binomial errors (tested patterns treated as independent trials)."""
    return _x64(_census)(seed, N, alpha, lam, errors, n_tested, n_samples, K)


def _census(seed, N, alpha, lam, errors, n_tested, n_samples, K):
    import jax
    import jax.numpy as jnp

    K = n_patterns(N, alpha) if K is None else int(K)
    n_err = int(round(errors * N))
    nt = min(K, n_tested)
    bs = census_batch_size(K)
    st, bn = [], []
    for s in range(n_samples):
        xi, kb = sample_patterns(seed, s, N, K)
        for j, a in enumerate(range(0, nt, bs)):
            idx = jnp.arange(a, min(nt, a + bs))
            if idx.size < bs:      # pad to the compiled batch size (repeat the last index, dropped below)
                idx = jnp.concatenate([idx, jnp.full(bs - idx.size, idx[-1])])
            a1, a2 = _census_batch(xi, idx, jax.random.fold_in(kb, j), float(lam), K, n_err)
            m = min(nt, a + bs) - a
            st.append(np.asarray(a1)[:m])
            bn.append(np.asarray(a2)[:m])
    st, bn = np.concatenate(st), np.concatenate(bn)
    n = st.size

    def frac(v):
        f = float(v.mean())
        return f, math.sqrt(max(f * (1 - f), 0.25 / n) / n)   # floor: never a zero error at f = 0 or 1

    fs, es = frac(st)
    fb, eb = frac(bn)
    return dict(N=N, alpha=float(alpha), K=K, lam=float(lam), errors=float(errors), n_errors=n_err,
                tested=n, samples=n_samples, stable_fraction=fs, stable_err=es, basin_fraction=fb, basin_err=eb)


def crossing(alphas, fractions, errs=None, level=0.5):
    """alpha where the fraction falls through ``level``: linear interpolation between the last point above
    and the first below (fractions decreasing in alpha); nan when not bracketed.  With ``errs``, an error from
    the two points' errors divided by the slope."""
    a = np.asarray(alphas, float)
    f = np.asarray(fractions, float)
    for k in range(len(a) - 1):
        if f[k] >= level > f[k + 1]:
            t = (f[k] - level) / (f[k] - f[k + 1])
            x = a[k] + t * (a[k + 1] - a[k])
            if errs is None:
                return float(x), math.nan
            e = np.asarray(errs, float)
            slope = (f[k] - f[k + 1]) / (a[k + 1] - a[k])
            return float(x), float(math.hypot(e[k] * (1 - t), e[k + 1] * t) / slope)
    return math.nan, math.nan


def census_scan(seed, Ns, alphas, lam, errors=0.0, n_tested=256, n_samples=4):
    """:func:`census` over N x alpha, with the crossing (fraction 1/2) per N for stability and basin and the
    asymptotic thresholds of :mod:`densehebb.theory.exponential` for comparison."""
    from densehebb.theory import exponential as th

    rows = [[census(seed + 1000 * i + j, N, a, lam, errors, n_tested, n_samples) for j, a in enumerate(alphas)]
            for i, N in enumerate(Ns)]
    out = dict(lam=float(lam), errors=float(errors), N=list(Ns), alphas=list(alphas),
               K=[[r["K"] for r in row] for row in rows],
               stable_fraction=[[r["stable_fraction"] for r in row] for row in rows],
               stable_err=[[r["stable_err"] for r in row] for row in rows],
               basin_fraction=[[r["basin_fraction"] for r in row] for row in rows],
               basin_err=[[r["basin_err"] for r in row] for row in rows],
               tested=[[r["tested"] for r in row] for row in rows])
    out["stable_crossing"], out["stable_crossing_err"] = map(list, zip(*[
        crossing(alphas, f, e) for f, e in zip(out["stable_fraction"], out["stable_err"])]))
    out["basin_crossing"], out["basin_crossing_err"] = map(list, zip(*[
        crossing(alphas, f, e) for f, e in zip(out["basin_fraction"], out["basin_err"])]))
    out["alpha_1_theory"] = float(th.alpha_1(lam, 0.0))
    out["alpha_c_theory"] = float(th.alpha_c(lam, 0.0))
    out["alpha_1_basin_theory"] = float(th.alpha_1(lam, errors))
    out["alpha_c_basin_theory"] = float(th.alpha_c(lam, errors))
    return out
