"""The densehebb command line: JSON contracts and one-line errors."""
import json
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "densehebb.phase_diagrams.cli"]


def run(*args):
    return subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=600)


def test_solve_json_contract():
    p = run("solve", "--P", "2", "--alpha", "0.05", "--T", "0.3", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    for k in ("P", "alpha", "T", "ansatz", "branch", "m", "q", "r", "f", "converged", "residual", "stable",
              "convention"):
        assert k in d
    assert d["ansatz"] == "rs" and d["branch"] == "retrieval" and d["converged"] is True
    assert d["convention"] == "distinct-indices"
    assert d["m"] == pytest.approx(0.99116, abs=1e-4) and d["residual"] < 1e-10


def test_solve_dataset_json_contract():
    """--dataset: the learning theory (theory.learning); keys dataset, r, M, rho, n added, the rest kept."""
    p = run("solve", "--P", "4", "--alpha", "0.0", "--T", "0.0", "--dataset", "supervised", "--r", "0.5",
            "--M", "4", "--json", "--quiet")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    for k in ("m", "q", "f", "converged", "status", "residual", "stable", "convention", "dataset", "r", "M", "rho",
              "n", "r_noise"):
        assert k in d, k
    assert (d["dataset"], d["r"], d["M"]) == ("supervised", 0.5, 4)
    assert d["rho"] == pytest.approx(0.75) and d["m"] == pytest.approx(0.6875, abs=1e-12)  # majority vote
    p = run("solve", "--P", "3", "--alpha", "0.0", "--T", "0.0", "--dataset", "unsupervised", "--r", "0.5",
            "--M", "3", "--gaussian", "--json", "--quiet")
    d = json.loads(p.stdout)
    assert d["gaussian"] is True and d["m"] == pytest.approx(0.6826894921370859, abs=1e-12)  # erf(1/sqrt(2 rho)), rho = 1


def no_answer(stderr, status=None):
    """Exit code 3 says why on stderr, in one line: densehebb: no answer: <status>: <message>[; note]
    (after the progress lines, which name their subcommand)."""
    from densehebb.theory import Status

    all_lines = [ln for ln in stderr.splitlines() if ln.strip()]
    lines = [ln for ln in all_lines if ln.startswith("densehebb: no answer: ")]
    assert len(lines) == 1 and all_lines[-1] == lines[0], stderr
    assert all(ln.startswith(("densehebb: solve: ", "densehebb: capacity: ")) for ln in all_lines[:-1]), stderr
    name = lines[0].split(": ")[2]
    assert Status(name).message in lines[0]
    if status is not None:
        assert name == status, lines[0]
    return lines[0]


def test_solve_nonexistent_branch_says_so():
    p = run("solve", "--alpha", "0.2", "--T", "0", "--json")
    assert p.returncode == 3
    d = json.loads(p.stdout)  # valid JSON: no NaN tokens
    assert d["converged"] is False and d["m"] is None and d["status"] != "converged"
    no_answer(p.stderr, d["status"])


def test_no_answer_in_process(capsys):
    """capacity above the retrieval region and solve at an absurd temperature: exit code 3, the pure JSON
    record on stdout, the reason on stderr (never a traceback)."""
    from densehebb.phase_diagrams.cli import main

    assert main(["capacity", "--P", "2", "--T", "2.0", "--json"]) == 3
    out, err = capsys.readouterr()
    d = json.loads(out)
    assert d["alpha_c"] is None and no_answer(err, d["status"])
    assert main(["solve", "--P", "2", "--alpha", "0.05", "--T", "1e300", "--json"]) == 3
    out, err = capsys.readouterr()
    d = json.loads(out)
    assert d["m"] is None and no_answer(err, d["status"])
    assert main(["solve", "--P", "2", "--alpha", "0.05", "--T", "1e300", "--branch", "paramagnetic", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["converged"] is True and "no answer" not in err


def test_derive_json(capsys):
    """derive --json: the derivation as JSON strings (the text output is the Derivation's own)."""
    import densehebb as dh
    from densehebb.phase_diagrams.cli import main

    assert main(["derive", "--P", "2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["P"], d["ansatz"], d["convention"], d["format"]) == (2, "rs", "distinct-indices", "sympy")
    assert list(d["stationarity"]) == ["m", "q", "v"] and [e["lhs"] for e in d["fixed_point"]] == ["m", "q", "v"]
    assert "E_z[log(2*cosh(" in d["free_energy"]
    assert main(["derive", "--P", "2"]) == 0
    assert capsys.readouterr().out == dh.derive(dh.Model(P=2)).text() + "\n"
    assert main(["derive", "--P", "2", "--json", "--latex"]) == 0
    assert json.loads(capsys.readouterr().out)["format"] == "latex"


@pytest.mark.slow
def test_capacity_json():
    p = run("capacity", "--P", "2", "--T", "0", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["alpha_c"] == pytest.approx(0.1379, abs=2e-4)
    assert d["m_c"] == pytest.approx(0.967, abs=2e-3)


@pytest.mark.slow
def test_mc_json_and_agreement_with_solve():
    p = run("mc", "--P", "2", "--N", "300", "--alpha", "0.05", "--T", "0.3", "--samples", "2", "--sweeps", "60",
            "--seed", "3", "--json", "--theory")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    for k in ("m", "m_err", "q", "energy", "acceptance", "convention"):
        assert k in d
    assert abs(d["m"] - d["m_theory_rs"]) < 4 * d["m_err"] + 0.02


@pytest.mark.parametrize("args", [
    ("solve", "--P", "1", "--alpha", "0.1", "--T", "0.1"),
    ("solve", "--alpha", "-0.1", "--T", "0.1"),
    ("solve", "--alpha", "0.1", "--T", "-1"),
    ("solve", "--alpha", "0.1", "--T", "0.1", "--branch", "ferro"),
    ("solve", "--alpha", "zero", "--T", "0.1"),
    ("solve", "--alpha", "nan", "--T", "0.1"),
    ("solve", "--alpha", "0.1", "--T", "inf"),
    ("capacity", "--T", "-0.5"),
    ("mc", "--N", "1", "--alpha", "0.1", "--T", "0.1"),
    ("mc", "--N", "100", "--alpha", "0.1", "--T", "0.1", "--sweeps", "10", "--burn-in", "20"),
])
def test_bad_input_one_line_error(args):
    p = run(*args)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("densehebb: error:")
    assert p.stdout.strip() == ""


@pytest.mark.slow
def test_solve_1rsb_json_contract_and_rs_fallback_status():
    p = run("solve", "--P", "2", "--alpha", "0.13", "--T", "0.005", "--ansatz", "1rsb", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    for k in ("q0", "q1", "x", "mu", "f", "f_rs", "replicon", "stable", "status", "residual", "convention"):
        assert k in d
    assert d["ansatz"] == "1rsb" and d["converged"] is True and 0 < d["x"] < 1 and d["q0"] < d["q1"]
    assert d["f"] > d["f_rs"]  # variational ordering where RS is AT-unstable
    hot = run("solve", "--P", "2", "--alpha", "0.05", "--T", "0.3", "--ansatz", "1rsb", "--json")
    assert hot.returncode == 3
    h = json.loads(hot.stdout)
    assert h["converged"] is False and h["q0"] is None and "RS" in h["note"]
    assert no_answer(hot.stderr, h["status"]).endswith("; " + h["note"])
    bad = run("solve", "--P", "4", "--alpha", "0.01", "--T", "0.05", "--ansatz", "1rsb", "--branch",
              "paramagnetic")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
