"""RS theory of dense Hebbian networks learning from examples (supervised / unsupervised).

Independent NumPy/SciPy implementation of the formulas in derivation.md (no densehebb code used).

Conventions: gauge sigma_i -> xi_i sigma_i for the condensed class, so eta^a_i -> chi^a_i and
xibar_i -> S_i/M.  s = S/(M r) (mean 1, variance rho).  Signal amplitude g = r^P / Norm.

Protocols: 'sup' (supervised), 'unsup' (unsupervised).  norm: 'r' (Norm = r^P) or 'R' (Norm = R^(P/2)).
conv: 'distinct' or 'all'.
"""
from __future__ import annotations

import math
import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.special import comb, erf

ZN, ZW = hermegauss(241)
ZW = ZW / ZW.sum()


# ---------------------------------------------------------------- disorder of one site
def binom_S(M, r):
    """Values S = sum_a chi^a (chi = +1 w.p. (1+r)/2) and their binomial weights."""
    k = np.arange(M + 1)                      # number of chi = -1
    S = M - 2 * k
    w = comb(M, k) * ((1 + r) / 2) ** (M - k) * ((1 - r) / 2) ** k
    return S.astype(float), w


def Rpar(M, r):
    return r * r + (1 - r * r) / M


def rho(M, r):
    return (1 - r * r) / (M * r * r)


def Norm(P, M, r, norm):
    return r ** P if norm == 'r' else Rpar(M, r) ** (P / 2)


def h(n, P):
    return n ** (P - 1) / math.factorial(P - 1)


# ---------------------------------------------------------------- noise covariance (high storage)
def storage_poly(P, conv):
    """Coefficients a_j of the r = 1 storage covariance xi(q)/alpha = sum_j a_j q^j."""
    a = np.zeros(P + 1)
    a[P] = 1 / math.factorial(P)
    if conv == 'all':
        for j in range(P - 2, 0, -2):
            k = (P - j) // 2
            a[j] = 1.0 / (math.factorial(j) * (math.factorial(k) * 2 ** k) ** 2)
    return a


def xi_poly(P, M, r, proto, norm, conv):
    """Coefficients (per unit alpha) of the noise covariance xi(q) of the non-condensed classes."""
    a = storage_poly(P, conv)
    Nm = Norm(P, M, r, norm)
    if proto == 'sup':
        return Rpar(M, r) ** P * a / Nm ** 2
    j = np.arange(P + 1)
    return (a + (M - 1) * r ** (2 * j) * a) / (M * Nm ** 2)


def polyval(c, q, d=0):
    p = np.polynomial.Polynomial(c)
    if d:
        p = p.deriv(d)
    return p(q)


# ---------------------------------------------------------------- generic site averages
def site_avg(fields, weights, v, beta, extra):
    """Average over site types (fields[t], weights[t]) and z of tanh(beta (field + sqrt(v) z)).

    Returns dict with E[tanh * extra_k], q = E tanh^2, E sech^2 (beta=inf handled)."""
    y = fields[:, None] + np.sqrt(v) * ZN[None, :]
    if np.isinf(beta):
        t = np.sign(y)
        if v > 0:   # exact: E_z sign(a + s z) = erf(a/(s sqrt2))
            t1 = erf(fields / np.sqrt(2 * v))
            out = {k: np.sum(weights * e * t1) for k, e in extra.items()}
            out['q'] = 1.0
            out['C'] = np.sum(weights * np.sqrt(2 / (np.pi * v)) * np.exp(-fields ** 2 / (2 * v)))
            return out
    else:
        t = np.tanh(beta * y)
    tz = t @ ZW
    out = {k: np.sum(weights * e * tz) for k, e in extra.items()}
    out['q'] = np.sum(weights * ((t * t) @ ZW))
    if not np.isinf(beta):
        out['C'] = beta * (1 - out['q'])
    return out


def site_logcosh(fields, weights, v, T):
    y = fields[:, None] + np.sqrt(v) * ZN[None, :]
    if T == 0:
        if v > 0:
            a, s = fields, np.sqrt(v)
            return np.sum(weights * (a * erf(a / (s * np.sqrt(2))) + s * np.sqrt(2 / np.pi) * np.exp(-a * a / (2 * v))))
        return np.sum(weights * np.abs(fields))
    lc = np.abs(y) + np.log1p(np.exp(-2 * np.abs(y) / T)) * T  # T ln 2cosh(y/T)
    return np.sum(weights * (lc @ ZW))


# ---------------------------------------------------------------- archetype state (sup, or unsup symmetric)
def s_dist(M, r, gaussian=False):
    """Values s = S/(M r) and weights; gaussian=True: CLT form s = 1 + sqrt(rho) z (Gauss-Hermite)."""
    if gaussian:
        zz, ww = hermegauss(201)
        return 1 + np.sqrt(rho(M, r)) * zz, ww / ww.sum()
    S, w = binom_S(M, r)
    return S / (M * r), w


def archetype_state(P, M, r, T, proto='sup', norm='r', conv='distinct', alpha=0.0, gaussian=False,
                    n0=None, sw=None, tol=1e-13, maxit=200000):
    """RS archetype (retrieval/learning) state, low storage (alpha=0) or high storage P>=3.

    sw: optional (s values, weights) to use instead (e.g. the empirical distribution of one sample).
    Returns dict n, m, q, v, f.  Iteration from n0 (default: the T = 0 value E|s|)."""
    s, w = sw if sw is not None else s_dist(M, r, gaussian)
    g = r ** P / Norm(P, M, r, norm)
    beta = np.inf if T == 0 else 1 / T
    c = alpha * xi_poly(P, M, r, proto, norm, conv) if alpha > 0 else np.zeros(P + 1)
    if alpha > 0 and P == 2:
        raise ValueError('P = 2 high storage: use ags_state')
    if gaussian and T == 0 and alpha == 0:   # closed form (CLT), low storage T = 0
        rh = rho(M, r)
        return dict(m=erf(1 / np.sqrt(2 * rh)), n=erf(1 / np.sqrt(2 * rh)) + np.sqrt(2 * rh / np.pi) * np.exp(-1 / (2 * rh)),
                    q=1.0, v=0.0, f=np.nan, it=0, C=None)
    n = np.sum(w * np.abs(s)) if n0 is None else n0
    q = 1.0
    for it in range(maxit):
        v = polyval(c, q, 1) if alpha > 0 else 0.0
        o = site_avg(g * h(n, P) * s, w, v, beta, {'n': s, 'm': np.ones_like(s)})
        dn, dq = o['n'] - n, o['q'] - q
        n, q = n + 0.5 * dn, q + 0.5 * dq
        if abs(dn) < tol and abs(dq) < tol:
            break
    v = polyval(c, q, 1) if alpha > 0 else 0.0
    o = site_avg(g * h(n, P) * s, w, v, beta, {'n': s, 'm': np.ones_like(s)})
    U = (P - 1) * n ** P / math.factorial(P)
    if T == 0:
        f = g * U - site_logcosh(g * h(n, P) * s, w, v, 0)
    else:
        f = (g * U + 0.5 * beta * (v * (1 - q) - polyval(c, 1.0) + polyval(c, q))
             - site_logcosh(g * h(n, P) * s, w, v, T))
    return dict(n=o['n'], m=o['m'], q=o['q'], v=v, f=f, it=it, C=o.get('C'))


# ---------------------------------------------------------------- unsupervised example ("storing") state
def example_types(M, r, gaussian=False):
    """Site types (chi^1, S') with S' = sum_{b>=2} chi^b, and weights.  gaussian=True: CLT form
    S' = (M-1) r + sqrt((M-1)(1-r^2)) z (chi^1 kept exact)."""
    if gaussian:
        zz, ww = hermegauss(201)
        S1, w1 = (M - 1) * r + np.sqrt((M - 1) * (1 - r * r)) * zz, ww / ww.sum()
    else:
        S1, w1 = binom_S(M - 1, r) if M > 1 else (np.zeros(1), np.ones(1))
    c1 = np.array([1.0, -1.0]); p1 = np.array([(1 + r) / 2, (1 - r) / 2])
    C1 = np.repeat(c1, len(S1)); SP = np.tile(S1, 2)
    W = np.repeat(p1, len(S1)) * np.tile(w1, 2)
    return C1, SP, W


def example_state(P, M, r, T, norm='r', conv='distinct', alpha=0.0, x0=1.0, y0=None, tol=1e-13,
                  maxit=200000, types=None):
    """Unsupervised, x_1 = x (retrieved example), x_b = y (b >= 2).  Low storage or high storage P >= 3.
    Returns x, y, m, n, q, f."""
    C1, SP, W = types if types is not None else example_types(M, r)
    Nm = Norm(P, M, r, norm)
    cf = 1.0 / (M * Nm * math.factorial(P - 1))
    beta = np.inf if T == 0 else 1 / T
    c = alpha * xi_poly(P, M, r, 'unsup', norm, conv) if alpha > 0 else np.zeros(P + 1)
    x, y, q = x0, (r * r if y0 is None else y0), 1.0
    ex = {'x': C1, 'y': SP / max(M - 1, 1), 'm': np.ones_like(C1), 'n': (C1 + SP) / (M * r)}
    for it in range(maxit):
        v = polyval(c, q, 1) if alpha > 0 else 0.0
        fld = cf * (C1 * x ** (P - 1) + SP * y ** (P - 1))
        o = site_avg(fld, W, v, beta, ex)
        dx, dy, dq = o['x'] - x, o['y'] - y, o['q'] - q
        x, y, q = x + 0.5 * dx, y + 0.5 * dy, q + 0.5 * dq
        if max(abs(dx), abs(dy), abs(dq)) < tol:
            break
    v = polyval(c, q, 1) if alpha > 0 else 0.0
    fld = cf * (C1 * x ** (P - 1) + SP * y ** (P - 1))
    o = site_avg(fld, W, v, beta, ex)
    E0 = (P - 1) / (math.factorial(P) * M * Nm) * (x ** P + (M - 1) * y ** P)
    if T == 0:
        f = E0 - site_logcosh(fld, W, v, 0)
    else:
        f = E0 + 0.5 * beta * (v * (1 - q) - polyval(c, 1.0) + polyval(c, q)) - site_logcosh(fld, W, v, T)
    return dict(x=o['x'], y=o['y'], m=o['m'], n=o['n'], q=o['q'], f=f, it=it)


def unsup_sym_hessian(P, M, r, T, n, norm='r'):
    """Eigenvalues (uniform, transverse) of the Hessian of f(x_1..x_M) at the symmetric point x_a = r n,
    in units of K0 x^(P-2), K0 = 1/((P-2)! M Norm).  Transverse < 0: symmetric state unstable."""
    S, w = binom_S(M, r)
    x = r * n
    Nm = Norm(P, M, r, norm)
    K0x = x ** (P - 2) / (math.factorial(P - 2) * M * Nm)
    fld = S * x ** (P - 1) / (M * Nm * math.factorial(P - 1))
    sech2 = 1 / np.cosh(fld / T) ** 2
    lam_u = 1 - (K0x / T) * np.sum(w * sech2 * S * S) / M
    lam_t = 1 - (K0x / T) * np.sum(w * sech2 * (M * M - S * S)) / (M * (M - 1))
    return lam_u, lam_t


# ---------------------------------------------------------------- P = 2 high storage (AGS with modes)
def ags_modes(M, r, proto, norm):
    """(weights w_k, gammas g_k) of the soft modes of one non-condensed class (P = 2)."""
    Nm = Norm(2, M, r, norm)
    if proto == 'sup':
        return np.array([1.0]), np.array([Rpar(M, r) / Nm])
    return np.array([1.0, M - 1.0]), np.array([(1 + (M - 1) * r * r) / (M * Nm), (1 - r * r) / (M * Nm)])


def ags_state(M, r, T, alpha, proto='sup', norm='r', conv='distinct', example=False, tol=1e-12,
              maxit=200000, sw=None):
    """P = 2 high storage RS (AGS).  Supervised or unsupervised archetype state (example=False);
    unsupervised example state (example=True).  Returns n, m, q, rk (AGS r parameters), v, f, C."""
    wk, gk = ags_modes(M, r, proto, norm)
    Nm = Norm(2, M, r, norm)
    g = r * r / Nm
    beta = np.inf if T == 0 else 1 / T
    if example:
        C1, SP, W = example_types(M, r)
        cf = 1 / (M * Nm)
        ex = {'x': C1, 'y': SP / max(M - 1, 1), 'm': np.ones_like(C1), 'n': (C1 + SP) / (M * r)}
        x, y = 1.0, r * r
    else:
        s, w = sw if sw is not None else s_dist(M, r)
        ex = {'n': s, 'm': np.ones_like(s)}
        n = np.sum(w * np.abs(s))
    C = 0.0  # C = beta (1 - q)
    for it in range(maxit):
        Dk = 1 - gk * C
        q = 1 - C * T if T > 0 else 1.0
        v = alpha * np.sum(wk * gk ** 2 * q / Dk ** 2)
        if example:
            o = site_avg(cf * (C1 * x + SP * y), W, v, beta, ex)
            dn = max(abs(o['x'] - x), abs(o['y'] - y))
            x, y = x + 0.5 * (o['x'] - x), y + 0.5 * (o['y'] - y)
        else:
            o = site_avg(g * n * s, w, v, beta, ex)
            dn = abs(o['n'] - n)
            n = n + 0.5 * (o['n'] - n)
        Cn = o['C']
        dC = Cn - C
        C = C + 0.5 * dC
        if dn < tol and abs(dC) < tol:
            break
    Dk = 1 - gk * C
    q = 1 - C * T if T > 0 else 1.0
    rk = q / Dk ** 2
    v = alpha * np.sum(wk * gk ** 2 * rk)
    out = dict(q=o['q'], C=C, rk=rk, v=v, it=it, m=o['m'], n=o['n'])
    cconv = 0.5 * alpha * np.sum(wk * gk) if conv == 'distinct' else 0.0
    if example:
        out.update(x=o['x'], y=o['y'])
        E0 = (x * x + (M - 1) * y * y) / (2 * M * Nm)
        fld = cf * (C1 * x + SP * y); ww = W
    else:
        E0 = g * n * n / 2
        fld = g * n * s; ww = w
    if T > 0:
        noise = (alpha / (2 * beta)) * np.sum(wk * (np.log(Dk) - beta * gk * q / Dk))
        out['f'] = cconv + E0 + 0.5 * beta * v * (1 - q) + noise - site_logcosh(fld, ww, v, T)
    else:
        # T -> 0: (alpha/2beta) ln D -> 0; -(alpha/2) g q/D; (beta/2) v (1-q) -> v C/2
        out['f'] = cconv + E0 + 0.5 * v * C - 0.5 * alpha * np.sum(wk * gk / Dk) - site_logcosh(fld, ww, v, 0)
    return out
