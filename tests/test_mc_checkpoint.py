"""Checkpoints: a run interrupted at any moment and restarted with the same command gives exactly the
result of an uninterrupted run (in-process interruption, and a real SIGKILL of the CLI)."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr

import densehebb as dh
import densehebb.montecarlo as montecarlo
from densehebb.montecarlo import checkpoint as ckpt

P3 = dh.Model(P=3)
RUN = dict(N=30, K=3, T=[0.3, 0.6, 1.0], n_samples=3, n_replicas=2, sweeps=40, burn_in=10, measure_every=2,
           tempering=True, timeseries=True)


def assert_same_numbers(a, b):
    assert set(a.data_vars) == set(b.data_vars)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
    skip = {"checkpoint", "created"}
    assert {k: v for k, v in a.attrs.items() if k not in skip} == {k: v for k, v in b.attrs.items() if k not in skip}


SMALL = dict(N=40, K=3, T=[0.5, 2.0], n_samples=2, n_replicas=2, sweeps=60, burn_in=20, measure_every=2)


def test_interrupted_small_run_resumes_bit_for_bit(tmp_path):
    """Fast variant (the configuration of test_mc_run's small run, compiled once per session)."""
    small = SMALL
    ref = montecarlo.simulate(7, dh.Model(), **small)
    f = tmp_path / "small.ckpt"
    with pytest.raises(KeyboardInterrupt):
        montecarlo.simulate(7, dh.Model(), **small, checkpoint=str(f), checkpoint_every=0, segment_sweeps=13,
                            _stop_after_segments=2)
    assert ckpt.read_meta(f)["sweeps_done"] == 26
    resumed = montecarlo.simulate(7, dh.Model(), **small, checkpoint=str(f), segment_sweeps=13)
    assert_same_numbers(resumed, ref)
    assert ckpt.read_meta(f)["fingerprint"]["version"] == dh.__version__


@pytest.fixture(scope="module")
def reference():
    return montecarlo.simulate(5, P3, **RUN)


@pytest.mark.slow
def test_segmentation_does_not_change_results(reference):
    seg = montecarlo.simulate(5, P3, **RUN, segment_sweeps=7)
    assert_same_numbers(seg, reference)


@pytest.mark.slow
def test_interrupted_run_resumes_bit_for_bit(reference, tmp_path):
    f = tmp_path / "run.ckpt"
    with pytest.raises(KeyboardInterrupt):
        montecarlo.simulate(5, P3, **RUN, checkpoint=str(f), checkpoint_every=0, segment_sweeps=7,
                            _stop_after_segments=3)
    assert ckpt.read_meta(f)["sweeps_done"] == 21          # mid-measurement, mid-tempering
    resumed = montecarlo.simulate(5, P3, **RUN, checkpoint=str(f), checkpoint_every=0, segment_sweeps=7)
    assert_same_numbers(resumed, reference)
    assert ckpt.read_meta(f)["sweeps_done"] == RUN["sweeps"]
    # a finished checkpoint returns the result again without running
    again = montecarlo.simulate(5, P3, **RUN, checkpoint=str(f))
    assert_same_numbers(again, reference)
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]  # no temporary files left behind


def test_checkpoint_of_another_run_is_refused(tmp_path):
    f = tmp_path / "run.ckpt"
    montecarlo.simulate(5, dh.Model(), **SMALL, checkpoint=str(f))
    with pytest.raises(ValueError, match="belongs to a different run"):
        montecarlo.simulate(6, dh.Model(), **SMALL, checkpoint=str(f))
    with pytest.raises(ValueError, match="belongs to a different run"):     # the other convention
        montecarlo.simulate(5, dh.Model(convention="all-tuples"), **SMALL, checkpoint=str(f))
    (tmp_path / "junk").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable"):
        montecarlo.simulate(5, dh.Model(), **SMALL, checkpoint=str(tmp_path / "junk"))


CLI = [sys.executable, "-m", "densehebb.phase_diagrams.cli", "mc", "--P", "2", "--N", "400", "--alpha", "0.1", "--T", "0.4",
       "--samples", "4", "--sweeps", "3000", "--burn-in", "1000", "--seed", "9", "--json", "--quiet"]


@pytest.mark.slow
def test_sigkill_and_restart_with_the_same_command(tmp_path):
    """Kill -9 the CLI while it runs (after a checkpoint mid-way), rerun the same command: identical output
    to an uninterrupted run."""
    f = str(tmp_path / "mc.ckpt")
    cmd = CLI + ["--checkpoint", f, "--checkpoint-every", "0", "--segment-sweeps", "50",
                 "--out", str(tmp_path / "resumed.nc")]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done_at_kill = None
    deadline = time.time() + 300
    while time.time() < deadline and p.poll() is None:
        if os.path.exists(f):
            try:
                done_at_kill = ckpt.read_meta(f)["sweeps_done"]
            except ValueError:
                done_at_kill = None
            if done_at_kill is not None and done_at_kill >= 200:
                p.send_signal(signal.SIGKILL)
                break
        time.sleep(0.02)
    p.wait(timeout=60)
    assert p.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert 0 < done_at_kill < 3000
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    resumed = json.loads(r.stdout)
    ref_cmd = CLI + ["--out", str(tmp_path / "ref.nc")]
    r2 = subprocess.run(ref_cmd, capture_output=True, text=True, timeout=600)
    assert r2.returncode == 0, r2.stderr
    ref = json.loads(r2.stdout)
    for k in ("m", "m_err", "q", "energy", "energy_err", "acceptance", "tau_energy"):
        assert resumed[k] == ref[k], k
    with xr.open_dataset(tmp_path / "resumed.nc") as a, xr.open_dataset(tmp_path / "ref.nc") as b:
        for name in a.data_vars:
            np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
