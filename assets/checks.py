"""Asset checks on the ingest and staging assets. Blocking checks stop downstream assets (and so the
published report) when the data under them is wrong; the logic is SQL in sql/check_<name>.sql."""

from dataclasses import dataclass

import dagster as dg

from assets.resources import Warehouse
from pipeline.checks import run_check


@dataclass(frozen=True)
class CheckDef:
    asset: str
    name: str
    description: str
    blocking: bool = True


CHECKS = (
    CheckDef("drop_reconciliation", "reconciliation_balances",
             "Every file of every drop: rows read = accepted + quarantined + duplicates."),
    CheckDef("quarantined_rows", "quarantine_reasons_known",
             "Every quarantined row carries a contract reason code and its line.", blocking=False),
    CheckDef("patient_history", "current_patient_keys_unique",
             "The current patient view has one row per (site_id, patient_id)."),
    CheckDef("pro_response_history", "pro_history_within_contract",
             "Accepted PRO rows have known instruments, days and values within the contract's ranges."),
    CheckDef("event_history", "event_history_codes_known",
             "Accepted events have contract codes and days in 0..3650."),
    CheckDef("patients", "patients_key_unique", "One staging row per (site_id, patient_id)."),
    CheckDef("patients", "patients_within_contract",
             "Ages 18-90 after top-coding, sex coded, levels 1-5, arm consistent with the analysis flag."),
    CheckDef("pro_assessments", "pro_assessments_canonical",
             "Values in canonical units (metres, minutes) within each instrument's range."),
    CheckDef("pro_visits", "pro_visits_one_per_visit", "At most one assessment per patient, instrument, visit."),
    CheckDef("pro_visits", "pro_visits_within_window", "No visit assigned outside its window."),
    CheckDef("follow_up", "follow_up_one_per_patient",
             "Exactly one follow-up row per staging patient, with follow-up end ≥ 0."),
    CheckDef("events", "events_name_known_patients", "Every staging event belongs to a staging patient."),
)


def _build(check: CheckDef) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=check.asset, name=check.name, description=check.description, blocking=check.blocking
    )
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.get_connection() as con:
            outcome = run_check(con, check.name)
        return dg.AssetCheckResult(
            passed=outcome.passed,
            metadata={"failures": outcome.failures, "rows_checked": outcome.checked},
        )

    return _check


ASSET_CHECKS = [_build(c) for c in CHECKS]
