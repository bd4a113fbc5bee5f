"""SAP section 6 on the warehouse: read the analysis population (sql/comparison/*.sql), run the pure modules,
write the tables of schema `comparison`. No Dagster here; assets/comparison.py wraps each build_* function.

Tables (rebuilt in full each time):
    propensity            patient-level score, preference score and weight (never published)
    cohort                the analysis population with score and weight, in row order (the later steps' input)
    propensity_inputs     one row: the scheme and truncation the stored weights were computed with
    propensity_model      coefficient and SE per term; dropped constant covariates; imputed values
    balance               SMD before/after and means per covariate as entered in the model
    balance_summary       one row: weights, max |SMD| after, gate, equipoise, ESS and n per arm
    adjusted_estimates    every estimate, adjusted and unadjusted, with balance_achieved
    adjusted_km           weighted and unweighted KM per arm at the reporting days (both time-to-event outcomes)
    adjusted_km_curve     the whole weighted KM curve per arm
    e_value               the E-value of the adjusted reintervention HR and of its CI limit nearest 1
    subgroups             forest-plot rows

Numbers the data cannot give (SAP 9) do not fail a step: propensity_weights stores the cohort without
weights and the reason in propensity_inputs.not_estimable (no patients, one arm, fewer patients in an arm
than the suppression threshold, separation); every later step then stores what it can (the unadjusted rows,
empty tables with their columns) and returns its `Gap`s (results.json member, plain reason), which the asset
records (pipeline/estimable.py). Every table keeps its columns and types whatever the data (TYPES).
"""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd

from pipeline.comparison import reasons
from pipeline.comparison.balance import BalanceGate, preference_score
from pipeline.comparison.bootstrap import bootstrap_intervals
from pipeline.comparison.cohort import (
    change_differences,
    check_inputs,
    load_changes_of,
    load_cohort,
    load_data,
    load_input,
    model_terms,
    reintervention_times,
    truncation_label,
    write_cohort,
)
from pipeline.comparison.estimates import ESTIMATE_COLUMNS, estimates_table, is_ratio, point_estimates
from pipeline.comparison.evalue import COMMON_OUTCOME, evalue_hr
from pipeline.comparison.model import Weighting, refit_weights, weigh, weighed
from pipeline.comparison.propensity import build_design
from pipeline.comparison.ps_variance import weighting_terms
from pipeline.comparison.sites import COLUMNS as SITE_COLUMNS
from pipeline.comparison.subgroups import COLUMNS as SUBGROUP_COLUMNS
from pipeline.comparison.subgroups import subgroup_estimates
from pipeline.estimable import Gap, NotEstimable, read_gaps
from pipeline.study import Study
from pipeline.survival import kaplan_meier
from pipeline.warehouse import Built, write_table

SCHEMA = "comparison"
_S, _F, _I, _B = "string", "float64", "Int64", "boolean"
# Column types of every table written (what a full run writes), so that an empty or degenerate table has
# the same columns and types as a full one: the reporting stage reads them either way.
TYPES: dict[str, dict[str, str]] = {
    "propensity_inputs": {"weights": _S, "truncation_percentiles": _S, "patients": _I, "not_estimable": _S},
    "propensity_model": {"term": _S, "status": _S, "coef": _F, "se": _F, "imputed_value": _F, "missing": _I},
    "balance": {"covariate": _S, "mean_treatment_before": _F, "mean_comparator_before": _F,
                "mean_treatment_after": _F, "mean_comparator_after": _F, "smd_before": _F, "smd_after": _F,
                "weights": _S, "abs_smd_after_ok": _B},
    "balance_summary": {"weights": _S, "max_abs_smd_after": _F, "balance_passed": _B, "equipoise": _F,
                        "equipoise_passed": _B, "ess_treatment": _F, "ess_comparator": _F, "n_treatment": _I,
                        "n_comparator": _I, "dropped_covariates": _S, "not_estimable": _S},
    "adjusted_estimates": dict(zip(ESTIMATE_COLUMNS, (_S, _S, _S, _F, _S, _S, _F, _F, _F, _F, _F, _I, _I, _F, _F,
                                                      _S, _S, _B), strict=True)),
    "adjusted_km": {"outcome": _S, "arm": _S, "arm_role": _S, "adjustment": _S, "day": _F, "survival": _F,
                    "ci_lower": _F, "ci_upper": _F, "at_risk": _I, "weights": _S, "balance_achieved": _B},
    "adjusted_km_curve": {"outcome": _S, "arm": _S, "arm_role": _S, "time": _F, "survival": _F, "ci_lower": _F,
                          "ci_upper": _F},
    "e_value": {"hazard_ratio": _F, "ci_lower": _F, "ci_upper": _F, "cumulative_incidence_horizon": _F,
                "outcome_common": _B, "conversion": _S, "rr": _F, "rr_lower": _F, "rr_upper": _F, "e_value": _F,
                "e_value_ci_limit": _F, "balance_achieved": _B},
    "subgroups": dict(zip(SUBGROUP_COLUMNS, (_S, _S, _S, _S, _F, _F, _F, _I, _I, _F, _F, _F, _B, _S, _S, _F, _F),
                          strict=True)),
    # Site heterogeneity (site_tables.py, sites.py).
    "site_estimates": dict(zip(SITE_COLUMNS, (_S, _S, _I, _I, _F, _F, _F, _F, _F, _B, _S, _S), strict=True)),
    "site_heterogeneity": {"instrument": _S, "visit": _S, "method": _S, "sites_pooled": _I, "sites_under_threshold": _I,
                           "sites_not_estimable": _I, "estimate": _F, "se": _F, "ci_lower": _F, "ci_upper": _F,
                           "tau2": _F, "i2": _F, "typical_variance": _F, "pi_lower": _F, "pi_upper": _F, "df": _I,
                           "not_estimable": _S},
}
# results.json members (results-contract.md) each step answers for.
ADJUSTED_MEMBERS = ("adjusted.pro_change_difference", "complications.difference.adjusted",
                    "reintervention.adjusted_cox_hr")
# The adjusted HR of returning to activity: no contract member of its own, it is the "faster recovery" claim's
# number (pipeline/reporting/claims.py reads its gap under this name).
RETURN_HR_MEMBER = "return_to_activity.adjusted_hr"
# The adjusted reintervention hazard ratio row of comparison.adjusted_estimates (the E-value's input).
ADJUSTED_HR = ("SELECT estimate, ci_lower, ci_upper, balance_achieved FROM comparison.adjusted_estimates "
               "WHERE outcome = 'reintervention' AND measure = 'hazard_ratio' AND adjustment = 'adjusted'")


def typed(table: str, frame: pd.DataFrame | list[dict] | None = None) -> pd.DataFrame:
    """`frame` (or rows, or nothing) with the columns and types of comparison.<table> (TYPES)."""
    types = TYPES[table]
    frame = pd.DataFrame(frame if frame is not None else [], columns=list(types))
    # Text stays object (None, not pd.NA, in the returned frame; write_table writes it as VARCHAR).
    frame = frame.astype({c: ("object" if t in (_S, _B) else t) for c, t in types.items()})
    return frame.astype({c: t for c, t in types.items() if t == _B})


def balance_gate(study: Study) -> BalanceGate:
    return BalanceGate(study.smd_limit, study.equipoise_band, study.equipoise_minimum)


def km_days(study: Study) -> dict[str, tuple[int, ...]]:
    """The reporting days of each time-to-event outcome's adjusted KM."""
    return {"reintervention": study.km_days, "return_to_activity": study.return_to_activity_km_days}


def _weighting(patients: pd.DataFrame, study: Study) -> Weighting:
    """The weights stored with comparison.cohort (the model is fitted once per run, by propensity_weights);
    the design as entered is rebuilt from the stored covariates (milliseconds, no re-fit)."""
    treated = patients["treated"].to_numpy(dtype=bool)
    design = build_design(patients, site_minimum=study.suppression_threshold)
    return weighed(design, treated, patients["propensity_score"].to_numpy(dtype=float),
                   patients["weight"].to_numpy(dtype=float), study.comparison_weights, balance_gate(study))


def _arms(patients: pd.DataFrame) -> tuple[int, int]:
    treated = patients["treated"].to_numpy(dtype=bool)
    return int(treated.sum()), int((~treated).sum())


def build_propensity(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    patients = load_input(con, study)
    treated = patients["treated"].to_numpy(dtype=bool)
    n = treated.size
    reason = reasons.arms_reason(*_arms(patients), study.suppression_threshold, study.arms)
    wt = None
    if reason is None:
        try:
            wt = weigh(patients, study.comparison_weights, study.truncation_percentiles, gate=balance_gate(study),
                       site_minimum=study.suppression_threshold)
        except NotEstimable as exc:
            reason = exc.reason
    design = wt.design if wt is not None else None
    if wt is None and n:
        design = build_design(patients, site_minimum=study.suppression_threshold)
    del patients
    if wt is not None:
        rows = write_cohort(con, wt.score, preference_score(wt.score, treated), wt.weights, wt.scheme)
        separating = set(wt.fit.separating)
        terms = [{"term": t, "status": "separating" if t in separating else "fitted",
                  "coef": None if t in separating else float(wt.fit.coef[t]),
                  "se": None if t in separating else float(wt.fit.se[t]),
                  "imputed_value": wt.design.imputed.get(t), "missing": wt.design.missing.get(t, 0)}
                 for t in wt.fit.coef.index]
    else:
        empty = np.full(n, np.nan)
        rows = write_cohort(con, empty, empty, empty, study.comparison_weights)
        terms = [{"term": t, "status": "not_estimable", "coef": None, "se": None,
                  "imputed_value": design.imputed.get(t), "missing": design.missing.get(t, 0)}
                 for t in (["intercept", *design.names] if design is not None else [])]
    if design is not None:
        terms += [{"term": t, "status": "dropped_constant", "coef": None, "se": None, "imputed_value": None,
                   "missing": design.missing.get(t, 0)} for t in design.dropped]
    model_rows = write_table(con, "comparison.propensity_model", typed("propensity_model", terms))
    write_table(con, "comparison.propensity_inputs", typed("propensity_inputs", [{
        "weights": study.comparison_weights, "truncation_percentiles": truncation_label(study.truncation_percentiles),
        "patients": rows, "not_estimable": reason}]))
    numbers = {"patients": float(rows), "model_fitted": float(wt is not None)}
    if wt is not None:
        numbers |= {"terms": float(len(wt.fit.coef)), "dropped_constant": float(len(wt.design.dropped)),
                    "separated_patients": float(wt.fit.separated_patients)}
    tables = {"comparison.propensity": rows, "comparison.propensity_model": model_rows,
              "comparison.propensity_inputs": 1}
    return Built("propensity_weights", tables, numbers)


def build_balance(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    reason = check_inputs(con, study)
    patients = load_cohort(con)
    n_treatment, n_comparator = _arms(patients)
    dropped = ",".join(build_design(patients, site_minimum=study.suppression_threshold).dropped) \
        if len(patients) else ""
    if reason is not None:
        summary = typed("balance_summary", [{
            "weights": study.comparison_weights, "n_treatment": n_treatment, "n_comparator": n_comparator,
            "dropped_covariates": dropped, "not_estimable": reason}])
        write_table(con, "comparison.balance", typed("balance"))
        write_table(con, "comparison.balance_summary", summary)
        return Built("covariate_balance", {"comparison.balance": 0, "comparison.balance_summary": 1},
                     gaps=(Gap("balance", reason),))
    wt = _weighting(patients, study)
    b = wt.balance
    table = typed("balance", b.table.assign(weights=wt.scheme, abs_smd_after_ok=b.balanced()))
    summary = typed("balance_summary", [{
        "weights": wt.scheme, "max_abs_smd_after": b.max_abs_smd_after, "balance_passed": b.passed,
        "equipoise": b.equipoise, "equipoise_passed": b.equipoise_passed,
        "ess_treatment": b.ess["treatment"], "ess_comparator": b.ess["comparator"],
        "n_treatment": b.n["treatment"], "n_comparator": b.n["comparator"],
        "dropped_covariates": ",".join(wt.design.dropped), "not_estimable": None,
    }])
    rows = write_table(con, "comparison.balance", table)
    write_table(con, "comparison.balance_summary", summary)
    numbers = {"max_abs_smd_after": b.max_abs_smd_after, "equipoise": b.equipoise, "ess_treatment": b.ess["treatment"],
               "ess_comparator": b.ess["comparator"]}
    if len(table):
        numbers["max_abs_smd_before"] = float(table["smd_before"].abs().max())
    # No covariate varies: nothing to balance and no balance table to publish (the weights are still valid).
    gaps = () if len(table) else (Gap("balance", reasons.ALL_CONSTANT),)
    return Built("covariate_balance", {"comparison.balance": rows, "comparison.balance_summary": 1}, numbers,
                 gaps=gaps)


def _estimate_gaps(frame: pd.DataFrame, patients: pd.DataFrame) -> tuple[Gap, ...]:
    """The adjusted members that came out without a number, with the reason read off the data."""
    adjusted = frame[frame["adjustment"] == "adjusted"]

    def finite(outcome: str, ci: bool = True) -> bool:
        rows = adjusted[adjusted["outcome"] == outcome]
        values = rows[["estimate", "ci_lower", "ci_upper"] if ci else ["estimate"]].to_numpy(dtype=float)
        return bool(len(rows)) and bool(np.isfinite(values).all(axis=1).any())

    gaps = []
    if not finite("pro_change"):
        gaps.append(Gap("adjusted.pro_change_difference", reasons.NO_CHANGES))
    if not finite("complication"):
        complications = np.nansum(patients["complication"].to_numpy(dtype=float))
        gaps.append(Gap("complications.difference.adjusted",
                        reasons.NO_COMPLICATIONS if complications == 0 else reasons.NO_RISK_DIFFERENCE))
    if not finite("reintervention"):
        time = patients["reintervention_time"].to_numpy(dtype=float)
        event = patients["reintervention_event"].to_numpy(dtype=float)
        known = ~np.isnan(time) & ~np.isnan(event)
        treated = patients["treated"].to_numpy(dtype=bool)
        if not known.any():
            reason = reasons.NO_REINTERVENTION_DATA
        elif event[known].sum() == 0:
            reason = reasons.NO_REINTERVENTION
        elif event[known & treated].sum() == 0 or event[known & ~treated].sum() == 0:
            reason = reasons.NO_REINTERVENTION_ARM
        else:
            reason = reasons.NO_HAZARD_RATIO
        gaps.append(Gap("reintervention.adjusted_cox_hr", reason))
    if "return_to_activity_time" in patients.columns and not finite("return_to_activity"):
        gaps.append(Gap(RETURN_HR_MEMBER, _return_hr_reason(patients)))
    return tuple(gaps)


def _return_hr_reason(patients: pd.DataFrame) -> str:
    time = patients["return_to_activity_time"].to_numpy(dtype=float)
    event = patients["return_to_activity_event"].to_numpy(dtype=float)
    known = ~np.isnan(time) & ~np.isnan(event)
    treated = patients["treated"].to_numpy(dtype=bool)
    if not known.any():
        return reasons.NO_RETURN_DATA
    if event[known].sum() == 0:
        return reasons.NO_RETURN
    if event[known & treated].sum() == 0 or event[known & ~treated].sum() == 0:
        return reasons.NO_RETURN_ARM
    return reasons.NO_RETURN_HR


def build_adjusted_estimates(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    reason = check_inputs(con, study)
    patients = load_cohort(con)
    n_treatment, n_comparator = _arms(patients)
    if reason is not None:
        # No weights: the unadjusted twins only (when both arms have patients), every adjusted member a gap.
        frame = typed("adjusted_estimates")
        if n_treatment and n_comparator:
            data = load_data(con, study, patients, with_changes=False)
            sums = change_differences(con)
            ones = np.ones(len(patients))
            twice = {"unadjusted": sums["unadjusted"], "adjusted": sums["unadjusted"]}
            rows = estimates_table(data, ones, scheme="none", balance_achieved=False, change_differences=twice)
            frame = typed("adjusted_estimates", rows[rows["adjustment"] == "unadjusted"].reset_index(drop=True))
        rows_written = write_table(con, "comparison.adjusted_estimates", frame)
        return Built("adjusted_estimates", {"comparison.adjusted_estimates": rows_written},
                     gaps=tuple(Gap(m, reason) for m in (*ADJUSTED_MEMBERS, RETURN_HR_MEMBER)))
    wt = _weighting(patients, study)
    # The adjusted differences' SEs account for the estimation of the propensity model (ps_variance.py).
    terms = weighting_terms(wt, patients["treated"].to_numpy(dtype=bool))
    bootstrap, sums = None, None
    if study.comparison_ci == "bootstrap":
        data = load_data(con, study, patients)  # the bootstrap re-weights every change row: fetch them

        def bootstrap() -> dict:
            return bootstrap_intervals(
                len(data.patients),
                lambda counts: refit_weights(wt.design, data.treated, counts, wt.scheme, study.truncation_percentiles),
                lambda w: point_estimates(data, w), study.bootstrap_replicates, study.bootstrap_seed,
                point=point_estimates(data, wt.weights), log_scale=is_ratio)
    else:
        data = load_data(con, study, patients, with_changes=False)
        sums = change_differences(con, terms=terms)
    frame = typed("adjusted_estimates", estimates_table(data, wt.weights, scheme=wt.scheme,
                                                        balance_achieved=wt.balance.passed, bootstrap=bootstrap,
                                                        change_differences=sums, terms=terms))
    rows = write_table(con, "comparison.adjusted_estimates", frame)
    numbers: dict[str, float] = {"balance_achieved": float(wt.balance.passed)}
    for r in frame.itertuples():
        if r.outcome in ("reintervention", "return_to_activity") or (
                r.instrument in ("ODI",) and r.visit == study.primary_visit and r.outcome == "pro_change"):
            label = f"{r.adjustment} {r.outcome} {r.measure}".strip()
            numbers |= {label: r.estimate, f"{label} lower 95%": r.ci_lower, f"{label} upper 95%": r.ci_upper}
    return Built("adjusted_estimates", {"comparison.adjusted_estimates": rows}, numbers,
                 gaps=_estimate_gaps(frame, patients))


def build_adjusted_km(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    """Weighted (and unweighted) KM per arm with patients; without weights (propensity_inputs.not_estimable)
    the unweighted rows only and no weighted curve. No results.json member reads these tables directly, so
    this step records no gaps."""
    reason = check_inputs(con, study)
    p = load_cohort(con)
    treated = p["treated"].to_numpy(dtype=bool)
    wt = _weighting(p, study) if reason is None else None
    at_days, curves = [], []
    days_of = km_days(study)
    for outcome, days in days_of.items():
        time, event = p[f"{outcome}_time"].to_numpy(dtype=float), p[f"{outcome}_event"].to_numpy(dtype=float)
        for role, arm_mask in (("treatment", treated), ("comparator", ~treated)):
            ok = arm_mask & ~np.isnan(time) & ~np.isnan(event)
            if not ok.any():
                continue
            arm = str(p.loc[ok, "procedure"].iloc[0])
            for adjustment, w in (("unadjusted", None), ("adjusted", None if wt is None else wt.weights[ok])):
                if adjustment == "adjusted" and (w is None or not np.isfinite(w).all() or not w.sum() > 0):
                    continue
                km = kaplan_meier(time[ok], event[ok], w)  # weighted: robust (IJ) variance, as R's survfit
                at = km.at(list(days))
                at_days.append(pd.DataFrame({
                    "outcome": outcome, "arm": arm, "arm_role": role, "adjustment": adjustment, "day": at.day,
                    "survival": at.surv, "ci_lower": at.lower, "ci_upper": at.upper, "at_risk": at.at_risk,
                    "weights": wt.scheme if w is not None else "none",
                    "balance_achieved": wt.balance.passed if w is not None else None}))
                if w is not None:
                    lower, upper = km.confidence_interval()
                    curves.append(pd.DataFrame({"outcome": outcome, "arm": arm, "arm_role": role, "time": km.time,
                                                "survival": km.surv, "ci_lower": lower, "ci_upper": upper}))
    frame = typed("adjusted_km", pd.concat(at_days, ignore_index=True) if at_days else None)
    rows = write_table(con, "comparison.adjusted_km", frame)
    curve_rows = write_table(con, "comparison.adjusted_km_curve",
                             typed("adjusted_km_curve", pd.concat(curves, ignore_index=True) if curves else None))
    numbers = {f"{r.adjustment} {r.outcome} {r.arm} day {int(r.day)}": r.survival for r in frame.itertuples()
               if r.day == max(days_of[r.outcome])}
    return Built("adjusted_km", {"comparison.adjusted_km": rows, "comparison.adjusted_km_curve": curve_rows}, numbers)


def build_e_value(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    """E-value of the adjusted HR in comparison.adjusted_estimates; common outcome when the pooled KM
    cumulative incidence of reintervention at the horizon exceeds 15%. Without an adjusted HR the row holds
    no E-value and the gap repeats the HR's reason (recorded by adjusted_estimates)."""
    hr = con.execute(ADJUSTED_HR).fetchone()
    time, event = reintervention_times(con)
    known = ~np.isnan(time) & ~np.isnan(event)
    incidence = math.nan
    if known.any():
        incidence = float(1 - kaplan_meier(time[known], event[known]).at([study.horizon_days]).surv[0])
    common = bool(incidence > COMMON_OUTCOME)
    estimate, lower, upper, balanced = hr if hr else (math.nan,) * 3 + (None,)
    gaps: tuple[Gap, ...] = ()
    if estimate is not None and math.isfinite(estimate) and estimate > 0:
        ev = evalue_hr(estimate, lower, upper, common)
        values = (ev.rr, ev.rr_lower, ev.rr_upper, ev.estimate, ev.ci_limit)
    else:
        values = (math.nan,) * 5
        why = {g.what: g.reason for g in read_gaps(con)}.get("reintervention.adjusted_cox_hr", reasons.NO_HAZARD_RATIO)
        gaps = (Gap("reintervention.e_value", why),)
    frame = typed("e_value", [{
        "hazard_ratio": estimate, "ci_lower": lower, "ci_upper": upper, "cumulative_incidence_horizon": incidence,
        "outcome_common": common, "conversion": "sqrt_transform" if common else "rare_outcome_rr_equals_hr",
        "rr": values[0], "rr_lower": values[1], "rr_upper": values[2], "e_value": values[3],
        "e_value_ci_limit": values[4], "balance_achieved": balanced,
    }])
    rows = write_table(con, "comparison.e_value", frame)
    return Built("reintervention_e_value", {"comparison.e_value": rows},
                 {"e_value": values[3], "e_value_ci_limit": values[4], "cumulative_incidence_horizon": incidence},
                 gaps=gaps)


def build_subgroups(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    reason = check_inputs(con, study)
    if reason is not None:
        frame = typed("subgroups")
        write_table(con, "comparison.subgroups", frame)
        return Built("subgroup_estimates", {"comparison.subgroups": 0}, gaps=(Gap("subgroups", reason),))
    patients = load_cohort(con)
    change_row, change = load_changes_of(con, "ODI", study.primary_visit)
    frame = typed("subgroups", subgroup_estimates(
        patients, change_row, change, study.comparison_weights, study.truncation_percentiles,
        f"ODI change {study.primary_visit}", model_terms(con), minimum=study.suppression_threshold,
        arms=study.arms, gate=balance_gate(study)))
    rows = write_table(con, "comparison.subgroups", frame)
    estimated = np.isfinite(frame["estimate"].to_numpy(dtype=float))
    gaps = () if estimated.any() else (Gap("subgroups", reasons.NO_SUBGROUP),)
    numbers = {"subgroups_balanced": float(frame["balance_achieved"].eq(True).sum()),
               "subgroup_estimates": float(estimated.sum())}
    return Built("subgroup_estimates", {"comparison.subgroups": rows}, numbers, gaps=gaps)
