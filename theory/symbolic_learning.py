r"""Symbolic layer for learning from examples: the RS free energy of :mod:`theory.learning` in sympy, its
stationarity conditions by differentiation and their fixed-point forms.

The free energy is the one theory.learning implements (docs/derivations/learning/derivation.md, section 0),
written in the variables (n, C, v) with beta = 1/T:

    f = c_conv + g U(n) + v C/2 - Noise(C) - (1/beta) E_S E_z[ ln 2cosh(beta (g h(n) s + sqrt(v) z)) ]

    h(n) = n^(P-1)/(P-1)!,  U(n) = (P-1) n^P/P!,  g = r^P/Norm,  Norm = r^P ("r") or R^(P/2) ("R"),
    R = r^2 + (1 - r^2)/M,  s = S/(M r),  S = M - 2k with probability C(M,k) ((1+r)/2)^(M-k) ((1-r)/2)^k.

* P >= 3: Noise = (beta/2) [xi(1) - xi(1 - C/beta)], c_conv = 0, with the learning covariance
  supervised xi(q) = alpha (R^P/Norm^2) sum_j a_j q^j, unsupervised xi(q) = alpha sum_j a_j q^j
  [1 + (M-1) r^(2j)]/(M Norm^2) (a_j: the storage coefficients of the convention, theory.covariance).
* P = 2: soft modes (w_k, gamma_k), supervised (1, R/Norm), unsupervised (1, (1 + (M-1) r^2)/(M Norm)) and
  (M - 1, (1 - r^2)/(M Norm)):  -Noise = (alpha/2) sum_k w_k [ln(1 - gamma_k C)/beta - gamma_k (1 - C/beta)/
  (1 - gamma_k C)], c_conv = (alpha/2) sum_k w_k gamma_k (distinct indices), 0 (all tuples).
* ``gaussian=True``: s = 1 + sqrt(rho) u, rho = (1 - r^2)/(M r^2), and the site average is E_u over a
  standard Gaussian u (theory.learning combines the two Gaussians into one; here they stay separate).

The site average is the unevaluated operator :class:`SiteE` (E_S[.] over the binomial S, or E_u[.] for the
Gaussian site); ``SiteE.explicit()`` writes it out as the explicit binomial sum over k = 0..M (a sympy Sum while M
is a symbol).  r and M stay symbols unless given; :meth:`LearningDerivation.to_jax` needs them as numbers
(the binomial sum then has M + 1 explicit terms, each E_z by Gauss-Hermite).

    >>> from densehebb.theory.symbolic import derive_learning
    >>> d = derive_learning(4, supervised=True)            # r, M symbolic
    >>> d = derive_learning(4, supervised=False, r=0.8, M=10, normalisation="R")
    >>> eqs = d.to_jax()                                   # (n, C, v, alpha, beta) -> fixed-point residuals
"""
from __future__ import annotations

from functools import cached_property, lru_cache

import sympy as sp

from .covariance import alpha_sym, noise_covariance, q_sym
from .model import CONVENTION_ALL_TUPLES, CONVENTION_DISTINCT, NORMALISATIONS, Examples, Model
from .quadrature import DEFAULT_NODES
from .symbolic import Derivation, GaussE, beta, pull_constants, to_jax, z

n, C, v = sp.symbols("n C v", real=True)
r_sym = sp.Symbol("r", positive=True)
M_sym = sp.Symbol("M", positive=True, integer=True)
S_sym = sp.Symbol("S", integer=True)
u = sp.Symbol("u", real=True)
R_sym, rho_sym = sp.symbols("R rho", positive=True)
k_sym = sp.Symbol("k", integer=True, nonnegative=True)
alpha = alpha_sym

ARGS = (n, C, v, alpha, beta)


class SiteE(sp.Function):
    """The site average.  SiteE(expr, S, M, r): E_S[expr] over S = M - 2k, k ~ binomial(M, (1 - r)/2) (the
    exact site disorder of theory.learning, s = S/(M r)).  SiteE(expr, u): E_u[expr] over u ~ N(0, 1) (the
    ``gaussian`` site, s = 1 + sqrt(rho) u).  Differentiates under the average; E[c] = c for c independent
    of the site variable; r = 1 leaves the single site S = M.  ``explicit()`` writes out the expectation
    (``doit()`` keeps it, so that simplify does not expand it)."""

    nargs = (2, 4)

    @classmethod
    def eval(cls, expr, var, *dist):
        if var not in expr.free_symbols:
            return expr
        if dist and dist[1] == 1:          # r = 1: chi = +1 always, S = M
            return expr.subs(var, dist[0])
        return None

    @property
    def var(self):
        return self.args[1]

    def _eval_derivative(self, s):
        return SiteE(sp.diff(self.args[0], s), *self.args[1:])

    def explicit(self):
        """The expectation written out: sum_k C(M,k) p^(M-k) (1-p)^k expr(S = M - 2k), p = (1 + r)/2 (explicit
        terms for an integer M, else an unevaluated Sum over k = 0..M); E_u -> GaussE(expr, u)."""
        expr = expand_averages(self.args[0])
        if len(self.args) == 2:
            return GaussE(expr, self.var)
        Mv, rv = self.args[2], self.args[3]
        w = sp.binomial(Mv, k_sym) * ((1 + rv) / 2) ** (Mv - k_sym) * ((1 - rv) / 2) ** k_sym
        term = w * expr.subs(self.var, Mv - 2 * k_sym)
        if Mv.is_Integer:
            return sp.Add(*[term.subs(k_sym, j) for j in range(int(Mv) + 1)])
        return sp.Sum(term, (k_sym, 0, Mv))

    def _latex(self, printer):
        return r"\mathbb{E}_{%s}\left[%s\right]" % (printer._print(self.var), printer._print(self.args[0]))

    def _sympystr(self, printer):
        return "E_%s[%s]" % (printer._print(self.var), printer._print(self.args[0]))


def stein_z(expr):
    """Stein's lemma in z, E_z[z g(z)] = E_z[g'(z)], and linearity of E_z (a leaner form of
    :func:`~densehebb.theory.symbolic.stein` for these integrands: z must be an explicit factor)."""
    expr = pull_constants(expr)

    def rewrite(e):
        g = e.args[0] / z
        return GaussE(sp.diff(g, z)) if not g.has(1 / z) else e
    return pull_constants(expr.replace(lambda e: isinstance(e, GaussE) and e.var == z, rewrite))


def tidy(expr):
    """sinh(y)/cosh(y) -> tanh(y) (the derivative of ln 2cosh), common factors out of tanh arguments."""
    def to_tanh(e):
        facs = list(e.args)
        for f in e.args:
            if isinstance(f, sp.sinh) and sp.cosh(f.args[0]) ** -1 in facs:
                facs.remove(f)
                facs.remove(sp.cosh(f.args[0]) ** -1)
                facs.append(sp.tanh(f.args[0]))
        return sp.Mul(*facs)
    expr = expr.replace(lambda e: e.is_Mul and e.has(sp.sinh), to_tanh)
    return expr.replace(lambda e: isinstance(e, sp.tanh), lambda e: sp.tanh(sp.factor_terms(e.args[0])))


def site_linear(expr):
    """Linearity of the site average (and of E_z): move factors independent of its variable out of it,
    E[c] = c; the integrand is collected over its E_z averages, so that s stays one factor."""
    expr = pull_constants(expr)

    def rewrite(e):
        gauss = sorted(e.args[0].atoms(GaussE), key=sp.sstr)
        inner = sp.collect(sp.expand(e.args[0], deep=False), gauss, func=sp.factor) if gauss else \
            sp.expand(e.args[0], deep=False)
        out = 0
        for t in (inner.as_ordered_terms() if inner.is_Add else [inner]):
            c, rest = t.as_independent(e.var, as_Add=False)
            out += c * (1 if rest == 1 else SiteE(rest, *e.args[1:]))
        return out
    return expr.replace(lambda e: isinstance(e, SiteE), rewrite)


def expand_averages(expr):
    """Every SiteE written out (binomial sums, Gaussian E_u as GaussE(., u)), for numerics."""
    return expr.replace(lambda e: isinstance(e, SiteE), lambda e: e.explicit())


def _outer_averages(expr):
    found = set()

    def walk(e):
        if isinstance(e, (SiteE, GaussE)):
            found.add(e)
        else:
            for a in e.args:
                walk(a)
    walk(expr)
    return sorted(found, key=sp.sstr)


def _with_atoms(expr, fn):
    """fn(expr) with every outermost average held as a symbol (so that simplify and solve see a rational
    function of the variables and leave the averages alone)."""
    avgs = _outer_averages(expr)
    atoms = sp.symbols(f"_A0:{len(avgs)}")
    out = fn(expr.xreplace(dict(zip(avgs, atoms))))
    back = dict(zip(atoms, avgs))
    return [o.xreplace(back) for o in out] if isinstance(out, list) else out.xreplace(back)


def _number(x):
    """An exact sympy number for r (from its decimal repr) or M."""
    if isinstance(x, sp.Basic):
        return x
    if isinstance(x, int):
        return sp.Integer(x)
    return sp.Rational(repr(float(x)))


class LearningDerivation(Derivation):
    """:class:`~densehebb.theory.symbolic.Derivation` of a learning model: variables (n, C, v), arguments of
    the JAX functions (n, C, v, alpha, beta).  r and M are symbols unless given (``self.r``, ``self.M``);
    while R = r^2 + (1 - r^2)/M and rho = (1 - r^2)/(M r^2) (Gaussian site) depend on a symbol the
    expressions keep them as symbols, defined in the header (``self.definitions``)."""

    def __init__(self, P, self_interaction, supervised, normalisation, gaussian, r, M):
        self._P, self._si = P, self_interaction
        self.supervised, self.normalisation, self.gaussian = supervised, normalisation, gaussian
        self.r, self.M = r, M
        self.numeric = not (isinstance(r, sp.Symbol) or isinstance(M, sp.Symbol))
        self.definitions = {R_sym: r ** 2 + (1 - r ** 2) / M, rho_sym: (1 - r ** 2) / (M * r ** 2)}
        # R and rho stay symbols while they depend on a symbol (r = 1: both numbers, R = 1, rho = 0)
        self.R, self.rho = (val if val.is_number else sym for sym, val in self.definitions.items())
        self.norm = r ** P if normalisation == "r" else self.R ** sp.Rational(P, 2)
        self.g = r ** P / self.norm
        if gaussian:
            self.s = 1 + sp.sqrt(self.rho) * u
            self.site = (u,)
        else:
            self.s = S_sym / (M * r)
            self.site = (S_sym, M, r)
        super().__init__(None, self._free_energy(), (n, C, v))

    P = property(lambda self: self._P)
    self_interaction = property(lambda self: self._si)
    ansatz = property(lambda self: "rs")
    convention = property(lambda self: CONVENTION_ALL_TUPLES if self._si else CONVENTION_DISTINCT)
    dataset = property(lambda self: "supervised" if self.supervised else "unsupervised")
    args = property(lambda self: ARGS)

    # ---- the free energy ----------------------------------------------------------------------------
    @cached_property
    def xi(self):
        """xi(q) (P >= 3; for P = 2 the Gaussian part of the soft-mode noise), a sympy expression in q."""
        a = sp.Poly(noise_covariance(self.P, self._si) / alpha, q_sym)
        M, r = self.M, self.r
        terms = []
        for (j,), aj in zip(a.monoms(), a.coeffs()):
            if self.supervised:
                terms.append(aj * self.R ** self.P / self.norm ** 2 * q_sym ** j)
            else:
                terms.append(aj * (1 + (M - 1) * r ** (2 * j)) / (M * self.norm ** 2) * q_sym ** j)
        return alpha * sp.Add(*terms)

    @cached_property
    def soft_modes(self):
        """P = 2: [(w_k, gamma_k)] of one non-condensed class."""
        M, r, nrm = self.M, self.r, self.norm
        if self.supervised:
            return [(sp.Integer(1), self.R / nrm)]
        return [(sp.Integer(1), (1 + (M - 1) * r ** 2) / (M * nrm)), (M - 1, (1 - r ** 2) / (M * nrm))]

    def field(self):
        """The site field g h(n) s."""
        return self.g * n ** (self.P - 1) / sp.factorial(self.P - 1) * self.s

    def _free_energy(self):
        P = self.P
        U = (P - 1) * n ** P / sp.factorial(P)
        lnc = SiteE(GaussE(sp.log(2 * sp.cosh(beta * (self.field() + sp.sqrt(v) * z)))), *self.site) / beta
        if P == 2:
            modes = self.soft_modes
            c_conv = 0 if self._si else alpha / 2 * sp.Add(*[w * gk for w, gk in modes])
            noise = sp.Add(*[alpha * w / 2 * (sp.log(1 - gk * C) / beta - gk * (1 - C / beta) / (1 - gk * C))
                             for w, gk in modes])      # one term per mode (differentiated term by term)
            return c_conv + self.g * U + v * C / 2 + noise - lnc
        xi = self.xi
        noise = beta / 2 * (xi.subs(q_sym, 1) - xi.subs(q_sym, 1 - C / beta))
        return self.g * U + v * C / 2 - noise - lnc

    # ---- stationarity -------------------------------------------------------------------------------
    def condition(self, x):
        """df/dx, differentiated term by term (Stein's lemma in z and linearity of the averages for the site
        term, each other term factored)."""
        if x not in self._conds:
            out = 0
            for t in sp.Add.make_args(self.free_energy):
                d = sp.diff(t, x)
                out += site_linear(stein_z(tidy(d))) if d.has(SiteE, GaussE) else sp.factor(d)
            self._conds[x] = _with_atoms(tidy(out), sp.factor_terms)
        return self._conds[x]

    @cached_property
    def fixed_point(self):
        """[n = E[s tanh], C = beta (1 - E tanh^2), v = xi'(1 - C/beta)] (P = 2: v = alpha sum_k w_k gamma_k^2
        (1 - C/beta)/(1 - gamma_k C)^2), each solved from its stationarity condition (df/dn divided by
        g h'(n), df/dv, df/dC), which is linear in that variable once the site averages are held fixed."""
        hp = self.g * n ** (self.P - 2) / sp.factorial(self.P - 2)
        Q = sp.Dummy("q")

        def solve_linear(e, x):
            c1 = sp.simplify(e.diff(x))
            if c1 == 0 or c1.has(x):
                raise RuntimeError(f"the {x} condition is not linear in {x}: {e}")
            c0 = sp.expand(e.subs(x, 0), deep=False)
            rhs = sp.Add(*[sp.factor(-t / c1) for t in sp.Add.make_args(c0)])
            whole = sp.factor(rhs)
            rhs = whole if sp.count_ops(whole) < sp.count_ops(rhs) else rhs
            if x != v:
                return sp.factor_terms(rhs)
            if self.P == 2:         # the soft-mode sum, one factored term per mode
                return rhs
            # P >= 3: a polynomial in q = 1 - C/beta, i.e. xi'(q)
            return sp.collect(sp.expand(rhs.subs(C, beta * (1 - Q))), Q, sp.factor).subs(Q, 1 - C / beta)

        out = []
        for x, cond in ((n, self.condition(n) / hp), (C, self.condition(v)), (v, self.condition(C))):
            out.append(sp.Eq(x, _with_atoms(cond, lambda e: solve_linear(e, x))))
        return out

    # ---- printing -----------------------------------------------------------------------------------
    def header(self) -> list:
        """The lines that define the symbols of the expressions (site distribution, R, Norm, noise)."""
        given = ", ".join(f"{k} = {sp.sstr(val)}" for k, val in (("r", self.r), ("M", self.M))
                          if not isinstance(val, sp.Symbol))
        site = ("s = 1 + sqrt(rho)*u, u ~ N(0, 1) (gaussian site average)" if self.gaussian else
                "s = S/(M*r), S = M - 2*k with probability binomial(M, k)*((1 + r)/2)**(M - k)*((1 - r)/2)**k, "
                "k = 0..M (E_S: the exact binomial site average)")
        defs = "".join(f"; {sym} = {sp.sstr(self.definitions[sym])}" for sym in (R_sym, rho_sym)
                       if getattr(self, str(sym)) == sym and (sym == R_sym or self.gaussian))
        noise = ("soft modes (w, gamma): " + ", ".join(f"({sp.sstr(w)}, {sp.sstr(gk)})" for w, gk in self.soft_modes)
                 if self.P == 2 else f"xi(q) = {sp.sstr(self.xi)}")
        return [f"P = {self.P}, ansatz = rs, convention = {self.convention}, dataset = {self.dataset}, "
                f"normalisation = {self.normalisation}, " + (given or "r, M symbolic"),
                f"variables n (class-mean overlap), C = beta*(1 - q), v; Norm = {sp.sstr(self.norm)}, "
                f"g = r**P/Norm = {sp.sstr(self.g)}" + defs, site, noise]

    def text(self) -> str:
        lines = self.header() + [f"f = {sp.sstr(self.free_energy)}", "stationarity:"]
        lines += [f"  df/d{x} = {sp.sstr(c)} = 0" for x, c in self.conditions.items()]
        lines += ["fixed-point form:"] + [f"  {sp.sstr(e.lhs)} = {sp.sstr(e.rhs)}" for e in self.fixed_point]
        return "\n".join(lines)

    def latex(self) -> str:
        if self.gaussian:
            site = r"s = 1 + \sqrt{\rho}\, u,\; u \sim \mathcal{N}(0, 1)"
        else:
            site = (r"s = \frac{S}{M r},\; S = M - 2k \text{ w.p. } \binom{M}{k} \left(\tfrac{1 + r}{2}\right)^{M - k}"
                    r"\left(\tfrac{1 - r}{2}\right)^{k},\; k = 0..M")
        for sym in (R_sym, rho_sym):
            if getattr(self, str(sym)) == sym and (sym == R_sym or self.gaussian):
                site += r",\; %s = %s" % (sp.latex(sym), sp.latex(self.definitions[sym]))
        rows = [r"&" + site, r"f &= " + sp.latex(self.free_energy)]
        rows += [r"\frac{\partial f}{\partial %s} &= %s = 0" % (sp.latex(x), sp.latex(c))
                 for x, c in self.conditions.items()]
        rows += [sp.latex(e.lhs) + " &= " + sp.latex(e.rhs) for e in self.fixed_point]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    # ---- numerics -----------------------------------------------------------------------------------
    def _numeric(self, exprs):
        if not self.numeric:
            raise ValueError("to evaluate the learning equations give r and M as numbers "
                             "(derive_learning(..., r=0.8, M=10) or derive(Model(examples=Examples(M, r))))")
        return [expand_averages(sp.sympify(e)) for e in exprs]

    def to_jax(self, which="fixed_point", n=None):
        """JAX callable (n, C, v, alpha, beta) -> the fixed-point residuals lhs - rhs (order n, C, v) or the
        conditions (df/dn, df/dC, df/dv), float64.  The binomial site average is summed exactly (M + 1 terms),
        E_z (and E_u for the Gaussian site) by n-node Gauss-Hermite (default theory.quadrature.DEFAULT_NODES).
        Needs r and M as numbers."""
        return to_jax(self._numeric(self._equations(which)), ARGS, int(n) if n else DEFAULT_NODES)

    def free_energy_jax(self, n=None):
        """JAX callable (n, C, v, alpha, beta) -> f, float64 (needs r and M as numbers)."""
        fn = to_jax(self._numeric([self.free_energy]), ARGS, int(n) if n else DEFAULT_NODES)
        return lambda *a: fn(*a)[0]


@lru_cache(maxsize=None)
def _derive(P, si, supervised, normalisation, gaussian, r, M):
    return LearningDerivation(P, si, supervised, normalisation, gaussian, r, M)


def derive_learning(P: int, convention: str = "distinct-indices", supervised: bool = True,
                    normalisation: str = "r", gaussian: bool = False, r=None, M=None) -> LearningDerivation:
    """Derive the RS stationarity equations of a dense network learning from examples (theory.learning's
    free energy, in sympy).  r and M stay symbols when None; otherwise they are substituted (r as the exact
    rational of its decimal form).  Cached."""
    spec = Model(P=P, convention=convention)          # validates P and the convention
    if normalisation not in NORMALISATIONS:
        raise ValueError(f"unknown normalisation {normalisation!r}; available: {', '.join(NORMALISATIONS)}")
    if r is not None or M is not None:                 # validated as Examples does
        Examples(M=1 if M is None else M, r=1.0 if r is None else r)
    rr = r_sym if r is None else _number(r)
    MM = M_sym if M is None else _number(M)
    return _derive(P, spec.self_interaction, bool(supervised), normalisation, bool(gaussian), rr, MM)


def derive_model(model: Model) -> LearningDerivation:
    """:func:`derive_learning` for ``Model(examples=Examples(M, r, ...))`` (RS, high storage)."""
    model.replace(examples=None).require_plain("derive")
    if model.ansatz != "rs":
        raise NotImplementedError("derive: learning from examples is replica symmetric only (ansatz 'rs')")
    ex = model.examples
    d = derive_learning(model.P, model.convention, ex.supervised, ex.normalisation, ex.gaussian, ex.r, ex.M)
    return d
