"""Numbers of the outcomes stage that the data cannot give (SAP 9), as `Gap`s (pipeline/estimable.py).

Each outcomes asset that feeds a results.json member stores what it can and records, in the same transaction
as its table, one gap per member it cannot fill: `what` is the member path with the arm in brackets
(`complications.rates[MILD]`, `pro_change[MILD][WALK_DISTANCE]`), `reason` one of the fixed phrases below.
A reason names at most an arm code or an instrument code, both study parameters; never a data value.

- pro_change_summary, `pro_change[ARM]`: "no ARM patients"; "no patient answered any of the change
  instruments"; "no patient answered an instrument both at baseline and at a follow-up visit". Otherwise, per
  change instrument without a complete pair, `pro_change[ARM][INSTRUMENT]`: "no patient answered INSTRUMENT";
  "no patient answered INSTRUMENT both at baseline and at a follow-up visit".
- satisfaction_rates, `satisfaction[ARM]`: "no ARM patients"; "no patient answered INSTRUMENT at a follow-up
  visit" (the primary definition's instrument, SATISFACTION by default).
- complication_rates, `complications.rates[ARM]`: "no ARM patients"; `complications.difference.unadjusted`:
  "no ARM patients", "no patients in either arm".
- discharge_summary, `discharge[ARM]`: "no ARM patients"; "no patient has los_days".
"""

from __future__ import annotations

import duckdb

# The phrases and member paths every stage shares live with `Gap`; re-exported so a stage reads them here.
from pipeline.estimable import member as member
from pipeline.estimable import no_patients as no_patients
from pipeline.sql import run
from pipeline.study import Study

NO_LOS = "no patient has los_days"
NEITHER_ARM = "no patients in either arm"
NO_CHANGE_ANSWERS = "no patient answered any of the change instruments"
NO_PAIRS = "no patient answered an instrument both at baseline and at a follow-up visit"


def not_answered(instrument: str) -> str:
    return f"no patient answered {instrument}"


def not_answered_after_baseline(instrument: str) -> str:
    return f"no patient answered {instrument} at a follow-up visit"


def no_pairs(instrument: str) -> str:
    return f"no patient answered {instrument} both at baseline and at a follow-up visit"


def arm_patients(con: duckdb.DuckDBPyConnection, study: Study) -> dict[str, int]:
    """Patients of the analysis population per arm code (0 for an arm without any)."""
    rows = run(con, "outcomes/arm_patients", treatment=study.treatment, comparator=study.comparator).fetchall()
    return {arm: int(n) for arm, n in rows}


def answered(con: duckdb.DuckDBPyConnection, instruments: list[str]) -> set[tuple[str, str]]:
    """(arm code, instrument) pairs of `instruments` that some analysed patient answered at some visit."""
    return {(arm, i) for arm, i in run(con, "outcomes/answered_instruments", instruments=instruments).fetchall()}
