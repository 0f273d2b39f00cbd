"""Real data (montecarlo.realdata, ``densehebb learn``): couplings from a user's labelled +-1 examples.

* the loader refuses bad files at the command line with one line and exit code 2, before JAX starts;
* synthetic data where the answer is known: examples drawn from Rademacher archetypes
  (montecarlo.patterns.draw_examples).  At high quality r both protocols, started from a corrupted stored
  example, end at the class mean's majority vote sgn(xibar) (= the archetype for nearly all sites); at r -> 0 the
  examples are nearly independent random patterns and the unsupervised network (K M patterns at low load)
  retrieves the stored example itself, not the class mean;
* M = 1: the supervised and unsupervised couplings are the same energy, so the same key gives the same states;
* ``stable`` (every single flip has dH >= 0) against energies recomputed from the definition;
* the same seed gives the same result;
* the digits pipeline (scikit-learn, skipped if missing) on a small subset: overlaps in [-1, 1], the PNG.
"""
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

import densehebb as dh
from densehebb.montecarlo import learning, patterns, realdata
from densehebb.phase_diagrams.cli import main


def run_main(argv, capsys):
    try:
        code = main(list(argv))
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _clean_env():
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def synthetic(seed, N, K, M, r):
    """(Data, archetypes (K, N)): M examples per class of K Rademacher archetypes, labels 0..K-1."""
    xi, chi = patterns.draw_examples(jax.random.PRNGKey(seed), N, K, M, r)
    xi, chi = np.asarray(xi[0]), np.asarray(chi[0])            # (N, K), (M, N, K)
    eta = chi * xi[None]                                        # (M, N, K)
    X = np.transpose(eta, (2, 0, 1)).reshape(K * M, N)           # class-major
    y = np.repeat(np.arange(K), M)
    return realdata.validate(X, y), xi.T


# ------------------------------------------------------------------------------------------- errors
def _save(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def _bad_files(tmp):
    X = np.where(np.random.default_rng(0).random((12, 16)) < 0.5, 1, -1)
    y = np.repeat([0, 1, 2], 4)
    return {
        "3d": (_save(tmp / "a.npz", patterns=X.reshape(12, 4, 4), labels=y), "2-d array"),
        "zeros": (_save(tmp / "b.npz", patterns=(X + 1) // 2, labels=y), "only +1 and -1"),
        "nolabels": (_save(tmp / "c.npz", patterns=X), "no array 'labels'"),
        "shortlabels": (_save(tmp / "d.npz", patterns=X, labels=y[:-1]), "one per sample"),
        "floatlabels": (_save(tmp / "e.npz", patterns=X, labels=y + 0.5), "integers"),
        "badshape": (_save(tmp / "f.npz", patterns=X, labels=y, shape=np.array([3, 5])), "rows x columns"),
        "notnpz": (str(tmp / "g.npz"), "not a readable .npz"),
    }


def test_loader_errors_one_line_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files = _bad_files(tmp_path)
    (tmp_path / "g.npz").write_text("not a zip file\n")
    cases = [(["--data", f, "--dataset", "supervised"], why) for f, why in files.values()]
    good = _save(tmp_path / "ok.npz", patterns=np.where(np.arange(12 * 16).reshape(12, 16) % 3, 1, -1),
                 labels=np.repeat([0, 1, 2], 4))
    cases += [
        (["--data", good, "--dataset", "supervised", "--M", "5"], "larger than the class size"),
        (["--data", good, "--dataset", "supervised", "--M", "4", "--start", "unseen"], "needs one more than M"),
        (["--data", good, "--dataset", "supervised", "--M", "0"], "M must be >= 1"),
        (["--data", good, "--dataset", "supervised", "--corrupt", "1.5"], "corrupt must be <= 1"),
        (["--data", good, "--dataset", "supervised", "--png", "grid.jpg"], "must end in .png"),
        (["--data", good, "--dataset", "supervised", "--T", "0.1", "--dynamics", "greedy"], "zero-temperature"),
        (["--data", good, "--dataset", "supervised", "--threshold", "4"], "--write-digits only"),
        (["--data", good], "needs --dataset"),
        (["--dataset", "supervised"], "needs --data"),
        (["--data", str(tmp_path / "missing.npz"), "--dataset", "unsupervised"], "no such file"),
        (["--write-digits", "digits.npz", "--P", "3"], "does not apply with --write-digits"),
        (["--write-digits", "digits.txt"], "must end in .npz"),
        (["--data", good, "--dataset", "supervised", "--P", "9"], "P must be <= 8"),
        (["--data", good, "--dataset", "supervised", "--corr", "0.1"], "unrecognized arguments"),   # no prefixes
    ]
    before = sorted(os.listdir(tmp_path))
    for argv, why in cases:
        code, out, err = run_main(["learn", *argv, "--json"] if "--write-digits" not in argv else ["learn", *argv],
                                  capsys)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 2, (argv, code, err)
        assert out == "" and len(lines) == 1 and lines[0].startswith("densehebb: error: "), (argv, err)
        assert why in lines[0], (argv, lines[0])
    assert sorted(os.listdir(tmp_path)) == before            # nothing written


def test_bad_file_refused_before_jax(tmp_path):
    """In a fresh process: a bad data file is refused without importing JAX."""
    X = np.where(np.random.default_rng(1).random((6, 9)) < 0.5, 1, 0)
    f = _save(tmp_path / "bad.npz", patterns=X, labels=np.arange(6) % 2)
    code = ("import sys; from densehebb.phase_diagrams.cli import main; "
            f"rc = main(['learn', '--data', {f!r}, '--dataset', 'supervised']); print(rc, 'jax' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.stdout.split() == ["2", "False"], (p.stdout, p.stderr)
    assert p.stderr.strip().startswith("densehebb: error: ") and len(p.stderr.strip().splitlines()) == 1


def test_digits_threshold_constant():
    from densehebb.phase_diagrams.cli import build_parser

    sub = [a for a in build_parser()._actions if hasattr(a, "choices") and isinstance(a.choices, dict)][0]
    th = [a for a in sub.choices["learn"]._actions if a.dest == "threshold"][0]
    assert th.default == realdata.DIGITS_THRESHOLD == 8


# ------------------------------------------------------------------------------------ synthetic data
def test_pattern_set_matches_synthetic_builder():
    """pattern_set of given examples = montecarlo.patterns.example_patterns of the same examples, except column 0
    (archetype there, binarised class mean here)."""
    data, xi = synthetic(3, 24, 3, 5, 0.5)
    stored = data.patterns.reshape(3, 5, 24)
    xi_p, chi_p = patterns.draw_examples(jax.random.PRNGKey(3), 24, 3, 5, 0.5)
    for sup in (True, False):
        ref = np.asarray(patterns.example_patterns(xi_p[0], chi_p[0], supervised=sup))
        W = realdata.pattern_set(stored, sup)
        np.testing.assert_array_equal(W[..., 1:], ref[..., 1:])
        S = stored.astype(int).sum(axis=1).T
        np.testing.assert_array_equal(W[..., 0], np.where(S >= 0, 1, -1))


@pytest.mark.parametrize("supervised", [True, False], ids=["supervised", "unsupervised"])
def test_energy_of_given_examples_is_the_definition(supervised):
    """Given examples as archetype xi = +1 with chi = the examples: the engine's energy of pattern_set (Norm = 1)
    equals learning.energy_reference (explicit e_P, exact rationals), P = 3 and 4, both conventions."""
    rng = np.random.default_rng(3)
    N, K, M = 7, 2, 3
    stored = np.where(rng.random((K, M, N)) < 0.6, 1, -1).astype(np.int8)
    W = realdata.pattern_set(stored, supervised)
    ex = dh.Examples(M=M, r=1.0, supervised=supervised)
    chi = np.transpose(stored, (1, 2, 0))                                   # (M, N, K)
    sig = np.where(rng.random((4, N)) < 0.5, 1, -1).astype(np.int8)
    for P, si in ((3, False), (4, False), (3, True)):
        E = np.asarray(learning.energy(sig, W, P, si, ex))
        ref = [learning.energy_reference(s, np.ones((N, K), int), chi, P, si, ex) for s in sig]
        np.testing.assert_allclose(E, ref, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("supervised", [True, False], ids=["supervised", "unsupervised"])
def test_high_quality_retrieves_class_mean(supervised):
    N, K, M, r = 300, 3, 9, 0.8
    data, xi = synthetic(7, N, K, M, r)
    res = realdata.retrieve(11, data, P=3, M=M, supervised=supervised, corrupt_fraction=0.2, starts=2)
    ch = res.chains
    assert res.record["fixed_point_reached"]
    assert np.all(ch["mean_overlap"] > 0.95), ch["mean_overlap"]
    assert np.all(ch["nearest_class_index"] == np.arange(K)[:, None])
    # the class means' majority votes are close to the archetypes (P(S sign wrong) ~ 1e-3 at M = 9, r = 0.8)
    arch = np.einsum("krn,kn->kr", res.final.astype(float), xi.astype(float)) / N
    assert np.all(arch > 0.95), arch
    assert np.all(res.chains["start_mean_overlap"] < 0.8)      # the start was far from it


def test_low_quality_unsupervised_retrieves_the_example_not_the_mean():
    """r -> 0: the examples are nearly independent random patterns (K M = 24, P = 3, N = 300: low load); the
    unsupervised network returns to the stored example, whose overlap with its class's majority vote is only
    that of one of M random patterns with their majority (about 0.27 for M = 8)."""
    N, K, M, r = 300, 3, 8, 0.02
    data, _ = synthetic(5, N, K, M, r)
    res = realdata.retrieve(2, data, P=3, M=M, supervised=False, corrupt_fraction=0.2, starts=2)
    ch = res.chains
    assert np.all(ch["nearest_overlap"] > 0.97), ch["nearest_overlap"]
    assert np.all(ch["mean_overlap"] < 0.6), ch["mean_overlap"]
    hi, _ = synthetic(5, N, K, M, 0.8)
    res_hi = realdata.retrieve(2, hi, P=3, M=M, supervised=False, corrupt_fraction=0.2, starts=2)
    assert res_hi.record["mean_overlap"] > res.record["mean_overlap"] + 0.3


def test_M1_supervised_equals_unsupervised_and_same_seed():
    data, _ = synthetic(1, 60, 4, 3, 0.3)
    kw = dict(P=4, M=1, corrupt_fraction=0.3, starts=2)
    a = realdata.retrieve(5, data, supervised=True, **kw)
    b = realdata.retrieve(5, data, supervised=False, **kw)
    np.testing.assert_array_equal(a.final, b.final)
    np.testing.assert_array_equal(a.start, b.start)
    c = realdata.retrieve(5, data, supervised=True, **kw)
    assert c.record == a.record
    np.testing.assert_array_equal(c.final, a.final)
    d = realdata.retrieve(6, data, supervised=True, **kw)
    assert not np.array_equal(d.start, a.start)


@pytest.mark.parametrize("supervised", [True, False], ids=["supervised", "unsupervised"])
def test_stable_flag_against_recomputed_energies(supervised):
    """``stable`` = no single flip lowers the energy, with energies recomputed from scratch (learning.energy);
    at T > 0 (few sweeps, Glauber) some chains end unstable, so the flag is exercised both ways."""
    N, K, M = 24, 3, 4
    data, _ = synthetic(9, N, K, M, 0.3)
    stored, _, _ = realdata.select_examples(jax.random.fold_in(jax.random.PRNGKey(4), 0), data, M)
    W = realdata.pattern_set(stored, supervised)
    ex = dh.Examples(M=M, r=1.0, supervised=supervised)
    flags = []
    for T, sweeps in ((0.0, 100), (0.05, 1)):
        res = realdata.retrieve(4, data, P=3, M=M, supervised=supervised, T=T, max_sweeps=sweeps, starts=4)
        final = res.final.reshape(-1, 1, N)
        flipped = np.where(np.eye(N, dtype=bool)[None], -final, final)              # (chains, N, N)
        E = np.asarray(learning.energy(np.concatenate([final, flipped], axis=1), W, 3, False, ex))
        for e, st in zip(E, res.chains["stable"].reshape(-1)):
            assert st == bool(np.all(e[1:] >= e[0] - 1e-12)), (T, e[1:].min() - e[0])
            flags.append(bool(st))
    assert any(flags) and not all(flags)


# ------------------------------------------------------------------------------------------- digits
@pytest.mark.slow
def test_digits_pipeline_small_subset(tmp_path, capsys, monkeypatch):
    pytest.importorskip("sklearn")
    X, y = realdata.digits_arrays()
    assert X.shape == (1797, 64) and set(np.unique(X)) == {-1, 1} and set(y) == set(range(10))
    keep = np.concatenate([np.flatnonzero(y == c)[:20] for c in (0, 1, 7)])
    np.savez(tmp_path / "small.npz", patterns=X[keep], labels=y[keep], shape=np.array([8, 8]))
    for ds in ("supervised", "unsupervised"):
        png = tmp_path / f"{ds}.png"
        code, out, err = run_main(["learn", "--data", str(tmp_path / "small.npz"), "--P", "4", "--dataset", ds,
                                   "--M", "6", "--starts", "2", "--png", str(png), "--quiet", "--json"], capsys)
        assert code == 0, err
        rec = json.loads(out)
        assert rec["dataset"] == ds and rec["N"] == 64 and rec["K"] == 3 and rec["M"] == 6
        assert rec["convention"] == "distinct-indices" and rec["dynamics"] == "greedy" and rec["seed"] == 0
        for pc in rec["per_class"]:
            for k in ("mean_overlap", "mean_cosine", "nearest_overlap", "start_mean_overlap"):
                assert -1.0 <= pc[k] <= 1.0
            assert set(pc["nearest_class"]) <= {0, 1, 7}
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # --write-digits writes the documented file
    out_npz = tmp_path / "digits.npz"
    code, out, err = run_main(["learn", "--write-digits", str(out_npz)], capsys)
    assert code == 0, err
    d = realdata.load(str(out_npz))
    assert d.patterns.shape == (1797, 64) and d.shape == (8, 8) and d.meta["threshold"] == 8
    np.testing.assert_array_equal(d.patterns, X)


def test_missing_sklearn_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)          # as if scikit-learn were not installed
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    code, out, err = run_main(["learn", "--write-digits", str(tmp_path / "d.npz")], capsys)
    assert code == 2 and out == "" and err.startswith("densehebb: error: --write-digits needs scikit-learn")
    with pytest.raises(realdata.DataError, match="needs scikit-learn"):
        realdata.digits_arrays()
    assert os.listdir(tmp_path) == []


def test_unseen_start_is_an_example_not_used_for_the_couplings():
    data, _ = synthetic(2, 40, 3, 6, 0.5)
    key = jax.random.fold_in(jax.random.PRNGKey(8), 0)          # retrieve's stream 0: the choice of examples
    stored, first, idx = realdata.select_examples(key, data, 4, start="unseen", starts=3)
    for k in range(3):
        members = np.flatnonzero(data.labels == k)
        assert set(idx[k]) <= set(members) and len(set(idx[k])) == 4
        unseen = [i for i in members if i not in set(idx[k])]
        for x in first[k]:
            assert any(np.array_equal(x, data.patterns[i]) for i in unseen)
    res = realdata.retrieve(8, data, P=3, M=4, start="unseen", starts=3, corrupt_fraction=0.0)
    assert res.record["start"] == "unseen" and res.record["flipped_sites"] == 0
    np.testing.assert_array_equal(res.start, first)            # corrupt 0: the start is the unseen example itself
