"""The xarray Datasets of the Monte Carlo: simulate, anneal (heating / cooling) and capacity runs.

One convention for all of them (docs/conventions.md): provenance attributes from
:func:`densehebb.theory.provenance.dataset_attrs` (package, version from the package metadata, the Model,
the command, the creation time) plus the run's own parameters (N, K, seed, dynamics, ...), and CF
``units`` / ``long_name`` on every variable and coordinate
(:func:`densehebb.theory.provenance.describe_variables`).  Chain variables have the engine's axis order
(sample, T, replica) -- (sample, step, replica) for anneal.
"""
from __future__ import annotations

import warnings

import jax
import numpy as np
import xarray as xr

from densehebb.theory import provenance

from .stats import acf_from_sums, tau_int

ONE = {"units": "1"}
TEMPERATURE_UNITS = "coupling units"
_M = "Mattis overlap with the condensed pattern, m = (1/N) sum_i xi_i sigma_i, time average"
_EN = {"long_name": "energy per neuron H/N, time average", "units": "coupling units per neuron"}

#: units and long names of the Monte Carlo variables not described where they are made
TABLE = {
    "N": ("1", "number of neurons"), "alpha": ("1", "load K / N^(P-1)"),
    "sample": ("1", "disorder sample (pattern set) index"), "replica": ("1", "replica index (independent chain)"),
    "T": (TEMPERATURE_UNITS, "temperature T = 1/beta (k_B = 1)"),
}


def attrs(model, module: str, **run) -> dict:
    """Provenance attributes of a Monte Carlo Dataset: the standard ones for ``model`` and the run's
    parameters.  (The Model's ``ansatz`` is a theory setting and is not recorded for simulations.)"""
    a = provenance.dataset_attrs(model, module=module, **run)
    a.pop("ansatz", None)
    a.setdefault("jax_version", jax.__version__)
    return a


def finish(ds: xr.Dataset) -> xr.Dataset:
    """Units and long names on every variable and coordinate."""
    provenance.describe_variables(ds, TABLE)
    return ds


# ------------------------------------------------------------------------------------------- simulate
def simulate_dataset(cfg, plan, temps, n_samples, n_meas, measure_every, burn_in, chains, acc, attrs):
    """The Dataset returned by :func:`montecarlo.run.simulate` (engine layout (sample, T, replica))."""
    N, B = cfg.N, plan.n_blocks
    block_size = np.bincount((np.arange(n_meas) * B) // n_meas, minlength=B)
    blocks = {k: np.asarray(v) for k, v in acc["blocks"].items()}
    means = {k: v.sum(axis=-1) / n_meas for k, v in blocks.items()}
    per_block = {k: v / block_size for k, v in blocks.items()}
    n_pairs = cfg.n_R // 2
    if n_pairs == 0:
        for k in ("q", "q_abs"):
            means[k] = np.full(means[k].shape, np.nan)
            per_block[k] = np.full(per_block[k].shape, np.nan)
    n_attempts = N * n_meas * measure_every
    acceptance = (np.asarray(chains.accepted) - np.asarray(acc["acc0"])) / n_attempts

    chain = ("sample", "T", "replica")
    pair = ("sample", "T")
    coords = {
        "T": ("T", temps, {"long_name": "temperature T = 1/beta (k_B = 1)", "units": TEMPERATURE_UNITS}),
        "sample": ("sample", np.arange(n_samples), {"long_name": "disorder sample (pattern set) index", **ONE}),
        "replica": ("replica", np.arange(cfg.n_R), {"long_name": "replica index (independent chain)", **ONE}),
        "block": ("block", np.arange(B), {"long_name": "time block of the measurement phase", **ONE}),
        "block_size": ("block", block_size, {"long_name": "measurements per time block", **ONE}),
        "pattern": ("pattern", np.arange(plan.n_track), {"long_name": "pattern (archetype) index mu", **ONE}),
        "target_pattern": ("replica", np.asarray(plan.targets),
                           {"long_name": "condensed pattern of the Mattis overlap m", **ONE}),
    }
    mattis = {"long_name": _M, **ONE}
    mattis_abs = {"long_name": "|Mattis overlap with the condensed pattern|, time average", **ONE}
    mmax = {"long_name": "max over patterns of |m_mu|, time average", **ONE}
    qq = {"long_name": "two-replica overlap q = (1/N) sum_i sigma^0_i sigma^1_i, time average", **ONE}
    qa = {"long_name": "|two-replica overlap q|, time average", **ONE}
    blk = " within each time block"
    data = {
        "m": (chain, means["m"], mattis), "m_abs": (chain, means["m_abs"], mattis_abs),
        "m_max": (chain, means["m_max"], mmax), "energy": (chain, means["energy"], _EN),
        "acceptance": (chain, acceptance,
                       {"long_name": "accepted / attempted flips in the measurement phase", **ONE}),
        "q": (pair, means["q"], qq), "q_abs": (pair, means["q_abs"], qa),
        "mattis": (chain + ("pattern",), np.asarray(acc["mattis"]) / n_meas,
                   {"long_name": "Mattis overlaps m_mu with patterns mu = 0..n_track-1, time average", **ONE}),
    }
    extra = []
    if "n" in blocks:   # learning from examples (montecarlo.learning)
        extra = [("n", {"long_name": "class-mean overlap of the condensed class, n = (1/(r N)) sum_i xibar_i "
                                     "sigma_i, time average", **ONE}),
                 ("x_max", {"long_name": "largest example overlap x_a = (1/N) sum_i eta^a_i sigma_i of the "
                                         "condensed class, time average", **ONE}),
                 ("x_mean", {"long_name": "mean over a of the example overlaps x_a of the condensed class, "
                                          "time average", **ONE})]
        extra = [(k, a) for k, a in extra if k in blocks]
        for name, att in extra:
            data[name] = (chain, means[name], att)
    for name, att, dims in (("m", mattis, chain), ("m_abs", mattis_abs, chain), ("m_max", mmax, chain),
                            ("energy", _EN, chain), ("q", qq, pair), ("q_abs", qa, pair),
                            *((k, a, chain) for k, a in extra)):
        data[name + "_blocks"] = (dims + ("block",), per_block[name],
                                  {**att, "long_name": att["long_name"] + blk})

    if "levels" in acc:   # multitasking: |m_mu| sorted descending per measurement, level by level
        lv = np.asarray(acc["levels"])                                          # (S, T, R, K, B)
        coords["level"] = ("level", np.arange(1, lv.shape[-2] + 1),
                           {"long_name": "rank k of |m_mu| in each measurement (1: the largest)", **ONE})
        latt = {"long_name": "k-th largest |m_mu| (sorted descending in each measurement), time average", **ONE}
        data["levels"] = (chain + ("level",), lv.sum(axis=-1) / n_meas, latt)
        data["levels_blocks"] = (chain + ("level", "block"), lv / block_size,
                                 {**latt, "long_name": latt["long_name"] + blk})

    # P(q): histogram over all replica pairs and measurements
    nb = plan.q_bins
    j = np.arange(N + 1)
    b_of_j = (j * nb) // (N + 1)
    q_vals = (2 * j - N) / N
    centers = np.array([q_vals[b_of_j == b].mean() if np.any(b_of_j == b) else np.nan for b in range(nb)])
    lo = np.array([q_vals[b_of_j == b].min() if np.any(b_of_j == b) else np.nan for b in range(nb)])
    hi = np.array([q_vals[b_of_j == b].max() if np.any(b_of_j == b) else np.nan for b in range(nb)])
    counts = np.asarray(acc["qhist"])
    tot = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        Pq = np.where(tot > 0, counts / np.maximum(tot, 1), np.nan)
    coords["q_bin"] = ("q_bin", np.arange(nb), {"long_name": "P(q) histogram bin", **ONE})
    coords["q_center"] = ("q_bin", centers, {"long_name": "mean overlap value in the bin", **ONE})
    coords["q_low"] = ("q_bin", lo, {"long_name": "smallest overlap value in the bin", **ONE})
    coords["q_high"] = ("q_bin", hi, {"long_name": "largest overlap value in the bin", **ONE})
    data["P_q"] = (pair + ("q_bin",), Pq, {"long_name": "P(q): fraction of replica-pair measurements with q "
                                                      "in the bin (pairs (0,1), (2,3), ...)", **ONE})
    data["q_counts"] = (pair + ("q_bin",), counts, {"long_name": "replica-pair measurements per q bin", **ONE})

    # autocorrelation (per T, averaged over chains) and integrated times
    L = plan.max_lag
    coords["lag"] = ("lag", np.arange(L + 1) * measure_every, {"long_name": "lag in sweeps", "units": "sweeps"})
    for name, total in (("energy", blocks["energy"].sum(-1)), ("m", blocks["m"].sum(-1))):
        a = {k: np.asarray(v) for k, v in acc["acf_" + name].items()}
        C = np.moveaxis(acf_from_sums(a, total, n_meas, L), 1, 0)     # (T, S, R, L+1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)            # lags beyond the run: all NaN
            Cbar = np.nanmean(C.reshape(C.shape[0], -1, L + 1), axis=1)
        rho = np.full(Cbar.shape, np.nan)
        tau = np.full(Cbar.shape[0], np.nan)
        ok = np.zeros(Cbar.shape[0], bool)
        for t in range(Cbar.shape[0]):
            if np.isfinite(Cbar[t, 0]) and Cbar[t, 0] > 1e-300:
                rho[t] = Cbar[t] / Cbar[t, 0]
                tau_t, _, ok[t] = tau_int(rho[t])
                tau[t] = tau_t * measure_every
        data["acf_" + name] = (("T", "lag"), rho, {"long_name": f"normalised autocorrelation of {name}, "
                                                                "averaged over chains", **ONE})
        data["tau_" + name] = (("T",), tau, {"long_name": f"integrated autocorrelation time of {name} "
                                                         "(Sokal: 1/2 + sum of rho, window c = 6)", "units": "sweeps"})
        data["tau_" + name + "_reliable"] = (("T",), ok.astype(np.int8),
                                             {"long_name": "1 if the automatic window closed within max_lag",
                                              **ONE})

    # parallel tempering
    if cfg.n_T > 1:
        att = np.asarray(acc["swap_attempts"]).sum(axis=(0, 2)) if plan.tempering else np.zeros(cfg.n_T - 1)
        ok = np.asarray(acc["swap_accepted"]).sum(axis=(0, 2)) if plan.tempering else np.zeros(cfg.n_T - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(att > 0, ok / np.maximum(att, 1), np.nan)
        coords["T_pair"] = ("T_pair", np.arange(cfg.n_T - 1), {"long_name": "pair of neighbouring temperatures", **ONE})
        coords["T_low"] = ("T_pair", temps[:-1], {"long_name": "lower temperature of the pair",
                                                  "units": TEMPERATURE_UNITS})
        coords["T_high"] = ("T_pair", temps[1:], {"long_name": "higher temperature of the pair",
                                                  "units": TEMPERATURE_UNITS})
        data["swap_acceptance"] = (("T_pair",), rate, {"long_name": "replica-exchange acceptance rate", **ONE})
        data["swap_attempts"] = (("T_pair",), att.astype(np.int64), {"long_name": "replica-exchange attempts", **ONE})
        if "round_trips" in acc:
            rt = np.asarray(acc["round_trips"])[:n_samples]                        # (S, walker, R)
            data["round_trips"] = (("sample", "replica"), rt.sum(axis=1),
                                   {"long_name": "tempering round trips (lowest T -> highest T -> lowest T) "
                                                 "completed in the measurement phase by the walkers of the "
                                                 "ladder, summed over its walkers", **ONE})
            data["walker_round_trips"] = (("sample", "walker", "replica"), rt,
                                          {"long_name": "tempering round trips of each walker (walker = its "
                                                        "starting temperature slot) in the measurement phase",
                                           **ONE})

    if plan.series_len:
        s = {k: np.asarray(v) for k, v in acc["series"].items()}
        coords["sweep"] = ("sweep", burn_in + (np.arange(n_meas) + 1) * measure_every,
                           {"long_name": "sweeps completed at the measurement", "units": "sweeps"})
        data["m_t"] = (chain + ("sweep",), s["m"], {**mattis, "long_name": "Mattis overlap m, time series"})
        data["energy_t"] = (chain + ("sweep",), s["energy"], {**_EN, "long_name": "energy per neuron, time series"})
        q_t = s["q"] if n_pairs else np.full(s["q"].shape, np.nan)
        data["q_t"] = (pair + ("sweep",), q_t, {**qq, "long_name": "overlap q of replicas 0 and 1, time series"})
    return finish(xr.Dataset(data_vars=data, coords=coords, attrs=attrs))


# --------------------------------------------------------------------------------------------- anneal
def anneal_dataset(temps, n_samples, n_replicas, measure, rows, attrs):
    """The Dataset of :func:`montecarlo.anneal.anneal`: rows = per stage dicts of (S, R) arrays (sums over
    the measured sweeps, and ``m_max_final``)."""
    dims = ("sample", "step", "replica")
    stack = lambda name: np.stack([np.asarray(r[name])[:n_samples] for r in rows], axis=1)  # noqa: E731
    data = {
        "m": (dims, stack("m0") / measure, {"long_name": "Mattis overlap with pattern 0, time average", **ONE}),
        "m_abs": (dims, stack("m_abs") / measure, {"long_name": "|Mattis overlap with pattern 0|, time average",
                                                   **ONE}),
        "m_max": (dims, stack("m_max") / measure, {"long_name": "max over patterns of |m_mu|, time average", **ONE}),
        "m_max_final": (dims, stack("m_max_final"), {"long_name": "max over patterns of |m_mu| at the end of the "
                                                                  "stage", **ONE}),
        "energy": (dims, stack("energy") / measure, _EN),
    }
    coords = {"step": ("step", np.arange(temps.size), {"long_name": "stage of the schedule", **ONE}),
              "T": ("step", temps, {"long_name": "temperature T = 1/beta of the stage", "units": TEMPERATURE_UNITS}),
              "sample": ("sample", np.arange(n_samples), {"long_name": "disorder sample", **ONE}),
              "replica": ("replica", np.arange(n_replicas), {"long_name": "replica (independent chain)", **ONE})}
    return finish(xr.Dataset(data, coords=coords, attrs=attrs))


# ------------------------------------------------------------------------------------------- capacity
def capacity_dataset(Ns, alphas, out, attrs):
    """The Dataset of :func:`montecarlo.capacity.capacity_curve` (out: one :func:`run_size` dict per N)."""
    ds = xr.Dataset(
        {"m_final": (("N", "alpha", "sample", "start"), np.stack([o["m_final"] for o in out]),
                     {"long_name": "final Mattis overlap with the starting pattern", **ONE}),
         "converged": (("N", "alpha", "sample", "start"), np.stack([o["converged"] for o in out]),
                       {"long_name": "fixed point reached (T = 0)", **ONE}),
         "K": (("N", "alpha"), np.stack([o["K"] for o in out]), {"long_name": "patterns", **ONE}),
         "sweeps": (("N",), np.asarray([o["sweeps"] for o in out]), {"long_name": "sweeps run", "units": "sweeps"})},
        coords={"N": ("N", np.asarray(Ns), {"long_name": "neurons", **ONE}),
                "alpha": ("alpha", alphas, {"long_name": "load K / N^(P-1)", **ONE})},
        attrs=attrs)
    return finish(ds)
