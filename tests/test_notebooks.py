"""The example notebooks (examples/*.ipynb) execute without error, in the kernel of this interpreter, and
print the values they should.

nbclient starts the "python3" kernel; with ipykernel installed in this environment jupyter_client resolves
that kernel to this interpreter (``sys.executable``), which the first notebook cell's output is checked for.
"""
import os
import re
import sys
import time

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
TIMEOUT = 600  # per cell, seconds
# each notebook takes about 15 to 40 s on 2 quiet cores (mostly JAX compilation and the 1RSB solves)
pytestmark = pytest.mark.slow


def run(name):
    """Execute examples/<name>.ipynb in a fresh kernel (cwd: examples/); returns (notebook, seconds)."""
    nb = nbformat.read(os.path.join(EXAMPLES, name + ".ipynb"), as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell("import sys; print('KERNEL', sys.executable)"))
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # the kernel chooses its inline backend
    t = time.perf_counter()
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=TIMEOUT,
                                      resources={"metadata": {"path": EXAMPLES}})
    client.execute(env=env)
    return nb, time.perf_counter() - t


def text(nb):
    """All stream and text/plain output of the notebook, joined."""
    out = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            if o.get("output_type") == "stream":
                out.append(o["text"])
            elif "data" in o and "text/plain" in o["data"]:
                out.append(o["data"]["text/plain"])
    return "\n".join(out)


def mimes(nb):
    return {m for c in nb.cells for o in c.get("outputs", []) for m in o.get("data", {})}


def number(pattern, s):
    m = re.search(pattern, s)
    assert m, f"{pattern!r} not in the notebook output"
    return float(m.group(1))


def check_kernel(nb):
    """The kernel is this interpreter (the venv's python, not a python3 found elsewhere)."""
    assert nb.cells[0].outputs[0]["text"].strip() == f"KERNEL {sys.executable}"


def test_01_derive_P4():
    nb, sec = run("01_derive_P4")
    check_kernel(nb)
    s = text(nb)
    assert "text/latex" in mimes(nb)  # the derivation renders as LaTeX
    assert number(r"RS: m = ([0-9.]+)", s) == pytest.approx(0.967499, abs=1e-5)
    assert number(r"1RSB: m = ([0-9.]+)", s) == pytest.approx(0.951084, abs=1e-5)
    print(f"01_derive_P4: {sec:.0f} s")


def test_02_phase_diagram_capacity():
    nb, sec = run("02_phase_diagram_capacity")
    check_kernel(nb)
    s = text(nb)
    assert "image/png" in mimes(nb)
    assert number(r"alpha_c\(T = 0\) = ([0-9.]+)", s) == pytest.approx(0.137906, abs=2e-6)
    assert number(r"alpha_c RS = ([0-9.]+)", s) == pytest.approx(0.0329767, abs=2e-6)
    assert number(r"1RSB = ([0-9.]+)", s) == pytest.approx(0.0381953, abs=2e-6)
    print(f"02_phase_diagram_capacity: {sec:.0f} s")


def test_03_theory_vs_montecarlo():
    nb, sec = run("03_theory_vs_montecarlo")
    check_kernel(nb)
    assert "image/png" in mimes(nb)
    assert number(r"T = 0.25: m_MC = ([0-9.]+)", text(nb)) == pytest.approx(0.996, abs=0.01)
    print(f"03_theory_vs_montecarlo: {sec:.0f} s")
