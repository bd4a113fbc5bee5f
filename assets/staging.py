"""Staging stage: clean, typed tables kept up to date with the current ingest rows by the SQL models in sql/
(incrementally where safe: see pipeline/incremental.py). The metadata says how each table was built."""

from collections.abc import Callable
from dataclasses import replace

import duckdb

from assets.table_assets import TableAsset, table_asset
from pipeline.sql import run
from pipeline.staging import build_model
from pipeline.study import Study
from pipeline.warehouse import Built


def _model_build(name: str) -> Callable[[duckdb.DuckDBPyConnection, Study], Built]:
    """The staging model's build, with its key numbers."""
    def _build(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
        return replace(build_model(con, name, study), headline=_key_numbers(con, name))

    return _build


def _model(name: str, description: str, deps: tuple[str, ...]) -> TableAsset:
    return TableAsset(name, "staging", description, deps, frozenset({"duckdb", "sql"}), _model_build(name))


STAGING_SPECS = (
    _model("patients", "One row per current patient: contract columns typed, arm and analysis flag.",
           ("patient_history",)),
    _model("pro_assessments",
           "Every current PRO row in canonical units (metres, minutes) with its visit window, or flagged "
           "as outside every window, and whether it is the one used for its visit (SAP section 2).",
           ("pro_response_history",)),
    _model("pro_visits", "The assessment used per patient, instrument and visit (closest to target, "
           "ties to the earlier day): a view on the selected rows of pro_assessments.",
           ("pro_assessments",)),
    # After patients: its check (events_name_known_patients) runs in this step and reads staging.patients.
    _model("events", "Current clinical events, without free text.", ("event_history", "patients")),
    _model("follow_up", "Each patient's follow-up end (SAP section 1) and death, withdrawal and last "
           "contact days.", ("patients", "pro_assessments", "events")),
)


# The staging models with key numbers for the asset metadata (counts, never an identifier).
_METADATA_MODELS = {
    "patients": "staging/metadata_patients",
    "pro_assessments": "staging/metadata_pro_assessments",
    "follow_up": "staging/metadata_follow_up",
}


def _key_numbers(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, float]:
    """Counts from the model's metadata SQL, when it has one (never an identifier)."""
    if name not in _METADATA_MODELS:
        return {}
    return {key: float(value) for key, value in run(con, _METADATA_MODELS[name]).fetchall()}


STAGING = [table_asset(spec) for spec in STAGING_SPECS]
