"""Phase 1 of a drop, file by file and outside any transaction (it only writes temporary tables): row
checks, all set-based in DuckDB. The result, ingest_result_<table>, holds for every row its typed values,
the first failing rule (reason_code, column_name, identifier_kind) and whether it repeats a row of the same
file or duplicates a row already held; phase 2 (load.py) only writes it to the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipeline.contract import IDENTIFIER_TEXT_PATTERNS, INVALID_SITE, KEY_COLUMNS, KEY_IDENTIFIER_PATTERNS
from pipeline.sql import run, scalar

from .errors import IngestError
from .inspect import FilePlan
from .read import Staged, stage_file

# Once ingest_checked holds a file's rows, the raw text of the file is no longer needed: free it early (a large
# pro_responses file would otherwise sit in memory twice). Run again at the end of every drop (run.py).
DROP_STAGE = """DROP VIEW IF EXISTS ingest_stage;
DROP TABLE IF EXISTS ingest_lined;
DROP TABLE IF EXISTS ingest_few_shifts;
DROP TABLE IF EXISTS ingest_raw;
DROP TABLE IF EXISTS ingest_shifts;
DROP TABLE IF EXISTS ingest_ids;"""
# The supersession bookkeeping of one file is counted (here, and after phase 2 in current.py): free it.
DROP_BEFORE = "DROP TABLE IF EXISTS ingest_affected; DROP TABLE IF EXISTS ingest_before;"
# The checked file, kept under its table's name until the drop is applied (a table name cannot be a parameter).
KEEP_CHECKED = {
    "patients": "ALTER TABLE ingest_checked RENAME TO ingest_result_patients",
    "pro_responses": "ALTER TABLE ingest_checked RENAME TO ingest_result_pro_responses",
    "events": "ALTER TABLE ingest_checked RENAME TO ingest_result_events",
    "erasures": "ALTER TABLE ingest_checked RENAME TO ingest_result_erasures",
}


@dataclass
class SiteCounts:
    """The part of a file's reconciliation that falls to one site."""

    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0


@dataclass
class CheckedFile:
    """What phase 1 found in one file; phase 2 must write exactly these counts."""

    plan: FilePlan
    staged: Staged
    held: bool  # the warehouse holds live rows of the file's sites: duplicates/supersession to work out
    corrects: int | None = None  # the version of the same drop this drop replaces, if any
    superseded: int = 0  # rows current before the drop that this file replaces
    accepted: int = 0
    quarantined: int = 0  # malformed records included
    duplicates: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    top_coded: int = 0
    # site_id (or contract.INVALID_SITE) -> SiteCounts; the file's counts are the sums
    sites: dict[str, SiteCounts] = field(default_factory=dict)

    @property
    def result_table(self) -> str:
        return f"ingest_result_{self.plan.spec.name}"


def check_file(
    con: duckdb.DuckDBPyConnection,
    plan: FilePlan,
    params: dict[str, Any],
    *,
    drop_id: str,
    prev_version: int | None,
) -> CheckedFile:
    """Stage and check one file of the drop; leaves ingest_result_<table> for phase 2."""
    spec = plan.spec
    staged = stage_file(con, plan)
    # The version this drop corrects is about to be replaced: its rows neither vouch for a patient nor
    # make a row a duplicate.
    replaced = dict(drop_id=drop_id, prev_version=prev_version)
    run(
        con,
        "ingest/ids",
        check_erased=spec.name != "erasures",
        check_orphan=spec.name in ("pro_responses", "events"),
        **replaced,
        **params,
    )
    run(con, spec.check_model, **params)
    con.execute(DROP_STAGE)
    if scalar(con, "ingest/identifier_hits"):
        for keys, patterns in ((True, KEY_IDENTIFIER_PATTERNS), (False, IDENTIFIER_TEXT_PATTERNS)):
            for kind, pattern in patterns.items():
                run(con, "ingest/identifier_kind", kind=kind, pattern=pattern, keys=keys, key_columns=list(KEY_COLUMNS))
    columns = dict(key_cols=list(spec.key), all_cols=list(spec.columns))
    run(con, "ingest/file_duplicates", **columns)
    run(con, "ingest/mark_file_duplicates")
    run(con, "ingest/mark_patient_state")
    held = False
    if spec.name == "erasures":
        run(con, "ingest/erasures_held")  # erasures compare with their audit table, not a current view
    else:
        held = bool(scalar(con, "ingest/held_exists", table=spec.warehouse_table, **replaced))
        if held and prev_version is None:
            # The current rows are exactly those the file is compared with: one join against them.
            run(con, "ingest/current_match", current=spec.current_view, **columns)
        elif held:
            run(con, "ingest/held_duplicates", table=spec.warehouse_table, **columns, **replaced)
    if spec.name == "patients":
        run(con, "ingest/drop_patients_fill")
    checked = CheckedFile(plan, staged, held, prev_version)
    _tally(con, checked)
    if spec.name != "erasures" and held and prev_version is None:
        checked.superseded = int(scalar(con, "ingest/superseded_current", drop_id=drop_id))
    con.execute(KEEP_CHECKED[spec.name])
    # Nothing can be superseded when no live row shares the file's sites and no version is corrected.
    if spec.name != "erasures" and prev_version is not None:
        keys = dict(table=spec.warehouse_table, key_cols=list(spec.key), result=checked.result_table)
        run(con, "ingest/affected_keys", **keys, **replaced)
        run(con, "ingest/current_before", **keys)
        checked.superseded = int(scalar(con, "ingest/superseded", **keys, **replaced))
        con.execute(DROP_BEFORE)
    return checked


def _tally(con: duckdb.DuckDBPyConnection, checked: CheckedFile) -> None:
    # One pass gives the counts per site; the file's counts are their sums.
    sites: dict[str, SiteCounts] = {}
    for site, n, dup, acc, quar in run(con, "ingest/file_counts", invalid_site=INVALID_SITE).fetchall():
        sites[site] = SiteCounts(rows_read=int(n), accepted=int(acc), quarantined=int(quar), duplicates=int(dup))
    if checked.staged.malformed:
        # A malformed record has no readable site.
        bad = sites.setdefault(INVALID_SITE, SiteCounts())
        bad.rows_read += checked.staged.malformed
        bad.quarantined += checked.staged.malformed
    parsed = sum(c.rows_read for c in sites.values()) - checked.staged.malformed
    duplicates = sum(c.duplicates for c in sites.values())
    accepted = sum(c.accepted for c in sites.values())
    quarantined = sum(c.quarantined for c in sites.values()) - checked.staged.malformed
    checked.sites = dict(sorted(sites.items()))
    if parsed != checked.staged.rows:
        raise IngestError(
            f"{checked.plan.file}: {parsed} rows checked of {checked.staged.rows} parsed (a bug)"
        )
    reasons = {code: int(n) for code, n in run(con, "ingest/reason_counts").fetchall()}
    if checked.staged.malformed:
        reasons["malformed_row"] = checked.staged.malformed
    checked.accepted = int(accepted)
    checked.quarantined = int(quarantined) + checked.staged.malformed
    checked.duplicates = int(duplicates)
    checked.reasons = dict(sorted(reasons.items()))
    if checked.plan.spec.name == "patients":
        checked.top_coded = int(scalar(con, "ingest/top_coded"))
