"""Noise covariance E[H(sigma)H(tau)]/N of the non-condensed classes: direct sampling vs formula.

For K = alpha N^(P-1) i.i.d. classes, Cov[H(sigma), H(tau)]/N = alpha N^(P-2) Cov_class[E(sigma), E(tau)],
with E the energy of one class.  We sample classes (archetype + M examples), fixed sigma = (1,...,1) and
tau with sigma.tau/N = q (by the gauge symmetry xi -> xi * sigma only sigma*tau matters), alpha = 1.

Expectations: (a) the N -> inf formula xi(q) (learn_theory.xi_poly), (b) the exact finite-N value:
distinct indices from e_P(sigma*tau) (closed form), all tuples from exact bivariate generating functions.
"""
import math
import sys
import time

import numpy as np
from scipy.special import comb

import learn_theory as L


# ------------------------------------------------------------- exact finite N
def eP_pm(Np, Nm, P):
    """e_P of a vector with Np entries +1 and Nm entries -1."""
    return sum(comb(Np, P - k, exact=True) * comb(Nm, k, exact=True) * (-1) ** k for k in range(P + 1))


def smul(a, b, P):
    out = np.zeros((P + 1, P + 1))
    for i in range(P + 1):
        for j in range(P + 1):
            if a[i, j] != 0:
                out[i:, j:] += a[i, j] * b[:P + 1 - i, :P + 1 - j]
    return out


def spow(a, n, P):
    res = np.zeros((P + 1, P + 1)); res[0, 0] = 1.0
    base = a.copy()
    while n:
        if n & 1:
            res = smul(res, base, P)
        base = smul(base, base, P)
        n >>= 1
    return res


def series_cosh_lin(coef_l, coef_m, mom, P):
    """Series in (lam, mu) of E cosh(s (coef_l lam + coef_m mu)) with E s^(2k) = mom[2k]."""
    out = np.zeros((P + 1, P + 1))
    for i in range(P + 1):
        for j in range(P + 1):
            d = i + j
            if d % 2 == 0:
                out[i, j] = mom[d] * comb(d, i) * coef_l ** i * coef_m ** j / math.factorial(d)
    return out


def exact_cov(proto, conv, P, N, M, r, Np):
    """Exact Cov_class[G(sigma), G(tau)] where E = -G/(Norm N^(P-1)) (sup) or -G/(M Norm N^(P-1)) (unsup)."""
    Nm = N - Np
    R = L.Rpar(M, r)
    if conv == 'distinct':
        e = eP_pm(Np, Nm, P)
        return (R ** P if proto == 'sup' else M * (1 + (M - 1) * r ** (2 * P))) * e
    if proto == 'sup':
        S, w = L.binom_S(M, r)
        mom = [np.sum(w * (S / M) ** k) for k in range(2 * P + 1)]
    else:
        mom = [1.0] * (2 * P + 1)
    A = series_cosh_lin(1, 1, mom, P)
    B = series_cosh_lin(1, -1, mom, P)
    Phi = smul(spow(A, Np, P), spow(B, Nm, P), P)
    one = np.zeros((P + 1, P + 1)); one[:, 0] = [mom[k] / math.factorial(k) if k % 2 == 0 else 0 for k in range(P + 1)]
    mean = spow(one, N, P)[P, 0] * math.factorial(P) / math.factorial(P)  # E p1^P / P!
    EGG = Phi[P, P]  # [lam^P mu^P] E exp(lam p1 + mu p1') = E p1^P p1'^P / P!^2
    if proto == 'sup':
        return EGG - mean ** 2
    # unsup: sum over examples a, b; a != b: per site E cosh(l) cosh(m) + r^2 v sinh(l) sinh(m) series
    ch = np.array([1 / math.factorial(k) if k % 2 == 0 else 0 for k in range(P + 1)])
    sh = np.array([1 / math.factorial(k) if k % 2 == 1 else 0 for k in range(P + 1)])
    Dp = np.outer(ch, ch) + r * r * np.outer(sh, sh)
    Dm = np.outer(ch, ch) - r * r * np.outer(sh, sh)
    Phid = smul(spow(Dp, Np, P), spow(Dm, Nm, P), P)
    return M * EGG + M * (M - 1) * Phid[P, P] - (M * mean) ** 2


# ------------------------------------------------------------- sampling
def newton_eP(p, P):
    """e_P from power sums p[1..P] (arrays)."""
    e = [np.ones_like(p[1])]
    for k in range(1, P + 1):
        s = 0
        for j in range(1, k + 1):
            s = s + (-1) ** (j - 1) * e[k - j] * p[j]
        e.append(s / k)
    return e[P]


def G_both(y, P):
    """(distinct, all tuples) G of vectors y (..., N)."""
    p = [None] + [np.sum(y ** k, axis=-1) for k in range(1, P + 1)]
    return newton_eP(p, P), p[1] ** P / math.factorial(P)


def sample(proto, P, N, M, r, Nps, B, batch, rng):
    """Sampled Cov_class[G(sigma), G(tau_k)] for tau_k with Np_k plus entries; both conventions.
    Returns dict conv -> (cov array over Nps, standard error array)."""
    vs = [np.where(np.arange(N) < Np, 1.0, -1.0) for Np in Nps]
    acc = {c: [] for c in ('distinct', 'all')}
    done = 0
    while done < B:
        b = min(batch, B - done)
        xi = rng.choice(np.array([-1.0, 1.0]), size=(b, 1, N))
        chi = np.where(rng.random((b, M, N)) < (1 + r) / 2, 1.0, -1.0)
        if proto == 'sup':
            ys = (xi[:, 0, :] * chi.sum(1) / M)[None]             # (1, b, N), sigma = 1
        else:
            ys = (xi * chi).transpose(1, 0, 2)                    # (M, b, N)
        Gs = G_both(ys, P)
        Gt = [G_both(ys * v, P) for v in vs]
        for ci, c in enumerate(('distinct', 'all')):
            gs = Gs[ci].sum(0)
            gt = np.stack([g[ci].sum(0) for g in Gt])             # (nq, b)
            acc[c].append((gs, gt))
        done += b
    out = {}
    for c in acc:
        gs = np.concatenate([a[0] for a in acc[c]])
        gt = np.concatenate([a[1] for a in acc[c]], axis=1)
        cov, se = [], []
        for k in range(len(Nps)):
            x = (gs - gs.mean()) * (gt[k] - gt[k].mean())
            cov.append(x.mean()); se.append(x.std() / np.sqrt(len(x)))
        out[c] = (np.array(cov), np.array(se))
    return out


def main():
    rng = np.random.default_rng(12345)
    r, M = 0.5, 5
    qs = [1.0, 0.5, 0.0]
    B = int(sys.argv[1]) if len(sys.argv) > 1 else 400000
    print(f"# noise covariance check: r = {r}, M = {M}, R = {L.Rpar(M, r):.4f}, alpha = 1, classes sampled B = {B}")
    print("# columns: proto P N conv q | sampled xi_N(q) +- SE | exact finite-N | N->inf formula | (sampled-exact)/SE")
    print("# all values in units Norm = r^P (default); for Norm = R^(P/2) multiply by (r^2/R)^P =",
          {P: round((r * r / L.Rpar(M, r)) ** P, 6) for P in (2, 3, 4)})
    for P in (2, 3, 4):
        for N in ((50, 200) if P > 2 else (100,)):
            for proto in ('sup', 'unsup'):
                t0 = time.time()
                Nps = [int(round(N * (1 + q) / 2)) for q in qs]
                res = sample(proto, P, N, M, r, Nps, B, 4000 if proto == 'sup' else 1000, rng)
                Nm = L.Norm(P, M, r, 'r')
                scale = N ** (P - 2) / (Nm ** 2 * N ** (2 * P - 2) * (1 if proto == 'sup' else M * M))
                for conv in ('distinct', 'all'):
                    cpoly = L.xi_poly(P, M, r, proto, 'r', conv)
                    for k, q in enumerate(qs):
                        qe = (2 * Nps[k] - N) / N
                        s, se = res[conv][0][k] * scale, res[conv][1][k] * scale
                        ex = exact_cov(proto, conv, P, N, M, r, Nps[k]) * scale
                        asy = L.polyval(cpoly, qe)
                        print(f"{proto:5s} P={P} N={N:4d} {conv:8s} q={qe:4.2f} | {s:10.5f} +- {se:8.5f} | {ex:10.5f} | {asy:10.5f} | {(s - ex) / se:+6.2f}")
                print(f"#   ({time.time() - t0:.0f} s)", flush=True)


if __name__ == '__main__':
    main()
