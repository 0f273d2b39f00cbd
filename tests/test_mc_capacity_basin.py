"""The in-basin paper script papers/mc_capacity_dense/capacity_basin.py (--quick) at a small load."""
import importlib.util
import json
import math
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_capacity_basin_quick_at_small_load(tmp_path):
    """--quick at alpha = 0.03 (far below both capacities, RS = 1RSB): the constraint is never violated, the
    measure does not touch the wall, m and e agree with the RS retrieval state within 3 errors plus the exact
    finite-N shift of the m = 1 energy, (3N - 2)/(6N^2), and 0.005; a second wall (0.3) that never binds gives
    the same numbers (the constraint only rejects, it draws no random numbers)."""
    spec = importlib.util.spec_from_file_location(
        "capacity_basin", os.path.join(ROOT, "papers", "mc_capacity_dense", "capacity_basin.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--quick", "--P", "3", "--alphas", "0.03", "--Ns", "16,24", "--extra-m-min", "0.3@0.03@24",
              "--out-dir", str(tmp_path), "--fig-dir", str(tmp_path)])
    assert (tmp_path / "capacity_basin.png").stat().st_size > 10_000
    d = json.loads((tmp_path / "summary_basin.json").read_text())["P"]["3"]
    th = d["theory"]
    i = min(range(len(th["alpha"])), key=lambda j: abs(th["alpha"][j] - 0.03))
    m_rs, e_rs = th["rs"]["m"][i], th["rs"]["e"][i]
    rows = [r for r in d["mc"] if r["alpha"] == 0.03]
    assert len(rows) == 3
    for r in rows:
        N = r["N"]
        assert r["m_min_never_violated"] and r["frac_at_wall"] == 0.0 and r["frac_near_wall"] == 0.0
        assert abs(r["m"] - m_rs) <= 3 * (r["m_err"] or 0) + 0.02
        allowance = (3 * N - 2) / (6 * N**2) + 3 * (r["e_err"] or 0) + 0.005
        assert abs(r["e"] - e_rs) <= allowance, (N, r["e"], e_rs, allowance)
        assert math.isfinite(r["pattern_spin_updates_per_s"])
    a, b = sorted([r for r in rows if r["N"] == 24], key=lambda r: r["m_min"])
    assert (a["m_min"], b["m_min"], a["wall_M"], b["wall_M"]) == (0.3, 0.5, 8, 12)
    assert (a["m"], a["e"], a["q"]) == (b["m"], b["e"], b["q"])
