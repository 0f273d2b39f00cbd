"""Learning from examples: exact energies and O(K) flips of couplings built from examples.

Conventions (docs/conventions.md): archetypes xi^mu (Rademacher), examples eta^{mu,a}_i = chi^{mu,a}_i xi^mu_i,
a = 1..M, P(chi = +1) = (1 + r)/2; S_i = sum_a chi^a_i, class mean xibar^mu = xi^mu S / M.  Energies (distinct
indices; all tuples replace e_P(y) by (sum_i y_i)^P / P!), Norm = r^P or R^(P/2)
(:meth:`densehebb.Examples.norm`):

* supervised   H = -(1/(Norm N^(P-1))) sum_mu e_P(xibar^mu sigma);
* unsupervised H = -(1/(M Norm N^(P-1))) sum_mu sum_a e_P(eta^{mu,a} sigma).

Pattern set (:func:`montecarlo.patterns.example_patterns`): an integer array W (N, K, C), column 0 the
archetype.  Chain state ``MCState.M``: (K, C) exact integer overlaps, column 0 the archetype overlap
sum_i xi_i sigma_i (so m = M[:, 0] / N), then

* supervised (C = 1 + kmax): column k the power sum Z_k = sum_i (w_i sigma_i)^k, w = M xibar = S xi, k = 1..P
  (distinct indices; even k are constants of the class, kept so that the energy is a function of the
  state) or k = 1 (all tuples).  H = -(1/(P! M^P Norm N^(P-1))) sum_mu Q(Z^mu) with Q = P! e_P written
  with Newton's identities in the Z_k (:func:`montecarlo.polynomials.supervised_energy_polynomial`); a
  flip costs O(K): dH = scale sum_mu F(v, Z_k - v^k), v = w_i sigma_i (O(K kmax) integer operations);
* unsupervised (C = 1 + M): columns 1..M the example overlaps sum_i eta^a_i sigma_i; every example is a
  plain +-1 pattern, so the energy and the flip are those of the plain storage network with K M patterns
  (:mod:`montecarlo.energy`), times 1/(M Norm); a flip costs O(K M).

Integer sums are chunked exactly as in :mod:`montecarlo.polynomials` (int32 / int64 chunks, float64 if a
term can exceed 2^62; :class:`~montecarlo.polynomials.ExamplePlan`).  Observables: archetype overlap
m = M[:, 0]/N, class-mean overlap n = xibar . sigma / (r N) (supervised Z_1 / (M r N), unsupervised
sum_a x_a / (M r)) and, unsupervised, the example overlaps x_a = eta^a . sigma / N.

:func:`energy_reference` is the definition (explicit e_P over index subsets) for tests at small N.

Plefka dynamics (``plan_for(..., plefka=True)``, :func:`delta_energy_plefka`; docs/montecarlo.md): flips accepted
with the first-order mean-field energy change 2 sigma_i h_i, h_i computed from the cavity overlaps
sum_{j != i} xibar_j sigma_j (every example, unsupervised) as if continuous; the state and the energy stay exact.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

import jax.numpy as jnp
import numpy as np

from .energy import _DTYPES, check_order, energy_sum, flip_sum, overlaps
from .polynomials import ExamplePlan, FlipPlan, example_plan, flip_plan

_STATE = {"int8": jnp.int8, "int16": jnp.int16, "int32": jnp.int32, "int64": jnp.int64, "float64": jnp.float64}


@dataclass(frozen=True)
class DilutedPatterns:
    """Diluted patterns (docs/conventions.md "Diluted patterns") as the Monte Carlo runs them: entries in
    {-1, 0, +1} with P(0) = ``dilution``, handled by the supervised machinery of this module with one example
    per class equal to the pattern (M = 1, r = 1, Norm = 1; pattern set
    :func:`montecarlo.patterns.diluted_patterns`).  Then w = xi, and the power sums Z_k = sum_i (xi_i sigma_i)^k
    are the overlap sum_i xi_i sigma_i (odd k) and the number of non-blank entries n_mu (even k, a constant of
    the pattern since xi^2 is 0 or 1), so H = -(1/N^(P-1)) sum_mu e_P(xi^mu sigma) (distinct indices;
    all tuples -(N/P!) sum_mu m_mu^P) is exact, and a flip costs O(K P) integer operations.  Quacks like a
    :class:`densehebb.Examples` where the engine reads one (``M``, ``r``, ``supervised``, ``norm``)."""

    dilution: float
    M: int = 1
    r: float = 1.0
    supervised: bool = True
    gaussian: bool = False
    normalisation: str = "none"

    def norm(self, P: int) -> float:
        return 1.0

    @property
    def protocol(self) -> str:
        return "diluted"


@dataclass(frozen=True)
class DilutedExamples:
    """Examples of diluted archetypes (docs/conventions.md "Learning from examples" with the archetypes of
    "Diluted patterns"): a :class:`densehebb.Examples` plus the archetypes' ``dilution`` d; the blank entries
    of an archetype are blank in every example (eta = chi xi, xi in {-1, 0, 1}).  Supervised: w = S xi and
    the power sums Z_k = sum_i (w_i sigma_i)^k stay exact (even k: sum over the non-blank sites of S^k, a
    constant); unsupervised: the plan's ``sub`` (:func:`montecarlo.polynomials.example_plan` with
    ``diluted``).  Quacks like the Examples it wraps."""

    examples: object
    dilution: float

    def __getattr__(self, name):
        """Everything else (M, r, supervised, normalisation, gaussian, protocol, norm, ...) is the Examples'."""
        if name == "examples":      # not yet set (copy / unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.examples, name)


def archetype_dilution(examples) -> float:
    """The archetypes' dilution of an engine's ``examples`` (0 for plain archetypes)."""
    return float(examples.dilution) if isinstance(examples, DilutedExamples) else 0.0


def is_diluted(examples) -> bool:
    """Whether an engine's ``examples`` field holds diluted patterns (:class:`DilutedPatterns`)."""
    return isinstance(examples, DilutedPatterns)


def plan_for(N: int, K: int, P: int, self_interaction: bool = False, examples=None, plefka: bool = False):
    """The flip plan of a run: :class:`FlipPlan` (plain patterns, ``examples=None``) or
    :class:`ExamplePlan` (``examples``: a :class:`densehebb.Examples`, or :class:`DilutedPatterns`);
    ``plefka``: the flips of the Plefka dynamics (couplings built from examples only, see
    :func:`delta_energy_plefka`)."""
    P = check_order(P, self_interaction)
    if examples is None:
        if plefka:
            raise ValueError("the Plefka dynamics applies to couplings built from examples (model.examples) only")
        return flip_plan(P, bool(self_interaction), int(N), int(K))
    return example_plan(P, bool(self_interaction), int(N), int(K), int(examples.M), bool(examples.supervised),
                        float(examples.norm(P)), plefka=bool(plefka),
                        diluted=archetype_dilution(examples) > 0)


def columns(examples) -> int:
    """Pattern-set columns C per archetype: 2 (supervised) or 1 + M (unsupervised)."""
    return 2 if examples.supervised else 1 + int(examples.M)


def state_dtype(plan):
    return _STATE[plan.state_dtype]


# ------------------------------------------------------------------------------------------- overlaps
def initial_overlaps(sigma, W, plan: ExamplePlan):
    """State overlaps (K, plan.columns) of spins sigma (N,) for the pattern set W (N, K, C) (exact)."""
    sigma = jnp.asarray(sigma)
    W = jnp.asarray(W)
    N, K, C = W.shape
    dt = state_dtype(plan)
    if not plan.supervised:
        X = overlaps(sigma, W.reshape(N, K * C)).reshape(K, C)
        if plan.sub is not None:          # diluted archetypes: the non-blank count of each class, a constant
            X = jnp.concatenate([X, jnp.sum(W[..., 0] != 0, axis=0, dtype=jnp.int32)[:, None]], axis=-1)
        return X.astype(dt)
    acc = jnp.int64 if dt != jnp.float64 else jnp.float64
    s = sigma.astype(acc)
    m0 = jnp.matmul(s, W[..., 0].astype(acc))
    y = W[..., 1].astype(acc) * s[:, None]                              # (N, K): w_i sigma_i
    cols = [m0]
    yk = jnp.ones_like(y)
    for _ in range(1, plan.columns):
        yk = yk * y
        cols.append(jnp.sum(yk, axis=0))
    return jnp.stack(cols, axis=-1).astype(dt)


def archetype_overlaps(M, examples=None):
    """Integer archetype overlaps N m_mu (..., K) of a state's overlaps (plain patterns: M itself)."""
    return M if examples is None else M[..., 0]


def class_overlaps(M, N: int, examples):
    """Class-mean overlaps n_mu = xibar^mu . sigma / (r N), float64 (..., K)."""
    r, Mx = float(examples.r), int(examples.M)
    if examples.supervised:
        return M[..., 1].astype(jnp.float64) / (Mx * r * N)
    return jnp.sum(M[..., 1:1 + Mx].astype(jnp.int64), axis=-1).astype(jnp.float64) / (Mx * r * N)


def example_overlaps(M, N: int, n_examples: int | None = None):
    """Unsupervised: example overlaps x_{mu,a} = eta^{mu,a} . sigma / N, float64 (..., K, M) (``n_examples``
    = M: the columns 1..M, needed when the state carries the non-blank count of diluted archetypes)."""
    end = None if n_examples is None else 1 + int(n_examples)
    return M[..., 1:end].astype(jnp.float64) / N


def _diluted_power_sums(X, n, kmax, dt):
    """Power sums Z_1..Z_kmax of example vectors with entries in {-1, 0, 1}: X (odd k), n (even k)."""
    return [X if k % 2 else jnp.broadcast_to(n, X.shape) for k in range(1, kmax + 1)]


# ------------------------------------------------------------------------------------------- energies
def _powers(x, n, dt):
    """[x^0, x^1, ..., x^n] in dtype dt."""
    out = [jnp.ones_like(x, dtype=dt), x]
    for _ in range(2, n + 1):
        out.append(out[-1] * x)
    return out[: n + 1]


def _eval_terms(terms, variables, dt):
    """sum_t a_t prod_j variables[j]^e_tj, in dtype dt (powers computed once)."""
    top = [max((e[j] for _, e in terms), default=0) for j in range(len(variables))]
    pw = [_powers(v, n, dt) if n else None for v, n in zip(variables, top)]
    acc = None
    for a, exps in terms:
        t = None
        for j, e in enumerate(exps):
            if e:
                t = pw[j][e] if t is None else t * pw[j][e]
        if t is None:
            t = jnp.full(jnp.shape(variables[0]), a, dt)
        elif a != 1:
            t = jnp.asarray(a, dt) * t
        acc = t if acc is None else acc + t
    return acc


def energy_sum_examples(M, plan: ExamplePlan):
    """S with H = -S / (plan.energy_denominator * plan.norm): int64 (exact) or float64, batched."""
    M = jnp.asarray(M)
    if plan.sub is not None:
        sub = plan.sub
        dt = jnp.int64 if sub.energy_exact else jnp.float64
        X = M[..., 1:1 + plan.M].astype(dt)
        n = M[..., -1:].astype(dt)
        Z = _diluted_power_sums(X, n, sub.columns - 1, dt)
        return jnp.sum(_eval_terms(sub.energy_terms, Z, dt), axis=(-2, -1), dtype=dt)
    if not plan.supervised:
        Me = M[..., 1:]
        Me = Me.reshape(Me.shape[:-2] + (Me.shape[-2] * Me.shape[-1],))
        return energy_sum(Me, plan.N, plan.P, plan.self_interaction)
    dt = jnp.int64 if plan.energy_exact else jnp.float64
    Z = [M[..., k].astype(dt) for k in range(1, plan.columns)]
    return jnp.sum(_eval_terms(plan.energy_terms, Z, dt), axis=-1, dtype=dt)


def energy_from_state(M, plan: ExamplePlan):
    """Energy H (float64, not per neuron) of state overlaps M (..., K, C); the only rounding is the final
    division."""
    S = energy_sum_examples(M, plan)
    return -S.astype(jnp.float64) / (float(plan.energy_denominator) * plan.norm)


def energy(sigma, W, P: int, self_interaction: bool, examples):
    """Exact energy recomputed from scratch: spins sigma (..., N), pattern set W (N, K, C)."""
    W = jnp.asarray(W)
    plan = plan_for(W.shape[0], W.shape[1], P, self_interaction, examples)
    sigma = jnp.asarray(sigma)
    flat = sigma.reshape((-1, sigma.shape[-1]))
    import jax

    M = jax.vmap(lambda s: initial_overlaps(s, W, plan))(flat.astype(jnp.int8))
    return energy_from_state(M, plan).reshape(sigma.shape[:-1])


# ------------------------------------------------------------------------------------- single flips
def _chunk_sum(t, plan, dt):
    """Exact chunked sum of the K terms t (see :func:`montecarlo.energy.flip_sum`)."""
    K, L = plan.K, plan.chunk
    out = jnp.int64 if plan.exact else jnp.float64
    J = K // L
    n = jnp.zeros((), out)
    if J:
        n = n + t[: J * L].reshape(J, L).sum(axis=-1, dtype=dt).astype(out).sum()
    if J * L < K:
        n = n + t[J * L:].sum(dtype=dt).astype(out)
    return n


def flip_sum_examples(M, row, s, plan: ExamplePlan):
    """n with dH = plan.scale * n for flipping a site with pattern row ``row`` (K, C) and spin ``s``, state
    overlaps M (K, C) before the flip.  int64 (exact) or float64."""
    if plan.sub is not None:
        sub = plan.sub
        dt = _DTYPES[sub.compute]
        v = (jnp.asarray(s).astype(dt) * row[:, 1:].astype(dt)).reshape(-1)             # (K M,) in {-1, 0, 1}
        X = M[:, 1:1 + plan.M].astype(dt).reshape(-1)
        n = jnp.repeat(M[:, -1].astype(dt), plan.M)
        n_y = len(sub.flip_terms[0][1]) - 1
        Y = [X - v if k % 2 else n - v * v for k in range(1, n_y + 1)]
        F = _eval_terms(sub.flip_terms, [v] + Y, dt)
        return _chunk_sum(F, sub, dt)
    if not plan.supervised:
        K, C = row.shape
        return flip_sum(M[:, 1:].reshape(K * (C - 1)), row[:, 1:].reshape(K * (C - 1)), s, plan.base)
    dt = _DTYPES[plan.compute]
    v = jnp.asarray(s).astype(dt) * row[:, 1].astype(dt)
    n_y = len(plan.flip_terms[0][1]) - 1
    vp = _powers(v, n_y, dt)
    Y = [M[:, k].astype(dt) - vp[k] for k in range(1, n_y + 1)]
    F = _eval_terms(plan.flip_terms, [v] + Y, dt)
    return _chunk_sum(F, plan, dt)


def flip_update(M, row, s, accept, plan: ExamplePlan):
    """State overlaps after the attempt (changed only if ``accept``)."""
    dt = M.dtype
    if plan.sub is not None:             # the last column (non-blank count) does not change
        D = jnp.concatenate([row.astype(dt), jnp.zeros(row.shape[:-1] + (1,), dt)], axis=-1)
        return M - jnp.where(accept, 2 * s, 0).astype(dt) * D
    if not plan.supervised:
        return M - jnp.where(accept, 2 * s, 0).astype(dt) * row.astype(dt)
    sd = jnp.asarray(s).astype(dt)
    x = sd * row[:, 0].astype(dt)
    v = sd * row[:, 1].astype(dt)
    cols = [x]
    vk = v
    for k in range(1, plan.columns):
        if k > 1:
            vk = vk * v
        cols.append(vk if k % 2 else jnp.zeros_like(vk))
    D = jnp.stack(cols, axis=-1)
    return M - jnp.where(accept, 2, 0).astype(dt) * D


def delta_energy(sigma, W, M, i, P, self_interaction, examples, plefka=False):
    """dH of flipping spin i (float64), incrementally from the state overlaps M (K, C); with ``plefka`` the
    energy change the Plefka dynamics uses instead (:func:`delta_energy_plefka`)."""
    W = jnp.asarray(W)
    plan = plan_for(W.shape[0], W.shape[1], P, self_interaction, examples, plefka)
    return flip_sum_examples(jnp.asarray(M), W[i], jnp.asarray(sigma)[i], plan).astype(jnp.float64) * plan.scale


def delta_energy_plefka(sigma, W, M, i, P, self_interaction, examples):
    """The energy change of flipping spin i that the Plefka dynamics accepts with (float64).

    First-order (mean-field) flip: dH_plefka = 2 sigma_i h_i with the field of the other neurons taken as
    continuous overlaps, h_i = (1/((P-1)! Norm N^(P-1))) sum_mu xibar_i^mu (sum_{j != i} xibar_j^mu sigma_j)^(P-1)
    (supervised) or (1/(M (P-1)! Norm N^(P-1))) sum_{mu,a} eta_i^{mu,a} (sum_{j != i} eta_j^{mu,a} sigma_j)^(P-1)
    (unsupervised); the same for both conventions.  docs/montecarlo.md "Plefka dynamics" gives the
    difference from the exact dH (:func:`delta_energy`): O(1/N) at finite load, O(1) at high load.
    """
    return delta_energy(sigma, W, M, i, P, self_interaction, examples, plefka=True)


# ------------------------------------------------------------------------------------ the definition
def _e_P(y, P):
    """Elementary symmetric polynomial e_P of the entries of y (exact Python arithmetic, any number type)."""
    total = 0
    for idx in itertools.combinations(range(len(y)), P):
        total += math.prod(y[j] for j in idx)
    return total


def energy_reference(sigma, xi, chi, P: int, self_interaction: bool, examples) -> float:
    """The definition, in exact rational arithmetic (O(N^P K M); for tests at small N).

    sigma (N,), archetypes xi (N, K), noise chi (M, N, K).  Supervised: y = xibar^mu sigma with
    xibar = (1/M) sum_a chi^a xi; H = -(1/(Norm N^(P-1))) sum_mu e_P(y) (explicit sum over index subsets), or
    (sum_i y_i)^P / P! for all tuples.  Unsupervised: the same for every example eta^{mu,a} = chi^a xi^mu,
    with 1/M in front.
    """
    P = check_order(P, self_interaction)
    sigma = np.asarray(sigma, np.int64)
    xi = np.asarray(xi, np.int64)
    chi = np.asarray(chi, np.int64)
    M, N, K = chi.shape

    def h(y):
        if self_interaction:
            return Fraction(sum(y)) ** P / math.factorial(P)
        return Fraction(_e_P(y, P))

    total = Fraction(0)
    for mu in range(K):
        if examples.supervised:
            y = [Fraction(int(chi[:, i, mu].sum() * xi[i, mu] * sigma[i]), M) for i in range(N)]
            total += h(y)
        else:
            total += sum(h([int(chi[a, i, mu] * xi[i, mu] * sigma[i]) for i in range(N)])
                         for a in range(M)) / M
    return -float(total / N ** (P - 1)) / float(examples.norm(P))


def is_example_plan(plan) -> bool:
    return isinstance(plan, ExamplePlan)


__all__ = ["plan_for", "initial_overlaps", "archetype_overlaps", "class_overlaps", "example_overlaps",
           "energy_from_state", "energy", "flip_sum_examples", "flip_update", "delta_energy", "delta_energy_plefka",
           "energy_reference", "DilutedPatterns", "DilutedExamples", "is_diluted", "archetype_dilution",
           "FlipPlan", "ExamplePlan"]
