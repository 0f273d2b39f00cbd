"""The Monte Carlo CLI: `densehebb mc` for dense models, tempering, errors; `capacity --mc`; `bench`."""
import json
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "densehebb.phase_diagrams.cli"]
SLOW = pytest.mark.slow     # each subprocess starts Python and JAX and compiles


def test_mc_in_process(capsys):
    """`densehebb mc` called in-process (JAX already running: the device count is left alone), on the
    configuration of test_mc_run's small run (compiled once per session): the JSON keys and the numbers of
    summarize; and a usage error."""
    import densehebb as dh
    from densehebb.phase_diagrams.cli import main

    args = ["mc", "--N", "40", "--alpha", "0.075", "--temperatures", "0.5,2", "--samples", "2", "--sweeps", "60",
            "--burn-in", "20", "--measure-every", "2", "--seed", "7", "--json"]
    assert main(args) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["K"], d["convention"], d["seed"], d["exact_arithmetic"]) == (3, "distinct-indices", 7, True)
    ds = dh.simulate(7, dh.Model(), N=40, K=3, T=[0.5, 2.0], n_samples=2, sweeps=60, burn_in=20, measure_every=2)
    s = dh.summarize(ds)
    for r in d["results"]:
        for k in ("m", "m_err", "q", "q_err", "energy", "energy_err", "acceptance", "tau_energy", "tau_m"):
            assert r[k] == s[r["T"]][k], k
    assert main(["mc", "--N", "40", "--alpha", "0.075"]) == 2
    assert "--T or --temperatures" in capsys.readouterr().err
    # one version everywhere: `densehebb --version`, the Monte Carlo and the theory netCDF attributes
    from densehebb.phase_diagrams.io import provenance

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    v = capsys.readouterr().out.split()[1]
    assert ds.attrs["version"] == provenance(dh.Model())["version"] == v == dh.__version__


def test_capacity_mc_validation_defaults_match_the_library():
    """validate_capacity_mc checks the default loads of P = 2 without importing the montecarlo package."""
    from densehebb.montecarlo.capacity import default_alphas
    from densehebb.phase_diagrams import cli_mc

    a = default_alphas(2)
    assert (min(a), max(a), len(a)) == (cli_mc._DEFAULT_ALPHA_MIN_P2, cli_mc._DEFAULT_ALPHA_MAX_P2,
                                        cli_mc._DEFAULT_N_ALPHA_P2)


def test_capacity_mc_default_loads_without_alphas():
    """P >= 3 without --alphas: the validation fills in 13 loads around the RS capacity (it used to refuse)."""
    from densehebb.phase_diagrams import cli_mc

    for P in range(3, 9):
        g = cli_mc.default_load_grid(P)
        assert len(g) == 13 and g == sorted(g) and len(set(g)) == 13
        assert g[0] < cli_mc.RS_ALPHA_C_T0[P] < g[-1]
    from densehebb.montecarlo.capacity import default_alphas

    assert cli_mc.default_load_grid(2) == [float(a) for a in default_alphas(2)]
    p = run("capacity", "--mc", "--P", "3", "--N", "12", "--starts", "99999", "--json")
    assert p.returncode == 2 and "fewer than --starts" in p.stderr      # validated on the default loads


@SLOW
@pytest.mark.parametrize("P", [3, 4])
def test_default_load_anchors_are_the_rs_capacities(P):
    """The anchors of the default grids are densehebb.capacity's RS T = 0 values to their 4 printed digits."""
    import densehebb as dh
    from densehebb.phase_diagrams import cli_mc

    a = float(dh.capacity(dh.Model(P=P), T=0.0).alpha_c)
    assert cli_mc.RS_ALPHA_C_T0[P] == pytest.approx(a, rel=6e-4)


def run(*args, timeout=600):
    return subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=timeout)


@SLOW
def test_mc_dense_tempering_json():
    p = run("mc", "--P", "4", "--N", "24", "--alpha", "0.001", "--temperatures", "0.02,0.05,2", "--tempering",
            "--self-interaction", "--samples", "2", "--sweeps", "30", "--seed", "1", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["P"] == 4 and d["K"] == 14 and d["convention"] == "all-tuples" and d["tempering"] is True
    assert d["exact_arithmetic"] is True and len(d["swap_acceptance"]) == 2
    assert [r["T"] for r in d["results"]] == [0.02, 0.05, 2.0]
    for r in d["results"]:
        for k in ("m", "m_err", "q", "energy", "acceptance", "tau_energy", "equilibrated"):
            assert k in r
    # tempering brings configurations down from high T: the low-T slot retrieves some pattern
    assert d["results"][0]["m_max"] > 0.9 and d["results"][2]["m_max"] < 0.6


@pytest.mark.parametrize("args, match", [
    (("mc", "--P", "9", "--N", "20", "--alpha", "0.1", "--T", "1"), "P must be <= 8"),
    (("mc", "--N", "20", "--alpha", "0.1", "--T", "1", "--ansatz", "1rsb"), "unrecognized arguments: --ansatz"),
    (("bench", "--P", "3", "--quick"), "no benchmark case for P = 3"),
    (("mc", "--N", "20", "--alpha", "0.1"), "--T or --temperatures"),
    (("mc", "--N", "20", "--alpha", "0.1", "--temperatures", "2,1", "--tempering"), "increasing"),
    (("mc", "--N", "20", "--alpha", "0.1", "--temperatures", "1,x"), "temperatures must be a number"),
    (("capacity", "--mc", "--P", "3"), "give the system sizes"),
    (("capacity", "--mc", "--N", "100", "--alphas", "0.2:0.1:0.01"), "start <= stop"),
])
@SLOW
def test_bad_input_one_line_error(args, match):
    p = run(*args)
    assert p.returncode == 2
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("densehebb: error:") and match in lines[0], p.stderr
    assert p.stdout.strip() == ""


@SLOW
def test_capacity_mc_json_contract():
    p = run("capacity", "--mc", "--P", "2", "--N", "100,200", "--alphas", "0.06:0.30:0.06", "--samples", "6",
            "--starts", "4", "--bootstrap", "20", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    for k in ("alpha_c_mc", "alpha_c_mc_err", "alpha_c_N", "alpha_c_N_err", "fraction_retrieved", "N", "alphas",
              "convention", "threshold"):
        assert k in d
    assert d["N"] == [100, 200] and d["alphas"] == [0.06, 0.12, 0.18, 0.24, 0.3]
    assert all(f[0] == 1.0 for f in d["fraction_retrieved"])          # alpha = 0.06: every pattern is stable
    assert all(0.08 < a < 0.3 for a in d["alpha_c_N"])
    assert d["alpha_c_mc_err"] is None or d["alpha_c_mc_err"] >= 0


@SLOW
def test_bench_quick_json_lines():
    p = run("bench", "--quick", "--json")
    assert p.returncode == 0, p.stderr
    lines = [json.loads(ln) for ln in p.stdout.splitlines() if ln.strip()]
    learning = [r for r in lines if r.get("kind") == "learning"]     # tests/test_mc_plefka.py checks these
    expo = [r for r in lines if r.get("kind") == "exponential"]      # tests/test_mc_exponential.py checks these
    lines = [r for r in lines if r.get("kind") not in ("learning", "exponential")]
    assert len(lines) == 4 and len(learning) == 4 and len(expo) == 2
    assert all(r["speedup_vs_numpy"] > 0 and r["units_per_s"] > 0 for r in expo)
    for r in lines:
        for k in ("units_per_s", "compile_s", "baseline_units_per_s", "speedup_vs_numpy", "bw_bytes_per_s",
                  "roofline_units_per_s", "fraction_of_roofline", "acceptance", "device", "assumptions", "chains"):
            assert k in r, k
        assert r["units_per_s"] > 0 and r["baseline_units_per_s"] > 0 and r["devices"] >= 1
        assert r["speedup_vs_numpy"] == pytest.approx(r["units_per_s"] / r["baseline_units_per_s"])
    assert {r["regime"] for r in lines} == {"high_T", "retrieval"}
    assert all(r["acceptance"] > 0.5 for r in lines if r["regime"] == "high_T")
    assert all(r["acceptance"] < 0.05 for r in lines if r["regime"] == "retrieval")


@SLOW
def test_cli_import_does_not_start_jax_and_mc_uses_every_core():
    """Importing the CLI must not import JAX (so `densehebb mc` can pick the XLA host device count before JAX
    starts); mc then runs on one device per core, and a user's XLA_FLAGS device count is respected, with
    identical numbers."""
    import os

    p = subprocess.run([sys.executable, "-c", "import sys, densehebb.phase_diagrams.cli; "
                        "print('jax' in sys.modules, 'numpy' in sys.modules)"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.split() == ["False", "False"], p.stdout + p.stderr
    args = ("mc", "--P", "3", "--N", "40", "--alpha", "0.002", "--T", "0.05", "--samples", "2", "--sweeps", "20",
            "--json")
    env = dict({k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}, JAX_PLATFORMS="cpu")
    cores = len(os.sched_getaffinity(0))
    auto = subprocess.run(CLI + list(args), capture_output=True, text=True, env=env, timeout=600)
    one = subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=600,
                         env=dict(env, XLA_FLAGS="--xla_force_host_platform_device_count=1"))
    assert auto.returncode == 0 and one.returncode == 0, auto.stderr + one.stderr
    a, o = json.loads(auto.stdout), json.loads(one.stdout)
    assert a["devices"] == cores and o["devices"] == 1
    assert {k: v for k, v in a.items() if k != "devices"} == {k: v for k, v in o.items() if k != "devices"}
