r"""The (d, T) phase diagram of the low-storage multitasking network (K diluted patterns, fixed P and K).

Built on :mod:`densehebb.theory.multitask` (exact 3^K pattern average, d and T traced: one compile per
(P, K) serves the whole plane).  At every grid point the GLOBAL minimum of f(m; d, T) is found by a
multi-start search, batched over the whole grid and over the starts at once:

* the hierarchical state continued in T from its T = 0 form (the T = 0 sign dynamics from
  m_k = (1-d) d^(k-1), then Newton from one grid temperature to the next along the T axis; for points off
  a grid, :func:`global_minimum` uses the path of :func:`theory.multitask.hierarchical_path`, ``PATH_STEPS``
  Newton steps at T j / PATH_STEPS, every point a lane),
* the pure state, the parallel state, the odd symmetric mixtures n = 3, 5, ... < K, the paramagnet,
* ``n_random`` random starts uniform in [0, 1-d]^K (``numpy.random.default_rng(seed)``, the same unit draws
  scaled by 1 - d at every point, as :func:`theory.multitask.solve_state` with ``state="global"`` draws them),

and the lowest f among the converged, locally stable (smallest Hessian eigenvalue > 0) solutions wins
(ties within 1e-12: the first start in the order above).  The phase is the class of the winner's sorted
amplitudes (:func:`theory.multitask.classify`): paramagnetic (m = 0), pure (one nonzero), hierarchical (at
least two nonzero, all distinct), parallel (all K equal), mixture (n < K equal, the rest 0), "other" (some
but not all nonzero amplitudes equal, e.g. m1 = m2 > m3, which classify calls hierarchical; the patterns
found are listed in the attribute ``other_states``), "none" where no start gave a stable solution.

Lines (1-d variables along d, or scalars): T_c (retrieval vs paramagnet: the pure state's thermodynamic
transition (1-d)^(P-1) T_c(0), P = 2: 1 - d, continuous; the grid's own paramagnetic boundary is kept as
``T_para_grid`` as a check), the pure state's spinodal, the P = 2 pure -> hierarchical instability line,
the T = 0 hierarchical existence boundary (closed form 1 - 2D + D^K = 0, D = d^(P-1)) and where the
hierarchical state stops being the global minimum (bisection in d at T = 0 on the multi-start search), the
Landau threshold d = 2/3 (P = 2, near T_c), and along each T row where the pure phase ends, where the strict
hierarchy ends and where the parallel phase starts (the first / last change of the grid's phase in the row,
refined by bisection in d, all rows in one batch per step).  Every solve is padded to a power-of-two lane
count (:func:`theory.multitask.solve_batch`), so a few compiled shapes serve the grid, the continuation and the bisections.

Overlaps are unnormalised (m_mu = (1/N) sum_i xi^mu_i sigma_i, at most 1 - d) unless ``normalised``;
temperatures are the plain T = 1/beta of H = -(N/P!) sum_mu m_mu^P (docs/conventions.md "Diluted patterns").
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from densehebb.theory import Model, x64
from densehebb.theory import multitask as mt
from densehebb.theory.provenance import dataset_attrs, describe_variables

PHASES = ("paramagnetic", "pure", "hierarchical", "parallel", "mixture", "other", "none")
CODE = {p: i for i, p in enumerate(PHASES)}
PATH_STEPS = 24          # = the steps of theory.multitask.hierarchical_path
F_TIE = 1e-12
D_TOL = 1e-4             # bisection tolerance in d
K_DIAGRAM = (2, 6)       # K offered for the diagram (the exact average costs 3^K per lane)


def default_grid(K: int) -> tuple[int, int]:
    """(n_d, n_T) by default: finer for small K (cost per lane ~ 3^K / 2)."""
    return {2: (61, 61), 3: (61, 61), 4: (45, 45), 5: (31, 31)}.get(K, (25, 25))


def phase_of(m, tol=mt.CLASS_TOL) -> int:
    """Phase code of sorted amplitudes m (see :data:`PHASES`)."""
    if not np.all(np.isfinite(m)):
        return CODE["none"]
    name = mt.classify(m, tol)
    if name == "paramagnet":
        return CODE["paramagnetic"]
    if name.startswith("mixture"):
        return CODE["mixture"]
    if name == "hierarchical" and n_distinct(m, tol) < mt.n_condensed(m, tol):
        return CODE["other"]     # some nonzero amplitudes equal, not all: neither a hierarchy nor a mixture
    return CODE[name]


def n_distinct(m, tol=mt.CLASS_TOL) -> int:
    """Number of distinct nonzero amplitudes (within tol) of sorted |m|."""
    a = np.sort(np.abs(np.asarray(m, float)))[::-1]
    a = a[a > tol]
    if a.size == 0:
        return 0
    return int(1 + np.sum(np.abs(np.diff(a)) > tol * max(1.0, a[0])))


def equality_pattern(m, tol=mt.CLASS_TOL) -> str:
    """The order pattern of sorted |m|, e.g. "m1=m2>m3" or "m1>m2>m3=0"."""
    a = np.sort(np.abs(np.asarray(m, float)))[::-1]
    out = "m1"
    for k in range(1, a.size):
        out += ("=" if abs(a[k - 1] - a[k]) <= tol * max(1.0, a[0]) else ">") + f"m{k + 1}"
    return out + ("=0" if a[-1] <= tol else "")


def start_names(K: int, n_random: int) -> list[str]:
    names = ["hierarchical", "pure", "parallel"] + [f"mixture-{n}" for n in range(3, K, 2)] + ["paramagnet"]
    return names + [f"random-{i}" for i in range(n_random)]


def _hierarchical_paths(P, K, d, T, steps=PATH_STEPS):
    """The hierarchical continuation of :func:`theory.multitask.hierarchical_path` for many (d, T) lanes at
    once (T an array): returns the solve_batch dict at T with ``converged`` = every step converged."""
    ud, inv = np.unique(d, return_inverse=True)
    zero = mt.solve_batch(P, K, np.stack([mt.hierarchical_T0(K, x) for x in ud]), ud, 0.0)
    m = zero["m"][inv]
    ok = zero["converged"][inv].copy()
    out = {k: v[inv] for k, v in zero.items()}
    hot = np.flatnonzero(T > 0)
    if hot.size:
        mh, okh = m[hot], ok[hot]
        for j in range(1, steps + 1):
            o = mt.solve_batch(P, K, mh, d[hot], T[hot] * j / steps)
            good = okh & o["converged"]
            mh = np.where(good[:, None], o["m"], mh)
            okh = good
        for k in out:
            out[k][hot] = o[k]
        out["converged"][hot] = okh & o["converged"]
    return out


def _hierarchical_grid(P, K, dgrid, Tgrid):
    """The hierarchical state continued along the T axis of a grid (Tgrid ascending from 0): the T = 0 sign
    dynamics from the closed form, then Newton at each grid temperature from the previous one's solution,
    one lane per d (a column that fails once stays failed, as in hierarchical_path).  Returns the solve dict
    flattened in (d, T) order."""
    n_d, n_T = dgrid.size, Tgrid.size
    cur = mt.solve_batch(P, K, np.stack([mt.hierarchical_T0(K, x) for x in dgrid]), dgrid, 0.0)
    ok = cur["converged"].copy()
    cols = [dict(cur)]
    m = cur["m"]
    for j in range(1, n_T):
        o = mt.solve_batch(P, K, m, dgrid, np.full(n_d, Tgrid[j]))
        good = ok & o["converged"]
        m = np.where(good[:, None], o["m"], m)
        ok = good
        o["converged"] = good
        cols.append(o)
    return {k: np.stack([c[k] for c in cols], axis=1).reshape((n_d * n_T,) + cols[0][k].shape[1:])
            for k in cols[0]}


@x64
def global_minimum(P: int, K: int, d, T, n_random: int = mt.N_RANDOM, seed: int = 0, chunk: int = 2048,
                   hier=None):
    """The multi-start global minimum at every point (d[i], T[i]) (1-d arrays), all points and starts in one
    batch (split in chunks of ``chunk`` lanes).  Returns a dict: m (n, K) sorted |m| (NaN where none),
    f, lam, residual, winner (start index, -1 none), n_ok (stable converged starts), phase (code),
    hier_global (the continued hierarchical state is a stable solution with f at the minimum), f_hier,
    names (the starts), n_starts.  ``hier``: the hierarchical continuation already solved at these points
    (default: the path of :func:`theory.multitask.hierarchical_path`, PATH_STEPS steps to each T)."""
    d = np.atleast_1d(np.asarray(d, float)).ravel()
    T = np.atleast_1d(np.asarray(T, float)).ravel()
    d, T = np.broadcast_arrays(d, T)
    n = d.size
    names = start_names(K, n_random)
    unit = [mt.named_start("pure", K, 0.0), mt.named_start("parallel", K, 0.0)]
    unit += [mt.named_start("mixture", K, 0.0, m) for m in range(3, K, 2)]
    unit += [np.zeros(K)]
    unit += list(np.random.default_rng(seed).uniform(0.0, 1.0, (n_random, K)))
    unit = np.array(unit)                                   # starts at d = 0; scaled by 1 - d
    ns = unit.shape[0]
    hier = _hierarchical_paths(P, K, d, T) if hier is None else hier
    fs = np.full((n, ns + 1), np.inf)
    ms = np.zeros((n, ns + 1, K))
    lam = np.full((n, ns + 1), np.nan)
    res = np.full((n, ns + 1), np.nan)
    okh = hier["converged"] & (hier["lam"] > 0) & np.isfinite(hier["f"])
    fs[:, 0] = np.where(okh, hier["f"], np.inf)
    ms[:, 0], lam[:, 0], res[:, 0] = hier["m"], hier["lam"], hier["residual"]
    # every (point, start) pair a lane, in chunks of ``chunk`` lanes (one compiled shape; a chunk's Newton
    # loop stops with its own slowest lane)
    m0 = (unit[None, :, :] * (1.0 - d[:, None, None])).reshape(-1, K)
    dl, Tl = np.repeat(d, ns), np.repeat(T, ns)
    parts = [mt.solve_batch(P, K, m0[a:a + chunk], dl[a:a + chunk], Tl[a:a + chunk]) for a in range(0, n * ns, chunk)]
    o = {k: np.concatenate([q[k] for q in parts]) for k in parts[0]}
    ok = o["converged"] & (o["lam"] > 0) & np.isfinite(o["f"])
    fs[:, 1:] = np.where(ok, o["f"], np.inf).reshape(n, ns)
    ms[:, 1:] = o["m"].reshape(n, ns, K)
    lam[:, 1:] = o["lam"].reshape(n, ns)
    res[:, 1:] = o["residual"].reshape(n, ns)
    fmin = fs.min(axis=1)
    has = np.isfinite(fmin)
    win = np.argmax(fs <= fmin[:, None] + F_TIE, axis=1)    # the first start at the minimum
    win = np.where(has, win, -1)
    idx = np.arange(n)
    m = np.sort(np.abs(ms[idx, np.maximum(win, 0)]), axis=1)[:, ::-1]
    m = np.where(has[:, None], m, np.nan)
    phase = np.array([phase_of(x) for x in m], dtype=np.int8)
    return {"m": m, "f": np.where(has, fmin, np.nan), "lam": np.where(has, lam[idx, np.maximum(win, 0)], np.nan),
            "residual": np.where(has, res[idx, np.maximum(win, 0)], np.nan), "winner": win,
            "n_ok": np.isfinite(fs).sum(axis=1), "phase": phase,
            "hier_global": okh & (hier["f"] <= fmin + F_TIE), "f_hier": np.where(okh, hier["f"], np.nan),
            "names": names, "n_starts": ns + 1}


multitask_global_minimum = global_minimum      # the public name (densehebb.phase_diagrams)


def _bisect_d(test, lo, hi, tol=D_TOL, max_iter=40):
    """Batched bisection in d: test(d) -> bool array, true at lo, false at hi."""
    lo, hi = np.array(lo, float), np.array(hi, float)
    for _ in range(max_iter):
        if np.all(hi - lo <= tol):
            break
        mid = 0.5 * (lo + hi)
        ok = test(mid)
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    return 0.5 * (lo + hi)


def _pure_lines(P, ds):
    """T_c and the spinodal of the pure state along d: (1-d)^(P-1) times the d = 0 values."""
    tr = mt.transitions(Model(P=P, storage="low", dilution=0.0))
    s = (1.0 - ds) ** (P - 1)
    return s * float(tr.T_thermodynamic), s * float(tr.T_spinodal), float(tr.T_thermodynamic), \
        float(tr.T_spinodal)


@x64
def dilution_diagram(P: int = 2, K: int = 3, n_d: int | None = None, n_T: int | None = None,
                     d_max: float = 0.95, T_max: float | None = None, n_random: int = mt.N_RANDOM, seed: int = 0,
                     convention: str = "distinct", normalised: bool = False, progress=None) -> xr.Dataset:
    """The (d, T) phase diagram at fixed (P, K) as an xarray Dataset (see the module doc).

    Grid: d = linspace(0, d_max, n_d), T = linspace(0, T_max, n_T) (default T_max = 1.1 times the pure
    state's spinodal at d = 0; P = 2: 1.1).  ``progress``: optional callback for one-line stage messages."""
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or not K_DIAGRAM[0] <= K <= K_DIAGRAM[1]:
        raise ValueError(f"the dilution plane needs K in {K_DIAGRAM[0]}..{K_DIAGRAM[1]}, got {K!r}")
    if isinstance(P, bool) or not isinstance(P, (int, np.integer)) or not 2 <= P <= 8:
        raise ValueError(f"P must be an integer in 2..8, got {P!r}")
    if not 0 < d_max < 1:
        raise ValueError(f"d_max must lie in (0, 1), got {d_max!r}")
    say = progress or (lambda *a: None)
    gd, gT = default_grid(K)
    n_d, n_T = int(n_d or gd), int(n_T or gT)
    if n_d < 3 or n_T < 3:
        raise ValueError("the grid needs at least 3 points along d and along T")
    spec = Model(P=P, convention=convention, storage="low", dilution=0.0)
    dgrid = np.linspace(0.0, d_max, n_d)
    Tc_line, Tsp_line, Tc0, Tsp0 = _pure_lines(P, dgrid)
    if T_max is None:
        T_max = 1.1 * Tsp0
    Tgrid = np.linspace(0.0, float(T_max), n_T)
    DD, TT = np.meshgrid(dgrid, Tgrid, indexing="ij")
    say(f"global minimum on the {n_d} x {n_T} grid ({n_random} random "
        f"starts + named states, batched over grid and starts) ...")
    g = global_minimum(P, K, DD.ravel(), TT.ravel(), n_random, seed, hier=_hierarchical_grid(P, K, dgrid, Tgrid))
    shape = DD.shape
    phase = g["phase"].reshape(shape)
    m = g["m"].reshape(shape + (K,))
    scale = (1.0 - DD)[..., None] if normalised else 1.0
    nc = np.sum(m > mt.CLASS_TOL, axis=-1).reshape(shape)
    ndist = np.array([n_distinct(x) if np.all(np.isfinite(x)) else 0 for x in g["m"]]).reshape(shape)

    # --- lines
    say("lines: T_c, spinodal, pure instability (P = 2), T = 0 hierarchical boundaries, hierarchical/parallel ...")
    T_pi = np.array([mt.pure_instability_temperature(float(x)) for x in dgrid]) if P == 2 \
        else np.full(n_d, np.nan)
    # the grid's own paramagnetic boundary: midpoint between the last non-paramagnetic T and the first
    # paramagnetic T above it (NaN where the column has no such pair)
    T_para = np.full(n_d, np.nan)
    for i in range(n_d):
        para = phase[i] == CODE["paramagnetic"]
        j = np.flatnonzero(~para[:-1] & para[1:])
        if j.size:
            T_para[i] = 0.5 * (Tgrid[j[-1]] + Tgrid[j[-1] + 1])
    d_exist = mt.hierarchical_boundary_T0(P, K)
    # T = 0: where the hierarchical state m_k = (1-d) d^(k-1) stops being the global minimum: the end of the
    # interval of d from 0 where it exists (d < d_exist) and is the global minimum (row T = 0 of the grid,
    # then bisection in d on the same multi-start test); d_exist itself if it is the global minimum up to there
    def t0_global(x):
        x = np.asarray(x, float)
        return global_minimum(P, K, x, np.zeros_like(x), n_random, seed)["hier_global"] & (x < d_exist)
    hg0 = g["hier_global"].reshape(shape)[:, 0] & (dgrid < d_exist)
    bad = np.flatnonzero(~hg0)
    d_global = float("nan")
    if hg0[0] and bad.size:
        d_global = float(_bisect_d(t0_global, [dgrid[bad[0] - 1]], [dgrid[bad[0]]])[0])
    # boundaries along each T row, refined by bisection in d on the multi-start test, all rows of all lines in
    # one batch per bisection step (a fixed lane count: one compile): where the pure phase ends (first pure ->
    # retrieval change), where the strict hierarchy ends (last hierarchical cell -> a retrieval phase) and
    # where the parallel phase starts (first parallel cell, from a retrieval phase)
    ret = lambda c: (c != CODE["paramagnetic"]) & (c != CODE["none"])  # noqa: E731
    tests = {"d_pure_end": (lambda c: c == CODE["pure"], lambda c: (c != CODE["pure"]) & ret(c), 0),
             "d_hierarchy_end": (lambda c: c == CODE["hierarchical"],
                                 lambda c: (c != CODE["hierarchical"]) & ret(c), -1),
             "d_parallel_start": (lambda c: (c != CODE["parallel"]) & ret(c), lambda c: c == CODE["parallel"], 0)}
    prob = []                                        # (line, row, lo, hi)
    for key, (left, right, which) in tests.items():
        for j in range(n_T):
            p = phase[:, j]
            i = np.flatnonzero(left(p[:-1]) & right(p[1:]))
            if i.size:
                prob.append((key, j, dgrid[i[which]], dgrid[i[which] + 1]))
    bounds = {key: np.full(n_T, np.nan) for key in tests}
    if prob:
        keys = np.array([x[0] for x in prob])
        Tr = Tgrid[np.array([x[1] for x in prob])]

        def test(x):
            c = global_minimum(P, K, x, Tr, n_random, seed)["phase"]
            out = np.zeros(x.size, bool)
            for key, (left, _, _) in tests.items():
                out = np.where(keys == key, left(c), out)
            return out
        val = _bisect_d(test, [x[2] for x in prob], [x[3] for x in prob])
        for (key, j, _, _), v in zip(prob, val):
            bounds[key][j] = v
    d_landau = mt.landau_threshold(P)

    # --- the Dataset
    dsx = xr.Dataset(coords={
        "d": ("d", dgrid, {"long_name": "dilution d = P(xi = 0)", "units": "1"}),
        "T": ("T", Tgrid, {"long_name": "temperature T = 1/beta (unnormalised convention: H = -(N/P!) sum m^P)",
                           "units": "1"}),
        "level": ("level", np.arange(1, K + 1), {"long_name": "amplitude rank k (1 = largest)", "units": "1"})})
    dsx["phase"] = (("d", "T"), phase, {
        "long_name": "phase of the global minimum of f (multi-start)", "units": "1",
        "flag_values": np.arange(len(PHASES), dtype=np.int8), "flag_meanings": " ".join(PHASES)})
    over = "normalised (divided by 1 - d)" if normalised else "unnormalised, at most 1 - d"
    dsx["m"] = (("d", "T", "level"), m / scale, {"long_name": f"sorted amplitudes |m_k| of the global minimum "
                                                              f"({over})", "units": "1"})
    dsx["f"] = (("d", "T"), g["f"].reshape(shape), {"long_name": "free energy per neuron of the global minimum",
                                                    "units": "1"})
    dsx["n_condensed"] = (("d", "T"), nc.astype(np.int8),
                          {"long_name": f"number of amplitudes above {mt.CLASS_TOL}", "units": "1"})
    dsx["n_distinct"] = (("d", "T"), ndist.astype(np.int8),
                         {"long_name": "number of distinct nonzero amplitudes", "units": "1"})
    dsx["stable"] = (("d", "T"), (g["lam"].reshape(shape) > 0).astype(np.int8),
                     {"long_name": "the global minimum is locally stable (smallest Hessian eigenvalue > 0)",
                      "units": "1"})
    dsx["min_hessian_eigenvalue"] = (("d", "T"), g["lam"].reshape(shape),
                                     {"long_name": "smallest Hessian eigenvalue of the global minimum", "units": "1"})
    dsx["residual"] = (("d", "T"), g["residual"].reshape(shape),
                       {"long_name": "max |m - E[xi tanh(beta h)]| of the global minimum", "units": "1"})
    dsx["n_stable_starts"] = (("d", "T"), g["n_ok"].reshape(shape).astype(np.int16),
                              {"long_name": "starts that converged to a locally stable solution", "units": "1"})
    dsx["winner"] = (("d", "T"), g["winner"].reshape(shape).astype(np.int16),
                     {"long_name": "index of the winning start (attrs start_names; -1 none)", "units": "1"})
    dsx["hierarchical_branch_global"] = (("d", "T"), g["hier_global"].reshape(shape).astype(np.int8), {
        "long_name": "the hierarchical state continued in T from its T = 0 form is the global minimum",
        "units": "1"})
    tl = "1 (temperature T = 1/beta)"
    dsx["T_c"] = ("d", Tc_line, {"long_name": "retrieval vs paramagnet: the pure state's thermodynamic transition "
                                              "(1-d)^(P-1) T_c(0)" + (" = 1 - d (continuous)" if P == 2 else
                                                                      " (first order)"), "units": tl})
    dsx["T_spinodal"] = ("d", Tsp_line, {"long_name": "pure-state spinodal (1-d)^(P-1) T_spinodal(0)", "units": tl})
    dsx["T_para_grid"] = ("d", T_para, {"long_name": "paramagnetic boundary of the grid phase map (midpoint of the "
                                                     "grid cell; a check of T_c)", "units": tl})
    dsx["T_pure_unstable"] = ("d", T_pi, {"long_name": "P = 2: below it the pure state is unstable towards the "
                                                       "other patterns (1 - beta(1-d)[d + (1-d) sech^2(beta m_1)] "
                                                       "= 0); NaN for d >= 2/3, d = 0 and P >= 3", "units": tl})
    blong = {"d_pure_end": "the global minimum stops being the pure state (first change along the row)",
             "d_hierarchy_end": "the global minimum stops being a strict hierarchy (last hierarchical cell of the row)",
             "d_parallel_start": "the global minimum becomes the parallel state (first parallel cell of the row)"}
    for key, line in bounds.items():
        dsx[key] = ("T", line, {"long_name": f"{blong[key]}: bisection in d (tolerance {D_TOL}) on the multi-start "
                                             "global minimum; NaN where the row has no such change", "units": "1"})
    dsx["d_hierarchical_exists_T0"] = ((), d_exist, {
        "long_name": "T = 0 hierarchical state exists for d below it: 1 - 2D + D^K = 0, D = d^(P-1) (1: always)",
        "units": "1"})
    dsx["d_hierarchical_global_T0"] = ((), d_global, {
        "long_name": "T = 0: the hierarchical state (1-d) d^(k-1) is the global minimum for d below this (it exists "
                     "and wins the multi-start search; bisection; at most d_hierarchical_exists_T0; NaN if it is "
                     "never the global minimum on the grid)", "units": "1"})
    dsx["d_landau"] = ((), d_landau, {"long_name": "Landau threshold near T_c (P = 2: 2/3, K-independent; pure "
                                                   "below, parallel above); NaN for P >= 3", "units": "1"})
    dsx["T_c_d0"] = ((), Tc0, {"long_name": "T_c at d = 0", "units": tl})
    attrs = dataset_attrs(spec,
                          title=f"multitasking, low storage: (d, T) phase diagram, P = {P}, K = {K}",
                          K=int(K), storage="low (K finite patterns)",
                          load="K finite (low storage)",
                          overlaps="normalised" if normalised else "unnormalised",
                          overlaps_note="m_mu = (1/N) sum_i xi^mu_i sigma_i" + (" / (1 - d)" if normalised else
                                                                                "  (at most 1 - d)"),
                          dilution_convention="xi in {-1, 0, +1}, P(0) = d, P(+-1) = (1 - d)/2",
                          energy="H = -(N/P!) sum_mu m_mu^P (both conventions, K finite)",
                          free_energy=mt._NOTE,
                          method="global minimum per grid point over n_starts starts (hierarchical continued in "
                                 "T from T = 0, pure, parallel, odd mixtures, paramagnet, random), batched over "
                                 "the grid: theory.multitask.solve_batch",
                          n_starts=int(g["n_starts"]), n_random=int(n_random), seed=int(seed),
                          start_names=" ".join(g["names"]), path_steps=PATH_STEPS,
                          class_tolerance=mt.CLASS_TOL, solver_tolerance=mt.TOL,
                          note="d varies along the first axis (coordinate d)")
    attrs["dilution"] = "varies along d"
    other = sorted({equality_pattern(x) for x, c in zip(g["m"], g["phase"]) if c == CODE["other"]})
    attrs["other_states"] = ", ".join(other) if other else "none found"
    dsx.attrs.update(attrs)
    describe_variables(dsx, {})
    return dsx


# ------------------------------------------------------------------------------------------------ figure
COLORS = {"paramagnetic": "#f0f0f0", "pure": "#9ecae1", "hierarchical": "#a1d99b", "parallel": "#fdd0a2",
          "mixture": "#dadaeb", "other": "#fa9fb5", "none": "white"}


def plot_dilution_diagram(ds, path=None, dpi=150, ax=None):
    """Figure of a :func:`dilution_diagram` Dataset: the phase map as colours, the lines on top, a legend
    (into ``ax`` if given; returns the Figure)."""
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    if ax is None:
        fig = Figure(figsize=(7.6, 5.0), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    d, T = ds["d"].values, ds["T"].values
    cmap = ListedColormap([COLORS[p] for p in PHASES])
    ph = ds["phase"].values
    ax.pcolormesh(d, T, ph.T, cmap=cmap, vmin=-0.5, vmax=len(PHASES) - 0.5, shading="nearest")
    hb = ds["hierarchical_branch_global"].values
    if np.any((ph == CODE["hierarchical"]) & (hb == 0)):
        ax.contourf(d, T, ((ph == CODE["hierarchical"]) & (hb == 0)).T.astype(float), levels=[0.5, 1.5],
                    colors="none", hatches=["///"])
    P = int(ds.attrs["P"])
    ax.plot(d, ds["T_c"].values, "k-", lw=1.6, label=r"$T_c$: retrieval / paramagnet" +
            (r" ($1-d$)" if P == 2 else ""))
    if P > 2:
        ax.plot(d, ds["T_spinodal"].values, "k--", lw=1.0, label="pure-state spinodal")
    if np.any(np.isfinite(ds["T_pure_unstable"].values)):
        ax.plot(d, ds["T_pure_unstable"].values, "C0-", lw=1.4, label="pure state unstable below (P = 2)")
    for key, style, lab in (("d_pure_end", "C0:", "end of pure (bisection)"),
                            ("d_hierarchy_end", "C2.-", "end of strict hierarchy (bisection)"),
                            ("d_parallel_start", "C3.-", "start of parallel (bisection)")):
        v = ds[key].values
        if np.any(np.isfinite(v)):
            ax.plot(v, T, style, lw=1.1, ms=2.5, label=lab)
    de = float(ds["d_hierarchical_exists_T0"])
    if de < 1:
        ax.plot([de], [0], "kv", ms=8, clip_on=False, label=f"T = 0 hierarchy exists below d = {de:.4f}")
    dg = float(ds["d_hierarchical_global_T0"])
    if np.isfinite(dg):
        ax.plot([dg], [0], "C3^", ms=8, clip_on=False, label=f"T = 0 hierarchy global min. below d = {dg:.4f}")
    dl = float(ds["d_landau"])
    if np.isfinite(dl):
        tc = (1 - dl) * float(ds["T_c_d0"])
        ax.plot([dl, dl], [0.75 * tc, tc], "m-", lw=2.2, label="Landau threshold d = 2/3 (near T_c)")
    ax.set_xlim(d[0], d[-1])
    ax.set_ylim(T[0], T[-1])
    ax.set_xlabel("dilution d = P(xi = 0)")
    ax.set_ylabel(r"temperature $T = 1/\beta$ (unnormalised convention, $H = -(N/P!)\sum_\mu m_\mu^P$)",
                  fontsize=8)
    a = ds.attrs
    ax.set_title(f"multitasking, low storage: P = {P}, K = {a.get('K')}, global minimum over {a.get('n_starts')} "
                 f"starts\noverlaps {a.get('overlaps')}, convention: {a.get('convention')}", fontsize=8)
    present = [p for p in PHASES if np.any(ph == CODE[p])]
    lab = {p: p for p in present}
    if "other" in lab:
        kinds = a.get("other_states", "").split(", ")
        lab["other"] = "other: " + (kinds[0] if len(kinds) == 1 else "some amplitudes equal (attrs other_states)")
    patches = [Patch(facecolor=COLORS[p], edgecolor="0.5", label=lab[p]) for p in present]
    if np.any((ph == CODE["hierarchical"]) & (hb == 0)):
        patches.append(Patch(facecolor="white", edgecolor="0.3", hatch="///",
                             label="hierarchical, not the T = 0 branch"))
    h, l = ax.get_legend_handles_labels()
    ax.legend(h + patches, l + [p.get_label() for p in patches], fontsize=6.5, loc="upper right", framealpha=0.9)
    if path:
        fig.savefig(path, dpi=dpi)
    return fig
