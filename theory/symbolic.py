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
    """E_w[expr] over w ~ N(0,1) (unevaluated).  GaussE(expr) averages over the global z; GaussE(expr, w)
    over another standard Gaussian w (the nested averages of the 1RSB free energy)."""

    nargs = (1, 2)

    @property
    def var(self):
        return self.args[1] if len(self.args) > 1 else z

    def _eval_derivative(self, s):
        return GaussE(sp.diff(self.args[0], s), *self.args[1:])

    def _latex(self, printer):
        sub = "z" if self.var == z else "{%s}" % printer._print(self.var)
        return r"\mathbb{E}_%s\left[%s\right]" % (sub, printer._print(self.args[0]))

    def _sympystr(self, printer):
        return "E_%s[%s]" % (printer._print(self.var), printer._print(self.args[0]))


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


z0, z1 = sp.symbols("z0 z1", real=True)
q0, q1, x_p, v0, v1 = sp.symbols("q0 q1 x v0 v1", real=True)


def free_energy_expr_1rsb(P: int = 2, self_interaction: bool = False):
    """1RSB free energy per neuron f(m, q0, q1, x, v0, v1; alpha, beta) with the field variances v0 (between
    states) and v1 (total) as explicit conjugate variables (theory.dense_rsb1 eliminates them):

        f = U(m) + g(q0, q1, x) + (beta/2)[v1 (1 - q1) + x (v1 q1 - v0 q0)]
            - (1/(beta x)) E_z0 ln E_z1 [2 cosh beta(h(m) + sqrt(v0) z0 + sqrt(v1 - v0) z1)]^x

    g = -(beta/2)[xi(1) + (x - 1) xi(q1) - x xi(q0)] for P >= 3; for P = 2 the AGS log-det,
    g = alpha/2 + (alpha/(2 beta))[(1 - 1/x) ln D1 + (1/x) ln D0 - beta q0/D0], D1 = 1 - beta(1 - q1),
    D0 = D1 - beta x (q1 - q0) (without the alpha/2 for all tuples)."""
    y = beta * (_field(P) + sp.sqrt(v0) * z0 + sp.sqrt(v1 - v0) * z1)
    inner = GaussE((2 * sp.cosh(y)) ** x_p, z1)
    ising = GaussE(sp.log(inner), z0) / (beta * x_p)
    coupling = beta / 2 * (v1 * (1 - q1) + x_p * (v1 * q1 - v0 * q0))
    if P == 2:
        D1 = 1 - beta * (1 - q1)
        D0 = D1 - beta * x_p * (q1 - q0)
        c0 = 0 if self_interaction else alpha / 2
        g = c0 + alpha / (2 * beta) * ((1 - 1 / x_p) * sp.log(D1) + sp.log(D0) / x_p - beta * q0 / D0)
        return m ** 2 / 2 + g + coupling - ising
    xi = noise_covariance(P, self_interaction)
    g = -beta / 2 * (xi.subs(q_sym, 1) + (x_p - 1) * xi.subs(q_sym, q1) - x_p * xi.subs(q_sym, q0))
    return (P - 1) * m ** P / sp.factorial(P) + g + coupling - ising


def derive_1rsb(P: int = 2, self_interaction: bool = False) -> "Derivation":
    """The 1RSB free energy and its stationarity conditions df/dx = 0 for x in (m, q0, q1, x, v0, v1); the
    q0- and q1-conditions are linear in v0, v1 and give them in closed form (fixed_point): v = xi'(q) for
    P >= 3, the AGS alpha r0, alpha r1 for P = 2."""
    f = free_energy_expr_1rsb(P, self_interaction)
    variables = (m, q0, q1, x_p, v0, v1)
    conds = {s: sp.simplify(sp.diff(f, s)) for s in variables}
    fixed = []
    sol = sp.solve([sp.Eq(conds[q0], 0), sp.Eq(conds[q1], 0)], [v0, v1], dict=True)
    if len(sol) == 1:
        fixed = [sp.Eq(v0, sp.simplify(sol[0][v0])), sp.Eq(v1, sp.simplify(sol[0][v1]))]
    return Derivation(P, self_interaction, "1rsb", f, variables, conds, fixed)


def free_energy_1rsb_jax(P: int = 2, self_interaction: bool = False, n: int = 96):
    """JAX callable (m, q0, q1, x, v0, v1, alpha, beta) -> f: :func:`free_energy_expr_1rsb` lambdified, its
    nested Gaussian averages by n-node Gauss-Hermite in z0 and z1 (for checks against theory.dense_rsb1)."""
    import jax.numpy as jnp

    from .quadrature import hermite_rule

    f = free_energy_expr_1rsb(P, self_interaction)
    ising = [a for a in sp.preorder_traversal(f) if isinstance(a, GaussE) and a.var == z0][0]
    inner = [a for a in sp.preorder_traversal(ising) if isinstance(a, GaussE) and a.var == z1][0]
    args = (m, q0, q1, x_p, v0, v1, alpha, beta)
    G = sp.Symbol("_G")
    f_outer = sp.lambdify(args + (G,), f.subs(ising, G), modules="jax")
    f_inner = sp.lambdify((z0, z1) + args, inner.args[0], modules="jax")
    nodes, weights = (jnp.asarray(a) for a in hermite_rule(n))

    def fn(*vals):
        a0, a1 = nodes[:, None], nodes[None, :]
        inner_avg = jnp.sum(weights[None, :] * f_inner(a0, a1, *vals), axis=1)   # E_z1 at each z0 node
        return f_outer(*vals, jnp.sum(weights * jnp.log(inner_avg)))
    return fn


def free_energy_expr(P: int = 2, self_interaction: bool = False, ansatz: str = "rs"):
    """Free energy per neuron: RS f(m, q, v; alpha, beta) (see theory.dense_rs for the derivation), or the
    1RSB one (:func:`free_energy_expr_1rsb`)."""
    if ansatz == "1rsb":
        return free_energy_expr_1rsb(P, self_interaction)
    if ansatz != "rs":
        raise ValueError(f"unknown ansatz {ansatz!r} (rs, 1rsb)")
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
    """Derive the stationarity equations of the P-body network by differentiating its free energy (RS, or
    1RSB via :func:`derive_1rsb`)."""
    if P < 2:
        raise ValueError("P must be >= 2")
    if ansatz == "1rsb":
        return derive_1rsb(P, self_interaction)
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
