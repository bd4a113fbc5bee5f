"""Follow-up completeness (SAP section 2): per arm, visit and instrument, patients with an assessment in the
window / patients whose follow-up end reached the window's start, with a Wilson 95% CI. Instrument 'ANY'
counts an assessment of any instrument (the SAP's definition); single instruments are shown beside it."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.outcomes.built import estimate_with_ci, rows_where, with_rates
from pipeline.outcomes.store import record_parameters, transaction
from pipeline.sql import query
from pipeline.study import Study
from pipeline.warehouse import Built, write_table

ASSET = "follow_up_completeness"


def build_follow_up_completeness(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    """outcomes.follow_up_completeness: one row per arm, visit and instrument (and 'ANY')."""
    counts = query(con, "outcomes/completeness", completeness_instrument=study.completeness_instrument)
    frame = with_rates(counts, "assessed")
    with transaction(con):
        rows = write_table(con, f"outcomes.{ASSET}", frame)
        record_parameters(con, ASSET, study)
    return Built(ASSET, {f"outcomes.{ASSET}": rows}, completeness_headline(frame, study))


def at_primary_visit(frame: pd.DataFrame, study: Study) -> pd.DataFrame:
    """The rows the completeness target applies to: primary visit, configured instrument, one per arm."""
    return rows_where(frame, visit=study.primary_visit, instrument=study.completeness_instrument)


def completeness_headline(frame: pd.DataFrame, study: Study) -> dict[str, float]:
    out: dict[str, float] = {"target": study.completeness_minimum}
    for r in at_primary_visit(frame, study).itertuples():
        out |= estimate_with_ci(f"{r.arm} completeness {r.visit} ({r.instrument})", r.rate, r.ci_lower,
                                r.ci_upper)
    return out
