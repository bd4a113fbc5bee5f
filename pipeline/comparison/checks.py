"""The checks of the comparison stage (SAP 6): the balance gate and equipoise, judged on the one-row
comparison.balance_summary. Neither blocks: SAP 6 says a failed gate must not hide results; every adjusted
estimate row carries balance_achieved instead, which the report shows. They tell wrong numbers (fail) from
no numbers (hold: nothing to check, the reason in the description)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from pipeline.checks import CheckOutcome, CheckSpec
from pipeline.study import Study

_EMPTY = CheckOutcome(1, 0, description="comparison.balance_summary is empty")


# The one-row balance summary (written by the covariate_balance asset); not_estimable is the reason when there
# were no weights to check (NULL otherwise).
BALANCE_SUMMARY = ("SELECT weights, max_abs_smd_after, balance_passed, equipoise, equipoise_passed, ess_treatment, "
                   "ess_comparator, n_treatment, n_comparator, not_estimable FROM comparison.balance_summary")


def _summary(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    cursor = con.execute(BALANCE_SUMMARY)
    row = cursor.fetchone()
    return None if row is None else dict(zip([c[0] for c in cursor.description], row, strict=True))


def _nothing_to_check(summary: dict[str, Any]) -> CheckOutcome | None:
    """No weights, hence no balance to check (SAP 9): the check holds and says why. None when there are."""
    reason = summary["not_estimable"]
    if not isinstance(reason, str):
        return None
    return CheckOutcome(0, 0, {"not_estimable": reason}, f"Nothing to check, not estimable: {reason}")


def _judged(con: duckdb.DuckDBPyConnection, verdict: Callable[[dict[str, Any]], CheckOutcome]) -> CheckOutcome:
    """Both checks read the same one-row summary and hold the same way when there is nothing to judge (an
    empty table, a comparison not estimable); only what they judge on an estimated summary differs."""
    s = _summary(con)
    if s is None:
        return _EMPTY
    held = _nothing_to_check(s)
    return held if held is not None else verdict(s)


def balance(con: duckdb.DuckDBPyConnection, study: Study) -> CheckOutcome:
    def verdict(s: dict[str, Any]) -> CheckOutcome:
        metadata = {"max_abs_smd_after": float(s["max_abs_smd_after"]), "limit": study.smd_limit,
                    "weights": s["weights"]}
        return CheckOutcome(int(not s["balance_passed"]), 1, metadata)
    return _judged(con, verdict)


def equipoise(con: duckdb.DuckDBPyConnection, study: Study) -> CheckOutcome:
    def verdict(s: dict[str, Any]) -> CheckOutcome:
        return CheckOutcome(int(not s["equipoise_passed"]), 1,
                            {"equipoise": float(s["equipoise"]), "minimum": study.equipoise_minimum})
    return _judged(con, verdict)


COMPARISON_CHECKS = (
    CheckSpec("covariate_balance", "balance",
              "Every |SMD| after weighting ≤ the study's comparison.smd_limit (SAP 6 gate, 0.1). Fails with ERROR "
              "otherwise; results stay available, marked balance_achieved = false. Holds when there is nothing to "
              "check (the comparison is not estimable).", judge=balance, blocking=False),
    CheckSpec("covariate_balance", "equipoise",
              "Share of patients with preference score in the study's comparison.equipoise_band (SAP [0.3, 0.7]) "
              "≥ comparison.equipoise_minimum (SAP 20%; Walker et al. 2013). Warns otherwise; holds when there is "
              "nothing to check.",
              judge=equipoise, blocking=False, severity="WARN"),
)
