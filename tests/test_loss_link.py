"""The loss link (issue 12, deliverable 5; docs/montecarlo.md "The loss link").

L_mu = (1/2N) sum_i (xi^mu_i - s sigma_i (xi^mu_i)^2)^2 = c_mu - |m_mu| (s = sign m_mu: the nearer of +-xi^mu;
c_mu the non-blank fraction).  For P = 2 (distinct indices) H/N = -(1/2) sum_mu (c_mu - L_mu)^2 + sum_mu c_mu/(2N)
exactly, so a change of state changes the energy by dH/N = sum_mu w_mu dL_mu with w_mu = (|m_mu| + |m_mu'|)/2:
minimising the energy minimises the amplitude-weighted loss.  Checked on Monte Carlo trajectories: the
identity at every sweep; at T = 0 (strict descent) the energy and the weighted loss never increase; in the
parallel regime the summed loss itself decreases monotonically; from random starts (hierarchical regime,
and with examples, both protocols, loss against the archetypes) the summed loss falls with the energy
(correlation > 0.99) although not monotonically sweep by sweep; at low T the same within the noise.
"""
import numpy as np
import pytest

import densehebb as dh
from densehebb.montecarlo import observables as ob


def test_loss_definition():
    m = np.array([[0.5, -0.2, 0.0]])
    L, tot = ob.squared_error_loss(m, np.array([0.6, 0.6, 0.5]))
    np.testing.assert_allclose(L, [[0.1, 0.4, 0.5]])
    assert float(tot[0]) == pytest.approx(1.0)
    L, _ = ob.squared_error_loss(m, np.array([0.6, 0.6, 0.5]), gauge=False)
    np.testing.assert_allclose(L, [[0.1, 0.8, 0.5]])
    # against the definition on explicit vectors
    rng = np.random.default_rng(0)
    N = 1000
    xi = rng.choice([-1, 0, 1], size=(N, 2), p=[0.3, 0.4, 0.3])
    s = rng.choice([-1, 1], size=N)
    mm = xi.T @ s / N
    direct = [min(np.sum((xi[:, k] - g * s * xi[:, k] ** 2) ** 2) for g in (1, -1)) / (2 * N) for k in range(2)]
    L, _ = ob.squared_error_loss(mm, np.mean(xi != 0, axis=0))
    np.testing.assert_allclose(L, direct, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_identity_and_weighted_descent_at_T0(seed):
    N, K, d = 2000, 3, 0.5
    tr = ob.loss_trajectory(seed, dh.Model(P=2, dilution=d), N, K, 0.0, 8)
    E, Lmu, m, c = tr["energy"], tr["loss_mu"], tr["m"], tr["nonblank"]
    np.testing.assert_allclose(E, -0.5 * np.sum((c - Lmu) ** 2, axis=1) + c.sum() / (2 * N), atol=1e-10)
    w = 0.5 * (np.abs(m[1:]) + np.abs(m[:-1]))
    dLw = np.sum(w * np.diff(Lmu, axis=0), axis=1)
    np.testing.assert_allclose(np.diff(E), dLw, atol=1e-10)
    assert np.all(np.diff(E) <= 0) and np.all(dLw <= 1e-10)
    assert tr["loss"][-1] < tr["loss"][0] - 0.5


@pytest.mark.parametrize("d,K", [(0.8, 3), (0.75, 4)])
def test_parallel_regime_summed_loss_decreases_monotonically(d, K):
    for seed in range(3):
        tr = ob.loss_trajectory(seed, dh.Model(P=2, dilution=d), 2000, K, 0.0, 8)
        assert np.all(np.diff(tr["energy"]) <= 0)
        assert np.all(np.diff(tr["loss"]) <= 1e-12), tr["loss"]
        assert tr["loss"][-1] < 0.4 * tr["loss"][0]
        assert np.sum(np.abs(tr["m"][-1]) > 0.05) == K          # every pattern retrieved: parallel


@pytest.mark.parametrize("supervised", [True, False])
def test_examples_loss_falls_with_the_energy(supervised):
    """Couplings from examples of diluted archetypes (d = 0.4, M = 5, r = 0.8): the loss against the
    archetypes falls with the energy along T = 0 descents from random starts."""
    model = dh.Model(P=2, dilution=0.4, examples=dh.Examples(M=5, r=0.8, supervised=supervised))
    for seed in range(2):
        tr = ob.loss_trajectory(seed, model, 2000, 3, 0.0, 6)
        E, L = tr["energy"], tr["loss"]
        assert np.all(np.diff(E) <= 0)
        assert L[-1] < L[0] - 0.5
        assert np.corrcoef(E, L)[0, 1] > 0.99


def test_low_temperature_loss_falls_with_the_energy():
    model = dh.Model(P=2, dilution=0.5, examples=dh.Examples(M=5, r=0.8))
    for seed in range(2):
        tr = ob.loss_trajectory(seed, model, 2000, 3, 0.05, 12, dynamics="glauber")
        assert np.corrcoef(tr["energy"], tr["loss"])[0, 1] > 0.99
        assert tr["loss"][-1] < tr["loss"][0] - 0.5
