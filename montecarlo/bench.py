"""Throughput benchmark of the Monte Carlo engine: ``densehebb bench [--json]``.

One result per case (P, N, K, regime), printed as one JSON line with --json:

* ``units_per_s``: pattern-spin updates per second, chains x sweeps x N x K / seconds, for whole sweeps of
  all chains (best of ``repeats`` timed blocks, interleaved with the NumPy blocks so that both see the same
  machine load; compilation excluded and reported as ``compile_s``);
* ``baseline_units_per_s``: a plain NumPy single-chain reference timed in the same run: a Python loop over
  the neurons, the exact energy change from the overlaps through one BLAS dot per attempt
  (dH = scale (sum_mu A(M_mu) + sigma_i xi_i . F), F_mu = B(M_mu) a field table refreshed only after an
  accepted flip, float64, OPENBLAS_NUM_THREADS=1; best of the same number of blocks);
  ``speedup_vs_numpy`` is the ratio;
* ``bw_bytes_per_s``: streaming-read bandwidth measured in the same run on all devices at once, over
  arrays of the size of the kernel's working set (best of several probes), and ``bw_dram_bytes_per_s``
  over 256 MiB;
* ``int32_ops_per_s``: integer multiply-add throughput measured in the same run (an XLA elementwise
  chain, all devices at once) -- an achievable, not a datasheet, peak; ``float32_ops_per_s`` the same for
  float32, the arithmetic of the P = 2 kernel (``compute_probe`` says which one bounds the case);
* ``roofline_units_per_s`` = min(ops_per_s / ops_per_unit, bw_bytes_per_s / bytes_per_unit) for
  the operations and bytes an update touches in this layout (``assumptions`` spells them out), and
  ``fraction_of_roofline``;
* the acceptance rate, the device, the chain layout, and whether the targets (speedup >= 10 for P = 2 and
  >= 3 for P >= 3, fraction >= 0.3) are met (``targets_met``).

Learning cases (:data:`LEARNING_CASES`; couplings built from examples, :mod:`montecarlo.learning`): for
each (dataset, P, N, K archetypes, M examples) one line for the exact dynamics and one for the Plefka
(mean-field) dynamics (``dynamics`` "metropolis" / "metropolis-plefka", :func:`run_learning_case`), with
``flips_per_s`` (flip attempts per second, chains x sweeps x N / seconds, best of ``repeats`` blocks) and
``units_per_s`` (flips x the K (supervised) or K M (unsupervised) patterns a flip reads); the baseline of
both lines is the exact dynamics of the same case, timed in interleaved blocks of the same run
(``baseline_flips_per_s``; ``speedup_vs_exact`` is the ratio, exactly 1 on the exact line).  No NumPy
reference or roofline for these cases.

Layout of the engine: chains (samples x temperatures x replicas) sharded over devices by sample; per site,
one fused pass over the K overlaps of every chain (int8/int16 storage, exact int32 chunk sums of 32
terms) and one masked update pass; for P = 2 the flip pass is one float32 matrix-vector product of the
chains' overlaps (float32 within the sweep, exact since all partial sums stay below 2^24) with the
pattern row (``kernel`` in the output).  On a CPU host ``densehebb bench`` exposes one XLA device per core
(``--xla_force_host_platform_device_count``) before JAX starts.
"""
from __future__ import annotations

import json
import math
import os
import platform
import sys
import time

import numpy as np

from densehebb.theory.precision import x64

from . import devices as _devices

#: (P, N, K) of the issue: alpha = 0.137 (P = 2) and 0.05 (P = 4)
CASES = ((2, 1024, 140), (4, 64, 13107), (4, 128, 104857))
#: tiny cases of ``--quick`` (seconds; for tests)
QUICK_CASES = ((2, 256, 35), (4, 32, 1638))
#: regime -> temperature per P; both use Metropolis (high T: acceptance ~ 1; retrieval: started at a pattern)
REGIMES = {"high_T": {2: 100.0, 4: 100.0}, "retrieval": {2: 0.05, 4: 0.01}}
#: chains per device (replicas of one sample)
CHAINS_PER_DEVICE = {(2, 1024, 140): 512, (4, 64, 13107): 64, (4, 128, 104857): 16}
#: learning from examples: (dataset, P, N, K archetypes, M examples per archetype), exact and Plefka dynamics
LEARNING_CASES = (("supervised", 4, 256, 64, 20), ("unsupervised", 4, 256, 4, 10),
                  ("supervised", 2, 1024, 64, 20), ("unsupervised", 2, 1024, 4, 10))
#: tiny learning cases of ``--quick``
QUICK_LEARNING_CASES = (("supervised", 4, 32, 2, 3), ("unsupervised", 2, 32, 2, 3))
#: exponential network (montecarlo.exponential): (energy, N, K), Metropolis sweeps and the T = 0 census kernel
EXP_CASES = (("log-sum-exp", 24, 2**17), ("exponential", 24, 2**17), ("log-sum-exp", 24, 2**20))
#: tiny exponential cases of ``--quick``
QUICK_EXP_CASES = (("log-sum-exp", 12, 512),)
#: inverse width and temperature of the exponential cases (chains started at random spins)
EXP_LAM, EXP_T = 1.0, {"log-sum-exp": 1.0, "exponential": 1e6}
#: dataset quality and temperature of the learning cases (retrieval: chains started at archetype 0)
LEARNING_R, LEARNING_T = 0.6, {2: 0.05, 4: 0.01}


# --------------------------------------------------------------------------------- NumPy reference
class NumpyReference:
    """Single chain, Python loop over neurons, one BLAS dot per attempt (see module docstring)."""

    def __init__(self, xi, sigma, P, self_interaction, beta, rule="metropolis"):
        from .polynomials import flip_plan, flip_split

        self.xi = np.ascontiguousarray(xi, dtype=np.float64)        # (N, K), rows for BLAS dots
        self.N, self.K = self.xi.shape
        self.sigma = np.asarray(sigma, dtype=np.int64).copy()
        plan = flip_plan(P, self_interaction, self.N, self.K)
        self.scale = plan.scale
        self.A, self.B = flip_split(P, self_interaction, self.N, self.K)
        self.M = self.sigma.astype(np.float64) @ self.xi
        self.identity_B = self.B == (0, 1)
        self.beta = float(beta)
        self.rule = rule
        self.accepted = 0
        self._refresh()

    def _poly(self, c, M):
        out = np.full_like(M, float(c[-1]))
        for a in reversed(c[:-1]):
            out *= M
            out += a
        return out

    def _refresh(self):
        self.F = self.M if self.identity_B else self._poly(self.B, self.M)
        self.SA = self.K * float(self.A[0]) if len(self.A) == 1 else float(self._poly(self.A, self.M).sum())

    def delta(self, i):
        return self.scale * (self.SA + self.sigma[i] * float(self.xi[i] @ self.F))

    def sweep(self, u):
        xi, beta = self.xi, self.beta
        for i in range(self.N):
            s = self.sigma[i]
            dH = self.scale * (self.SA + s * float(xi[i] @ self.F))
            if self.rule == "metropolis":
                p = 1.0 if dH <= 0 else math.exp(-beta * dH)
            else:
                p = 1.0 / (1.0 + math.exp(min(beta * dH, 700.0)))
            if u[i] < p:
                self.sigma[i] = -s
                self.M -= (2.0 * s) * xi[i]
                self._refresh()
                self.accepted += 1


class NumpyTimer:
    """Times blocks of NumPy reference sweeps (start at pattern 0, Metropolis at T); keeps the chain."""

    def __init__(self, xi, P, si, T, warm_sweeps=1, seed=0):
        self.rng = np.random.default_rng(seed)
        self.N, self.K = xi.shape
        self.ref = NumpyReference(xi, xi[:, 0], P, si, 1.0 / T)
        for _ in range(warm_sweeps):
            self.ref.sweep(self.rng.random(self.N))
        self.ref.accepted = 0
        self.sweeps = 0

    def block(self, seconds):
        """Units per second of one block of whole sweeps lasting at least ``seconds``."""
        n, t0 = 0, time.perf_counter()
        while True:
            self.ref.sweep(self.rng.random(self.N))
            n += 1
            dt = time.perf_counter() - t0
            if dt >= seconds:
                break
        self.sweeps += n
        return n * self.N * self.K / dt

    @property
    def acceptance(self):
        return self.ref.accepted / max(self.sweeps * self.N, 1)


# ------------------------------------------------------------------------------------------ probes
def _timed(fn, *args, repeats=3):
    """Best wall time of ``fn(*args)`` after one warm-up call."""
    import jax

    jax.block_until_ready(fn(*args))
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - t0)
    return best


def bandwidth_probe(bytes_per_device, n_dev, mkey, min_bytes=2e9, repeats=3):
    """Streaming-read bandwidth (bytes/s, all devices at once).

    Each device repeatedly reads an f32 array of ``bytes_per_device`` (matrix-vector products with a ones
    vector, the best-optimised streaming read of XLA:CPU) inside one jitted loop; best of ``repeats``.
    """
    import jax
    import jax.numpy as jnp

    cols = 1024
    rows = max(8, int(bytes_per_device // (4 * cols)))
    nbytes = rows * cols * 4
    reps = int(max(4, min(10_000, min_bytes // nbytes)))
    A = _devices.put_samples(jnp.ones((n_dev, rows, cols), jnp.float32), mkey)
    acc0 = _devices.put_samples(jnp.zeros((n_dev, rows), jnp.float32), mkey)

    def f(A, acc):
        v = jnp.ones((cols,), jnp.float32)
        return jax.lax.fori_loop(0, reps, lambda k, a: a + jnp.einsum("drc,c->dr", A, v + k), acc)

    t = _timed(jax.jit(f), A, acc0, repeats=repeats)
    return n_dev * reps * nbytes / t


def compute_probe(n_dev, mkey, repeats=3):
    """Achievable int32 operations per second (all devices at once).

    Per element of a cache-resident int32 array (2^13 per device), a wide expression of independent terms
    sum_j (x ^ c_j) * (x ^ d_j) over 32 terms (xor, xor, multiply, add: 4 operations per term, as many
    multiplications as additions-like operations, no long dependency chain and nothing the compiler can
    factor away), repeated inside one jitted loop; ``int32_ops_per_s`` counts 4 x 32 operations per
    element and iteration.
    """
    import jax
    import jax.numpy as jnp

    n, reps, terms = 1 << 13, 512, 32
    x = _devices.put_samples(jnp.arange(n_dev * n, dtype=jnp.int32).reshape(n_dev, n), mkey)
    rng = np.random.default_rng(0)
    c = [int(v) for v in rng.integers(1, 2**30, size=terms)]
    d = [int(v) for v in rng.integers(1, 2**30, size=terms)]

    def f(a):
        def body(k, y):
            z = y + k
            acc = (z ^ c[0]) * (z ^ d[0])
            for j in range(1, terms):
                acc = acc + (z ^ c[j]) * (z ^ d[j])
            return acc
        return jax.lax.fori_loop(0, reps, body, a)

    t = _timed(jax.jit(f), x, repeats=repeats)
    return n_dev * n * reps * terms * 4 / t


def compute_probe_f32(n_dev, mkey, repeats=3):
    """Achievable float32 operations per second (all devices at once), the float32 twin of
    :func:`compute_probe`: per element of a cache-resident float32 array, sum_j (z c_j) (z + d_j) over 32
    independent terms summed as a balanced tree (multiply, add, multiply, add: 4 operations per term; XLA
    does not reassociate floating point, so nothing is factored away, and the tree keeps the additions
    independent); ``float32_ops_per_s`` counts 4 x 32 operations per element and iteration.  Used for the compute bound of the float32 P = 2 path."""
    import jax
    import jax.numpy as jnp

    n, reps, terms = 1 << 13, 512, 32
    x = _devices.put_samples(jnp.linspace(0.5, 1.5, n_dev * n, dtype=jnp.float32).reshape(n_dev, n), mkey)
    rng = np.random.default_rng(0)
    c = [float(v) for v in rng.uniform(0.5, 1.5, size=terms)]
    d = [float(v) for v in rng.uniform(-0.5, 0.5, size=terms)]

    def f(a):
        def body(k, y):
            z = y * jnp.float32(1e-3) + k.astype(jnp.float32) * jnp.float32(1e-6)
            t = [(z * c[j]) * (z + d[j]) for j in range(terms)]
            while len(t) > 1:        # balanced tree: float additions are not reassociated by the compiler,
                t = [t[i] + t[i + 1] for i in range(0, len(t), 2)]   # so a chain would measure latency
            return t[0]
        return jax.lax.fori_loop(0, reps, body, a)

    t = _timed(jax.jit(f), x, repeats=repeats)
    return n_dev * n * reps * terms * 4 / t


#: operations per flip attempt that do not scale with K: threefry bits of the uniform (~80), the
#: threshold logarithm (~30), the acceptance test and bookkeeping (~10) -- an estimate, stated in the output
OPS_PER_ATTEMPT = 120


def op_counts(plan):
    """(additive-type ops, multiplications) per pattern-spin update in the engine's layout.

    Mirrors :func:`montecarlo.energy.flip_sum`: widen xi and M (2), x = s xi (mul), y = M - x (add); if G'
    has more than one coefficient, y^2 (mul) and Horner in y^2 (a multiplication per step, none for a
    leading 1; an addition per non-zero coefficient); g * y when G' is odd (unless G' = y); t = x g (mul);
    the chunk accumulation (add); and the masked update M -= (2 s a) xi (mul, add).
    """
    c = plan.coeffs
    adds, muls = 2 + 1 + 1, 1 + 1                      # widen x2, y = M - x, accumulate; x = s xi, x g
    if len(c) > 1:
        muls += 1 + (0 if c[-1] == 1 else 1) + (len(c) - 2)
        adds += sum(1 for a in c[:-1] if a)
    if plan.parity and not (len(c) == 1 and c[0] == 1):
        muls += 1
    return adds + 1, muls + 1                          # masked update


# ------------------------------------------------------------------------------------------- cases
def run_case(model, N, K, regime, n_dev, mkey, chains_per_device=None, sweeps=None, repeats=5, seed=0,
             numpy_seconds=1.5, probes=None):
    """Benchmark one case (``model``: P and convention); returns the result dict (see module docstring).

    The timed sweeps are the engine's (:func:`montecarlo.engine.compiled_segment`, no measurement), on
    chains started at pattern 0 by :func:`montecarlo.engine.start`: one disorder sample per device, R
    replicas each."""
    import jax
    import jax.numpy as jnp

    from .dynamics import linear_flip_f32
    from .energy import overlap_dtype
    from .engine import EngineConfig, Sweeps, compiled_segment, start
    from .polynomials import flip_plan

    P, self_interaction = model.P, model.self_interaction
    T = REGIMES[regime][P if P in REGIMES[regime] else 4]
    R = chains_per_device or CHAINS_PER_DEVICE.get((P, N, K), 32)
    S = n_dev                                   # one disorder sample per device, R replicas each
    cfg = EngineConfig(N=N, K=K, P=P, self_interaction=self_interaction, dynamics="metropolis", n_T=1, n_R=R)
    plan = flip_plan(P, self_interaction, N, K)
    xi, carry = start(cfg, Sweeps(), "pattern", S)(jax.random.key(seed))
    xi = _devices.put_samples(xi, mkey)
    carry = _devices.put_samples(carry, mkey)
    segment = compiled_segment(cfg, Sweeps(), mkey)
    beta = jnp.asarray([1.0 / T])
    none, t0_ = jnp.zeros((0,), jnp.int64), jnp.asarray(0, jnp.int64)
    t0 = time.perf_counter()
    compiled = segment.lower(carry, xi, beta, none, t0_, jnp.asarray(1, jnp.int64)).compile()
    compile_s = time.perf_counter() - t0

    def sweep(carry, n):
        return compiled(carry, xi, beta, none, t0_, jnp.asarray(n, jnp.int64))

    units_per_sweep = S * R * N * K
    if sweeps is None:    # about 0.3 s per timed block at 5e9 units/s
        sweeps = int(max(2, min(200, 1.5e9 // units_per_sweep)))
    carry = sweep(carry, max(2, sweeps // 2))    # warm-up / reach the regime
    jax.block_until_ready(carry)
    numpy = NumpyTimer(np.asarray(jax.device_get(xi))[0], P, self_interaction, T, seed=seed)
    best, acc, base = math.inf, [], []
    for _ in range(repeats):     # interleaved blocks, best of each: robust to other load on the machine
        a0 = np.asarray(carry[0].accepted).sum()
        t0 = time.perf_counter()
        carry = sweep(carry, sweeps)
        jax.block_until_ready(carry)
        best = min(best, time.perf_counter() - t0)
        acc.append((np.asarray(carry[0].accepted).sum() - a0) / (S * R * N * sweeps))
        base.append(numpy.block(numpy_seconds / repeats))
    units_per_s = units_per_sweep * sweeps / best
    base_ups, base_acc = max(base), numpy.acceptance

    linear = linear_flip_f32(plan)     # P = 2: float32 overlaps and one matrix-vector product per site
    m_bytes = 4 if linear else np.dtype(overlap_dtype(N)).itemsize
    row_bytes = 4 if linear else 1
    bytes_per_unit = 3 * m_bytes + 2.0 * row_bytes / R   # M: read in the flip pass, read + written in the
    working_set = R * K * m_bytes + N * K * row_bytes    # update; the row, read twice, shared by R chains
    probes = probes if probes is not None else {}
    # probes: best over every measurement of this run (they are repeated for each case)
    bw_now = bandwidth_probe(working_set, n_dev, mkey, repeats=repeats)
    bws = probes.setdefault("bw", {})
    bws[working_set] = max(bws.get(working_set, 0.0), bw_now)
    op_key = "ops_f32" if linear else "ops"
    probe = compute_probe_f32 if linear else compute_probe
    probes[op_key] = max(probes.get(op_key, 0.0), probe(n_dev, mkey, repeats=repeats))
    if "dram" not in probes:
        probes["dram"] = bandwidth_probe(256 * 2**20 // n_dev, n_dev, mkey, repeats=3)
    bw, op_rate = probes["bw"][working_set], probes[op_key]
    n_add, n_mul = (2, 2) if linear else op_counts(plan)
    ops_unit = n_add + n_mul + OPS_PER_ATTEMPT / K
    compute_bound = op_rate / ops_unit
    roof = min(compute_bound, bw / bytes_per_unit)
    acceptance = float(np.mean(acc))
    speedup = units_per_s / base_ups
    need = 10.0 if P == 2 else 3.0
    dev = jax.devices()[0]
    regime_ok = acceptance >= 0.5 if regime == "high_T" else acceptance <= 0.05
    return dict(
        case=f"P={P} N={N} K={K} {regime}", P=P, N=N, K=K, alpha=K / N ** (P - 1), regime=regime, T=T,
        dynamics="metropolis", convention=model.convention,
        chains=S * R, chain_layout=f"{S} samples x 1 temperature x {R} replicas", devices=n_dev,
        device=f"{dev.platform}:{dev.device_kind}", host=_cpu_model(),
        cpu_count=os.cpu_count(), sweeps_timed=sweeps, repeats=repeats, seconds=best,
        compile_s=compile_s, units_per_s=units_per_s, acceptance=acceptance,
        acceptance_in_regime=bool(regime_ok),
        baseline_units_per_s=base_ups, baseline_acceptance=base_acc, speedup_vs_numpy=speedup,
        bw_bytes_per_s=bw, bw_dram_bytes_per_s=probes["dram"],
        int32_ops_per_s=probes.get("ops", float("nan")), float32_ops_per_s=probes.get("ops_f32", float("nan")),
        compute_probe="float32" if linear else "int32", kernel=("float32 matrix-vector (P = 2, exact: partial sums "
                                                               "< 2^24)" if linear else "fused integer flip polynomial"),
        ops_per_unit=ops_unit, bytes_per_unit=bytes_per_unit,
        compute_bound_units_per_s=compute_bound, memory_bound_units_per_s=bw / bytes_per_unit,
        roofline_units_per_s=roof,
        fraction_of_roofline=units_per_s / roof,
        arithmetic=f"{plan.compute} chunks of {plan.chunk}, exact={plan.exact}",
        targets={"speedup_vs_numpy": need, "fraction_of_roofline": 0.3},
        targets_met=bool(speedup >= need and units_per_s / roof >= 0.3 and regime_ok),
        assumptions=(_assumptions_linear(K, R, bytes_per_unit, working_set) if linear else
                     f"per update: {n_add} int32 additive ops (2 widenings, y = M - x, Horner, accumulate, "
                     f"update) and {n_mul} multiplications (x = sigma xi, y^2 and Horner if needed, parity, "
                     f"x g, update) for the degree-{P - 1} flip polynomial, plus {OPS_PER_ATTEMPT} operations per "
                     f"attempt (random number, threshold, bookkeeping) / K; {bytes_per_unit:.3g} bytes (M is "
                     f"int{8 * m_bytes}: read in the flip pass, read and written in the update pass; the "
                     "pattern row is shared by the chains of a sample); compute bound = int32_ops_per_s / "
                     "ops_per_unit, the rate measured by an int32 multiply-add probe on all devices; memory "
                     f"bound from streaming reads of {working_set / 2**20:.2f} MiB per device (the working "
                     "set); the roofline is the lower of the two bounds"),
    )


def run_learning_case(dataset, P, N, K, M, n_dev, mkey, convention="distinct-indices", chains_per_device=None,
                      sweeps=None, repeats=5, seed=0):
    """Benchmark the exact and the Plefka dynamics of one learning case in interleaved blocks; returns the two
    result dicts (exact first; see module docstring)."""
    import jax
    import jax.numpy as jnp

    from densehebb.theory.model import Examples, Model

    from .dynamics import dynamics_name
    from .engine import EngineConfig, Sweeps, compiled_segment, start
    from .learning import plan_for

    ex = Examples(M=M, r=LEARNING_R, supervised=dataset == "supervised")
    model = Model(P=P, convention=convention, examples=ex)
    T = LEARNING_T[P if P in LEARNING_T else 4]
    R = chains_per_device or 32
    S = n_dev
    beta = jnp.asarray([1.0 / T])
    none, t0_ = jnp.zeros((0,), jnp.int64), jnp.asarray(0, jnp.int64)
    flips_per_sweep = S * R * N
    patterns_per_flip = K if dataset == "supervised" else K * M
    if sweeps is None:    # about 0.3 s per timed block at 2e8 pattern-spin updates per second
        sweeps = int(max(2, min(200, 6e7 // (flips_per_sweep * patterns_per_flip))))
    runs = []
    for plefka in (False, True):
        cfg = EngineConfig(N=N, K=K, P=P, self_interaction=model.self_interaction, dynamics="metropolis", n_T=1,
                           n_R=R, examples=ex, plefka=plefka)
        xi, carry = start(cfg, Sweeps(), "pattern", S)(jax.random.key(seed))
        xi, carry = _devices.put_samples(xi, mkey), _devices.put_samples(carry, mkey)
        t0 = time.perf_counter()
        compiled = compiled_segment(cfg, Sweeps(), mkey).lower(carry, xi, beta, none, t0_,
                                                               jnp.asarray(1, jnp.int64)).compile()
        compile_s = time.perf_counter() - t0
        carry = compiled(carry, xi, beta, none, t0_, jnp.asarray(max(2, sweeps // 2), jnp.int64))   # warm-up
        jax.block_until_ready(carry)
        runs.append(dict(plefka=plefka, compiled=compiled, xi=xi, carry=carry, compile_s=compile_s, best=math.inf,
                         acc=[], plan=plan_for(N, K, P, model.self_interaction, ex, plefka)))
    for _ in range(repeats):     # interleaved blocks, best of each: both see the same machine load
        for r in runs:
            a0 = np.asarray(r["carry"][0].accepted).sum()
            t0 = time.perf_counter()
            r["carry"] = r["compiled"](r["carry"], r["xi"], beta, none, t0_, jnp.asarray(sweeps, jnp.int64))
            jax.block_until_ready(r["carry"])
            r["best"] = min(r["best"], time.perf_counter() - t0)
            r["acc"].append((np.asarray(r["carry"][0].accepted).sum() - a0) / (flips_per_sweep * sweeps))
    dev = jax.devices()[0]
    exact_fps = flips_per_sweep * sweeps / runs[0]["best"]
    out = []
    for r in runs:
        fps = flips_per_sweep * sweeps / r["best"]
        plan = r["plan"]
        name = dynamics_name("metropolis", r["plefka"])
        out.append(dict(
            case=f"learning {dataset} P={P} N={N} K={K} M={M} {name}", kind="learning", dataset=dataset, P=P, N=N,
            K=K, M=M, r=LEARNING_R, regime="retrieval", T=T, dynamics=name, plefka=r["plefka"],
            convention=model.convention, chains=S * R, chain_layout=f"{S} samples x 1 temperature x {R} replicas",
            devices=n_dev, device=f"{dev.platform}:{dev.device_kind}", host=_cpu_model(), cpu_count=os.cpu_count(),
            sweeps_timed=sweeps, repeats=repeats, seconds=r["best"], compile_s=r["compile_s"], flips_per_s=fps,
            units_per_s=fps * patterns_per_flip, patterns_per_flip=patterns_per_flip,
            acceptance=float(np.mean(r["acc"])),
            baseline="exact dynamics of the same case (metropolis), interleaved blocks of the same run",
            baseline_flips_per_s=exact_fps, speedup_vs_exact=fps / exact_fps,
            arithmetic=(("Plefka (mean-field) dH, " if r["plefka"] else "exact dH, ")
                        + f"{plan.compute} chunks of {plan.chunk}, exact={plan.exact}")))
    return out


class NumpyExpReference:
    """The exponential network's Metropolis sweep and census kernel in plain NumPy (float64, single-threaded
    BLAS under ``densehebb bench``): one chain, a Python loop over the sites, each flip O(K) vectorised."""

    def __init__(self, xi, sigma, lam, beta, energy, seed=0):
        self.xi = np.asarray(xi, np.int64)
        self.sigma = np.asarray(sigma, np.int64).copy()
        self.x = self.xi @ self.sigma
        self.lam, self.beta, self.energy = float(lam), float(beta), energy
        self.em, self.ep = math.expm1(-2 * lam), math.expm1(2 * lam)
        self.rng = np.random.default_rng(seed)
        self.accepted = 0

    def sweep(self):
        lam, beta = self.lam, self.beta
        u = self.rng.random(self.sigma.size)
        for i in range(self.sigma.size):
            s = self.sigma[i] * self.xi[:, i]
            xm = self.x.max()
            w = np.exp(lam * (self.x - xm))
            sp = w[s > 0].sum()
            sm = w[s < 0].sum()
            D = self.em * sp + self.ep * sm
            dlg = math.log1p(D / (sp + sm))
            if self.energy == "log-sum-exp":
                log_acc = min(0.0, beta * dlg / lam)
            else:
                log_acc = 0.0 if dlg >= 0 else -math.exp(math.log(beta) + lam * xm + math.log(sp + sm)
                                                          + math.log(-math.expm1(dlg)))
            if math.log(u[i]) < log_acc:
                self.sigma[i] = -self.sigma[i]
                self.x -= 2 * s
                self.accepted += 1

    def census(self, B):
        """flip gains D (n, N) of the states B: the same two matrix products as montecarlo.exponential."""
        xf = self.xi.astype(np.float64)
        X = B @ xf.T
        W = np.exp(self.lam * (X - X.max(axis=1, keepdims=True)))
        S = W.sum(axis=1, keepdims=True)
        bF = B * (W @ xf)
        return self.em * 0.5 * (S + bF) + self.ep * 0.5 * (S - bF)


def run_exp_case(energy, N, K, chains=8, sweeps=None, repeats=3, numpy_seconds=1.0, seed=0, census_rows=64):
    """Benchmark one exponential-network case (:data:`EXP_CASES`): Metropolis flips per second of ``chains``
    chains (one device) against :class:`NumpyExpReference` (one chain), in interleaved blocks of the same run,
    and the census kernel (patterns tested per second: all N flip gains of ``census_rows`` patterns) against
    the same kernel in NumPy.  Returns two result dicts."""
    import jax
    import jax.numpy as jnp

    from . import exponential as ex

    T = EXP_T[energy]
    key = jax.random.key(seed)
    xi = ex.patterns(jax.random.fold_in(key, 0), N, K)
    s0 = jax.random.rademacher(jax.random.fold_in(key, 1), (chains, N), dtype=jnp.int8)
    st = ex.init_chains(jax.random.fold_in(key, 2), xi, s0)
    if sweeps is None:      # about 0.3 s per block at 1e8 pattern-flips per second
        sweeps = int(max(1, min(50, 3e7 // (chains * N * K))))
    t0 = time.perf_counter()
    run = lambda st_: ex.sweeps(st_, xi, EXP_LAM, 1.0 / T, energy=energy, zero_T=False, n_sweeps=sweeps)  # noqa
    st, _ = run(st)
    jax.block_until_ready(st)
    compile_s = time.perf_counter() - t0
    ref = NumpyExpReference(np.asarray(xi), np.asarray(s0[0]), EXP_LAM, 1.0 / T, energy, seed)
    B = jnp.asarray(xi[:census_rows])
    cens = jax.jit(lambda b: ex.flip_gains(b, xi, EXP_LAM)[0])
    jax.block_until_ready(cens(B))
    Bn = np.asarray(B, np.float64)
    best, best_np, best_c, best_cnp = math.inf, math.inf, math.inf, math.inf
    np_flips = 0
    a0 = int(np.asarray(st.accepted).sum())
    for _ in range(repeats):
        t0 = time.perf_counter()
        st, _ = run(st)
        jax.block_until_ready(st)
        best = min(best, time.perf_counter() - t0)
        t0, n = time.perf_counter(), 0
        while n == 0 or time.perf_counter() - t0 < numpy_seconds / repeats:
            ref.sweep()
            n += 1
        best_np = min(best_np, (time.perf_counter() - t0) / n)
        np_flips += n * N
        t0 = time.perf_counter()
        jax.block_until_ready(cens(B))
        best_c = min(best_c, time.perf_counter() - t0)
        t0 = time.perf_counter()
        ref.census(Bn)
        best_cnp = min(best_cnp, time.perf_counter() - t0)
    acc = (int(np.asarray(st.accepted).sum()) - a0) / (repeats * sweeps * chains * N)
    fps = chains * N * sweeps / best
    fps_np = N / best_np
    dev = jax.devices()[0]
    common = dict(kind="exponential", interaction=energy, convention=energy, N=N, K=K, alpha=math.log(K) / N,
                  lam=EXP_LAM, devices=1, device=f"{dev.platform}:{dev.device_kind}", host=_cpu_model(),
                  cpu_count=os.cpu_count(), repeats=repeats)
    mc = dict(case=f"exponential {energy} N={N} K={K} metropolis", **common, T=T, dynamics="metropolis",
              chains=chains, sweeps_timed=sweeps, seconds=best, compile_s=compile_s, flips_per_s=fps,
              units_per_s=fps * K, acceptance=acc,
              baseline="NumPy, one chain, Python loop over sites, O(K) float64 vectors per flip, same run",
              baseline_flips_per_s=fps_np, speedup_vs_numpy=fps / fps_np,
              numpy_acceptance=ref.accepted / max(1, np_flips))
    cen = dict(case=f"exponential {energy} N={N} K={K} census-kernel", **common, T=0.0, dynamics="zero-temperature",
               rows=census_rows, seconds=best_c, patterns_per_s=census_rows / best_c,
               units_per_s=census_rows * K * N / best_c,
               kernel="X = B Xi^T, W = exp(lam (X - max)), F = W Xi (float64): all N flip gains of each row",
               baseline="the same kernel in NumPy (float64 BLAS), same run",
               baseline_patterns_per_s=census_rows / best_cnp, speedup_vs_numpy=best_cnp / best_c)
    return [mc, cen]


def _assumptions_linear(K, R, bytes_per_unit, working_set):
    return (f"P = 2 float32 path (montecarlo.dynamics.linear_flip_f32): per update 2 float32 operations in the "
            "flip pass (multiply-add of the matrix-vector product M . xi_i) and 2 in the update "
            "(M -= (2 sigma a) xi_i: multiply, subtract), plus "
            f"{OPS_PER_ATTEMPT} operations per attempt (random number, threshold, bookkeeping) / K; "
            f"{bytes_per_unit:.3g} bytes (M is float32: read in the flip pass, read and written in the update "
            f"pass; the float32 pattern row, read twice, is shared by the {R} chains of a sample); compute bound = "
            "float32_ops_per_s / ops_per_unit, the rate measured by a float32 multiply-add probe on all devices; "
            f"memory bound from streaming reads of {working_set / 2**20:.2f} MiB per device (the working set); "
            "the roofline is the lower of the two bounds")


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv=None, out=sys.stdout):
    """``densehebb bench``: run the cases, print one JSON line per case (or a table)."""
    import argparse

    ap = argparse.ArgumentParser(prog="densehebb bench")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="small sizes (seconds; for tests)")
    args = ap.parse_args(argv)
    return run(json_lines=args.json, quick=args.quick, out=out)


@x64
def run(json_lines=True, quick=False, out=sys.stdout, cases=None, regimes=("high_T", "retrieval"),
        numpy_seconds=None, repeats=None, convention="distinct-indices", learning_cases=None, exp_cases=None):
    """Run the benchmark cases ((P, N, K) tuples; default :data:`CASES`, or tiny ones with ``quick``) in
    both regimes for the given energy convention, then the learning cases ((dataset, P, N, K, M) tuples;
    default :data:`LEARNING_CASES` / :data:`QUICK_LEARNING_CASES`; ``()`` for none), exact and Plefka; writes
    one line per case to ``out`` and returns the result dicts.  Then the exponential-network cases
    (:data:`EXP_CASES` / :data:`QUICK_EXP_CASES`, (energy, N, K) tuples; ``()`` for none)."""
    from densehebb.theory.model import Model

    mkey = _devices.mesh_key(None)
    n_dev = len(mkey)
    if cases is None:
        cases = QUICK_CASES if quick else CASES
    numpy_seconds = numpy_seconds if numpy_seconds is not None else (0.2 if quick else 1.5)
    repeats = repeats if repeats is not None else (2 if quick else 5)
    probes = {}
    results = []
    for (P, N, K) in cases:
        model = Model(P=P, convention=convention)
        for regime in regimes:
            r = run_case(model, N, K, regime, n_dev, mkey, chains_per_device=8 if quick else None,
                         sweeps=2 if quick else None, repeats=repeats, numpy_seconds=numpy_seconds,
                         probes=probes)
            results.append(r)
            if json_lines:
                out.write(json.dumps(r) + "\n")
            else:
                out.write(f"{r['case']:<32} {r['units_per_s']:.3e} units/s  numpy {r['baseline_units_per_s']:.3e}"
                          f"  x{r['speedup_vs_numpy']:.1f}  roofline {r['fraction_of_roofline']:.2f}"
                          f"  acc {r['acceptance']:.3f}  compile {r['compile_s']:.1f}s"
                          f"  {'ok' if r['targets_met'] else 'TARGET MISSED'}\n")
            out.flush()
    if learning_cases is None:
        learning_cases = QUICK_LEARNING_CASES if quick else LEARNING_CASES
    for (dataset, P, N, K, M) in learning_cases:
        for r in run_learning_case(dataset, P, N, K, M, n_dev, mkey, convention=convention,
                                   chains_per_device=8 if quick else None, sweeps=2 if quick else None,
                                   repeats=repeats):
            results.append(r)
            if json_lines:
                out.write(json.dumps(r) + "\n")
            else:
                out.write(f"{r['case']:<56} {r['flips_per_s']:.3e} flips/s  exact {r['baseline_flips_per_s']:.3e}"
                          f"  x{r['speedup_vs_exact']:.2f}  acc {r['acceptance']:.3f}  compile {r['compile_s']:.1f}s\n")
            out.flush()
    if exp_cases is None:
        exp_cases = QUICK_EXP_CASES if quick else EXP_CASES
    for (energy, N, K) in exp_cases:
        for r in run_exp_case(energy, N, K, chains=2 if quick else 8, sweeps=1 if quick else None,
                              repeats=repeats, numpy_seconds=numpy_seconds):
            results.append(r)
            if json_lines:
                out.write(json.dumps(r) + "\n")
            else:
                rate = (f"{r['flips_per_s']:.3e} flips/s  numpy {r['baseline_flips_per_s']:.3e}" if "flips_per_s" in r
                        else f"{r['patterns_per_s']:.3e} patterns/s  numpy {r['baseline_patterns_per_s']:.3e}")
                out.write(f"{r['case']:<56} {rate}  x{r['speedup_vs_numpy']:.2f}\n")
            out.flush()
    return results
