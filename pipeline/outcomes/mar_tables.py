"""The MAR (IPAW) estimates of SAP 3.1 from outcomes.attendance_weights: outcomes.pro_change_mar (weighted mean
change and responder rate per arm, instrument and visit), outcomes.satisfaction_mar (weighted satisfaction
rate, primary definition, per arm and visit) and outcomes.tipping_points (the delta adjustment's δ* of the
primary-visit and last-visit mean ODI change per arm).

The sums are formed in SQL over the eligible, assessed patients (sql/outcomes/mar_change_sums.sql,
mar_satisfaction_sums.sql: two passes, so the variance has no cancellation); Python turns them into
estimates with HC1 95% CIs (pipeline/outcomes/mar.py). `method` is the attendance model's: under
"complete_case" every weight is 1 and the estimate is the complete-case mean with a normal-quantile CI.
"""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd

from pipeline import contract
from pipeline.estimable import Gap, member, no_patients, record_gaps
from pipeline.outcomes.attendance_weights import satisfaction_instrument
from pipeline.outcomes.built import estimate_with_ci
from pipeline.outcomes.gaps import arm_patients
from pipeline.outcomes.mar import from_sums, tipping_point, why_no_tipping_point
from pipeline.outcomes.store import record_parameters, transaction
from pipeline.sql import query
from pipeline.study import Study
from pipeline.warehouse import Built, write_table

ASSET = "pro_change_mar"
TIPPING_INSTRUMENT = "ODI"  # SAP 3.1: the tipping points of the mean ODI change
TIPPING_WHAT = "pro_change_mar.mean_change"
NOT_ASSESSED = "no eligible patient was assessed"
NO_CI = "fewer than two distinct values among the assessed patients: no 95% CI"

CHANGE_COLUMNS = {
    "arm": "VARCHAR", "arm_role": "VARCHAR", "instrument": "VARCHAR", "visit": "VARCHAR", "visit_ordinal": "INTEGER",
    "eligible": "BIGINT", "assessed": "BIGINT", "mean_change": "DOUBLE", "se": "DOUBLE", "ci_low": "DOUBLE",
    "ci_high": "DOUBLE", "responders": "BIGINT", "responder_rate": "DOUBLE", "responder_se": "DOUBLE",
    "responder_ci_low": "DOUBLE", "responder_ci_high": "DOUBLE", "method": "VARCHAR",
}
SATISFACTION_COLUMNS = {
    "arm": "VARCHAR", "arm_role": "VARCHAR", "definition": "VARCHAR", "visit": "VARCHAR", "visit_ordinal": "INTEGER",
    "eligible": "BIGINT", "assessed": "BIGINT", "satisfied": "BIGINT", "rate": "DOUBLE", "se": "DOUBLE",
    "ci_low": "DOUBLE", "ci_high": "DOUBLE", "method": "VARCHAR",
}
TIPPING_COLUMNS = {
    "what": "VARCHAR", "arm": "VARCHAR", "arm_role": "VARCHAR", "instrument": "VARCHAR", "visit": "VARCHAR",
    "visit_ordinal": "INTEGER", "estimate": "DOUBLE", "ci_low": "DOUBLE", "ci_high": "DOUBLE", "eligible": "BIGINT",
    "assessed": "BIGINT", "share_unassessed": "DOUBLE", "threshold": "DOUBLE", "unfavourable": "INTEGER",
    "delta": "DOUBLE", "method": "VARCHAR", "reason": "VARCHAR",
}


def _roles(study: Study) -> dict[str, str]:
    return {study.treatment: "treatment", study.comparator: "comparator"}


def _ordinals(study: Study) -> dict[str, int]:
    return {v.name: i for i, v in enumerate(study.visits)}


def _none(value: object) -> object:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def change_table(sums: pd.DataFrame, study: Study) -> pd.DataFrame:
    """outcomes.pro_change_mar from the rows of sql/outcomes/mar_change_sums.sql."""
    roles, ordinals = _roles(study), _ordinals(study)
    rows = []
    for r in sums.itertuples():
        change = from_sums(r.n, _none(r.sw), _none(r.mean_y), _none(r.spread_y))
        responder = from_sums(r.n_r, _none(r.sw_r), _none(r.mean_r), _none(r.spread_r), rate=True)
        rows.append({
            "arm": r.arm, "arm_role": roles.get(r.arm), "instrument": r.instrument, "visit": r.visit,
            "visit_ordinal": ordinals[r.visit], "eligible": int(r.eligible), "assessed": int(r.assessed),
            "mean_change": change.estimate, "se": change.se, "ci_low": change.lower, "ci_high": change.upper,
            "responders": int(r.responders), "responder_rate": responder.estimate, "responder_se": responder.se,
            "responder_ci_low": responder.lower, "responder_ci_high": responder.upper, "method": r.method})
    return _ordered(pd.DataFrame(rows, columns=list(CHANGE_COLUMNS)), ["arm_role", "instrument", "visit_ordinal"])


def satisfaction_table(sums: pd.DataFrame, study: Study) -> pd.DataFrame:
    """outcomes.satisfaction_mar from the rows of sql/outcomes/mar_satisfaction_sums.sql."""
    roles, ordinals = _roles(study), _ordinals(study)
    rows = []
    for r in sums.itertuples():
        rate = from_sums(r.n, _none(r.sw), _none(r.mean_y), _none(r.spread_y), rate=True)
        rows.append({
            "arm": r.arm, "arm_role": roles.get(r.arm), "definition": study.primary_satisfaction, "visit": r.visit,
            "visit_ordinal": ordinals[r.visit], "eligible": int(r.eligible), "assessed": int(r.assessed),
            "satisfied": int(r.satisfied), "rate": rate.estimate, "se": rate.se, "ci_low": rate.lower,
            "ci_high": rate.upper, "method": r.method})
    return _ordered(pd.DataFrame(rows, columns=list(SATISFACTION_COLUMNS)), ["arm_role", "visit_ordinal"])


def _ordered(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    ascending = [column != "arm_role" for column in by]  # treatment before comparator, as every table
    return frame.sort_values(by, ascending=ascending, kind="stable").reset_index(drop=True)


def tipping_visits(study: Study) -> tuple[str, ...]:
    """The primary visit and the last visit (M60 by default), SAP 3.1."""
    last = study.visits[-1].name
    return (study.primary_visit,) if last == study.primary_visit else (study.primary_visit, last)


def tipping_table(change: pd.DataFrame, study: Study) -> pd.DataFrame:
    """δ* of the mean ODI change per arm at the tipping visits, threshold 0 (no change), unfavourable =
    worse (+1 for ODI, where lower is better), with the share of eligible patients not assessed."""
    instrument = contract.INSTRUMENTS[TIPPING_INSTRUMENT]
    unfavourable = 1 if instrument.lower_is_better else -1
    rows = []
    for r in change[(change["instrument"] == TIPPING_INSTRUMENT)
                    & change["visit"].isin(tipping_visits(study))].itertuples():
        share = (r.eligible - r.assessed) / r.eligible if r.eligible else math.nan
        ci = (r.ci_low, r.ci_high)
        reason = why_no_tipping_point(r.mean_change, ci, share, 0.0, unfavourable)
        delta = tipping_point(r.mean_change, ci, share, 0.0, unfavourable)
        rows.append({
            "what": TIPPING_WHAT, "arm": r.arm, "arm_role": r.arm_role, "instrument": TIPPING_INSTRUMENT,
            "visit": r.visit, "visit_ordinal": r.visit_ordinal, "estimate": r.mean_change, "ci_low": r.ci_low,
            "ci_high": r.ci_high, "eligible": r.eligible, "assessed": r.assessed, "share_unassessed": share,
            "threshold": 0.0, "unfavourable": unfavourable, "delta": delta, "method": r.method, "reason": reason})
    return _ordered(pd.DataFrame(rows, columns=list(TIPPING_COLUMNS)), ["arm_role", "visit_ordinal"])


def _gaps(study: Study, patients: dict[str, int], change: pd.DataFrame, satisfaction: pd.DataFrame,
          tipping: pd.DataFrame) -> list[Gap]:
    """The members of pro_change_mar, satisfaction_mar and tipping_point the data cannot give (SAP 9)."""
    gaps: list[Gap] = []
    for arm in study.arms:
        if not patients.get(arm):
            gaps += [Gap(member(m, arm), no_patients(arm)) for m in ("pro_change_mar", "satisfaction_mar",
                                                                      "tipping_point")]
            continue
        for instrument in study.change_instruments:
            rows = change[(change["arm"] == arm) & (change["instrument"] == instrument)]
            if rows.empty:
                gaps.append(Gap(member("pro_change_mar", arm, instrument),
                                f"no eligible patient (a baseline value of {instrument}, due at a follow-up visit)"))
            gaps += _row_gaps("pro_change_mar", rows, ("instrument", "visit"), "mean_change", "ci_low")
        rows = satisfaction[satisfaction["arm"] == arm]
        if rows.empty:
            gaps.append(Gap(member("satisfaction_mar", arm), "no patient due at a follow-up visit"))
        gaps += _row_gaps("satisfaction_mar", rows, ("visit",), "rate", "ci_low")
        for visit in tipping_visits(study):
            row = tipping[(tipping["arm"] == arm) & (tipping["visit"] == visit)]
            if row.empty:
                gaps.append(Gap(member("tipping_point", arm, visit), f"no patient eligible at {visit}"))
            elif row["reason"].notna().iloc[0]:
                gaps.append(Gap(member("tipping_point", arm, visit), str(row["reason"].iloc[0])))
    return gaps


def _row_gaps(name: str, rows: pd.DataFrame, keys: tuple[str, ...], estimate: str, lower: str) -> list[Gap]:
    out = []
    for r in rows.itertuples():
        path = member(name, r.arm, *(getattr(r, k) for k in keys))
        value = getattr(r, estimate)
        if value is None or math.isnan(value):
            out.append(Gap(path, NOT_ASSESSED))
        elif math.isnan(getattr(r, lower)):
            out.append(Gap(f"{path}.ci", NO_CI))
    return out


def build_pro_change_mar(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    """outcomes.pro_change_mar, outcomes.satisfaction_mar and outcomes.tipping_points, with their gaps."""
    change = change_table(query(con, "outcomes/mar_change_sums", instruments=list(study.change_instruments)), study)
    definition = next(d for d in study.satisfaction if d.name == study.primary_satisfaction)
    satisfaction = satisfaction_table(query(con, "outcomes/mar_satisfaction_sums",
                                            instrument=satisfaction_instrument(study),
                                            satisfied_max=definition.satisfied_max), study)
    tipping = tipping_table(change, study)
    gaps = _gaps(study, arm_patients(con, study), change, satisfaction, tipping)
    with transaction(con):
        tables = {
            "outcomes.pro_change_mar": write_table(con, "outcomes.pro_change_mar", change, CHANGE_COLUMNS),
            "outcomes.satisfaction_mar": write_table(con, "outcomes.satisfaction_mar", satisfaction,
                                                     SATISFACTION_COLUMNS),
            "outcomes.tipping_points": write_table(con, "outcomes.tipping_points", tipping, TIPPING_COLUMNS),
        }
        record_parameters(con, ASSET, study)
        record_gaps(con, ASSET, gaps)
    return Built(ASSET, tables, _headline(change, satisfaction, tipping, study), gaps=tuple(gaps))


def _headline(change: pd.DataFrame, satisfaction: pd.DataFrame, tipping: pd.DataFrame,
              study: Study) -> dict[str, float]:
    out: dict[str, float] = {}
    primary = study.primary_visit
    for r in change[(change["instrument"] == TIPPING_INSTRUMENT) & (change["visit"] == primary)].itertuples():
        out |= estimate_with_ci(f"{r.arm} ODI change {primary} (MAR)", r.mean_change, r.ci_low, r.ci_high)
    for r in satisfaction[satisfaction["visit"] == primary].itertuples():
        out |= estimate_with_ci(f"{r.arm} satisfied {primary} (MAR)", r.rate, r.ci_low, r.ci_high)
    for r in tipping.itertuples():
        if r.delta is not None and np.isfinite(r.delta):
            out[f"{r.arm} ODI tipping point {r.visit}"] = float(r.delta)
    return out
