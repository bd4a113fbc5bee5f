"""Satisfaction (SAP section 3): satisfied / respondents per arm, definition and visit, Wilson 95% CI.

Satisfied = value <= satisfied_max of the definition (NASS index 1 or 2; secondary: ZCQ satisfaction <= 2.5).
The primary definition at the primary visit (NASS, M12) is the headline and the claim "85% of patients are
satisfied" (SAP section 7).

Rows exist only for groups with respondents. An arm with no respondent of the primary definition at any
follow-up visit gets no row and a recorded gap `satisfaction[ARM]` (SAP 9; pipeline/outcomes/gaps.py).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.estimable import Gap, record_gaps
from pipeline.outcomes import gaps as g
from pipeline.outcomes.built import estimate_with_ci, rows_where, with_rates
from pipeline.outcomes.store import record_parameters, transaction
from pipeline.sql import query
from pipeline.study import Study
from pipeline.warehouse import Built, write_table

ASSET = "satisfaction_rates"


def definition_params(study: Study) -> dict[str, list]:
    """The satisfaction definitions as the parallel lists sql/outcomes/satisfaction_counts.sql takes."""
    defs = study.satisfaction
    return {
        "definitions": [d.name for d in defs],
        "instruments": [d.instrument for d in defs],
        "satisfied_max": [d.satisfied_max for d in defs],
        "primary_definition": [d.name == study.primary_satisfaction for d in defs],
    }


def build_satisfaction_rates(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    """outcomes.satisfaction_rates: one row per arm, definition and post-baseline visit."""
    counts = query(con, "outcomes/satisfaction_counts", **definition_params(study), baseline_visit=study.baseline_visit)
    frame = with_rates(counts, "satisfied")
    frame["primary_visit"] = frame["visit"] == study.primary_visit
    gaps = satisfaction_gaps(frame, g.arm_patients(con, study), study)
    with transaction(con):
        rows = write_table(con, f"outcomes.{ASSET}", frame)
        record_parameters(con, ASSET, study)
        record_gaps(con, ASSET, gaps)
    return Built(ASSET, {f"outcomes.{ASSET}": rows}, satisfaction_headline(frame, study), gaps=tuple(gaps))


def satisfaction_gaps(frame: pd.DataFrame, patients: dict[str, int], study: Study) -> list[Gap]:
    """`satisfaction[ARM]` for an arm without patients, or without a respondent of the primary definition."""
    (primary,) = [d for d in study.satisfaction if d.name == study.primary_satisfaction]
    answered = set(frame.loc[frame["primary_definition"].astype(bool), "arm"])
    out = []
    for arm in study.arms:
        if not patients.get(arm):
            out.append(Gap(g.member("satisfaction", arm), g.no_patients(arm)))
        elif arm not in answered:
            out.append(Gap(g.member("satisfaction", arm), g.not_answered_after_baseline(primary.instrument)))
    return out


def satisfaction_headline(frame: pd.DataFrame, study: Study) -> dict[str, float]:
    """Rate, CI and respondents of every definition at the primary visit, per arm."""
    out: dict[str, float] = {}
    for r in rows_where(frame, visit=study.primary_visit).itertuples():
        name = f"{r.arm} satisfied ({r.definition}) {r.visit}"
        out |= estimate_with_ci(name, r.rate, r.ci_lower, r.ci_upper)
        out[f"{name} respondents"] = float(r.n)
    return out
