"""Loading one file into the temporary staging view ingest_stage (line, contract columns as VARCHAR).

Line numbers are record numbers (header = 1). DuckDB's reader skips malformed records and blank lines but
counts them when numbering, so a good row's line is its ordinal among the parsed rows + 1, shifted past
each malformed record before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipeline.sql import SqlModelError, run

from .errors import DropRejected, IngestError
from .inspect import FilePlan
from .scan import blank_record_numbers, has_blank_line_marks

# Up to this many malformed records, line numbers are computed per row from a short list; beyond, by an
# ASOF join (which sorts the file, but does not grow with the number of malformed records).
FEW_MALFORMED = 256
# The rejects tables hold the raw text of bad records: they never outlive the read that made them.
DROP_REJECTS = "DROP TABLE IF EXISTS ingest_rejects; DROP TABLE IF EXISTS ingest_reject_scans;"


@dataclass(frozen=True)
class Staged:
    rows: int  # rows in ingest_stage
    malformed: int  # records quarantined as malformed_row

    @property
    def rows_read(self) -> int:
        return self.rows + self.malformed


def stage_file(con: duckdb.DuckDBPyConnection, plan: FilePlan) -> Staged:
    keep = list(plan.spec.columns)
    malformed: set[int] = set()
    try:
        if plan.fmt == "csv":
            con.execute(DROP_REJECTS)
            run(con, "ingest/read_csv", path=str(plan.path), columns=plan.csv_columns(), keep=keep)
            rejects = run(con, "ingest/rejects").fetchall()
            con.execute(DROP_REJECTS)
            if any(encoding for _line, encoding in rejects):
                raise DropRejected("unreadable_file", f"{plan.file} is not valid UTF-8")
            malformed = {int(line) for line, _encoding in rejects}
        else:
            run(con, "ingest/read_parquet", path=str(plan.path), keep=keep)
        parsed, in_file_order = run(con, "ingest/raw_count").fetchone()
    except SqlModelError as exc:
        if exc.is_bug:
            raise
        raise DropRejected("unreadable_file", f"{plan.file} cannot be read") from None
    if not in_file_order:
        # Line numbers come from rowids, which start at 0 only outside a transaction.
        raise IngestError(f"{plan.file}: read inside a transaction, its rows cannot be numbered (a bug)")
    # Header + parsed rows + malformed records = lines of the file, unless blank lines or quoted line
    # breaks sit in it; only then is the file searched for blank lines (usually a cheap byte search).
    if plan.fmt == "csv" and plan.scan.may_hide_lines(1 + parsed + len(malformed)):
        if has_blank_line_marks(plan.path):
            malformed.update(blank_record_numbers(plan.path))
    lines = sorted(malformed)
    run(con, "ingest/malformed", file=plan.file, lines=lines)
    if lines:
        # The j-th malformed record (0-based), record number r, has r - 2 - j good rows before it: rows
        # from ordinal r - 1 - j on come j + 1 records later than ordinal + 1.
        from_ordinals = [record - 1 - j for j, record in enumerate(lines)]
        if len(from_ordinals) <= FEW_MALFORMED:
            run(con, "ingest/stage_few_shifts", from_ordinal=from_ordinals)
            run(con, "ingest/stage_lined")
        else:
            shifts = {start: j + 1 for j, start in enumerate(from_ordinals)}
            run(con, "ingest/shifts", from_ordinal=list(shifts), shift=list(shifts.values()))
            run(con, "ingest/stage_shifted")
    else:
        run(con, "ingest/stage_plain")
    return Staged(rows=int(parsed), malformed=len(lines))
