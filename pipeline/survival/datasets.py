"""The analysis data sets of SAP section 4, built in SQL from the staging tables (sql/durability_*_dataset.sql).

One row per analysis patient each, in schema `durability`. Parameters travel as `?` values. The horizon, the
baseline visit and the ODI responder rule of durable response (`responders.ODI`: rule, absolute and relative
thresholds) come from the study configuration, so a run-config override changes durable response as it
changes the responder rates; so do the event codes (`[events]`).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd

from pipeline.sql import load_sql
from pipeline.study import SAP_EVENTS, SAP_MCID, Mcid, Study, load_study


def build_reintervention_dataset(con: duckdb.DuckDBPyConnection, horizon_days: int,
                                 events: Sequence[str] = SAP_EVENTS.reintervention) -> int:
    """(Re)builds durability.reintervention_dataset; returns its row count."""
    return _build(con, "reintervention_dataset", [horizon_days, list(events)])


def build_return_to_activity_dataset(con: duckdb.DuckDBPyConnection, horizon_days: int,
                                     event: str = SAP_EVENTS.return_to_activity) -> int:
    return _build(con, "return_to_activity_dataset", [horizon_days, event])


def build_durable_response_dataset(con: duckdb.DuckDBPyConnection, study: Study | None = None,
                                   events: Sequence[str] | None = None) -> int:
    """(Re)builds durability.durable_response_dataset with the study's baseline visit, ODI responder rule and
    reintervention codes (the committed study file when `study` is None); returns its row count."""
    study = load_study() if study is None else study
    odi = odi_responder(study)
    events = study.events.reintervention if events is None else events
    return _build(con, "durable_response_dataset",
                  [study.baseline_visit, odi.rule, odi.absolute, odi.relative, list(events)])


def odi_responder(study: Study) -> Mcid:
    """The study's ODI responder rule (SAP 3); the SAP's own when the study does not analyse ODI changes."""
    odi = next((m for m in study.mcid if m.instrument == "ODI"), None)
    odi = odi or next(m for m in SAP_MCID if m.instrument == "ODI")
    if odi.rule not in ("absolute", "relative") or odi.rule not in odi.thresholds():
        raise ValueError(f"ODI responder rule {odi.rule!r} has no threshold")
    return odi


def _build(con: duckdb.DuckDBPyConnection, name: str, params: list) -> int:
    con.execute(load_sql("durability_schema"))
    con.execute(load_sql(f"durability_{name}"), params)
    return table_rows(con, name)


def table_rows(con: duckdb.DuckDBPyConnection, name: str) -> int:
    return int(con.table(f"durability.{name}").aggregate("count(*)").fetchone()[0])


def key_numbers(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, float]:
    """(name, value) rows of sql/durability_metadata_<name>.sql: counts per arm for asset metadata."""
    return {str(k): float(v) for k, v in con.execute(load_sql(f"durability_metadata_{name}")).fetchall()}


def load(con: duckdb.DuckDBPyConnection, name: str, columns: Sequence[str]) -> dict[str, np.ndarray]:
    """Columns of durability.<name> as numpy arrays (a relation, so no SQL text is built)."""
    return con.table(f"durability.{name}").select(*columns).fetchnumpy()


def write(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> int:
    """Replace durability.<name> by `frame`, typed by sql/durability_<name>.sql; returns the row count."""
    con.register("result_frame", frame)
    try:
        con.execute(load_sql(f"durability_{name}"))
    finally:
        con.unregister("result_frame")
    return len(frame)
