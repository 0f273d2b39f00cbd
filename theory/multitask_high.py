r"""Multitasking at high storage: diluted patterns, K = alpha N^(P-1), replica-symmetric theory (any P >= 2).

Patterns xi^mu_i in {-1, 0, +1}, P(0) = d, P(+-1) = (1 - d)/2 (docs/conventions.md "Diluted patterns"),
unnormalised overlaps m_mu = (1/N) sum_i xi^mu_i sigma_i (at most 1 - d).  n patterns condense (n = 1: the pure
state; n > 1: hierarchical or parallel states with amplitudes m_1..m_n); the K - n others act as Gaussian noise.

Noise of the non-condensed patterns (derivation: docs/theory.md "Multitasking at high storage").  For one
pattern, x_i = xi_i sigma_i and y_i = xi_i tau_i; in E[prod_{i in A} x_i prod_{j in B} y_j] only A = B
survives (odd moments of xi vanish) and gives prod_{i in A} xi_i^2 sigma_i tau_i, with E xi^2 = 1 - d, so for
distinct indices E[e_P(x) e_P(y)] = (1-d)^P e_P(sigma o tau) and

    xi_d(q) = (1 - d)^P xi_0(q)          (xi_0 = alpha q^P / P!: theory.covariance)

exactly at leading order.  For all tuples, u = sum_i xi_i sigma_i / sqrt(N) is Gaussian with variance 1 - d and
covariance (1 - d) q with its tau-twin, so Cov(u^P, w^P) scales by (1 - d)^P as well: every coefficient of the
all-tuples xi(q) is multiplied by (1 - d)^P.  P = 2 (AGS, each pattern O(1)): the replicated Gaussian
integral gives det(1 - beta gamma Q)^(-1/2) with gamma = 1 - d (the soft-mode form of theory.learning with one
mode of strength gamma), and the distinct-index constant alpha gamma / 2.

Free energy per neuron, variables x = (m_1..m_n, C, v) with C = beta (1 - q) (T = 0 is the exact limit):

    f = c + (P-1)/P! sum_k m_k^P + v C / 2 - Noise(C) - E_xi E_z T ln 2cosh(beta (h_xi + sqrt(v) z))
    h_xi = sum_k xi_k m_k^(P-1) / (P-1)!

with E_xi the exact average over the condensed entries xi in {-1, 0, 1}^n (3^n configurations, folded by the
global flip: theory.multitask.half_configurations) and Noise the storage one with alpha -> alpha (1 - d)^P
(P >= 3) or the gamma-mode (P = 2).  Stationarity (by autodiff): m_k = E[xi_k tanh], v = xi_d'(q)
(P = 2: alpha gamma^2 q / (1 - gamma C)^2), C = beta (1 - q).  Replicon: 1 - beta^2 xi_d''(q) E sech^4.

Closed form at T = 0, P >= 3: q = 1, v = alpha (1-d)^P / (P-1)! does not depend on m, and the pure state
m = (1 - d) u obeys u = erf((1-d)^(P/2-1) u^(P-1) / sqrt(2 alpha (P-1)!)): the d = 0 equation at the load
alpha / (1-d)^(P-2), so the RS capacity (end of the retrieval branch) is alpha_c(d) = (1 - d)^(P-2) alpha_c(0).
The hierarchical state's level k lives on the sites where patterns 1..k-1 are blank, so its n levels end at
alpha_c ~ d^(2(n-1)(P-1)) alpha_c(d), up to terms exponentially small in d^(-2(P-1)).

The pure state (n = 1) is the Model(dilution=d) of the ordinary RS solver (theory.solver.model_for returns
:class:`DilutedRS`), so densehebb.solve / capacity / the fold machinery serve it; n > 1 is solved here
(:func:`solve_state`, :func:`state_capacity`) with the same Result guarantees (status, residual, NaN when
not converged).
"""
from __future__ import annotations

import math
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from . import dense_rs
from . import quadrature as Q
from .covariance import noise_coefficients
from .model import Model
from .numerics import FP_MAXITER, FP_TOL, NEWTON_MAXITER, POLISH, TOL_RS, fixed_point_resume, fold_system, newton, \
    newton_resume
from .precision import x64
from .results import Result, Status

NAMES = ("m", "C", "v")
STATES = ("pure", "hierarchical", "parallel")
N_MAX = 6            # condensed patterns offered by solve_state (3^n site configurations)
CLASS_TOL = 1e-6


def noise_factor(P: int, d) -> float:
    """(1 - d)^P: the non-condensed patterns' noise covariance relative to d = 0 (P >= 3; P = 2: gamma = 1 - d)."""
    return (1.0 - d) ** P


def noise_covariance_diluted(q, alpha, P: int, d, self_interaction: bool = False, deriv: int = 0):
    """xi_d(q) = (1 - d)^P xi_0(q) (or its derivative): the covariance per neuron of the noise energy,
    E[H(sigma) H(tau)] / N over the diluted non-condensed patterns."""
    return dense_rs.xi(q, alpha * noise_factor(P, d), P, self_interaction, deriv)


class Condensed:
    """RS theory of n condensed diluted patterns at high storage (static: P, convention, n, nodes; d may be a
    traced number).  Variables x = (m_1..m_n, C, v)."""

    def __init__(self, P: int, self_interaction: bool, n: int, d, nodes: int = 0):
        self.P, self.si, self.k = int(P), bool(self_interaction), int(n)
        self.d = d
        self.n = nodes or Q.DEFAULT_NODES
        from .multitask import half_configurations

        xi, mult = half_configurations(self.k)
        self.xi, self.mult = jnp.asarray(xi), jnp.asarray(mult)
        self.gamma = 1.0 - d
        self.g_max = self.gamma   # P = 2: the paramagnet exists for T > gamma (read by phase_diagrams.lines)
        self.NAMES = tuple(f"m{i + 1}" for i in range(n)) + ("C", "v") if n > 1 else NAMES
        self.EXTRA = ()
        self.paramagnet_is_exact = self.P == 2 or noise_coefficients(self.P, self.si)[1] == 0
        self.perm = jnp.array(list(range(n)) + [n + 1, n])

    # ------------------------------------------------------------------ pieces
    def weights(self):
        from .multitask import weights

        return weights(self.xi, self.d, self.mult)

    def fields(self, m):
        return self.xi @ (m ** (self.P - 1)) / math.factorial(self.P - 1)

    def site_avg(self, fn, m, v, T, per_xi=None):
        """E_xi E_z[fn(h_xi, v, T)] (times ``per_xi`` (configs, ...) when given)."""
        vals = fn(self.fields(m), v, T, self.n)
        w = self.weights()
        if per_xi is not None:
            return (per_xi * (w * vals)[:, None]).sum(0)
        return jnp.sum(w * vals)

    def _noise(self, C, alpha, T):
        """Noise(C) (the term -Noise enters f) and the convention's constant."""
        if self.P == 2:
            g = self.gamma
            use_log = (T > 0) & (alpha > 0)
            arg = jnp.where(use_log, 1.0 - g * C, 1.0)
            core = jnp.where(use_log, T * jnp.log(arg), 0.0) - g * (1.0 - C * T) / (1.0 - g * C)
            noise = -0.5 * alpha * (core + g)
            const = -0.5 * alpha * g if self.si else 0.0 * alpha
            return noise, const
        return dense_rs.noise(C, alpha * noise_factor(self.P, self.d), T, self.P, self.si), 0.0 * alpha

    def xi_pp(self, q, C, alpha):
        """The kernel of the replicon: xi_d''(q) (P = 2: alpha gamma^2 / (1 - gamma C)^2)."""
        if self.P == 2:
            return alpha * self.gamma ** 2 / (1.0 - self.gamma * C) ** 2
        return noise_covariance_diluted(q, alpha, self.P, self.d, self.si, 2)

    def xi_p(self, q, C, alpha):
        if self.P == 2:
            return alpha * self.gamma ** 2 * q / (1.0 - self.gamma * C) ** 2
        return noise_covariance_diluted(q, alpha, self.P, self.d, self.si, 1)

    # ------------------------------------------------------------------ the solver interface
    def free_energy(self, x, alpha, T):
        P, k = self.P, self.k
        m, C, v = x[:k], x[k], x[k + 1]
        noise, const = self._noise(C, alpha, T)
        U = (P - 1) / math.factorial(P) * jnp.sum(m ** P)
        return const + U + 0.5 * v * C - noise - self.site_avg(Q.logcosh_avg, m, v, T)

    def raw_equations(self, x, alpha, T):
        """(m_k - E[xi_k tanh], v - xi_d'(q), C - beta (1 - q)) from autodiff of f."""
        k = self.k
        g = jax.grad(self.free_energy)(x, alpha, T)
        hp = x[:k] ** (self.P - 2) / math.factorial(self.P - 2)
        gm = jnp.where(hp != 0, g[:k] / jnp.where(hp != 0, hp, 1.0), g[:k])
        return jnp.concatenate([gm, jnp.stack([2.0 * g[k], 2.0 * g[k + 1]])])

    def equations(self, x, alpha, T):
        e = self.raw_equations(x, alpha, T)
        k = self.k
        a = jnp.where(alpha > 0, alpha, 1.0)
        return jnp.concatenate([e[:k], jnp.stack([e[k] / a, e[k + 1] / jnp.maximum(1.0, jnp.abs(x[k]))])])

    def fixed_point_map(self, x, alpha, T):
        return x - self.raw_equations(x, alpha, T)[self.perm]

    def overlaps(self, x, alpha, T):
        """E[xi_k tanh] (the right-hand side of the m equations)."""
        k = self.k
        return self.site_avg(Q.tanh_avg, x[:k], x[k + 1], T, per_xi=self.xi)

    def order_parameters(self, x, alpha, T):
        k = self.k
        m, C, v = x[:k], x[k], x[k + 1]
        q = jnp.clip(1.0 - C * T, 0.0, 1.0)
        # alpha = 0, T = 0: sites with h = 0 (every blank site, for n = 1) are free spins
        free = self.site_avg(lambda h, v_, t_, n_: (h == 0).astype(float), m, 0.0, 0.0)
        q = jnp.where((T == 0) & (alpha == 0), 1.0 - free, q)
        r = jnp.where(alpha > 0, v / jnp.where(alpha > 0, alpha, 1.0),
                      self.xi_p(q, C, 1.0) if self.P == 2 else jnp.zeros_like(q))
        return (m[0] if k == 1 else m), q, r

    def replicon(self, x, alpha, T):
        k = self.k
        m, C, v = x[:k], x[k], x[k + 1]
        s4 = self.site_avg(Q.sech4_over_T, m, v, T)
        a = self.xi_pp(1.0 - C * T, C, alpha) * s4
        Tsafe = jnp.where(T > 0, T, 1.0)
        return jnp.where(T > 0, 1.0 - a / Tsafe, jnp.where(a > 0, -jnp.inf, 1.0))

    def v_start(self, alpha, q=1.0):
        return self.xi_p(q, 0.0, alpha)

    def initial_guess(self, branch, alpha, T):
        """n = 1 branches as in dense_rs (retrieval starts at m = 1 - d)."""
        alpha = jnp.asarray(alpha, float)
        T = jnp.asarray(T, float)
        beta = 1.0 / jnp.maximum(T, 1e-300)
        if branch == "retrieval":
            m = (1.0 - self.d) + 0 * alpha
            C = jnp.minimum(beta * 0.1, 0.05) + 0 * alpha
            v = self.v_start(alpha) + 0 * T
        elif branch == "spin-glass":
            m = jnp.zeros_like(alpha)
            v = self.v_start(alpha) + 0 * T
            C = jnp.minimum(jnp.sqrt(2.0 / (jnp.pi * jnp.maximum(v, 1e-12))), 0.5 * beta)
            if self.P == 2:
                C = jnp.minimum(C, 0.5 / self.gamma)
        elif branch == "paramagnetic":
            m = jnp.zeros_like(alpha)
            C = beta + 0 * alpha
            v = (0.0 * alpha if self.P == 2 else self.xi_p(0.0, 0.0, alpha)) + 0 * T
        else:
            raise ValueError(f"unknown branch {branch!r}")
        return jnp.stack(jnp.broadcast_arrays(m, C, v))

    def in_domain(self, x, alpha, T):
        k = self.k
        m, C, v = x[:k], x[k], x[k + 1]
        ok = (C >= 0) & (v >= 0) & (1.0 - C * T >= -1e-12) & jnp.all(jnp.abs(m) <= (1.0 - self.d) * (1 + 1e-12))
        if self.P == 2:
            ok = ok & ((self.gamma * C < 1) | (alpha == 0))
        return ok & jnp.all(jnp.isfinite(x))

    def finalize(self, x, alpha, T):
        k = self.k
        C0 = self.site_avg(Q.sech2_over_T, x[:k], 0.0, T)
        return jnp.where(alpha == 0, x.at[k].set(C0).at[k + 1].set(0.0), x)

    def extra_values(self, x, alpha, T):
        return ()

    def paramagnet_exists(self, alpha, T):
        if self.P == 2:
            return (T > 0) & ((alpha == 0) | (T > self.gamma))
        return T > 0

    def reduced_hessian(self, x, alpha, T):
        """Hessian in m of f(m, C*(m), v*(m)) (the Schur complement of the (C, v) block of the full Hessian):
        the stability of the amplitudes against each other (T = 0, P >= 3: the m-block itself, since v does
        not depend on m there)."""
        k = self.k
        H = jax.hessian(self.free_energy)(x, alpha, T)
        Hmm, Hmy, Hyy = H[:k, :k], H[:k, k:], H[k:, k:]
        return Hmm - Hmy @ jnp.linalg.solve(Hyy, Hmy.T)


class DilutedRS(Condensed):
    """The pure state (n = 1) with the static Model: what theory.solver.model_for returns for
    Model(dilution=d > 0) at high storage (RS)."""

    def __init__(self, spec: Model):
        if spec.ansatz != "rs" or spec.storage != "high":
            raise NotImplementedError("diluted patterns at high storage: replica-symmetric theory only")
        if spec.examples is not None:
            raise NotImplementedError("diluted patterns with learning from examples are not available here")
        super().__init__(spec.P, spec.self_interaction, 1, float(spec.dilution), spec.nodes)
        self.spec = spec


# --------------------------------------------------------------------------------------------- closed forms
def capacity_T0_scaling(P: int, d: float) -> float:
    """alpha_c(d) / alpha_c(0) at T = 0, RS, P >= 3: (1 - d)^(P - 2) (module docstring)."""
    if P < 3:
        raise ValueError("the T = 0 scaling alpha_c(d) = (1-d)^(P-2) alpha_c(0) holds for P >= 3")
    return (1.0 - d) ** (P - 2)


# --------------------------------------------------------------------------------------------- n > 1 states
@lru_cache(maxsize=None)
def _kernels(P: int, si: bool, n: int, nodes: int):
    """Jitted (newton, fixed point, finish, fold) for n condensed patterns; d, alpha, T traced."""
    def model(d):
        return Condensed(P, si, n, d, nodes)

    def solve_one(x0, alpha, T, d):
        th = model(d)
        F = lambda x: th.equations(x, alpha, T)  # noqa: E731
        dom = lambda x: th.in_domain(x, alpha, T)  # noqa: E731
        fixed = jnp.zeros(n + 2, bool) | ((jnp.arange(n + 2) >= n) & (alpha == 0))
        x, res, it, _ = newton_resume(F, x0, fixed, dom, POLISH * TOL_RS, NEWTON_MAXITER)
        return x, res, it

    def fp_one(x0, alpha, T, d):
        th = model(d)
        F = lambda x: th.equations(x, alpha, T)  # noqa: E731
        dom = lambda x: th.in_domain(x, alpha, T)  # noqa: E731
        fixed = jnp.zeros(n + 2, bool) | ((jnp.arange(n + 2) >= n) & (alpha == 0))
        return fixed_point_resume(F, lambda x: th.fixed_point_map(x, alpha, T), x0, fixed, dom, FP_TOL, FP_MAXITER)

    def finish(x, alpha, T, d):
        th = model(d)
        x = th.finalize(x, alpha, T)
        F = th.equations(x, alpha, T)
        F = jnp.where((jnp.arange(n + 2) == n + 1) & (alpha == 0), 0.0, F)
        res = jnp.max(jnp.abs(jnp.where(jnp.isfinite(F), F, jnp.inf)))
        m, q, r = th.order_parameters(x, alpha, T)
        Hr = th.reduced_hessian(x, alpha, T)
        return (x, res, th.in_domain(x, alpha, T), th.free_energy(x, alpha, T), q, r, th.replicon(x, alpha, T), Hr)

    def fold_one(y0, T, d, tol):
        th = model(d)
        G = fold_system(lambda x, a: th.equations(x, a, T))
        dom = lambda y: th.in_domain(y[:-1], y[-1], T) & (y[-1] > 0)  # noqa: E731
        return newton(G, y0, jnp.zeros(n + 3, bool), dom, tol, 80)

    return jax.jit(solve_one), jax.jit(fp_one), jax.jit(finish), jax.jit(fold_one)


def _start(state: str, n: int, d: float, alpha: float, T: float, P: int, si: bool):
    """The K-finite amplitudes of the state (theory.multitask at T; T = 0: its closed forms) and v, C guesses."""
    from .multitask import hierarchical_T0

    if state == "pure":
        m = np.zeros(n)
        m[0] = 1.0 - d
    elif state == "hierarchical":
        m = np.asarray(hierarchical_T0(n, d), dtype=float)
    else:
        m = np.full(n, (1.0 - d) * 0.5 * (1.0 + d))
    th = Condensed(P, si, n, d)
    v = float(th.v_start(alpha))
    C = min(0.05, 0.1 / max(T, 1e-300))
    return np.concatenate([m, [C, v]])


def _classify(m, tol=CLASS_TOL):
    from .multitask import classify

    return classify(np.asarray(m), tol)


@x64
def solve_state(model: Model, n: int, alpha: float, T: float, state: str = "hierarchical", x0=None,
                tol: float = TOL_RS) -> Result:
    """RS saddle point with n condensed diluted patterns at load alpha and temperature T (high storage).

    ``state``: "pure", "hierarchical" (started from the T = 0 closed form m_k = (1-d) d^(k-1)) or "parallel"
    (equal amplitudes); ``x0`` (m_1..m_n, C, v) overrides the start (continuation).  Newton, then the damped
    fixed-point iteration and Newton again if needed.  A Result (kind "saddle"): values m (the n amplitudes, in
    the order of the patterns), q, r = v/alpha, C, f, found (the class of the amplitudes: theory.multitask
    .classify), min_hessian_eigenvalue (smallest eigenvalue of the reduced Hessian in m over the condensed
    patterns), n_condensed; replicon; NaN values unless converged."""
    P, d = model.P, float(model.dilution)
    if model.storage != "high" or model.ansatz != "rs" or model.examples is not None:
        raise ValueError("multitask_high.solve_state: high storage, RS, no examples (Model(P, dilution=d))")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= N_MAX:
        raise ValueError(f"n (condensed patterns) must be an integer in 1..{N_MAX}, got {n!r}")
    if state not in STATES:
        raise ValueError(f"unknown state {state!r}; available: {', '.join(STATES)}")
    if not (np.isfinite(alpha) and alpha >= 0 and np.isfinite(T) and T >= 0):
        raise ValueError("alpha and T must be finite and >= 0")
    si = model.self_interaction
    newton_fn, fp_fn, finish, _ = _kernels(P, si, int(n), model.nodes)
    x_start = np.asarray(_start(state, n, d, alpha, T, P, si) if x0 is None else x0, dtype=float)
    a, t, dd = jnp.asarray(float(alpha)), jnp.asarray(float(T)), jnp.asarray(d)
    x, res, it = newton_fn(jnp.asarray(x_start), a, t, dd)
    if not float(res) <= tol:
        x2, _, it2 = fp_fn(jnp.asarray(x_start), a, t, dd)
        x, res, it3 = newton_fn(x2, a, t, dd)
        it = int(it) + int(it2) + int(it3)
    x, res, ok, f, q, r, lam, Hr = (np.asarray(v) for v in finish(x, a, t, dd))
    res = float(res)
    converged = bool(ok) and res <= tol
    m = x[:n]
    cond = np.abs(m) > CLASS_TOL if P > 2 else np.ones(n, bool)
    hmin = float(np.min(np.linalg.eigvalsh(Hr[np.ix_(cond, cond)]))) if cond.any() else float("nan")
    status = Status.CONVERGED if converged else (Status.NOT_CONVERGED if np.isfinite(res) else Status.DIVERGED)
    sel = (lambda v: v) if converged else (lambda v: np.full(np.shape(v), np.nan))  # noqa: E731
    values = {"m": sel(m), "q": float(sel(q)), "r": float(sel(r)), "C": float(sel(x[n])), "f": float(sel(f)),
              "min_hessian_eigenvalue": float(sel(hmin)),
              "found": _classify(m) if converged else "", "n_condensed": int(np.sum(np.abs(m) > CLASS_TOL))
              if converged else 0}
    inputs = {"alpha": float(alpha), "T": float(T), "dilution": d, "n": int(n), "state": state,
              "overlaps": "unnormalised"}
    return Result(model, "saddle", inputs, values, status, res, int(it), float(sel(lam)),
                  note="high storage, diluted patterns, n condensed (multitask_high)", extra={"raw": x})


@x64
def state_capacity(model: Model, n: int, T: float = 0.0, state: str = "hierarchical", alpha_max: float = 1.0,
                   alpha_start: float = 1e-6, rtol: float = 1e-4) -> Result:
    """End alpha_c of the n-pattern ``state`` in the load at temperature T: continuation in alpha from
    ``alpha_start`` (solved from the K-finite start), existence bisection to a relative bracket ``rtol`` while
    the state keeps its class (all n amplitudes non-zero and, for "parallel", equal; "hierarchical": distinct),
    then the fold Newton (numerics.fold_system) from the last solution (alpha_start is lowered by up to six
    decades if the state does not exist there: deep levels of a hierarchy end at tiny loads).  A Result of
    kind "capacity": alpha_c, m_c (the amplitudes there), bracket, and how it ended (``ended``: "fold", the
    fold Newton converged inside the bracket; "bracket", no fold certified (class change or fold Newton
    failure), alpha_c is then the bracket's lower end, said in the note)."""
    from .numerics import bisect_existence

    d = float(model.dilution)
    P, si = model.P, model.self_interaction

    def keeps(r):
        if not r.converged:
            return False
        m = np.sort(np.abs(np.asarray(r.m)))[::-1]
        if m[-1] < 1e-6:
            return False
        if state == "parallel":
            return bool(m[0] - m[-1] < 1e-6)
        if state == "hierarchical" and n > 1:
            return bool(np.all(np.diff(m) < -1e-6))
        return True

    def at(p, x0):
        r = solve_state(model, n, p, T, state, x0=x0)
        if not keeps(r) and x0 is not None:
            return None
        return np.asarray(r.raw) if keeps(r) else None

    br = None
    for a0 in (alpha_start, 1e-3 * alpha_start, 1e-6 * alpha_start):   # a deep level may end below alpha_start
        br = bisect_existence(at, a0, alpha_max, rtol)
        if br is not None:
            break
    inputs = {"T": float(T), "dilution": d, "n": int(n), "state": state}
    if br is None:
        return Result(model, "capacity", inputs, {"alpha_c": np.nan, "m_c": np.full(n, np.nan)},
                      Status.BRANCH_MISSING, np.inf, 0)
    p_ex, p_ab, x_lo = br
    if not np.isfinite(p_ab):
        return Result(model, "capacity", inputs, {"alpha_c": np.nan, "m_c": np.full(n, np.nan)},
                      Status.NOT_FOUND, np.inf, 0, extra={"bracket": (p_ex, p_ab)})
    fold_fn = _kernels(P, si, int(n), model.nodes)[3]
    y, res, it = fold_fn(jnp.asarray(np.append(x_lo, p_ex)), jnp.asarray(float(T)), jnp.asarray(d), 1e-13)
    y, res = np.asarray(y), float(res)
    ok = res <= 1e-10 and p_ex * (1 - 1e-9) <= y[-1] <= p_ab + 10 * (p_ab - p_ex)
    if ok:
        return Result(model, "capacity", inputs, {"alpha_c": float(y[-1]), "m_c": y[:n], "ended": "fold"},
                      Status.CONVERGED, res, int(it), extra={"raw": y[:-1], "bracket": (p_ex, p_ab)})
    # no fold certified (the state changes class inside the bracket, e.g. levels merging, or the fold Newton
    # failed): report the bracket's lower end, the last load where the state was found
    return Result(model, "capacity", inputs, {"alpha_c": float(p_ex), "m_c": x_lo[:n], "ended": "bracket"},
                  Status.CONVERGED, float(p_ab - p_ex), 0, extra={"raw": x_lo, "bracket": (p_ex, p_ab)},
                  note="no fold certified inside the existence bracket (class change or fold Newton failure): "
                       "alpha_c is the bracket's lower end (relative width rtol)")
