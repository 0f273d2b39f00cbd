"""Progress reporting (callbacks in the library, stderr lines in the command line) and the memory guard of
the theory grid solver."""
import json
import subprocess
import sys
import time

import numpy as np
import pytest

import densehebb as dh
from densehebb.phase_diagrams.diagram import phase_diagram
from densehebb.theory import resources
from densehebb.theory.rsb1_solver import capacity_rsb1

CLI = [sys.executable, "-m", "densehebb.phase_diagrams.cli"]


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, stage, done=None, total=None):
        self.calls.append((stage, done, total))


@pytest.mark.slow
def test_phase_diagram_calls_progress():
    rec = Recorder()
    ds = phase_diagram(dh.Model(P=2), alphas=[0.05], Ts=[0.0], progress=rec)
    assert rec.calls[0][1] is None and "compiling the RS solver for P = 2" in rec.calls[0][0]
    assert ("lines", 0, 1) in rec.calls and ("lines", 1, 1) in rec.calls
    assert ("capacity", 0, 1) in rec.calls and ("capacity", 1, 1) in rec.calls
    silent = phase_diagram(dh.Model(P=2), alphas=[0.05], Ts=[0.0])   # no callback: same numbers
    for k in ("T_M", "T_c", "alpha_c", "alpha_c_T0"):
        np.testing.assert_array_equal(ds[k].values, silent[k].values)


@pytest.mark.slow
def test_capacity_rsb1_calls_progress():
    msgs = []
    r = capacity_rsb1(dh.Model(P=2, ansatz="1rsb"), 0.0, progress=msgs.append)
    assert r.converged
    assert any(m.startswith("RS fold found") for m in msgs)
    assert any("accepted" in m for m in msgs)
    assert r.alpha_c == capacity_rsb1(dh.Model(P=2, ansatz="1rsb"), 0.0).alpha_c   # silent: same number


def run(*args):
    return subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_cli_json_stdout_pure_progress_on_stderr():
    p = run("solve", "--P", "2", "--alpha", "0.05", "--T", "0.3", "--json")
    assert p.returncode == 0, p.stderr
    json.loads(p.stdout)                       # stdout: one JSON object, nothing else
    assert "densehebb: solve: compiling the RS solver for P = 2 ..." in p.stderr.splitlines()
    q = run("solve", "--P", "2", "--alpha", "0.05", "--T", "0.3", "--json", "--quiet")
    assert q.returncode == 0 and q.stderr == ""
    assert json.loads(q.stdout) == json.loads(p.stdout)


@pytest.mark.slow
def test_cli_phase_diagram_progress_lines(tmp_path):
    out = tmp_path / "d.nc"
    p = run("phase-diagram", "--P", "2", "--out", str(out), "--json")
    assert p.returncode == 0, p.stderr
    json.loads(p.stdout)
    lines = p.stderr.splitlines()
    assert lines[0] == "densehebb: phase-diagram: compiling the RS solver for P = 2 ..."
    assert any(l.startswith("densehebb: phase-diagram: lines ") and l.endswith("/66") for l in lines)
    assert "\r" not in p.stderr                # plain lines, not a tqdm bar (stderr is not a TTY)
    q = run("phase-diagram", "--P", "2", "--out", str(out), "--json", "--quiet")
    assert q.returncode == 0 and q.stderr == ""


@pytest.mark.slow
def test_cli_capacity_1rsb_stages():
    p = run("capacity", "--P", "2", "--ansatz", "1rsb", "--json")
    assert p.returncode == 0, p.stderr
    json.loads(p.stdout)
    assert "RS fold found" in p.stderr and "accepted" in p.stderr
    q = run("capacity", "--P", "2", "--ansatz", "1rsb", "--json", "--quiet")
    assert q.stderr == "" and json.loads(q.stdout) == json.loads(p.stdout)


def test_huge_grid_refused_before_allocating():
    a = np.broadcast_to(0.05, (100000, 100000))       # a view: 1e10 points, no memory
    t0 = time.monotonic()
    with pytest.raises(ValueError, match=r"needs about .* of memory but .* is available"):
        dh.solve(dh.Model(P=2), a, 0.3)
    assert time.monotonic() - t0 < 5


def test_memory_estimate_and_message():
    need = resources.solve_memory_estimate(1000, 3)
    assert need == 1000 * (3 + 11 + 3) * 8 * resources.WORKSPACE_FACTOR
    with pytest.raises(ValueError, match="but 1 KiB is available"):
        resources.check_solve_memory((10, 100), 3, available=1024)
    assert resources.check_solve_memory((2,), 3, available=10**12) > 0
    assert resources.format_bytes(1536) == "1.5 KiB"
