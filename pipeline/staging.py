"""Staging stage: clean, typed tables in schema `staging`, rebuilt in full from the ingest current_* views
and the study configuration by the SQL models sql/staging_<name>.sql (see docs/staging.md).

Every build replaces its table (CREATE OR REPLACE TABLE ... AS), so a rebuild after a correction or an
erasure leaves nothing stale behind. Values reach the SQL only as `?` parameters.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from pipeline import contract
from pipeline.sql import load_sql
from pipeline.study import Study

# Public models, in dependency order; each is one Dagster asset. The config tables visit_windows and units
# are built as part of pro_assessments, the only model that reads them, so that a changed study file always
# takes effect together with the assignments that depend on it.
STAGING_MODELS: tuple[str, ...] = ("patients", "pro_assessments", "pro_visits", "events", "follow_up")

Params = Callable[[Study], list]


def _no_params(study: Study) -> list:
    return []


def _arm_params(study: Study) -> list:
    if study.treatment == study.comparator:
        # Every patient of that code would be "treatment" and the comparison would be silently empty.
        raise ValueError(f"treatment and comparator are the same procedure code {study.treatment!r}")
    return [study.treatment, study.comparator]


def _visit_window_params(study: Study) -> list:
    rows = study.visit_rows()
    return [[r[i] for r in rows] for i in range(5)]


def _unit_params(study: Study) -> list:
    rows = [
        (unit, code, contract.UNIT_FACTORS[unit], contract.CANONICAL_UNIT[code])
        for code, instrument in contract.INSTRUMENTS.items()
        for unit in instrument.units
    ]
    return [[r[i] for r in rows] for i in range(4)]


# Model -> the SQL files it runs, in order, each with the function giving its parameters.
_STEPS: dict[str, tuple[tuple[str, Params], ...]] = {
    "patients": (("staging_patients", _arm_params),),
    "pro_assessments": (
        ("staging_visit_windows", _visit_window_params),
        ("staging_units", _unit_params),
        ("staging_pro_assessments", _no_params),
    ),
    "pro_visits": (("staging_pro_visits", _no_params),),
    "events": (("staging_events", _no_params),),
    "follow_up": (("staging_follow_up", _no_params),),
}


def build_model(con: duckdb.DuckDBPyConnection, name: str, study: Study) -> int:
    """(Re)build staging.<name> from the current ingest rows and `study`; return its row count.

    A model's statements run in one transaction: a failure leaves the previous tables as they were.
    """
    if name not in _STEPS:
        raise ValueError(f"unknown staging model {name!r}; known: {', '.join(STAGING_MODELS)}")
    steps = [(load_sql(sql_name), params(study)) for sql_name, params in _STEPS[name]]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS staging")
        for sql, params in steps:
            # CREATE TABLE ... AS reports the rows it wrote; the last step creates staging.<name>.
            (rows,) = con.execute(sql, params).fetchone()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return int(rows)


def build_all(con: duckdb.DuckDBPyConnection, study: Study) -> dict[str, int]:
    """Build every staging model in dependency order; return the row count of each."""
    return {name: build_model(con, name, study) for name in STAGING_MODELS}
