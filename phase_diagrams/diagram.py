"""The (alpha, T) phase diagram as an xarray Dataset."""
from __future__ import annotations

import numpy as np
import xarray as xr

from theory import ModelSpec

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


def _progress(it, enabled, desc):
    if not enabled:
        return it
    from tqdm import tqdm

    return tqdm(it, desc=desc, leave=False)


def default_grids(spec: ModelSpec):
    """alpha and T grids that cover the retrieval region of P (loads and temperatures scale with P!)."""
    if spec.P == 2:
        return DEFAULT_ALPHAS, DEFAULT_TS
    from theory.low_storage import transitions

    a_c = lines.capacity(spec, 0.0)["alpha_c"]
    t_sp = transitions(spec.P)["T_spinodal"]
    fr = np.concatenate([[0.002, 0.005, 0.01, 0.02, 0.035], np.linspace(0.05, 0.95, 19), [0.98, 0.995]])
    return a_c * fr, np.linspace(0.0, 0.98 * t_sp, 36)


def phase_diagram(spec: ModelSpec | None = None, alphas=None, Ts=None, progress=False) -> xr.Dataset:
    """Transition lines T_g, T_M, T_c, T_AT along alpha and the capacity alpha_c(T), m_c(T) along T."""
    spec = spec or ModelSpec()
    da, dt = default_grids(spec) if alphas is None or Ts is None else (None, None)
    alphas = np.asarray(da if alphas is None else alphas, dtype=float)
    Ts = np.asarray(dt if Ts is None else Ts, dtype=float)
    if np.any(alphas <= 0) or np.any(Ts < 0):
        raise ValueError("alphas must be > 0 and Ts >= 0")
    out = {k: np.full(alphas.shape, np.nan) for k in LINE_DOC}
    for i, a in enumerate(_progress(alphas, progress, "lines")):
        out["T_g"][i] = lines.T_g(spec, a)
        tm = lines.T_M(spec, a)
        out["T_M"][i] = tm
        out["T_c"][i] = lines.T_c(spec, a, tm)
        out["T_AT"][i] = lines.T_AT(spec, a, tm)
    ac = np.full(Ts.shape, np.nan)
    mc = np.full(Ts.shape, np.nan)
    atc = np.full(Ts.shape, np.nan)
    for j, t in enumerate(_progress(Ts, progress, "capacity")):
        c = lines.capacity(spec, t)
        ac[j], mc[j] = c["alpha_c"], c["m_c"]
        atc[j] = lines.alpha_Tc(spec, t, c["alpha_c"])
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
    ds["alpha_c_T0"] = ((), c0["alpha_c"], {"long_name": "zero-temperature capacity", "units": "1"})
    ds["m_c_T0"] = ((), c0["m_c"], {"long_name": "retrieval overlap at the T = 0 capacity", "units": "1"})
    ds["alpha_Tc_T0"] = ((), a_tc0, {"long_name": "load where T_c meets T = 0", "units": "1"})
    if spec.P >= 3:
        ds["T_g"].attrs["long_name"] = ("spin-glass transition: RS spin-glass solution appears (spinodal; "
                                        "discontinuous for P >= 3)")
    ds.attrs.update(provenance(spec, title=f"RS phase diagram of the P = {spec.P} Hebbian network",
                               model=("Hopfield / Amit-Gutfreund-Sompolinsky (P = 2)" if spec.P == 2 else
                                      f"dense Hebbian network, P = {spec.P}, K = alpha N^{spec.P - 1}"),
                               competitor=("T_c compares retrieval with the lower of the spin glass and the "
                                           "paramagnet (the latter only where its entropy is >= 0)"),
                               root_xtol=lines.XTOL,
                               note="NaN marks points where a line does not exist (e.g. T_c for alpha > "
                                    "alpha_Tc_T0) or where its root could not be certified"))
    return ds
