"""The checks of the outcomes tables (SAP sections 2, 3, 5): SQL in sql/check_outcomes_*.sql, and the judge of
follow-up completeness at the primary visit, which needs each arm's row."""

from __future__ import annotations

import duckdb

from pipeline.checks import CheckOutcome, CheckSpec, Metadata
from pipeline.sql import load_sql
from pipeline.study import Study


def _window_params(study: Study) -> dict[str, object]:
    names, starts, ends = zip(*[(v.name, v.start, v.end) for v in study.visits], strict=True)
    return {"visits": list(names), "starts": list(starts), "ends": list(ends), "baseline_visit": study.baseline_visit}


def completeness_at_primary_visit(con: duckdb.DuckDBPyConnection, study: Study) -> CheckOutcome:
    """Each arm's follow-up completeness at the primary visit reaches study.completeness_minimum (SAP section 2:
    registries aim for 80% at M12). An arm without a row (no patient of the arm, or none whose follow-up reached
    the window) has no completeness to judge (SAP 9): it is not counted and the metadata says so."""
    rows = con.execute(load_sql("checks/outcomes_completeness_at_primary"),
                       {"visit": study.primary_visit, "instrument": study.completeness_instrument}).fetchall()
    by_arm = {arm: (n, assessed, rate) for arm, n, assessed, rate in rows}
    metadata: Metadata = {"minimum": study.completeness_minimum, "visit": study.primary_visit,
                          "instrument": study.completeness_instrument}
    failures = checked = 0
    for arm in study.arms:
        n, assessed, rate = by_arm.get(arm, (0, 0, None))
        metadata[f"{arm} reached window"] = float(n)
        metadata[f"{arm} assessed"] = float(assessed)
        if not n or rate is None:
            metadata[f"{arm} completeness not estimable"] = f"no {arm} patient reached the {study.primary_visit} window"
            continue
        metadata[f"{arm} completeness"] = float(rate)
        checked += 1
        if rate < study.completeness_minimum:
            failures += 1
    return CheckOutcome(failures, checked, {"failures": failures, "rows_checked": checked, **metadata})


_RATES_DESCRIPTION = ("Every rate lies in [0, 1] and inside its 95% CI within [0, 1]; a group with n = 0 (not "
                      "estimable, SAP 9) has rate and CI NULL. Blocks wrong numbers, not absent ones.")


def _rates_valid(asset: str) -> CheckSpec:
    """Every rate of outcomes.<asset> (rows with n, rate, ci_lower, ci_upper) is valid or, where n = 0, NULL."""
    return CheckSpec(asset, "rates_valid", _RATES_DESCRIPTION, sql="checks/outcomes_rates_valid",
                     params=lambda study: {"table": f"outcomes.{asset}"})


OUTCOME_CHECKS = (
    CheckSpec("pro_changes", "changes_have_baseline",
              "Every change row has the patient's baseline row (same day and value) and change = value - "
              "baseline.", sql="checks/outcomes_changes_have_baseline",
              params=lambda study: {"baseline_visit": study.baseline_visit}),
    CheckSpec("pro_changes", "visits_within_window",
              "No visit assigned outside its window: every visit and baseline day lies in its window of the "
              "run's study.", sql="checks/outcomes_changes_within_window", params=_window_params),
    CheckSpec("pro_change_summary", "rates_valid", _RATES_DESCRIPTION, sql="checks/outcomes_summary_rates_valid"),
    _rates_valid("responder_rates"),
    _rates_valid("satisfaction_rates"),
    _rates_valid("complication_rates"),
    _rates_valid("discharge_summary"),
    _rates_valid("follow_up_completeness"),
    # Warns, as registries do: low completeness is reported, not hidden.
    CheckSpec("follow_up_completeness", "completeness_at_primary_visit",
              "Follow-up completeness at the primary visit (M12) is at least the study's minimum (80%) in "
              "each arm that has patients who reached the window. Warns, as registries do: low completeness is "
              "reported, not hidden.",
              judge=completeness_at_primary_visit, blocking=False, severity="WARN"),
)
