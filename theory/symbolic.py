r"""Symbolic layer (sympy): free energies as expressions, stationarity equations by differentiation.

Gaussian averages are the unevaluated operator :class:`GaussE`, E_z[g(z)] with z ~ N(0, 1), which
differentiates under the integral and knows Stein's lemma (E[z g(z)] = E[g'(z)]).  A :class:`Derivation`
holds the free energy, the stationarity conditions df/dx = 0 (derived, simplified with Stein's lemma) and
their fixed-point forms; it prints as plain text or LaTeX (``_repr_latex_`` renders in notebooks) and
``to_jax`` turns any of its expressions into a JAX function (Gauss-Hermite for E_z).

    >>> from theory.symbolic import derive
    >>> d = derive(P=4, ansatz="rs")          # distinct indices; self_interaction=True for all tuples
    >>> d                                       # in a notebook: rendered LaTeX
    >>> eqs = d.to_jax()                        # callable(m, q, v, alpha, beta) -> the three equations

Variables: m (Mattis overlap), q (replica overlap), v (variance of the Gaussian noise field; for P = 2 the
AGS r appears through v = alpha r), alpha, beta.  The noise covariance xi(q) is derived in
theory.covariance (re-exported here as ``noise_covariance``).
"""
from __future__ import annotations

import sympy as sp

from .covariance import alpha_sym, noise_covariance, q_sym  # noqa: F401  (re-export)

z = sp.Symbol("z", real=True)
m, q, v, r = sp.symbols("m q v r", real=True)
alpha, beta = alpha_sym, sp.Symbol("beta", positive=True)


class GaussE(sp.Function):
    """E_z[expr] over z ~ N(0,1) (unevaluated).  Usage: GaussE(expr) (the variable is the global z)."""

    nargs = 1

    def _eval_derivative(self, s):
        return GaussE(sp.diff(self.args[0], s))

    def _latex(self, printer):
        return r"\mathbb{E}_z\left[%s\right]" % printer._print(self.args[0])

    def _sympystr(self, printer):
        return "E_z[%s]" % printer._print(self.args[0])


def _linear_map(expr, term_fn):
    """Rewrite every E_z[sum_k c_k g_k(z)] as sum_k c_k term_fn(g_k) (c_k independent of z)."""
    def rewrite(e):
        inner = sp.expand(e.args[0])
        out = 0
        for t in (inner.as_ordered_terms() if inner.is_Add else [inner]):
            c, rest = t.as_independent(z, as_Add=False)
            out += c * (1 if rest == 1 else term_fn(rest))
        return out
    return expr.replace(lambda e: isinstance(e, GaussE), rewrite)


def pull_constants(expr):
    """Linearity of E_z: move z-independent factors out of GaussE."""
    return _linear_map(expr, GaussE)


def stein(expr):
    """Apply Stein's lemma E[z g(z)] = E[g'(z)] (and linearity of E) wherever it simplifies."""
    def term(rest):
        g = sp.simplify(rest / z)
        if not g.has(sp.zoo) and sp.simplify(g * z - rest) == 0 and not (rest / z).has(1 / z):
            return GaussE(sp.diff(g, z))
        return GaussE(rest)
    return pull_constants(_linear_map(expr, term))


def absorb(expr):
    """Write c + E[g] as E[c + g] and simplify the integrand (e.g. 1 - E sech^2 -> E tanh^2)."""
    expr = sp.expand(expr)
    avgs = [a for a in expr.atoms(GaussE)]
    if len(avgs) != 1:
        return expr
    a = avgs[0]
    coeff = expr.coeff(a)
    rest = sp.simplify(expr - coeff * a)
    if rest.has(GaussE) or coeff == 0:
        return expr
    inner = sp.simplify((rest / coeff + a.args[0]).rewrite(sp.tanh))
    return coeff * GaussE(inner)


def _field(P):
    return m ** (P - 1) / sp.factorial(P - 1)


def free_energy_expr(P: int = 2, self_interaction: bool = False, ansatz: str = "rs"):
    """RS free energy per neuron f(m, q, v; alpha, beta) (see theory.dense_rs for the derivation)."""
    if ansatz != "rs":
        raise NotImplementedError(f"symbolic ansatz {ansatz!r} is not available yet (only 'rs')")
    lnc = GaussE(sp.log(2 * sp.cosh(beta * (_field(P) + sp.sqrt(v) * z)))) / beta
    if P == 2:  # AGS: exact Gaussian integral of the condensed-pattern-free part (hard + soft)
        D = 1 - beta * (1 - q)
        c0 = 0 if self_interaction else alpha / 2
        return (c0 + m ** 2 / 2 + beta * v * (1 - q) / 2
                + alpha / (2 * beta) * (sp.log(D) - beta * q / D) - lnc)
    xi = noise_covariance(P, self_interaction).subs(q_sym, q)
    xi1 = noise_covariance(P, self_interaction).subs(q_sym, 1)
    return ((P - 1) * m ** P / sp.factorial(P) + beta / 2 * (v * (1 - q) - xi1 + xi) - lnc)


class Derivation:
    """A free energy, its stationarity conditions and their fixed-point forms (sympy expressions)."""

    def __init__(self, P, self_interaction, ansatz, f, variables, conditions, fixed_point):
        self.P, self.self_interaction, self.ansatz = P, self_interaction, ansatz
        self.free_energy = f
        self.variables = variables
        self.conditions = conditions  # {x: simplified df/dx}
        self.fixed_point = fixed_point  # list of sp.Eq

    @property
    def convention(self):
        return "all-tuples" if self.self_interaction else "distinct-indices"

    def text(self) -> str:
        lines = [f"P = {self.P}, ansatz = {self.ansatz}, convention = {self.convention}",
                 f"f = {sp.sstr(self.free_energy)}", "stationarity:"]
        lines += [f"  df/d{x} = {sp.sstr(c)} = 0" for x, c in self.conditions.items()]
        lines += ["fixed-point form:"] + [f"  {sp.sstr(e.lhs)} = {sp.sstr(e.rhs)}" for e in self.fixed_point]
        return "\n".join(lines)

    def latex(self) -> str:
        rows = [r"f &= " + sp.latex(self.free_energy)]
        rows += [r"\frac{\partial f}{\partial %s} &= %s = 0" % (sp.latex(x), sp.latex(c))
                 for x, c in self.conditions.items()]
        rows += [sp.latex(e.lhs) + " &= " + sp.latex(e.rhs) for e in self.fixed_point]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def _repr_latex_(self):
        return "$$" + self.latex() + "$$"

    def __repr__(self):
        return self.text()

    def to_jax(self, which="fixed_point", n=160):
        """JAX callable (m, q, v, alpha, beta) -> array of the equations (fixed-point residuals lhs - rhs,
        or the ``conditions`` df/dx), with E_z by ``n``-node Gauss-Hermite."""
        exprs = ([e.lhs - e.rhs for e in self.fixed_point] if which == "fixed_point"
                 else list(self.conditions.values()))
        return to_jax(exprs, (m, q, v, alpha, beta), n)

    def free_energy_jax(self, n=160):
        fn = to_jax([self.free_energy], (m, q, v, alpha, beta), n)
        return lambda *a: fn(*a)[0]


def to_jax(exprs, args, n=160):
    """Lambdify expressions containing GaussE to one JAX function of ``args``."""
    import jax.numpy as jnp

    from .quadrature import hermite_rule

    nodes, weights = hermite_rule(n)
    avgs = sorted({a for e in exprs for a in sp.preorder_traversal(e) if isinstance(a, GaussE)}, key=sp.sstr)
    syms = sp.symbols(f"_G0:{len(avgs)}")
    outer = [e.subs(dict(zip(avgs, syms))) for e in exprs]
    f_outer = sp.lambdify(tuple(args) + tuple(syms), outer, modules="jax")
    f_inner = [sp.lambdify((z,) + tuple(args), a.args[0], modules="jax") for a in avgs]

    def fn(*vals):
        zz = jnp.asarray(nodes).reshape((-1,) + (1,) * jnp.ndim(vals[0]))
        w = jnp.asarray(weights).reshape(zz.shape)
        g = [jnp.sum(w * fi(zz, *vals), axis=0) for fi in f_inner]
        return jnp.stack([jnp.asarray(x) * jnp.ones_like(jnp.asarray(vals[0], float))
                          for x in f_outer(*vals, *g)])
    return fn


def derive(P: int = 2, self_interaction: bool = False, ansatz: str = "rs") -> Derivation:
    """Derive the RS stationarity equations of the P-body network by differentiating its free energy."""
    if P < 2:
        raise ValueError("P must be >= 2")
    f = free_energy_expr(P, self_interaction, ansatz)
    variables = (m, q, v)
    conds = {x: sp.simplify(stein(sp.diff(f, x))) for x in variables}
    # fixed-point forms, read off the conditions with each Gaussian average held as an atom
    avgs = sorted({a for c in conds.values() for a in sp.preorder_traversal(c) if isinstance(a, GaussE)},
                  key=sp.sstr)
    atoms = sp.symbols(f"_A0:{len(avgs)}")
    back = dict(zip(atoms, avgs))
    fixed = []
    t = sp.tanh(beta * (_field(P) + sp.sqrt(v) * z))
    # m = E tanh
    fixed.append(sp.Eq(m, GaussE(t)))
    # q from df/dv = 0, v from df/dq = 0
    cv = conds[v].subs(dict(zip(avgs, atoms)))
    sol_q = sp.solve(sp.Eq(cv, 0), q)
    fixed.append(sp.Eq(q, absorb(stein(sol_q[0].subs(back)))))
    cq = conds[q].subs(dict(zip(avgs, atoms)))
    sol_v = sp.solve(sp.Eq(cq, 0), v)
    fixed.append(sp.Eq(v, sp.factor(sol_v[0].subs(back))))
    return Derivation(P, self_interaction, ansatz, f, variables, conds, fixed)
