"""1RSB functional for P >= 3 (building block of issue 3; the 1RSB solver is not wired yet)."""
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import norm

from theory import dense_rs as RS
from theory import dense_rsb1 as R1


@pytest.mark.parametrize("P,si", [(3, False), (4, False), (4, True)])
@pytest.mark.parametrize("T", [0.0, 0.03, 0.2])
def test_q0_equal_q1_reduces_to_rs(P, si, T):
    alpha, m, q = 0.02, 0.9, 0.8
    C = 0.7 if T == 0 else (1 - q) / T
    q_eff = 1.0 if T == 0 else q
    v = float(RS.xi(q_eff, alpha, P, si, 1))
    f_rs = float(RS.free_energy(jnp.array([m, C, v]), alpha, T, P, si))
    for mu in (0.7, 3.0):
        if T > 0 and mu * T > 1:
            continue
        f1 = float(R1.free_energy(jnp.array([m, q_eff, C, mu]), alpha, T, P, si))
        assert f1 == pytest.approx(f_rs, abs=1e-11)


def test_inner_average_closed_form_at_zero_temperature():
    """(1/mu) ln E exp(mu |a + s z|): the T = 0 closed form equals direct quadrature, and the T > 0
    Gauss-Hermite version approaches it as T -> 0."""
    for a, s, mu in [(0.3, 0.5, 2.0), (-0.1, 0.2, 7.0), (1.2, 0.8, 0.5)]:
        ref = np.log(quad(lambda z: norm.pdf(z) * np.exp(mu * abs(a + s * z)), -15, 15, points=[-a / s],
                          epsabs=1e-14, limit=200)[0]) / mu
        A, S, M = (jnp.asarray(v, float) for v in (a, s, mu))
        t0 = float(R1._inner_log_mean_exp(A, S, M, jnp.asarray(0.0), 96))
        assert t0 == pytest.approx(ref, abs=1e-12)
        tsmall = float(R1._inner_log_mean_exp(A, S, M, jnp.asarray(1e-3 * s + 0.05 * s), 96))
        assert abs(tsmall - t0) < 0.05 * s


def test_top_bracket_is_the_exact_polynomial():
    P, si, alpha, C, T = 4, True, 0.3, 0.8, 0.2
    q1 = 1 - C * T
    xi = lambda q, d=0: float(RS.xi(q, alpha, P, si, d))  # noqa: E731
    direct = (xi(1) - xi(q1) - (1 - q1) * xi(q1, 1)) / T
    assert float(R1._top_bracket_over_T(C, T, alpha, P, si)) == pytest.approx(direct, rel=1e-12)
    assert float(R1._top_bracket_over_T(C, 0.0, alpha, P, si)) == 0.0
