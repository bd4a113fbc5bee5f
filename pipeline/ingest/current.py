"""The current rows (ingest.current_* views) kept cheap to read.

The current row of a key is, among the rows of live drop versions, the one of the greatest drop_id (then
line). ingest/schema.sql states this as window functions over the whole history, which every reader would
recompute. Instead, every drop records in ingest.replaced_rows, in its own transaction, the live rows it
makes non-current (and, for a drop delivered out of order, its own rows that are outranked); the views
become the live history minus that list. A warehouse made before this, or by hand, is migrated once: the
list is filled from the window definition and the views replaced, in one transaction.
"""

from __future__ import annotations

import duckdb

from pipeline.sql import run, scalar
from pipeline.warehouse import transaction

from .tables import SPECS, TableSpec
from .validate import DROP_BEFORE, CheckedFile

CURRENT_SPECS: tuple[TableSpec, ...] = tuple(s for s in SPECS if s.name != "erasures")


def ensure_maintained(con: duckdb.DuckDBPyConnection) -> None:
    """Create and fill ingest.replaced_rows and switch the current_* views to it, unless already done."""
    if scalar(con, "ingest/current_maintained"):
        return
    with transaction(con):
        run(con, "ingest/current_setup")
        for spec in CURRENT_SPECS:
            run(
                con,
                "ingest/replaced_fill",
                table_name=spec.name,
                table=spec.warehouse_table,
                key_cols=list(spec.key),
            )
        run(con, "ingest/current_views")


def apply_to_current(
    con: duckdb.DuckDBPyConnection, checked: CheckedFile, *, drop_id: str, version: int
) -> None:
    """Phase 2, after the file's rows are inserted: bring ingest.replaced_rows up to date."""
    spec = checked.plan.spec
    names = dict(table_name=spec.name, drop_id=drop_id)
    if checked.corrects is None:
        # Only rows that met a current row of their key (phase 1, ingest_current_match) change anything.
        if checked.held:
            run(con, "ingest/replaced_add", result=checked.result_table, version=version, **names)
        return
    keys = dict(table=spec.warehouse_table, key_cols=list(spec.key), prev_version=checked.corrects)
    run(con, "ingest/affected_keys", result=checked.result_table, drop_id=drop_id, **keys)
    run(con, "ingest/replaced_forget", **keys, **names)
    run(con, "ingest/replaced_refill", **keys, **names)
    con.execute(DROP_BEFORE)
