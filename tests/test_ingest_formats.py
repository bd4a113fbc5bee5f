"""CSV dialect (BOM, CRLF, quoting, malformed records, blank lines), line numbers, and Parquet drops."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.ingest.read import FEW_MALFORMED
from tests.ingest_helpers import (
    csv_text,
    event,
    file_of,
    ingest,
    patient,
    pro,
    quarantine,
    to_parquet,
    write_drop,
)


def lines_of(con, table: str) -> list[int]:
    return [r[0] for r in con.execute(f"SELECT line FROM ingest.{table} ORDER BY line").fetchall()]


def test_bom_and_crlf(con, landing):
    folder = write_drop(landing, "d1", pros=[pro()])
    text = csv_text("patients", [patient(), patient(patient_id="P0002")], newline="\r\n")
    (folder / "patients.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    summary = ingest(con, landing)
    assert summary.drops[0].status == "ingested"
    assert quarantine(con) == []
    assert con.execute("SELECT patient_id, anesthesia FROM ingest.patients ORDER BY 1").fetchall() == [
        ("P0001", "LOCAL_SEDATION"),  # no stray \r on the last column
        ("P0002", "LOCAL_SEDATION"),
    ]
    assert lines_of(con, "patients") == [2, 3]


def test_quoted_line_breaks_and_quotes(con, landing):
    events = [
        event(detail='wound "superficial",\nhealed'),
        event(days_from_index="300", detail="line one\r\n\r\nline three"),
        event(days_from_index="400", detail="plain"),
    ]
    write_drop(landing, "d1", events=events)
    ingest(con, landing)
    got = con.execute("SELECT line, detail FROM ingest.events ORDER BY line").fetchall()
    # line = record number (header = 1), not the physical line of the file
    assert got == [(2, 'wound "superficial",\nhealed'), (3, "line one\r\n\r\nline three"), (4, "plain")]


def test_malformed_records_are_quarantined_and_later_lines_stay_exact(con, landing):
    folder = write_drop(landing, "d1")
    good = csv_text("pro_responses", [pro(days_from_index=str(d)) for d in (10, 20, 30, 40, 50)]).splitlines()
    records = [
        good[0],
        good[1],  # line 2
        "S1,P0001,15,ODI",  # line 3: a field short
        good[2],  # line 4
        'S1,P0001,25,ODI,"3"0,',  # line 5: bad quoting
        'S1,P0001,"26\nmore",ODI,3,',  # line 6: a quoted line break (a valid record, bad day)
        "S1,P0001,27,ODI,3,,extra",  # line 7: a field too many
        good[3],  # line 8
        good[4],  # line 9
    ]
    (folder / "pro_responses.csv").write_text("\n".join(records) + "\n")
    summary = ingest(con, landing)
    assert [(line, reason) for _f, line, reason, _c, _k in quarantine(con)] == [
        (3, "malformed_row"),
        (5, "malformed_row"),
        (6, "invalid_type"),
        (7, "malformed_row"),
    ]
    assert lines_of(con, "pro_responses") == [2, 4, 8, 9]
    rec = file_of(summary, "d1", "pro_responses.csv")
    assert (rec.rows_read, rec.accepted, rec.quarantined) == (8, 4, 4)
    assert rec.quarantine_reasons == {"invalid_type": 1, "malformed_row": 3}


def test_blank_lines_between_records_are_malformed_and_trailing_ones_ignored(con, landing):
    folder = write_drop(landing, "d1")
    head, *rows = csv_text("pro_responses", [pro(days_from_index=str(d)) for d in (10, 20, 30)]).splitlines()
    quoted = 'S1,P0001,40,ODI,5,\n"S1",P0001,50,ODI,"5",'
    text = "\n".join([head, rows[0], "", rows[1], quoted, "", "", rows[2]]) + "\n\n\n"
    (folder / "pro_responses.csv").write_text(text)
    summary = ingest(con, landing)
    assert [(line, reason) for _f, line, reason, _c, _k in quarantine(con)] == [
        (3, "malformed_row"),
        (7, "malformed_row"),
        (8, "malformed_row"),
    ]
    assert lines_of(con, "pro_responses") == [2, 4, 5, 6, 9]
    assert file_of(summary, "d1", "pro_responses.csv").rows_read == 8


def test_header_only_files_and_unterminated_last_line(con, landing):
    folder = write_drop(landing, "d1")
    (folder / "patients.csv").write_text(csv_text("patients", [patient()]).rstrip("\n"))
    summary = ingest(con, landing)
    assert [(f.file, f.rows_read, f.accepted) for f in summary.drops[0].files] == [
        ("patients.csv", 1, 1),
        ("pro_responses.csv", 0, 0),
        ("events.csv", 0, 0),
    ]


def test_parquet_drop_is_accepted_with_line_numbers(con, landing):
    folder = write_drop(
        landing,
        "d1",
        patients=[patient(), patient(patient_id="P0002", age_at_index="95")],
        pros=[pro(), pro(days_from_index="180", value="200")],
        events=[event(detail="")],
    )
    for table in ("patients", "pro_responses", "events"):
        to_parquet(folder, table)
    summary = ingest(con, landing)
    assert summary.drops[0].status == "ingested"
    assert [f.file for f in summary.drops[0].files] == [
        "patients.parquet",
        "pro_responses.parquet",
        "events.parquet",
    ]
    # Line = row ordinal + 1, as for a CSV with the same rows.
    assert quarantine(con) == [("pro_responses.parquet", 3, "out_of_range", "value", None)]
    assert con.execute(
        "SELECT line, age_at_index, age_top_coded FROM ingest.patients ORDER BY 1"
    ).fetchall() == [
        (2, 70, False),
        (3, 90, True),
    ]
    assert con.execute("SELECT detail FROM ingest.events").fetchall() == [(None,)]  # empty string = missing


def test_typed_parquet_columns(con, landing):
    folder = write_drop(landing, "d1", pros=[pro()])
    src = folder / "pro_responses.csv"
    duckdb.sql(
        "SELECT site_id, patient_id, CAST(days_from_index AS INTEGER) AS days_from_index, instrument,"
        " CAST(value AS DOUBLE) AS value, unit FROM read_csv(?, all_varchar = true)",
        params=[str(src)],
    ).write_parquet(str(folder / "pro_responses.parquet"))
    src.unlink()
    ingest(con, landing)
    assert quarantine(con) == []
    assert con.execute("SELECT days_from_index, value FROM ingest.pro_responses").fetchall() == [(90, 30.0)]


@pytest.mark.parametrize("malformed", [3, FEW_MALFORMED + 40])
def test_line_numbers_stay_exact_with_few_or_many_malformed_records(con, landing, malformed):
    # Both ways of numbering rows around malformed records: a short list, or an ASOF join beyond it.
    folder = write_drop(landing, "d1")
    head, *good = csv_text("pro_responses", [pro(days_from_index=str(d)) for d in range(1, 2 * malformed + 2)]
                           ).splitlines()
    records, bad_lines, good_lines = [head], [], []
    for i, row in enumerate(good):
        # runs of one or two malformed records (adjacent ones share a shift point)
        if i % 2 == 1 and len(bad_lines) < malformed:
            for _ in range(1 + (i % 4 == 1)):
                if len(bad_lines) < malformed:
                    records.append("S1,P0001,15,ODI")
                    bad_lines.append(len(records))
        records.append(row)
        good_lines.append(len(records))
    (folder / "pro_responses.csv").write_text("\n".join(records) + "\n")
    ingest(con, landing)
    assert [line for _f, line, _r, _c, _k in quarantine(con)] == bad_lines
    assert lines_of(con, "pro_responses") == good_lines
