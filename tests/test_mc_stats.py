"""montecarlo.stats: the Stats record and its estimators against closed forms (NumPy only, fast)."""
import math

import numpy as np
import pytest

from densehebb.montecarlo import Stats, statistics
from densehebb.montecarlo.stats import acf_from_sums, autocorrelation, estimate, tau_int


def ar1(phi, n, seed, n_series=1):
    """x_t = phi x_{t-1} + e_t, stationary start, unit innovations: var x = 1 / (1 - phi^2)."""
    rng = np.random.default_rng(seed)
    e = rng.normal(size=(n_series, n))
    x = np.empty_like(e)
    x[:, 0] = e[:, 0] / math.sqrt(1 - phi**2)
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    return x


@pytest.mark.parametrize("phi", [0.5, 0.8])
def test_tau_int_of_ar1_matches_closed_form(phi):
    """Sokal's tau_int = 1/2 + sum_k phi^k, i.e. 2 tau_int = (1 + phi) / (1 - phi); the error of the mean is
    sqrt(var (1 + phi) / ((1 - phi) n))."""
    n = 200_000
    x = ar1(phi, n, seed=1)[0]
    s = statistics(x)
    exact = (1 + phi) / (1 - phi)
    assert 2 * s.tau_int == pytest.approx(exact, rel=0.06)
    var = 1 / (1 - phi**2)
    assert s.error == pytest.approx(math.sqrt(var * exact / n), rel=0.05)
    assert abs(s.mean) < 4 * s.error and s.method == "autocorrelation"
    # the normalised autocorrelation itself: rho(k) = phi^k
    rho = autocorrelation(x, 5)
    np.testing.assert_allclose(rho, phi ** np.arange(6), atol=0.01)


def test_error_of_iid_data_and_of_the_mean_over_series():
    rng = np.random.default_rng(2)
    x = rng.normal(3.0, 2.0, 50_000)
    s = statistics(x)
    assert s.tau_int == pytest.approx(0.5, abs=0.03)
    assert s.error == pytest.approx(2.0 / math.sqrt(x.size), rel=0.05)
    assert abs(s.mean - 3.0) < 4 * s.error
    # the error is honest: over many correlated series, the spread of the means matches the mean error
    xs = ar1(0.7, 2000, seed=3, n_series=200)
    stats = [statistics(v) for v in xs]
    spread = np.std([st.mean for st in stats], ddof=1)
    assert np.mean([st.error for st in stats]) == pytest.approx(spread, rel=0.15)


def test_estimate_from_independent_units_blocking_and_degenerate_cases():
    v = np.array([1.0, 2.0, 4.0])
    s = estimate(v)
    assert (s.mean, s.method) == (pytest.approx(7 / 3), "independent")
    assert s.error == pytest.approx(v.std(ddof=1) / math.sqrt(3)) and math.isnan(s.tau_int)
    blocks = np.array([[0.9, 1.1, 1.0, 1.2]])
    b = estimate([1.05], blocks)
    assert b.method == "blocking" and b.error == pytest.approx(blocks.std(ddof=1) / 2)
    assert estimate([1.0], [[1.0]]).method == "none" and math.isnan(estimate([1.0]).error)
    u = estimate([np.nan, np.nan])
    assert u.method == "unavailable" and math.isnan(u.mean)
    c = statistics(np.ones(10))
    assert c.error == 0.0 and math.isnan(c.tau_int)


def test_stats_record():
    s = Stats(0.5, 0.01, 2.0, "samples")
    assert s.to_dict("m") == {"m": 0.5, "m_err": 0.01}
    assert s.mean == s[0] and "tau_int=2" in repr(s)
    assert math.isnan(Stats(1.0).error) and math.isnan(Stats(1.0).tau_int)


def test_sokal_window():
    rho = 0.6 ** np.arange(60)
    tau, W, ok = tau_int(rho)
    assert ok and W >= 6 * tau and W < 6 * tau + 1
    assert tau == pytest.approx(0.5 + sum(0.6 ** k for k in range(1, W + 1)), rel=1e-12)   # cut at the window
    assert tau == pytest.approx(0.5 + 0.6 / 0.4, rel=0.01)
    tau, W, ok = tau_int(np.ones(5))           # never closes within the lags: flagged
    assert not ok and W == 4
    assert tau_int(np.array([1.0, 0.5, np.nan]))[2] is False


def test_on_the_fly_sums_give_the_direct_autocovariance():
    """The engine keeps first L values, the last L (ring), lagged products and squares; acf_from_sums must
    turn them into exactly the autocovariance of the series."""
    x = ar1(0.6, 57, seed=4)[0]
    n, L = x.size, 8
    a = dict(first=x[:L].copy(), ring=np.zeros(L), lag=np.zeros(L), sq=np.sum(x * x))
    for j in range(n):
        a["ring"][j % L] = x[j]
    for k in range(1, L + 1):
        a["lag"][k - 1] = np.sum(x[k:] * x[:-k])
    C = acf_from_sums(a, np.asarray(x.sum()), n, L)
    direct = [x.var()] + [np.mean(x[k:] * x[:-k]) - x[k:].mean() * x[:-k].mean() for k in range(1, L + 1)]
    np.testing.assert_allclose(C, direct, rtol=0, atol=1e-12)
