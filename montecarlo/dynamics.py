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
A flip is accepted iff u < p with u uniform in [0, 1).

Each single-site update satisfies detailed balance w.r.t. exp(-beta H), so a sequential sweep leaves the
Boltzmann distribution invariant (checked against exact enumeration in tests/test_mc_exact.py).

Chains are batched by ``jax.vmap``; :func:`batch_chains` builds the (T, sample, replica) layout used by
:func:`montecarlo.run.simulate` (one pattern set per sample shared by all temperatures and replicas).
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from .energy import check_order, energy_from_overlaps, flip_sum, overlap_dtype, overlaps
from .polynomials import flip_plan


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


ACCEPTANCE_RULES: dict[str, Callable] = {"glauber": glauber_acceptance, "metropolis": metropolis_acceptance,
                                         "greedy": greedy_acceptance}


def _check_sizes(N, K):
    if isinstance(N, bool) or int(N) != N or N < 2:
        raise ValueError(f"N must be an integer >= 2, got {N!r}")
    if isinstance(K, bool) or int(K) != K or K < 1:
        raise ValueError(f"K must be an integer >= 1, got {K!r}")
    return int(N), int(K)


def _check_xi(xi, N, K):
    if xi.shape != (N, K):
        raise ValueError(f"patterns xi must have shape (N, K) = ({N}, {K}), got {xi.shape}")


def single_spin_flip(N: int, K: int, acceptance: Callable, P: int = 2, self_interaction: bool = False,
                     unroll: int = 4):
    """Generic sequential single-spin-flip dynamics with acceptance rule ``acceptance(dH, beta)``.

    Any P = 2..8 and both conventions: the energy change of each attempt is the exact O(K) sum of
    :func:`montecarlo.energy.flip_sum` (plan: :func:`montecarlo.polynomials.flip_plan`).  Returns
    ``(init_fn, step_fn)``; see the module docstring.  ``unroll`` is passed to the inner
    ``lax.fori_loop`` over sites (a speed knob only; results do not depend on it).
    """
    N, K = _check_sizes(N, K)
    P = check_order(P, self_interaction)
    plan = flip_plan(P, bool(self_interaction), N, K)
    m_dtype = overlap_dtype(N)

    def init_fn(key, sigma0, xi) -> MCState:
        """Chain state at spins ``sigma0`` (N,) for patterns ``xi`` (N, K); ``key`` drives all its moves."""
        xi = jnp.asarray(xi)
        _check_xi(xi, N, K)
        sigma = jnp.asarray(sigma0).astype(jnp.int8)
        if sigma.shape != (N,):
            raise ValueError(f"sigma0 must have shape ({N},), got {sigma.shape}")
        return MCState(sigma=sigma, M=overlaps(sigma, xi).astype(m_dtype), key=key,
                       sweeps=jnp.zeros((), jnp.int32), attempts=jnp.zeros((), jnp.int64),
                       accepted=jnp.zeros((), jnp.int64), energy_change=jnp.zeros((), jnp.float64))

    def step_fn(state: MCState, xi, beta) -> MCState:
        """One sequential sweep (N flip attempts, i = 0..N-1) at inverse temperature ``beta`` (inf: T = 0)."""
        xi = jnp.asarray(xi)
        _check_xi(xi, N, K)
        beta = jnp.asarray(beta, jnp.float64)
        key, sub = jax.random.split(state.key)
        u = jax.random.uniform(sub, (N,), jnp.float64)

        def attempt(i, carry):
            sigma, M, n_acc, dE = carry
            s = sigma[i]
            row = xi[i]
            dH = flip_sum(M, row, s, plan).astype(jnp.float64) * plan.scale
            accept = u[i] < acceptance(dH, beta)
            sigma = sigma.at[i].set(jnp.where(accept, -s, s))
            M = M - (jnp.where(accept, 2 * s, 0).astype(M.dtype) * row.astype(M.dtype))
            return sigma, M, n_acc + accept.astype(jnp.int64), dE + jnp.where(accept, dH, 0.0)

        init = (state.sigma, state.M, jnp.zeros((), jnp.int64), jnp.zeros((), jnp.float64))
        sigma, M, n_acc, dE = jax.lax.fori_loop(0, N, attempt, init, unroll=unroll)
        return MCState(sigma=sigma, M=M, key=key, sweeps=state.sweeps + 1, attempts=state.attempts + N,
                       accepted=state.accepted + n_acc, energy_change=state.energy_change + dE)

    return init_fn, step_fn


def glauber(N: int, K: int, P: int = 2, self_interaction: bool = False, unroll: int = 4):
    """Glauber (heat-bath) sequential dynamics: ``(init_fn, step_fn)``, p = 1/(1 + exp(beta dH))."""
    return single_spin_flip(N, K, glauber_acceptance, P, self_interaction, unroll)


def metropolis(N: int, K: int, P: int = 2, self_interaction: bool = False, unroll: int = 4):
    """Metropolis sequential dynamics: ``(init_fn, step_fn)``, p = min(1, exp(-beta dH))."""
    return single_spin_flip(N, K, metropolis_acceptance, P, self_interaction, unroll)


def greedy(N: int, K: int, P: int = 2, self_interaction: bool = False, unroll: int = 4):
    """Zero-temperature strict-descent sequential dynamics (flip iff dH < 0): ``(init_fn, step_fn)``."""
    return single_spin_flip(N, K, greedy_acceptance, P, self_interaction, unroll)


DYNAMICS: dict[str, Callable] = {"glauber": glauber, "metropolis": metropolis, "greedy": greedy}


def state_energy(state: MCState, N: int, P: int = 2, self_interaction: bool = False):
    """Energy H from the tracked overlaps (exact; batched over leading axes)."""
    return energy_from_overlaps(state.M, N, P, self_interaction)


def run_sweeps(step_fn: Callable, state, xi, beta, n_sweeps):
    """Apply ``step_fn`` ``n_sweeps`` times inside one ``lax.fori_loop`` (``n_sweeps`` may be traced)."""
    return jax.lax.fori_loop(0, n_sweeps, lambda _, s: step_fn(s, xi, beta), state)


def batch_chains(init_fn: Callable, step_fn: Callable):
    """Lift a single-chain ``(init_fn, step_fn)`` to chains with leading axes (T, sample, replica).

    * ``init(keys, sigma0, xi)``: keys (n_T, n_s, n_r), sigma0 (n_T, n_s, n_r, N), xi (n_s, N, K).
    * ``step(state, xi, beta)``: state with leading axes (n_T, n_s, n_r), xi (n_s, N, K), beta (n_T,).

    One pattern set per disorder sample is shared by all temperatures and replicas of that sample.
    Built with nested ``jax.vmap`` (no Python loop over chains).
    """
    init_r = jax.vmap(init_fn, in_axes=(0, 0, None))          # replicas share xi
    init_s = jax.vmap(init_r, in_axes=(0, 0, 0))              # one xi per sample
    init_t = jax.vmap(init_s, in_axes=(0, 0, None))           # temperatures share xi

    step_r = jax.vmap(step_fn, in_axes=(0, None, None))       # replicas: same xi, same beta
    step_s = jax.vmap(step_r, in_axes=(0, 0, None))           # samples: own xi
    step_t = jax.vmap(step_s, in_axes=(0, None, 0))           # temperatures: own beta
    return init_t, step_t
