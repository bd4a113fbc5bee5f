"""The analysis data sets of SAP section 4, built in SQL from the staging tables (sql/durability/*_dataset.sql).

One row per analysis patient each, in schema `durability`. Values travel only as parameters. The horizon, the
baseline visit and the ODI responder rule of durable response (`responders.ODI`: rule, absolute and relative
thresholds) come from the study configuration, so a run-config override changes durable response as it
changes the responder rates; so do the event codes (`[events]`).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np

from pipeline.sql import run
from pipeline.study import SAP_EVENTS, SAP_MCID, Mcid, Study, load_study


def build_reintervention_dataset(con: duckdb.DuckDBPyConnection, horizon_days: int,
                                 events: Sequence[str] = SAP_EVENTS.reintervention) -> int:
    """(Re)builds durability.reintervention_dataset; returns its row count."""
    run(con, "durability/reintervention_dataset", horizon=horizon_days, reintervention_events=list(events))
    return table_rows(con, "reintervention_dataset")


def build_return_to_activity_dataset(con: duckdb.DuckDBPyConnection, horizon_days: int,
                                     event: str = SAP_EVENTS.return_to_activity) -> int:
    run(con, "durability/return_to_activity_dataset", horizon=horizon_days, recovery_event=event)
    return table_rows(con, "return_to_activity_dataset")


def build_durable_response_dataset(con: duckdb.DuckDBPyConnection, study: Study | None = None,
                                   events: Sequence[str] | None = None) -> int:
    """(Re)builds durability.durable_response_dataset with the study's baseline visit, ODI responder rule and
    reintervention codes (the committed study file when `study` is None); returns its row count."""
    study = load_study() if study is None else study
    odi = odi_responder(study)
    events = study.events.reintervention if events is None else events
    run(con, "durability/durable_response_dataset", baseline_visit=study.baseline_visit, rule=odi.rule,
        absolute_threshold=odi.absolute, relative_threshold=odi.relative, reintervention_events=list(events))
    return table_rows(con, "durable_response_dataset")


def odi_responder(study: Study) -> Mcid:
    """The study's ODI responder rule (SAP 3); the SAP's own when the study does not analyse ODI changes."""
    odi = next((m for m in study.mcid if m.instrument == "ODI"), None)
    odi = odi or next(m for m in SAP_MCID if m.instrument == "ODI")
    if odi.rule not in ("absolute", "relative") or odi.rule not in odi.thresholds():
        raise ValueError(f"ODI responder rule {odi.rule!r} has no threshold")
    return odi


def table_rows(con: duckdb.DuckDBPyConnection, name: str) -> int:
    return int(con.table(f"durability.{name}").aggregate("count(*)").fetchone()[0])


# The models giving each data set's key numbers.
_METADATA_MODELS = {
    "reintervention_dataset": "durability/metadata_reintervention_dataset",
    "durable_response_dataset": "durability/metadata_durable_response_dataset",
    "return_to_activity_dataset": "durability/metadata_return_to_activity_dataset",
}


def key_numbers(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, float]:
    """(name, value) rows of the data set's metadata model: counts per arm for asset metadata."""
    return {str(k): float(v) for k, v in run(con, _METADATA_MODELS[name]).fetchall()}


def load(con: duckdb.DuckDBPyConnection, name: str, columns: Sequence[str]) -> dict[str, np.ndarray]:
    """Columns of durability.<name> as numpy arrays (a relation, so no SQL text is built)."""
    return con.table(f"durability.{name}").select(*columns).fetchnumpy()

