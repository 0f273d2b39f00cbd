"""Atomic checkpoints of a run's state (any pytree of arrays, PRNG keys included).

Format: one ``.npz`` file (NumPy), leaves ``leaf_0000 ...`` in ``jax.tree`` order (typed PRNG keys are
stored as their raw ``key_data`` and listed in the metadata), plus ``meta``, a JSON document with the run's
fingerprint (every parameter that affects the numbers), the number of completed sweeps and the package
version.  Writing is atomic: the file is written to ``FILE.tmp-<pid>`` in the same directory, flushed
to disk, and renamed over ``FILE`` (``os.replace``), so a run killed at any moment leaves either the
previous or the new checkpoint, never a partial one.

Importing this module does not import JAX (:func:`read_meta` needs only NumPy: the command line checks an
existing checkpoint file before JAX starts); :func:`save` and :func:`load` import it.
"""
from __future__ import annotations

import json
import os

import numpy as np

FORMAT = "densehebb-mc-checkpoint-1"


def _is_key(x):
    import jax
    import jax.numpy as jnp

    return isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def save(path, tree, meta: dict):
    """Write ``tree`` and ``meta`` to ``path`` atomically."""
    import jax

    leaves, _ = jax.tree.flatten(tree)
    arrays, key_leaves, impls = {}, [], {}
    for k, x in enumerate(leaves):
        if _is_key(x):
            key_leaves.append(k)
            impls[str(k)] = str(jax.random.key_impl(x))
            x = jax.random.key_data(x)
        arrays[f"leaf_{k:04d}"] = np.asarray(x)
    doc = dict(meta, format=FORMAT, n_leaves=len(leaves), key_leaves=key_leaves, key_impls=impls)
    arrays["meta"] = np.array(json.dumps(doc, sort_keys=True))
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    try:  # make the rename itself durable
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def read_meta(path) -> dict:
    """The metadata of a checkpoint (ValueError if the file is not one)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            doc = json.loads(str(z["meta"]))
    except (OSError, KeyError, ValueError) as e:
        raise ValueError(f"{path} is not a readable Monte Carlo checkpoint ({type(e).__name__})") from None
    if doc.get("format") != FORMAT:
        raise ValueError(f"{path} is not a densehebb Monte Carlo checkpoint (format {doc.get('format')!r})")
    return doc


def load(path, template):
    """(tree, meta): the checkpoint's arrays in the structure of ``template`` (shapes and dtypes checked)."""
    import jax
    import jax.numpy as jnp

    meta = read_meta(path)
    leaves_t, treedef = jax.tree.flatten(template)
    if meta["n_leaves"] != len(leaves_t):
        raise ValueError(f"checkpoint {path} does not match this run (different state layout)")
    keys = set(meta["key_leaves"])
    out = []
    with np.load(path, allow_pickle=False) as z:
        for k, t in enumerate(leaves_t):
            a = z[f"leaf_{k:04d}"]
            if k in keys:
                if not _is_key(t):
                    raise ValueError(f"checkpoint {path} does not match this run (key leaf {k})")
                x = jax.random.wrap_key_data(jnp.asarray(a), impl=meta["key_impls"][str(k)])
            else:
                x = jnp.asarray(a)
            if x.shape != t.shape or x.dtype != t.dtype:
                raise ValueError(f"checkpoint {path} does not match this run (leaf {k}: {x.dtype}{x.shape} "
                                 f"vs {t.dtype}{t.shape})")
            out.append(x)
    return jax.tree.unflatten(treedef, out), meta
