"""Summaries of Monte Carlo Datasets, built from :class:`montecarlo.stats.Stats` records:
:func:`summarize` and :func:`equilibration` (simulate), :func:`summarize_anneal` (anneal).  NumPy only."""
from __future__ import annotations

import math

import numpy as np

from .stats import Stats, estimate

CHAIN_OBSERVABLES = ("m", "m_abs", "m_max", "energy")
EXAMPLE_OBSERVABLES = ("n", "x_max", "x_mean")     # learning from examples, where the Dataset has them
PAIR_OBSERVABLES = ("q", "q_abs")


def _chain_observables(ds_t):
    return CHAIN_OBSERVABLES + tuple(k for k in EXAMPLE_OBSERVABLES if k in ds_t)


def statistics_at(ds_t) -> dict:
    """:class:`Stats` of every observable at one temperature (a ``ds.isel(T=k)`` slice of a simulate
    Dataset): ``{name: Stats}`` for m, m_abs, m_max, energy, q, q_abs (m and energy carry their tau_int)."""
    n_s, n_r = ds_t.sizes["sample"], ds_t.sizes["replica"]
    out = {}
    for name in _chain_observables(ds_t):
        v = ds_t[name].values                                   # (S, R)
        b = ds_t[name + "_blocks"].values                       # (S, R, B)
        if n_s >= 2:   # disorder samples are the independent units (replicas averaged within a sample)
            s = estimate(v.mean(axis=1), b.mean(axis=1))._replace(method="samples")
        elif n_r >= 2:
            s = estimate(v.ravel(), b.reshape(n_r, -1))._replace(method="replicas (one sample: thermal error only)")
        else:
            s = estimate(v.ravel(), b.reshape(1, -1))
        tau = "tau_" + name
        out[name] = s._replace(tau_int=float(ds_t[tau])) if tau in ds_t else s
    for name in PAIR_OBSERVABLES:
        s = estimate(ds_t[name].values, ds_t[name + "_blocks"].values)
        out[name] = s._replace(method="samples") if s.method == "independent" else s
    return out


def _level_stats(ds_t) -> list:
    """:class:`Stats` of each level k of ``levels`` (the k-th largest |m_mu|), the same units as m."""
    n_s, n_r = ds_t.sizes["sample"], ds_t.sizes["replica"]
    v_all = ds_t["levels"].transpose("sample", "replica", "level").values              # (S, R, K)
    b_all = ds_t["levels_blocks"].transpose("sample", "replica", "level", "block").values
    out = []
    for k in range(v_all.shape[-1]):
        v, b = v_all[..., k], b_all[..., k, :]
        if n_s >= 2:
            s = estimate(v.mean(axis=1), b.mean(axis=1))._replace(method="samples")
        elif n_r >= 2:
            s = estimate(v.ravel(), b.reshape(n_r, -1))._replace(method="replicas (one sample: thermal error only)")
        else:
            s = estimate(v.ravel(), b.reshape(1, -1))
        out.append(s)
    return out


def condensed_threshold(ds) -> float:
    """Default threshold above which a time-averaged level counts as condensed: 5 sqrt((1 - d)/N), five
    times the typical |m_mu| of a pattern the state does not retrieve (in the Dataset's overlap units)."""
    d = float(ds.attrs.get("dilution", 0.0))
    t = 5.0 * math.sqrt((1.0 - d) / float(ds.attrs["N"]))
    return t / (1.0 - d) if ds.attrs.get("overlaps") == "normalised" else t


def _levels_summary(ds_t, threshold) -> dict:
    """m_levels, m_levels_err (lists over k = 1..K), and how many chains end with j = 0..K condensed
    levels (time-averaged level above ``threshold``): n_condensed_counts[j]."""
    st = _level_stats(ds_t)
    v = ds_t["levels"].values.reshape(-1, ds_t.sizes["level"])                          # (chains, K)
    n_cond = (v > threshold).sum(axis=-1)
    counts = [int(c) for c in np.bincount(n_cond, minlength=v.shape[-1] + 1)]
    return {"m_levels": [x.mean for x in st], "m_levels_err": [x.error for x in st],
            "error_method_levels": st[0].method, "condensed_threshold": float(threshold),
            "n_condensed_counts": counts, "levels_stats": st}


def _summary_at(ds_t, threshold=None) -> dict:
    """Summary dict for one temperature slice of a simulate Dataset."""
    st = statistics_at(ds_t)
    n_s, n_r = ds_t.sizes["sample"], ds_t.sizes["replica"]
    out = {"T": float(ds_t["T"]), "n_chains": int(n_s * n_r), "n_samples": int(n_s)}
    for name in _chain_observables(ds_t):
        out.update(st[name].to_dict(name))
    out["error_method_chains"] = st["energy"].method
    for name in PAIR_OBSERVABLES:
        out.update(st[name].to_dict(name))
    out["error_method_q"] = st["q"].method
    out["acceptance"] = float(ds_t["acceptance"].values.mean())
    for name in ("energy", "m"):
        out["tau_" + name] = float(ds_t["tau_" + name])
        out["tau_" + name + "_reliable"] = bool(ds_t["tau_" + name + "_reliable"])
    out["stats"] = st
    if "levels" in ds_t:
        out.update(_levels_summary(ds_t, threshold))
    return out


def equilibration(ds, k=None):
    """Equilibration diagnostics at temperature index ``k`` (all temperatures if None).

    For each temperature: tau (the larger integrated autocorrelation time of energy and m, in sweeps),
    burn_in_over_tau, measured_over_tau ((sweeps - burn_in) / tau, the number of independent
    measurements is about half of it), drift_z (difference of the chain-averaged energy between the
    second and first half of the measurement phase, in standard errors over chains; ``drift`` is that
    difference as a :class:`Stats`) and ``equilibrated``: tau estimates reliable, burn-in >= 10 tau,
    measurement >= 50 tau and |drift_z| < 3.
    """
    out = {}
    sweeps, burn_in = int(ds.attrs["sweeps"]), int(ds.attrs["burn_in"])
    ks = range(ds.sizes["T"]) if k is None else [k]
    for i in ks:
        d = ds.isel(T=i)
        tau_vals = [float(d["tau_energy"]), float(d["tau_m"])]
        finite = [t for t in tau_vals if math.isfinite(t)]
        reliable = all(bool(d["tau_" + n + "_reliable"]) or not math.isfinite(float(d["tau_" + n]))
                       for n in ("energy", "m"))
        tau = max(finite) if finite else math.nan
        eb = d["energy_blocks"].values.reshape(-1, d.sizes["block"])
        B = eb.shape[1]
        if B >= 2 and eb.shape[0] >= 2:
            diff = eb[:, B // 2:].mean(axis=1) - eb[:, : B // 2].mean(axis=1)
            se = diff.std(ddof=1) / math.sqrt(diff.size)
            drift = Stats(float(diff.mean()), float(se), math.nan, "independent")
            z = float(diff.mean() / se) if se > 0 else (0.0 if diff.mean() == 0 else math.inf)
        else:
            drift = Stats(math.nan, math.nan, math.nan, "unavailable")
            z = math.nan
        frozen = not finite  # no fluctuations at all (e.g. T = 0 fixed points)
        eq = frozen or (reliable and burn_in >= 10 * tau and (sweeps - burn_in) >= 50 * tau
                        and (not math.isfinite(z) or abs(z) < 3))
        out[float(d["T"])] = {"tau": tau, "tau_reliable": reliable,
                              "burn_in_over_tau": burn_in / tau if finite and tau > 0 else math.inf,
                              "measured_over_tau": (sweeps - burn_in) / tau if finite and tau > 0 else math.inf,
                              "drift": drift, "drift_z": z, "equilibrated": bool(eq)}
    return out if k is None else out[next(iter(out))]


def summarize(ds, threshold=None):
    """Disorder- and chain-averaged estimates with standard errors, per temperature.

    Returns, for a dataset with a single temperature, a flat dict; otherwise ``{T: dict}`` keyed by the
    float temperature.  Each dict holds T, n_chains, n_samples, m, m_err, m_abs, m_abs_err, m_max,
    m_max_err, (learning from examples: n, n_err, and unsupervised x_max, x_mean with errors), q, q_err,
    q_abs, q_abs_err, energy, energy_err, acceptance (mean over chains), tau_energy,
    tau_m (integrated autocorrelation times in sweeps) and their reliability, the equilibration
    diagnostics of :func:`equilibration` (``equilibrated``, ``drift_z``, ...), with tempering
    ``swap_acceptance_up`` (acceptance of swaps with the next higher temperature), ``round_trips`` (tempering
    round trips lowest T -> highest T -> lowest T in the measurement phase, all ladders) and
    ``round_trips_min_per_ladder`` (the fewest of one (sample, replica) ladder), ``m_min`` for a constrained
    (in-basin) run (``simulate(m_min=...)``), and ``stats``: the
    :class:`Stats` record of every observable (the ``x``, ``x_err`` entries are its mean and error).

    Errors (standard errors of the mean) come from disorder samples:

    * m, m_abs, m_max, energy: with n_samples >= 2 the replica-averaged value of each sample is one
      independent unit ("samples"); with a single sample the replicas are the units (thermal error only);
      with a single chain, blocking over time.
    * q, q_abs: one value per disorder sample (replicas 0 and 1), SE over samples.

    With the sorted overlaps (``levels`` in the Dataset; diluted patterns): ``m_levels`` and ``m_levels_err``,
    the lists over k = 1..K of the k-th largest |m_mu| (sorted in each measurement, time-averaged, then
    averaged over chains level by level; errors as for m), ``levels_stats`` their :class:`Stats`, and
    ``n_condensed_counts[j]``: how many chains have j = 0..K time-averaged levels above ``threshold``
    (default :func:`condensed_threshold`, 5 sqrt((1 - d)/N)), ``condensed_threshold`` the value used.
    """
    out = {}
    eq = equilibration(ds)
    for k, t in enumerate(ds["T"].values):
        d = _summary_at(ds.isel(T=k), condensed_threshold(ds) if threshold is None else float(threshold))
        e = eq[float(t)]
        d.update(equilibrated=e["equilibrated"], drift_z=e["drift_z"], burn_in_over_tau=e["burn_in_over_tau"],
                 measured_over_tau=e["measured_over_tau"])
        if "swap_acceptance" in ds and k < ds.sizes["T"] - 1 and int(ds.attrs.get("tempering", 0)):
            d["swap_acceptance_up"] = float(ds["swap_acceptance"].values[k])
        if "m_min" in ds.attrs:         # constrained (in-basin) run
            d["m_min"] = float(ds.attrs["m_min"])
        if "round_trips" in ds:
            d["round_trips"] = int(ds["round_trips"].values.sum())
            d["round_trips_min_per_ladder"] = int(ds["round_trips"].values.min())
        out[float(t)] = d
    if ds.sizes["T"] == 1:
        return out[next(iter(out))]
    return out


def summarize_anneal(ds, threshold=0.5):
    """Per stage of an :func:`montecarlo.anneal.anneal` Dataset: T, :class:`Stats` of m, m_abs, m_max,
    energy (disorder samples as independent units, replicas averaged within a sample; one sample: the
    replicas) and the fraction of chains with m_max >= ``threshold`` (``retrieved``).  A list of dicts."""
    n_s = ds.sizes["sample"]
    rows = []
    for i in range(ds.sizes["step"]):
        d = ds.isel(step=i)
        row = {"T": float(d["T"])}
        for name in CHAIN_OBSERVABLES:
            v = d[name].transpose("sample", "replica").values
            s = estimate(v.mean(axis=1)) if n_s >= 2 else estimate(v.ravel())
            row[name] = s._replace(method="samples" if n_s >= 2 else "replicas (one sample)")
        row["retrieved"] = float((d["m_max"].values >= threshold).mean())
        rows.append(row)
    return rows


def energy_histogram(ds, k=0, bins=60, range=None, chains=None) -> dict:
    """Histogram of the measured energy per neuron H/N at temperature index ``k`` of a simulate Dataset run
    with ``timeseries=True`` (every measurement of the measurement phase, all chains pooled, or only the
    (sample, replica) chains where the boolean array ``chains`` is true).

    ``bins``, ``range``: as :func:`numpy.histogram` (an int, or the bin edges).  Returns a dict: edges,
    centres, density (normalised, sum(density * width) = 1 over the values inside the edges), counts,
    n (values histogrammed), n_outside (values outside the edges), mean and std (of the pooled values, so
    ``mean`` is the chain average of the Dataset's time-averaged ``energy``), T.  The time series values are
    exact: at small N the distinct energy levels can be histogrammed one per bin (exact-enumeration check,
    tests/test_mc_energy_histogram.py)."""
    if "energy_t" not in ds:
        raise ValueError("energy_histogram needs a Dataset of simulate(..., timeseries=True) (no energy_t)")
    e = ds["energy_t"].isel(T=k).transpose("sample", "replica", "sweep").values
    if chains is not None:
        sel = np.asarray(chains, bool)
        if sel.shape != e.shape[:2]:
            raise ValueError(f"chains must have shape (sample, replica) = {e.shape[:2]}, got {sel.shape}")
        e = e[sel]
    e = e.ravel()
    if e.size == 0:
        return None
    counts, edges = np.histogram(e, bins=bins, range=range)
    width = np.diff(edges)
    inside = int(counts.sum())
    density = counts / (inside * width) if inside else np.zeros_like(width)
    return {"T": float(ds["T"].values[k]), "edges": edges.tolist(), "centres": (0.5 * (edges[1:] + edges[:-1])).tolist(),
            "density": density.tolist(), "counts": counts.astype(int).tolist(), "n": int(e.size),
            "n_outside": int(e.size - inside), "mean": float(e.mean()), "std": float(e.std())}


def overlap_distribution(ds, k=0, samples=None) -> dict:
    """P(q) at temperature index ``k``: the Dataset's histogram ``P_q`` (overlap q of the disjoint replica pairs
    (0,1), (2,3), ..., every measurement) averaged over the disorder samples (or those where the boolean
    array ``samples`` is true).  With ``init="pattern"`` every replica starts at pattern 0, so in the
    retrieval state q is the overlap of two replicas inside the same retrieval basin.  Returns q_center,
    P_q (sums to 1), q_mean (from the histogram), q (the time-averaged q of replicas 0, 1 per sample), T."""
    Pq = ds["P_q"].isel(T=k).transpose("sample", "q_bin").values
    qs = ds["q"].isel(T=k).values
    if samples is not None:
        sel = np.asarray(samples, bool)
        Pq, qs = Pq[sel], qs[sel]
    if Pq.shape[0] == 0:
        return None
    p = Pq.mean(axis=0)
    p = p / p.sum() if p.sum() > 0 else p
    qc = ds["q_center"].values
    return {"T": float(ds["T"].values[k]), "q_center": qc.tolist(), "P_q": p.tolist(),
            "q_mean": float((qc * p).sum()), "q": [float(v) for v in qs]}
