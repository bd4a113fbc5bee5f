"""The check of the MAR twin of the adjusted differences (SAP 3.1; pipeline/comparison/mar_differences.py), counted
by sql/checks/comparison_mar_differences_valid.sql. Blocking: an estimate outside its CI or a negative tipping
point would be a wrong number. Like the comparison's other checks it tells wrong numbers (fail) from no numbers:
empty tables hold, with the recorded reason in the description."""

from __future__ import annotations

import duckdb

from pipeline.checks import CheckOutcome, CheckSpec
from pipeline.comparison.mar_differences import MEMBER
from pipeline.estimable import read_gaps
from pipeline.sql import run
from pipeline.study import Study


def differences_valid(con: duckdb.DuckDBPyConnection, study: Study) -> CheckOutcome:
    failures, checked = run(con, "checks/comparison_mar_differences_valid").fetchone()
    metadata = {"failures": int(failures or 0), "rows_checked": int(checked or 0)}
    if checked:
        return CheckOutcome(int(failures or 0), int(checked), metadata)
    reason = {g.what: g.reason for g in read_gaps(con)}.get(MEMBER, "no MAR difference was estimated")
    return CheckOutcome(0, 0, {**metadata, "not_estimable": reason}, f"Nothing to check, not estimable: {reason}")


MAR_DIFFERENCE_CHECKS = (
    CheckSpec("adjusted_estimates_mar", "differences_valid",
              "MAR adjusted differences: each estimate inside its 95% CI, method ipaw or complete_case; the "
              "tipping point of the primary-visit ODI difference: share not assessed in [0, 1], assessed <= "
              "eligible, delta >= 0 and given exactly when no reason says why not. Holds when there is nothing "
              "to check (the reason in the description).",
              judge=differences_valid),
)
