"""densehebb.montecarlo: Monte Carlo simulation of dense Hebbian (Hopfield) networks in JAX.

Importing this package switches JAX to float64 (``jax_enable_x64``), exactly as :mod:`theory` does:
energies and averages are accumulated in double precision, overlaps are exact integers.

Conventions (shared/CONVENTIONS.md):

* N Ising neurons sigma_i = +-1 (stored as ``int8``), K Rademacher patterns xi (``int8``, shape (N, K)).
* Integer overlaps M_mu = sum_i xi_i^mu sigma_i (exact integers); Mattis overlap m_mu = M_mu / N.
* Energy, P = 2..8: distinct indices (default) H = -(1/N^(P-1)) sum_mu e_P(xi^mu sigma)
  (P = 2: -(1/2N) sum_mu (M_mu^2 - N)); all tuples (``self_interaction=True``) H = -(N/P!) sum_mu m_mu^P.
* Gibbs weight exp(-beta H), beta = 1/T; T = 0 is allowed (beta = inf, see :mod:`montecarlo.dynamics`).
* High storage: K = round(alpha N^(P-1)).

Layout (jax-md / NetKet style):

* :mod:`montecarlo.polynomials` -- sympy-generated integer polynomials of the energy and of a flip.
* :mod:`montecarlo.patterns` -- pattern sampling.
* :mod:`montecarlo.energy` -- exact energies and the O(K) single-flip energy change, any P.
* :mod:`montecarlo.dynamics` -- ``(init_fn, step_fn)`` pairs (Glauber / Metropolis / greedy), one sweep per step.
* :mod:`montecarlo.engine` -- jitted segments of sweeps for batched chains: tempering, observables.
* :mod:`montecarlo.devices`, :mod:`montecarlo.checkpoint` -- sharding over devices, atomic checkpoints.
* :mod:`montecarlo.run` -- :func:`simulate` (batched chains -> ``xarray.Dataset``) and :func:`summarize`.
* :mod:`montecarlo.capacity` -- capacity curves from zero-temperature dynamics, finite-size extrapolation.
* :mod:`montecarlo.bench` -- the throughput benchmark (``densehebb bench``).

User guide: docs/montecarlo.md.
"""
import jax

jax.config.update("jax_enable_x64", True)

from . import polynomials, patterns, energy, dynamics, engine, devices, checkpoint, run  # noqa: E402
from .dynamics import MCState, glauber, metropolis, greedy  # noqa: E402
from .run import simulate, summarize, equilibration  # noqa: E402

__all__ = ["polynomials", "patterns", "energy", "dynamics", "engine", "devices", "checkpoint", "run",
           "MCState", "glauber", "metropolis", "greedy", "simulate", "summarize", "equilibration"]
