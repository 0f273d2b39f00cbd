"""The capacity, for every model family and ansatz, behind one call (``densehebb.capacity``)."""
from __future__ import annotations

from densehebb.theory import Model, Result


def capacity(model: Model, T: float = 0.0, mixture: int = 1, progress=None, errors: float | None = None,
             all_patterns: bool | None = None) -> Result:
    """Where retrieval ends, as a Result.

    * high storage, RS: alpha_c(T) and m_c, the fold of the retrieval branch (:func:`lines.capacity`);
      learning from examples (``model.examples``): the archetype state's alpha_c, m_c (archetype overlap)
      and n_c (class-mean overlap);
    * high storage, 1RSB: alpha_c(T), m_c and q0, q1, x, mu, C there, and alpha_c_rs
      (:func:`theory.rsb1_solver.capacity_rsb1`);
    * low storage (K finite): the spinodal and thermodynamic temperatures of the symmetric ``mixture``
      (1: Mattis states) and, for mixtures, T_stable (:func:`theory.low_storage.transitions`).

    * exponential / log-sum-exp interaction (K = exp(alpha N) patterns, ``model.lam``): the zero-temperature
      thresholds alpha_1 (typical pattern) and alpha_c (all patterns) of single-flip stability, or with
      ``errors`` = rho > 0 of the one-step basin (:func:`theory.exponential.thresholds`); ``all_patterns``
      selects which one is alpha_max.  T must be 0 and mixture 1.

    ``progress``: optional callback for one-line stage messages (the 1RSB continuation reports through it).
    """
    if model.interaction != "polynomial":
        if T != 0 or mixture != 1:
            raise ValueError(f"capacity with the {model.interaction} interaction: zero-temperature thresholds "
                             "only (T = 0, mixture = 1)")
        from densehebb.theory.exponential import thresholds

        return thresholds(model, 0.0 if errors is None else float(errors), bool(all_patterns))
    if errors is not None or all_patterns is not None:
        raise ValueError("errors and all_patterns apply to the exponential / log-sum-exp interaction only "
                         "(Model(interaction=..., lam=...))")
    if model.examples is not None:
        model.replace(examples=None).require_plain("capacity")    # dilution still refused
        if model.ansatz != "rs":
            raise NotImplementedError("capacity: learning from examples is replica symmetric only (ansatz='rs')")
        if model.storage == "low" or mixture != 1:
            raise ValueError("capacity with examples: high storage (alpha_c of the archetype state) only")
    elif model.dilution and model.storage == "low":
        # diluted patterns, K finite: the pure (retrieval) state's transitions (theory.multitask)
        model.require_plain("capacity", dilution=True)
        if mixture != 1:
            raise ValueError("capacity with dilution: the pure state's transitions only (mixture = 1); other "
                             "states: densehebb.solve(model, T=..., K=..., state=...)")
        from densehebb.theory.multitask import transitions as multitask_transitions

        return multitask_transitions(model)
    else:
        # diluted patterns at high storage: the RS pure state (theory.multitask_high), through the fold below
        model.require_plain("capacity", dilution=model.storage == "high" and model.ansatz == "rs")
    if model.storage == "low":
        import dataclasses

        from densehebb.theory.low_storage import stability_temperature, transitions

        tr = transitions(model, mixture)
        if mixture > 1:
            tr = dataclasses.replace(tr, values=dict(tr.values, T_stable=stability_temperature(model, mixture)))
        return tr
    if mixture != 1:
        raise ValueError("mixture applies to low storage only (Model(storage='low'))")
    if not (T >= 0 and T == T and T != float("inf")):
        raise ValueError(f"T must be finite and >= 0, got {T!r}")
    if model.ansatz == "1rsb":
        from densehebb.theory.rsb1_solver import capacity_rsb1

        return capacity_rsb1(model, float(T), progress=progress)
    from .lines import capacity as capacity_rs

    return capacity_rs(model, float(T))
