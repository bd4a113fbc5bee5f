"""The one check mechanism of the pipeline: a `CheckSpec` says what a check guards and how it is judged, and
`run_check` judges it into a `CheckOutcome`. assets/checks.py turns every spec into a Dagster asset check.

A check is judged either by SQL (sql/<name>.sql returning one row: failures, checked, then optional extra
columns reported as metadata under their own names), with named `$params` computed from the study, or, for
the few checks that need Python logic, by a judge function. The checks hold on empty tables: they block wrong
numbers, not absent ones (SAP 9). The specs of every stage are collected in pipeline/check_registry.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import duckdb

from pipeline import contract
from pipeline.sql import load_sql
from pipeline.study import Study

Severity = Literal["ERROR", "WARN"]
Metadata = dict[str, float | int | str]


@dataclass(frozen=True)
class CheckOutcome:
    failures: int
    checked: int
    metadata: Metadata = field(default_factory=dict)
    description: str | None = None  # says why, when the outcome needs more than its numbers (nothing to check)

    @property
    def passed(self) -> bool:
        return self.failures == 0


Judge = Callable[[duckdb.DuckDBPyConnection, Study], CheckOutcome]
Params = Callable[[Study], Mapping[str, object]]


def _no_params(study: Study) -> Mapping[str, object]:
    return {}


@dataclass(frozen=True)
class CheckSpec:
    """One check of `asset`, published as the asset check `<asset>_<name>`.

    Exactly one of `sql` (a sql/ file name) and `judge` is given. `recount_sql`: a check that counts on hashes
    for speed names the exact recount of a failure, so that a hash collision can never fail a check that holds.
    """

    asset: str
    name: str
    description: str
    sql: str | None = None
    params: Params = _no_params
    judge: Judge | None = None
    recount_sql: str | None = None
    blocking: bool = True
    severity: Severity = "ERROR"

    def __post_init__(self) -> None:
        if (self.sql is None) == (self.judge is None):
            raise ValueError(f"check {self.asset}_{self.name} needs exactly one of sql and judge")


def run_check(con: duckdb.DuckDBPyConnection, spec: CheckSpec, study: Study) -> CheckOutcome:
    if spec.judge is not None:
        return spec.judge(con, study)
    params = dict(spec.params(study))
    outcome = _counted(con, spec.sql, params)
    if outcome.failures and spec.recount_sql is not None:
        outcome = _counted(con, spec.recount_sql, params)
    return outcome


def _counted(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> CheckOutcome:
    cursor = con.execute(load_sql(sql), params) if params else con.execute(load_sql(sql))
    extra = [column[0] for column in cursor.description[2:]]
    failures, checked, *rest = cursor.fetchone()
    metadata: Metadata = {"failures": int(failures or 0), "rows_checked": int(checked or 0)}
    metadata |= {name: float(value or 0) for name, value in zip(extra, rest, strict=True)}
    return CheckOutcome(int(failures or 0), int(checked or 0), metadata)


def _instrument_bounds() -> dict[str, list]:
    codes = list(contract.INSTRUMENTS)
    return {"instruments": codes, "lows": [contract.INSTRUMENTS[c].low for c in codes],
            "highs": [contract.INSTRUMENTS[c].high for c in codes]}


def _pro_history_params(study: Study) -> dict[str, list]:
    units = list(contract.UNIT_FACTORS)
    return {**_instrument_bounds(), "units": units, "factors": [contract.UNIT_FACTORS[u] for u in units]}


def _canonical_params(study: Study) -> dict[str, list]:
    return {**_instrument_bounds(), "canonical_units": [contract.CANONICAL_UNIT.get(c) for c in contract.INSTRUMENTS]}


# The checks of the ingest and staging assets: blocking ones stop downstream assets (and so the published
# report) when the data under them is wrong.
STAGING_CHECKS = (
    CheckSpec("drop_reconciliation", "reconciliation_balances",
              "Every file of every drop: rows read = accepted + quarantined + duplicates.",
              sql="checks/reconciliation_balances"),
    CheckSpec("quarantined_rows", "quarantine_reasons_known",
              "Every quarantined row carries a contract reason code and its line.",
              sql="checks/quarantine_reasons_known",
              params=lambda study: {"reason_codes": list(contract.REASON_CODES)}, blocking=False),
    CheckSpec("patient_history", "current_patient_keys_unique",
              "The current patient view has one row per (site_id, patient_id).",
              sql="checks/current_patient_keys_unique"),
    CheckSpec("pro_response_history", "pro_history_within_contract",
              "Accepted PRO rows have known instruments, days and values within the contract's ranges.",
              sql="checks/pro_history_within_contract", params=_pro_history_params),
    CheckSpec("event_history", "event_history_codes_known",
              "Accepted events have contract codes and days in 0..3650.",
              sql="checks/event_history_codes_known",
              params=lambda study: {"event_codes": list(contract.EVENTS)}),
    CheckSpec("patients", "patients_key_unique", "One staging row per (site_id, patient_id).",
              sql="checks/patients_key_unique"),
    CheckSpec("patients", "patients_within_contract",
              "Ages 18-90 after top-coding, sex coded, levels 1-5, arm consistent with the analysis flag.",
              sql="checks/patients_within_contract"),
    CheckSpec("pro_assessments", "pro_assessments_canonical",
              "Values in canonical units (metres, minutes) within each instrument's range.",
              sql="checks/pro_assessments_canonical", params=_canonical_params),
    CheckSpec("pro_visits", "pro_visits_one_per_visit", "At most one assessment per patient, instrument, visit.",
              sql="checks/pro_visits_one_per_visit", recount_sql="checks/pro_visits_one_per_visit_exact"),
    CheckSpec("pro_visits", "pro_visits_within_window", "No visit assigned outside its window.",
              sql="checks/pro_visits_within_window"),
    CheckSpec("follow_up", "follow_up_one_per_patient",
              "Exactly one follow-up row per staging patient, with follow-up end ≥ 0.",
              sql="checks/follow_up_one_per_patient"),
    CheckSpec("events", "events_name_known_patients", "Every staging event belongs to a staging patient.",
              sql="checks/events_name_known_patients"),
)
