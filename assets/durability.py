"""Durability stage (SAP section 4): time-to-event analysis data sets and fits, tables in schema `durability`.

Thin specs: the data sets are SQL models (sql/durability/*_dataset.sql, pipeline.survival.datasets), the
fits live in pipeline.survival.durability_tables, and every estimator is checked against R (docs/durability.md).
"""

from collections.abc import Callable
from typing import Any

import duckdb

from assets.table_assets import TableAsset, table_asset
from pipeline.study import Study
from pipeline.survival import durability_tables
from pipeline.survival.datasets import (
    build_durable_response_dataset,
    build_reintervention_dataset,
    build_return_to_activity_dataset,
    key_numbers,
)
from pipeline.warehouse import Built

GROUP = "durability"
SQL_KINDS = frozenset({"duckdb", "sql"})
FIT_KINDS = frozenset({"duckdb", "python"})


def _dataset(name: str, build: Callable[[duckdb.DuckDBPyConnection, Study], int]
             ) -> Callable[[duckdb.DuckDBPyConnection, Study], Built]:
    """A data set's build: its rows, with the counts per arm of sql/durability/metadata_<name>.sql."""
    def _build(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
        rows = build(con, study)
        return Built(name, {f"durability.{name}": rows}, key_numbers(con, name))

    return _build


def _time_to_event_dataset(name: str, description: str, build: Callable[[duckdb.DuckDBPyConnection, int, Any], int],
                           events: Callable[[Study], Any]) -> TableAsset:
    """A time-to-event data set (sql/durability/<name>.sql): from the patients, their events and follow-up,
    capped at the study's horizon, with the study's event codes of that outcome."""
    return TableAsset(name, GROUP, description, ("patients", "events", "follow_up"), SQL_KINDS,
                      _dataset(name, lambda con, study: build(con, study.horizon_days, events(study))))


DURABILITY_SPECS = (
    _time_to_event_dataset(
        "reintervention_dataset",
        """One row per analysis patient: time to first reintervention (REINTERVENTION_SURGERY or REPEAT_MILD),
        death as competing event, censored at follow-up end, everything capped at the horizon (SAP 4.1).""",
        build_reintervention_dataset, lambda study: study.events.reintervention,
    ),
    TableAsset(
        "reintervention_km", GROUP,
        """Freedom from reintervention per arm: KM with log(−log) 95% CIs at days 365…1826, patients at risk,
        events and censored per year (durability.reintervention_km), and the whole curve
        (durability.reintervention_km_curve).""",
        ("reintervention_dataset",), FIT_KINDS,
        lambda con, study: durability_tables.reintervention_km(con, study=study),
    ),
    TableAsset(
        "reintervention_comparison", GROUP,
        """Treatment vs comparator: log-rank test, Cox hazard ratio (Efron ties, Wald CI), proportional-hazards
        test (R's cox.zph), RMST to the horizon per arm and its difference (durability.reintervention_comparison).""",
        ("reintervention_dataset",), FIT_KINDS,
        lambda con, study: durability_tables.reintervention_comparison(con, tau=study.horizon_days, study=study),
    ),
    TableAsset(
        "reintervention_cif", GROUP,
        """Cumulative incidence of reintervention with death as competing risk, per arm at days 365…1826
        (deterministic Aalen–Johansen; durability.reintervention_cif), and the whole curve with delta-method
        log(−log) 95% CIs, one row per distinct time (durability.reintervention_cif_curve).""",
        ("reintervention_dataset",), FIT_KINDS,
        lambda con, study: durability_tables.reintervention_cif(con, study=study),
    ),
    TableAsset(
        "durable_response_dataset", GROUP,
        """One row per analysis patient: the interval in which durable ODI response ended (first bad signal:
        visit where the patient is not an ODI responder by the study's rule, or reintervention, up to the end of
        the M60 window), or why the patient is excluded (SAP 4.2).""",
        ("patients", "events", "pro_visits"), SQL_KINDS,
        _dataset("durable_response_dataset", build_durable_response_dataset),
    ),
    TableAsset(
        "durable_response_turnbull", GROUP,
        """Probability of durable ODI response per arm at days 365, 730 and 1826, by Turnbull's NPMLE, with 95% CIs
        from a seeded bootstrap of patients (durability.durable_response_turnbull), the difference treatment −
        comparator at day 1826 (durability.durable_response_difference), and the whole curve, one row per support
        point (durability.durable_response_curve).""",
        ("durable_response_dataset",), FIT_KINDS,
        lambda con, study: durability_tables.durable_response_turnbull(con, study=study),
    ),
    _time_to_event_dataset(
        "return_to_activity_dataset",
        """One row per analysis patient: time to first RETURN_TO_ACTIVITY, censored at follow-up end or death,
        capped at the horizon (SAP 4.3).""",
        build_return_to_activity_dataset, lambda study: study.events.return_to_activity,
    ),
    TableAsset(
        "return_to_activity_km", GROUP,
        """Recovery per arm: KM median days with 95% CI, share back by day 14 and 28 (1 − KM) with CIs
        (durability.return_to_activity_km), and the whole curve (durability.return_to_activity_km_curve).""",
        ("return_to_activity_dataset",), FIT_KINDS,
        lambda con, study: durability_tables.return_to_activity_km(con, study=study),
    ),
)

DURABILITY_ASSETS = [table_asset(spec) for spec in DURABILITY_SPECS]
