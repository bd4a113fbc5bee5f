"""Outcome metrics of SAP sections 2, 3 and 5 (see docs/outcomes.md). No Dagster here: assets/outcomes.py
calls the build_* functions, each of which (re)builds one table of schema `outcomes` and returns a Built."""

import duckdb

from pipeline.outcomes.attendance_weights import build_attendance_weights
from pipeline.outcomes.change import build_pro_change_summary, build_pro_changes
from pipeline.outcomes.completeness import build_follow_up_completeness
from pipeline.outcomes.mar_tables import build_pro_change_mar
from pipeline.outcomes.responders import build_responder_rates
from pipeline.outcomes.safety import build_complication_rates, build_discharge_summary
from pipeline.outcomes.satisfaction import build_satisfaction_rates
from pipeline.outcomes.store import StagingMismatch, check_staging_matches
from pipeline.study import Study
from pipeline.warehouse import Built

# Every table, in dependency order (pro_changes before the two tables read from it).
BUILDERS = {
    "pro_changes": build_pro_changes,
    "pro_change_summary": build_pro_change_summary,
    "responder_rates": build_responder_rates,
    "satisfaction_rates": build_satisfaction_rates,
    "complication_rates": build_complication_rates,
    "discharge_summary": build_discharge_summary,
    "follow_up_completeness": build_follow_up_completeness,
    "attendance_weights": build_attendance_weights,  # SAP 3.1
    "pro_change_mar": build_pro_change_mar,  # SAP 3.1, from attendance_weights and pro_changes
}


def build_all(con: duckdb.DuckDBPyConnection, study: Study) -> dict[str, Built]:
    """Check staging against `study`, then build every outcomes table; return the Built of each."""
    check_staging_matches(con, study)
    return {name: build(con, study) for name, build in BUILDERS.items()}


__all__ = [
    "BUILDERS",
    "StagingMismatch",
    "build_all",
    "build_attendance_weights",
    "build_complication_rates",
    "build_discharge_summary",
    "build_follow_up_completeness",
    "build_pro_change_mar",
    "build_pro_change_summary",
    "build_pro_changes",
    "build_responder_rates",
    "build_satisfaction_rates",
    "check_staging_matches",
]
