"""Multi-device: 4 host devices give exactly the numbers of 1 device (simulate with tempering, a checkpoint
written on 4 devices and resumed on 1, and the capacity runs)."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import xarray as xr

import densehebb as dh
import densehebb.montecarlo as montecarlo
from densehebb.montecarlo import capacity

MODEL = dh.Model(P=4)
RUN = dict(N=24, K=3, T=[0.05, 0.1, 0.2], n_samples=3, n_replicas=3, sweeps=30, burn_in=10, tempering=True,
           timeseries=True)

SCRIPT = textwrap.dedent("""
    import json, sys
    import jax, numpy as np
    import densehebb as dh
    import densehebb.montecarlo as montecarlo
    from densehebb.montecarlo import capacity
    assert jax.device_count() == 4, jax.devices()
    assert not jax.config.jax_enable_x64           # a fresh process: the entry points scope float64 themselves
    run = json.loads(sys.argv[1]); out = sys.argv[2]
    ds = montecarlo.simulate(3, dh.Model(P=4), **run)
    assert ds.attrs["n_devices"] == 4 and ds.energy.dtype == np.float64 and ds.q_counts.dtype == np.int64
    ds.to_netcdf(out + "/four.nc")
    try:
        montecarlo.simulate(3, dh.Model(P=4), **run, checkpoint=out + "/ck", checkpoint_every=0, segment_sweeps=8,
                            _stop_after_segments=2)
    except KeyboardInterrupt:
        pass
    r = capacity.run_size(jax.random.key(1), dh.Model(), 60, [0.1, 0.2], n_samples=3, n_starts=4)
    np.save(out + "/cap.npy", r["m_final"])
    a = montecarlo.anneal(2, dh.Model(P=4), N=32, K=2, T=[0.05, 0.1], n_samples=3, n_replicas=2, sweeps_per_T=6,
                          measure=3)
    a.to_netcdf(out + "/anneal.nc")
    assert not jax.config.jax_enable_x64
""")


@pytest.mark.slow
def test_four_devices_equal_one(tmp_path):
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    p = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(RUN), str(tmp_path)], capture_output=True,
                       text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]

    one = montecarlo.simulate(3, MODEL, **RUN, devices=1)
    assert one.attrs["n_devices"] == 1
    with xr.open_dataset(tmp_path / "four.nc") as four:
        assert set(four.data_vars) == set(one.data_vars)
        for name in one.data_vars:
            np.testing.assert_array_equal(four[name].values, one[name].values, err_msg=name)

    # a checkpoint written on 4 devices (interrupted after 16 sweeps) resumes on 1 device, identically
    resumed = montecarlo.simulate(3, MODEL, **RUN, checkpoint=str(tmp_path / "ck"), segment_sweeps=8)
    for name in one.data_vars:
        np.testing.assert_array_equal(resumed[name].values, one[name].values, err_msg=name)

    import jax
    r = capacity.run_size(jax.random.key(1), dh.Model(), 60, [0.1, 0.2], n_samples=3, n_starts=4)
    np.testing.assert_array_equal(np.load(tmp_path / "cap.npy"), r["m_final"])
    a = montecarlo.anneal(2, MODEL, N=32, K=2, T=[0.05, 0.1], n_samples=3, n_replicas=2, sweeps_per_T=6, measure=3,
                          devices=1)
    with xr.open_dataset(tmp_path / "anneal.nc") as four:
        for name in a.data_vars:
            np.testing.assert_array_equal(four[name].values, a[name].values, err_msg=name)
