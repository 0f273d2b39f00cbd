r"""Reference spin glasses for the hard/soft decomposition of the Hebbian free energies (issue 3, item 6).

Standalone NumPy/SciPy code: it calls neither ``dense_rs`` nor ``dense_rsb1`` (tests compare them), and does its
own Gaussian averages (composite Gauss-Legendre rules with geometrically graded panels around the kink of
the integrand, exact at T = 0 where closed forms are used).

1. Hard reference: the Ising mixed p-spin glass
----------------------------------------------
N Ising spins s_i, a centred Gaussian Hamiltonian H_J(s) with E H_J(s) H_J(s') = N xi(s.s'/N),
xi(q) = sum_k c_k q^k (``Covariance``; ``sk()`` = q^2/2 is Sherrington-Kirkpatrick with J = 1,
``pspin(p)`` = q^p/2 the pure Ising p-spin), in an external field h and optionally a Mattis
(ferromagnetic, p_f-body) term -N J0 m^{p_f}/p_f!, m = (1/N) sum_i s_i:

    H(s) = H_J(s) - h sum_i s_i - N J0 m^{p_f} / p_f! .

RS (variational form, the field variance v is a free variable whose stationary value is xi'(q)):

    -beta f_RS = -beta U(m) + ln 2 + E_z ln cosh beta(h_eff + sqrt(v) z)
                 + (beta^2/2) [xi(1) - xi(q)] - (beta^2/2) v (1 - q),

    h_eff = h + J0 m^{p_f-1}/(p_f-1)!,   U(m) = J0 (p_f - 1) m^{p_f} / p_f!     (U = 0 without Mattis term);

at v = xi'(q) the last two terms are (beta^2/2)[xi(1) - xi(q) - (1-q) xi'(q)].  At T = 0, q = 1 and
f = U - E|h_eff + sqrt(xi'(1)) z| (SK: -sqrt(2/pi)).  Energy and entropy at the saddle point:
u = -h m - J0 m^{p_f}/p_f! - beta [xi(1) - xi(q)] (from d(beta f)/d beta and Stein's lemma), s = beta (u - f).

1RSB (Parisi), overlaps q0 <= q1, Parisi parameter x in (0, 1], field variances v0 <= v1 (stationary at
v = xi'(q)):

    -beta f_1RSB = -beta U(m) + ln 2 + (1/x) E_z0 ln E_z1 cosh^x beta(h_eff + sqrt(v0) z0 + sqrt(v1 - v0) z1)
                   + (beta^2/2) [xi(1) - (1 - x) xi(q1) - x xi(q0)]
                   - (beta^2/2) [v1 (1 - q1) + x (v1 q1 - v0 q0)] .

T = 0 (x -> 0 with mu = beta x fixed, q1 -> 1): f = U + (mu/2)[v1 - xi(1) - v0 q0 + xi(q0)]
- (1/mu) E_z0 ln E_z1 exp(mu |h_eff + sqrt(v0) z0 + sqrt(v1 - v0) z1|)  (closed-form inner average).

2. Soft reference: Gaussian spins coupled to the Ising spins through Hebbian couplings
-----------------------------------------------------------------------------------
The Hopfield model (P = 2, all tuples) is exactly a bipartite system (Barra-Genovese-Guerra):
K = alpha N Gaussian ("soft") units tau_mu ~ N(0, 1) coupled to the Ising ("hard") units,

    Z = sum_sigma int prod_mu Dtau_mu exp( sqrt(beta/N) sum_{i,mu} xi_i^mu sigma_i tau_mu ),

whose tau-integral gives back exp((beta/2N) sum_mu (sum_i xi_i^mu sigma_i)^2) = exp(-beta H_all-tuples).
For a non-condensed pattern, with n replicas of sigma of overlap matrix Q (Q_aa = 1), the disorder average
over xi^mu of the tau-integral is int prod_a Dtau^a exp((beta/2) sum_ab Q_ab tau^a tau^b)
= det(1 - beta Q)^(-1/2): the replicated partition function of one soft spin in a Gaussian field of
replica covariance beta Q.  Per soft unit, (1/n) ln of it is

    RS:    A_soft(beta; q) = -(1/2) ln D + (beta q/2) / D,          D = 1 - beta (1 - q)
           (= E_z ln int Dtau exp(sqrt(beta q) z tau + beta (1 - q) tau^2 / 2): a unit-variance Gaussian
            spin coupled with strength sqrt(beta) to the random field sqrt(q) z, plus its Onsager self-term),
            free energy f_soft = -T A_soft;
    1RSB:  A_soft = -(1/2) [(1 - 1/x) ln D1 + (1/x) ln D0 - beta q0 / D0],
           D1 = 1 - beta (1 - q1),  D0 = D1 - beta x (q1 - q0)   (eigenvalues of 1 - beta Q),

defined where 1 - beta Q is positive definite (D0, D1 > 0).  Expanding -(1/2) ln det(1 - beta Q)
= sum_k beta^k tr(Q^k) / (2k): k = 1 is the diagonal constant beta/2, k = 2 is (beta^2/4) sum_ab Q_ab^2, i.e.
exactly the replicated SK (hard) term with xi(q) = q^2/2; the soft spin glass proper is k >= 3:

    A_soft(beta; q) = beta/2 + beta^2 (1 - q^2)/4 + A_beyond(beta; q),
    A_beyond = sum_{k>=3} beta^k [(1-q)^k + k q (1-q)^(k-1)] / (2k)        (``soft_rs_beyond_gaussian``).

3. The decomposition (what the tests check)
-------------------------------------------
(a) P = 2, RS.  With q = 1 - C T and the AGS noise variance v = alpha r (any m, q, v; at the AGS saddle point
    v = alpha q / D^2), the free energy of ``dense_rs`` is

        f_AGS = c_conv + alpha/2 + m^2/2 + f_hard + alpha f_soft,

        f_hard = hard_rs(T, q, xi = 0, h = m, v = alpha r)
               = -T ln 2 - T E ln cosh beta(m + sqrt(alpha r) z) + (alpha beta/2) r (1 - q),
        f_soft = soft_rs(T, q) = -T A_soft(beta; q),

    c_conv = 0 (distinct indices; then alpha/2 is the removed diagonal) or -alpha/2 (all tuples: the
    bipartite identity is exact, no constant).  The Mattis term is m^2/2 (U(m) with P = 2), the hard part
    is an Ising spin in the random field m + sqrt(alpha r) z at temperature T (variance alpha r, with r
    itself fixed by the soft part: r = q / (1 - beta(1-q))^2), the soft part is alpha soft units per neuron,
    coupled with strength sqrt(beta) to a field of variance q (the Ising overlap), defined for beta(1-q) < 1.  Equivalently (same identity regrouped, k = 2 moved to
    the hard side): f_AGS = c_conv + m^2/2 + hard_rs(T, q, xi = alpha q^2/2, h = m, v = alpha r)
    - alpha T A_beyond(beta; q): the SK part with xi = alpha q^2/2 plus a non-vanishing soft remainder.
(b) P = 2, 1RSB: f of ``dense_rsb1`` (P = 2) = c_conv + alpha/2 + m^2/2
        + hard_1rsb(T, q0, q1, x, xi = 0, h = m, v0 = alpha r0, v1 = alpha r1) + alpha soft_1rsb(T, q0, q1, x),
    with the AGS 1RSB variances r0 = q0 / D0^2, r1 = r0 + (1/(beta x)) (1/D0 - 1/D1).
(c) P >= 3 (both conventions): with xi_P = alpha x the noise covariance of theory.covariance and the
    Mattis term U(m) = (P-1) m^P / P! (p_f = P, J0 = 1):
        f_RS(dense_rs)     = hard_rs(T, q, xi_P, h = 0, m, mattis = (P, 1), v)              (no soft part),
        f_1RSB(dense_rsb1) = hard_1rsb(T, q0, q1, x, xi_P, h = 0, m, mattis = (P, 1))       (v = xi_P').
    The soft part of a P-body pattern is O(N^(1 - P/2)) (only the second cumulant of its O(N^(1-P/2))
    energy is extensive), whereas for P = 2 every tr(Q^k) is O(1) per pattern: A_beyond != 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize
from scipy.special import log_ndtr, logsumexp

LN2 = math.log(2.0)
_L = 14.0            # Gaussian integrals on |z| <= 14 (the tilted inner integrands of 1RSB need the room)
_NODES = 40          # Gauss-Legendre nodes per panel
_GROWTH = 4.0        # panel widths grow geometrically away from the kink: d, 4d, 16d, ...
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_FIXED_EDGES = np.array([-_L, -8.0, -4.0, -2.0, 0.0, 2.0, 4.0, 8.0, _L])


# --------------------------------------------------------------------------------------------------
# covariances
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Covariance:
    """xi(q) = sum_k coeffs[k] q^k (E H(s) H(s') = N xi(q))."""
    coeffs: tuple

    def __call__(self, q, d: int = 0):
        c = np.polynomial.Polynomial(np.asarray(self.coeffs, float))
        if d:
            c = c.deriv(d)
        return c(np.asarray(q, float)) if np.ndim(q) else float(c(float(q)))

    def scaled(self, a: float) -> "Covariance":
        return Covariance(tuple(a * float(c) for c in self.coeffs))


def sk(J: float = 1.0) -> Covariance:
    """Sherrington-Kirkpatrick, couplings of variance J^2/N: xi(q) = J^2 q^2 / 2."""
    return Covariance((0.0, 0.0, 0.5 * J * J))


def pspin(p: int, J: float = 1.0) -> Covariance:
    """Pure Ising p-spin, E H H' = N J^2 q^p / 2 (couplings of variance J^2 p! / (2 N^(p-1)))."""
    c = [0.0] * (p + 1)
    c[p] = 0.5 * J * J
    return Covariance(tuple(c))


def mixed(coeffs) -> Covariance:
    return Covariance(tuple(float(c) for c in coeffs))


ZERO = Covariance((0.0,))


# --------------------------------------------------------------------------------------------------
# Gaussian averages
# --------------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _legendre(n):
    return np.polynomial.legendre.leggauss(int(n))


def _rule(c, d, n=_NODES, L=_L):
    """Nodes/weights (N(0,1) density included) on [-L, L] for integrands with a kink or boundary layer at
    z = c of width d: panel edges at c, c +- d G^k (k = 0..K) and at 0, +-2, +-4, +-8, +-L, clipped to [-L, L].  c, d: arrays of shape S;
    returns arrays of shape S + (M,)."""
    c = np.clip(np.asarray(c, float), -L, L)
    d = np.clip(np.asarray(d, float), 1e-13, 2 * L)
    c, d = np.broadcast_arrays(c, d)
    K = int(math.ceil(math.log(2 * L / float(np.min(d))) / math.log(_GROWTH))) + 1
    steps = d[..., None] * _GROWTH ** np.arange(K)
    fixed = np.broadcast_to(_FIXED_EDGES, c.shape + (len(_FIXED_EDGES),))  # the Gaussian's own scale
    edges = np.concatenate([fixed, c[..., None] - steps, c[..., None], c[..., None] + steps], axis=-1)
    edges = np.sort(np.clip(edges, -L, L), axis=-1)
    t, w = _legendre(n)
    lo, hi = edges[..., :-1, None], edges[..., 1:, None]
    half = 0.5 * (hi - lo)
    z = 0.5 * (hi + lo) + half * t
    wz = half * w * _INV_SQRT_2PI * np.exp(-0.5 * z * z)
    return z.reshape(c.shape + (-1,)), wz.reshape(c.shape + (-1,))


def _ln2cosh(y):
    a = np.abs(y)
    return a + np.log1p(np.exp(-2.0 * a))


def _abs_avg(h, s):
    """E|h + s z| in closed form."""
    if s <= 0:
        return abs(h)
    u = h / s
    return h * math.erf(u / math.sqrt(2.0)) + 2.0 * s * _INV_SQRT_2PI * math.exp(-0.5 * u * u)


def ln2cosh_avg(h, v, T):
    """E_z[T ln 2cosh((h + sqrt(v) z)/T)] (T = 0: E|h + sqrt(v) z|)."""
    s = math.sqrt(max(v, 0.0))
    if T == 0:
        return _abs_avg(h, s)
    if s == 0:
        return T * float(_ln2cosh(h / T))
    z, w = _rule(-h / s, T / s)
    return float(np.sum(w * T * _ln2cosh((h + s * z) / T)))


def _moments_rs(h, v, T):
    """(E tanh, E tanh^2) of beta(h + sqrt(v) z), T > 0."""
    s = math.sqrt(max(v, 0.0))
    if s == 0:
        t = math.tanh(h / T)
        return t, t * t
    z, w = _rule(-h / s, T / s)
    t = np.tanh((h + s * z) / T)
    return float(np.sum(w * t)), float(np.sum(w * t * t))


# --------------------------------------------------------------------------------------------------
# hard reference: RS
# --------------------------------------------------------------------------------------------------
def _mattis(m, mattis):
    """(U(m), field J0 m^(pf-1)/(pf-1)!, energy -J0 m^pf/pf!) of the Mattis term, or zeros."""
    if mattis is None or m is None:
        return 0.0, 0.0, 0.0
    pf, J0 = mattis
    e = -J0 * m ** pf / math.factorial(pf)
    return J0 * (pf - 1) * m ** pf / math.factorial(pf), J0 * m ** (pf - 1) / math.factorial(pf - 1), e


def hard_rs(T, q, xi: Covariance, h=0.0, m=None, mattis=None, v=None):
    """RS free energy per spin of the Ising mixed p-spin glass (module docstring, section 1).

    ``v`` (field variance) defaults to its stationary value xi'(q); ``m`` and ``mattis = (p_f, J0)`` add the
    Mattis term.  T = 0: q is taken as 1 and f = U - E|h_eff + sqrt(v) z|."""
    U, hm, _ = _mattis(m, mattis)
    if T == 0:
        v = xi(1.0, 1) if v is None else v
        return U - _abs_avg(h + hm, math.sqrt(max(v, 0.0)))
    v = xi(q, 1) if v is None else v
    beta = 1.0 / T
    minus_bf = (-beta * U + beta * ln2cosh_avg(h + hm, v, T)
                + 0.5 * beta ** 2 * (xi(1.0) - xi(q)) - 0.5 * beta ** 2 * v * (1.0 - q))
    return -T * minus_bf


def solve_hard_rs(T, xi: Covariance, h=0.0, mattis=None, q_init=0.9, m_init=1.0, tol=1e-14, maxiter=100000):
    """RS saddle point (q = E tanh^2, m = E tanh with v = xi'(q)) by damped iteration from (q_init, m_init).

    Returns dict(q, m, f, u, s) (u energy, s = beta(u - f) entropy per spin).  T = 0: q = 1."""
    q = 1.0 if T == 0 else q_init
    m = m_init if mattis is not None else None
    for _ in range(maxiter):
        hm = _mattis(m, mattis)[1]
        if T == 0:
            s = math.sqrt(xi(1.0, 1))
            m_new = math.erf((h + hm) / (math.sqrt(2) * s)) if s > 0 else math.copysign(1.0, h + hm)
            q_new = 1.0
        else:
            m_new, q_new = _moments_rs(h + hm, xi(q, 1), T)
        dq = abs(q_new - q) + (abs(m_new - m) if m is not None else 0.0)
        q = 0.5 * (q + q_new)
        if m is not None:
            m = 0.5 * (m + m_new)
        if dq < tol:
            break
    f = hard_rs(T, q, xi, h, m, mattis)
    mm = m if m is not None else _moments_rs(h, xi(q, 1), T)[0] if T > 0 else None
    _, hm, e_m = _mattis(m, mattis)
    if T == 0:
        return dict(q=1.0, m=mm, f=f, u=f, s=0.0)
    u = -h * (mm if mm is not None else 0.0) + e_m - (xi(1.0) - xi(q)) / T
    return dict(q=q, m=mm, f=f, u=u, s=(u - f) / T)


# --------------------------------------------------------------------------------------------------
# hard reference: 1RSB
# --------------------------------------------------------------------------------------------------
def _inner_1rsb(a, s1, x, T):
    """(1/x) ln E_z1 [2cosh((a + s1 z1)/T)]^x for an array a (T > 0)."""
    if s1 == 0:
        return _ln2cosh(a / T)
    z, w = _rule(-a / s1, T / s1)
    y = (a[..., None] + s1 * z) / T
    return logsumexp(x * _ln2cosh(y), b=w, axis=-1) / x


def _inner_1rsb_T0(a, s1, mu):
    """(1/mu) ln E_z1 exp(mu |a + s1 z1|) in closed form."""
    if s1 == 0:
        return np.abs(a)
    t = 0.5 * (mu * s1) ** 2 + np.logaddexp(mu * a + log_ndtr((a + mu * s1 * s1) / s1),
                                              -mu * a + log_ndtr((mu * s1 * s1 - a) / s1))
    return t / mu


def _outer(fun, hh, s0, s1, T):
    """E_z0 fun(hh + s0 z0) with a rule split at the kink of fun (width ~ max(s1, T))."""
    if s0 == 0:
        return float(fun(np.array([hh]))[0])
    z, w = _rule(-hh / s0, max(T, 1e-3 * s1, 1e-12) / s0)
    return float(np.sum(w * fun(hh + s0 * z)))


def hard_1rsb(T, q0, q1, x, xi: Covariance, h=0.0, m=None, mattis=None, v0=None, v1=None):
    """1RSB (Parisi) free energy per spin of the Ising mixed p-spin glass (module docstring, section 1), T > 0,
    0 <= q0 <= q1 <= 1, 0 < x <= 1; v0, v1 default to xi'(q0), xi'(q1)."""
    U, hm, _ = _mattis(m, mattis)
    v0 = xi(q0, 1) if v0 is None else v0
    v1 = xi(q1, 1) if v1 is None else v1
    beta = 1.0 / T
    s0, s1 = math.sqrt(max(v0, 0.0)), math.sqrt(max(v1 - v0, 0.0))
    G = _outer(lambda a: _inner_1rsb(a, s1, x, T), h + hm, s0, s1, T)   # (1/x) E ln E (2cosh)^x
    minus_bf = (-beta * U + G
                + 0.5 * beta ** 2 * (xi(1.0) - (1 - x) * xi(q1) - x * xi(q0))
                - 0.5 * beta ** 2 * (v1 * (1 - q1) + x * (v1 * q1 - v0 * q0)))
    return -T * minus_bf


def hard_1rsb_T0(q0, mu, xi: Covariance, h=0.0, m=None, mattis=None, v0=None, v1=None):
    """T = 0 limit of ``hard_1rsb`` (q1 = 1, x -> 0 with mu = beta x fixed)."""
    U, hm, _ = _mattis(m, mattis)
    v0 = xi(q0, 1) if v0 is None else v0
    v1 = xi(1.0, 1) if v1 is None else v1
    s0, s1 = math.sqrt(max(v0, 0.0)), math.sqrt(max(v1 - v0, 0.0))
    G = _outer(lambda a: _inner_1rsb_T0(a, s1, mu), h + hm, s0, s1, 0.0)
    return U + 0.5 * mu * (v1 - xi(1.0) - v0 * q0 + xi(q0)) - G


def solve_sk_1rsb_T0(xi: Covariance = None, h=0.0, start=(0.5, 1.3)):
    """Stationary point of the T = 0 1RSB functional in (q0, mu) (a maximum for SK): dict(q0, mu, e)."""
    xi = sk() if xi is None else xi
    fun = lambda p: -hard_1rsb_T0(p[0], p[1], xi, h)  # noqa: E731
    res = optimize.minimize(fun, np.array(start, float), method="Nelder-Mead",
                            options=dict(xatol=1e-10, fatol=1e-15, maxiter=4000))
    return dict(q0=float(res.x[0]), mu=float(res.x[1]), e=-float(res.fun), success=bool(res.success))


# --- pure p-spin (h = 0, q0 = 0): static and dynamical 1RSB temperatures ---------------------------
def _x1_q1_map(q1, T, xi):
    """x = 1, q0 = 0: q1 -> E_z tanh^2(beta^2 xi'(q1) + beta sqrt(xi'(q1)) z) (the cosh-reweighted average)."""
    beta = 1.0 / T
    a = beta * math.sqrt(xi(q1, 1))
    z, w = _rule(-a, 1.0)
    return float(np.sum(w * np.tanh(a * a + a * z) ** 2))


def _q1_x1(T, xi, lo=1e-6):
    """Largest solution q1 in (0, 1) of q1 = map(q1) at x = 1 (None if only q1 = 0)."""
    g = lambda q: q - _x1_q1_map(q, T, xi)  # noqa: E731
    grid = np.linspace(1.0 - 1e-12, lo, 40)
    vals = [g(q) for q in grid]
    for i in range(len(grid) - 1):
        if vals[i] > 0 >= vals[i + 1] or (vals[i] >= 0 > vals[i + 1]):
            return optimize.brentq(g, grid[i + 1], grid[i], xtol=1e-15)
    return None


def _dfdx_x1(T, q1, xi):
    """d(-beta f_1RSB)/dx at x = 1, q0 = 0, h = 0, v = xi'(q) (the complexity at x = 1, up to sign)."""
    beta = 1.0 / T
    a = beta * math.sqrt(xi(q1, 1))
    z, w = _rule(0.0, 1.0)
    lc = _ln2cosh(a * z)
    # d/dx (1/x) ln E (2cosh)^x at x = 1: -ln E 2cosh + E[2cosh ln 2cosh]/E 2cosh;  E 2cosh(a z) = 2 e^{a^2/2}
    E1 = np.sum(w * np.exp(lc))
    d = -math.log(E1) + float(np.sum(w * np.exp(lc) * lc)) / E1
    return d + 0.5 * beta ** 2 * (xi(q1) - q1 * xi(q1, 1))


def pspin_transitions(xi: Covariance):
    """(T_s, T_d) of a mixed p-spin glass without field, 1RSB with q0 = 0: T_d is the highest T where the x = 1
    equation for q1 has a non-zero solution, T_s the T where additionally the x-derivative vanishes
    (x = 1 condition, zero complexity)."""
    # T_d: maximise over q1 the temperature at which q1 solves the x = 1 equation
    def T_of_q1(q1):
        g = lambda T: q1 - _x1_q1_map(q1, T, xi)  # noqa: E731
        return optimize.brentq(g, 0.05, 5.0, xtol=1e-14)
    res = optimize.minimize_scalar(lambda q: -T_of_q1(q), bounds=(0.05, 0.999), method="bounded",
                                   options=dict(xatol=1e-10))
    T_d = -float(res.fun)
    # T_s: on the q1(T) branch, d(-beta f)/dx = 0
    g = lambda T: _dfdx_x1(T, _q1_x1(T, xi), xi)  # noqa: E731
    Ts = np.linspace(T_d * 0.999, 0.5 * T_d, 12)
    vals = [g(T) for T in Ts]
    for i in range(len(Ts) - 1):
        if np.sign(vals[i]) != np.sign(vals[i + 1]):
            T_s = optimize.brentq(g, Ts[i + 1], Ts[i], xtol=1e-13)
            break
    else:
        T_s = float("nan")
    return float(T_s), T_d


# --------------------------------------------------------------------------------------------------
# soft reference (Gaussian spins)
# --------------------------------------------------------------------------------------------------
def soft_rs_logz(T, q=None, C=None):
    """A_soft = (1/n) ln det(1 - beta Q)^(-1/2) per soft unit, RS (module docstring, section 2), T > 0
    (C = beta(1 - q) may be given instead of q)."""
    beta = 1.0 / T
    C = beta * (1.0 - q) if C is None else C
    q = 1.0 - C * T if q is None else q
    D = 1.0 - C
    if D <= 0:
        return float("nan")
    return -0.5 * math.log(D) + 0.5 * beta * q / D


def soft_rs(T, q=None, C=None):
    """Free energy per soft unit, RS: -T A_soft.  Finite at T = 0 in the C form: -q/(2(1-C)) with q = 1."""
    if T == 0:
        return -0.5 / (1.0 - C) if C < 1 else float("nan")
    return -T * soft_rs_logz(T, q, C)


def soft_rs_beyond_gaussian(T, q):
    """A_beyond = A_soft - beta/2 - beta^2 (1 - q^2)/4: the k >= 3 terms of -(1/2) ln det(1 - beta Q)."""
    beta = 1.0 / T
    return soft_rs_logz(T, q) - 0.5 * beta - 0.25 * beta ** 2 * (1.0 - q * q)


def soft_1rsb_logz(T, q0, q1, x):
    """A_soft, 1RSB: -(1/2)[(1 - 1/x) ln D1 + (1/x) ln D0 - beta q0/D0]."""
    beta = 1.0 / T
    D1 = 1.0 - beta * (1.0 - q1)
    D0 = D1 - beta * x * (q1 - q0)
    if D1 <= 0 or D0 <= 0:
        return float("nan")
    return -0.5 * ((1.0 - 1.0 / x) * math.log(D1) + math.log(D0) / x - beta * q0 / D0)


def soft_1rsb(T, q0, q1, x):
    return -T * soft_1rsb_logz(T, q0, q1, x)


# --------------------------------------------------------------------------------------------------
# decompositions of the Hebbian free energies
# --------------------------------------------------------------------------------------------------
def hopfield_rs_decomposition(m, q, v, alpha, T, self_interaction=False):
    """P = 2, RS (section 3a): parts of f_AGS at (m, q, v = alpha r).  Returns a dict with 'mattis',
    'hard' (Ising spins in the random field m + sqrt(v) z with reaction term), 'soft' (alpha f_soft),
    'constant' (c_conv + alpha/2) and 'total'; also 'hard_sk' (hard part with xi = alpha q^2/2) and
    'soft_beyond' (-alpha T A_beyond), an equivalent regrouping: total = c_conv + mattis + hard_sk + soft_beyond."""
    mattis = 0.5 * m * m
    hard = hard_rs(T, q, ZERO, h=m, v=v)
    soft = alpha * soft_rs(T, q)
    const = (-0.5 * alpha if self_interaction else 0.0) + 0.5 * alpha
    hard_sk = hard_rs(T, q, Covariance((0.0, 0.0, 0.5 * alpha)), h=m, v=v)
    soft_beyond = -alpha * T * soft_rs_beyond_gaussian(T, q)
    return dict(mattis=mattis, hard=hard, soft=soft, constant=const, total=const + mattis + hard + soft,
                hard_sk=hard_sk, soft_beyond=soft_beyond)


def ags_1rsb_variances(q0, q1, x, alpha, T):
    """(v0, v1) = alpha (r0, r1): r0 = q0/D0^2, r1 = r0 + (1/(beta x))(1/D0 - 1/D1)."""
    beta = 1.0 / T
    D1 = 1.0 - beta * (1.0 - q1)
    D0 = D1 - beta * x * (q1 - q0)
    r0 = q0 / D0 ** 2
    r1 = r0 + (1.0 / D0 - 1.0 / D1) / (beta * x)
    return alpha * r0, alpha * r1


def hopfield_1rsb_decomposition(m, q0, q1, x, alpha, T, self_interaction=False):
    """P = 2, 1RSB (section 3b): parts of the 1RSB AGS free energy at (m, q0, q1, x), T > 0."""
    v0, v1 = ags_1rsb_variances(q0, q1, x, alpha, T)
    mattis = 0.5 * m * m
    hard = hard_1rsb(T, q0, q1, x, ZERO, h=m, v0=v0, v1=v1)
    soft = alpha * soft_1rsb(T, q0, q1, x)
    const = (-0.5 * alpha if self_interaction else 0.0) + 0.5 * alpha
    return dict(mattis=mattis, hard=hard, soft=soft, constant=const, total=const + mattis + hard + soft)


def dense_hard_rs(m, q, v, alpha, T, xi_unit: Covariance, P):
    """P >= 3 (section 3c): the hard reference with xi = alpha xi_unit and the Mattis term (P, 1)."""
    return hard_rs(T, q, xi_unit.scaled(alpha), h=0.0, m=m, mattis=(P, 1.0), v=v)


def dense_hard_1rsb(m, q0, q1, x, alpha, T, xi_unit: Covariance, P):
    return hard_1rsb(T, q0, q1, x, xi_unit.scaled(alpha), h=0.0, m=m, mattis=(P, 1.0))
