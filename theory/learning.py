r"""Dense Hebbian networks learning from examples: RS theory of the archetype ("learning") state, any P >= 2.

Derivation and independent checks: docs/derivations/learning/ (derivation.md section 0 lists every formula).
Model.examples = Examples(M, r, supervised, normalisation, gaussian).  In the gauge of the condensed class the
site disorder is S = sum_a chi^a (binomial, M + 1 values, P(S = M - 2k) = C(M,k) ((1+r)/2)^(M-k) ((1-r)/2)^k),
s = S/(M r) (E s = 1, Var s = rho), and the signal amplitude is g = r^P / Norm.  One free energy serves the
supervised network and the unsupervised archetype state (they share the single-site problem; only the noise of
the non-condensed classes differs); variables x = (n, C, v) as in :mod:`theory.dense_rs`, so that T = 0 is the
exact limit of the same function:

    f = c_conv + g U(n) + v C / 2 - Noise(C; alpha, T) - E_S E_z[ T ln 2cosh((g h(n) s + sqrt(v) z)/T) ]

    h(n) = n^(P-1)/(P-1)!,  U(n) = (P-1) n^P / P!   (the storage h, U; n = class-mean overlap)

* P >= 3: Noise = [xi(1) - xi(1 - C T)]/(2T) with the learning covariance (per unit alpha, a_j the storage
  coefficients of the convention, :func:`theory.covariance.noise_coefficients`)
      supervised    xi(q)/alpha = (R^P / Norm^2) sum_j a_j q^j
      unsupervised  xi(q)/alpha = sum_j a_j q^j [1 + (M-1) r^(2j)] / (M Norm^2).
* P = 2 (AGS with soft modes (w_k, gamma_k): supervised (1, R/Norm); unsupervised (1, (1+(M-1) r^2)/(M Norm))
  and (M-1, (1-r^2)/(M Norm))):  -Noise = (alpha/2) sum_k w_k [T ln(1 - gamma_k C) - gamma_k (1 - C T)/(1 - gamma_k C)],
  c_conv = (alpha/2) sum_k w_k gamma_k (distinct indices), 0 (all tuples).
* alpha = 0: the low-storage limit (v = 0, C decouples and is set from C = beta (1 - q)).

Stationarity (by autodiff): n = E[s tanh], v = xi'(q) (P = 2: v = alpha sum_k w_k gamma_k^2 q/D_k^2,
D_k = 1 - gamma_k C), C = beta (1 - q); reported besides n: the archetype overlap m = E tanh.
Replicon: 1 - beta^2 xi''(q) E sech^4 (P = 2: xi'' -> alpha sum_k w_k gamma_k^2 / D_k^2).

``gaussian=True``: s = 1 + sqrt(rho) z.  The two Gaussians then combine exactly, g h s + sqrt(v) z' =
g h + sqrt(v + rho (g h)^2) u, so the site average is one Gaussian average of the same quadrature (exact at
T = 0: m = erf(1/sqrt(2 rho)) in low storage), not an extra quadrature dimension.

r = 1 (any M): one site type s = 1, g = 1, xi = the storage xi (unsupervised: gamma_2 = 0): exactly
:mod:`theory.dense_rs`.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from scipy.stats import binom

from . import quadrature as Q
from .covariance import noise_coefficients
from .model import Model

NAMES = ("n", "C", "v")
EXTRA = ("n",)
FP_PERM = jnp.array([0, 2, 1])


def site_distribution(M: int, r: float):
    """(s values, weights, S values) of the exact binomial site disorder; s = S/(M r), weights > 0 only."""
    k = np.arange(M + 1)
    S = (M - 2 * k).astype(float)
    w = binom.pmf(k, M, (1.0 - r) / 2.0)
    keep = w > 0
    return S[keep] / (M * r), w[keep] / w[keep].sum(), S[keep]


def noise_poly(P: int, self_interaction: bool, examples) -> np.ndarray:
    """Coefficients c_j (j = 0..P) of the learning noise covariance per unit alpha, xi(q) = alpha sum_j c_j q^j
    (derivation.md sections 2.2, 2.3; for P = 2 the Gaussian part of the soft-mode noise)."""
    a = np.array(noise_coefficients(P, self_interaction), dtype=float)
    M, r, nrm = examples.M, examples.r, examples.norm(P)
    if examples.supervised:
        return a * examples.R ** P / nrm ** 2
    j = np.arange(P + 1)
    return a * (1.0 + (M - 1) * r ** (2 * j)) / (M * nrm ** 2)


def soft_modes(examples):
    """P = 2: (weights w_k, strengths gamma_k) of the Gaussian soft modes of one non-condensed class."""
    M, r, nrm = examples.M, examples.r, examples.norm(2)
    if examples.supervised:
        return np.array([1.0]), np.array([examples.R / nrm])
    return np.array([1.0, M - 1.0]), np.array([(1.0 + (M - 1) * r * r) / (M * nrm), (1.0 - r * r) / (M * nrm)])


def field(n, P):
    return n ** (P - 1) / math.factorial(P - 1)


def field_prime(n, P):
    return n ** (P - 2) / math.factorial(P - 2)


def _poly(c, q, deriv=0):
    c = np.polynomial.Polynomial(c).deriv(deriv).coef if deriv else c
    out = 0.0
    for k, ck in enumerate(c):
        if ck != 0:
            out = out + ck * q ** k
    return out


class Learning:
    """The RS theory of one learning Model (static: P, convention, protocol, normalisation, M, r, gaussian,
    quadrature order), with the interface :func:`theory.solver.model_for` returns (traced: alpha, T)."""

    NAMES = NAMES
    EXTRA = EXTRA

    def __init__(self, spec: Model):
        ex = spec.examples
        if ex is None:
            raise ValueError("theory.learning needs Model.examples")
        spec.replace(examples=None).require_plain("learning theory")   # dilution etc. still refused
        self.spec, self.ex, self.P, self.si = spec, ex, spec.P, spec.self_interaction
        self.n = spec.nodes or Q.DEFAULT_NODES
        P = self.P
        self.g = ex.r ** P / ex.norm(P)
        self.rho = ex.rho
        self.gaussian = bool(ex.gaussian)
        if self.gaussian:
            self.s = self.w = None
            self.p_zero = 0.0
            self.n_max = float(Q.abs_avg(1.0, math.sqrt(self.rho)))      # E|s|: the T = 0 low-storage n
        else:
            s, w, S = site_distribution(ex.M, ex.r)
            self.s, self.w = s, w
            self.p_zero = float(w[S == 0].sum())                            # free spins (even M)
            self.n_max = float(np.sum(w * np.abs(s)))
        self.c = noise_poly(P, self.si, ex)                                 # xi(q)/alpha coefficients
        if P == 2:
            self.wk, self.gk = soft_modes(ex)
            self.c_conv = 0.0 if self.si else 0.5 * float(np.sum(self.wk * self.gk))
            self.g_max = float(np.max(self.gk[self.wk > 0]))
        self.paramagnet_is_exact = P == 2 or self.c[1] == 0

    # ---- site averages ----------------------------------------------------------------------------
    def _avg(self, fn, n, v, T):
        """E_S E_z[fn(field)] for fn one of the quadrature's (m, v, T) averages."""
        a = self.g * field(n, self.P)
        if self.gaussian:
            return fn(a, v + self.rho * a * a, T, self.n)
        return jnp.sum(jnp.asarray(self.w) * fn(a * jnp.asarray(self.s), v, T, self.n))

    # ---- noise --------------------------------------------------------------------------------------
    def xi(self, q, alpha, deriv=0):
        return alpha * _poly(self.c, q, deriv)

    def _noise(self, C, alpha, T):
        """-(noise part of f) without v C / 2: Noise(C; alpha, T) (P >= 3) or its soft-mode form (P = 2)."""
        if self.P == 2:
            use_log = (T > 0) & (alpha > 0)
            out = 0.0
            for wk, gk in zip(self.wk, self.gk):
                arg = jnp.where(use_log, 1.0 - gk * C, 1.0)
                out = out + wk * (jnp.where(use_log, T * jnp.log(arg), 0.0) - gk * (1.0 - C * T) / (1.0 - gk * C))
            return -0.5 * alpha * out - self.c_conv * alpha
        out = 0.0
        for j, cj in enumerate(self.c):
            if cj == 0 or j == 0:
                continue
            for k in range(1, j + 1):
                out = out + cj * math.comb(j, k) * (-1) ** (k + 1) * C ** k * T ** (k - 1)
        return 0.5 * alpha * out

    # ---- the interface of theory.solver --------------------------------------------------------------
    def free_energy(self, x, alpha, T):
        n, C, v = x[0], x[1], x[2]
        P = self.P
        U = (P - 1) * n ** P / math.factorial(P)
        return self.g * U + 0.5 * v * C - self._noise(C, alpha, T) - self._avg(Q.logcosh_avg, n, v, T)

    def raw_equations(self, x, alpha, T):
        """(n - E[s tanh], v - xi'(q), C - beta (1 - q)) from autodiff of f: ((df/dn)/(g h'(n)), 2 df/dC,
        2 df/dv)."""
        gr = jax.grad(self.free_energy)(x, alpha, T)
        hp = self.g * field_prime(x[0], self.P)
        gn = jnp.where(hp != 0, gr[0] / jnp.where(hp != 0, hp, 1.0), gr[0])
        return jnp.stack([gn, 2.0 * gr[1], 2.0 * gr[2]])

    def equations(self, x, alpha, T):
        e = self.raw_equations(x, alpha, T)
        a = jnp.where(alpha > 0, alpha, 1.0)
        return jnp.stack([e[0], e[1] / a, e[2] / jnp.maximum(1.0, jnp.abs(x[1]))])

    def fixed_point_map(self, x, alpha, T):
        return x - self.raw_equations(x, alpha, T)[FP_PERM]

    def archetype_overlap(self, x, alpha, T):
        """m = E_S E_z tanh (the overlap with the archetype)."""
        return self._avg(Q.tanh_avg, x[0], x[2], T)

    def order_parameters(self, x, alpha, T):
        """(m, q, r): m the archetype overlap, q, and r = v/alpha (alpha = 0: the P = 2 limit
        sum_k w_k gamma_k^2 q/D_k^2, 0 for P >= 3, as in dense_rs)."""
        n, C, v = x[0], x[1], x[2]
        m = self.archetype_overlap(x, alpha, T)
        q = jnp.clip(1.0 - C * T, 0.0, 1.0)
        # T = 0 without noise: the S = 0 sites (even M) are free spins, q -> 1 - P(S = 0)
        q = jnp.where((T == 0) & (alpha == 0) & (n != 0), 1.0 - self.p_zero, q)
        if self.P == 2:
            r_eq = sum(wk * gk * gk * q / (1.0 - gk * C) ** 2 for wk, gk in zip(self.wk, self.gk))
        else:
            r_eq = jnp.zeros_like(q)
        r = jnp.where(alpha > 0, v / jnp.where(alpha > 0, alpha, 1.0), r_eq)
        return m, q, r

    def extra_values(self, x, alpha, T):
        return (x[0],)

    def replicon(self, x, alpha, T):
        n, C, v = x[0], x[1], x[2]
        s4 = self._avg(Q.sech4_over_T, n, v, T)
        if self.P == 2:
            k = alpha * sum(wk * gk * gk / (1.0 - gk * C) ** 2 for wk, gk in zip(self.wk, self.gk))
        else:
            k = self.xi(1.0 - C * T, alpha, 2)
        a = k * s4
        Tsafe = jnp.where(T > 0, T, 1.0)
        return jnp.where(T > 0, 1.0 - a / Tsafe, jnp.where(a > 0, -jnp.inf, 1.0))

    def initial_guess(self, branch, alpha, T):
        alpha = jnp.asarray(alpha, float)
        T = jnp.asarray(T, float)
        beta = 1.0 / jnp.maximum(T, 1e-300)
        if self.P == 2:
            v1 = alpha * float(np.sum(self.wk * self.gk ** 2))
        else:
            v1 = self.xi(1.0, alpha, 1)
        if branch == "retrieval":
            n = self.n_max + 0 * alpha
            C = jnp.minimum(beta * 0.1, 0.05) + 0 * alpha
            v = v1 + 0 * T
        elif branch == "spin-glass":
            n = jnp.zeros_like(alpha)
            if self.P == 2:
                a = jnp.sqrt(2.0 / (jnp.pi * jnp.maximum(v1, 1e-12)))
                C = jnp.minimum(jnp.minimum(a / (1.0 + a), 0.5 / self.g_max), 0.5 * beta)
                v = alpha * sum(wk * gk * gk / (1.0 - gk * C) ** 2 for wk, gk in zip(self.wk, self.gk))
            else:
                v = v1 + 0 * T
                C = jnp.minimum(jnp.sqrt(2.0 / (jnp.pi * jnp.maximum(v, 1e-12))), 0.5 * beta)
        elif branch == "paramagnetic":
            n = jnp.zeros_like(alpha)
            C = beta + 0 * alpha
            v = (0.0 * alpha if self.P == 2 else self.xi(0.0, alpha, 1)) + 0 * T
        else:
            raise ValueError(f"unknown branch {branch!r}")
        return jnp.stack(jnp.broadcast_arrays(n, C, v))

    def in_domain(self, x, alpha, T):
        n, C, v = x[0], x[1], x[2]
        ok = (C >= 0) & (v >= 0) & (1.0 - C * T >= -1e-12) & (jnp.abs(n) <= self.n_max * (1 + 1e-9) + 1e-12)
        if self.P == 2:
            ok = ok & ((self.g_max * C < 1) | (alpha == 0))
        return ok & jnp.all(jnp.isfinite(x))

    def finalize(self, x, alpha, T):
        """alpha = 0: C from its equation C = beta (1 - q) = E (1/T) sech^2, v = 0."""
        C0 = self._avg(Q.sech2_over_T, x[0], 0.0, T)
        return jnp.where(alpha == 0, x.at[1].set(C0).at[2].set(0.0), x)

    def paramagnet_exists(self, alpha, T):
        """q = 0 is a solution (P = 2 needs beta gamma_max < 1 when alpha > 0)."""
        if self.P == 2:
            return (T > 0) & ((alpha == 0) | (T > self.g_max))
        return T > 0
