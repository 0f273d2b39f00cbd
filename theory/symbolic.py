r"""Symbolic layer (sympy): free energies as expressions, stationarity equations by differentiation.

Gaussian averages are the unevaluated operator :class:`GaussE`, E_z[g(z)] with z ~ N(0, 1), which
differentiates under the integral and knows Stein's lemma (E[z g(z)] = E[g'(z)]).  :func:`derive` takes a
:class:`~densehebb.theory.model.Model` (P, convention, ansatz) and returns a :class:`Derivation`: the free
energy, the stationarity conditions df/dx = 0 (derived, simplified with Stein's lemma) and their fixed-point
forms.  It prints as plain text or LaTeX (``_repr_latex_`` renders in notebooks), and ``to_jax`` /
``free_energy_jax`` turn its expressions into JAX functions (Gauss-Hermite for every E_z, nested for 1RSB)
that compute in float64 whatever the user's JAX precision.

    >>> import densehebb as dh
    >>> d = dh.derive(dh.Model(P=4))                  # RS, distinct indices (convention="all-tuples" too)
    >>> d                                             # in a notebook: rendered LaTeX
    >>> eqs = d.to_jax()                              # callable(m, q, v, alpha, beta) -> the three residuals
    >>> f = dh.derive(dh.Model(P=4, ansatz="1rsb")).free_energy_jax()   # f(m, q0, q1, x, v0, v1, alpha, beta)

Variables (``Derivation.args``): RS m (Mattis overlap), q (replica overlap), v (variance of the Gaussian
noise field; for P = 2 the AGS r enters as v = alpha r), alpha, beta; 1RSB m, q0, q1, x (Parisi parameter),
v0, v1 (field variances between states and in total), alpha, beta.  The noise covariance xi(q) is derived
in theory.covariance (re-exported here as ``noise_covariance``).  Equations: docs/theory.md.

Learning from examples (``Model(examples=Examples(M, r, ...))``, RS): :func:`derive` returns the
LearningDerivation of theory.symbolic_learning (variables n, C, v; site average E_S over the binomial S);
:func:`derive_learning` keeps r and M symbolic.
"""
from __future__ import annotations

from functools import cached_property, lru_cache

import sympy as sp

from .covariance import alpha_sym, noise_covariance, q_sym  # noqa: F401  (re-export)
from .model import Model
from .precision import x64
from .quadrature import DEFAULT_NODES

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

RS_ARGS = (m, q, v, alpha, beta)
RSB1_ARGS = (m, q0, q1, x_p, v0, v1, alpha, beta)


def _free_energy_rs(P, self_interaction):
    """RS free energy per neuron f(m, q, v; alpha, beta) (theory.dense_rs in the variables q, v)."""
    lnc = GaussE(sp.log(2 * sp.cosh(beta * (_field(P) + sp.sqrt(v) * z)))) / beta
    if P == 2:  # AGS: exact Gaussian integral of the condensed-pattern-free part (hard + soft)
        D = 1 - beta * (1 - q)
        c0 = 0 if self_interaction else alpha / 2
        return (c0 + m ** 2 / 2 + beta * v * (1 - q) / 2
                + alpha / (2 * beta) * (sp.log(D) - beta * q / D) - lnc)
    xi = noise_covariance(P, self_interaction).subs(q_sym, q)
    xi1 = noise_covariance(P, self_interaction).subs(q_sym, 1)
    return ((P - 1) * m ** P / sp.factorial(P) + beta / 2 * (v * (1 - q) - xi1 + xi) - lnc)


def _free_energy_1rsb(P, self_interaction):
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


def _check_model(model, what):
    if not isinstance(model, Model):
        raise TypeError(f"{what} takes a densehebb.Model, e.g. {what}(Model(P=4, ansatz='1rsb')); "
                        f"got {model!r}")
    model.require_plain(what)
    if model.storage != "high":
        raise NotImplementedError(f"{what}: low storage (K finite) is not derived symbolically; "
                                  "see densehebb.theory.low_storage")


def derive_learning(P, convention="distinct-indices", supervised=True, normalisation="r", gaussian=False,
                    r=None, M=None):
    """Learning from examples with r and M symbolic (None) or given: see
    :func:`densehebb.theory.symbolic_learning.derive_learning`."""
    from .symbolic_learning import derive_learning as _derive_learning

    return _derive_learning(P, convention, supervised, normalisation, gaussian, r, M)


def _learning(model, what):
    """The LearningDerivation of a Model with examples (None without)."""
    if not isinstance(model, Model) or model.examples is None:
        return None
    if model.storage != "high":
        raise NotImplementedError(f"{what}: low storage (K finite) is not derived symbolically; "
                                  "see densehebb.theory.low_storage")
    from .symbolic_learning import derive_model

    return derive_model(model)


def free_energy_expr(model: Model) -> sp.Expr:
    """Free energy per neuron of ``model`` as a sympy expression: RS f(m, q, v; alpha, beta) (see
    theory.dense_rs for the derivation) or 1RSB f(m, q0, q1, x, v0, v1; alpha, beta) (nested averages
    E_z0 ln E_z1 [2 cosh(...)]^x, the conjugate variances v0, v1 explicit; theory.dense_rsb1 eliminates
    them).  P = 2 uses the exact AGS log-det noise, P >= 3 the covariance xi(q) of theory.covariance.
    With ``model.examples``: the learning free energy f(n, C, v; alpha, beta) (theory.symbolic_learning)."""
    d = _learning(model, "free_energy_expr")
    if d is not None:
        return d.free_energy
    _check_model(model, "free_energy_expr")
    return _expr(model.P, model.self_interaction, model.ansatz)


@lru_cache(maxsize=None)
def _expr(P, self_interaction, ansatz):
    return (_free_energy_1rsb if ansatz == "1rsb" else _free_energy_rs)(P, self_interaction)


def _nodes(model, n):
    return int(n) if n else (model.nodes or DEFAULT_NODES)


def free_energy_jax(model: Model, n: int | None = None):
    """JAX callable f(*args) -> free energy per neuron (float64), args as in :class:`Derivation`
    (RS: m, q, v, alpha, beta; 1RSB: m, q0, q1, x, v0, v1, alpha, beta).  Gaussian averages by n-node
    Gauss-Hermite, nested in z0 and z1 for 1RSB (n: model.nodes, else theory.quadrature.DEFAULT_NODES).
    It needs no derivation, so it is cheap to build.  With ``model.examples``: args (n, C, v, alpha, beta)."""
    d = _learning(model, "free_energy_jax")
    if d is not None:
        return d.free_energy_jax(_nodes(model, n))
    f = free_energy_expr(model)
    fn = to_jax([f], _args(model.ansatz), _nodes(model, n))
    return lambda *a: fn(*a)[0]


def _args(ansatz):
    return RSB1_ARGS if ansatz == "1rsb" else RS_ARGS


class Derivation:
    """A free energy, its stationarity conditions df/dx = 0 and their fixed-point forms (sympy expressions)
    for one :class:`Model`.  ``conditions`` and ``fixed_point`` are derived on first use (the 1RSB
    conditions take sympy seconds each); ``condition(x)`` derives one of them."""

    def __init__(self, model, free_energy, variables):
        self.model = model
        self.free_energy = free_energy
        self.variables = variables
        self._conds = {}

    P = property(lambda self: self.model.P)
    ansatz = property(lambda self: self.model.ansatz)
    self_interaction = property(lambda self: self.model.self_interaction)
    convention = property(lambda self: self.model.convention)

    @property
    def args(self):
        """Arguments of the JAX functions: (m, q, v, alpha, beta) for RS; (m, q0, q1, x, v0, v1, alpha, beta)
        for 1RSB."""
        return _args(self.ansatz)

    def condition(self, x):
        """df/dx, simplified (Stein's lemma applied for RS)."""
        if x not in self._conds:
            d = sp.diff(self.free_energy, x)
            self._conds[x] = sp.simplify(d if self.ansatz == "1rsb" else stein(d))
        return self._conds[x]

    @property
    def conditions(self):
        """{x: df/dx} for every variable x, in the order of ``variables``."""
        return {x: self.condition(x) for x in self.variables}

    @cached_property
    def fixed_point(self):
        """The stationarity conditions solved for one variable each (list of sp.Eq): RS m = E tanh,
        q = E tanh^2, v = xi'(q) (P = 2: alpha r); 1RSB the q0, q1 conditions solved for v0, v1."""
        if self.ansatz == "1rsb":
            sol = sp.solve([sp.Eq(self.condition(q0), 0), sp.Eq(self.condition(q1), 0)], [v0, v1], dict=True)
            if len(sol) != 1:
                return []
            return [sp.Eq(v0, sp.simplify(sol[0][v0])), sp.Eq(v1, sp.simplify(sol[0][v1]))]
        conds = {x: self.condition(x) for x in (q, v)}
        # read off the conditions with each Gaussian average held as an atom
        avgs = sorted({a for c in conds.values() for a in sp.preorder_traversal(c) if isinstance(a, GaussE)},
                      key=sp.sstr)
        atoms = sp.symbols(f"_A0:{len(avgs)}")
        back = dict(zip(atoms, avgs))
        t = sp.tanh(beta * (_field(self.P) + sp.sqrt(v) * z))
        fixed = [sp.Eq(m, GaussE(t))]  # m = E tanh
        # q from df/dv = 0, v from df/dq = 0
        sol_q = sp.solve(sp.Eq(conds[v].subs(dict(zip(avgs, atoms))), 0), q)
        fixed.append(sp.Eq(q, absorb(stein(sol_q[0].subs(back)))))
        sol_v = sp.solve(sp.Eq(conds[q].subs(dict(zip(avgs, atoms))), 0), v)
        fixed.append(sp.Eq(v, sp.factor(sol_v[0].subs(back))))
        return fixed

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

    def _equations(self, which):
        """The fixed-point residuals lhs - rhs (``"fixed_point"``) or the conditions df/dx (``"conditions"``)."""
        if which == "fixed_point":
            return [e.lhs - e.rhs for e in self.fixed_point]
        if which == "conditions":
            return list(self.conditions.values())
        raise ValueError(f"which must be 'fixed_point' or 'conditions', got {which!r}")

    def to_jax(self, which="fixed_point", n=None):
        """JAX callable (*self.args) -> array of the equations, float64: the fixed-point residuals lhs - rhs
        (``which="fixed_point"``; RS: m, q, v; 1RSB: v0, v1) or the conditions df/dx (``"conditions"``, in
        the order of ``variables``).  E_z by n-node Gauss-Hermite (nested for 1RSB; n: model.nodes, else
        DEFAULT_NODES)."""
        return to_jax(self._equations(which), self.args, _nodes(self.model, n))

    def free_energy_jax(self, n=None):
        """JAX callable (*self.args) -> f, float64 (see :func:`free_energy_jax`)."""
        return free_energy_jax(self.model, n)


def _outermost_averages(exprs):
    """The GaussE nodes of ``exprs`` that are not inside another GaussE (sorted, for a stable order)."""
    found = set()

    def walk(e):
        if isinstance(e, GaussE):
            found.add(e)
        else:
            for a in e.args:
                walk(a)
    for e in exprs:
        walk(sp.sympify(e))
    return sorted(found, key=sp.sstr)


def _compile(exprs, args, nodes, weights):
    """evaluate(vals) -> list of the values of ``exprs`` at ``args`` = vals (arrays of one shape S).  Each
    outermost E_w is a weighted sum over Gauss-Hermite nodes on a new leading axis; its integrand is compiled
    the same way with w as an extra argument, so nested averages (1RSB: E_z0 ln E_z1) work at any depth."""
    import jax.numpy as jnp

    avgs = _outermost_averages(exprs)
    syms = sp.symbols(f"_G0:{len(avgs)}")
    outer = [sp.sympify(e).xreplace(dict(zip(avgs, syms))) for e in exprs]
    f_outer = sp.lambdify(tuple(args) + tuple(syms), outer, modules="jax")
    inner = [_compile([a.args[0]], tuple(args) + (a.var,), nodes, weights) for a in avgs]

    def evaluate(vals):
        nd = jnp.ndim(vals[0]) if vals else 0
        zz = jnp.asarray(nodes).reshape((-1,) + (1,) * nd)
        ww = jnp.asarray(weights).reshape(zz.shape)
        lifted = [v[None] for v in vals]
        g = [jnp.sum(ww * jnp.asarray(fi(lifted + [zz])[0]), axis=0) for fi in inner]
        return f_outer(*vals, *g)
    return evaluate


def to_jax(exprs, args, n=DEFAULT_NODES):
    """Lambdify expressions containing GaussE (nested averages included) to one JAX function of ``args``
    returning the stacked values, broadcast over the arguments.  It computes in float64 (inside
    :func:`~densehebb.theory.precision.x64`) even where JAX's 64-bit mode is off.

    Accuracy: plain n-node Gauss-Hermite, ~1e-10 where the integrand is smooth on the scale of z (T of the
    order of the field's width); at low T the integrands have a boundary layer of width ~T and the error
    grows (P = 4 1RSB at T = 0.005: ~2e-7 in f with n = 160, ~3e-8 with n = 300).  n <= 360 (NumPy's
    Gauss-Hermite weights overflow beyond).  The numerical theory (dense_rs, dense_rsb1) uses rules built
    for that boundary layer and is the reference."""
    import numpy as np

    from .quadrature import hermite_rule

    with np.errstate(all="ignore"):
        nodes, weights = hermite_rule(int(n))
    if int(n) < 1 or not (np.all(np.isfinite(nodes)) and np.all(np.isfinite(weights))):
        raise ValueError(f"n = {n}: the Gauss-Hermite rule needs 1 <= n <= 360")
    evaluate = _compile(list(exprs), tuple(args), nodes, weights)

    @x64
    def fn(*vals):
        import jax.numpy as jnp

        if len(vals) != len(args):
            raise TypeError(f"expected {len(args)} arguments ({', '.join(map(str, args))}), got {len(vals)}")
        vals = jnp.broadcast_arrays(*(jnp.asarray(a, dtype=jnp.float64) for a in vals))
        shape = vals[0].shape if vals else ()
        return jnp.stack([jnp.broadcast_to(jnp.asarray(r, dtype=jnp.float64), shape) for r in evaluate(list(vals))])
    return fn


@lru_cache(maxsize=None)
def derive(model: Model) -> Derivation:
    """Derive the stationarity equations of ``model`` (P, convention, ansatz "rs" or "1rsb") by
    differentiating its free energy (:func:`free_energy_expr`).  RS variables (m, q, v); 1RSB
    (m, q0, q1, x, v0, v1), whose q0- and q1-conditions are linear in v0, v1 and give them in closed form
    (v = xi'(q) for P >= 3, the AGS alpha r0, alpha r1 for P = 2).  Cached per model.

    ``Model(examples=Examples(M, r, ...))`` (RS): the learning free energy of theory.learning in (n, C, v)
    with r and M substituted (:func:`derive_learning` keeps them symbolic), a LearningDerivation
    (theory.symbolic_learning)."""
    d = _learning(model, "derive")
    if d is not None:
        return d
    _check_model(model, "derive")
    variables = RSB1_ARGS[:6] if model.ansatz == "1rsb" else RS_ARGS[:3]
    return Derivation(model, free_energy_expr(model), variables)
