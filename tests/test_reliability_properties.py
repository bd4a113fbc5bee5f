"""Property-based tests (hypothesis): arbitrary drops never crash ingest, and every file reconciles.

Two generators: (1) structured drops, row by row, every field valid, a documented defect or arbitrary text,
with random column subsets, orders and extra columns, one to three drops (erasures included) per example;
(2) byte-level mutations of a valid drop (random bytes inserted, overwritten, truncated). Whatever comes in,
ingest_landing returns; a drop is ingested, skipped, or rejected with a documented reason code; and for every
file rows_read = accepted + quarantined + duplicates, in the summary and in ingest.drop_files.

Set RELIABILITY_STATS=<file> to append the number of examples, drops and rows generated (docs/reliability.md).
"""

import csv
import io
import json
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.contract import COLUMNS, DROP_REJECTION_CODES, INSTRUMENTS, REASON_CODES
from tests.ingest_helpers import EVENT, PATIENT, PRO, csv_text, ingest

STATS: Counter = Counter()
SETTINGS = settings(
    max_examples=100, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Values a field may take: the valid one of the helpers, a documented defect, an identifier, or anything.
DEFECTS = ["", " ", "X", "-1", "3.5", "1e309", "nan", "inf", "99999", "2099", "1980", "97", "0", "120.0",
           "john@example.org", "555-201-4567", "123-45-6789", "2024-03-05", "03/05/2024", "5 March 2024",
           "https://x.org", "10.0.0.1", "90210", "MRN 12345", "1234567", '"', ",", "\n", "\r\n", "é", "x" * 250]
ID_POOL = ["S1", "S2", "P1", "P2", "P3", "P 4", ""]
EXTRA_COLUMNS = ["note", "comment", "Site_ID", "EMAIL", "first name", "", "value2"]
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


def field_value(valid: str):
    return st.one_of(st.just(valid), st.sampled_from(DEFECTS), TEXT)


def row(table: str, base: dict[str, str]):
    fields = {c: field_value(base.get(c, "")) for c in COLUMNS[table]}
    fields["site_id"] = st.sampled_from(["S1", "S1", "S2", ""])
    fields["patient_id"] = st.sampled_from(ID_POOL)
    if table == "pro_responses":
        fields["instrument"] = st.one_of(st.sampled_from(list(INSTRUMENTS)), TEXT)
        fields["unit"] = st.sampled_from(["", "m", "ft", "km", "mi", "min", "h", "yards"])
    return st.fixed_dictionaries(fields)


@st.composite
def columns(draw, table: str) -> list[str]:
    cols = list(COLUMNS[table])
    if draw(st.integers(0, 24)) == 0:  # now and then a required column goes missing
        cols.remove(draw(st.sampled_from(cols)))
    if draw(st.integers(0, 4)) == 0:
        cols.append(draw(st.sampled_from(EXTRA_COLUMNS)))
    return draw(st.permutations(cols))


@st.composite
def drop(draw) -> dict[str, tuple[list[str], list[dict[str, str]], str]]:
    tables = {
        "patients": (PATIENT, st.integers(0, 8)),
        "pro_responses": (PRO, st.integers(0, 10)),
        "events": (EVENT, st.integers(0, 6)),
    }
    out = {}
    for table, (base, n) in tables.items():
        rows = draw(st.lists(row(table, base), max_size=draw(n)))
        out[table] = (draw(columns(table)), rows, draw(st.sampled_from(["\n", "\r\n"])))
    if draw(st.booleans()) and draw(st.booleans()):
        erasures = draw(st.lists(st.fixed_dictionaries(
            {"site_id": st.sampled_from(["S1", "S2"]), "patient_id": st.sampled_from(ID_POOL)}), max_size=3))
        out["erasures"] = (list(COLUMNS["erasures"]), erasures, "\n")
    return out


def _write(folder: Path, tables) -> tuple[int, dict[str, int]]:
    """Write the drop; returns the rows generated and, per file, the records Python's csv module reads back.

    The two differ when a value holds a bare CR: the csv writer leaves it unquoted (its line terminator is
    LF or CRLF), and every CSV reader, DuckDB's and Python's alike, then ends the record there.
    """
    folder.mkdir(parents=True)
    rows, records = 0, {}
    for table, (cols, table_rows, newline) in tables.items():
        text = csv_text(table, table_rows, columns=cols, newline=newline)
        (folder / f"{table}.csv").write_text(text, encoding="utf-8", newline="")
        rows += len(table_rows)
        parsed = list(csv.reader(io.StringIO(text, newline="")))
        while parsed and parsed[-1] == []:
            parsed.pop()  # trailing blank lines are ignored
        if cols != [""]:  # a lone empty column name makes the header itself a blank line
            records[f"{table}.csv"] = len(parsed) - 1
    return rows, records


def _check(con: duckdb.DuckDBPyConnection, summary, written: dict[str, dict[str, int]] | None = None) -> None:
    for outcome in summary.drops:
        assert outcome.status in {"ingested", "rejected", "skipped"}
        STATS[f"drops_{outcome.status}"] += 1
        if outcome.status == "rejected":
            assert outcome.reason_code in DROP_REJECTION_CODES and outcome.files == []
            STATS[f"rejected_{outcome.reason_code}"] += 1
        for f in outcome.files:
            assert f.balanced, f
            assert set(f.quarantine_reasons) <= set(REASON_CODES)
            assert sum(f.quarantine_reasons.values()) == f.quarantined
            if written is not None and outcome.drop_id in written:
                # Every record Python's csv module reads is one row read, whatever it holds.
                assert f.rows_read == written[outcome.drop_id][f.file], f
            STATS["rows_read"] += f.rows_read
            STATS["rows_quarantined"] += f.quarantined
    unbalanced = con.execute(
        "SELECT count(*) FROM ingest.drop_files WHERE rows_read <> accepted + quarantined + duplicates"
    ).fetchone()[0]
    assert unbalanced == 0
    files = sum(len(d.files) for d in summary.drops)
    assert con.execute("SELECT count(*) FROM ingest.drop_files").fetchone()[0] == files


@SETTINGS
@given(drops=st.lists(drop(), min_size=1, max_size=3))
def test_arbitrary_structured_drops_never_crash_and_always_reconcile(drops):
    STATS["structured_examples"] += 1
    root = Path(tempfile.mkdtemp(prefix="prop_"))
    try:
        written = {}
        for i, tables in enumerate(drops):
            drop_id = f"2026-01-0{i + 1}_S"
            rows, written[drop_id] = _write(root / drop_id, tables)
            STATS["rows_generated"] += rows
        STATS["drops_generated"] += len(drops)
        with duckdb.connect() as con:
            summary = ingest(con, root)
            _check(con, summary, written)
    finally:
        shutil.rmtree(root)


@st.composite
def mutation(draw):
    return (
        draw(st.sampled_from(["patients.csv", "pro_responses.csv", "events.csv"])),
        draw(st.sampled_from(["insert", "overwrite", "truncate", "replace"])),
        draw(st.floats(0, 1)),
        draw(st.binary(min_size=0, max_size=16)),
    )


def _valid_drop(folder: Path) -> None:
    folder.mkdir(parents=True)
    tables = {
        "patients": [PATIENT, {**PATIENT, "patient_id": "P0002", "procedure": "LAMINECTOMY"}],
        "pro_responses": [PRO, {**PRO, "days_from_index": "-10", "value": "55"},
                          {**PRO, "instrument": "WALK_DISTANCE", "value": "300", "unit": "m"}],
        "events": [EVENT, {**EVENT, "patient_id": "P0002", "detail": 'dural tear, "minor"\nrepaired'}],
    }
    for table, rows in tables.items():
        (folder / f"{table}.csv").write_text(csv_text(table, rows), encoding="utf-8", newline="")


@SETTINGS
@given(mutations=st.lists(mutation(), min_size=1, max_size=4), manifest=st.booleans())
def test_random_bytes_in_a_valid_drop_never_crash_and_always_reconcile(mutations, manifest):
    STATS["byte_examples"] += 1
    root = Path(tempfile.mkdtemp(prefix="prop_bytes_"))
    try:
        folder = root / "2026-01-01_S1"
        _valid_drop(folder)
        if manifest:
            import hashlib

            files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
            (folder / "manifest.json").write_text(json.dumps({"contract_version": "1", "files": files}))
        original = {p.name: p.read_bytes() for p in folder.iterdir()}
        for name, kind, where, data in mutations:
            path = folder / name
            raw = path.read_bytes()
            at = int(where * len(raw))
            if kind == "insert":
                raw = raw[:at] + data + raw[at:]
            elif kind == "overwrite":
                raw = raw[:at] + data + raw[at + len(data):]
            elif kind == "truncate":
                raw = raw[:at]
            else:
                raw = data
            path.write_bytes(raw)
            STATS["bytes_mutated"] += len(data)
        STATS["drops_generated"] += 1
        with duckdb.connect() as con:
            summary = ingest(con, root)
            _check(con, summary)
            changed = any((folder / name).read_bytes() != raw for name, raw in original.items())
            if manifest and changed:
                assert summary.drops[0].reason_code == "checksum_mismatch"
    finally:
        shutil.rmtree(root)


@pytest.fixture(scope="module", autouse=True)
def _record_stats():
    yield
    target = os.environ.get("RELIABILITY_STATS")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(dict(STATS), sort_keys=True) + "\n")


def test_csv_writer_round_trip_assumption():
    """The structured generator relies on csv writing one record per row, even with line breaks inside."""
    text = csv_text("events", [{**EVENT, "detail": "a\r\nb"}, {**EVENT, "detail": ""}])
    assert len(list(csv.reader(io.StringIO(text, newline="")))) == 3
