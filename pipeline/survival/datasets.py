"""The analysis data sets of SAP section 4, built in SQL from the staging tables (sql/durability_*_dataset.sql).

One row per analysis patient each, in schema `durability`. Parameters travel as `?` values; their defaults
are the SAP's. (The ODI responder rule will come from the study configuration once it carries it; until
then it is an argument here, default ODI improvement ≥ 10 points.)
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd

from pipeline.sql import load_sql

REINTERVENTION_EVENTS = ("REINTERVENTION_SURGERY", "REPEAT_MILD")  # SAP 4.1
RECOVERY_EVENT = "RETURN_TO_ACTIVITY"  # SAP 4.3
ODI_RULE, ODI_ABSOLUTE, ODI_RELATIVE = "absolute", 10.0, 0.30  # SAP 3: responder = improvement ≥ 10 points
BASELINE_VISIT = "BASELINE"


def build_reintervention_dataset(con: duckdb.DuckDBPyConnection, horizon_days: int,
                                 events: Sequence[str] = REINTERVENTION_EVENTS) -> int:
    """(Re)builds durability.reintervention_dataset; returns its row count."""
    return _build(con, "reintervention_dataset", [horizon_days, list(events)])


def build_return_to_activity_dataset(con: duckdb.DuckDBPyConnection, horizon_days: int,
                                     event: str = RECOVERY_EVENT) -> int:
    return _build(con, "return_to_activity_dataset", [horizon_days, event])


def build_durable_response_dataset(con: duckdb.DuckDBPyConnection, rule: str = ODI_RULE,
                                   absolute: float = ODI_ABSOLUTE, relative: float = ODI_RELATIVE,
                                   events: Sequence[str] = REINTERVENTION_EVENTS,
                                   baseline_visit: str = BASELINE_VISIT) -> int:
    if rule not in ("absolute", "relative"):
        raise ValueError(f"unknown responder rule {rule!r} (absolute or relative)")
    return _build(con, "durable_response_dataset", [baseline_visit, rule, absolute, relative, list(events)])


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
