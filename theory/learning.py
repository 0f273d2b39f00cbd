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
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
from scipy.stats import binom

from . import quadrature as Q
from .covariance import noise_coefficients
from .model import Model
from .precision import x64

NAMES = ("n", "C", "v")
EXTRA = ("n",)
FP_PERM = np.array([0, 2, 1])  # NumPy: a constant of the traced code, no eager JAX op at import


CONTINUATION_MAXITER = 12   # solve_datasets(fallback=False): Newton steps from a neighbouring solution
TAIL = 1e-17  # binomial tail mass left out on each side (far below float64 resolution of the averages)


def site_distribution(M: int, r: float):
    """(s values, weights, S values) of the exact binomial site disorder; s = S/(M r), weights > 0 only.

    For large M the binomial tails of total mass below ``TAIL`` on each side are left out and the weights
    renormalised (a relative change below 1e-16 of every average), which keeps the sum at O(sqrt(M)) terms."""
    k = np.arange(M + 1)
    S = (M - 2 * k).astype(float)
    p = (1.0 - r) / 2.0
    w = binom.pmf(k, M, p)
    keep = w > 0
    if M > 64 and 0.0 < p:
        keep &= (binom.cdf(k, M, p) >= TAIL) & (binom.sf(k - 1, M, p) >= TAIL)
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


def _poly(c, q, deriv=0, nonzero=None):
    """sum_k c_k q^k (its ``deriv``-th derivative); ``nonzero``: the static pattern of non-zero c_k (so that
    c may be traced)."""
    nz = [ck != 0 for ck in c] if nonzero is None else nonzero
    out = 0.0
    for k in range(deriv, len(nz)):
        if nz[k]:
            out = out + c[k] * math.perm(k, deriv) * q ** (k - deriv)
    return out


def bucket(n: int) -> int:
    """Padded length of the site sum for ``n`` values: the next power of two, at least 8 (one compile per
    bucket serves every dataset that fits)."""
    return max(8, 1 << (int(n) - 1).bit_length())


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
        self.gaussian = bool(ex.gaussian)
        self.c_nz = tuple(bool(a != 0) for a in noise_coefficients(self.P, self.si))   # static structure
        self.paramagnet_is_exact = self.P == 2 or not self.c_nz[1]
        self.L = None                                                       # site values: unpadded
        for k, v in self.values(ex.M, ex.r).items():
            setattr(self, k, v)

    # ---- the dataset's numbers: static (bound at construction) or traced (:meth:`bind`) ------------
    def values(self, M: int, r: float, L: int | None = None) -> dict:
        """Every number of the theory that depends on the dataset (M, r) (P, convention, protocol,
        normalisation and gaussian are this model's): g, rho, n_max, p_zero, the noise coefficients c and,
        for P = 2, the soft modes (wk, gk, c_conv, g_max); exact site sums: s, w, padded with zero weights
        to length ``L`` when given."""
        P = self.P
        ex = self.ex.replace(M=int(M), r=float(r))
        out = {"g": ex.r ** P / ex.norm(P), "rho": ex.rho, "c": noise_poly(P, self.si, ex)}
        if self.gaussian:
            out.update(s=None, w=None, p_zero=0.0, n_max=float(Q.abs_avg(1.0, math.sqrt(ex.rho))))
        else:
            s, w, S = site_distribution(ex.M, ex.r)
            out.update(p_zero=float(w[S == 0].sum()), n_max=float(np.sum(w * np.abs(s))))
            if L is not None:
                if s.size > L:
                    raise ValueError(f"the site sum of M = {M} has {s.size} terms, more than the bucket {L}")
                s, w = np.pad(s, (0, L - s.size)), np.pad(w, (0, L - w.size))
            out.update(s=s, w=w)
        if P == 2:
            wk, gk = soft_modes(ex)
            out.update(wk=wk, gk=gk, c_conv=0.0 if self.si else 0.5 * float(np.sum(wk * gk)),
                       g_max=float(np.max(gk[wk > 0])))
        return out

    def _layout(self, L):
        names = ["g", "rho", "n_max", "p_zero"] + [f"c{j}" for j in range(self.P + 1)]
        if self.P == 2:
            k = 1 if self.ex.supervised else 2
            names += [f"wk{i}" for i in range(k)] + [f"gk{i}" for i in range(k)] + ["c_conv", "g_max"]
        return names + ([] if self.gaussian else [f"s{i}" for i in range(L)] + [f"w{i}" for i in range(L)])

    def site_terms(self, M: int, r: float) -> int:
        """Number of terms of the exact site sum for (M, r) (1 with gaussian=True)."""
        return 1 if self.gaussian else int(site_distribution(int(M), float(r))[0].size)

    def pack(self, M: int, r: float, L: int) -> np.ndarray:
        """The dataset (M, r) as one float64 vector for :meth:`bind` (site sums padded to length L)."""
        v = self.values(M, r, None if self.gaussian else L)
        out = [v["g"], v["rho"], v["n_max"], v["p_zero"], *v["c"]]
        if self.P == 2:
            out += [*v["wk"], *v["gk"], v["c_conv"], v["g_max"]]
        if not self.gaussian:
            out += [*v["s"], *v["w"]]
        return np.asarray(out, dtype=float)

    def bind(self, d, L: int):
        """A copy of this theory with the dataset's numbers taken from the (traced) vector ``d`` (:meth:`pack`
        with the same L): one compiled solver then serves every (M, r) whose site sum fits in L."""
        import copy

        new = copy.copy(self)
        P, i = self.P, 0

        def take(k):
            nonlocal i
            out = d[i:i + k]
            i += k
            return out
        new.g, new.rho, new.n_max, new.p_zero = (take(1)[0] for _ in range(4))
        new.c = take(P + 1)
        if P == 2:
            k = 1 if self.ex.supervised else 2
            new.wk, new.gk = take(k), take(k)
            new.c_conv, new.g_max = take(1)[0], take(1)[0]
        if not self.gaussian:
            new.s, new.w = take(L), take(L)
        assert i == len(self._layout(L))
        new.L = L
        return new

    def _modes(self):
        """P = 2: the soft modes (w_k, gamma_k), gamma_k set to 0 where w_k = 0 (unsupervised M = 1), so that
        an absent mode contributes exactly nothing."""
        return [(wk, jnp.where(wk > 0, gk, 0.0)) for wk, gk in zip(self.wk, self.gk)]

    # ---- site averages ----------------------------------------------------------------------------
    def _avg(self, fn, n, v, T):
        """E_S E_z[fn(field)] for fn one of the quadrature's (m, v, T) averages."""
        a = self.g * field(n, self.P)
        if self.gaussian:
            return fn(a, v + self.rho * a * a, T, self.n)
        return jnp.sum(jnp.asarray(self.w) * fn(a * jnp.asarray(self.s), v, T, self.n))

    # ---- noise --------------------------------------------------------------------------------------
    def xi(self, q, alpha, deriv=0):
        return alpha * _poly(self.c, q, deriv, self.c_nz)

    def _noise(self, C, alpha, T):
        """-(noise part of f) without v C / 2: Noise(C; alpha, T) (P >= 3) or its soft-mode form (P = 2)."""
        if self.P == 2:
            use_log = (T > 0) & (alpha > 0)
            out = 0.0
            for wk, gk in self._modes():
                arg = jnp.where(use_log, 1.0 - gk * C, 1.0)
                out = out + wk * (jnp.where(use_log, T * jnp.log(arg), 0.0) - gk * (1.0 - C * T) / (1.0 - gk * C))
            return -0.5 * alpha * out - self.c_conv * alpha
        out = 0.0
        for j in range(1, self.P + 1):
            if not self.c_nz[j]:
                continue
            cj = self.c[j]
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
        return m, q, self._r_noise(q, C, v, alpha)

    def _r_noise(self, q, C, v, alpha):
        """r = v/alpha (alpha = 0: the P = 2 limit sum_k w_k gamma_k^2 q/D_k^2, 0 for P >= 3)."""
        if self.P == 2:
            r_eq = sum(wk * gk * gk * q / (1.0 - gk * C) ** 2 for wk, gk in self._modes())
        else:
            r_eq = jnp.zeros_like(q)
        return jnp.where(alpha > 0, v / jnp.where(alpha > 0, alpha, 1.0), r_eq)

    def extra_values(self, x, alpha, T):
        return (x[0],)

    def replicon(self, x, alpha, T):
        n, C, v = x[0], x[1], x[2]
        return self._replicon(self._avg(Q.sech4_over_T, n, v, T), C, alpha, T)

    def _replicon(self, s4, C, alpha, T):
        """1 - beta^2 xi''(q) E sech^4 from s4 = beta E sech^4 (the site average of the state)."""
        if self.P == 2:
            k = alpha * sum(wk * gk * gk / (1.0 - gk * C) ** 2 for wk, gk in self._modes())
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
            v1 = alpha * jnp.sum(jnp.asarray(self.wk) * jnp.asarray(self.gk) ** 2)
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
                v = alpha * sum(wk * gk * gk / (1.0 - gk * C) ** 2 for wk, gk in self._modes())
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


# ------------------------------------------------------------------ many datasets in one compiled solver
def template(spec: Model) -> Model:
    """The spec with its dataset's numbers set to a canonical (M, r) = (1, 1): the static part of the solver
    that :func:`solve_datasets` compiles once for every (M, r)."""
    ex = spec.examples
    if ex is None:
        raise ValueError("solve_datasets needs a Model with examples=densehebb.Examples(...)")
    return spec.replace(examples=ex.replace(M=1, r=1.0))


def _check_datasets(M, r):
    Mf, rf = np.asarray(M, dtype=float), np.asarray(r, dtype=float)
    if np.any(~np.isfinite(Mf)) or np.any(Mf < 1) or np.any(Mf != np.round(Mf)):
        raise ValueError("examples: M must be an integer >= 1")
    if np.any(~np.isfinite(rf)) or np.any(rf <= 0) or np.any(rf > 1):
        raise ValueError("examples: r must lie in (0, 1]")
    return Mf.astype(np.int64), rf


def pack_datasets(spec: Model, M, r):
    """(L, d): the packed datasets (M, r) (flat arrays of one length) for the traced solver of
    ``template(spec)``, with L the bucket of the longest site sum."""
    model = Learning(template(spec))
    pairs, inv = np.unique(np.stack([M.astype(float), r]), axis=1, return_inverse=True)
    pairs = [(int(m), float(rr)) for m, rr in pairs.T]
    L = bucket(max(model.site_terms(m, rr) for m, rr in pairs))
    packed = np.stack([model.pack(m, rr, L) for m, rr in pairs])
    return L, packed[np.ravel(inv)]


@x64
def solve_datasets(spec: Model, alpha, T, M, r, branch: str = "retrieval", x0=None, tol=None, fallback=True):
    """The RS learning theory of ``spec`` (P, convention, protocol, normalisation, gaussian) solved at
    broadcastable arrays of (alpha, T, M, r) by one compiled solver: the dataset (M, r) is traced, not
    static (:meth:`Learning.bind`), so a whole threshold scan or (M, T) plane compiles once per branch and
    site-sum bucket.  Same guarantees and fields as :func:`theory.solve` (the AGS noise r is ``r_noise``);
    inputs alpha, T, M, r.  The Result's model is ``spec`` when all points share its dataset, else the
    template with (M, r) = (1, 1) and a note.  ``fallback=False``: Newton only from ``x0`` (no fixed-point
    stage, at most CONTINUATION_MAXITER iterations; for continuation, where a failed Newton is read as "no
    solution here")."""
    from .solver import DATA_CHUNK, TOL, _check_branch, _check_inputs, _fields, _guess_fn, _run_stages

    _check_branch(branch)
    if branch == "example":
        raise ValueError("solve_datasets solves the archetype-state branches; the example state: theory.solve("
                         "model, alpha, T, branch='example') for each dataset")
    a_in, t_in = _check_inputs(alpha, T)
    M_in, r_in = _check_datasets(M, r)
    shape = np.broadcast_shapes(a_in.shape, t_in.shape, M_in.shape, r_in.shape,
                                () if x0 is None else np.shape(x0)[:-1])
    a, t, Mf, rf = (np.broadcast_to(v, shape).ravel() for v in (a_in, t_in, M_in, r_in))
    tmpl = template(spec)
    L, d = pack_datasets(spec, Mf, rf)
    if x0 is None:
        from .numerics import chunked

        x0 = chunked(_guess_fn(tmpl, branch, L), (a, t, d), DATA_CHUNK)[0]
    else:
        x0 = np.broadcast_to(np.asarray(x0, dtype=float), shape + (len(NAMES),)).reshape(-1, len(NAMES))
    flat = _run_stages(tmpl, branch, float(TOL if tol is None else tol), a, t, np.array(x0), (L, d),
                       fallback=fallback, newton_maxiter=CONTINUATION_MAXITER)
    out = {f: v.reshape(shape + v.shape[1:]) for f, v in zip(_fields(tmpl), flat)}
    from .results import Result, Status

    same = bool(np.all(Mf == spec.examples.M) and np.all(rf == spec.examples.r))
    dims = tuple(f"dim_{i}" for i in range(len(shape))) if len(shape) != 1 else ("point",)
    codes = out["status"].astype(np.int8)
    values = {"m": out["m"], "n": out["n"], "q": out["q"], "r_noise": out["r"], "C": out["C"], "f": out["f"]}
    inputs = {"alpha": out["alpha"], "T": out["T"], "M": Mf.reshape(shape).astype(float),
              "r": rf.reshape(shape), "branch": branch}
    note = "" if same else "the dataset (M, r) varies over the points: inputs M and r"
    if not shape:
        return Result(spec if same else tmpl, "saddle", {k: (v if isinstance(v, str) else float(v)) for k, v in
                      inputs.items()}, {k: float(v) for k, v in values.items()}, Status.from_code(int(codes)),
                      float(out["residual"]), int(out["iterations"]), float(out["replicon"]), (),
                      extra={"raw": out["raw"]}, note=note)
    return Result(spec if same else tmpl, "saddle", inputs, values, codes, out["residual"], out["iterations"],
                  out["replicon"], dims, extra={"raw": out["raw"]}, note=note)


@lru_cache(maxsize=None)
def _fold_newton_data(spec: Model, branch: str, L: int):
    """The fold Newton in (x, T) at fixed alpha (:mod:`theory.bifurcation`), vmapped, with the dataset traced."""
    from . import aot
    from .numerics import FOLD_MAXITER, fold_system, newton
    from .solver import model_for

    base = model_for(spec)
    hold = np.arange(len(NAMES)) == 0 if branch != "retrieval" else np.zeros(len(NAMES), bool)

    def run(y0, alpha, d, tol):
        model = base.bind(d, L)

        def dom(y):
            return model.in_domain(y[:-1], alpha, y[-1]) & (y[-1] >= 0)

        G = fold_system(lambda x, p: model.equations(x, alpha, p), jnp.asarray(hold))
        return newton(G, y0, jnp.asarray(np.append(hold, False)), dom, tol, FOLD_MAXITER)

    return aot.jit(jax.vmap(run, in_axes=(0, 0, 0, None)), ("rs-fold-T", spec, branch, "data", int(L)))


@x64
def fold_T_datasets(spec: Model, alpha, T0, x0, M, r, branch: str = "retrieval"):
    """Ends (folds in T, at fixed alpha) of ``branch`` for many datasets at once: the fold Newton of
    :mod:`theory.bifurcation` from (x0, T0) (a solution just below the fold) with (M, r) traced.  Returns
    (T_fold, x, residual) arrays; the caller certifies them (residual <= TOL_FOLD, T_fold near T0)."""
    from .numerics import TOL_FOLD, chunked
    from .solver import DATA_CHUNK

    a = np.broadcast_to(np.asarray(alpha, dtype=float), np.shape(T0)).ravel()
    Mf, rf = _check_datasets(M, r)
    L, d = pack_datasets(spec, np.ravel(Mf), np.ravel(rf))
    y0 = np.concatenate([np.asarray(x0, dtype=float).reshape(-1, len(NAMES)), np.ravel(T0)[:, None]], axis=1)
    fn = _fold_newton_data(template(spec), branch, L)
    y, res, _ = chunked(lambda y, a, d: fn(y, a, d, 1e-3 * TOL_FOLD), (y0, a, d), DATA_CHUNK)
    return y[:, -1], y[:, :-1], res


@lru_cache(maxsize=None)
def _entropy_data(spec: Model, L: int):
    """(x, alpha, T, d) -> -df/dT at fixed solver variables, with the dataset traced (vmapped)."""
    from . import aot
    from .solver import model_for

    model = model_for(spec)
    return aot.jit(jax.vmap(lambda x, a, t, d: -jax.grad(lambda tt: model.bind(d, L).free_energy(x, a, tt))(t)),
                   ("rs-entropy", spec, "data", int(L)))


@x64
def physical_paramagnet(spec: Model, alpha, T, M, r):
    """The paramagnet of the learning theory at flat points (alpha, T, M, r): (mask, f), mask true where it
    exists and its entropy -df/dT is >= 0 (a physical competitor, as in :mod:`phase_diagrams.lines`; for
    P >= 3 the RS paramagnet has negative entropy at low T)."""
    from .numerics import chunked
    from .solver import DATA_CHUNK

    pm = solve_datasets(spec, alpha, T, M, r, "paramagnetic")
    conv = np.asarray(pm.converged)
    ok = np.zeros(conv.shape, bool)
    sel = np.flatnonzero(conv)
    if sel.size:
        L, d = pack_datasets(spec, np.ravel(M), np.ravel(r))
        ent = chunked(lambda *a: (_entropy_data(template(spec), L)(*a),),
                      (np.asarray(pm.extra["raw"])[sel], np.broadcast_to(alpha, conv.shape)[sel].astype(float),
                       np.broadcast_to(T, conv.shape)[sel].astype(float), d[sel]), DATA_CHUNK)[0]
        ok[sel] = ent >= 0
    return ok, np.asarray(pm.values["f"])
