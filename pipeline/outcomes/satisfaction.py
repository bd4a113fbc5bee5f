"""Satisfaction (SAP section 3): satisfied / respondents per arm, definition and visit, Wilson 95% CI.

Satisfied = value <= satisfied_max of the definition (NASS index 1 or 2; secondary: ZCQ satisfaction <= 2.5).
The primary definition at the primary visit (NASS, M12) is the headline and the claim "85% of patients are
satisfied" (SAP section 7).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.outcomes.built import Built, estimate_with_ci, rows_where, with_rates
from pipeline.outcomes.store import query, record_parameters, replace_table, transaction
from pipeline.study import Study

ASSET = "satisfaction_rates"


def definition_params(study: Study) -> list[list]:
    """The satisfaction definitions as the parallel lists sql/outcomes_satisfaction_counts.sql takes."""
    defs = study.satisfaction
    return [
        [d.name for d in defs],
        [d.instrument for d in defs],
        [d.satisfied_max for d in defs],
        [d.name == study.primary_satisfaction for d in defs],
    ]


def build_satisfaction_rates(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    """outcomes.satisfaction_rates: one row per arm, definition and post-baseline visit."""
    counts = query(con, "outcomes_satisfaction_counts", [*definition_params(study), study.baseline_visit])
    frame = with_rates(counts, "satisfied")
    frame["primary_visit"] = frame["visit"] == study.primary_visit
    with transaction(con):
        rows = replace_table(con, ASSET, frame)
        record_parameters(con, ASSET, study)
    return Built(ASSET, f"outcomes.{ASSET}", rows, satisfaction_headline(frame, study))


def satisfaction_headline(frame: pd.DataFrame, study: Study) -> dict[str, float]:
    """Rate, CI and respondents of every definition at the primary visit, per arm."""
    out: dict[str, float] = {}
    for r in rows_where(frame, visit=study.primary_visit).itertuples():
        name = f"{r.arm} satisfied ({r.definition}) {r.visit}"
        out |= estimate_with_ci(name, r.rate, r.ci_lower, r.ci_upper)
        out[f"{name} respondents"] = float(r.n)
    return out
