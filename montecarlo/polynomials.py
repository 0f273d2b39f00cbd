"""Exact integer polynomials of the P-body energy in the overlaps, generated with sympy.

Notation (docs/conventions.md): N spins, K patterns, integer overlaps M_mu = sum_i xi_i^mu sigma_i,
x^mu_i = xi_i^mu sigma_i (so x^2 = 1 and M_mu = sum_i x^mu_i).

Energy.  In both conventions H = -(1 / (P! N^(P-1))) * sum_mu Q(M_mu) with an integer polynomial Q:

* distinct indices (default): Q = P! e_P(x^mu), e_P the elementary symmetric polynomial.  Its power sums
  are p_k = sum_i (x_i)^k = N for even k and M_mu for odd k, so Newton's identities
  n e_n = sum_{j=1..n} (-1)^(j-1) e_{n-j} p_j turn e_P into a polynomial in (M, N).  For P = 2,
  Q = M^2 - N; for P = 3, Q = M^3 - 3 M N + 2 M.
* all tuples (``self_interaction=True``): Q = M^P.

Flip.  Flipping spin i changes M_mu -> M_mu - 2 x_mu with x_mu = xi_i^mu sigma_i.  Writing
y_mu = M_mu - x_mu (the overlap without site i), the energy change is, in both conventions,

    dH = c * sum_mu x_mu G(y_mu),

with an integer polynomial G of parity P - 1 in y:

* distinct indices: e_P(x') - e_P(x) = -2 x_i e_{P-1}(x without i), and e_{P-1} of the N - 1 other
  variables has power sums y (odd) and N - 1 (even), so G = (P-1)! e_{P-1}(y; N-1) and
  c = 2 / ((P-1)! N^(P-1)).  For P = 2, G = y and dH = (2/N)(sigma_i h_i - K) (the AGS form).
* all tuples: (y - x)^P - (y + x)^P = -2 x sum_{k odd} binom(P, k) y^(P-k) (x^2 = 1), so
  G = sum_{k odd} binom(P, k) y^(P-k) and c = 2 / (P! N^(P-1)).

The coefficients of G share a common factor g, divided out: G = g G' and ``scale`` = c g.  One flip
attempt therefore costs O(K): one pass over the K overlaps, evaluating G' by Horner's rule in y^2.

Exactness.  G'(y) is an integer for integer y; the sum n = sum_mu x_mu G'(y_mu) is an exact integer and
dH = scale * n (so dH == 0 and the sign of dH are exact).  Integer arithmetic wraps modulo 2^b, which is
exact modulo 2^b whatever the intermediate overflows; the result is the true integer as long as the
*true* value of each partial sum lies in the signed range.  :func:`flip_plan` therefore sums the K terms
in chunks of L terms, with L * max|G'| < 2^31 (int32) or < 2^63 (int64), and adds the chunk sums in
int64; if even one term can exceed 2^62 the evaluation falls back to float64 (relative accuracy 1e-16,
reported as ``exact=False``).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import sympy as sp

MAX_P = 8  #: largest interaction order the Monte Carlo supports (the algebra works for any P)

_M, _N, _Y = sp.symbols("M N y")


def _check(P, self_interaction):
    if isinstance(P, bool) or not isinstance(P, int) or P < 2:
        raise ValueError(f"P must be an integer >= 2, got {P!r}")
    if P > MAX_P:
        raise ValueError(f"P must be <= {MAX_P} for Monte Carlo, got {P}")
    return int(P), bool(self_interaction)


@functools.lru_cache(maxsize=None)
def elementary_symmetric(P: int, odd, even):
    """e_P as a sympy expression of the power sums p_k = ``odd`` (k odd) and ``even`` (k even).

    Newton's identities: n e_n = sum_{j=1..n} (-1)^(j-1) e_{n-j} p_j, e_0 = 1.
    """
    e = [sp.Integer(1)]
    for n in range(1, P + 1):
        e.append(sp.expand(sum((-1) ** (j - 1) * e[n - j] * (odd if j % 2 else even)
                               for j in range(1, n + 1)) / n))
    return e[P]


@functools.lru_cache(maxsize=None)
def energy_polynomial(P: int, self_interaction: bool = False):
    """Q(M, N) with H = -(1/(P! N^(P-1))) sum_mu Q(M_mu): a sympy polynomial with integer coefficients."""
    P, si = _check(P, self_interaction)
    if si:
        return _M ** P
    return sp.expand(sp.factorial(P) * elementary_symmetric(P, _M, _N))


@functools.lru_cache(maxsize=None)
def flip_polynomial(P: int, self_interaction: bool = False):
    """(G(y, N), c(N)) with dH = c * sum_mu x_mu G(y_mu), y_mu = M_mu - x_mu (sympy expressions)."""
    P, si = _check(P, self_interaction)
    if si:
        G = sum(sp.binomial(P, k) * _Y ** (P - k) for k in range(1, P + 1, 2))
        c = sp.Integer(2) / (sp.factorial(P) * _N ** (P - 1))
    else:
        G = sp.expand(sp.factorial(P - 1) * elementary_symmetric(P - 1, _Y, _N - 1))
        c = sp.Integer(2) / (sp.factorial(P - 1) * _N ** (P - 1))
    return sp.expand(G), c


def _int_coeffs(expr, var, N):
    """Integer coefficients [a_0, a_1, ..., a_d] of ``expr`` (a polynomial in ``var``) at this N."""
    poly = sp.Poly(sp.expand(expr.subs(_N, N)), var)
    coeffs = [int(a) for a in reversed(poly.all_coeffs())]
    if any(sp.Integer(a) != a for a in poly.all_coeffs()):
        raise AssertionError("non-integer coefficient")  # cannot happen: Newton + factorial
    return coeffs


@dataclass(frozen=True)
class FlipPlan:
    """How one flip attempt is evaluated for a given (P, convention, N, K); hashable (static for jit).

    coeffs:  integer coefficients of G'(y) = y^parity * sum_j coeffs[j] * (y^2)^j (G = gcd * G').
    parity:  (P - 1) % 2.
    scale:   dH = scale * n, n = sum_mu x_mu G'(y_mu) (a Python float, c * gcd).
    term_bound: max over |y| <= N - 1 of |G'(y)| (rigorous upper bound, Python int).
    compute: "int32", "int64" or "float64": dtype of the per-pattern terms and chunk sums.
    chunk:   terms per chunk (chunk sums are exact in ``compute``), the last chunk may be shorter.
    exact:   True if n is computed exactly (integer arithmetic), False for the float64 fallback.
    """

    P: int
    self_interaction: bool
    N: int
    K: int
    coeffs: tuple
    parity: int
    scale: float
    gcd: int
    term_bound: int
    compute: str
    chunk: int
    exact: bool


def _max_chunk(limit, bound, K):
    return min(K, limit // max(bound, 1))


@functools.lru_cache(maxsize=256)
def flip_plan(P: int, self_interaction: bool, N: int, K: int, min_chunk: int = 32) -> FlipPlan:
    """Choose the exact arithmetic for dH (see module docstring).  Cached per (P, convention, N, K).

    int32 chunks of ``min_chunk`` (32) terms are used when exact (fastest on CPUs), else int64
    chunks of at least 16 terms, else float64.
    """
    P, si = _check(P, self_interaction)
    G, c = flip_polynomial(P, si)
    full = _int_coeffs(G, _Y, N)                      # a_0 .. a_d, only parity P-1 terms are non-zero
    parity = (P - 1) % 2
    assert all(a == 0 for k, a in enumerate(full) if k % 2 != parity)
    g = 0
    for a in full:
        g = math.gcd(g, a)
    g = g or 1
    reduced = [a // g for a in full]
    coeffs = tuple(reduced[parity::2])
    ymax = max(N - 1, 0)
    bound = sum(abs(a) * ymax ** k for k, a in enumerate(reduced))
    bound = max(bound, 1)
    scale = float(sp.Rational(c.subs(_N, N)) * g)
    L32 = _max_chunk(2**31 - 1, bound, K)
    L64 = _max_chunk(2**63 - 1, bound, K)
    if L32 >= min(min_chunk, K):
        compute, chunk, exact = "int32", L32, True
    elif L64 >= min(16, K):
        compute, chunk, exact = "int64", L64, True
    else:
        compute, chunk, exact = "float64", K, False
    chunk = _balanced_chunk(K, chunk)
    return FlipPlan(P=P, self_interaction=si, N=int(N), K=int(K), coeffs=coeffs, parity=parity,
                    scale=scale, gcd=g, term_bound=bound, compute=compute, chunk=chunk, exact=exact)


#: Chunk length used when K is large.  XLA rewrites reductions over more than 32 elements into trees of
#: reduce-window passes that materialise intermediates; rows of 32 stay fused with the polynomial.
FUSED_CHUNK = 32
#: Up to this many patterns a single row (one chunk) is reduced (fastest for small K).
SINGLE_ROW_MAX = 512


def _balanced_chunk(K, chunk):
    """Chunk length for K terms given the exactness limit ``chunk`` (a speed choice, never above it)."""
    chunk = max(1, min(chunk, K))
    if K <= SINGLE_ROW_MAX and chunk >= K:
        return K
    return min(chunk, FUSED_CHUNK)


@dataclass(frozen=True)
class EnergyPlan:
    """Exact energy H = -(1/(P! N^(P-1))) sum_mu Q(M_mu) for (P, convention, N, K).

    coeffs: integer coefficients [q_0, ..., q_P] of Q(M) at this N; denominator: P! N^(P-1) (Python int);
    compute: "int64" if K * max|Q| < 2^63 (exact), else "float64".
    """

    P: int
    self_interaction: bool
    N: int
    K: int
    coeffs: tuple
    denominator: int
    compute: str
    exact: bool


@functools.lru_cache(maxsize=256)
def energy_plan(P: int, self_interaction: bool, N: int, K: int) -> EnergyPlan:
    P, si = _check(P, self_interaction)
    coeffs = tuple(_int_coeffs(energy_polynomial(P, si), _M, N))
    bound = sum(abs(a) * N ** k for k, a in enumerate(coeffs))
    exact = K * bound < 2**63 - 1
    return EnergyPlan(P=P, self_interaction=si, N=int(N), K=int(K), coeffs=coeffs,
                      denominator=math.factorial(P) * N ** (P - 1),
                      compute="int64" if exact else "float64", exact=exact)


@functools.lru_cache(maxsize=256)
def flip_split(P: int, self_interaction: bool, N: int, K: int):
    """Integer coefficients (A, B) with x G'(M - x) = A(M) + x B(M) for x = +-1 (G' of :func:`flip_plan`).

    So n = sum_mu A(M_mu) + sigma_i sum_mu xi_i^mu B(M_mu) and dH = plan.scale * n: the site-independent
    part and a field table B(M) that a dot product with the pattern row xi_i reads (the layout of the
    NumPy reference in :mod:`montecarlo.bench`).  Lists a_0.. and b_0.. (powers of M).
    """
    plan = flip_plan(P, self_interaction, N, K)
    y = _M
    G = sum(c * y ** (2 * j + plan.parity) for j, c in enumerate(plan.coeffs))
    x = sp.Symbol("x")
    D = sp.expand(x * G.subs(_M, _M - x))
    D = sp.expand(D.subs({x ** k: (1 if k % 2 == 0 else x) for k in range(P + 2, 1, -1)}))
    poly = sp.Poly(D, x)
    A = poly.coeff_monomial(1)
    B = poly.coeff_monomial(x)
    return tuple(_int_coeffs(A + 0 * _M, _M, N)), tuple(_int_coeffs(B + 0 * _M, _M, N))
