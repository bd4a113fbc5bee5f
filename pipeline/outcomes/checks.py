"""Data checks on the outcomes tables (SQL in sql/check_outcomes_*.sql), as plain functions returning a
CheckOutcome; assets/outcomes.py turns them into Dagster asset checks."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from pipeline.sql import load_sql
from pipeline.study import Study

# Tables whose rows carry n, rate, ci_lower, ci_upper.
RATE_TABLES = frozenset({
    "outcomes.responder_rates", "outcomes.satisfaction_rates", "outcomes.complication_rates",
    "outcomes.discharge_summary", "outcomes.follow_up_completeness",
})


@dataclass(frozen=True)
class CheckOutcome:
    failures: int
    checked: int
    metadata: dict[str, float | str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.failures == 0


def _counted(con: duckdb.DuckDBPyConnection, name: str, params: list) -> CheckOutcome:
    failures, checked, *rest = con.execute(load_sql(name), params).fetchone()
    metadata: dict[str, float | str] = {"rows_not_estimable": float(rest[0] or 0)} if rest else {}
    return CheckOutcome(int(failures or 0), int(checked or 0), metadata)


def rates_valid(con: duckdb.DuckDBPyConnection, table: str) -> CheckOutcome:
    """Every rate of `table` lies in [0, 1] and inside its CI, or, where n = 0 (SAP 9: not estimable), is NULL
    with its CI. An empty table holds: blocking checks block wrong numbers, not absent ones."""
    if table not in RATE_TABLES:
        raise ValueError(f"{table!r} is not an outcomes rate table")
    return _counted(con, "check_outcomes_rates_valid", [table])


def summary_rates_valid(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """The responder rates of outcomes.pro_change_summary, as rates_valid."""
    return _counted(con, "check_outcomes_summary_rates_valid", [])


def changes_have_baseline(con: duckdb.DuckDBPyConnection, study: Study) -> CheckOutcome:
    """Every change row matches a baseline row of staging.pro_visits, and change = value − baseline."""
    return _counted(con, "check_outcomes_changes_have_baseline", [study.baseline_visit])


def changes_within_window(con: duckdb.DuckDBPyConnection, study: Study) -> CheckOutcome:
    """Every visit and baseline day of a change row lies in its window (the run's study windows)."""
    names, starts, ends = zip(*[(v.name, v.start, v.end) for v in study.visits], strict=True)
    params = [list(names), list(starts), list(ends), study.baseline_visit]
    return _counted(con, "check_outcomes_changes_within_window", params)


def completeness_at_primary_visit(con: duckdb.DuckDBPyConnection, study: Study) -> CheckOutcome:
    """Each arm's follow-up completeness at the primary visit reaches study.completeness_minimum (SAP section 2:
    registries aim for 80% at M12). An arm without a row (no patient of the arm, or none whose follow-up reached
    the window) has no completeness to judge (SAP 9): it is not counted and the metadata says so."""
    rows = con.execute(
        load_sql("check_outcomes_completeness_at_primary"), [study.primary_visit, study.completeness_instrument]
    ).fetchall()
    by_arm = {arm: (n, assessed, rate) for arm, n, assessed, rate in rows}
    metadata: dict[str, float | str] = {"minimum": study.completeness_minimum, "visit": study.primary_visit,
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
    return CheckOutcome(failures, checked, metadata)
