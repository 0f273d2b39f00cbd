r"""Multitasking networks: low storage (K finite) with diluted patterns, exact in the pattern average.

Patterns xi^mu_i in {-1, 0, +1}, P(0) = d, P(+-1) = (1 - d)/2 (docs/conventions.md "Diluted patterns");
unnormalised overlaps m_mu = (1/N) sum_i xi^mu_i sigma_i (|m_mu| <= 1 - d).  With K finite both energy
conventions give H = -(N/P!) sum_mu m_mu^P to leading order, and the free energy per neuron is the extremum
over m of

    f(m) = (P-1)/P! sum_mu m_mu^P - T E_xi ln 2cosh(beta h),   h = sum_mu xi_mu m_mu^(P-1)/(P-1)!,

E_xi over xi in {-1, 0, 1}^K with weights prod_mu (d if xi_mu = 0 else (1-d)/2), enumerated exactly
(3^K configurations, K <= K_MAX).  Stationarity: m_mu = E_xi[xi_mu tanh(beta h)] (the fixed-point form
solved here).  T = 0: f = (P-1)/P! sum m^P - E|h|, m = E[xi sign h] (sign dynamics; a site with h = 0 is a
free spin and contributes 0).  d = 0 is theory.low_storage (Rademacher patterns).

Stability: the Hessian of f at a stationary point, H = diag(k) - k k^T C, k_mu = m_mu^(P-2)/(P-2)!,
C_{mu nu} = E[xi_mu xi_nu beta sech^2(beta h)].  For P >= 3 the rows of patterns with m_mu = 0 vanish
(f - f_0 ~ m_mu^P there, and the true constrained free energy grows ~ m_mu^2 / (2 T C_mu mu): those
directions are stable), so the smallest eigenvalue is taken over the condensed patterns.  With all k_mu > 0
the sign of H's eigenvalues is that of the constrained (Landau) free energy's Hessian (operator monotonicity
of the inverse).  T = 0: k on the diagonal, -inf if a site with h = 0 carries a condensed pattern (free spins).

Closed forms (derivations in docs/theory.md "Multitasking"):
* pure state: m_1 = (1-d) u with u the d = 0 Mattis amplitude at beta (1-d)^(P-1), so the spinodal and the
  thermodynamic transition are T(d) = (1-d)^(P-1) T(0) (P = 2: T_c = 1 - d, continuous);
* P = 2 Landau expansion near T_c: quartic term (beta^3/12)[(1-d)(3d-2) sum m^4 + 3(1-d)^2 (sum m^2)^2]:
  pure below d = 2/3, parallel above, for every K;
* P = 2 pure state's transverse curvature 1 - beta(1-d)[d + (1-d) sech^2(beta m_1)] (pure -> hierarchical);
* T = 0 hierarchical state m_k = (1-d) d^(k-1), a fixed point iff 1 - 2D + D^K > 0, D = d^(P-1).

Everything numeric is JAX float64 (scoped by :func:`precision.x64`); d and T are traced, so one compile per
(P, K) serves every (d, T) and every batch of starts.
"""
from __future__ import annotations

import itertools
import math
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from .model import Model
from .numerics import FP_DAMPING, newton_resume
from .precision import x64
from .results import Result, Status

K_MAX = 12          # 3^12 = 531441 configurations: the largest exact average offered
STATES = ("pure", "hierarchical", "parallel", "mixture", "global")
TOL = 1e-10         # acceptance: max |m - E[xi tanh(beta h)]|
CLASS_TOL = 1e-6    # amplitudes closer than this are "equal"; below it "zero"
NEWTON_MAXITER = 80
NEWTON_FIRST = 20    # Newton steps from the start before the damped fallback takes over
T0_ITERS = 200
N_RANDOM = 24       # random starts of the global search (besides the named states)
_NOTE = "low storage (K finite), diluted patterns: f = (P-1)/P! sum m^P - T E ln 2cosh(beta h), exact 3^K average"


# ------------------------------------------------------------------------------------ exact averages
@lru_cache(maxsize=None)
def configurations(K: int) -> np.ndarray:
    """All xi in {-1, 0, 1}^K, shape (3^K, K) (NumPy, float)."""
    if not 1 <= K <= K_MAX:
        raise ValueError(f"K must lie in 1..{K_MAX} for the exact average over 3^K pattern entries, got {K}")
    return np.array(list(itertools.product((-1.0, 0.0, 1.0), repeat=K)))


@lru_cache(maxsize=None)
def half_configurations(K: int):
    """The configurations up to the global flip xi -> -xi (every quantity averaged here is even under it):
    the all-blank one (multiplicity 1) and those whose first non-blank entry is +1 (multiplicity 2);
    (3^K + 1)/2 rows.  Returns (xi, multiplicity) as NumPy arrays."""
    xi = configurations(K)
    nz = xi != 0
    first = np.where(nz.any(1), xi[np.arange(xi.shape[0]), np.argmax(nz, axis=1)], 0.0)
    keep = first >= 0
    return xi[keep], np.where(first[keep] > 0, 2.0, 1.0)


def weights(xi, d, mult=None):
    """Probability of each configuration: prod_mu (d if xi_mu = 0 else (1-d)/2) (times ``mult``); d may be
    traced."""
    w = jnp.prod(jnp.where(xi == 0, d, 0.5 * (1.0 - d)), axis=1)
    return w if mult is None else w * mult


def _field(m, xi, P):
    return xi @ (m ** (P - 1)) / math.factorial(P - 1)


def _ln2cosh_T(h, T):
    """T ln 2cosh(h/T), and |h| at T = 0."""
    a = jnp.abs(h)
    Ts = jnp.where(T > 0, T, 1.0)
    return jnp.where(T > 0, a + Ts * jnp.log1p(jnp.exp(-2.0 * a / Ts)), a)


def _tanh_T(h, T):
    Ts = jnp.where(T > 0, T, 1.0)
    return jnp.where(T > 0, jnp.tanh(h / Ts), jnp.sign(h))


def _avg(m, xi, mult):
    if xi is None:
        xi, mult = half_configurations(m.shape[0])
    return xi, mult


def free_energy(m, d, T, P, xi=None, mult=None, u=None):
    """f(m; d, T) (T >= 0); m has K entries, K = len(m).  ``xi, mult``: the configurations to average over
    (default: :func:`half_configurations`; :func:`configurations` with mult None gives the plain 3^K sum).
    ``u`` (same shape as xi, default xi): the entries that couple to the state (the field h = u . m^(P-1)/(P-1)!
    and the map u . tanh) when they differ from the entries xi whose blanks set the weights -- an extended
    site alphabet (theory.multitask_learning: class means of examples)."""
    m = jnp.asarray(m, float)
    xi, mult = _avg(m, xi, mult)
    u = xi if u is None else u
    w = weights(xi, d, mult)
    h = _field(m, u, P)
    return (P - 1) / math.factorial(P) * jnp.sum(m ** P) - jnp.sum(w * _ln2cosh_T(h, T))


T0_ZERO = 1e-14     # T = 0: overlaps (in and out of the sign map) below this are rounding, set to 0


def fixed_point_map(m, d, T, P, xi=None, mult=None, u=None):
    """Phi(m)_mu = E[u_mu tanh(beta h)] (sign(h) at T = 0; u = xi unless given, see :func:`free_energy`).
    T = 0: |m_mu| < T0_ZERO counts as 0, in the field and in the result (an uncondensed pattern's average
    cancels only up to rounding, and sign(h) would turn that rounding into O(1) at the sites where the
    condensed patterns are blank)."""
    xi, mult = _avg(m, xi, mult)
    u = xi if u is None else u
    w = weights(xi, d, mult)
    cold = T == 0
    m = jnp.where(cold & (jnp.abs(m) < T0_ZERO), 0.0, m)
    out = u.T @ (w * _tanh_T(_field(m, u, P), T))
    return jnp.where(cold & (jnp.abs(out) < T0_ZERO), 0.0, out)


def hessian(m, d, T, P, xi=None, mult=None, condensed_only=True, u=None):
    """Hessian of f at a stationary point, H = diag(k) - k k^T C (see the module doc), and its smallest
    eigenvalue over the condensed patterns (P >= 3) or all (P = 2).  T = 0: -inf where free spins carry a
    condensed pattern.  Returns (H, lambda_min)."""
    K = m.shape[0]
    xi, mult = _avg(m, xi, mult)
    u = xi if u is None else u
    w = weights(xi, d, mult)
    h = _field(m, u, P)
    Ts = jnp.where(T > 0, T, 1.0)
    bs = jnp.where(T > 0, (1.0 / jnp.cosh(jnp.minimum(jnp.abs(h) / Ts, 350.0))) ** 2 / Ts, 0.0)
    C = (u * (w * bs)[:, None]).T @ u
    k = jnp.abs(m) ** (P - 2) / math.factorial(P - 2)
    H = jnp.diag(k) - k[:, None] * k[None, :] * C
    cond = (jnp.abs(m) > CLASS_TOL) if (P > 2 and condensed_only) else jnp.ones(K, bool)
    tie = jnp.abs(h) < 1e-12
    tie_hits = (u != 0) & tie[:, None] & (w[:, None] > 0)
    free = jnp.any(tie_hits & cond[None, :])
    Hm = jnp.where(cond[:, None] & cond[None, :], H, jnp.where(jnp.eye(K, dtype=bool), 1e300, 0.0))
    lam = jnp.min(jnp.linalg.eigvalsh(Hm))
    lam = jnp.where(jnp.any(cond), lam, jnp.inf)
    lam = jnp.where((T == 0) & free, -jnp.inf, lam)
    return H, lam


# ------------------------------------------------------------------------------------ batched solver
def _dom(m, bound=1.0):
    return jnp.all(jnp.abs(m) <= bound + 1e-12)


def _domain(u):
    """The admissible overlaps |m_mu| <= max |u| (1 for the plain alphabet u = xi)."""
    return lambda m: _dom(m, jnp.max(jnp.abs(u)))


@lru_cache(maxsize=None)
def _kernels(P: int, K: int):
    """jit(vmap) kernels over lanes (m (K,), d, T), the configurations passed as arguments (not constants):
    Newton, a block of damped fixed-point steps, T = 0 sign dynamics, and the finishing map."""
    fixed = jnp.zeros(K, bool)

    def newton(m0, d, T, xi, mult, u):
        F = lambda m: m - fixed_point_map(m, d, T, P, xi, mult, u)  # noqa: E731
        x, res, it, _ = newton_resume(F, m0, fixed, _domain(u), 1e-3 * TOL, NEWTON_MAXITER)
        return x, res, it

    def newton_short(m0, d, T, xi, mult, u):   # first attempt: a Newton that needs more steps is handed on
        F = lambda m: m - fixed_point_map(m, d, T, P, xi, mult, u)  # noqa: E731
        x, res, it, _ = newton_resume(F, m0, fixed, _domain(u), 1e-3 * TOL, NEWTON_FIRST)
        return x, res, it

    def damped(m0, d, T, xi, mult, u):
        def body(i, x):
            return x + FP_DAMPING * (fixed_point_map(x, d, T, P, xi, mult, u) - x)
        return jax.lax.fori_loop(0, FP_BLOCK, body, m0)

    def sign_dynamics(m0, d, T, xi, mult, u):
        def body(s):
            x, _, i = s
            xn = fixed_point_map(x, d, 0.0, P, xi, mult, u)
            return xn, jnp.max(jnp.abs(xn - x)), i + 1

        x, _, i = jax.lax.while_loop(lambda s: (s[1] > 1e-13) & (s[2] < T0_ITERS), body, (m0, jnp.inf, 0))
        return x, i

    def finish(m, d, T, xi, mult, u):
        res = jnp.max(jnp.abs(m - fixed_point_map(m, d, T, P, xi, mult, u)))
        res = jnp.where(jnp.isfinite(res) & _dom(m, jnp.max(jnp.abs(u))), res, jnp.inf)
        _, lam = hessian(m, d, T, P, xi, mult, u=u)
        return res, free_energy(m, d, T, P, xi, mult, u), lam

    ax = (0, 0, 0, None, None, None)
    return tuple(jax.jit(jax.vmap(k, in_axes=ax)) for k in (newton_short, newton, damped, sign_dynamics, finish))


FP_BLOCK = 200     # damped steps between Newton attempts of the fallback
FP_ROUNDS = 10


@x64
def solve_batch(P: int, K: int, m0, d, T, sites=None):
    """Solve many points at once (NumPy in and out): m0 (n, K) starts, d and T (n,) or scalars.  Returns a
    dict of arrays m (n, K) (as solved, not sorted), residual, iterations, f, lam (smallest Hessian
    eigenvalue), converged (residual <= TOL).  T > 0: Newton on m = Phi(m) from m0; lanes it does not solve
    get blocks of FP_BLOCK damped fixed-point steps (from m0), each followed by Newton (at most FP_ROUNDS).
    T = 0: the sign dynamics m <- E[xi sign h] from m0 until an exact fixed point.  One compile per
    (P, K, lane bucket).  ``sites``: (xi, mult, u), an extended site alphabet (weights from the blanks of xi
    times mult, couplings u; :func:`free_energy`); default the (3^K + 1)/2 flip classes with u = xi."""
    m0 = np.atleast_2d(np.asarray(m0, dtype=float))
    n = m0.shape[0]
    d = np.array(np.broadcast_to(np.asarray(d, dtype=float), (n,)))
    T = np.array(np.broadcast_to(np.asarray(T, dtype=float), (n,)))
    xi, mult, u = (*half_configurations(K), None) if sites is None else sites
    u = xi if u is None else u
    newton_short, newton, damped, sign_dynamics, finish = _kernels(P, K)

    def call(kernel, *arrays):   # lanes padded to a bucket size: a few compiled shapes serve every batch
        k = arrays[0].shape[0]
        b = _bucket(k)
        out = kernel(*(_pad(a, b) for a in arrays), xi, mult, u)
        return tuple(np.asarray(v)[:k] for v in (out if isinstance(out, tuple) else (out,)))

    m, it = m0.copy(), np.zeros(n, dtype=np.int64)
    hot, cold = np.flatnonzero(T > 0), np.flatnonzero(T == 0)
    if cold.size:
        x, i = call(sign_dynamics, m0[cold], d[cold], T[cold])
        m[cold], it[cold] = x, i
    if hot.size:
        x, res, i = call(newton_short, m0[hot], d[hot], T[hot])
        m[hot], it[hot] = x, i
        todo = hot[~(res <= TOL)]
        y = m0[todo]
        for _ in range(FP_ROUNDS):
            if todo.size == 0:
                break
            (y,) = call(damped, y, d[todo], T[todo])
            x, res, i = call(newton, y, d[todo], T[todo])
            it[todo] += FP_BLOCK + i
            good = res <= TOL
            m[todo[good]] = x[good]
            m[todo[~good]] = y[~good]
            todo, y = todo[~good], y[~good]
    res, f, lam = call(finish, m, d, T)
    return {"m": m, "residual": res, "iterations": it, "f": f, "lam": lam, "converged": res <= TOL}


def _bucket(n: int) -> int:
    """Lane counts are padded to powers of two (a single lane alone; at least 8; above 4096 to multiples of
    4096): a few compiled shapes serve every batch (continuations and bisections call with many sizes)."""
    if n == 1:
        return 1
    return max(8, 1 << max(0, int(n - 1).bit_length())) if n <= 4096 else -(-n // 4096) * 4096


def _pad(a, size):
    a = np.asarray(a)
    return a if a.shape[0] == size else np.concatenate([a, np.repeat(a[:1], size - a.shape[0], axis=0)])


# ------------------------------------------------------------------------------------ closed forms
def hierarchical_T0(K: int, d: float) -> np.ndarray:
    """T = 0 hierarchical amplitudes m_k = (1-d) d^(k-1) (sigma_i = xi^k_i at the first k with xi^k_i != 0)."""
    return (1.0 - d) * d ** np.arange(K, dtype=float)


def hierarchical_margin_T0(P: int, K: int, d: float) -> float:
    """1 - 2D + D^K, D = d^(P-1): positive iff the T = 0 hierarchical assignment is a fixed point of the
    sign dynamics (the worst site: xi^1 != 0 and every later pattern opposite to it)."""
    D = d ** (P - 1)
    return 1.0 - 2.0 * D + D ** K


def hierarchical_exists_T0(P: int, K: int, d: float) -> bool:
    return hierarchical_margin_T0(P, K, d) > 0


def hierarchical_boundary_T0(P: int, K: int) -> float:
    """The dilution above which the T = 0 hierarchical state stops existing: the root in (0, 1) of
    1 - 2D + D^K (D = d^(P-1)); 1.0 (never) for K <= 2.  K -> infinity: D = 1/2, d = 2^(-1/(P-1))."""
    if K <= 2:
        return 1.0
    from scipy.optimize import brentq

    g = lambda D: 1.0 - 2.0 * D + D ** K  # noqa: E731
    D = brentq(g, 0.5 - 1e-15, 1.0 - 1e-9, xtol=1e-15) if g(1.0 - 1e-9) < 0 else brentq(g, 0.5, 1 - 1e-12)
    return D ** (1.0 / (P - 1))


def landau_threshold(P: int) -> float:
    """Dilution where the quartic Landau coefficient (1-d)(3d-2) changes sign (P = 2): 2/3, independent of K.
    For P >= 3 there is no Landau threshold: every overlap enters f at order m^P (P >= 3, no quadratic
    term), the transitions are first order and no expansion around m = 0 decides between states: NaN."""
    return 2.0 / 3.0 if P == 2 else float("nan")


# ------------------------------------------------------------------------------------ states
def _check(model, K, T):
    if not isinstance(model, Model):
        raise TypeError("pass a densehebb.Model(storage='low', dilution=d)")
    if model.examples is not None:
        raise NotImplementedError("multitask: learning from examples with diluted patterns is not available yet")
    if model.ansatz != "rs":
        raise NotImplementedError("multitask: K finite has no replica ansatz (use ansatz='rs', the default)")
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or not 1 <= K <= K_MAX:
        raise ValueError(f"K must be an integer in 1..{K_MAX} (exact average over 3^K entries), got {K!r}")
    T = float(T)
    if not (math.isfinite(T) and T >= 0):
        raise ValueError("T must be finite and >= 0")
    return int(K), T


def classify(m, tol=CLASS_TOL):
    """Name of the state with overlaps m: "paramagnet" (all zero), "pure" (one nonzero), "parallel" (K >= 2,
    all equal and nonzero), "mixture-n" (n equal, the rest zero) or "hierarchical" (at least two nonzero,
    not all equal: sorted, the amplitudes decrease; at T > 0 the smallest may vanish, a truncated
    hierarchy; :func:`n_condensed` counts the nonzero ones)."""
    a = np.sort(np.abs(np.asarray(m, float)))[::-1]
    K = a.size
    nz = n_condensed(a, tol)
    if nz == 0:
        return "paramagnet"
    if nz == 1:
        return "pure"
    top = a[:nz]
    if top[0] - top[-1] <= tol * max(1.0, top[0]):
        return "parallel" if nz == K else f"mixture-{nz}"
    return "hierarchical"


def n_condensed(m, tol=CLASS_TOL) -> int:
    """Number of overlaps above ``tol`` in absolute value."""
    return int(np.sum(np.abs(np.asarray(m, float)) > tol))


def named_start(state: str, K: int, d: float, n: int | None = None) -> np.ndarray:
    """The start of a named state: pure (1-d, 0, ...), parallel / n-mixture: equal amplitudes (1-d)/2,
    hierarchical: the T = 0 closed form."""
    if state == "pure":
        return np.r_[1.0 - d, np.zeros(K - 1)]
    if state == "hierarchical":
        return hierarchical_T0(K, d)
    if state == "parallel":
        return np.full(K, 0.5 * (1.0 - d) if K > 1 else 1.0 - d)
    if state == "mixture":
        return np.r_[np.full(n, 0.5 * (1.0 - d)), np.zeros(K - n)]
    raise ValueError(f"unknown state {state!r}")


def _expected(state, K, n):
    if state == "pure" or (state in ("parallel",) and K == 1) or (state == "mixture" and n == 1):
        return "pure"
    if state == "parallel" or (state == "mixture" and n == K):
        return "parallel"
    if state == "mixture":
        return f"mixture-{n}"
    return "hierarchical"


def hierarchical_path(P: int, K: int, d, T, steps: int = 24):
    """The hierarchical state continued in T from its T = 0 form: at T = 0 the sign dynamics from the closed
    form, then Newton at T_j = T j/steps from the previous solution (vectorised over d: one lane per d).
    Returns the solve_batch dict at T plus ``reached`` (the last step every lane converged on, per lane)."""
    d = np.atleast_1d(np.asarray(d, dtype=float))
    m = np.stack([hierarchical_T0(K, x) for x in d])
    out = solve_batch(P, K, m, d, 0.0)
    if T == 0:
        out["reached"] = np.where(out["converged"], 0, -1)
        return out
    m, ok, reached = out["m"], out["converged"].copy(), np.zeros(d.size, int)
    for j in range(1, steps + 1):
        out = solve_batch(P, K, m, d, T * j / steps)
        good = ok & out["converged"]
        reached = np.where(good, j, reached)
        m = np.where(good[:, None], out["m"], m)
        ok = good
    out["converged"] = ok & out["converged"]
    out["reached"] = reached
    return out


def _sorted(m, d, normalised):
    a = np.sort(np.abs(np.asarray(m, float)))[::-1]
    return a / (1.0 - d) if normalised else a


def _result(model, K, T, state, m, f, res, it, lam, status, normalised, note, extra_inputs=None, extra_values=None):
    inputs = {"K": int(K), "T": float(T), "state": state,
              "overlaps": "normalised" if normalised else "unnormalised"}
    inputs.update(extra_inputs or {})
    values = {"m": _sorted(m, model.dilution, normalised) if status.ok else np.full(K, np.nan),
              "f": float(f) if status.ok else float("nan")}
    values.update(extra_values or {})
    return Result(model, "saddle", inputs, values, status, float(res), int(it),
                  float(lam) if status.ok else float("nan"), note=(_NOTE + ("; " + note if note else "")))


@x64
def solve_state(model: Model, K: int, T: float, state: str = "hierarchical", n: int | None = None,
                normalised: bool = False, seed: int = 0, n_random: int = N_RANDOM) -> Result:
    """One state of the K-pattern low-storage multitasking network at temperature T (a saddle Result).

    m: the K overlaps sorted descending (absolute values: the sign of an overlap is a gauge for even P and
    nonnegative at every solution for odd P), divided by 1 - d if ``normalised``; f; status; residual;
    replicon = the smallest Hessian eigenvalue (stable: > 0).  A state that flows to another one is reported
    with status ``collapsed`` and the state it reached in the note (e.g. hierarchical -> pure near T_c for
    P = 2, or a T = 0 hierarchical form that is not a fixed point); a branch that has disappeared
    (m -> 0) is ``branch_missing``.  ``state="global"``: every named state and ``n_random`` random starts
    (uniform in [0, 1-d]^K, numpy.random.default_rng(seed)), the lowest f among converged, locally stable
    solutions; adds n_starts, winner (the start's name) and found (its class) to the inputs/values."""
    K, T = _check(model, K, T)
    d, P = float(model.dilution), model.P
    if state not in STATES:
        raise ValueError(f"unknown state {state!r}; choose one of {', '.join(STATES)}")
    if state == "mixture":
        if n is None or isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 or n > K or n % 2 == 0:
            raise ValueError(f"mixture: n must be odd and between 1 and K = {K}, got {n!r}")
    elif n is not None:
        raise ValueError("n (mixture size) applies to state='mixture' only")
    if state == "global":
        return _global(model, K, T, normalised, seed, n_random)
    if state == "hierarchical":
        out = hierarchical_path(P, K, d, T)
        out = {k: v[0] for k, v in out.items()}
    else:
        out = {k: v[0] for k, v in solve_batch(P, K, named_start(state, K, d, n)[None], d, T).items()}
    extra = {"mixture": int(n)} if state == "mixture" else None
    got, want = classify(out["m"]), _expected(state, K, n)
    closed = hierarchical_T0(K, d)
    t0_fixed = bool(np.max(np.abs(np.sort(np.abs(out["m"]))[::-1] - closed)) < 1e-12) if state == "hierarchical" \
        and T == 0 else True
    if not out["converged"]:
        status, note = Status.NOT_CONVERGED, ""
        if state == "hierarchical" and T > 0:
            note = f"continuation from T = 0 stopped after step {int(out['reached'])}/24"
    elif got == want and t0_fixed:
        status, note = Status.CONVERGED, ""
    elif got == "paramagnet":
        status, note = Status.BRANCH_MISSING, f"the {state} state does not exist here (flows to m = 0)"
    else:
        status = Status.COLLAPSED
        note = f"the {state} state is not a distinct solution here: it reached the {got} state"
        if state == "hierarchical" and T == 0:
            note = (f"the T = 0 hierarchical form m_k = (1-d) d^(k-1) is not a fixed point of the sign dynamics "
                    f"(1 - 2D + D^K = {hierarchical_margin_T0(P, K, d):.6g} <= 0, D = d^(P-1)); it flows to a "
                    f"{got} state m = {np.round(np.sort(np.abs(out['m']))[::-1], 6).tolist()}")
    if state == "hierarchical" and T > 0 and not hierarchical_exists_T0(P, K, d):
        note = "; ".join(x for x in (note, "continued from the T = 0 fixed point the closed form flows to "
                                     "(the closed form itself is not one here)") if x)
    return _result(model, K, T, state, out["m"], out["f"], out["residual"], out["iterations"], out["lam"],
                   status, normalised, note, extra, {"found": got, "n_condensed": n_condensed(out["m"])})


def _global(model, K, T, normalised, seed, n_random):
    d, P = float(model.dilution), model.P
    hier = {k: v[0] for k, v in hierarchical_path(P, K, d, T).items()}
    names, starts = [], []
    for s in ("pure", "parallel"):
        names.append(s)
        starts.append(named_start(s, K, d))
    for n in range(3, K, 2):
        names.append(f"mixture-{n}")
        starts.append(named_start("mixture", K, d, n))
    names.append("paramagnet")
    starts.append(np.zeros(K))
    rng = np.random.default_rng(seed)
    for i in range(n_random):
        names.append(f"random-{i}")
        starts.append(rng.uniform(0.0, 1.0 - d, K))
    out = solve_batch(P, K, np.array(starts), d, T)
    names.insert(0, "hierarchical")   # named states first: they win ties with random starts
    for k in ("m", "residual", "iterations", "f", "lam", "converged"):
        out[k] = np.concatenate([np.asarray(hier[k])[None], out[k]])
    ok = out["converged"] & (out["lam"] > 0) & np.isfinite(out["f"])
    n_starts = len(names)
    if not np.any(ok):
        return _result(model, K, T, "global", np.zeros(K), np.nan, np.nanmin(out["residual"]), 0, np.nan,
                       Status.NOT_FOUND, normalised, "no start converged to a locally stable state",
                       {"n_starts": n_starts, "seed": int(seed)}, {"winner": "", "found": ""})
    f = np.where(ok, out["f"], np.inf)
    best = np.flatnonzero(f <= np.min(f) + 1e-12)   # equal minima (within 1e-12): the first start wins
    i = int(best[0])
    n_best = int(best.size)
    return _result(model, K, T, "global", out["m"][i], out["f"][i], out["residual"][i], out["iterations"][i],
                   out["lam"][i], Status.CONVERGED, normalised, "",
                   {"n_starts": n_starts, "seed": int(seed)},
                   {"winner": names[i], "found": classify(out["m"][i]), "n_condensed": n_condensed(out["m"][i]),
                    "n_at_minimum": n_best})


# ------------------------------------------------------------------------------------ transitions
@x64
def transitions(model: Model) -> Result:
    """Pure (retrieval) state: spinodal T_spinodal and thermodynamic T_thermodynamic (f = -T ln 2) at
    dilution d: (1-d)^(P-1) times the d = 0 values (theory.low_storage.transitions; P = 2: 1 - d, continuous);
    for P = 2 also T_pure_unstable, where the pure state's transverse curvature
    1 - beta(1-d)[d + (1-d) sech^2(beta m_1)] vanishes (below it the pure state is unstable towards the
    hierarchical state; NaN for d >= 2/3, where it is unstable right below T_c), and the Landau threshold."""
    from .low_storage import transitions as dense

    d, P = float(model.dilution), model.P
    tr0 = dense(Model(P=P, storage="low"))
    s = (1.0 - d) ** (P - 1)
    values = {"T_spinodal": s * tr0.T_spinodal, "m_spinodal": (1 - d) * tr0.m_spinodal,
              "T_thermodynamic": s * tr0.T_thermodynamic, "m_thermodynamic": (1 - d) * tr0.m_thermodynamic,
              "continuous": bool(tr0.continuous), "d_landau": landau_threshold(P)}
    if P == 2:
        values["T_pure_unstable"] = pure_instability_temperature(d)
    return Result(model, "transition", {"state": "pure"}, values, Status.CONVERGED, note=_NOTE)


def pure_amplitude(P: int, d: float, T: float) -> float:
    """Upper-branch pure amplitude m_1 = (1-d) u, u = tanh(beta (1-d)^(P-1) u^(P-1)/(P-1)!) (NaN if none),
    by the monotone iteration from u = 1 (scalar NumPy; T = 0: 1 - d)."""
    if T == 0:
        return 1.0 - d
    from scipy.optimize import brentq

    b = (1.0 - d) ** (P - 1) / (T * math.factorial(P - 1))
    g = lambda u: math.tanh(b * u ** (P - 1)) - u  # noqa: E731
    us = np.linspace(1.0, 0.0, 20001)[:-1]          # the largest sign change of g on (0, 1]
    v = np.tanh(b * us ** (P - 1)) - us
    idx = np.flatnonzero(v > 0)
    if idx.size == 0:
        return float("nan")
    i = idx[0]
    u = brentq(g, us[i], us[i - 1], xtol=1e-16) if i > 0 else 1.0
    return (1.0 - d) * u if u > 1e-7 else float("nan")


def pure_transverse_curvature(d: float, T: float) -> float:
    """P = 2: d^2 f / d m_2^2 at the pure state, 1 - beta(1-d)[d + (1-d) sech^2(beta m_1)]."""
    m1 = pure_amplitude(2, d, T)
    m1 = 0.0 if math.isnan(m1) else m1
    return 1.0 - (1.0 - d) / T * (d + (1.0 - d) / np.cosh(min(m1 / T, 350.0)) ** 2)


def pure_instability_temperature(d: float) -> float:
    """P = 2: the temperature below which the pure state is unstable towards the other patterns (root of
    :func:`pure_transverse_curvature` below T_c = 1 - d); NaN for d >= 2/3 (unstable just below T_c) and
    for d = 0 (stable at every T < 1)."""
    if d == 0:
        return float("nan")
    if d >= 2.0 / 3.0:
        return float("nan")
    from scipy.optimize import brentq

    Tc = 1.0 - d
    g = lambda T: pure_transverse_curvature(d, T)  # noqa: E731
    Ts = np.linspace(1e-3 * Tc, Tc * (1 - 1e-6), 400)
    v = np.array([g(t) for t in Ts])
    idx = np.flatnonzero((v[:-1] < 0) & (v[1:] >= 0))
    if idx.size == 0:
        return float("nan")
    i = idx[-1]
    return brentq(g, Ts[i], Ts[i + 1], xtol=1e-14)


@x64
def hierarchical_global_boundary_T0(P: int, K: int, n_grid: int = 81, seed: int = 0, n_random: int = N_RANDOM):
    """Numeric check: on a grid of d in (0, 1), whether the T = 0 hierarchical state exists and is the
    global minimum (lowest f among every named and random start).  Returns (ds, exists, is_global, f_hier,
    f_min)."""
    ds = np.linspace(0.0, 1.0, n_grid + 2)[1:-1]
    exists, glob, fh, fm = [], [], [], []
    for d in ds:
        r = solve_state(Model(P=P, storage="low", dilution=float(d)), K, 0.0, "hierarchical")
        g = solve_state(Model(P=P, storage="low", dilution=float(d)), K, 0.0, "global", seed=seed,
                        n_random=n_random)
        exists.append(r.status is Status.CONVERGED)
        fh.append(r.f)
        fm.append(g.f)
        glob.append(r.status is Status.CONVERGED and r.f <= g.f + 1e-12)
    return ds, np.array(exists), np.array(glob), np.array(fh), np.array(fm)


def hierarchical_global_end_T0(P: int, K: int, n_grid: int = 49, seed: int = 0, xtol: float = 1e-6):
    """The dilution where the T = 0 hierarchical state stops being the global minimum (first grid point of
    :func:`hierarchical_global_boundary_T0` where it is not, refined by bisection on the same test); NaN if
    it is the global minimum at every grid point (or at none)."""
    ds, _, glob, _, _ = hierarchical_global_boundary_T0(P, K, n_grid, seed)
    bad = np.flatnonzero(~glob)
    if bad.size == 0 or bad[0] == 0:
        return float("nan")
    lo, hi = ds[bad[0] - 1], ds[bad[0]]

    def is_global(d):
        m = Model(P=P, storage="low", dilution=float(d))
        r = solve_state(m, K, 0.0, "hierarchical")
        g = solve_state(m, K, 0.0, "global", seed=seed)
        return r.status is Status.CONVERGED and r.f <= g.f + 1e-12

    while hi - lo > xtol:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if is_global(mid) else (lo, mid)
    return 0.5 * (lo + hi)
