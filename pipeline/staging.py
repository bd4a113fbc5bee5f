"""Staging stage: clean, typed tables in schema `staging`, computed from the ingest current_* relations and
the study configuration by the SQL models sql/staging/<name>.sql (see docs/staging.md).

The patient-level tables are brought up to date incrementally when that is safe: only the patients whose
current ingest rows changed since the last build are deleted and re-inserted (pipeline/incremental.py);
otherwise, and on any doubt, the table is rebuilt in full. Both give the same rows. `staging.pro_visits` is a
view on `staging.pro_assessments`. Values reach the SQL only as named `$` parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from pipeline import contract, incremental
from pipeline.incremental import PatientTable, how_built
from pipeline.sql import load_sql, run
from pipeline.study import Study
from pipeline.warehouse import Built, transaction

# Public models, in dependency order; each is one Dagster asset. The config tables visit_windows and units
# are built as part of pro_assessments, the only model that reads them, so that a changed study file always
# takes effect together with the assignments that depend on it.
STAGING_MODELS: tuple[str, ...] = ("patients", "pro_assessments", "pro_visits", "events", "follow_up")

Params = Callable[[Study], dict[str, Any]]


def _no_params(study: Study) -> dict[str, Any]:
    return {}


def _arm_params(study: Study) -> dict[str, Any]:
    if study.treatment == study.comparator:
        # Every patient of that code would be "treatment" and the comparison would be silently empty.
        raise ValueError(f"treatment and comparator are the same procedure code {study.treatment!r}")
    return {"treatment": study.treatment, "comparator": study.comparator}


def _follow_up_params(study: Study) -> dict[str, str]:
    return {"death_event": study.events.death, "withdrawn_event": study.events.withdrawal,
            "last_contact_event": study.events.last_contact}


def visit_window_params(study: Study) -> dict[str, list]:
    """The study's visit windows as the parallel lists sql/staging/visit_windows.sql takes."""
    rows = study.visit_rows()
    names = ("visit_names", "visit_ordinals", "start_days", "end_days", "target_days")
    return {name: [r[i] for r in rows] for i, name in enumerate(names)}


def _unit_params(study: Study) -> dict[str, Any]:
    rows = [
        (unit, code, contract.UNIT_FACTORS[unit], contract.CANONICAL_UNIT[code])
        for code, instrument in contract.INSTRUMENTS.items()
        for unit in instrument.units
    ]
    names = ("units", "instruments", "factors", "canonical_units")
    return {name: [r[i] for r in rows] for i, name in enumerate(names)}


# Patient-level models: the table, its SELECT, the inputs it reads (scoped to the changed patients on an
# incremental build), the tables whose ingest state it follows, and its parameters.
_PATIENT_TABLES: dict[str, tuple[PatientTable, Params]] = {
    "patients": (PatientTable("staging.patients", "staging/patients",
                              {"scoped_patients": "ingest.current_patients"}), _arm_params),
    "pro_assessments": (PatientTable("staging.pro_assessments", "staging/pro_assessments",
                                     {"scoped_pro_responses": "ingest.current_pro_responses"}), _no_params),
    "events": (PatientTable("staging.events", "staging/events",
                            {"scoped_events": "ingest.current_events"}), _no_params),
    "follow_up": (PatientTable("staging.follow_up", "staging/follow_up",
                               {"scoped_patients": "staging.patients",
                                "scoped_pro_assessments": "staging.pro_assessments",
                                "scoped_events": "staging.events"},
                               upstream=("staging.patients", "staging.pro_assessments", "staging.events")),
                  _follow_up_params),
}

# Config tables rebuilt (same transaction) before a model: (sql name, parameters).
_CONFIG: dict[str, tuple[tuple[str, Params], ...]] = {
    "pro_assessments": (("staging/visit_windows", visit_window_params), ("staging/units", _unit_params)),
}


def build_model(con: duckdb.DuckDBPyConnection, name: str, study: Study, *, full: bool = False
                ) -> Built:
    """Bring staging.<name> up to date with the current ingest rows and `study` (in one transaction: a
    failure leaves the previous tables as they were). `full` forces a rebuild from scratch."""
    if name == "pro_visits":
        return _build_pro_visits(con)
    if name not in _PATIENT_TABLES:
        raise ValueError(f"unknown staging model {name!r}; known: {', '.join(STAGING_MODELS)}")
    spec, params_of = _PATIENT_TABLES[name]
    params = params_of(study)
    config = [(sql_name, p(study)) for sql_name, p in _CONFIG.get(name, ())]
    fp = incremental.fingerprint(name, load_sql(spec.body), params, [(n, load_sql(n), p) for n, p in config],
                                study.sha256)
    return incremental.build(con, spec, params, fp, config=config, force_full=full)


def _build_pro_visits(con: duckdb.DuckDBPyConnection) -> Built:
    with transaction(con):
        (is_table,) = run(con, "staging/table_exists", schema="staging", table="pro_visits").fetchone()
        if is_table:
            # Warehouses built before pro_visits became a view hold a table of that name.
            con.execute("DROP TABLE staging.pro_visits")
        run(con, "staging/pro_visits")
        (rows,) = con.execute("SELECT count(*) FROM staging.pro_visits").fetchone()
    return Built("pro_visits", {"staging.pro_visits": int(rows)},
                 build=how_built("view", "a view on staging.pro_assessments"))


def build_all(con: duckdb.DuckDBPyConnection, study: Study, *, full: bool = False) -> dict[str, int]:
    """Build every staging model in dependency order; return the row count of each."""
    return {name: build_model(con, name, study, full=full).rows for name in STAGING_MODELS}
