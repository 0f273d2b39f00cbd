"""Low storage (K finite): Mattis states and mixtures, first-order transitions for P >= 3."""
import math

import numpy as np
import pytest

from densehebb.theory import Model, solve
from densehebb.theory.low_storage import solve_mixture, stability_temperature, transitions


def test_pairwise_mattis_transition_is_continuous_at_T1():
    tr = transitions(Model(P=2, storage="low"))
    assert tr.continuous and tr.T_spinodal == pytest.approx(1.0, abs=1e-8)
    assert tr.T_thermodynamic == pytest.approx(1.0, abs=1e-8)


@pytest.mark.slow
def test_pairwise_three_mixture_stable_below_046():
    """AGS (1985): symmetric 3-mixtures of the Hopfield model are local minima below T ~ 0.46."""
    assert stability_temperature(Model(P=2, storage="low"), 3) == pytest.approx(0.46, abs=0.005)
    assert solve_mixture(Model(P=2, storage="low"), 0.3, 3).replicon > 0
    assert solve_mixture(Model(P=2, storage="low"), 0.55, 3).replicon < 0
    assert solve_mixture(Model(P=2, storage="low"), 0.0, 3).m == 0.5  # E[xi_1 sign(xi_1+xi_2+xi_3)]


@pytest.mark.parametrize("P", [3, 4, 5, 6])
def test_dense_mattis_transition_is_first_order(P):
    tr = transitions(Model(P=P, storage="low"))
    assert not tr.continuous and 0 < tr.T_thermodynamic < tr.T_spinodal
    # spinodal: independent dense scan of T(m) = m^(P-1) / ((P-1)! artanh m)
    ms = np.linspace(1e-3, 1 - 1e-9, 400001)
    assert tr.T_spinodal == pytest.approx(np.max(ms ** (P - 1) / (math.factorial(P - 1) * np.arctanh(ms))),
                                             rel=1e-8)
    # thermodynamic: the Mattis free energy equals the paramagnet's -T ln 2 there
    s = solve_mixture(Model(P=P, storage="low"), tr.T_thermodynamic)
    assert s.f == pytest.approx(-tr.T_thermodynamic * math.log(2), abs=1e-10)
    assert solve_mixture(Model(P=P, storage="low"), 0.99 * tr.T_thermodynamic).f < -0.99 * tr.T_thermodynamic * math.log(2)
    missing = solve_mixture(Model(P=P, storage="low"), 1.001 * tr.T_spinodal)
    assert not missing.converged and missing.status == "branch_missing" and math.isnan(missing.m)


@pytest.mark.parametrize("P", [pytest.param(3, marks=pytest.mark.slow), 4])
def test_low_storage_equals_high_storage_theory_at_zero_load(P):
    T = 0.5 * transitions(Model(P=P, storage="low")).T_thermodynamic
    a = solve_mixture(Model(P=P, storage="low"), T)
    b = solve(Model(P=P), 0.0, T, "retrieval")
    assert bool(b.converged)
    assert float(b.m) == pytest.approx(a.m, abs=1e-10)
    assert float(b.f) == pytest.approx(a.f, abs=1e-10)
