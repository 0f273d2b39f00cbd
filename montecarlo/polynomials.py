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
    compute, chunk, exact = _arithmetic(bound, K, min_chunk)
    return FlipPlan(P=P, self_interaction=si, N=int(N), K=int(K), coeffs=coeffs, parity=parity,
                    scale=scale, gcd=g, term_bound=bound, compute=compute, chunk=chunk, exact=exact)


def _arithmetic(bound, K, min_chunk):
    """(compute dtype, chunk length, exact) for a flip sum over K terms each bounded by ``bound``: int32
    chunks if they can be long enough, else int64, else float64 (inexact), the chunk balanced over K."""
    L32 = _max_chunk(2**31 - 1, bound, K)
    L64 = _max_chunk(2**63 - 1, bound, K)
    if L32 >= min(min_chunk, K):
        compute, chunk, exact = "int32", L32, True
    elif L64 >= min(16, K):
        compute, chunk, exact = "int64", L64, True
    else:
        compute, chunk, exact = "float64", K, False
    return compute, _balanced_chunk(K, chunk), exact


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


# ------------------------------------------------------------------------------ learning from examples
# Supervised couplings are built from the class means xibar^mu = (1/M) sum_a eta^{mu,a} = xi^mu S / M, with
# the integer example sums S_i = sum_a chi^a_i in [-M, M].  With w_i = M xibar_i = S_i xi_i (an integer) and
# y_i = xibar_i sigma_i = w_i sigma_i / M, the power sums of y are p_k = Z_k / M^k with the *integer* power
# sums Z_k = sum_i (w_i sigma_i)^k: odd k an overlap that a flip changes, even k = sum_i S_i^k a constant of
# the class.  e_P is homogeneous of weight P in the p_k, so e_P(y) = M^-P e_P[p_k -> Z_k] and
#
#     H = -(1 / (P! M^P Norm N^(P-1))) sum_mu Q(Z^mu),   Q = P! e_P[p_k -> Z_k]   (all tuples: Q = Z_1^P).
#
# Flip of site i (v = w_i sigma_i, Y_k = Z_k - v^k the power sums of the other sites):
# distinct indices e_P(y') - e_P(y) = -2 y_i e_{P-1}(others), so dH = c sum_mu F with
# F = v (P-1)! e_{P-1}[p_k -> Y_k] and c = 2 / ((P-1)! M^P Norm N^(P-1)); all tuples
# (Y_1 - v)^P - (Y_1 + v)^P = -2 sum_{k odd} binom(P, k) v^k Y_1^(P-k), so F = sum_{k odd} binom(P, k) v^k
# Y_1^(P-k) and c = 2 / (P! M^P Norm N^(P-1)).  M = 1, S = 1 (r = 1) is the plain storage algebra.
_V = sp.Symbol("v")
_ZS = sp.symbols(f"Z1:{MAX_P + 1}")      # Z1 .. Z8


def _newton(P: int, p):
    """e_P in the power sums p[1..P] (p[0] unused), Newton's identities."""
    e = [sp.Integer(1)]
    for n in range(1, P + 1):
        e.append(sp.expand(sum((-1) ** (j - 1) * e[n - j] * p[j] for j in range(1, n + 1)) / n))
    return e[P]


@functools.lru_cache(maxsize=None)
def supervised_energy_polynomial(P: int, self_interaction: bool = False):
    """Q(Z_1..Z_P) with H = -(1/(P! M^P Norm N^(P-1))) sum_mu Q(Z^mu) (integer coefficients)."""
    P, si = _check(P, self_interaction)
    if si:
        return _ZS[0] ** P
    return sp.expand(sp.factorial(P) * _newton(P, (None,) + _ZS[:P]))


@functools.lru_cache(maxsize=None)
def supervised_flip_polynomial(P: int, self_interaction: bool = False):
    """(F(v, Y_1..Y_{P-1}), c without M^P Norm) with dH = c / (M^P Norm) * sum_mu F (sympy; the Y_k are
    written with the symbols Z_k)."""
    P, si = _check(P, self_interaction)
    Y = _ZS
    if si:
        F = sum(sp.binomial(P, k) * _V ** k * Y[0] ** (P - k) for k in range(1, P + 1, 2))
        c = sp.Integer(2) / (sp.factorial(P) * _N ** (P - 1))
    else:
        F = _V * sp.factorial(P - 1) * _newton(P - 1, (None,) + Y[:P - 1])
        c = sp.Integer(2) / (sp.factorial(P - 1) * _N ** (P - 1))
    return sp.expand(F), c


# Plefka (first-order mean-field) dynamics (docs/montecarlo.md "Plefka dynamics").  The exact flip needs the
# elementary symmetric polynomial e_{P-1} of the other sites' y_j (distinct indices) or the odd part of
# (Y_1 + v)^P (all tuples); the Plefka flip keeps only the first-order term of the expansion in the flipped
# spin, with the field of the other sites taken as a continuous overlap:
#
#     dH_plefka = (2 / ((P-1)! Norm' N^(P-1))) sum_mu v_mu (Y_1^mu)^(P-1),   Y_1^mu = sum_{j != i} y_j^mu,
#
# the same for both conventions (they differ only in the terms with repeated indices, which the mean-field
# field does not resolve).  Supervised: v = w_i sigma_i and Y_1 = Z_1 - v in the integer units of w = M xibar
# (Norm' = M^P Norm); unsupervised: the plain flip of every example with G(y) = y^(P-1) (Norm' = M Norm).
def plefka_flip_polynomial(P: int):
    """(F(v, Y_1), c without M^P Norm) of the Plefka flip, dH = c / (M^P Norm) * sum_mu F: F = v Y_1^(P-1),
    c = 2 / ((P-1)! N^(P-1)) (sympy; Y_1 is the symbol Z1)."""
    P, _ = _check(P, False)
    return _V * _ZS[0] ** (P - 1), sp.Integer(2) / (sp.factorial(P - 1) * _N ** (P - 1))


@functools.lru_cache(maxsize=256)
def plefka_flip_plan(P: int, self_interaction: bool, N: int, K: int, min_chunk: int = 32) -> FlipPlan:
    """:class:`FlipPlan` of the Plefka flip of K plain +-1 patterns: G'(y) = y^(P-1) (one monomial, no
    N-dependent coefficients), scale = 2 / ((P-1)! N^(P-1)); ``self_interaction`` is only recorded (the
    Plefka flip is the same for both conventions)."""
    P, si = _check(P, self_interaction)
    parity = (P - 1) % 2
    coeffs = (0,) * ((P - 1) // 2) + (1,)
    bound = max(1, (max(int(N) - 1, 0)) ** (P - 1))
    scale = float(sp.Rational(2, math.factorial(P - 1) * int(N) ** (P - 1)))
    compute, chunk, exact = _arithmetic(bound, int(K), min_chunk)
    return FlipPlan(P=P, self_interaction=si, N=int(N), K=int(K), coeffs=coeffs, parity=parity, scale=scale,
                    gcd=1, term_bound=bound, compute=compute, chunk=chunk, exact=exact)


def _terms(expr, gens):
    """((coefficient, exponents), ...) of a polynomial with integer coefficients in ``gens``."""
    poly = sp.Poly(expr, *gens)
    out = []
    for exps, a in zip(poly.monoms(), poly.coeffs()):
        if sp.Integer(a) != a:
            raise AssertionError("non-integer coefficient")
        out.append((int(a), tuple(int(e) for e in exps)))
    return tuple(out)


def _term_bound(terms, maxima):
    return max(1, sum(abs(a) * math.prod(m ** e for m, e in zip(maxima, exps)) for a, exps in terms))


@dataclass(frozen=True)
class ExamplePlan:
    """How the energy and a flip are evaluated for couplings built from examples (static, hashable).

    kind: "supervised" or "unsupervised"; P, self_interaction, N, K (archetypes), M (examples per
    archetype), norm (the value of Norm).  The chain state holds, per archetype, ``columns`` integer overlaps
    (:mod:`montecarlo.learning`): column 0 the archetype overlap sum_i xi_i sigma_i; supervised: columns
    k = 1..kmax the power sums Z_k (kmax = P, distinct indices, or 1, all tuples); unsupervised: columns
    1..M the example overlaps sum_i eta^a_i sigma_i.  ``state_dtype``: "int8"/"int16"/"int32"/"int64"
    (exact) or "float64" (power sums beyond int64).

    dH = scale * n with n an integer sum computed in ``compute`` chunks of ``chunk`` terms (``exact``), as
    :class:`FlipPlan`.  Supervised: ``flip_terms`` are the monomials of F/gcd in (v, Y_1..Y_{P-1});
    unsupervised: ``base`` is the plain :class:`FlipPlan` of the K M examples (scale = base.scale / (M Norm)).
    Energy: H = -S / (energy_denominator * norm), S = sum_mu Q exact in int64 when ``energy_exact``
    (supervised ``energy_terms``: Q in Z_1..Z_P; unsupervised: the plain energy of the examples).

    ``plefka``: the flip terms are those of the Plefka (first-order mean-field) dynamics instead of the exact
    dH (:func:`plefka_flip_polynomial`); the state and the energy are the exact ones.

    ``sub`` (unsupervised examples of diluted archetypes, entries in {-1, 0, 1}): the supervised plan with
    one example per class of the K M examples (Norm' = M Norm), whose power sums are the example overlap
    (odd k) and the number of non-blank entries of the class (even k, a constant): the state gains that
    count as a last column (``columns`` = 2 + M) and the energy and the flips are those of ``sub``
    (exact: the plain energy of +-1 examples assumes xi^2 = 1).
    """

    kind: str
    P: int
    self_interaction: bool
    N: int
    K: int
    M: int
    norm: float
    columns: int
    state_dtype: str
    scale: float
    gcd: int
    term_bound: int
    compute: str
    chunk: int
    exact: bool
    flip_terms: tuple
    energy_terms: tuple
    energy_denominator: int
    energy_exact: bool
    base: FlipPlan | None
    plefka: bool = False
    sub: "ExamplePlan | None" = None

    @property
    def supervised(self) -> bool:
        return self.kind == "supervised"


def _state_dtype(bound: int) -> str:
    for name, b in (("int8", 127), ("int16", 32767), ("int32", 2**31 - 1), ("int64", 2**63 - 1)):
        if bound <= b:
            return name
    return "float64"


@functools.lru_cache(maxsize=256)
def example_plan(P: int, self_interaction: bool, N: int, K: int, M: int, supervised: bool, norm: float,
                 min_chunk: int = 32, plefka: bool = False, diluted: bool = False) -> ExamplePlan:
    """The :class:`ExamplePlan` for (P, convention, N, K archetypes, M examples each, protocol, Norm);
    ``plefka``: the flip of the Plefka dynamics (:func:`plefka_flip_polynomial`) instead of the exact one;
    ``diluted``: unsupervised examples of diluted archetypes (the plan's ``sub``; supervised plans are exact
    for diluted archetypes as they are)."""
    P, si = _check(P, self_interaction)
    N, K, M, plefka = int(N), int(K), int(M), bool(plefka)
    if diluted and not supervised:
        if plefka:
            raise ValueError("the Plefka dynamics is not available for diluted archetypes")
        sub = example_plan(P, si, N, K * M, 1, True, float(norm) * M, min_chunk)
        return ExamplePlan(kind="unsupervised", P=P, self_interaction=si, N=N, K=K, M=M, norm=float(norm),
                           columns=2 + M, state_dtype=sub.state_dtype, scale=sub.scale, gcd=sub.gcd,
                           term_bound=sub.term_bound, compute=sub.compute, chunk=sub.chunk, exact=sub.exact,
                           flip_terms=sub.flip_terms, energy_terms=sub.energy_terms,
                           energy_denominator=sub.energy_denominator * M, energy_exact=sub.energy_exact,
                           base=None, plefka=False, sub=sub)
    if not supervised:
        base = plefka_flip_plan(P, si, N, K * M, min_chunk) if plefka else flip_plan(P, si, N, K * M, min_chunk)
        eplan = energy_plan(P, si, N, K * M)
        return ExamplePlan(kind="unsupervised", P=P, self_interaction=si, N=N, K=K, M=M, norm=float(norm),
                           columns=1 + M, state_dtype=_state_dtype(N), scale=base.scale / (M * float(norm)),
                           gcd=base.gcd, term_bound=base.term_bound, compute=base.compute, chunk=base.chunk,
                           exact=base.exact, flip_terms=(), energy_terms=(),
                           energy_denominator=eplan.denominator * M, energy_exact=eplan.exact, base=base,
                           plefka=plefka)
    kmax = 1 if si else P
    F, c = plefka_flip_polynomial(P) if plefka else supervised_flip_polynomial(P, si)
    gens = (_V,) + (_ZS[:1] if si else _ZS[:P - 1])
    terms = _terms(F, gens)
    g = 0
    for a, _ in terms:
        g = math.gcd(g, a)
    g = g or 1
    terms = tuple((a // g, e) for a, e in terms)
    # |v| <= M, |Y_k| <= (N - 1) M^k (a sum over the N - 1 other sites)
    maxima = (M,) + tuple((N - 1) * M ** k for k in range(1, len(gens)))
    bound = _term_bound(terms, maxima)
    scale = float(sp.Rational(c.subs(_N, N)) * g / M ** P) / float(norm)
    compute, chunk, exact = _arithmetic(bound, K, min_chunk)
    Q = supervised_energy_polynomial(P, si)
    e_terms = _terms(Q, _ZS[:kmax])
    e_bound = _term_bound(e_terms, tuple(N * M ** k for k in range(1, kmax + 1)))
    return ExamplePlan(kind="supervised", P=P, self_interaction=si, N=N, K=K, M=M, norm=float(norm),
                       columns=1 + kmax, state_dtype=_state_dtype(N * M ** kmax), scale=scale, gcd=g,
                       term_bound=bound, compute=compute, chunk=chunk, exact=exact, flip_terms=terms,
                       energy_terms=e_terms, energy_denominator=math.factorial(P) * M ** P * N ** (P - 1),
                       energy_exact=K * e_bound < 2**63 - 1, base=None, plefka=plefka)
