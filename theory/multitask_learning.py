r"""Multitasking networks learning from examples: low storage (K finite), diluted archetypes, exact.

Dataset (docs/conventions.md "Learning from examples", "Diluted patterns"): archetypes xi^mu_i in {-1, 0, 1},
P(0) = d; examples eta^{mu,a}_i = chi^{mu,a}_i xi^mu_i (a = 1..M, P(chi = +1) = (1+r)/2), so a blank archetype
entry is blank in every example; S^mu_i = sum_a chi^{mu,a}_i (binomial), class mean xibar^mu_i = xi^mu_i S^mu_i / M.

Free energy (derivation in docs/theory.md "Multitasking learning from examples").  Supervised,
H = -(1/(Norm N^(P-1))) sum_mu e_P(xibar^mu sigma) -> -(N/(P! Norm)) sum_mu p_mu^P with p_mu = xibar^mu.sigma/N;
unsupervised, H = -(1/(M Norm N^(P-1))) sum_{mu,a} e_P(eta^{mu,a} sigma) -> -(N/(P! M Norm)) sum_{mu,a} x_{mu a}^P.
With q_mu = p_mu / Norm^(1/P) and the site entries u_mu = xibar_mu / Norm^(1/P) (Norm = r^P: q = n, the class-mean
overlap of the conventions, and u = xi S/(M r)):

    f(q) = (P-1)/P! sum_mu q_mu^P - T E ln 2cosh(beta h),   h = sum_mu u_mu q_mu^(P-1)/(P-1)!,
    q_mu = E[u_mu tanh(beta h)],   archetype overlap m_mu = E[xi_mu tanh(beta h)],

the form of theory.multitask with the site alphabet extended from xi to (xi, S): its solver runs on these
sites (:func:`theory.multitask.solve_batch` with ``sites``).  Unsupervised, at the archetype point x_{mu a} = p_mu
for every a (the state that does not single out an example), the field is sum_{mu,a} eta x^(P-1)/(M Norm (P-1)!)
= the same h, the a-average of x_{mu a} = E[eta^{mu,a} tanh(beta h)] is the same equation, and the energy term
(1/M) sum_a x^P = p^P: the two protocols have identical equations, solutions, overlaps and free energies for
every K, d, T, r, M.  They differ only in stability: the unsupervised Hessian in the K M example overlaps has
the supervised K x K block (uniform in a, scaled by 1/(M Norm^(2/P))) and, per condensed class, an (M-1)-fold
transverse eigenvalue k - k^2 E[xi^2 beta sech^2(beta h) (M^2 - S^2)]/(M (M-1)), k = x^(P-2)/((P-2)! M Norm)
(towards an example state).

Exact site average: per pattern the letters blank (weight d) and, for each s in {-M, -M+2, ..., M}, the pair
{(xi = +1, S = s), (xi = -1, S = -s)} (the same u = s/(M Norm^(1/P)); weight (1-d)/2 (b(s) + b(-s)), b the
law of S; E[xi | letter] = (b(s) - b(-s))/(b(s) + b(-s))): at most M + 2 letters, (M+2)^K rows, halved by
the global flip.  r = 1: S = M, the letters are blank, +1, -1 and everything is theory.multitask.

T = 0 hierarchical state (sign dynamics with the class means): sigma_i = sign(u^k_i) at the first k with
u^k_i != 0, so with p0 = P(u = 0) = d + (1-d) P(S = 0) (the blanks and the tied majority votes):

    m_k = (1-d) (P(S > 0) - P(S < 0)) p0^(k-1)   (the majority vote's accuracy: the archetype hierarchy),
    q_k = E|u| p0^(k-1),   E|u| = (1-d) E|S| / (M Norm^(1/P)),

a fixed point iff (s_min/s_max)(1 - D) > D - D^K, D = p0^(P-1), s_min / s_max the smallest / largest
|S| > 0 of positive probability (r < 1: s_min = 1 or 2 for odd / even M, s_max = M; r = 1: both M, giving
theory.multitask's 1 - 2D + D^K > 0).
"""
from __future__ import annotations

import itertools
import math
from functools import lru_cache

import numpy as np

from . import multitask as mt
from .model import Model
from .precision import x64
from .results import Result, Status

ROW_MAX = 3 ** 12      # largest product alphabet (before the flip halving): (M+2)^K <= ROW_MAX
STATES = ("pure", "hierarchical", "parallel", "global")
PROTOCOLS = ("supervised", "unsupervised")
_NOTE = ("low storage (K finite), diluted archetypes learnt from M examples (blanks kept): f = (P-1)/P! sum q^P "
         "- T E ln 2cosh(beta h), h = sum u q^(P-1)/(P-1)!, u = xi S/(M Norm^(1/P)), exact average over (xi, S); "
         "supervised and unsupervised share these equations at the archetype point")


# ------------------------------------------------------------------------------------------ site alphabet
def binomial_S(M: int, r: float):
    """(s, P(S = s)) for S = sum of M chi's, s = -M, -M+2, ..., M."""
    from scipy.stats import binom

    s = np.arange(-M, M + 1, 2)
    return s, binom.pmf((M - s) // 2, M, (1.0 - r) / 2.0)


def letters(M: int, r: float):
    """Per-pattern letters (blank first): arrays (nonblank marker B, s, weight factor c, E[xi | letter] V).
    The letter's probability is d (blank) or (1-d)/2 * c; letters of zero probability are dropped."""
    s, b = binomial_S(M, r)
    bm = b[::-1]
    c = b + bm
    keep = c > 0
    s, c, V = s[keep], c[keep], ((b - bm) / np.where(c > 0, c, 1.0))[keep]
    return (np.r_[0.0, np.ones(s.size)], np.r_[0, s], np.r_[1.0, c], np.r_[0.0, V])


def n_rows(K: int, M: int, r: float) -> int:
    return int(letters(M, r)[0].size) ** int(K)


@lru_cache(maxsize=16)
def site_table(K: int, M: int, r: float):
    """The exact site alphabet of K patterns, up to the global flip: dict with B (rows, K) nonblank markers
    (the weights are multitask.weights(B, d, mult)), mult (rows,) = prod c times the flip multiplicity,
    s (rows, K) the signed example sums xi S, V (rows, K) = E[xi | letter]; padded with zero-weight rows to a
    power of two (so that neighbouring M share the compiled solver)."""
    Bl, sl, cl, Vl = letters(M, r)
    L = Bl.size
    if L ** K > ROW_MAX:
        raise ValueError(f"the exact site average needs (M+2)^K = {L}^{K} = {L ** K} rows, more than {ROW_MAX}: "
                         "use fewer patterns K or examples M")
    idx = np.array(list(itertools.product(range(L), repeat=K)), dtype=np.int64).reshape(-1, K)
    s = sl[idx]
    nz = s != 0
    first = np.where(nz.any(1), s[np.arange(s.shape[0]), np.argmax(nz, axis=1)], 0)
    keep = first >= 0
    idx, s, first = idx[keep], s[keep], first[keep]
    mult = np.prod(cl[idx], axis=1) * np.where(first > 0, 2.0, 1.0)
    out = {"B": Bl[idx], "mult": mult, "s": s.astype(float), "V": Vl[idx]}
    pad = (1 << int(math.ceil(math.log2(max(mult.size, 2))))) - mult.size   # zero-weight rows: one compile
    return {k: np.concatenate([v, np.zeros((pad,) + v.shape[1:])]) for k, v in out.items()}  # per size bucket


def coupling_scale(examples, P: int) -> float:
    """Norm^(1/P): q = p / Norm^(1/P), u = xibar / Norm^(1/P)."""
    return float(examples.norm(P)) ** (1.0 / P)


def sites(K: int, examples, P: int):
    """(B, mult, u) for theory.multitask.solve_batch and the table of :func:`site_table`."""
    tab = site_table(int(K), int(examples.M), float(examples.r))
    u = tab["s"] / (examples.M * coupling_scale(examples, P))
    return (tab["B"], tab["mult"], u), tab


# ------------------------------------------------------------------------------------------ closed forms
def majority_vote(M: int, r: float) -> float:
    """P(S > 0) - P(S < 0): the accuracy E[sign S] of the majority vote of M examples."""
    s, b = binomial_S(M, r)
    return float(np.sum(b * np.sign(s)))


def p_zero(M: int, r: float, d: float) -> float:
    """P(u = 0) = d + (1-d) P(S = 0) (S = 0 only for even M)."""
    s, b = binomial_S(M, r)
    return float(d + (1.0 - d) * np.sum(b[s == 0]))


def mean_abs_u(examples, P: int, d: float) -> float:
    s, b = binomial_S(examples.M, examples.r)
    return float((1.0 - d) * np.sum(b * np.abs(s)) / (examples.M * coupling_scale(examples, P)))


def hierarchical_T0(K: int, examples, P: int, d: float):
    """T = 0 hierarchical state: (m, q) with m_k = (1-d) (P(S>0) - P(S<0)) p0^(k-1), q_k = E|u| p0^(k-1)."""
    p0 = p_zero(examples.M, examples.r, d)
    g = p0 ** np.arange(K, dtype=float)
    return (1.0 - d) * majority_vote(examples.M, examples.r) * g, mean_abs_u(examples, P, d) * g


def hierarchical_margin_T0(P: int, K: int, M: int, r: float, d: float) -> float:
    """(s_min/s_max)(1 - D) - (D - D^K), D = p0^(P-1): positive iff the T = 0 hierarchical state is a fixed
    point of the sign dynamics (worst site: the first non-zero class mean with the smallest |S|, every later
    one opposite with the largest)."""
    s, b = binomial_S(M, r)
    a = np.abs(s[(b > 0) & (s != 0)])
    if a.size == 0:
        return -1.0
    D = p_zero(M, r, d) ** (P - 1)
    return float(a.min() / a.max() * (1.0 - D) - (D - D ** K))


# ------------------------------------------------------------------------------------------ observables
def _tanh(h, T):
    return np.sign(h) if T == 0 else np.tanh(h / T)


def _beta_sech2(h, T):
    if T == 0:
        return np.where(np.abs(h) < 1e-12, np.inf, 0.0)
    return (1.0 / np.cosh(np.minimum(np.abs(h) / T, 350.0))) ** 2 / T


def observables(q, K, examples, P, d, T):
    """At the class-mean state q: archetype overlaps m, class-mean overlaps n = xibar.sigma/(r N), and the
    unsupervised transverse eigenvalues (per class, in the example overlaps x; +inf for M = 1 or uncondensed
    classes at P >= 3)."""
    (B, mult, u), tab = sites(K, examples, P)
    q = np.asarray(q, float)
    w = np.asarray(mt.weights(B, d, mult))
    h = u @ (q ** (P - 1)) / math.factorial(P - 1)
    t = _tanh(h, T)
    m = tab["V"].T @ (w * t)
    lam = coupling_scale(examples, P)
    n = q * lam / examples.r
    M = examples.M
    trans = np.full(K, np.inf)
    if M > 1:
        x = q * lam
        k = np.abs(x) ** (P - 2) / (math.factorial(P - 2) * M * examples.norm(P))
        bs = _beta_sech2(h, T)
        with np.errstate(invalid="ignore"):
            g = np.where(B > 0, (M * M - tab["s"] ** 2), 0.0)             # xi^2 (M^2 - S^2)
            e = np.array([np.sum(np.where(g[:, j] > 0, w * bs * g[:, j], 0.0)) for j in range(K)]) / (M * (M - 1))
        cond = np.abs(q) > mt.CLASS_TOL if P > 2 else np.ones(K, bool)
        with np.errstate(invalid="ignore"):      # T = 0 free spins: e = inf (k = 0 where uncondensed)
            trans = np.where(cond, k - k * k * e, np.inf)
    return m, n, trans


# ------------------------------------------------------------------------------------------ solver
def _check(model, K, T):
    if not isinstance(model, Model):
        raise TypeError("pass a densehebb.Model(storage='low', dilution=d, examples=densehebb.Examples(...))")
    ex = model.examples
    if ex is None:
        raise ValueError("multitask learning: the Model has no examples (theory.multitask for patterns)")
    if ex.gaussian:
        raise NotImplementedError("multitask learning: the site average is the exact binomial one (gaussian=False)")
    if model.ansatz != "rs":
        raise NotImplementedError("multitask learning: K finite has no replica ansatz (use ansatz='rs')")
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or not 1 <= K <= mt.K_MAX:
        raise ValueError(f"K must be an integer in 1..{mt.K_MAX}, got {K!r}")
    L = letters(ex.M, ex.r)[0].size
    if L ** int(K) > ROW_MAX:
        raise ValueError(f"K = {K} patterns with M = {ex.M} examples: the exact site average has {L}^{K} rows, "
                         f"more than {ROW_MAX} (lower K or M)")
    T = float(T)
    if not (math.isfinite(T) and T >= 0):
        raise ValueError("T must be finite and >= 0")
    return int(K), T


def named_start(state, K, examples, P, d):
    """Start (in q) of a named state: pure (E|u|, 0, ...), hierarchical (the T = 0 closed form), parallel
    (E|u|/2 each)."""
    a = mean_abs_u(examples, P, d)
    if state == "pure":
        return np.r_[a, np.zeros(K - 1)]
    if state == "hierarchical":
        return hierarchical_T0(K, examples, P, d)[1]
    if state == "parallel":
        return np.full(K, 0.5 * a if K > 1 else a)
    raise ValueError(f"unknown state {state!r}")


def _path(P, K, st, d, T, q0, steps=24):
    """Continuation in T from the T = 0 sign-dynamics fixed point reached from q0 (as
    theory.multitask.hierarchical_path, on the extended alphabet)."""
    out = mt.solve_batch(P, K, q0[None], d, 0.0, sites=st)
    if T == 0:
        return {k: v[0] for k, v in out.items()}, 0
    q, ok, reached = out["m"], bool(out["converged"][0]), 0
    for j in range(1, steps + 1):
        out = mt.solve_batch(P, K, q, d, T * j / steps, sites=st)
        if not (ok and out["converged"][0]):
            ok = False
            break
        reached, q = j, out["m"]
    out["converged"] = np.array([ok])
    return {k: v[0] for k, v in out.items()}, reached


def _expected(state, K):
    if state == "pure" or K == 1:
        return "pure"
    return "parallel" if state == "parallel" else "hierarchical"


@x64
def solve_learning(model: Model, K: int, T: float, state: str = "hierarchical", normalised: bool = False,
                   seed: int = 0, n_random: int = mt.N_RANDOM) -> Result:
    """A state of the K-archetype low-storage network learning from examples of diluted archetypes (a saddle
    Result; ``model.examples`` says supervised or unsupervised, ``model.dilution`` = d).

    values: m (the K archetype overlaps m_mu = xi^mu.sigma/N, sorted descending; divided by 1 - d if
    ``normalised``), n (the class-mean overlaps xibar.sigma/(r N) in the same order), q (the solver's
    variables q = p / Norm^(1/P)), f, lam_supervised (smallest eigenvalue of the K x K Hessian in q),
    lam_transverse (the unsupervised transverse eigenvalue, smallest over condensed classes; inf for M = 1),
    stable_supervised, stable_unsupervised, found; ``replicon`` is the protocol's smallest eigenvalue.
    States: pure, hierarchical (continued in T from the T = 0 sign-dynamics fixed point reached from the
    closed form), parallel, global (named and ``n_random`` random starts, lowest f among converged starts
    stable for the protocol)."""
    K, T = _check(model, K, T)
    if state not in STATES:
        raise ValueError(f"unknown state {state!r}; choose one of {', '.join(STATES)}")
    ex, d, P = model.examples, float(model.dilution), model.P
    st, _ = sites(K, ex, P)
    if state == "global":
        return _global(model, K, T, st, normalised, seed, n_random)
    q0 = named_start(state, K, ex, P, d)
    if state == "hierarchical":
        out, reached = _path(P, K, st, d, T, q0)
    else:
        out, reached = {k: v[0] for k, v in mt.solve_batch(P, K, q0[None], d, T, sites=st).items()}, None
    got, want = mt.classify(out["m"]), _expected(state, K)
    closed_ok = True
    if state == "hierarchical" and T == 0:
        closed_ok = bool(np.max(np.abs(out["m"] - q0)) < 1e-12)
    if not out["converged"]:
        status = Status.NOT_CONVERGED
        note = f"continuation from T = 0 stopped after step {reached}/24" if reached is not None and T > 0 else ""
    elif got == want and closed_ok:
        status, note = Status.CONVERGED, ""
    elif got == "paramagnet":
        status, note = Status.BRANCH_MISSING, f"the {state} state does not exist here (flows to m = 0)"
    else:
        status, note = Status.COLLAPSED, f"the {state} state is not a distinct solution here: it reached {got}"
        if not closed_ok:
            note = (f"the T = 0 hierarchical closed form is not a fixed point of the sign dynamics (margin "
                    f"{hierarchical_margin_T0(P, K, ex.M, ex.r, d):.6g} <= 0); it flows to a {got} state "
                    f"q = {np.round(np.sort(np.abs(out['m']))[::-1], 6).tolist()}")
    if state == "hierarchical" and T > 0 and hierarchical_margin_T0(P, K, ex.M, ex.r, d) <= 0:
        note = "; ".join(x for x in (note, "continued from the T = 0 fixed point the closed form flows to "
                                     "(the closed form itself is not one here)") if x)
    return _result(model, K, T, state, out, status, normalised, note)


def _result(model, K, T, state, out, status, normalised, note, extra_inputs=None, extra_values=None):
    ex, d, P = model.examples, float(model.dilution), model.P
    q = np.asarray(out["m"], float)
    m, n, trans = observables(q, K, ex, P, d, T)
    order = np.argsort(-np.abs(m), kind="stable")
    lam_sup = float(out["lam"])
    lam_t = float(np.min(trans))
    lam_x = lam_sup / (ex.M * coupling_scale(ex, P) ** 2)       # the uniform block in the example overlaps
    stable_sup = lam_sup > 0
    stable_uns = stable_sup and lam_t > 0
    ok = status.ok
    nan = np.full(K, np.nan)
    values = {"m": (np.abs(m[order]) / ((1.0 - d) if normalised else 1.0)) if ok else nan,
              "n": np.abs(n[order]) if ok else nan, "q": np.abs(q[order]) if ok else nan,
              "f": float(out["f"]) if ok else float("nan"),
              "lam_supervised": lam_sup, "lam_transverse": lam_t,
              "stable_supervised": bool(stable_sup and ok), "stable_unsupervised": bool(stable_uns and ok),
              "found": mt.classify(q), "n_condensed": mt.n_condensed(q)}
    values.update(extra_values or {})
    inputs = {"K": int(K), "T": float(T), "state": state, "protocol": ex.protocol,
              "overlaps": "normalised" if normalised else "unnormalised"}
    inputs.update(extra_inputs or {})
    rep = lam_sup if ex.supervised else min(lam_x, lam_t)
    return Result(model, "saddle", inputs, values, status, float(out["residual"]), int(out["iterations"]),
                  float(rep) if ok else float("nan"), note=_NOTE + ("; " + note if note else ""))


def _global(model, K, T, st, normalised, seed, n_random):
    ex, d, P = model.examples, float(model.dilution), model.P
    hier, _ = _path(P, K, st, d, T, named_start("hierarchical", K, ex, P, d))
    names = ["pure", "parallel", "paramagnet"]
    starts = [named_start("pure", K, ex, P, d), named_start("parallel", K, ex, P, d), np.zeros(K)]
    rng = np.random.default_rng(seed)
    a = mean_abs_u(ex, P, d)
    for i in range(n_random):
        names.append(f"random-{i}")
        starts.append(rng.uniform(0.0, a, K))
    out = mt.solve_batch(P, K, np.array(starts), d, T, sites=st)
    names.insert(0, "hierarchical")
    for k in ("m", "residual", "iterations", "f", "lam", "converged"):
        out[k] = np.concatenate([np.asarray(hier[k])[None], out[k]])
    stable = out["lam"] > 0
    if not ex.supervised:
        stable = stable & np.array([np.min(observables(q, K, ex, P, d, T)[2]) > 0 for q in out["m"]])
    ok = out["converged"] & stable & np.isfinite(out["f"])
    extra_in = {"n_starts": len(names), "seed": int(seed)}
    if not np.any(ok):
        i = int(np.nanargmin(out["residual"]))
        return _result(model, K, T, "global", {k: v[i] for k, v in out.items()}, Status.NOT_FOUND, normalised,
                       "no start converged to a locally stable state", extra_in, {"winner": ""})
    f = np.where(ok, out["f"], np.inf)
    i = int(np.flatnonzero(f <= np.min(f) + 1e-12)[0])
    return _result(model, K, T, "global", {k: v[i] for k, v in out.items()}, Status.CONVERGED, normalised, "",
                   extra_in, {"winner": names[i]})


# ------------------------------------------------------------------------------------------ threshold in M
@x64
def learning_threshold(model: Model, K: int, T: float, m_star: float, state: str = "hierarchical",
                       M_max: int = 200, normalised: bool = True):
    """Smallest number of examples M (1..M_max) for which ``state`` exists (converged, the named state) with
    archetype overlap m_1 >= m_star (m_1 / (1-d) if ``normalised``), for each protocol; a protocol also needs
    its state to be locally stable (supervised: the K x K Hessian; unsupervised: also the transverse
    eigenvalues).  ``model.examples`` gives r and the normalisation (its M and protocol are ignored).
    Returns {"overlap": M by the overlap criterion alone (the same for both protocols: one set of equations),
    "supervised": ..., "unsupervised": ..., "m": m_1 at each M tried} (None where no M <= M_max passes).
    M is scanned upward; M values whose (M+2)^K exceeds ROW_MAX end the scan."""
    ex = model.examples
    res = {"overlap": None, "supervised": None, "unsupervised": None, "m": {}}
    for M in range(1, int(M_max) + 1):
        if letters(M, ex.r)[0].size ** int(K) > ROW_MAX:
            break
        mod = model.replace(examples=ex.replace(M=M, supervised=True))
        r = solve_learning(mod, K, T, state, normalised=normalised)
        m1 = float(r.m[0]) if r.status is Status.CONVERGED else float("nan")
        res["m"][M] = m1
        if r.status is Status.CONVERGED and m1 >= m_star:
            res["overlap"] = res["overlap"] or M
            if r.values["stable_supervised"] and res["supervised"] is None:
                res["supervised"] = M
            if r.values["stable_unsupervised"] and res["unsupervised"] is None:
                res["unsupervised"] = M
        if None not in (res["overlap"], res["supervised"], res["unsupervised"]):
            break
    return res
