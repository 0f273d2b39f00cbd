"""A straightforward SciPy solver of the RS retrieval equations: the baseline of ``densehebb bench --theory``.

Deliberately plain, as a user would write it from the paper: the equations in the order parameters
(m, q) (and the AGS noise parameter r for P = 2), every Gaussian average by adaptive quadrature
(``scipy.integrate.quad`` on the real line, with the kink of the integrand as a break point), and
``scipy.optimize.fsolve`` from the same initial guess the JAX solver uses.  T > 0 only (at T = 0 the
thermal averages become step functions).  It shares no code with :mod:`theory.dense_rs` (whose free energy,
autodiff equations and quadrature rules it checks), only the noise covariance polynomial xi(q).

    P = 2 (AGS):  m = E tanh(beta (m + sqrt(alpha r) z)),  q = E tanh^2(...),  r = q / (1 - beta (1 - q))^2
    P >= 3:       m = E tanh(beta (h(m) + sqrt(xi'(q)) z)), q = E tanh^2(...),  h(m) = m^(P-1) / (P-1)!
"""
from __future__ import annotations

import math

import numpy as np
from scipy.integrate import quad
from scipy.optimize import fsolve

from .covariance import noise_coefficients
from .model import Model


def _xi_prime(q, alpha, P, self_interaction):
    a = np.polynomial.Polynomial(noise_coefficients(P, self_interaction)).deriv()
    return alpha * float(a(q))


def _gauss(fun, center):
    """E_z fun(z), z ~ N(0, 1), by adaptive quadrature split at ``center`` (where the integrand bends)."""
    w = lambda z: fun(z) * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)  # noqa: E731
    c = float(np.clip(center, -30, 30))
    lo = quad(w, -np.inf, c, epsabs=1e-13, epsrel=1e-12, limit=200)[0]
    hi = quad(w, c, np.inf, epsabs=1e-13, epsrel=1e-12, limit=200)[0]
    return lo + hi


def _averages(h, s, beta):
    """(E tanh, E tanh^2) of beta (h + s z)."""
    center = -h / s if s > 0 else 0.0
    t1 = _gauss(lambda z: math.tanh(beta * (h + s * z)), center)
    t2 = _gauss(lambda z: math.tanh(beta * (h + s * z)) ** 2, center)
    return t1, t2


def equations(y, spec: Model, alpha, T):
    """Residuals of the RS retrieval equations in (m, q[, r])."""
    beta = 1.0 / T
    P = spec.P
    if P == 2:
        m, q, r = y
        v = alpha * max(r, 0.0)
        em, eq = _averages(m, math.sqrt(v), beta)
        return [m - em, q - eq, r - q / (1.0 - beta * (1.0 - q)) ** 2]
    m, q = y
    h = m ** (P - 1) / math.factorial(P - 1)
    v = _xi_prime(min(max(q, 0.0), 1.0), alpha, P, spec.self_interaction)
    em, eq = _averages(h, math.sqrt(max(v, 0.0)), beta)
    return [m - em, q - eq]


def solve_point(spec: Model, alpha: float, T: float, guess):
    """fsolve from ``guess`` (m, q[, r]); returns (m, q, converged).  Converged: the residual of the
    equations at the returned point is below 1e-10 (fsolve's own flag also reports "no good progress" when
    the equations are already solved to round-off but the step test xtol = 1e-13 is not met)."""
    y, info, _, _ = fsolve(equations, guess, args=(spec, alpha, T), xtol=1e-13, full_output=True)
    res = float(np.max(np.abs(info["fvec"])))
    ok = bool(np.isfinite(res) and res < 1e-10)
    return float(y[0]), float(y[1]), bool(ok)


def initial_guess(spec: Model, alpha: float, T: float):
    """The JAX solver's retrieval guess (m = 1, C = min(beta/10, 0.05)) in the reference's variables."""
    C = min(0.1 / T, 0.05)
    q = 1.0 - C * T
    return [1.0, q, q / (1.0 - C) ** 2] if spec.P == 2 else [1.0, q]
