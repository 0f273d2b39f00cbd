"""Multi-device execution: chains are sharded over devices by disorder sample.

Every array of a run's state has the sample axis first (:mod:`montecarlo.engine`, the one engine of
simulate, anneal, the capacity runs and the benchmark); a one-dimensional mesh
over the chosen devices (default: all visible JAX devices, ``jax.devices()``) splits that axis, and the
segment runs under ``jax.shard_map`` -- each device sweeps its own samples, with no communication.  The
number of samples is padded up to a multiple of the device count with extra pattern sets (sample s is
always drawn from its own key, so the padding changes nothing for the real samples and is discarded).

Because samples never interact and every chain owns its PRNG key, the results are identical on any
number of devices (tests/test_mc_devices.py runs 1 and 4 CPU devices,
``XLA_FLAGS=--xla_force_host_platform_device_count=4``).

Multi-host (a cluster, several processes): call ``jax.distributed.initialize()`` in every process before
anything else, then ``simulate(..., devices=jax.devices())`` uses the global device list; every process
runs the same script with the same arguments (see docs/montecarlo.md).
"""
from __future__ import annotations

import math

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

AXIS = "samples"

_MESHES: dict = {}


def resolve_devices(devices=None):
    """A tuple of JAX devices: all visible devices by default, or the given ones (an int n: the first n)."""
    if devices is None:
        devs = jax.devices()
    elif isinstance(devices, int) and not isinstance(devices, bool):
        all_devs = jax.devices()
        if not 1 <= devices <= len(all_devs):
            raise ValueError(f"devices must be between 1 and {len(all_devs)} (visible devices), got {devices}")
        devs = all_devs[:devices]
    else:
        devs = list(devices)
        if not devs:
            raise ValueError("devices must not be empty")
    return tuple(devs)


def mesh_key(devices=None):
    """Hashable key of the mesh over ``devices`` (the device ids), registered for :func:`mesh_of`."""
    devs = resolve_devices(devices)
    key = tuple(d.id for d in devs)
    if key not in _MESHES:
        _MESHES[key] = Mesh(np.array(devs, dtype=object), (AXIS,))
    return key


def mesh_of(key) -> Mesh:
    return _MESHES[key]


def padded_samples(n_samples: int, key) -> int:
    """Samples rounded up to a multiple of the device count."""
    n_dev = len(key)
    return int(math.ceil(n_samples / n_dev) * n_dev)


def sample_sharding(key):
    return NamedSharding(mesh_of(key), PartitionSpec(AXIS))


def _is_key(x):
    return isinstance(x, jax.Array) and jax.numpy.issubdtype(x.dtype, jax.dtypes.prng_key)


def put_samples(tree, key):
    """Place every leaf (sample axis first) sharded over the mesh.

    Built with ``jax.make_array_from_callback`` from the (identical) full value every process holds, so the
    same code serves one process with several devices and several processes (``jax.distributed``).
    PRNG key leaves travel as their raw key data and are re-wrapped on the devices.
    """
    sh = sample_sharding(key)

    def put(x):
        if _is_key(x):
            impl = jax.random.key_impl(x)
            data = np.asarray(jax.random.key_data(x))
            arr = jax.make_array_from_callback(data.shape, sh, lambda idx: data[idx])
            return jax.jit(lambda d: jax.random.wrap_key_data(d, impl=impl), out_shardings=sh)(arr)
        data = np.asarray(x)
        return jax.make_array_from_callback(data.shape, sh, lambda idx: data[idx])

    return jax.tree.map(put, tree)


def to_host(tree):
    """Gather every leaf to a NumPy array on every process (PRNG keys: typed keys on the default device)."""
    def get(x):
        if _is_key(x):
            return jax.random.wrap_key_data(np.asarray(_gather(jax.random.key_data(x))), impl=jax.random.key_impl(x))
        return np.asarray(_gather(x))
    return jax.tree.map(get, tree)


def _gather(x):
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
        from jax.experimental import multihost_utils

        return multihost_utils.process_allgather(x, tiled=True)
    return x


def shard_over_samples(fn, key):
    """jit(shard_map(fn)) for ``fn(carry, xi, *replicated_args)``: carry and xi split along samples."""
    mesh = mesh_of(key)
    spec = PartitionSpec(AXIS)

    def wrapped(carry, xi, *rest):
        return fn(carry, xi, *rest)

    def call(carry, xi, *rest):
        in_specs = (spec, spec) + (PartitionSpec(),) * len(rest)
        return jax.shard_map(wrapped, mesh=mesh, in_specs=in_specs, out_specs=spec, check_vma=False)(
            carry, xi, *rest)

    return jax.jit(call)
