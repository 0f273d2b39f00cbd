"""densehebb.montecarlo: Monte Carlo simulation of dense Hebbian (Hopfield) networks in JAX.

Importing this package switches JAX to float64 (``jax_enable_x64``), exactly as :mod:`theory` does:
energies and averages are accumulated in double precision, overlaps are exact integers.

Conventions (shared/CONVENTIONS.md):

* N Ising neurons sigma_i = +-1 (stored as ``int8``), K Rademacher patterns xi (``int8``, shape (N, K)).
* Integer overlaps M_mu = sum_i xi_i^mu sigma_i (``int32``); Mattis overlap m_mu = M_mu / N.
* Energy (P = 2), distinct indices (default): H = -(1/2N) sum_mu (M_mu^2 - N);
  all tuples (``self_interaction=True``): H = -(1/2N) sum_mu M_mu^2.  They differ by the constant K/2.
* Gibbs weight exp(-beta H), beta = 1/T; T = 0 is allowed (beta = inf, see :mod:`montecarlo.dynamics`).
* High storage: K = round(alpha N^(P-1)).

Layout (jax-md / NetKet style):

* :mod:`montecarlo.patterns` -- pattern sampling.
* :mod:`montecarlo.energy` -- exact energies and the O(K) single-flip energy change, keyed by (P, convention).
* :mod:`montecarlo.dynamics` -- ``(init_fn, step_fn)`` pairs (Glauber / Metropolis), one sweep per step.
* :mod:`montecarlo.run` -- :func:`simulate` (batched chains -> ``xarray.Dataset``) and :func:`summarize`.

Only P = 2 is implemented; P > 2 raises ``NotImplementedError`` (general P is a later issue).
"""
import jax

jax.config.update("jax_enable_x64", True)

from . import patterns, energy, dynamics, run  # noqa: E402
from .dynamics import MCState, glauber, metropolis  # noqa: E402
from .run import simulate, summarize  # noqa: E402

__all__ = ["patterns", "energy", "dynamics", "run", "MCState", "glauber", "metropolis",
           "simulate", "summarize"]
