"""The library shape: one namespace, one Model, one Result/Status, one numerics module, no import-time side
effects, and a wheel that installs only `densehebb`."""
import glob
import json
import math
import os
import subprocess
import sys
import sysconfig
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest

import densehebb as dh
from densehebb.theory import numerics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _py(code, cwd=None, env=None):
    e = {k: v for k, v in os.environ.items() if k not in ("JAX_ENABLE_X64", "MPLBACKEND")}
    e.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=600, cwd=cwd, env=e)


# --- Model ------------------------------------------------------------------------------------------------
def test_model_is_frozen_hashable_and_validated_once():
    m = dh.Model(P=4, convention="all-tuples")
    assert hash(m) == hash(dh.Model(P=4, convention="self-interaction"))  # alias -> canonical name
    assert m.convention == "all-tuples" and m.self_interaction
    with pytest.raises(Exception):
        m.P = 3
    assert m.replace(ansatz="1rsb").ansatz == "1rsb" and m.ansatz == "rs"
    for bad in (dict(P=1), dict(P=9), dict(P=2.0), dict(P=True), dict(convention="pairs"), dict(ansatz="2rsb"),
                dict(storage="medium"), dict(nodes=-1), dict(dilution=1.0)):
        with pytest.raises(ValueError):
            dh.Model(**bad)
    with pytest.raises(ValueError):
        dh.Examples(M=0, r=0.5)
    with pytest.raises(NotImplementedError):   # diluted patterns at high storage: RS only (theory.multitask_high)
        dh.solve(dh.Model(dilution=0.2, ansatz="1rsb"), 0.05, 0.3)


def test_model_noise_covariance_is_the_derived_polynomial():
    import sympy as sp

    q, a = sp.Symbol("q", real=True), sp.Symbol("alpha", positive=True)
    xi = dh.Model(P=4, convention="all-tuples").noise_covariance
    assert sp.simplify(xi - (a * q ** 4 / 24 + a * q ** 2 / 8)) == 0
    assert dh.Model(P=3).describe()["noise_covariance"] == "alpha*q**3/6"


# --- Result / Status -------------------------------------------------------------------------------------
def test_status_vocabulary_has_a_message_per_code_and_prints_as_its_name():
    for s in dh.Status:
        assert s.message and str(s) == s.value and dh.Status.from_code(s.code) is s
    assert dh.Status.CONVERGED.ok and not dh.Status.BRANCH_MISSING.ok


def test_result_values_are_plain_python_and_to_dict_is_json_ready():
    r = dh.solve(dh.Model(P=2), 0.05, 0.3)
    d = r.to_dict()
    assert type(r.m) is float and type(d["iterations"]) is int and isinstance(r.status, dh.Status)
    assert d["status"] == "converged" and d["convention"] == "distinct-indices" and d["P"] == 2
    json.dumps(d)
    # the textbook AGS fixed point at this point: m = E tanh(beta (m + sqrt(alpha r) z))
    z, w = np.polynomial.hermite_e.hermegauss(120)
    w = w / w.sum()
    m_fp = float(np.sum(w * np.tanh((r.m + math.sqrt(0.05 * r.r) * z) / 0.3)))
    assert r.m == pytest.approx(m_fp, abs=1e-9)


def test_missing_branch_is_nan_with_a_status():
    r = dh.solve(dh.Model(P=2), 0.2, 0.0)
    assert not r.converged and math.isnan(r.m) and r.status is not dh.Status.CONVERGED


def test_grid_result_to_xarray_matches_pointwise_solves():
    alphas, Ts = np.array([0.02, 0.05, 0.2]), np.array([0.0, 0.3])
    g = dh.solve(dh.Model(P=2), alphas[:, None], Ts[None, :])
    ds = g.to_xarray()
    assert ds.equals(dh.solve_grid(dh.Model(P=2), alphas, Ts))
    assert ds["m"].dims == ("alpha", "T") and np.allclose(ds["alpha"], alphas) and np.allclose(ds["T"], Ts)
    assert ds["m"].attrs["units"] == "1" and "Mattis" in ds["m"].attrs["long_name"]
    assert ds.attrs["convention"] == "distinct-indices" and ds.attrs["version"]
    assert "converged" in ds["status"].attrs["flag_meanings"].split()
    one = dh.solve(dh.Model(P=2), 0.05, 0.3)
    assert float(ds["m"].sel(alpha=0.05, T=0.3)) == pytest.approx(one.m, abs=1e-12)
    assert g[1, 1].m == pytest.approx(one.m, abs=1e-12) and g[1, 1].status is dh.Status.CONVERGED
    assert np.isnan(ds["m"].sel(alpha=0.2, T=0.0)) and not g.converged[2, 0]


def test_solve_dispatches_on_the_ansatz():
    """dh.solve with a 1RSB Model is the 1RSB saddle (theory.rsb1_solver), and the 1RSB lines use it:
    where RS is AT-unstable the 1RSB free energy lies above the RS one (the variational ordering)."""
    from densehebb.phase_diagrams import lines_rsb1

    m = dh.Model(P=4, ansatz="1rsb")
    r = dh.solve(m, 0.03, 0.005)
    assert r.kind == "saddle" and r.status is dh.Status.CONVERGED and r.residual < 1e-8
    assert 0 <= r.q0 < r.q1 <= 1 and 0 < r.x < 1 and r.f > r.f_rs and r.replicon < 0
    assert r.f_rs == pytest.approx(dh.solve(m.replace(ansatz="rs"), 0.03, 0.005).f, abs=1e-14)
    assert lines_rsb1.retrieval_f(m, 0.03, 0.005) == pytest.approx(r.f, abs=1e-12)


def test_capacity_is_one_call_for_every_family():
    low = dh.capacity(dh.Model(P=4, storage="low"))
    assert low.kind == "transition" and low.T_spinodal == pytest.approx(0.0826310504, abs=1e-9)
    with pytest.raises(ValueError):
        dh.capacity(dh.Model(P=2), mixture=3)


# --- numerics --------------------------------------------------------------------------------------------
def test_numerics_newton_fold_and_roots_on_closed_forms():
    import jax

    with jax.enable_x64(True):
        F = lambda x: jnp.array([x[0] ** 2 + x[1] ** 2 - 1.0, x[0] - x[1]])  # noqa: E731
        x, res, it = numerics.newton(F, jnp.array([1.0, 0.2]), jnp.array([False, False]), lambda x: True, 1e-14)
        assert np.allclose(np.asarray(x), [math.sqrt(0.5)] * 2, atol=1e-13) and float(res) < 1e-14
        # the branch x = sqrt(p) of x^2 = p ends at the fold p = 0
        G = numerics.fold_system(lambda x, p: jnp.array([x[0] ** 2 - p]))
        y, res, _ = numerics.newton(G, jnp.array([0.3, 0.09]), jnp.array([False, False]), lambda y: True, 1e-12)
        assert abs(float(y[1])) < 1e-6
    roots = numerics.scan_roots(math.sin, 0.5, 10.0, 40)
    assert np.allclose(roots, [math.pi, 2 * math.pi, 3 * math.pi], atol=1e-11)
    br = numerics.bisect_existence(lambda p, x0: np.array([math.sqrt(1 - p)]) if p <= 1 else None, 0.0, 3.0, 1e-6)
    assert br[0] <= 1 < br[1] and br[1] - br[0] < 1e-5
    p, x, fail = numerics.continue_until_failure(lambda p, x: x + 1 if p <= 2.5 else None, 0.0, 0, 0.5, 1e-3)
    assert 2.5 - 1e-3 <= p <= 2.5 and fail is not None


# --- no import-time side effects -------------------------------------------------------------------------
def test_import_changes_no_global_configuration_and_solves_in_float64():
    p = _py("""
        import sys, json
        import densehebb as dh
        started = [m for m in ("jax", "matplotlib", "numpy") if m in sys.modules]
        import jax, matplotlib
        backend = matplotlib.get_backend()
        r = dh.solve(dh.Model(P=2), 0.05, 0.3)
        import densehebb.phase_diagrams.plotting
        print(json.dumps({"started": started, "x64": bool(jax.config.jax_enable_x64), "m": r.m,
                          "dtype": str(jax.numpy.zeros(1).dtype), "backend_same": backend == matplotlib.get_backend()}))
    """, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout.strip().splitlines()[-1])
    assert d["started"] == [] and d["x64"] is False and d["dtype"] == "float32" and d["backend_same"]
    # the same number as under global x64 (this process): the toolkit's own computation is double precision
    assert d["m"] == pytest.approx(dh.solve(dh.Model(P=2), 0.05, 0.3).m, abs=1e-14)


# --- packaging -------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_wheel_installs_only_the_densehebb_namespace(tmp_path):
    """Build the wheel, install it without dependencies into a fresh environment that sees the installed
    dependencies (a .pth to this environment's site-packages, whose own .pth files -- the editable install
    -- are not processed), and import from outside the source tree."""
    import shutil

    src = tmp_path / "src"  # build from a copy: setuptools writes build/ and egg-info into the source tree
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info",
                                                              "__pycache__", ".pytest_cache", "out", "*.nc"))
    wheels = tmp_path / "wheels"
    b = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                        str(wheels), str(src)], capture_output=True, text=True, timeout=600)
    assert b.returncode == 0, b.stderr
    (whl,) = glob.glob(str(wheels / "densehebb-*.whl"))
    env_dir = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=300)
    py = str(env_dir / "bin" / "python")
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    i = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", site,
                        whl], capture_output=True, text=True, timeout=600)
    assert i.returncode == 0, i.stderr
    with open(os.path.join(site, "deps.pth"), "w") as fh:
        fh.write(sysconfig.get_paths()["purelib"] + "\n")
    code = ("import importlib.util, densehebb, densehebb.theory, densehebb.montecarlo, densehebb.phase_diagrams; "
            "print(densehebb.theory.__file__); "
            "print([n for n in ('theory', 'montecarlo', 'phase_diagrams') if importlib.util.find_spec(n)]); "
            "print(densehebb.solve(densehebb.Model(P=2), 0.05, 0.3).m)")
    r = subprocess.run([py, "-c", code], capture_output=True, text=True, cwd=str(tmp_path), timeout=600)
    assert r.returncode == 0, r.stderr
    where, top, m = r.stdout.strip().splitlines()
    assert where.startswith(site) and top == "[]"
    assert float(m) == pytest.approx(dh.solve(dh.Model(P=2), 0.05, 0.3).m, abs=1e-14)  # same code, same number


def test_retrieval_above_every_spinodal_is_branch_missing_not_a_solver_failure():
    """Above the K-finite Mattis spinodal (the ceiling of T_M(alpha)) a retrieval solve has no answer
    because the branch does not exist; the status says so (and a converged point below it is untouched)."""
    from densehebb.phase_diagrams import lines
    from densehebb.theory.solver import retrieval_ceiling

    assert retrieval_ceiling(2) == pytest.approx(1.0, abs=1e-12)
    for P, alpha, T in ((2, 0.05, 1e300), (2, 0.05, 1.5)):
        r = dh.solve(dh.Model(P=P), alpha, T)
        assert r.status is dh.Status.BRANCH_MISSING and math.isnan(r.m)
    # the ceiling bounds the retrieval spinodal: T_M(alpha) < T_M(0) = ceiling
    assert lines.T_M(dh.Model(P=2), 0.01) < retrieval_ceiling(2)
    assert dh.solve(dh.Model(P=2), 0.05, 0.3).status is dh.Status.CONVERGED
