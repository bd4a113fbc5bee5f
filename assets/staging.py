"""Staging stage: clean, typed tables kept up to date with the current ingest rows by the SQL models in sql/
(incrementally where safe: see pipeline/incremental.py). The metadata says how each table was built."""

from dataclasses import dataclass

import dagster as dg

from assets.resources import RefreshPaths, Warehouse
from pipeline.sql import run
from pipeline.staging import build_model


@dataclass(frozen=True)
class StagingAsset:
    name: str
    description: str
    deps: tuple[str, ...]


STAGING_ASSETS = (
    StagingAsset("patients", "One row per current patient: contract columns typed, arm and analysis flag.",
                 ("patient_history",)),
    StagingAsset("pro_assessments",
                 "Every current PRO row in canonical units (metres, minutes) with its visit window, or flagged "
                 "as outside every window, and whether it is the one used for its visit (SAP section 2).",
                 ("pro_response_history",)),
    StagingAsset("pro_visits", "The assessment used per patient, instrument and visit (closest to target, "
                 "ties to the earlier day): a view on the selected rows of pro_assessments.",
                 ("pro_assessments",)),
    StagingAsset("events", "Current clinical events, without free text.", ("event_history",)),
    StagingAsset("follow_up", "Each patient's follow-up end (SAP section 1) and death, withdrawal and last "
                 "contact days.", ("patients", "pro_assessments", "events")),
)


def _build(spec: StagingAsset) -> dg.AssetsDefinition:
    @dg.asset(
        name=spec.name, description=spec.description, group_name="staging", kinds={"duckdb", "sql"},
        deps=list(spec.deps),
    )
    def _asset(warehouse: Warehouse, paths: RefreshPaths) -> dg.MaterializeResult:
        with warehouse.get_connection() as con:
            result = build_model(con, spec.name, paths.study())
            extra = _key_numbers(con, spec.name)
        return dg.MaterializeResult(metadata={"dagster/row_count": result.rows, **result.metadata(), **extra})

    return _asset


# The staging models with key numbers for the asset metadata (counts, never an identifier).
_METADATA_MODELS = {
    "patients": "metadata_patients",
    "pro_assessments": "metadata_pro_assessments",
    "follow_up": "metadata_follow_up",
}


def _key_numbers(con, name: str) -> dict[str, float]:
    """Counts from the model's metadata SQL, when it has one."""
    if name not in _METADATA_MODELS:
        return {}
    return {key: float(value) for key, value in run(con, _METADATA_MODELS[name]).fetchall()}


STAGING = [_build(s) for s in STAGING_ASSETS]
