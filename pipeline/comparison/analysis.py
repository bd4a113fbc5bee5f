"""SAP section 6 on the warehouse: read the analysis population (sql/comparison_*.sql), run the pure modules,
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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from pipeline.comparison.balance import preference_score
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
from pipeline.comparison.estimates import ComparisonData, estimates_table, point_estimates
from pipeline.comparison.evalue import COMMON_OUTCOME, evalue_hr
from pipeline.comparison.model import Weighting, refit_weights, weigh, weighed
from pipeline.comparison.propensity import build_design
from pipeline.comparison.subgroups import subgroup_estimates
from pipeline.sql import load_sql
from pipeline.study import Study
from pipeline.survival import kaplan_meier

SCHEMA = "comparison"
TABLES = frozenset({"cohort", "propensity", "propensity_inputs", "propensity_model", "balance", "balance_summary",
                    "adjusted_estimates", "adjusted_km", "adjusted_km_curve", "e_value", "subgroups"})
KM_DAYS = {"reintervention": (365, 730, 1095, 1461, 1826), "return_to_activity": (14, 28, 90, 365)}


@dataclass(frozen=True)
class Built:
    table: str
    rows: int
    numbers: dict[str, float] = field(default_factory=dict)
    frame: pd.DataFrame | None = None


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Replace comparison.<table> by `frame` (the name is checked against TABLES: it cannot be a parameter)."""
    if table not in TABLES:
        raise ValueError(f"{table!r} is not a comparison table")
    # Object columns: booleans with gaps (an unadjusted row claims no balance) as nullable BOOLEAN, the rest
    # as text (an all-NULL object column would otherwise get a guessed type).
    kinds = {}
    for c in frame.columns:
        if frame[c].dtype == object:
            values = frame[c].dropna()
            is_bool = len(values) > 0 and all(isinstance(v, bool | np.bool_) for v in values)
            kinds[c] = "boolean" if is_bool else "string"
    frame = frame.astype(kinds)
    con.execute(load_sql("comparison_schema"))
    con.register("_comparison_frame", frame)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.{table} AS SELECT * FROM _comparison_frame")
    finally:
        con.unregister("_comparison_frame")
    return len(frame)


def _weighting(con: duckdb.DuckDBPyConnection, patients: pd.DataFrame, study: Study) -> Weighting:
    """The weights stored with comparison.cohort (the model is fitted once per run, by propensity_weights);
    the design as entered is rebuilt from the stored covariates (milliseconds, no re-fit)."""
    check_inputs(con, study)
    treated = patients["treated"].to_numpy(dtype=bool)
    return weighed(build_design(patients), treated, patients["propensity_score"].to_numpy(dtype=float),
                   patients["weight"].to_numpy(dtype=float), study.comparison_weights)


def build_propensity(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    patients = load_input(con, study)
    wt = weigh(patients, study.comparison_weights, study.truncation_percentiles)
    treated = patients["treated"].to_numpy(dtype=bool)
    del patients
    rows = write_cohort(con, wt.score, preference_score(wt.score, treated), wt.weights, wt.scheme)
    terms = [{"term": t, "status": "fitted", "coef": float(wt.fit.coef[t]), "se": float(wt.fit.se[t]),
              "imputed_value": wt.design.imputed.get(t), "missing": wt.design.missing.get(t, 0)}
             for t in wt.fit.coef.index]
    terms += [{"term": t, "status": "dropped_constant", "coef": None, "se": None, "imputed_value": None,
               "missing": wt.design.missing.get(t, 0)} for t in wt.design.dropped]
    replace_table(con, "propensity_model", pd.DataFrame(terms))
    replace_table(con, "propensity_inputs", pd.DataFrame([{
        "weights": wt.scheme, "truncation_percentiles": truncation_label(study.truncation_percentiles),
        "patients": rows}]))
    numbers = {"model_converged": float(wt.fit.converged), "terms": float(len(wt.fit.coef)),
               "dropped_constant": float(len(wt.design.dropped))}
    return Built("comparison.propensity", rows, numbers)


def build_balance(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    wt = _weighting(con, load_cohort(con), study)
    b = wt.balance
    table = b.table.assign(weights=wt.scheme, abs_smd_after_ok=b.table["smd_after"].abs() <= 0.1)
    summary = pd.DataFrame([{
        "weights": wt.scheme, "max_abs_smd_after": b.max_abs_smd_after, "balance_passed": b.passed,
        "equipoise": b.equipoise, "equipoise_passed": b.equipoise_passed,
        "ess_treatment": b.ess["treatment"], "ess_comparator": b.ess["comparator"],
        "n_treatment": b.n["treatment"], "n_comparator": b.n["comparator"],
        "dropped_covariates": ",".join(wt.design.dropped),
    }])
    rows = replace_table(con, "balance", table)
    replace_table(con, "balance_summary", summary)
    numbers = {"max_abs_smd_after": b.max_abs_smd_after, "max_abs_smd_before": float(b.table["smd_before"].abs().max()),
               "equipoise": b.equipoise, "ess_treatment": b.ess["treatment"], "ess_comparator": b.ess["comparator"]}
    return Built("comparison.balance", rows, numbers, table)


def build_adjusted_estimates(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    patients = load_cohort(con)
    wt = _weighting(con, patients, study)
    bootstrap, sums = None, None
    if study.comparison_ci == "bootstrap":
        data = load_data(con, study, patients)  # the bootstrap re-weights every change row: fetch them

        def bootstrap() -> dict:
            return bootstrap_intervals(
                len(data.patients),
                lambda counts: refit_weights(wt.design, data.treated, counts, wt.scheme, study.truncation_percentiles),
                lambda w: point_estimates(data, w), study.bootstrap_replicates, study.bootstrap_seed)
    else:
        data = load_data(con, study, patients, with_changes=False)
        sums = change_differences(con)
    frame = estimates_table(data, wt.weights, scheme=wt.scheme, balance_achieved=wt.balance.passed,
                            bootstrap=bootstrap, change_differences=sums)
    rows = replace_table(con, "adjusted_estimates", frame)
    numbers: dict[str, float] = {"balance_achieved": float(wt.balance.passed)}
    for r in frame.itertuples():
        if r.outcome == "reintervention" or (r.instrument in ("ODI",) and r.visit == study.primary_visit
                                             and r.outcome == "pro_change"):
            label = f"{r.adjustment} {r.outcome} {r.measure}".strip()
            numbers |= {label: r.estimate, f"{label} lower 95%": r.ci_lower, f"{label} upper 95%": r.ci_upper}
    return Built("comparison.adjusted_estimates", rows, numbers, frame)


def build_adjusted_km(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    p = load_cohort(con)
    data = ComparisonData(p, pd.DataFrame(), pd.DataFrame())
    wt = _weighting(con, p, study)
    at_days, curves = [], []
    for outcome, days in KM_DAYS.items():
        time, event = p[f"{outcome}_time"].to_numpy(dtype=float), p[f"{outcome}_event"].to_numpy(dtype=float)
        for role, arm_mask in (("treatment", data.treated), ("comparator", ~data.treated)):
            ok = arm_mask & ~np.isnan(time)
            if not ok.any():
                continue
            arm = str(p.loc[ok, "procedure"].iloc[0])
            for adjustment, w in (("unadjusted", None), ("adjusted", wt.weights[ok])):
                km = kaplan_meier(time[ok], event[ok], w)  # weighted: robust (IJ) variance, as R's survfit
                at = km.at([d for d in days if d <= max(days)])
                at_days.append(pd.DataFrame({
                    "outcome": outcome, "arm": arm, "arm_role": role, "adjustment": adjustment, "day": at.day,
                    "survival": at.surv, "ci_lower": at.lower, "ci_upper": at.upper, "at_risk": at.at_risk,
                    "weights": wt.scheme if w is not None else "none",
                    "balance_achieved": wt.balance.passed if w is not None else None}))
                if w is not None:
                    lower, upper = km.confidence_interval()
                    curves.append(pd.DataFrame({"outcome": outcome, "arm": arm, "arm_role": role, "time": km.time,
                                                "survival": km.surv, "ci_lower": lower, "ci_upper": upper}))
    frame = pd.concat(at_days, ignore_index=True)
    rows = replace_table(con, "adjusted_km", frame)
    replace_table(con, "adjusted_km_curve", pd.concat(curves, ignore_index=True))
    numbers = {f"{r.adjustment} {r.outcome} {r.arm} day {int(r.day)}": r.survival for r in frame.itertuples()
               if r.day == max(KM_DAYS[r.outcome])}
    return Built("comparison.adjusted_km", rows, numbers, frame)


def build_e_value(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    """E-value of the adjusted HR in comparison.adjusted_estimates; common outcome when the pooled KM
    cumulative incidence of reintervention at the horizon exceeds 15%."""
    hr = con.execute(load_sql("comparison_adjusted_hr")).fetchone()
    time, event = reintervention_times(con)
    km = kaplan_meier(time, event)
    incidence = float(1 - km.at([study.horizon_days]).surv[0]) if time.size else math.nan
    common = bool(incidence > COMMON_OUTCOME)
    estimate, lower, upper, balanced = hr if hr else (math.nan,) * 3 + (None,)
    if estimate is not None and math.isfinite(estimate):
        ev = evalue_hr(estimate, lower, upper, common)
        values = (ev.rr, ev.rr_lower, ev.rr_upper, ev.estimate, ev.ci_limit)
    else:
        values = (math.nan,) * 5
    frame = pd.DataFrame([{
        "hazard_ratio": estimate, "ci_lower": lower, "ci_upper": upper, "cumulative_incidence_horizon": incidence,
        "outcome_common": common, "conversion": "sqrt_transform" if common else "rare_outcome_rr_equals_hr",
        "rr": values[0], "rr_lower": values[1], "rr_upper": values[2], "e_value": values[3],
        "e_value_ci_limit": values[4], "balance_achieved": balanced,
    }])
    rows = replace_table(con, "e_value", frame)
    return Built("comparison.e_value", rows, {"e_value": values[3], "e_value_ci_limit": values[4],
                                              "cumulative_incidence_horizon": incidence}, frame)


def build_subgroups(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    check_inputs(con, study)
    patients = load_cohort(con)
    change_row, change = load_changes_of(con, "ODI", study.primary_visit)
    frame = subgroup_estimates(patients, change_row, change, study.comparison_weights, study.truncation_percentiles,
                               f"ODI change {study.primary_visit}", model_terms(con))
    rows = replace_table(con, "subgroups", frame)
    return Built("comparison.subgroups", rows, {"subgroups_balanced": float(frame["balance_achieved"].eq(True).sum())},
                 frame)
