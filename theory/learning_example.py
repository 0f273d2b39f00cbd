r"""Unsupervised learning from examples: RS theory of the EXAMPLE ("storing") state in high storage, any P >= 2.

Derivation: docs/derivations/learning/derivation.md section 6.  The network retrieves one example eta^{1,1} of
the condensed class (overlap x) and keeps the overlap y with each other example of that class (the ansatz
x_1 = x, x_{b>=2} = y of the K-finite theory, :func:`theory.low_storage.solve_examples` state="example"); the
K - 1 non-condensed classes act as the same Gaussian noise as in the archetype state (:mod:`theory.learning`):
their covariance xi(q) (P >= 3) or soft modes (P = 2) are averages over *their* archetypes and examples only,
functions of the replica overlap q alone, whichever state the condensed class is in.  Variables (x, y, C, v),
C = beta (1 - q), v the noise variance, so that T = 0 is the exact limit of the same function:

    f = E_cond(x, y) + v C / 2 - Noise(C; alpha, T) - E_{chi1, S'} E_z[ T ln 2cosh((h_site + sqrt(v) z)/T) ]
    E_cond = (P-1)/(P! M Norm) [x^P + (M-1) y^P],   h_site = [chi^1 x^(P-1) + S' y^(P-1)] / (M Norm (P-1)!)

over the 2M site types chi^1 = +-1 (probability (1 +- r)/2) and S' = sum_{b>=2} chi^b ~ binomial(M-1, r)
(exact; binomial tails below 1e-17 left out for M > 64 as in :func:`theory.learning.site_distribution`).
Noise(C; alpha, T) is :class:`theory.learning.Learning`'s (unsupervised xi, or the two AGS soft modes).

Stationarity (autodiff of f): x = E[chi^1 tanh], y = E[S' tanh]/(M-1), C = beta (1 - q), v = xi'(q)
(P = 2: the soft-mode v); m = E tanh (archetype overlap), n = (x + (M-1) y)/(M r) (class-mean overlap).
Stability: lambda_AT = 1 - beta^2 xi''(q) E sech^4 (the replicon, as for the archetype state) and lambda_x,
the smallest eigenvalue of the Hessian of f in the M example overlaps x_1..x_M at (x, y, ..., y) with the
noise (q, v) held fixed (exactly the K-finite Hessian of solve_examples at alpha = 0; at alpha > 0 it leaves
out the coupling of the overlaps to q, v).  The Result's ``replicon`` is min(lambda_AT, lambda_x), so that
``stable`` means both are positive.

M = 1: one example per class, no y (reported NaN): the unsupervised network is then the storage network of
the examples with energy scale 1/Norm, f(alpha, T) = f_storage(alpha, T Norm)/Norm, x = m_storage.
r = 1: all examples equal the archetype, x = y identically: the example ansatz always collapses (the
archetype state, i.e. storage).  Status "collapsed" wherever the solution flows to x = y (no example state).
"""
from __future__ import annotations

import math

import jax.numpy as jnp
import jax
import numpy as np
from scipy.stats import binom

from . import quadrature as Q
from .learning import TAIL, Learning
from .model import Model

NAMES = ("x", "y", "C", "v")
EXTRA = ("n", "x", "y", "lambda_x", "lambda_AT")
FP_PERM = np.array([0, 1, 3, 2])  # NumPy: a constant of the traced code, no eager JAX op at import


def example_sites(M: int, r: float):
    """(chi^1, S', weights) of the 2M site types of the example state (weights > 0 only; for M > 64 the
    binomial tails of S' below ``TAIL`` left out and the weights renormalised)."""
    k = np.arange(M)
    Sp = (M - 1 - 2 * k).astype(float)
    p = (1.0 - r) / 2.0
    wS = binom.pmf(k, M - 1, p)
    keep = wS > 0
    if M - 1 > 64 and p > 0:
        keep &= (binom.cdf(k, M - 1, p) >= TAIL) & (binom.sf(k - 1, M - 1, p) >= TAIL)
    Sp, wS = Sp[keep], wS[keep] / wS[keep].sum()
    c1 = np.repeat([1.0, -1.0], Sp.size)
    W = np.repeat([(1.0 + r) / 2.0, (1.0 - r) / 2.0], Sp.size) * np.tile(wS, 2)
    Sp = np.tile(Sp, 2)
    keep = W > 0
    return c1[keep], Sp[keep], W[keep]


class LearningExample(Learning):
    """The RS example state of one unsupervised learning Model, with the interface of
    :func:`theory.solver.model_for` (static path only: the dataset (M, r) is bound at construction)."""

    NAMES = NAMES
    EXTRA = EXTRA

    def __init__(self, spec: Model):
        ex = spec.examples
        if ex is None or ex.supervised:
            raise ValueError("the example state belongs to the unsupervised protocol (Examples(supervised=False))")
        if ex.gaussian:
            raise ValueError("the example state sums over the exact binomial sites (gaussian=False)")
        super().__init__(spec)
        self.M, self.r = int(ex.M), float(ex.r)
        self.cf = 1.0 / (self.M * ex.norm(self.P) * math.factorial(self.P - 1))
        self.e0 = (self.P - 1) / (math.factorial(self.P) * self.M * ex.norm(self.P))
        self.K0 = 1.0 / (math.factorial(self.P - 2) * self.M * ex.norm(self.P)) if self.P >= 2 else 0.0
        self.c1, self.Sp, self.W = (jnp.asarray(a) for a in example_sites(self.M, self.r))

    def bind(self, d, L):
        raise NotImplementedError("the example state is solved with its dataset bound (no traced (M, r))")

    # ---- site averages ----------------------------------------------------------------------------
    def h_site(self, x, y):
        P = self.P
        return self.cf * (self.c1 * x ** (P - 1) + self.Sp * y ** (P - 1))

    def _site(self, fn, x, v, T, weight=None):
        """E_{chi1, S'} [weight * E_z fn(h_site)]."""
        w = self.W if weight is None else self.W * weight
        return jnp.sum(w * fn(self.h_site(x[0], x[1]), v, T, self.n))

    # ---- the interface of theory.solver --------------------------------------------------------------
    def free_energy(self, x, alpha, T):
        xx, y, C, v = x[0], x[1], x[2], x[3]
        P, M = self.P, self.M
        E = self.e0 * (xx ** P + (M - 1) * y ** P)
        return E + 0.5 * v * C - self._noise(C, alpha, T) - self._site(Q.logcosh_avg, x, v, T)

    def _K(self, z):
        """K0 z^(P-2): the curvature scale of f in one example overlap."""
        return self.K0 * z ** (self.P - 2)

    def raw_equations(self, x, alpha, T):
        """(x - E[chi1 tanh], y - E[S' tanh]/(M-1), v - xi'(q), C - beta (1 - q)) from autodiff of f:
        ((df/dx)/K(x), (df/dy)/((M-1) K(y)), 2 df/dC, 2 df/dv).  M = 1: the y equation is y = 0."""
        gr = jax.grad(self.free_energy)(x, alpha, T)

        def div(g, k):
            return jnp.where(k != 0, g / jnp.where(k != 0, k, 1.0), g)
        ex = div(gr[0], self._K(x[0]))
        ey = div(gr[1], (self.M - 1) * self._K(x[1])) if self.M > 1 else x[1]
        return jnp.stack([ex, ey, 2.0 * gr[2], 2.0 * gr[3]])

    def equations(self, x, alpha, T):
        e = self.raw_equations(x, alpha, T)
        a = jnp.where(alpha > 0, alpha, 1.0)
        return jnp.stack([e[0], e[1], e[2] / a, e[3] / jnp.maximum(1.0, jnp.abs(x[2]))])

    def fixed_point_map(self, x, alpha, T):
        return x - self.raw_equations(x, alpha, T)[FP_PERM]

    def fixed_mask(self, branch, alpha):
        """(x, y) free; (C, v) held at alpha = 0 (no noise field; C is then set by :meth:`finalize`)."""
        a0 = alpha == 0
        return jnp.stack([jnp.asarray(False), jnp.asarray(False), a0, a0])

    def order_parameters(self, x, alpha, T):
        """(m, q, r): m = E tanh the archetype overlap, q, r = v/alpha (the AGS noise parameter)."""
        C, v = x[2], x[3]
        m = self._site(Q.tanh_avg, x, v, T)
        q = jnp.clip(1.0 - C * T, 0.0, 1.0)
        h0 = jnp.sum(jnp.where(self.h_site(x[0], x[1]) == 0, self.W, 0.0))   # T = 0, no noise: free spins
        q = jnp.where((T == 0) & (alpha == 0), 1.0 - h0, q)
        return m, q, self._r_noise(q, C, v, alpha)

    def lambda_x(self, x, alpha, T):
        """Smallest eigenvalue of d^2 f/dx_a dx_b = K_a delta_ab - K_a K_b E[chi^a chi^b beta sech^2] at
        (x, y, ..., y), noise fixed: the 2 x 2 block (x, the uniform y direction) and the (M-2)-fold
        transverse eigenvalue among the y's."""
        xx, y, v = x[0], x[1], x[3]
        M = self.M
        h = self.h_site(xx, y)
        bs = Q.sech2_over_T(h, v, T, self.n)
        bs = jnp.where((T == 0) & (v == 0) & (h == 0), jnp.inf, bs)   # a free spin at T = 0
        Kx, Ky = self._K(xx), self._K(y)
        e11 = jnp.sum(self.W * bs)
        a = Kx - Kx * Kx * e11
        if M == 1:
            lam = a
        else:
            e1b = jnp.sum(self.W * bs * self.c1 * self.Sp) / (M - 1)
            ebc = jnp.sum(self.W * bs * (self.Sp ** 2 - (M - 1))) / ((M - 1) * (M - 2)) if M > 2 else 0.0
            b = -math.sqrt(M - 1) * Kx * Ky * e1b
            d = Ky - Ky * Ky * (e11 + (M - 2) * ebc)
            lam = 0.5 * (a + d) - jnp.sqrt(0.25 * (a - d) ** 2 + b * b)
            if M > 2:
                lam = jnp.minimum(lam, Ky - Ky * Ky * (e11 - ebc))
        return jnp.where(jnp.isfinite(lam), lam, -jnp.inf)

    def lambda_at(self, x, alpha, T):
        return self._replicon(self._site(Q.sech4_over_T, x, x[3], T), x[2], alpha, T)

    def replicon(self, x, alpha, T):
        return jnp.minimum(self.lambda_at(x, alpha, T), self.lambda_x(x, alpha, T))

    def extra_values(self, x, alpha, T):
        M = self.M
        n = (x[0] + (M - 1) * x[1]) / (M * self.r)
        y = x[1] if M > 1 else jnp.nan
        return (n, x[0], y, self.lambda_x(x, alpha, T), self.lambda_at(x, alpha, T))

    def collapsed(self, x, alpha, T):
        """No example state: x = y (M >= 2; the archetype state), or x = 0 (M = 1: the spin glass)."""
        return jnp.abs(x[0] - (x[1] if self.M > 1 else 0.0)) < 1e-6

    def initial_guess(self, branch, alpha, T):
        """The pure example (x, y) = (1, r^2) with the retrieval guess of C, v."""
        if branch != "example":
            raise ValueError(f"the example-state theory solves branch 'example', not {branch!r}")
        alpha = jnp.asarray(alpha, float)
        T = jnp.asarray(T, float)
        g = super().initial_guess("retrieval", alpha, T)
        y0 = self.r ** 2 if self.M > 1 else 0.0
        return jnp.stack(jnp.broadcast_arrays(1.0 + 0 * alpha, y0 + 0 * alpha, g[1], g[2]))

    def in_domain(self, x, alpha, T):
        xx, y, C, v = x[0], x[1], x[2], x[3]
        lim = 1 + 1e-9
        ok = (C >= 0) & (v >= 0) & (1.0 - C * T >= -1e-12) & (jnp.abs(xx) <= lim) & (jnp.abs(y) <= lim)
        if self.P == 2:
            ok = ok & ((self.g_max * C < 1) | (alpha == 0))
        return ok & jnp.all(jnp.isfinite(x))

    def finalize(self, x, alpha, T):
        """alpha = 0: C = E (1/T) sech^2 from its equation, v = 0.  Even P: the mirror (-x, -y) -> (x, y)."""
        if self.P % 2 == 0:
            x = jnp.where(x[0] < 0, x.at[0].multiply(-1.0).at[1].multiply(-1.0), x)
        C0 = self._site(Q.sech2_over_T, x, 0.0, T)
        return jnp.where(alpha == 0, x.at[2].set(C0).at[3].set(0.0), x)
