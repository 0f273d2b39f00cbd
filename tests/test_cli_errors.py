"""Bad input at the command line: every subcommand refuses it before computing anything, with one line
``densehebb: error: ...`` on stderr, exit code 2, no traceback, nothing written, within a few seconds.

The cases run in-process (``densehebb.phase_diagrams.cli.main``) in an empty temporary directory that
must stay empty; a few run the real entry points in a subprocess.  Also: the memory estimate of
montecarlo.inputs, atomic writes (netCDF, PNG, checkpoints), ``--version``.
"""
import json
import os
import subprocess
import sys
import time

import pytest

from densehebb.phase_diagrams.cli import main

MODULE = [sys.executable, "-m", "densehebb.phase_diagrams.cli"]
SCRIPT = os.path.join(os.path.dirname(sys.executable), "densehebb")
FAST_S = 3.0         # in-process validation takes milliseconds; generous for a loaded machine
HUGE_MC = ("mc", "--P", "2", "--N", "1000000000", "--alpha", "0.05", "--T", "0.3", "--samples", "1", "--sweeps", "2",
           "--json")


@pytest.fixture(autouse=True)
def _clean_env():
    """main() may set XLA_FLAGS / BLAS threads before JAX starts: keep them out of the other tests."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def work(tmp_path, monkeypatch):
    """An empty working directory (plus a subdirectory ``adir`` and, where a case needs it, files made by
    the case); returns a function listing what is there."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    return lambda: sorted(os.listdir(tmp_path))


def run_main(argv, capsys):
    """(exit code, stdout, stderr, seconds) of main(argv) in this process."""
    t = time.monotonic()
    try:
        code = main(list(argv))
    except SystemExit as e:
        code = e.code
    dt = time.monotonic() - t
    out, err = capsys.readouterr()
    return code, out, err, dt


def assert_refused(code, out, err, match=None):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, (code, err)
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("densehebb: error: "), err
    assert out == ""
    if match is not None:
        assert match in lines[0], lines[0]


BAD = [
    # --- solve: ranges, types, NaN / inf, choices, prefixes, inapplicable options
    (("solve", "--alpha", "nan", "--T", "0.1"), "alpha must be finite"),
    (("solve", "--alpha", "0.1", "--T", "inf"), "T must be finite"),
    (("solve", "--alpha", "0.1", "--T=-inf"), "T must be finite"),
    (("solve", "--alpha", "0.1", "--T", "-inf"), "expected one argument"),
    (("solve", "--alpha", "-0.1", "--T", "0.1"), "alpha must be >= 0"),
    (("solve", "--alpha", "zero", "--T", "0.1"), "alpha must be a number"),
    (("solve", "--P", "2.5", "--alpha", "0.1", "--T", "0.1"), "P must be an integer"),
    (("solve", "--P", "1", "--alpha", "0.1", "--T", "0.1"), "P must be >= 2"),
    (("solve", "--P", "9", "--alpha", "0.1", "--T", "0.1"), "P must be <= 8"),
    (("solve", "--P", "100000000000000000000", "--alpha", "0.1", "--T", "0.1"), "P must be <= 8"),
    (("solve", "--alpha", "0.1"), "required: --T"),
    (("solve", "--alpha", "0.1", "--T", "0.1", "--branch", "ferro"), "invalid choice"),
    (("solve", "--alpha", "0.1", "--T", "0.1", "--bran", "retrieval"), "unrecognized arguments: --bran"),
    (("solve", "--alpha", "0.1", "--T", "0.1", "--self"), "unrecognized arguments: --self"),
    (("solve", "--alpha", "0.1", "--T", "0.1", "--ansatz", "1rsb", "--branch", "paramagnetic"), "replica symmetric"),
    (("solve", "--alpha", "0.1", "--T", "0.1", "--out", "x.nc"), "unrecognized arguments: --out"),
    (("solve", "--alpha", "0.1", "--T", "0.1", "--N", "100"), "unrecognized arguments: --N"),
    # --- capacity: modes and the options that belong to them
    (("capacity", "--T", "-0.5"), "T must be >= 0"),
    (("capacity", "--T", "nan"), "T must be finite"),
    (("capacity", "--mixture", "3"), "--mixture applies with --low-storage only"),
    (("capacity", "--mixture", "1"), "--mixture applies with --low-storage only"),
    (("capacity", "--low-storage", "--T", "0.5"), "--T does not apply with --low-storage"),
    (("capacity", "--low-storage", "--T", "0"), "--T does not apply with --low-storage"),
    (("capacity", "--low-storage", "--ansatz", "1rsb"), "--ansatz does not apply with --low-storage"),
    (("capacity", "--low-storage", "--mixture", "4"), "odd"),
    (("capacity", "--low-storage", "--mixture", "11"), "odd"),
    (("capacity", "--low-storage", "--mixture", "0"), "mixture must be >= 1"),
    (("capacity", "--low-storage", "--N", "100"), "--N applies with --mc only"),
    (("capacity", "--mc", "--low-storage"), "cannot be combined"),
    (("capacity", "--mc", "--ansatz", "1rsb"), "--ansatz applies to the replica theory"),
    (("capacity", "--mc", "--ansatz", "rs"), "--ansatz applies to the replica theory"),
    (("capacity", "--mc", "--mixture", "3"), "--mixture applies with --low-storage only"),
    (("capacity", "--samples", "4"), "--samples applies with --mc only"),
    (("capacity", "--N", "100"), "--N applies with --mc only"),
    (("capacity", "--seed", "1"), "--seed applies with --mc only"),
    (("capacity", "--out", "x.nc"), "--out applies with --mc only"),
    (("capacity", "--mc", "--threshold", "1.5"), "threshold must be <= 1"),
    (("capacity", "--mc", "--exponent", "0"), "exponent must be > 0"),
    (("capacity", "--mc", "--P", "3"), "give the system sizes"),
    (("capacity", "--mc", "--P", "3", "--N", "8"), "fewer than --starts"),   # default loads (0.8-2 x RS alpha_c)
    (("capacity", "--mc", "--N", "100", "--alphas", "0.1,0.2"), "at least 3 loads"),
    (("capacity", "--mc", "--N", "100", "--alphas", "0.2:0.1:0.01"), "start <= stop"),
    (("capacity", "--mc", "--N", "100", "--alphas", "0.1,nan,0.2"), "alphas must be finite"),
    (("capacity", "--mc", "--N", "100", "--alphas", "0.1,0.1,0.2"), "distinct"),
    (("capacity", "--mc", "--N", "100,100", "--alphas", "0.2:0.3:0.05"), "distinct"),
    (("capacity", "--mc", "--N", "100,1.5", "--alphas", "0.2:0.3:0.05"), "N must be an integer"),
    (("capacity", "--mc", "--N", "100", "--alphas", "0.01,0.1,0.2"), "fewer than --starts 16"),
    (("capacity", "--mc", "--N", "100", "--alphas", "0:1:1e-12"), "more than 10000"),
    (("capacity", "--mc", "--N", "100", "--alphas", "0.2:0.3:0.05", "--bootstrap", "1000000000"), "bootstrap must be <="),
    (("capacity", "--mc", "--N", "100", "--alphas", "0.2:0.3:0.05", "--out", "x.png"), "must end in .nc"),
    (("capacity", "--mc", "--N", "100", "--alphas", "0.2:0.3:0.05", "--out", "adir"), "is a directory"),
    (("capacity", "--mc", "--N", "100", "--alphas", "0.2:0.3:0.05", "--out", "/dev/null/x.nc"), "is not a directory"),
    (("capacity", "--mc", "--P", "2", "--N", "100000000", "--alphas", "0.12:0.14:0.01"), "of memory"),
    # --- derive
    (("derive", "--alpha", "0.1"), "unrecognized arguments: --alpha"),
    (("derive", "--T", "0.1"), "unrecognized arguments: --T"),
    (("derive", "--P", "nan"), "P must be an integer"),
    (("derive", "--lat"), "unrecognized arguments: --lat"),
    # --- phase-diagram: output paths
    (("phase-diagram",), "required: --out"),
    (("phase-diagram", "--out", "adir"), "is a directory"),
    (("phase-diagram", "--out", "adir/"), "is a directory"),
    (("phase-diagram", "--out", "/dev/null/such/x.nc"), "is not a directory"),
    (("phase-diagram", "--out", "x.png"), "must end in .nc"),
    (("phase-diagram", "--out", "x"), "must end in .nc"),
    (("phase-diagram", "--out", ""), "needs a file name"),
    (("phase-diagram", "--out", "x.nc", "--png", "x.nc"), "must end in .png"),
    (("phase-diagram", "--out", "x.nc", "--png", "adir"), "is a directory"),
    (("phase-diagram", "--out", "x.nc", "--png", "/dev/null/x.png"), "is not a directory"),
    (("phase-diagram", "--out", "x.nc", "--alpha", "0.1"), "--alpha applies with --plane M-T or rho-T only"),
    (("phase-diagram", "--out", "x.nc", "--qui"), "unrecognized arguments: --qui"),
    # --- mc: prefixes, temperatures, tempering, schedule, sizes, types, paths, memory
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.3", "--re", "3"), "unrecognized arguments: --re"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.3", "--r", "0.4"), "--r applies with --dataset"),
    # --- solve with a dataset (learning from examples)
    (("solve", "--alpha", "0.1", "--T", "0.3", "--r", "0.4"), "--r applies with --dataset"),
    (("solve", "--alpha", "0.1", "--T", "0.3", "--gaussian"), "--gaussian applies with --dataset"),
    (("solve", "--alpha", "0.1", "--T", "0.3", "--dataset", "supervised", "--r", "0.4"), "needs the dataset quality"),
    (("solve", "--alpha", "0.1", "--T", "0.3", "--dataset", "supervised", "--r", "0", "--M", "3"), "r must be > 0"),
    (("solve", "--alpha", "0.1", "--T", "0.3", "--dataset", "supervised", "--r", "1.2", "--M", "3"), "r must be <= 1"),
    (("solve", "--alpha", "0.1", "--T", "0.3", "--dataset", "unsupervised", "--r", "0.5", "--M", "0"), "M must be >= 1"),
    (("solve", "--alpha", "0.1", "--T", "0.3", "--dataset", "supervised", "--r", "0.5", "--M", "2.5"),
     "M must be an integer"),
    (("solve", "--alpha", "0.1", "--T", "0.3", "--dataset", "other", "--r", "0.5", "--M", "2"), "invalid choice"),
    (("solve", "--alpha", "0.1", "--T", "0.3", "--dataset", "supervised", "--r", "0.5", "--M", "3", "--ansatz",
      "1rsb"), "replica symmetric only"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.3", "--rep", "3"), "unrecognized arguments: --rep"),
    (("mc", "--N", "100", "--alpha", "0.1", "--temp", "0.3,0.5"), "unrecognized arguments: --temp"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.3", "--ansatz", "1rsb"), "unrecognized arguments: --ansatz"),
    (("mc", "--N", "100", "--alpha", "0.1"), "--T or --temperatures"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "1", "--temperatures", "1,2"), "not both"),
    (("mc", "--N", "100", "--alpha", "0.1", "--temperatures", "1,1"), "distinct"),
    (("mc", "--N", "100", "--alpha", "0.1", "--temperatures", "1,x"), "temperatures must be a number"),
    (("mc", "--N", "100", "--alpha", "0.1", "--temperatures", "1,nan"), "temperatures must be finite"),
    (("mc", "--N", "100", "--alpha", "0.1", "--temperatures", "1,-2"), "temperatures must be >= 0"),
    (("mc", "--N", "100", "--alpha", "0.1", "--temperatures", ","), "at least one value"),
    (("mc", "--N", "100", "--alpha", "0.1", "--temperatures", "0.1:1e6:1e-6"), "more than 10000"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.3", "--swap-every", "3"), "--swap-every applies with --tempering"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.3", "--tempering"), "at least 2 temperatures"),
    (("mc", "--N", "100", "--alpha", "0.1", "--temperatures", "2,1", "--tempering"), "increasing"),
    (("mc", "--N", "100", "--alpha", "0.1", "--temperatures", "0,1", "--tempering"), "temperatures > 0"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.3", "--dynamics", "greedy"), "use T = 0"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.3", "--dynamics", "heat"), "invalid choice"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.3", "--sweeps", "10", "--burn-in", "20"), "must exceed burn_in"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.3", "--sweeps", "10", "--measure-every", "3"), "multiple"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.3", "--sweeps", str(2**70)), "sweeps must be <="),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.3", "--checkpoint-every", "5"), "applies with --checkpoint"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.3", "--checkpoint-every", "-1", "--checkpoint", "c.ckpt"),
     "checkpoint-every must be >= 0"),
    (("mc", "--N", "1", "--alpha", "0.1", "--T", "0.1"), "N must be >= 2"),
    (("mc", "--N", "1e3", "--alpha", "0.1", "--T", "0.1"), "N must be an integer"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.1", "--samples", "0"), "samples must be >= 1"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.1", "--replicas", "1"), "replicas must be >= 2"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.1", "--seed", "-1"), "seed must be >= 0"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.1", "--seed", str(2**63)), "seed must be <="),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.1", "--seed", "1.5"), "seed must be an integer"),
    (("mc", "--P", "9", "--N", "20", "--alpha", "0.1", "--T", "1"), "P must be <= 8"),
    (("mc", "--N", "20", "--alpha", "0.001", "--T", "1"), "at least one pattern"),
    (HUGE_MC, "of memory"),
    (("mc", "--P", "3", "--N", "100000", "--alpha", "0.01", "--T", "0.1"), "of memory"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.1", "--out", "adir"), "is a directory"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.1", "--out", "x.png"), "must end in .nc"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.1", "--out", "/dev/null/x.nc"), "is not a directory"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.1", "--checkpoint", "adir"), "is a directory"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.1", "--checkpoint", "c.nc"), "extension of netCDF"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.1", "--checkpoint", "c.png"), "extension of PNG"),
    (("mc", "--N", "100", "--alpha", "0.1", "--T", "0.1", "--checkpoint", "/dev/null/c.ckpt"), "is not a directory"),
    # --- bench and the top level
    (("bench", "--P", "9"), "P must be <= 8"),
    (("bench", "--alpha", "0.1"), "unrecognized arguments: --alpha"),
    (("bench", "--qui"), "unrecognized arguments: --qui"),
    ((), "required: command"),
    (("frobnicate",), "invalid choice"),
    (("--vers",), None),
]


@pytest.mark.parametrize("argv, match", BAD, ids=[" ".join(a)[:60] or "<none>" for a, _ in BAD])
def test_refused_in_process(argv, match, work, capsys):
    code, out, err, dt = run_main(argv, capsys)
    assert_refused(code, out, err, match)
    assert dt < FAST_S, dt
    assert work() == ["adir"]                  # nothing written


def test_existing_non_checkpoint_file_is_refused_and_kept(work, capsys):
    with open("c.ckpt", "w") as f:
        f.write("not a checkpoint")
    code, out, err, _ = run_main(("mc", "--N", "100", "--alpha", "0.1", "--T", "0.1", "--checkpoint", "c.ckpt"),
                                 capsys)
    assert_refused(code, out, err, "not a readable Monte Carlo checkpoint")
    assert work() == ["adir", "c.ckpt"] and open("c.ckpt").read() == "not a checkpoint"


def test_unwritable_directory_and_read_only_file(work, capsys, tmp_path, monkeypatch):
    """os.access says no (as it does for a non-root user on a read-only directory / file; faked so that
    the test also checks this as root)."""
    (tmp_path / "ro").mkdir()
    (tmp_path / "r.nc").write_text("keep")
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p).endswith(("ro", "r.nc")) else real(p, mode))
    assert_refused(*run_main(("phase-diagram", "--out", "ro/x.nc"), capsys)[:3], "not writable")
    assert_refused(*run_main(("phase-diagram", "--out", "r.nc"), capsys)[:3], "read-only")
    assert_refused(*run_main(("mc", "--N", "100", "--alpha", "0.1", "--T", "0.1", "--checkpoint", "ro/c"), capsys)[:3],
                   "not writable")
    assert (tmp_path / "r.nc").read_text() == "keep" and work() == ["adir", "r.nc", "ro"]
    assert os.listdir(tmp_path / "ro") == []


def test_every_subparser_refuses_prefixes():
    from densehebb.phase_diagrams.cli import _subparser, build_parser

    p = build_parser()
    assert p.allow_abbrev is False
    for cmd in ("solve", "capacity", "derive", "phase-diagram", "mc", "bench"):
        assert _subparser(p, cmd).allow_abbrev is False, cmd


def test_p_max_matches_the_theory():
    from densehebb.phase_diagrams.cli_common import P_MAX, leaf

    assert leaf("densehebb.theory.model").P_MAX == P_MAX


def test_version(capsys):
    from importlib.metadata import version

    from densehebb.phase_diagrams.cli_common import leaf

    code, out, err, dt = run_main(["--version"], capsys)
    assert code == 0 and err == "" and dt < FAST_S
    assert out == f"densehebb {leaf('densehebb.theory.provenance').version()}\n"
    assert out.split()[1] == version("densehebb")


# ------------------------------------------------------------------------------------ real entry points
def test_entry_points_refuse_fast_without_jax(tmp_path):
    """The console script and ``python -m``: one line, exit 2, nothing written, in a few seconds; the
    impossible run fails on its memory estimate; validation does not import JAX."""
    cases = [([SCRIPT, *HUGE_MC], "of memory"),
             ([*MODULE, "mc", "--N", "100", "--alpha", "0.1", "--T", "0.3", "--re", "3"], "unrecognized arguments"),
             ([*MODULE, "mc", "--N", "100", "--alpha", "0.1", "--T", "0.3", "--dataset", "supervised",
               "--r", "2", "--M", "3"], "r must be <= 1"),
             ([*MODULE, "phase-diagram", "--out", str(tmp_path)], "is a directory")]
    for cmd, match in cases:
        t = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert time.monotonic() - t < 15
        assert_refused(p.returncode, p.stdout, p.stderr, match)
    probe = ("import sys; from densehebb.phase_diagrams.cli import main; "
             f"rc = main({list(HUGE_MC)!r}); print(rc, 'jax' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert p.stdout.split() == ["2", "False"], p.stdout + p.stderr
    v = subprocess.run([SCRIPT, "--version"], capture_output=True, text=True, timeout=60)
    assert v.returncode == 0 and v.stdout.startswith("densehebb ") and v.stderr == ""
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------------------------------ memory guard
def test_memory_estimate_and_check():
    from densehebb.phase_diagrams.cli_common import leaf

    inputs = leaf("densehebb.montecarlo.inputs")
    e = inputs.memory_estimate(N=100, K=10, n_samples=3, n_T=2, n_replicas=2, n_devices=1)
    chains = 3 * 2 * 2
    assert e["patterns"] == 3 * 100 * 10 * 17            # drawn as 64-bit bits and float64 uniforms
    assert e["spins"] == chains * 100 and e["overlaps"] == chains * 10 * 4 and e["randoms"] == chains * 100 * 16
    assert e["per_device"] == e["total"] == e["patterns"] + e["spins"] + e["overlaps"] + e["randoms"]
    # samples are padded to a multiple of the devices
    d = inputs.memory_estimate(100, 10, n_samples=3, n_devices=2)
    assert d["samples_per_device"] == 2 and d["total"] == 2 * d["per_device"]
    # absurd sizes: exact integers, no overflow
    assert inputs.memory_estimate(10**9, 5 * 10**7)["patterns"] == 5 * 10**16 * 17
    avail = inputs.available_memory()
    assert isinstance(avail, int) and avail > 0
    assert inputs.check_memory(100, 10, 3, available=10**9)["total"] == inputs.memory_estimate(100, 10, 3)["total"]
    with pytest.raises(ValueError, match=r"needs about .* but 1 KiB is available"):
        inputs.check_memory(100, 10, 3, available=1024, what="this run")
    with pytest.raises(ValueError, match="per device"):
        inputs.check_memory(100, 10, 8, n_devices=4, available=1024, per_device=True)
    with pytest.raises(ValueError, match="memory"):
        inputs.load(10**9, 0.05, None, 2)            # simulate's load refuses the impossible pattern set
    assert inputs.load(1000, 0.05, None, 2) == (50, 0.05)
    assert inputs.format_bytes(1536) == "1.5 KiB" and inputs.format_bytes(10) == "10 bytes"


# ------------------------------------------------------------------------------------------ atomic writes
def test_atomic_outputs_leave_nothing_on_failure(tmp_path):
    from densehebb.phase_diagrams.io import atomic_outputs

    a, b = str(tmp_path / "a.nc"), str(tmp_path / "b.png")
    with pytest.raises(RuntimeError):
        with atomic_outputs(a, b) as (ta, tb):
            assert os.path.dirname(ta) == str(tmp_path) and ta.endswith(".nc") and tb.endswith(".png")
            open(ta, "w").write("complete")
            open(tb, "w").write("half")
            raise RuntimeError("the figure failed")
    assert os.listdir(tmp_path) == []
    with atomic_outputs(a, None) as (ta, tn):
        assert tn is None
        open(ta, "w").write("new")
    assert os.listdir(tmp_path) == ["a.nc"] and open(a).read() == "new"


def test_to_netcdf_is_atomic(tmp_path):
    import numpy as np
    import xarray as xr

    from densehebb.phase_diagrams.io import open_dataset, to_netcdf

    f = tmp_path / "x.nc"
    to_netcdf(xr.Dataset({"v": ("i", np.arange(3.0))}), str(f))
    bad = xr.Dataset({"v": ("i", np.array([{"a": 1}, None, 3], dtype=object))})   # scipy cannot write this
    with pytest.raises(Exception):
        to_netcdf(bad, str(f))
    assert os.listdir(tmp_path) == ["x.nc"]
    assert list(open_dataset(str(f))["v"].values) == [0.0, 1.0, 2.0]     # the previous file, intact


def test_checkpoint_save_is_atomic(tmp_path, monkeypatch):
    import numpy as np

    from densehebb.montecarlo import checkpoint as ckpt

    f = str(tmp_path / "run.ckpt")
    ckpt.save(f, {"a": np.arange(3)}, {"sweeps_done": 1})

    def broken(fh, **arrays):
        fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(ckpt.np, "savez", broken)
    with pytest.raises(OSError):
        ckpt.save(f, {"a": np.arange(3)}, {"sweeps_done": 2})
    assert os.listdir(tmp_path) == ["run.ckpt"] and ckpt.read_meta(f)["sweeps_done"] == 1


def _fake_phase_diagram(spec, progress=False):
    import numpy as np
    import xarray as xr

    return xr.Dataset({"T_M": ("alpha", np.array([0.5, np.nan])), "alpha_c_T0": 0.138, "m_c_T0": 0.967,
                       "alpha_Tc_T0": 0.05}, coords={"alpha": [0.0, 0.1], "T": [0.0]})


def test_phase_diagram_writes_both_files_or_neither(work, capsys, monkeypatch):
    """A PNG that fails after the netCDF was written leaves neither file; a run that succeeds leaves
    exactly the two files (no temporaries).  The diagram itself is faked (its numbers are tested
    elsewhere)."""
    from densehebb.phase_diagrams import diagram, plotting

    monkeypatch.setattr(diagram, "phase_diagram", _fake_phase_diagram)

    def failing_plot(ds, path):
        open(path, "w").write("half a figure")
        raise ValueError("the figure failed")

    monkeypatch.setattr(plotting, "plot_phase_diagram", failing_plot)
    code, out, err, _ = run_main(("phase-diagram", "--out", "pd.nc", "--png", "pd.png", "--json"), capsys)
    assert_refused(code, out, err, "the figure failed")
    assert work() == ["adir"]

    monkeypatch.setattr(plotting, "plot_phase_diagram", lambda ds, path: open(path, "w").write("png"))
    code, out, err, _ = run_main(("phase-diagram", "--out", "pd.nc", "--png", "pd.png", "--json"), capsys)
    assert code == 0, err
    assert json.loads(out)["out"] == "pd.nc"
    assert work() == ["adir", "pd.nc", "pd.png"]


def test_missing_output_directories_are_created_on_write_and_removed_on_failure(tmp_path, monkeypatch):
    """`--out results/pd.nc` in a fresh checkout (the README's main command) is accepted: the directory is
    created when the file is written, and removed again if the write fails."""
    from densehebb.phase_diagrams.cli_common import check_output
    from densehebb.phase_diagrams.io import atomic_outputs

    monkeypatch.chdir(tmp_path)
    assert check_output("new/sub/x.nc", "--out", ".nc", "netCDF") == "new/sub/x.nc"
    assert os.listdir(tmp_path) == []  # validation writes nothing
    with atomic_outputs("new/sub/x.nc") as (t,):
        with open(t, "w") as f:
            f.write("ok")
    assert (tmp_path / "new" / "sub" / "x.nc").read_text() == "ok"
    with pytest.raises(RuntimeError):
        with atomic_outputs("gone/deeper/y.nc") as (t,):
            with open(t, "w") as f:
                f.write("partial")
            raise RuntimeError("interrupted")
    assert sorted(os.listdir(tmp_path)) == ["new"]
