"""Erasures: after a drop's rows are applied, every row of each listed patient leaves the warehouse
(every table, every version, quarantine included) and the erasure is audited in ingest.erasures.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from pipeline.sql import run

from .load import reconcile
from .summary import FileReconciliation
from .validate import CheckedFile


def apply_erasures(
    con: duckdb.DuckDBPyConnection, checked: CheckedFile, *, drop_id: str, version: int, at: datetime
) -> FileReconciliation:
    """Erase the patients of the checked erasures file (phase 2); accepted = erasures applied now."""
    run(con, "ingest/erase_plan")
    row = run(con, "ingest/erase_audit", drop_id=drop_id, version=version, erased_at=at).fetchone()
    applied = int(row[0]) if row else 0
    run(con, "ingest/erase_rows")
    return reconcile(con, checked, drop_id=drop_id, version=version, accepted=applied, superseded=0)
