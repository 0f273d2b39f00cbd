"""densehebb.montecarlo: Monte Carlo simulation of dense Hebbian (Hopfield) networks in JAX.

Importing this package leaves JAX's configuration alone.  The public entry points (:func:`simulate`,
:func:`anneal`, :func:`capacity_curve`, :func:`~montecarlo.capacity.run_size`, ``bench.run``) run in
float64 inside :func:`densehebb.theory.precision.x64` and return NumPy / xarray: energies and averages are
accumulated in double precision, overlaps are exact integers.  The low-level kernels
(:mod:`~montecarlo.dynamics`, :mod:`~montecarlo.energy`) need JAX's 64-bit mode on when called directly.

Conventions (docs/conventions.md), the model being a :class:`densehebb.Model`:

* N Ising neurons sigma_i = +-1 (stored as ``int8``), K Rademacher patterns xi (``int8``, shape (N, K));
  diluted patterns (``Model(dilution=d)``: entries 0 with probability d) run as
  :class:`~montecarlo.learning.DilutedPatterns` (exact energy through power sums, docs/montecarlo.md).
* Integer overlaps M_mu = sum_i xi_i^mu sigma_i (exact integers); Mattis overlap m_mu = M_mu / N.
* Energy, P = 2..8: "distinct-indices" (default) H = -(1/N^(P-1)) sum_mu e_P(xi^mu sigma)
  (P = 2: -(1/2N) sum_mu (M_mu^2 - N)); "all-tuples" H = -(N/P!) sum_mu m_mu^P.
* Gibbs weight exp(-beta H), beta = 1/T; T = 0 is allowed (beta = inf, see :mod:`montecarlo.dynamics`).
* High storage: K = round(alpha N^(P-1)).

Layout (jax-md / NetKet style):

* :mod:`~montecarlo.polynomials` -- sympy-generated integer polynomials of the energy and of a flip.
* :mod:`~montecarlo.patterns` -- pattern sampling (plain patterns, and archetypes with examples).
* :mod:`~montecarlo.learning` -- learning from examples: exact energies and O(K) flips of couplings built
  from examples (supervised class means, unsupervised examples), the same engine.
* :mod:`~montecarlo.realdata` -- the same couplings from given labelled +-1 examples (an .npz; scikit-learn's
  digits), retrieval from corrupted examples (``densehebb learn``).
* :mod:`~montecarlo.energy` -- exact energies and the O(K) single-flip energy change, any P.
* :mod:`~montecarlo.dynamics` -- ``(init_fn, step_fn)`` pairs (Glauber / Metropolis / greedy), one sweep
  per step, and the batched sweep of many chains.
* :mod:`~montecarlo.engine` -- the one engine: jitted segments of whole sweeps of (sample, T, replica)
  chains, sharded by sample (:mod:`~montecarlo.devices`), with a plan for what happens after each sweep
  (:mod:`~montecarlo.observables`: measurements and tempering, stage averages).
* :mod:`~montecarlo.run` -- :func:`simulate` (the driver; checkpoints: :mod:`~montecarlo.checkpoint`).
* :mod:`~montecarlo.anneal` -- :func:`anneal`: heating / cooling schedules (hysteresis).
* :mod:`~montecarlo.capacity` -- capacity curves from zero-temperature dynamics, finite-size extrapolation.
* :mod:`~montecarlo.bench` -- the throughput benchmark (``densehebb bench``).
* :mod:`~montecarlo.dataset` -- the xarray Datasets (provenance, units); :mod:`~montecarlo.stats` --
  :class:`Stats` and the estimators; :mod:`~montecarlo.summary` -- :func:`summarize`,
  :func:`equilibration`, :func:`summarize_anneal`.

User guide: docs/montecarlo.md.
"""
from . import (checkpoint, devices, dynamics, energy, engine, learning, patterns, polynomials,  # noqa: F401
               realdata, run)
from .anneal import anneal, crossing_temperature
from .capacity import capacity_curve, extrapolate, run_size
from .dynamics import MCState, glauber, greedy, metropolis
from .run import simulate
from .stats import Stats, statistics
from .summary import energy_histogram, equilibration, overlap_distribution, summarize, summarize_anneal

__all__ = ["polynomials", "patterns", "energy", "learning", "realdata", "dynamics", "engine", "devices", "checkpoint",
           "run",
           "MCState", "glauber", "metropolis", "greedy", "simulate", "summarize", "equilibration", "energy_histogram", "overlap_distribution",
           "anneal", "crossing_temperature", "summarize_anneal", "capacity_curve", "run_size", "extrapolate",
           "Stats", "statistics"]
