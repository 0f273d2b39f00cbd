"""Constrained (in-basin) Monte Carlo, ``simulate(m_min=...)``: exact enumeration of the restricted measure.

N = 10 spins, K = 3 patterns: all 2^10 states are enumerated; the Boltzmann distribution restricted to
{m >= m_min} (m the Mattis overlap with pattern 0, where every chain starts) is compared with one snapshot of
each of many tempered replicas of the constrained sampler, cell by cell in (energy level, M = N m), with a
chi-square test, for P = 2 (the float32 matrix-vector kernel) and P = 3 (the integer kernel).  Teeth: the
unrestricted Boltzmann distribution is rejected by the same data; the constraint is never violated in any
measurement; a constraint that never binds changes no number (same random streams).
"""
import itertools

import jax
import numpy as np
import pytest
import scipy.stats

import densehebb as dh
import densehebb.montecarlo as montecarlo
from densehebb.montecarlo import energy, patterns

N, K = 10, 3
STATES = np.array(list(itertools.product([-1, 1], repeat=N)), dtype=np.int8)
P_MIN = 1e-3
TEMPS = {2: [0.35, 0.6, 1.0, 1.6], 3: [0.12, 0.2, 0.33, 0.55]}
M_MIN = 0.2


def _cells(E, M, probs=None, values=None):
    """Histogram over the distinct (energy, M) cells of the enumeration."""
    keys = np.round(E, 10) * 1000 + M
    uniq, inv = np.unique(keys, return_inverse=True)
    exact = np.bincount(inv, weights=probs, minlength=uniq.size) if probs is not None else None
    if values is None:
        return uniq, exact
    idx = np.searchsorted(uniq, values)
    assert np.all(uniq[np.clip(idx, 0, uniq.size - 1)] == values), "a snapshot is not an exact level"
    return uniq, exact, np.bincount(idx, minlength=uniq.size)


def _chi2(counts, probs):
    exp = probs * counts.sum()
    big = exp >= 5
    obs, e = counts[big], exp[big]
    if exp[~big].sum() > 0:
        obs, e = np.append(obs, counts[~big].sum()), np.append(e, exp[~big].sum())
    if (counts[probs == 0] > 0).any():
        return 0.0
    return scipy.stats.chisquare(obs, e).pvalue


@pytest.mark.parametrize("P", [2, 3])
def test_constrained_sampler_matches_restricted_boltzmann(P):
    R, seed = 3000, 21
    temps = TEMPS[P]
    ds = montecarlo.simulate(seed, dh.Model(P=P), N=N, K=K, T=temps, n_samples=1, n_replicas=R, sweeps=40,
                             burn_in=39, init="pattern", tempering=True, m_min=M_MIN, timeseries=True)
    assert ds.attrs["m_min"] == M_MIN and ds.attrs["m_min_wall"] == 2
    xi = patterns.rademacher(jax.random.fold_in(jax.random.key(seed), 0), N, K, 1)[0]
    E = np.asarray(energy.energy(STATES, xi, P)) / N
    M = STATES.astype(int) @ np.asarray(xi[:, 0], int)
    inside = M >= 2
    # the constraint holds in every measurement of every chain
    assert float(ds.m_t.min()) >= M_MIN
    rejected_unrestricted = 0
    for t, T in enumerate(temps):
        w = np.exp(-(E - E.min()) * N / T)
        p_in = np.where(inside, w, 0.0) / np.where(inside, w, 0.0).sum()
        p_all = w / w.sum()
        e_run = np.round(ds.energy_t.isel(T=t, sample=0, sweep=-1).values, 10)
        m_run = np.round(ds.m_t.isel(T=t, sample=0, sweep=-1).values * N).astype(int)
        uniq, exact_in, counts = _cells(E, M, p_in, e_run * 1000 + m_run)
        _, exact_all = _cells(E, M, p_all)
        assert _chi2(counts, exact_in) > P_MIN / len(temps), T
        # the observed m mean agrees with the restricted mean within 4 standard errors
        m_exact = (p_in * M).sum() / N
        m_sd = np.sqrt((p_in * (M / N - m_exact) ** 2).sum())
        assert abs(m_run.mean() / N - m_exact) < 4 * m_sd / np.sqrt(R) + 1e-12
        rejected_unrestricted += _chi2(counts, exact_all) < 1e-6
    # teeth: at the higher temperatures the unrestricted measure has weight outside the basin and is rejected
    assert rejected_unrestricted >= 2
    s = montecarlo.summarize(ds)
    assert all(v["m_min"] == M_MIN for v in s.values())


@pytest.mark.parametrize("P", [2, 3])
def test_non_binding_constraint_changes_nothing(P):
    """At low T from the pattern the overlap stays far above m_min = -0.9: the same numbers as without."""
    kw = dict(N=16, K=2, T=[0.02, 0.04], n_samples=2, n_replicas=2, sweeps=30, burn_in=10, tempering=True)
    a = montecarlo.simulate(5, dh.Model(P=P), **kw)
    b = montecarlo.simulate(5, dh.Model(P=P), m_min=-0.9, **kw)
    for name in ("m", "energy", "acceptance", "q", "swap_acceptance"):
        np.testing.assert_array_equal(a[name].values, b[name].values)
    assert "m_min" not in a.attrs and b.attrs["m_min"] == -0.9


def test_m_min_validation():
    for bad in (1.0, -1.0, 1.5, True, "0.5"):
        with pytest.raises(ValueError, match="m_min"):
            montecarlo.simulate(0, dh.Model(P=3), N=10, K=2, m_min=bad, sweeps=2, burn_in=0)
    with pytest.raises(ValueError, match="init"):
        montecarlo.simulate(0, dh.Model(P=3), N=10, K=2, m_min=0.5, init="random", sweeps=2, burn_in=0)


def test_cli_m_min(capsys):
    """`densehebb mc --m-min X`: the run is the constrained simulate (same numbers), X is reported; a bad X or
    a start outside the basin is a one-line usage error with exit 2."""
    import json

    from densehebb.phase_diagrams.cli import main

    args = ["mc", "--P", "3", "--N", "12", "--K", "4", "--temperatures", "0.1,0.2", "--tempering", "--samples", "2",
            "--sweeps", "40", "--burn-in", "20", "--seed", "3", "--m-min", "0.5", "--json"]
    assert main(args) == 0
    d = json.loads(capsys.readouterr().out)
    ds = montecarlo.simulate(3, dh.Model(P=3), N=12, K=4, T=[0.1, 0.2], n_samples=2, sweeps=40, burn_in=20,
                             tempering=True, m_min=0.5)
    assert d["m_min"] == 0.5
    s = montecarlo.summarize(ds)
    for r in d["results"]:
        assert (r["m"], r["energy"]) == (s[r["T"]]["m"], s[r["T"]]["energy"])
    for bad in (["--m-min", "1"], ["--m-min", "-1.5"], ["--m-min", "0.3", "--init", "random"]):
        assert main(["mc", "--P", "3", "--N", "12", "--K", "4", "--T", "0.1"] + bad) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("densehebb: error:") and "m-min" in err[0]
