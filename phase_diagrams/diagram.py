"""The (alpha, T) phase diagram as an xarray Dataset."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import xarray as xr

from densehebb.theory import Model, Status, x64
from densehebb.theory.provenance import describe_variables

from . import lines
from .io import provenance

DEFAULT_ALPHAS = np.unique(np.round(np.concatenate([
    [1e-4, 5e-4, 0.001, 0.0025, 0.005, 0.0075], np.arange(0.01, 0.13751, 0.0025),
    [0.0505, 0.051, 0.0513, 0.0516, 0.0518], [0.1365, 0.137, 0.1375, 0.1378]]), 6))
DEFAULT_TS = np.round(np.arange(0.0, 0.951, 0.025), 6)

LINE_DOC = {
    "T_g": "spin-glass transition (paramagnet unstable), AGS: 1 + sqrt(alpha)",
    "T_M": "retrieval states appear (end of the retrieval branch)",
    "T_c": "retrieval states become the global minimum (f_R = f_SG); upper root where reentrant",
    "T_AT": "de Almeida-Thouless instability of the RS retrieval state",
}


# Why a line is NaN.  Each line is finite wherever its transition exists on the grid and NaN only where it
# does not (tests/test_diagram_lines.py checks this against independent criteria for P = 2 and P = 4).
_NO_COMPETITOR = ("; for P >= 3 also where the crossing lies in the window T_g(alpha) < T < T_K(alpha) "
                  "(T_K: paramagnet entropy = 0) in which RS has no physical competitor (no RS spin glass, "
                  "paramagnet of negative entropy), so the RS line is undefined there (1RSB: T_c_1rsb)")
NAN_REASON = {
    "T_g": "never NaN for alpha > 0 (P = 2: 1 + sqrt(alpha); P >= 3: the spin-glass fold is found for every "
           "alpha > 0)",
    "T_M": "no retrieval state at any T: alpha above the largest RS capacity max_T alpha_c(T)",
    "T_c": "retrieval is nowhere the global minimum at this load: alpha above the largest alpha_Tc(T) (above "
           "alpha_Tc_T0 only inside the RS reentrance window)" + _NO_COMPETITOR,
    "T_AT": "T_AT below exp(-600) (T_AT ~ exp(-h^2/(2 xi'(1))), P = 2: exp(-1/(2 alpha)); out of float64 "
            "range at the smallest loads), or the retrieval state is AT-stable (or AT-unstable) throughout its "
            "existence range, or no retrieval state (T_M NaN)",
    "alpha_c": "no retrieval state at this T for any load: T above T_M(alpha -> 0) (P = 2: 1; P >= 3: the "
               "low-storage Mattis spinodal)",
    "m_c": "as alpha_c",
    "alpha_Tc": "retrieval is the global minimum for no load: T above the largest T_c(alpha) (alpha >= 1e-6), "
                "or no retrieval state (alpha_c NaN)" + _NO_COMPETITOR,
    "alpha_c_T0": "not NaN (the T = 0 retrieval branch ends at a fold for every P)",
    "m_c_T0": "as alpha_c_T0",
    "alpha_Tc_T0": "not NaN (retrieval and spin-glass ground states cross below alpha_c_T0)",
}


def _progress(it, progress, desc):
    """Iterate over ``it`` reporting progress: ``progress`` callable -> progress(desc, done, total) before
    the first item and after each one; True -> a tqdm bar; False/None -> silent."""
    if callable(progress):
        return _reported(list(it), progress, desc)
    if not progress:
        return it
    from tqdm import tqdm

    return tqdm(it, desc=desc, leave=False)


def _reported(items, progress, desc):
    n = len(items)
    progress(desc, 0, n)
    for i, x in enumerate(items):
        yield x
        progress(desc, i + 1, n)


def default_grids(spec: Model):
    """alpha and T grids that cover the retrieval region of P (loads and temperatures scale with P!)."""
    if spec.P == 2 and spec.examples is None:
        return DEFAULT_ALPHAS, DEFAULT_TS
    a_c = lines.capacity(spec, 0.0).alpha_c
    if spec.examples is None:
        from densehebb.theory.low_storage import transitions

        t_sp = transitions(spec.replace(storage="low")).T_spinodal
    else:   # learning: the archetype state's spinodal at vanishing load
        t_sp = lines.T_M(spec, 1e-4 * a_c)
    if not (np.isfinite(a_c) and np.isfinite(t_sp)):
        raise ValueError("phase diagram: no retrieval (archetype) state at T = 0 and vanishing load for this model")
    if spec.examples is not None:
        # the capacity is reentrant (it peaks at T > 0, far above alpha_c(0) for P >= 3): cover the peak
        peak = lines._capacity_peak(spec)[1]
        if np.isfinite(peak) and peak > a_c:
            a_c = peak
    fr = np.concatenate([[0.002, 0.005, 0.01, 0.02, 0.035], np.linspace(0.05, 0.95, 19), [0.98, 0.995]])
    return a_c * fr, np.linspace(0.0, 0.98 * t_sp, 36)


@x64
def phase_diagram(spec: Model | None = None, alphas=None, Ts=None, progress=None) -> xr.Dataset:
    """Transition lines T_g, T_M, T_c, T_AT along alpha and the capacity alpha_c(T), m_c(T) along T.

    ``progress``: None/False (silent), True (tqdm bars) or a callback ``progress(stage, done=None,
    total=None)``: called with a message alone (e.g. before the first compile) and with (stage, done,
    total) before each stage (done = 0) and after each of its points ("lines", "capacity", "1RSB
    capacity", "1RSB T_c")."""
    spec = spec or Model()
    full = spec  # the RS lines are computed with the RS spec; 1RSB lines are added on top
    spec = replace(spec, ansatz="rs")
    if callable(progress):
        progress(f"compiling the RS solver for P = {spec.P} ...")
    da, dt = default_grids(spec) if alphas is None or Ts is None else (None, None)
    alphas = np.asarray(da if alphas is None else alphas, dtype=float)
    Ts = np.asarray(dt if Ts is None else Ts, dtype=float)
    if np.any(alphas <= 0) or np.any(Ts < 0):
        raise ValueError("alphas must be > 0 and Ts >= 0")
    out = {k: np.full(alphas.shape, np.nan) for k in LINE_DOC}
    prev = prev_g = None  # continuation: each spinodal / capacity starts from the previous point of its line
    sg_folds = []
    for i, a in enumerate(_progress(alphas, progress, "lines")):
        if spec.P >= 3:
            g = lines.T_g_fold(spec, a, start=prev_g)
            sg_folds.append(g)
            prev_g = lines.fold_start(g)
            out["T_g"][i] = g.p
        else:
            out["T_g"][i] = lines.T_g(spec, a)
        r = lines.T_M_fold(spec, a, start=prev)
        prev = lines.fold_start(r)
        tm = r.p
        out["T_M"][i] = tm
        out["T_c"][i] = lines.T_c(spec, a, tm, T_g=out["T_g"][i] if spec.P >= 3 else None)
        out["T_AT"][i] = lines.T_AT(spec, a, tm)
    ac = np.full(Ts.shape, np.nan)
    mc = np.full(Ts.shape, np.nan)
    atc = np.full(Ts.shape, np.nan)
    prev = None
    for j, t in enumerate(_progress(Ts, progress, "capacity")):
        c = lines.capacity(spec, t, start=prev)
        prev = lines.fold_start(c)
        ac[j], mc[j] = c.alpha_c, c.m_c
        a_g = lines.alpha_g(spec, float(t), alphas, sg_folds) if spec.P >= 3 else None
        atc[j] = lines.alpha_Tc(spec, t, c.alpha_c, alpha_g=a_g)
    a_tc0 = lines.alpha_Tc0(spec)
    c0 = lines.capacity(spec, 0.0)
    ds = xr.Dataset(
        {k: ("alpha", v, {"long_name": LINE_DOC[k], "units": "1 (temperature T = 1/beta)"})
         for k, v in out.items()},
        coords={
            "alpha": ("alpha", alphas, {"long_name": "load alpha = K / N^(P-1)", "units": "1"}),
            "T": ("T", Ts, {"long_name": "temperature T = 1/beta", "units": "1"}),
        },
    )
    ds["alpha_c"] = ("T", ac, {"long_name": "storage capacity alpha_c(T) (end of retrieval branch)",
                               "units": "1"})
    ds["m_c"] = ("T", mc, {"long_name": "retrieval overlap at alpha_c(T)", "units": "1"})
    ds["alpha_Tc"] = ("T", atc, {"long_name": "T_c line along T: load where f_R = f_SG (shows the RS "
                                               "reentrance near T = 0)", "units": "1"})
    ds["alpha_c_T0"] = ((), c0.alpha_c, {"long_name": "zero-temperature capacity", "units": "1"})
    ds["m_c_T0"] = ((), c0.m_c, {"long_name": "retrieval overlap at the T = 0 capacity", "units": "1"})
    ds["alpha_Tc_T0"] = ((), a_tc0, {"long_name": "load where T_c meets T = 0", "units": "1"})
    for k, why in NAN_REASON.items():
        ds[k].attrs["nan_reason"] = why
    if full.ansatz == "1rsb":
        ds = _add_rsb1(ds, full, progress)
    if spec.P >= 3:
        ds["T_g"].attrs["long_name"] = ("spin-glass transition: RS spin-glass solution appears (spinodal; "
                                        "discontinuous for P >= 3)")
    ds.attrs.update(provenance(full, title=f"{full.ansatz.upper()} phase diagram of the P = {spec.P} Hebbian network",
                               model=("Hopfield / Amit-Gutfreund-Sompolinsky (P = 2)" if spec.P == 2 else
                                      f"dense Hebbian network, P = {spec.P}, K = alpha N^{spec.P - 1}"),
                               competitor=("T_c compares retrieval with the lower of the spin glass and the "
                                           "paramagnet (the latter only where its entropy is >= 0)"),
                               root_xtol=lines.XTOL,
                               note="NaN marks points where a line does not exist (e.g. T_c for alpha > "
                                    "alpha_Tc_T0) or where its root could not be certified"))
    describe_variables(ds, {})  # every variable carries units and a long name
    return ds


RSB1_GRID_NOTE = ("the 1RSB capacity is computed upwards in T up to the first temperature where it is the RS "
                  "one (status rsb_merges_into_rs: the 1RSB branch ends on the AT-stable RS branch; or "
                  "rs_stable_at_capacity: RS is AT-stable at its capacity and no 1RSB retrieval solution was "
                  "found below it); the higher temperatures of the grid are not computed (NaN, status "
                  "not_computed, attrs rsb1_capacity_rejoins_rs_at_T): the RS capacity alpha_c(T) is "
                  "expected to hold there, as at that temperature, but no 1RSB solution was searched for")


def _add_rsb1(ds, spec, progress=False):
    """1RSB additions: alpha_c^1RSB(T) at low T (where RS is AT-unstable at its capacity), the 1RSB static
    spin-glass transition T_s(alpha) (P >= 3), and the T = 0 landmarks."""
    from . import lines_rsb1 as L1

    a_c_rs = float(ds["alpha_c_T0"])
    t_at = lines.T_AT(replace(spec, ansatz="rs"), 0.999 * a_c_rs) if np.isfinite(a_c_rs) else float("nan")
    t_top = 4.0 * t_at if np.isfinite(t_at) and t_at > 0 else 0.01
    Tr = np.linspace(0.0, t_top, 9)  # Tr[0] = 0: the zero-temperature capacity is the first point
    keys = ("alpha_c", "m_c", "q0", "q1", "x", "mu")
    caps, rejoined = [], None  # upwards in T until the 1RSB capacity is the RS one (see RSB1_GRID_NOTE)
    for t in _progress(Tr, progress, "1RSB capacity"):
        c = L1.capacity(spec, float(t)) if rejoined is None else None
        if c is not None and c.status in (Status.RSB_MERGES_INTO_RS, Status.RS_STABLE_AT_CAPACITY):
            rejoined = float(t)
        caps.append(c)
    vals = {k: np.array([np.nan if c is None else getattr(c, k) for c in caps], dtype=float) for k in keys}
    status = ["not_computed" if c is None else c.status.value for c in caps]
    ds = ds.assign_coords(T_rsb1=("T_rsb1", Tr, {"long_name": "temperature grid of the 1RSB capacity",
                                                 "units": "1"}))
    doc = {"alpha_c": "1RSB storage capacity alpha_c(T) (end of the 1RSB retrieval branch; the RS value where "
                      "RS is AT-stable at its capacity)", "m_c": "1RSB retrieval overlap at alpha_c(T)",
           "q0": "1RSB q0 at alpha_c(T)", "q1": "1RSB q1 at alpha_c(T)", "x": "Parisi x at alpha_c(T)",
           "mu": "beta x at alpha_c(T) (the T = 0 variable)"}
    for k in keys:
        ds[f"{k}_1rsb"] = ("T_rsb1", vals[k], {"long_name": doc[k], "units": "1"})
    ds["status_1rsb"] = ("T_rsb1", np.array(status, dtype=str), {"long_name": "1RSB capacity status",
                                                                  "not_computed": RSB1_GRID_NOTE})
    ds.attrs["rsb1_capacity_rejoins_rs_at_T"] = rejoined if rejoined is not None else float("nan")
    ds.attrs["quadrature_1rsb"] = ("composite Gauss-Legendre, split at the kink/boundary layer "
                                   "(theory.dense_rsb1, 32 nodes per panel)")
    ds.attrs["rsb1_solver"] = "theory.rsb1_solver: scan in mu = beta x, brentq on df/dmu, Newton polish"
    c0 = caps[0]
    ds["alpha_c_T0_1rsb"] = ((), c0.alpha_c, {"long_name": "zero-temperature 1RSB capacity", "units": "1"})
    if spec.P >= 3:
        sc = L1.spin_glass_scaling(spec)
        a = ds["alpha"].values
        ds["T_s_1rsb"] = ("alpha", sc["t_s"] * np.sqrt(a),
                          {"long_name": "1RSB static spin-glass transition T_s = t_s sqrt(alpha) (the x-stationary "
                                        "1RSB glass reaches x = 1)", "units": "1"})
        ds["e_sg_1rsb"] = ((), sc["e_sg"], {"long_name": "1RSB spin-glass ground-state energy / sqrt(alpha)",
                                            "units": "1"})
        rows = zip(_progress(a, progress, "1RSB T_c"), ds["T_M"].values, ds["T_c"].values, ds["T_AT"].values)
        tc = np.array([L1.T_c(spec, float(al), float(tm), float(tc_rs), float(t_at))
                       for al, tm, tc_rs, t_at in rows])
        ds["T_c_1rsb"] = ("alpha", tc, {"long_name": "1RSB T_c: retrieval is the global minimum below it "
                                                     "(against the 1RSB spin glass and the paramagnet)",
                                        "units": "1"})
        ds["alpha_Tc_T0_1rsb"] = ((), L1.alpha_Tc0(spec, c0.alpha_c),
                                  {"long_name": "load where the 1RSB retrieval and spin-glass ground states are "
                                                "degenerate", "units": "1"})
    return ds
