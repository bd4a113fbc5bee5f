"""Phase 2 of a drop, inside its transaction: write the checked files to the warehouse and reconcile every
file (rows read = accepted + quarantined + duplicates).
"""

from __future__ import annotations

import duckdb

from pipeline.sql import run

from .current import apply_to_current
from .errors import IngestError
from .summary import FileReconciliation
from .validate import CheckedFile


def load_file(
    con: duckdb.DuckDBPyConnection, checked: CheckedFile, *, drop_id: str, version: int
) -> FileReconciliation:
    """Insert the accepted rows and quarantine of a table file and update the current rows (supersession was
    counted in phase 1)."""
    spec = checked.plan.spec
    accepted = _count(run(con, spec.insert_model, drop_id=drop_id, version=version))
    apply_to_current(con, checked, drop_id=drop_id, version=version)
    return reconcile(
        con, checked, drop_id=drop_id, version=version, accepted=accepted, superseded=checked.superseded
    )


def reconcile(
    con: duckdb.DuckDBPyConnection,
    checked: CheckedFile,
    *,
    drop_id: str,
    version: int,
    accepted: int,
    superseded: int,
) -> FileReconciliation:
    """Insert the file's quarantine and its drop_files row; raise if the file does not reconcile."""
    plan = checked.plan
    quarantined = _count(
        run(
            con,
            "ingest/insert_quarantine",
            drop_id=drop_id,
            version=version,
            file=plan.file,
            result=checked.result_table,
        )
    )
    rec = FileReconciliation(
        file=plan.file,
        table=plan.spec.name,
        rows_read=checked.staged.rows_read,
        accepted=accepted,
        quarantined=quarantined,
        duplicates=checked.duplicates,
        superseded=superseded,
        quarantine_reasons=dict(checked.reasons),
    )
    # What was written must be what the checks decided, and every row read must be somewhere.
    consistent = (
        rec.balanced
        and accepted == checked.accepted
        and quarantined == checked.quarantined
        and sum(rec.quarantine_reasons.values()) == quarantined
    )
    if not consistent:
        raise IngestError(
            f"{plan.file} of drop {drop_id} does not reconcile: read {rec.rows_read}, accepted {accepted}, "
            f"quarantined {quarantined}, duplicates {rec.duplicates} (a bug; the drop was rolled back)"
        )
    sites = checked.sites.values()
    if (
        sum(c.rows_read for c in sites) != rec.rows_read
        or sum(c.accepted for c in sites) != accepted
        or sum(c.quarantined for c in sites) != quarantined
        or sum(c.duplicates for c in sites) != rec.duplicates
    ):
        raise IngestError(
            f"{plan.file} of drop {drop_id}: the counts per site do not add up to the file's (a bug; the drop "
            "was rolled back)"
        )
    if checked.sites:
        _insert_sites(con, checked, drop_id=drop_id, version=version)
    run(
        con,
        "ingest/drop_file_insert",
        drop_id=drop_id,
        version=version,
        file=plan.file,
        table_name=plan.spec.name,
        sha256=plan.scan.sha256,
        bytes=plan.scan.size,
        rows_read=rec.rows_read,
        accepted=rec.accepted,
        quarantined=rec.quarantined,
        duplicates=rec.duplicates,
        superseded=rec.superseded,
    )
    return rec


def _insert_sites(con: duckdb.DuckDBPyConnection, checked: CheckedFile, *, drop_id: str, version: int) -> None:
    sites = checked.sites.values()
    run(
        con,
        "ingest/drop_file_sites_insert",
        drop_id=drop_id,
        version=version,
        file=checked.plan.file,
        site_ids=list(checked.sites),
        rows_read=[c.rows_read for c in sites],
        accepted=[c.accepted for c in sites],
        quarantined=[c.quarantined for c in sites],
        duplicates=[c.duplicates for c in sites],
    )


def _count(result: duckdb.DuckDBPyConnection) -> int:
    row = result.fetchone()
    return int(row[0]) if row else 0
