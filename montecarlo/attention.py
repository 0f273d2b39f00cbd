"""Monte Carlo of one softmax (attention) step of the continuous modern Hopfield network at finite N.

Model (docs/conventions.md, "Continuous states and the attention update"): K = round(exp(alpha N)) patterns,
Gaussian (i.i.d. N(0, 1) entries) or spherical (each row rescaled to |xi|^2 = N), the update
x' = sum_mu p_mu xi^mu, p = softmax(beta Xi^T x) (logits beta xi^mu . x), one step from x = xi^mu for the first
``n_tested`` patterns (i.i.d., so a random subset).  Dynamics: one deterministic synchronous softmax step,
no temperature.

Patterns are drawn chunk by chunk: chunk c (rows c*chunk .. c*chunk + chunk - 1) from
jax.random.fold_in(key, c), so K up to millions never sits in memory; the tested patterns are the first rows
of chunk 0.  A lax.fori_loop over chunks (K traced, so
one compilation serves every alpha) keeps a running log-sum-exp (max-shifted) and the running weighted sum of
the patterns (the flash-attention recursion), all float64.  Rows past K in the last chunk are masked.

Per tested pattern: the error e = |x' - xi|^2 / N, the overlap m' = x'.xi / N, the cosine, and the target's
weight p_target.  'retrieved' means p_target > 1/2.
"""
from __future__ import annotations

import math
from functools import partial

import numpy as np

from densehebb.theory.attention import PATTERNS


def n_patterns(N, alpha):
    """K = round(exp(alpha N)) (at least 1)."""
    return max(1, int(round(math.exp(alpha * N))))


def chunk_size(K, n_tested, chunk=4096):
    """The chunk the step uses: ``chunk``, or the next power of two >= max(K, n_tested) when that is smaller
    (few distinct shapes, so few compilations)."""
    need = max(int(K), int(n_tested))
    return int(min(chunk, 1 << (need - 1).bit_length()))


def _chunk_patterns(key, c, chunk, N, kind):
    import jax
    import jax.numpy as jnp

    z = jax.random.normal(jax.random.fold_in(key, c), (chunk, N), dtype=jnp.float64)
    if kind == "spherical":
        z = z * (jnp.sqrt(N) / jnp.linalg.norm(z, axis=1, keepdims=True))
    return z


def patterns(key, N, K, kind="gaussian", chunk=4096):
    """All K patterns (K, N) exactly as the chunked step with the same ``chunk`` draws them (checks at small
    K; pass chunk_size(K, n_tested, chunk) to match :func:`softmax_step`)."""
    import jax.numpy as jnp

    n_chunks = -(-K // chunk)
    return jnp.concatenate([_chunk_patterns(key, c, chunk, N, kind) for c in range(n_chunks)])[:K]


@partial(__import__("jax").jit, static_argnames=("N", "kind", "chunk", "n_tested"))
def _step(key, beta, K, *, N, kind, chunk, n_tested):
    import jax
    import jax.numpy as jnp

    x = _chunk_patterns(key, 0, chunk, N, kind)[:n_tested]             # (n, N) the starting states
    n_chunks = -(-K // chunk)

    def body(c, carry):
        mx, s, v = carry
        xi = _chunk_patterns(key, c, chunk, N, kind)                   # (chunk, N)
        logits = beta * (x @ xi.T)                                     # (n, chunk)
        valid = (c * chunk + jnp.arange(chunk)) < K
        logits = jnp.where(valid[None, :], logits, -jnp.inf)
        new = jnp.maximum(mx, jnp.max(logits, axis=1))
        scale = jnp.exp(mx - new)
        w = jnp.exp(logits - new[:, None])
        return new, s * scale + w.sum(axis=1), v * scale[:, None] + w @ xi

    init = (jnp.full((n_tested,), -jnp.inf), jnp.zeros(n_tested), jnp.zeros((n_tested, N)))
    mx, s, v = jax.lax.fori_loop(0, n_chunks, body, init)   # K traced: one compilation per (N, chunk, n)
    xp = v / s[:, None]
    lse = mx + jnp.log(s)
    p_target = jnp.exp(beta * jnp.sum(x * x, axis=1) - lse)
    err = jnp.sum((xp - x) ** 2, axis=1) / N
    ov = jnp.sum(xp * x, axis=1) / N
    cos = jnp.sum(xp * x, axis=1) / (jnp.linalg.norm(xp, axis=1) * jnp.linalg.norm(x, axis=1))
    return xp, err, ov, cos, p_target, lse


def softmax_step(seed, N, alpha=None, beta=1.0, kind="gaussian", n_tested=16, K=None, chunk=4096):
    """One softmax step from each of the first ``n_tested`` patterns of one pattern set (seed -> key).
    Returns a dict of NumPy arrays: x_new (n, N), error, overlap, cosine, p_target, log_partition (ln of the
    full softmax normaliser), and K, N, beta, kind, dynamics."""
    from densehebb.theory.precision import x64

    return x64(_softmax_step)(seed, N, alpha, beta, kind, n_tested, K, chunk)


def _softmax_step(seed, N, alpha, beta, kind, n_tested, K, chunk):
    import jax

    if kind not in PATTERNS:
        raise ValueError(f"kind must be one of {PATTERNS}, got {kind!r}")
    K = n_patterns(N, alpha) if K is None else int(K)
    chunk = chunk_size(K, n_tested, chunk)
    if n_tested > min(K, chunk):
        raise ValueError(f"n_tested = {n_tested} exceeds K = {K}")
    out = _step(jax.random.key(seed), float(beta), K, N=int(N), kind=kind, chunk=chunk, n_tested=int(n_tested))
    names = ("x_new", "error", "overlap", "cosine", "p_target", "log_partition")
    res = {k: np.asarray(v) for k, v in zip(names, out)}
    res.update(K=K, N=int(N), beta=float(beta), kind=kind,
               dynamics="one synchronous softmax step x' = Xi softmax(beta Xi^T x) from x = xi^mu")
    return res


def scan_alpha(N, alphas, beta, kind="gaussian", n_samples=4, n_tested=64, seed=0, chunk=4096):
    """The error statistics versus alpha at one N: per alpha the mean error (and its standard error over all
    tested patterns of all samples), the retrieved fraction (p_target > 1/2) and its error, the mean overlap.
    Samples are independent pattern sets (seed folded with the sample and alpha indices)."""
    rows = []
    for ia, a in enumerate(alphas):
        e, r, m = [], [], []
        for s in range(n_samples):
            nt = min(n_tested, n_patterns(N, a))
            res = softmax_step(seed * 1_000_003 + 1000 * ia + s, N, a, beta, kind, nt, chunk=chunk)
            e.append(res["error"])
            r.append(res["p_target"] > 0.5)
            m.append(res["overlap"])
        e, r, m = np.concatenate(e), np.concatenate(r).astype(float), np.concatenate(m)
        n = e.size
        rows.append({"alpha": float(a), "K": n_patterns(N, a), "error": float(e.mean()),
                     "error_err": float(e.std(ddof=1) / math.sqrt(n)), "retrieved": float(r.mean()),
                     "retrieved_err": float(math.sqrt(max(r.mean() * (1 - r.mean()), 1e-12) / n)),
                     "overlap": float(m.mean())})
    return rows


def crossing(rows, level=0.5, with_error=False):
    """alpha at which the retrieved fraction falls through ``level`` (linear interpolation between the grid
    points around the first fall); NaN when it never crosses on the grid.  With ``with_error``: (alpha, err),
    err = the binomial standard error of the fraction at the two grid points divided by the slope there
    (statistical only; the interpolation itself adds up to about a grid step where the fall is sharp)."""
    a = np.array([r["alpha"] for r in rows])
    f = np.array([r["retrieved"] for r in rows])
    fe = np.array([r.get("retrieved_err", 0.0) for r in rows])
    for i in range(len(a) - 1):
        if f[i] >= level > f[i + 1]:
            slope = (f[i] - f[i + 1]) / (a[i + 1] - a[i])
            c = float(a[i] + (f[i] - level) / slope)
            return (c, float(math.hypot(fe[i], fe[i + 1]) / math.sqrt(2) / slope)) if with_error else c
    return (float("nan"), float("nan")) if with_error else float("nan")
