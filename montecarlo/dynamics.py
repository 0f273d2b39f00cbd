"""Single-spin-flip Markov chain dynamics as ``(init_fn, step_fn)`` pairs (jax-md style).

* ``init_fn(key, sigma0, xi) -> MCState``: spins (N,) +-1, patterns xi (N, K) ``int8``.
* ``step_fn(state, xi, beta) -> MCState``: one *sweep* = N attempts, sites visited sequentially
  i = 0, 1, ..., N-1.  Each attempt costs O(K) for every P: the energy change is the exact integer sum
  dH = scale * sum_mu x_mu G(M_mu - x_mu), x_mu = xi_i^mu sigma_i (:func:`montecarlo.energy.flip_sum`;
  for P = 2 it is (2/N)(sigma_i xi_i . M - K)), and M is updated (M -= 2 sigma_i xi_i) only if the flip
  is accepted.  The whole sweep is one ``lax.fori_loop``; the N uniforms of a sweep are drawn up front from
  the state's own key, so the result is a deterministic function of the initial key.

Acceptance probabilities, with dH the energy change of the proposed flip and beta = 1/T:

* Glauber / heat bath: p = 1 / (1 + exp(beta dH)).
* Metropolis: p = min(1, exp(-beta dH)).

Zero temperature (``beta = inf``) uses the beta -> inf limit of each rule: heat bath accepts iff dH < 0 and
accepts dH == 0 with probability 1/2; Metropolis accepts iff dH <= 0 (min(1, exp(-beta * 0)) = 1 at every
beta, so zero-energy moves are always taken).  dH == 0 is tested exactly (dH = scale * integer).
``greedy`` is zero-temperature strict descent (accept iff dH < 0) for capacity studies.
A flip is accepted iff u < p with u uniform in [0, 1); the dynamics evaluate this as dH < tau(u) with
thresholds tau drawn once per sweep (:data:`THRESHOLD_RULES`, ties handled exactly as above), which
moves the logarithms out of the site loop.

Each single-site update satisfies detailed balance w.r.t. exp(-beta H), so a sequential sweep leaves the
Boltzmann distribution invariant (checked against exact enumeration in tests/test_mc_exact.py).

Many chains sharing one pattern set are swept by :func:`batched_step` (the same numbers as
``jax.vmap(step_fn)``); :mod:`montecarlo.engine` runs it for the (sample, temperature, replica) chains of
every Monte Carlo run.  The kernels use float64 / int64: call them with JAX's 64-bit mode on (the toolkit's
entry points do this for you, :func:`densehebb.theory.precision.x64`).
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from . import learning
from .energy import check_order, energy_from_overlaps, flip_sum, overlap_dtype, overlaps
from .polynomials import ExamplePlan, FlipPlan


class MCState(NamedTuple):
    """State of one chain (a pytree; batched chains carry leading axes on every field).

    sigma:         (N,) ``int8`` spins +-1.
    M:             (K,) overlaps M_mu = sum_i xi_i^mu sigma_i, updated incrementally (exact), in the
                   narrowest signed integer type holding |M| <= N (int8, int16 or int32).
    key:           the chain's own PRNG key (advanced once per sweep).
    sweeps:        ``int32`` number of completed sweeps.
    attempts:      ``int64`` number of attempted flips (N per sweep).
    accepted:      ``int64`` number of accepted flips.
    energy_change: ``float64`` sum of the dH of all accepted flips since ``init_fn``.
    """

    sigma: jax.Array
    M: jax.Array
    key: jax.Array
    sweeps: jax.Array
    attempts: jax.Array
    accepted: jax.Array
    energy_change: jax.Array


def glauber_acceptance(dH, beta):
    """Heat-bath probability 1/(1 + exp(beta dH)); at beta = inf: 1 if dH < 0, 1/2 if dH == 0, else 0."""
    x = jnp.where(dH == 0, 0.0, beta * dH)  # avoids inf * 0 = nan at T = 0
    return jax.nn.sigmoid(-x)


def metropolis_acceptance(dH, beta):
    """Metropolis probability min(1, exp(-beta dH)); at beta = inf: 1 if dH <= 0, else 0."""
    return jnp.where(dH <= 0, 1.0, jnp.exp(-beta * jnp.maximum(dH, 0.0)))


def greedy_acceptance(dH, beta):
    """Zero-temperature strict descent: 1 if dH < 0, else 0 (``beta`` is ignored).

    Unlike T = 0 Glauber (ties accepted with probability 1/2) or Metropolis (ties always accepted), a
    sweep without a flip means the configuration is a fixed point (a local minimum under single flips),
    so the dynamics stops; used for capacity runs.
    """
    del beta
    return jnp.where(dH < 0, 1.0, 0.0)


def _check_sizes(N, K):
    if isinstance(N, bool) or int(N) != N or N < 2:
        raise ValueError(f"N must be an integer >= 2, got {N!r}")
    if isinstance(K, bool) or int(K) != K or K < 1:
        raise ValueError(f"K must be an integer >= 1, got {K!r}")
    return int(N), int(K)


def _check_xi(xi, N, K, plan=None):
    if isinstance(plan, ExamplePlan):
        C = 2 if plan.supervised else 1 + plan.M
        if xi.shape != (N, K, C):
            raise ValueError(f"example pattern set must have shape (N, K, C) = ({N}, {K}, {C}), got {xi.shape}")
    elif xi.shape != (N, K):
        raise ValueError(f"patterns xi must have shape (N, K) = ({N}, {K}), got {xi.shape}")


# ------------------------------------------------------------------------------ acceptance thresholds
# The rules above as comparisons with a threshold tau drawn once per sweep (vectorised over all sites and
# chains, outside the site loop): accept iff u < p(dH)  <=>  dH < tau(u), with ties handled explicitly.
def _tau_metropolis(u, beta):
    """u < exp(-beta dH)  <=>  dH < -ln(u) / beta  (0 at T = 0)."""
    return jnp.where(jnp.isinf(beta), 0.0, -jnp.log(u) / beta)


def _tau_glauber(u, beta):
    """u < 1 / (1 + exp(beta dH))  <=>  dH < ln((1 - u) / u) / beta  (0 at T = 0)."""
    return jnp.where(jnp.isinf(beta), 0.0, (jnp.log1p(-u) - jnp.log(u)) / beta)


def _tau_none(u, beta):
    return jnp.zeros_like(u)


def _accept_metropolis(dH, tau, u):
    return (dH <= 0) | (dH < tau)


def _accept_glauber(dH, tau, u):
    return (dH < tau) | ((dH == 0) & (u < 0.5))


def _accept_greedy(dH, tau, u):
    return dH < 0


#: rule name -> (threshold(u, beta), accept(dH, tau, u)); equivalent to ``u < p(dH, beta)`` with the probability functions above
THRESHOLD_RULES = {"metropolis": (_tau_metropolis, _accept_metropolis),
                   "glauber": (_tau_glauber, _accept_glauber),
                   "greedy": (_tau_none, _accept_greedy)}
_RULE_OF = {glauber_acceptance: "glauber", metropolis_acceptance: "metropolis", greedy_acceptance: "greedy"}


def _rule_fns(acceptance):
    """(threshold, accept) for a rule name or one of the probability functions; None for custom ones."""
    name = acceptance if isinstance(acceptance, str) else _RULE_OF.get(acceptance)
    if name is None:
        return None
    if name not in THRESHOLD_RULES:
        raise ValueError(f"unknown dynamics {name!r}; available: {sorted(THRESHOLD_RULES)}")
    return THRESHOLD_RULES[name]


def site_update(s, row, M, tau_i, u_i, plan, accept_fn, wall=None, target=None):
    """One flip attempt of one chain: (new spin, new overlaps, accepted, dH).

    s: current spin of the site; row: its pattern entries (K,); M: overlaps (K,); tau_i, u_i: the
    attempt's threshold and uniform.  dH is exact (see :func:`montecarlo.energy.flip_sum`).  With an
    :class:`~montecarlo.polynomials.ExamplePlan` (learning from examples) row and M are (K, C) and the
    sum and the update are those of :mod:`montecarlo.learning`.
    ``wall`` (an int, plain patterns only): the basin constraint -- a flip that would make the overlap
    M[target] of the chain's target pattern smaller than ``wall`` is rejected (O(1): one entry of M).
    """
    if isinstance(plan, ExamplePlan):
        if wall is not None:
            raise ValueError("the basin constraint (wall) applies to plain patterns only")
        dH = learning.flip_sum_examples(M, row, s, plan).astype(jnp.float64) * plan.scale
        accept = accept_fn(dH, tau_i, u_i)
        return jnp.where(accept, -s, s), learning.flip_update(M, row, s, accept, plan), accept, dH
    dH = flip_sum(M, row, s, plan).astype(jnp.float64) * plan.scale
    accept = accept_fn(dH, tau_i, u_i)
    if wall is not None:     # the flip must keep M[target] >= wall
        accept = accept & (M[target].astype(jnp.int32) - 2 * (s * row[target]).astype(jnp.int32) >= wall)
    M = M - (jnp.where(accept, 2 * s, 0).astype(M.dtype) * row.astype(M.dtype))
    return jnp.where(accept, -s, s), M, accept, dH


def single_spin_flip(N: int, K: int, acceptance, P: int = 2, self_interaction: bool = False,
                     unroll: int = 1, examples=None, plefka: bool = False):
    """Generic sequential single-spin-flip dynamics: ``(init_fn, step_fn)``.

    ``acceptance``: a rule name ("glauber", "metropolis", "greedy"), one of the probability functions
    above, or any ``p(dH, beta)`` (then u < p is evaluated inside the site loop).  Any P = 2..8 and both
    conventions: the energy change of each attempt is the exact O(K) sum of
    :func:`montecarlo.energy.flip_sum` (plan: :func:`montecarlo.polynomials.flip_plan`).  ``unroll`` is
    passed to the ``lax.scan`` over sites (a speed knob only; results do not depend on it).
    ``examples`` (a :class:`densehebb.Examples`): couplings built from examples; the patterns are then the
    pattern set (N, K, C) of :func:`montecarlo.patterns.examples` (K archetypes) and the state overlaps
    (K, C) those of :mod:`montecarlo.learning`.
    ``plefka`` (with ``examples`` only): the Plefka dynamics -- flips are accepted with the first-order
    mean-field energy change (:func:`montecarlo.learning.delta_energy_plefka`) instead of the exact dH;
    the state overlaps, and so every observable and the energy, stay exact.  ``energy_change`` then sums
    the approximate dH of the accepted flips (it differs from the energy difference).
    Use :func:`batched_step` for many chains: it gives the same numbers as ``vmap(step_fn)``, faster.
    """
    N, K = _check_sizes(N, K)
    P = check_order(P, self_interaction)
    plan = learning.plan_for(N, K, P, bool(self_interaction), examples, plefka)
    rule = _rule_fns(acceptance)

    def init_fn(key, sigma0, xi) -> MCState:
        """Chain state at spins ``sigma0`` (N,) for patterns ``xi`` (N, K); ``key`` drives all its moves."""
        xi = jnp.asarray(xi)
        _check_xi(xi, N, K, plan)
        sigma = jnp.asarray(sigma0).astype(jnp.int8)
        if sigma.shape != (N,):
            raise ValueError(f"sigma0 must have shape ({N},), got {sigma.shape}")
        if isinstance(plan, ExamplePlan):
            M0 = learning.initial_overlaps(sigma, xi, plan)
        else:
            M0 = overlaps(sigma, xi).astype(overlap_dtype(N))
        return MCState(sigma=sigma, M=M0, key=key,
                       sweeps=jnp.zeros((), jnp.int32), attempts=jnp.zeros((), jnp.int64),
                       accepted=jnp.zeros((), jnp.int64), energy_change=jnp.zeros((), jnp.float64))

    def step_fn(state: MCState, xi, beta) -> MCState:
        """One sequential sweep (N flip attempts, i = 0..N-1) at inverse temperature ``beta`` (inf: T = 0)."""
        xi = jnp.asarray(xi)
        _check_xi(xi, N, K, plan)
        beta = jnp.asarray(beta, jnp.float64)
        key, sub = jax.random.split(state.key)
        u = jax.random.uniform(sub, (N,), jnp.float64)
        if rule is not None:
            tau_fn, accept_fn = rule
            tau = tau_fn(u, beta)
        else:
            tau = u
            accept_fn = lambda dH, t, uu: uu < acceptance(dH, beta)  # noqa: E731

        def attempt(carry, site):
            M, n_acc, dE = carry
            s, row, tau_i, u_i = site
            _, M, accept, dH = site_update(s, row, M, tau_i, u_i, plan, accept_fn)
            return (M, n_acc + accept.astype(jnp.int64), dE + jnp.where(accept, dH, 0.0)), accept

        # each site is visited once per sweep, so its spin before the attempt is the sweep's initial one;
        # the accepted flips are the scan's output (written once, never read back inside the loop)
        init = (state.M, jnp.zeros((), jnp.int64), jnp.zeros((), jnp.float64))
        (M, n_acc, dE), flips = jax.lax.scan(attempt, init, (state.sigma, xi, tau, u), unroll=unroll)
        sigma = jnp.where(flips, -state.sigma, state.sigma)
        return MCState(sigma=sigma, M=M, key=key, sweeps=state.sweeps + 1, attempts=state.attempts + N,
                       accepted=state.accepted + n_acc, energy_change=state.energy_change + dE)

    return init_fn, step_fn


def linear_flip_f32(plan) -> bool:
    """Whether :func:`batched_step` uses the float32 matrix-vector path (P = 2, both conventions).

    For P = 2 the flip polynomial is linear, G'(y) = c y, so n = c sum_mu x_mu (M_mu - x_mu)
    = c (sigma_i xi_i . M - sum_mu (xi_i^mu)^2) (the last sum is K for +-1 patterns; zero-padded patterns, as
    in the capacity runs, count only their non-zero entries): one matrix-vector product of the chains' overlaps with the pattern row.
    With the overlaps held as float32 inside the sweep this is an optimised BLAS-like product, and it is
    exact: every product is +-M_mu, an integer with |M_mu| <= N, and every partial sum, in any order, is an
    integer of magnitude <= K N < 2^24, which float32 represents exactly.
    """
    return (isinstance(plan, FlipPlan) and plan.P == 2 and plan.parity == 1 and len(plan.coeffs) == 1 and plan.K * plan.N < 2**24)


def batched_step(N: int, K: int, rule: str, P: int = 2, self_interaction: bool = False, unroll: int = 1,
                 examples=None, plefka: bool = False, wall: int | None = None, targets=None):
    """One sweep of C chains sharing one pattern set: ``step(states (C, ...), xi (N, K), beta (C,))``.

    Numerically identical to ``jax.vmap(step_fn)`` of :func:`single_spin_flip` (same keys, thresholds and
    decisions), but the per-site work is laid out for speed: the spins, uniforms and thresholds of a sweep
    are held site-major (N, C), so each attempt reads one contiguous row for all chains, and the
    transcendental functions of the acceptance rule are evaluated once per sweep for all sites and
    chains.  The per-chain attempt is :func:`site_update`, vmapped over the chains; for P = 2 (when
    K N < 2^24) the flip sums of all chains are one exact float32 matrix-vector product instead
    (:func:`linear_flip_f32`; the overlaps are float32 within the sweep and converted back, exactly, at
    its end).  ``examples``, ``plefka``: as in :func:`single_spin_flip` (the integer kernel of
    :mod:`montecarlo.learning`).

    Basin constraint (``wall``, an int, with ``targets``, the target pattern index of each of the C
    chains; plain patterns only): a flip after which the overlap M_t = sum_i xi_i^t sigma_i of the chain's
    target pattern t would be smaller than ``wall`` is rejected.  Each attempt then satisfies detailed
    balance with respect to exp(-beta H) restricted to {M_t >= wall}, so the sweep samples that restricted
    measure (for a chain that starts inside it).  ``wall=None``: no constraint, the code path and numbers
    of the unconstrained sweep.
    """
    N, K = _check_sizes(N, K)
    P = check_order(P, self_interaction)
    plan = learning.plan_for(N, K, P, bool(self_interaction), examples, plefka)
    tau_fn, accept_fn = _rule_fns(rule)
    if wall is not None:
        if isinstance(plan, ExamplePlan):
            raise ValueError("the basin constraint (wall) applies to plain patterns only")
        if targets is None:
            raise ValueError("the basin constraint (wall) needs the target pattern of every chain (targets)")
        wall = int(wall)
        targets = jnp.asarray(targets, jnp.int32)
    if linear_flip_f32(plan):
        return _batched_step_linear(N, K, plan, tau_fn, accept_fn, unroll, wall, targets)
    # the chains' target patterns are mapped with them (an axis only when there is a wall)
    attempt_c = jax.vmap(site_update, in_axes=(0, None, 0, 0, 0, None, None, None, None if wall is None else 0))

    def step(state: MCState, xi, beta) -> MCState:
        key, uT, tauT, sigT = _sweep_randoms(state, beta, N, tau_fn)

        def attempt(carry, site):
            M, n_acc, dE = carry
            s, row, tau_i, u_i = site
            _, M, accept, dH = attempt_c(s, row, M, tau_i, u_i, plan, accept_fn, wall, targets)
            return (M, n_acc + accept.astype(jnp.int64), dE + jnp.where(accept, dH, 0.0)), accept

        C = state.M.shape[0]
        init = (state.M, jnp.zeros((C,), jnp.int64), jnp.zeros((C,), jnp.float64))
        (M, n_acc, dE), flips = jax.lax.scan(attempt, init, (sigT, xi, tauT, uT), unroll=unroll)
        sigma = jnp.where(flips.T, -state.sigma, state.sigma)
        return MCState(sigma=sigma, M=M, key=key, sweeps=state.sweeps + 1, attempts=state.attempts + N,
                       accepted=state.accepted + n_acc, energy_change=state.energy_change + dE)

    return step


def _sweep_randoms(state, beta, N, tau_fn):
    """Per-chain key split, one uniform per site and its acceptance threshold, all site-major (N, C)."""
    beta = jnp.asarray(beta, jnp.float64)
    keys = jax.vmap(jax.random.split)(state.key)                       # (C, 2)
    key, sub = keys[:, 0], keys[:, 1]
    u = jax.vmap(lambda k: jax.random.uniform(k, (N,), jnp.float64))(sub)   # (C, N)
    tau = tau_fn(u, beta[:, None])
    return key, u.T, tau.T, state.sigma.T


def _batched_step_linear(N, K, plan, tau_fn, accept_fn, unroll, wall=None, targets=None):
    """:func:`batched_step` for a linear flip polynomial (P = 2): n = c (sigma_i xi_i . M - |xi_i|^2), exact in
    float32 (see :func:`linear_flip_f32`); same keys, thresholds, decisions and numbers."""
    c0 = int(plan.coeffs[0])

    def step(state: MCState, xi, beta) -> MCState:
        key, uT, tauT, sigT = _sweep_randoms(state, beta, N, tau_fn)
        xi = jnp.asarray(xi)
        xif = xi.astype(jnp.float32)
        # sum_mu x_mu^2 = sum_mu (xi_i^mu)^2: K for +-1 patterns, fewer where patterns are padded with zeros
        # (the capacity runs batch several loads that way); the integer kernel gets this from x (M - x)
        sq = jnp.sum(xi.astype(jnp.int32) ** 2, axis=1).astype(jnp.int64)     # (N,)

        def attempt(carry, site):
            M, n_acc, dE = carry                                             # M: (C, K) float32, integers
            s, row, tau_i, u_i, sq_i = site
            h = jnp.dot(M, row, precision=jax.lax.Precision.HIGHEST)         # exact: |partial sums| < 2^24
            n = (s.astype(jnp.int64) * h.astype(jnp.int64) - sq_i) * c0
            dH = n.astype(jnp.float64) * plan.scale
            accept = accept_fn(dH, tau_i, u_i)
            if wall is not None:     # exact: integers of magnitude <= N + 2 in float32
                x_t = s.astype(jnp.float32) * row[targets]
                accept = accept & (M[jnp.arange(M.shape[0]), targets] - 2 * x_t >= wall)
            d = jnp.where(accept, 2 * s, 0).astype(jnp.float32)
            M = M - d[:, None] * row[None, :]
            return (M, n_acc + accept.astype(jnp.int64), dE + jnp.where(accept, dH, 0.0)), accept

        C = state.M.shape[0]
        init = (state.M.astype(jnp.float32), jnp.zeros((C,), jnp.int64), jnp.zeros((C,), jnp.float64))
        (M, n_acc, dE), flips = jax.lax.scan(attempt, init, (sigT, xif, tauT, uT, sq), unroll=unroll)
        sigma = jnp.where(flips.T, -state.sigma, state.sigma)
        return MCState(sigma=sigma, M=M.astype(state.M.dtype), key=key, sweeps=state.sweeps + 1,
                       attempts=state.attempts + N, accepted=state.accepted + n_acc,
                       energy_change=state.energy_change + dE)

    return step


def glauber(N: int, K: int, P: int = 2, self_interaction: bool = False, unroll: int = 1, examples=None,
            plefka: bool = False):
    """Glauber (heat-bath) sequential dynamics: ``(init_fn, step_fn)``, p = 1/(1 + exp(beta dH))."""
    return single_spin_flip(N, K, "glauber", P, self_interaction, unroll, examples, plefka)


def metropolis(N: int, K: int, P: int = 2, self_interaction: bool = False, unroll: int = 1, examples=None,
               plefka: bool = False):
    """Metropolis sequential dynamics: ``(init_fn, step_fn)``, p = min(1, exp(-beta dH))."""
    return single_spin_flip(N, K, "metropolis", P, self_interaction, unroll, examples, plefka)


def greedy(N: int, K: int, P: int = 2, self_interaction: bool = False, unroll: int = 1, examples=None,
           plefka: bool = False):
    """Zero-temperature strict-descent sequential dynamics (flip iff dH < 0): ``(init_fn, step_fn)``."""
    return single_spin_flip(N, K, "greedy", P, self_interaction, unroll, examples, plefka)


DYNAMICS: dict[str, Callable] = {"glauber": glauber, "metropolis": metropolis, "greedy": greedy}

#: suffix of the dynamics name of a run with the Plefka flips (e.g. "metropolis-plefka")
PLEFKA_SUFFIX = "-plefka"


def dynamics_name(rule: str, plefka: bool = False) -> str:
    """The name every output gives the dynamics: the rule ("glauber", "metropolis", "greedy"), with
    :data:`PLEFKA_SUFFIX` when the flips are the Plefka (mean-field) ones."""
    return rule + (PLEFKA_SUFFIX if plefka else "")


def state_energy(state: MCState, N: int, P: int = 2, self_interaction: bool = False, examples=None):
    """Energy H from the tracked overlaps (exact; batched over leading axes)."""
    return energy_from_overlaps(state.M, N, P, self_interaction, examples)


def run_sweeps(step_fn: Callable, state, xi, beta, n_sweeps):
    """Apply ``step_fn`` ``n_sweeps`` times inside one ``lax.fori_loop`` (``n_sweeps`` may be traced)."""
    return jax.lax.fori_loop(0, n_sweeps, lambda _, s: step_fn(s, xi, beta), state)
