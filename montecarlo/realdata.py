"""Real data: dense Hebbian couplings built from a user's labelled +-1 examples, and retrieval from them.

A dataset is an ``.npz`` file with

* ``patterns``: an array (samples, N) of +-1 (any integer or float dtype holding exactly +1 and -1);
* ``labels``: integers (samples,), one class label per sample;
* optionally ``shape`` (two integers, rows x columns = N: how to draw a pattern as an image), ``threshold`` and
  ``source`` (provenance, copied into the report).

:func:`write_digits` writes the handwritten-digits set that scikit-learn ships inside its package (1797 images of
8 x 8 pixels with grey levels 0..16, ten classes; no download) in this format, binarised by
**pixel > 8 -> +1, pixel <= 8 -> -1** (:data:`DIGITS_THRESHOLD`; scikit-learn is an optional extra,
``pip install densehebb[digits]``, imported only here).

Model (docs/conventions.md, "Learning from examples", with the examples *given* instead of drawn from
archetypes).  :func:`select_examples` picks M examples eta^{c,a} (a = 1..M) of every class c with an explicit
PRNG key; the K classes play the role of the archetypes, but real data has no archetype and no quality r, so

* the couplings are those of :mod:`montecarlo.learning` with Norm = 1 (``Examples(M, r=1)``): supervised
  H = -(1/N^(P-1)) sum_c e_P(xibar^c sigma), xibar^c = (1/M) sum_a eta^{c,a} the class mean; unsupervised
  H = -(1/(M N^(P-1))) sum_c sum_a e_P(eta^{c,a} sigma) (distinct indices; all tuples: (sum_i y_i)^P / P!).
  The Norm only rescales the temperature; T = 0 dynamics do not depend on it;
* column 0 of the pattern set (the "archetype" column of :func:`montecarlo.patterns.example_patterns`, used
  only for reporting) holds the binarised class mean sgn(xibar^c) (sgn 0 = +1), and the class mean takes the
  archetype's role in the report.

Retrieval (:func:`retrieve`): every chain starts at a corrupted example of its class (a fraction ``corrupt``
of its N spins, exactly round(corrupt N) sites chosen at random, flipped), either one of the M stored examples
(``start="example"``) or an example of the class that was not stored (``"unseen"``), and runs the
sequential single-spin-flip dynamics of :mod:`montecarlo.dynamics` on the exact O(K) flips of
:mod:`montecarlo.learning`: at T = 0 (default) ``greedy`` strict descent until a sweep without a flip (a fixed
point) or ``max_sweeps``; at T > 0 Glauber (or Metropolis) for ``max_sweeps`` sweeps.  Reported per chain
(and averaged per class):

* ``mean_overlap`` = (1/N) sgn(xibar^c) . sigma, the overlap with the binarised class mean (in [-1, 1]; 1 iff
  sigma = sgn(xibar^c), the majority vote of the class's stored examples), and ``mean_cosine`` =
  xibar^c . sigma / (|xibar^c|_2 sqrt(N)), the cosine with the class mean itself (in [-1, 1]; it reaches 1
  only if the examples agree everywhere).  (The synthetic model's n = xibar . sigma / (r N) needs r.)
* ``nearest_overlap`` = max_a (1/N) eta^{c,a} . sigma over the stored examples of the chain's class, and
  ``nearest_class``: the class of the stored example (any class) with the largest overlap with sigma
  (``correct`` if it is the chain's own class);
* the same overlaps of the corrupted start (``start_*``), the number of sweeps, and ``stable``: whether the
  final state is a fixed point of zero-temperature dynamics (every single flip has dH >= 0, checked exactly).

Keys: ``key`` is split into streams with ``fold_in``: 0 the choice of examples (class index k: fold_in(.., k)),
1 the corruption (chain j: fold_in(.., j)), 2 the dynamics (chain j).  The same key gives the same result.

Loading and validation use NumPy only (no JAX), so the command line checks a file before JAX starts.
"""
from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field

import numpy as np

#: digits binarisation: grey level (0..16) > DIGITS_THRESHOLD -> +1, else -1
DIGITS_THRESHOLD = 8
STARTS = ("example", "unseen")
DYNAMICS = ("greedy", "glauber", "metropolis")


class DataError(ValueError):
    """A dataset file or array that is not a valid labelled +-1 dataset (one-line message)."""


# ------------------------------------------------------------------------------------------- loading
@dataclass(frozen=True)
class Data:
    """A validated dataset: ``patterns`` int8 (samples, N) +-1, ``labels`` int64 (samples,), ``classes`` (the
    sorted distinct labels), ``counts`` (examples per class), ``shape`` (image rows, columns) and ``meta``."""

    patterns: np.ndarray
    labels: np.ndarray
    classes: np.ndarray
    counts: np.ndarray
    shape: tuple
    meta: dict = field(default_factory=dict)

    @property
    def N(self) -> int:
        return int(self.patterns.shape[1])

    @property
    def K(self) -> int:
        return int(self.classes.size)


def _image_shape(N, shape):
    if shape is not None:
        s = np.asarray(shape)
        if s.shape != (2,) or not np.issubdtype(s.dtype, np.integer) or int(s[0]) * int(s[1]) != N or min(s) < 1:
            raise DataError(f"'shape' must be two positive integers with rows x columns = N = {N}, got {s.tolist()}")
        return int(s[0]), int(s[1])
    r = math.isqrt(N)
    return (r, r) if r * r == N else (1, N)


def validate(patterns, labels, shape=None, meta=None) -> Data:
    """Check a labelled +-1 dataset and return it as :class:`Data` (DataError with a one-line message)."""
    X = np.asarray(patterns)
    if X.ndim != 2:
        raise DataError(f"'patterns' must be a 2-d array (samples, N), got shape {X.shape}")
    n, N = X.shape
    if n < 1 or N < 2:
        raise DataError(f"'patterns' needs at least 1 sample and N >= 2 neurons, got shape {X.shape}")
    if X.dtype == bool or not (np.issubdtype(X.dtype, np.integer) or np.issubdtype(X.dtype, np.floating)):
        raise DataError(f"'patterns' must be numbers +1 and -1, got dtype {X.dtype}")
    bad = ~((X == 1) | (X == -1))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(f"'patterns' must hold only +1 and -1 (binarise images first), got {X[i, j]!r} at "
                        f"sample {i}, neuron {j} ({int(bad.sum())} such entries)")
    y = np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != n:
        raise DataError(f"'labels' must be a 1-d array of {n} labels (one per sample), got shape {y.shape}")
    if np.issubdtype(y.dtype, np.floating):
        if not (np.all(np.isfinite(y)) and np.all(y == np.round(y))):
            raise DataError("'labels' must be integers")
        y = y.astype(np.int64)
    elif not np.issubdtype(y.dtype, np.integer) or y.dtype == bool:
        raise DataError(f"'labels' must be integers, got dtype {y.dtype}")
    classes, counts = np.unique(y.astype(np.int64), return_counts=True)
    return Data(patterns=X.astype(np.int8), labels=y.astype(np.int64), classes=classes, counts=counts,
                shape=_image_shape(N, shape), meta=dict(meta or {}))


def load(path) -> Data:
    """Load and validate an ``.npz`` dataset (see the module docstring)."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as f:
            files = set(f.files)
            for k in ("patterns", "labels"):
                if k not in files:
                    raise DataError(f"{path}: no array '{k}' (an .npz needs 'patterns' (samples, N) of +-1 and "
                                    f"integer 'labels'; it has: {', '.join(sorted(files)) or 'nothing'})")
            X, y = f["patterns"], f["labels"]
            shape = f["shape"] if "shape" in files else None
            meta = {"file": os.path.basename(str(path))}
            for k in ("threshold", "source"):
                if k in files:
                    v = f[k]
                    meta[k] = v.item() if v.ndim == 0 else v.tolist()
    except DataError:
        raise
    except (OSError, ValueError, EOFError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataError(f"{path}: not a readable .npz file ({first})") from None
    try:
        return validate(X, y, shape, meta)
    except DataError as e:
        raise DataError(f"{path}: {e}") from None


def check_M(data: Data, M: int, start: str = "example", starts: int = 1) -> int:
    """M examples per class: 1 <= M <= the smallest class size (minus 1 with start="unseen")."""
    if isinstance(M, bool) or int(M) != M or M < 1:
        raise DataError(f"M (examples per class) must be an integer >= 1, got {M!r}")
    if start not in STARTS:
        raise DataError(f"start must be one of {', '.join(STARTS)}, got {start!r}")
    small = int(data.counts.min())
    c = data.classes[int(np.argmin(data.counts))]
    limit = small - 1 if start == "unseen" else small
    if M > limit:
        raise DataError(f"M = {M} examples per class is larger than the class size allows: class {c} has {small} "
                        "examples" + (" and start 'unseen' needs one more than M" if start == "unseen" else ""))
    return int(M)


def default_M(data: Data, start: str = "example") -> int:
    """All examples of the smallest class (one fewer with start="unseen"), so that every class has M."""
    return int(data.counts.min()) - (1 if start == "unseen" else 0)


# ------------------------------------------------------------------------------------------- digits
def digits_arrays(threshold: int = DIGITS_THRESHOLD):
    """(patterns int8 (1797, 64) +-1, labels int64 (1797,)) of scikit-learn's digits: grey level > threshold
    -> +1.  Needs scikit-learn (``pip install densehebb[digits]``)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DataError("the digits set needs scikit-learn, an optional extra: pip install 'densehebb[digits]' "
                        "(or pip install scikit-learn)") from None
    if isinstance(threshold, bool) or int(threshold) != threshold or not 0 <= threshold < 16:
        raise DataError(f"threshold must be an integer in 0..15 (grey levels 0..16), got {threshold!r}")
    d = load_digits()
    X = np.where(np.asarray(d.data) > threshold, 1, -1).astype(np.int8)
    return X, np.asarray(d.target, np.int64)


def write_digits(path, threshold: int = DIGITS_THRESHOLD) -> Data:
    """Write scikit-learn's digits as a dataset ``.npz`` (patterns, labels, shape = (8, 8), threshold, source),
    atomically; returns the :class:`Data`."""
    X, y = digits_arrays(threshold)
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = os.path.join(d, f".{os.path.basename(path)}.{os.getpid()}.tmp.npz")
    try:
        np.savez_compressed(tmp, patterns=X, labels=y, shape=np.array([8, 8]), threshold=np.int64(threshold),
                            source=np.str_(f"sklearn.datasets.load_digits, grey level > {threshold} -> +1"))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return validate(X, y, (8, 8), {"threshold": int(threshold), "source": "sklearn.datasets.load_digits"})


# ------------------------------------------------------------------------------------------- model
def select_examples(key, data: Data, M: int, start: str = "example", starts: int = 1):
    """(stored (K, M, N) int8, start examples (K, starts, N) int8, indices (K, M) into data.patterns).

    Class k (k-th smallest label) draws a permutation of its examples from ``fold_in(key, k)``; the first M are
    stored; start r is stored example r mod M ("example") or unseen example M + (r mod (n_k - M)) ("unseen")."""
    import jax

    M = check_M(data, M, start, starts)
    stored, first, idx = [], [], []
    for k, c in enumerate(data.classes):
        members = np.flatnonzero(data.labels == c)
        perm = members[np.asarray(jax.random.permutation(jax.random.fold_in(key, k), members.size))]
        idx.append(perm[:M])
        stored.append(data.patterns[perm[:M]])
        r = np.arange(starts)
        pick = perm[r % M] if start == "example" else perm[M + r % (members.size - M)]
        first.append(data.patterns[pick])
    return np.stack(stored), np.stack(first), np.stack(idx)


def pattern_set(stored, supervised: bool):
    """The pattern set W (N, K, C) of :mod:`montecarlo.learning` for stored examples (K, M, N): column 0 the
    binarised class mean sgn(sum_a eta^a) (sgn 0 = +1); supervised column 1 the integer class sum
    M xibar = sum_a eta^a; unsupervised columns 1..M the examples."""
    stored = np.asarray(stored)
    K, M, N = stored.shape
    dt = np.int8 if M <= 127 else np.int16 if M <= 32767 else np.int32
    S = stored.astype(dt).sum(axis=1, dtype=dt)                    # (K, N)
    sign = np.where(S >= 0, 1, -1).astype(dt)
    if supervised:
        return np.stack([sign.T, S.T], axis=-1)                   # (N, K, 2)
    return np.concatenate([sign.T[..., None].astype(np.int8), np.transpose(stored, (2, 0, 1)).astype(np.int8)],
                          axis=-1)                                # (N, K, 1 + M)


def corrupt(key, x, fraction: float):
    """x (..., N) with exactly round(fraction N) sites, chosen uniformly from ``key``, flipped (JAX)."""
    import jax
    import jax.numpy as jnp

    x = jnp.asarray(x)
    N = x.shape[-1]
    n_flip = int(round(float(fraction) * N))
    ranks = jnp.argsort(jnp.argsort(jax.random.uniform(key, x.shape), axis=-1), axis=-1)
    return jnp.where(ranks < n_flip, -x, x).astype(x.dtype)


@functools.lru_cache(maxsize=64)
def _runner(N, K, M, P, self_interaction, supervised, rule, n_chains):
    """Jitted (keys, sigma0, W, beta, max_sweeps) -> (sigma, sweeps, dH_min, energy) for n_chains chains."""
    import jax
    import jax.numpy as jnp

    from densehebb.theory.model import Examples

    from . import dynamics, learning

    ex = Examples(M=int(M), r=1.0, supervised=bool(supervised))
    init1, _ = dynamics.single_spin_flip(N, K, rule, P, self_interaction, examples=ex)
    step = dynamics.batched_step(N, K, rule, P, self_interaction, examples=ex)
    plan = learning.plan_for(N, K, P, self_interaction, ex)
    init = jax.vmap(init1, in_axes=(0, 0, None))

    def min_flip(sigma, Mst, W):
        """min_i dH of flipping site i (exact up to the final scaling)."""
        n = jax.vmap(lambda row, s: learning.flip_sum_examples(Mst, row, s, plan))(W, sigma)
        return jnp.min(n.astype(jnp.float64)) * plan.scale

    def run(keys, sigma0, W, beta, max_sweeps):
        st = init(keys, sigma0, W)
        zero_T = jnp.all(jnp.isinf(beta))

        def cond(c):
            s, moved = c
            return (s.sweeps[0] < max_sweeps) & (moved | ~zero_T)

        def body(c):
            s, _ = c
            s2 = step(s, W, beta)
            return s2, jnp.any(s2.accepted > s.accepted)

        st, _ = jax.lax.while_loop(cond, body, (st, jnp.array(True)))
        dmin = jax.vmap(min_flip, in_axes=(0, 0, None))(st.sigma, st.M, W)
        return st.sigma, st.sweeps, dmin, learning.energy_from_state(st.M, plan) / N

    return jax.jit(run), plan


@dataclass
class Retrieval:
    """The result of :func:`retrieve`: ``record`` (JSON-ready: settings, per-class averages, overall averages)
    and arrays for figures: ``start``, ``final`` (K, starts, N) int8, ``means`` (K, N) float64 class means,
    ``chains`` (per-chain overlaps, dict of (K, starts) arrays)."""

    record: dict
    start: np.ndarray
    final: np.ndarray
    means: np.ndarray
    chains: dict
    shape: tuple

    def to_dict(self) -> dict:
        return self.record


def _overlaps(sigma, stored, means_sign, means):
    """Overlaps of states sigma (K, R, N) with their class (see the module docstring)."""
    K, M, N = stored.shape
    s = sigma.astype(np.float64)
    mean_ov = np.einsum("krn,kn->kr", s, means_sign) / N
    norms = np.linalg.norm(means, axis=-1)
    cos = np.einsum("krn,kn->kr", s, means) / (np.where(norms > 0, norms, 1.0)[:, None] * math.sqrt(N))
    ex = np.einsum("krn,cmn->krcm", s, stored.astype(np.float64)) / N        # (K, R, K, M)
    own = np.stack([ex[k, :, k, :].max(axis=-1) for k in range(K)])          # (K, R)
    nearest = ex.max(axis=-1).argmax(axis=-1)                                # (K, R): class index
    return {"mean_overlap": mean_ov, "mean_cosine": cos, "nearest_overlap": own, "nearest_class_index": nearest}


def retrieve(key, data: Data, P: int, M: int | None = None, supervised: bool = True, T: float = 0.0,
             corrupt_fraction: float = 0.2, max_sweeps: int = 100, starts: int = 1, start: str = "example",
             dynamics: str | None = None, self_interaction: bool = False) -> Retrieval:
    """Build the couplings from M examples per class and run the dynamics from corrupted examples.

    ``key``: a JAX PRNG key or an integer seed.  ``dynamics``: "greedy" (default at T = 0), "glauber" (default at
    T > 0) or "metropolis".  Returns a :class:`Retrieval` (see the module docstring for the overlaps)."""
    from densehebb.theory.model import convention_name
    from densehebb.theory.precision import x64

    from .polynomials import MAX_P

    if isinstance(P, bool) or int(P) != P or not 2 <= P <= MAX_P:
        raise ValueError(f"P must be an integer in 2..{MAX_P}, got {P!r}")
    if not (math.isfinite(T) and T >= 0):
        raise ValueError(f"T must be finite and >= 0, got {T!r}")
    if not 0.0 <= corrupt_fraction <= 1.0:
        raise ValueError(f"corrupt must lie in [0, 1], got {corrupt_fraction!r}")
    if int(max_sweeps) != max_sweeps or max_sweeps < 1 or int(starts) != starts or starts < 1:
        raise ValueError("max_sweeps and starts must be integers >= 1")
    rule = dynamics or ("greedy" if T == 0 else "glauber")
    if rule not in DYNAMICS:
        raise ValueError(f"dynamics must be one of {', '.join(DYNAMICS)}, got {rule!r}")
    if rule == "greedy" and T > 0:
        raise ValueError("greedy dynamics is zero-temperature descent: use T = 0 or glauber/metropolis")
    M = default_M(data, start) if M is None else check_M(data, M, start, starts)
    return x64(_retrieve)(key, data, int(P), M, bool(supervised), float(T), float(corrupt_fraction),
                          int(max_sweeps), int(starts), start, rule, bool(self_interaction), convention_name)


def _retrieve(key, data, P, M, supervised, T, fraction, max_sweeps, starts, start, rule, si, convention_name):
    import jax
    import jax.numpy as jnp

    seed = None
    if isinstance(key, (int, np.integer)):
        seed = int(key)
        key = jax.random.PRNGKey(seed)
    stored, first, _ = select_examples(jax.random.fold_in(key, 0), data, M, start, starts)
    K, N, R = data.K, data.N, starts
    W = pattern_set(stored, supervised)
    flat0 = jnp.asarray(first.reshape(K * R, N))
    kc, kd = jax.random.fold_in(key, 1), jax.random.fold_in(key, 2)
    sigma0 = jax.vmap(lambda j, x: corrupt(jax.random.fold_in(kc, j), x, fraction))(jnp.arange(K * R), flat0)
    keys = jax.vmap(lambda j: jax.random.fold_in(kd, j))(jnp.arange(K * R))
    run, plan = _runner(N, K, M, P, si, supervised, rule, K * R)
    beta = jnp.full((K * R,), jnp.inf if T == 0 else 1.0 / T, jnp.float64)
    sigma, sweeps, dmin, energy = run(keys, sigma0.astype(jnp.int8), jnp.asarray(W), beta, jnp.int32(max_sweeps))
    final = np.asarray(sigma).reshape(K, R, N)
    start_s = np.asarray(sigma0).reshape(K, R, N)
    means = stored.astype(np.float64).mean(axis=1)
    means_sign = np.where(means >= 0, 1.0, -1.0)
    fin = _overlaps(final, stored, means_sign, means)
    beg = _overlaps(start_s, stored, means_sign, means)
    sweeps = np.asarray(sweeps).reshape(K, R)
    stable = (np.asarray(dmin) >= 0).reshape(K, R)
    energy = np.asarray(energy).reshape(K, R)
    own = np.arange(K)[:, None]
    correct = fin["nearest_class_index"] == own
    per_class = []
    for k, c in enumerate(data.classes):
        per_class.append({
            "label": int(c),
            "mean_overlap": float(fin["mean_overlap"][k].mean()),
            "mean_cosine": float(fin["mean_cosine"][k].mean()),
            "nearest_overlap": float(fin["nearest_overlap"][k].mean()),
            "nearest_class": [int(data.classes[j]) for j in fin["nearest_class_index"][k]],
            "correct_fraction": float(correct[k].mean()),
            "start_mean_overlap": float(beg["mean_overlap"][k].mean()),
            "start_nearest_overlap": float(beg["nearest_overlap"][k].mean()),
            "energy": float(energy[k].mean()),
            "sweeps": [int(s) for s in sweeps[k]],
            "stable_fraction": float(stable[k].mean()),
        })
    record = {
        "dataset": "supervised" if supervised else "unsupervised", "P": P, "N": N, "K": K, "M": M,
        "convention": convention_name(si), "dynamics": rule, "T": T, "norm": 1.0,
        "corrupt": fraction, "flipped_sites": int(round(fraction * N)), "start": start, "starts": R,
        "max_sweeps": max_sweeps, "seed": seed, "samples": int(data.patterns.shape[0]),
        "exact_arithmetic": bool(plan.exact),
        "mean_overlap": float(fin["mean_overlap"].mean()), "mean_cosine": float(fin["mean_cosine"].mean()),
        "nearest_overlap": float(fin["nearest_overlap"].mean()), "correct_fraction": float(correct.mean()),
        "start_mean_overlap": float(beg["mean_overlap"].mean()),
        "start_nearest_overlap": float(beg["nearest_overlap"].mean()),
        "stable_fraction": float(stable.mean()),
        "fixed_point_reached": bool(stable.all()) if T == 0 else None,
        "overlap_definitions": "mean_overlap = sgn(class mean).sigma/N; mean_cosine = cos(class mean, sigma); "
                               "nearest_overlap = max over the class's stored examples of eta.sigma/N; "
                               "nearest_class = class of the stored example nearest to sigma",
        "per_class": per_class,
    }
    record.update({f"data_{k}": v for k, v in data.meta.items()})
    chains = dict(fin, stable=stable, sweeps=sweeps, energy=energy,
                  start_mean_overlap=beg["mean_overlap"], start_nearest_overlap=beg["nearest_overlap"])
    return Retrieval(record=record, start=start_s, final=final, means=means, chains=chains, shape=data.shape)


# ------------------------------------------------------------------------------------------- figure
def plot_grid(result: Retrieval, path=None, labels=None, chain: int = 0):
    """PNG grid: one row per class; columns: the corrupted start, the final state, the class mean (grey,
    -1 black .. +1 white) and its binarisation.  Returns the figure (saved to ``path`` if given)."""
    from matplotlib.figure import Figure   # not managed by pyplot: no display, backend untouched

    K = result.final.shape[0]
    rows, cols = result.shape
    titles = ("corrupted start", "final state", "class mean", "sgn(class mean)")
    labels = labels if labels is not None else [p["label"] for p in result.record["per_class"]]
    w = 1.1 * max(1.0, cols / rows) if rows > 1 else 3.0
    fig = Figure(figsize=(4 * w + 1.0, 1.1 * K + 0.8))
    axes = fig.subplots(K, 4, squeeze=False)
    for k in range(K):
        imgs = (result.start[k, chain], result.final[k, chain], result.means[k], np.where(result.means[k] >= 0, 1, -1))
        for j, im in enumerate(imgs):
            ax = axes[k, j]
            ax.imshow(np.asarray(im, float).reshape(rows, cols), cmap="gray", vmin=-1, vmax=1,
                      interpolation="nearest", aspect="auto" if rows == 1 else "equal")
            ax.set_xticks([])
            ax.set_yticks([])
            if k == 0:
                ax.set_title(titles[j], fontsize=8)
        pc = result.record["per_class"][k]
        axes[k, 0].set_ylabel(f"{labels[k]}", rotation=0, labelpad=12, fontsize=9)
        axes[k, 1].set_xlabel(f"m={result.chains['mean_overlap'][k, chain]:.2f} "
                              f"x={result.chains['nearest_overlap'][k, chain]:.2f} "
                              f"-> {pc['nearest_class'][chain]}", fontsize=6, labelpad=1)
    rec = result.record
    fig.suptitle(f"{rec['dataset']}, P = {rec['P']}, M = {rec['M']}, {rec['dynamics']} T = {rec['T']}, "
                 f"{rec['convention']}, corrupt {rec['corrupt']}", fontsize=8)
    fig.tight_layout()
    if path is not None:
        d = os.path.dirname(os.path.abspath(path))
        os.makedirs(d, exist_ok=True)
        tmp = os.path.join(d, f".{os.path.basename(path)}.{os.getpid()}.tmp.png")
        try:
            fig.savefig(tmp, dpi=110, format="png")
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return fig


__all__ = ["DIGITS_THRESHOLD", "Data", "DataError", "Retrieval", "validate", "load", "check_M", "default_M",
           "digits_arrays", "write_digits", "select_examples", "pattern_set", "corrupt", "retrieve", "plot_grid"]
