r"""Covariance of the spin-glass noise produced by the non-condensed patterns (high storage, P >= 3).

With K = alpha N^(P-1) patterns, the energy of the non-condensed ones is, for P >= 3, a Gaussian field
(each pattern contributes O(N^(1-P/2)), so only the second cumulant survives) with

    E[H(sigma) H(tau)] / N  ->  xi(q),      q = sigma.tau / N.

For one pattern, u = sum_i xi_i sigma_i / sqrt(N) and w = sum_i xi_i tau_i / sqrt(N) are jointly Gaussian
with correlation q (CLT).  The pattern's energy is -(N^(1-P/2)/P!) g(u) with g(u) = u^P for all tuples and
g(u) = He_P(u) (the Wick-ordered power: distinct indices) for the default convention, so

    xi(q) = alpha Cov[g(u), g(w)] / P!^2 .

``noise_covariance`` derives this polynomial with sympy for any P by writing w = q u + sqrt(1-q^2) z and
taking Gaussian moments, nothing assumed: distinct indices give alpha q^P / P!; all tuples add the
lower-order terms q^j, j = P-2, P-4, ..., of coefficient alpha / (j! [((P-j)/2)! 2^((P-j)/2)]^2)
(a j-spin glass of its own; j = 1 is a random field).  The sigma-independent mean (all tuples, P even) is a
constant, -alpha (P-1)!! N^(P/2-1) / P! per neuron, which is finite only for P = 2 (-alpha/2) and is not
included in the free energies for P >= 4.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache


def __getattr__(name):  # q_sym, alpha_sym: sympy is imported only when the derivation is needed
    if name in ("q_sym", "alpha_sym"):
        return _symbols()[0 if name == "q_sym" else 1]
    raise AttributeError(name)


@lru_cache(maxsize=None)
def _symbols():
    import sympy as sp

    return sp.Symbol("q", real=True), sp.Symbol("alpha", positive=True)


def _gauss_moment(k: int):
    import sympy as sp

    return sp.Integer(0) if k % 2 else sp.factorial2(k - 1)


def _expect(poly_expr, syms):
    """E over independent standard Gaussians ``syms`` of a polynomial."""
    import sympy as sp

    p = sp.Poly(sp.expand(poly_expr), *syms)
    total = sp.Integer(0)
    for monom, coeff in p.terms():
        term = coeff
        for k in monom:
            term *= _gauss_moment(k)
        total += term
    return sp.expand(total)


@lru_cache(maxsize=None)
def noise_covariance(P: int, self_interaction: bool = False) -> sp.Expr:
    """xi(q) (sympy expression in ``q_sym`` and ``alpha_sym``), derived from Gaussian moments."""
    import sympy as sp

    if P < 2:
        raise ValueError("P must be >= 2")
    q_sym, alpha_sym = _symbols()
    u, z = sp.symbols("u z", real=True)
    s = sp.Symbol("s", positive=True)  # s = sqrt(1 - q^2); only even powers survive
    g = (lambda x: x ** P) if self_interaction else (lambda x: sp.hermite_prob(P, x))
    w = q_sym * u + s * z
    cov = _expect(g(u) * g(w), (u, z)) - _expect(g(u), (u, z)) * _expect(g(w), (u, z))
    cov = sp.expand(cov.subs(s ** 2, 1 - q_sym ** 2))
    # odd powers of s vanish (odd Gaussian moments); make sure none is left
    cov = sp.expand(cov.subs(s, sp.sqrt(1 - q_sym ** 2)))
    return sp.expand(alpha_sym * cov / sp.factorial(P) ** 2)


@lru_cache(maxsize=None)
def noise_coefficients(P: int, self_interaction: bool = False) -> tuple:
    """Coefficients (a_0, ..., a_P) with xi(q) = alpha * sum_j a_j q^j, as Python floats."""
    return tuple(noise_summary(P, self_interaction)[0])


@lru_cache(maxsize=None)
def noise_summary(P: int, self_interaction: bool = False) -> tuple:
    """(coefficients, text) of xi(q): ``noise_coefficients`` and the expression as sympy prints it.  Derived
    by :func:`noise_covariance`; where a compilation cache is configured (theory.aot), the derived result
    is kept there too, so that a command that only solves (not derives) does not import sympy."""
    from . import aot

    path = aot.store_path(f"noise-covariance-P{int(P)}-{int(bool(self_interaction))}.json")
    if path is not None and os.path.exists(path):
        try:
            with open(path) as fh:
                d = json.load(fh)
            return tuple(float(c) for c in d["coefficients"]), str(d["text"])
        except (OSError, ValueError, KeyError):
            pass
    import sympy as sp

    q_sym, alpha_sym = _symbols()
    expr = noise_covariance(P, self_interaction)
    poly = sp.Poly(expr / alpha_sym, q_sym)
    coeffs = [0.0] * (P + 1)
    for (k,), c in poly.terms():
        coeffs[k] = float(c)
    out = (tuple(coeffs), str(expr))
    if path is not None:
        aot.store_json(path, {"coefficients": list(coeffs), "text": out[1]})
    return out
