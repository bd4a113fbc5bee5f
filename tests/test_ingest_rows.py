"""Row-level rules: each quarantine reason with its line and column, precedence, typing, top-coding."""

from __future__ import annotations

import pytest

from pipeline.contract import REASON_CODES
from tests.ingest_helpers import (
    all_text,
    event,
    file_of,
    ingest,
    patient,
    pro,
    quarantine,
    write_drop,
)


def one_reason(con, landing, file: str, *, patients=None, pros=None, events=None):
    """Ingest a drop whose `file` has one good row (line 2) then the row under test (line 3)."""
    write_drop(landing, "d1", patients=patients, pros=pros, events=events)
    summary = ingest(con, landing)
    assert summary.drops[0].status == "ingested", summary.drops[0].reason
    rows = quarantine(con, file)
    assert len(rows) == 1, rows
    _file, line, reason, column, kind = rows[0]
    assert line == 3
    return reason, column, kind


GOOD = patient()


@pytest.mark.parametrize(
    "row, reason, column",
    [
        ({"site_id": ""}, "invalid_id", "site_id"),
        ({"patient_id": "P 2"}, "invalid_id", "patient_id"),
        ({"procedure": ""}, "missing_value", "procedure"),
        ({"levels_treated": ""}, "missing_value", "levels_treated"),
        ({"index_year": "2020.5"}, "invalid_type", "index_year"),
        ({"bmi": "heavy"}, "invalid_type", "bmi"),
        ({"diabetes": "nan"}, "invalid_type", "diabetes"),
        ({"sex": "X"}, "unknown_code", "sex"),
        ({"procedure": "mild"}, "unknown_code", "procedure"),
        ({"anesthesia": "SPINAL"}, "unknown_code", "anesthesia"),
        ({"age_at_index": "17"}, "out_of_range", "age_at_index"),
        ({"index_year": "2027"}, "out_of_range", "index_year"),  # after the current year (2026 in tests)
        ({"index_year": "1989"}, "out_of_range", "index_year"),
        ({"bmi": "80.5"}, "out_of_range", "bmi"),
        ({"smoker": "2"}, "out_of_range", "smoker"),
        ({"los_days": "121"}, "out_of_range", "los_days"),
        # precedence: the first failing rule wins
        ({"patient_id": "", "sex": "X", "bmi": "x"}, "invalid_id", "patient_id"),
        ({"sex": "", "bmi": "x", "age_at_index": "12"}, "missing_value", "sex"),
        ({"bmi": "x", "sex": "X"}, "invalid_type", "bmi"),
    ],
)
def test_patient_row_reasons(con, landing, row, reason, column):
    got = one_reason(con, landing, "patients.csv", patients=[GOOD, patient(**{"patient_id": "P0002", **row})])
    assert got == (reason, column, None)


@pytest.mark.parametrize(
    "row, reason, column",
    [
        ({"patient_id": "P#1"}, "invalid_id", "patient_id"),
        ({"value": ""}, "missing_value", "value"),
        ({"days_from_index": "3.5"}, "invalid_type", "days_from_index"),
        ({"value": "high"}, "invalid_type", "value"),
        ({"instrument": "VAS"}, "unknown_code", "instrument"),
        ({"instrument": "WALK_DISTANCE", "value": "100"}, "invalid_unit", "unit"),
        ({"instrument": "WALK_DISTANCE", "value": "100", "unit": "yd"}, "invalid_unit", "unit"),
        ({"instrument": "STAND_TIME", "value": "10", "unit": "m"}, "invalid_unit", "unit"),
        ({"unit": "m"}, "invalid_unit", "unit"),
        ({"days_from_index": "3651"}, "out_of_range", "days_from_index"),
        ({"days_from_index": "-366"}, "out_of_range", "days_from_index"),
        (
            {"instrument": "SATISFACTION", "value": "2", "days_from_index": "0"},
            "out_of_range",
            "days_from_index",
        ),
        ({"instrument": "SATISFACTION", "value": "2.5"}, "out_of_range", "value"),
        ({"instrument": "ODI", "value": "100.5"}, "out_of_range", "value"),
        ({"instrument": "NRS_LEG", "value": "-1"}, "out_of_range", "value"),
        ({"instrument": "WALK_DISTANCE", "value": "51", "unit": "km"}, "out_of_range", "value"),
        ({"instrument": "STAND_TIME", "value": "25", "unit": "h"}, "out_of_range", "value"),
        ({"instrument": "WALK_DISTANCE", "value": "-1", "unit": "m"}, "out_of_range", "value"),
    ],
)
def test_pro_row_reasons(con, landing, row, reason, column):
    got = one_reason(
        con, landing, "pro_responses.csv", pros=[pro(), pro(**{"days_from_index": "180", **row})]
    )
    assert got == (reason, column, None)


@pytest.mark.parametrize(
    "row, reason, column",
    [
        ({"site_id": "S 1"}, "invalid_id", "site_id"),
        ({"event": ""}, "missing_value", "event"),
        ({"days_from_index": "ten"}, "invalid_type", "days_from_index"),
        ({"event": "SURGERY"}, "unknown_code", "event"),
        ({"days_from_index": "-1"}, "out_of_range", "days_from_index"),
        ({"detail": "x" * 201}, "text_too_long", "detail"),
    ],
)
def test_event_row_reasons(con, landing, row, reason, column):
    got = one_reason(con, landing, "events.csv", events=[event(), event(**{"days_from_index": "300", **row})])
    assert got == (reason, column, None)


def test_values_that_pass(con, landing):
    pros = [
        pro(days_from_index="10", value="30.0"),  # integer-valued float
        pro(days_from_index="20", instrument="SATISFACTION", value="3.0"),
        pro(days_from_index="30", instrument="WALK_DISTANCE", value="12000", unit="ft"),  # not a ZIP code
        pro(days_from_index="40", instrument="WALK_DISTANCE", value="31", unit="mi"),  # 49.9 km
        pro(days_from_index="50", instrument="STAND_TIME", value="24", unit="h"),
        pro(days_from_index="-365", instrument="NRS_BACK", value="0"),
    ]
    events = [event(detail="x" * 200), event(days_from_index="0", event="COMPLICATION", detail="durotomy")]
    write_drop(
        landing, "d1", patients=[patient(index_year="2026", levels_treated="3.0")], pros=pros, events=events
    )
    summary = ingest(con, landing)
    assert quarantine(con) == []
    assert summary.accepted == 1 + len(pros) + len(events)
    stored = con.execute("SELECT value, unit FROM ingest.pro_responses ORDER BY line").fetchall()
    assert stored[2] == (12000.0, "ft")  # value and unit as delivered


@pytest.mark.parametrize(
    "where, row, column, kind",
    [
        ("events.csv", event(detail="reach me at jane.doe@example.com"), "detail", "email"),
        ("events.csv", event(detail="call 555-867-5309 please"), "detail", "phone"),
        ("events.csv", event(detail="seen on 5 March 2024"), "detail", "date"),
        ("events.csv", event(detail="see https://example.org/x"), "detail", "url"),
        ("events.csv", event(detail="from 10.1.2.3"), "detail", "ip"),
        ("events.csv", event(detail="lives in 90210"), "detail", "zip"),
        ("events.csv", event(detail="MRN: A12345"), "detail", "mrn"),
        ("pro_responses.csv", pro(patient_id="078-05-1120"), "patient_id", "ssn"),
        ("pro_responses.csv", pro(value="03/05/2024"), "value", "date"),
        ("patients.csv", patient(patient_id="P0009", bmi="2024-03-05"), "bmi", "date"),
    ],
)
def test_identifier_in_text(con, landing, where, row, column, kind):
    tables = {"patients.csv": "patients", "pro_responses.csv": "pros", "events.csv": "events"}
    base = {"patients": [GOOD], "pros": [], "events": []}
    key = tables[where]
    base[key] = [*base[key], row] if key == "patients" else [row]
    write_drop(landing, "d1", **base)
    ingest(con, landing)
    ((_file, _line, reason, col, got_kind),) = quarantine(con, where)
    assert (reason, col, got_kind) == ("identifier_in_text", column, kind)
    # The matched text reaches no ingest table, and the ids are kept only when they are not the hit.
    needle = {
        "detail": row.get("detail"),
        "patient_id": row.get("patient_id"),
        "value": row.get("value"),
        "bmi": row.get("bmi"),
    }[column]
    assert needle not in all_text(con)
    kept = con.execute("SELECT site_id, patient_id FROM ingest.quarantine").fetchone()
    assert kept == (("S1", None) if column == "patient_id" else ("S1", row["patient_id"]))


def test_identifier_precedes_other_faults_and_invalid_id_precedes_it(con, landing):
    pros = [
        pro(value="call 555-867-5309", instrument="NOPE"),  # identifier before unknown_code
        pro(site_id="a@b.org", days_from_index="30"),  # invalid id (the pattern refuses @) comes first
    ]
    write_drop(landing, "d1", pros=pros)
    ingest(con, landing)
    got = [(line, reason, column) for _f, line, reason, column, _k in quarantine(con)]
    assert got == [(2, "identifier_in_text", "value"), (3, "invalid_id", "site_id")]
    assert "a@b.org" not in all_text(con)


def test_age_over_90_is_top_coded_and_counted(con, landing):
    write_drop(landing, "d1", patients=[GOOD, patient(patient_id="P0002", age_at_index="97")])
    summary = ingest(con, landing)
    assert summary.drops[0].top_coded_ages == summary.top_coded_ages == 1
    rows = con.execute(
        "SELECT patient_id, age_at_index, age_top_coded FROM ingest.patients ORDER BY 1"
    ).fetchall()
    assert rows == [("P0001", 70, False), ("P0002", 90, True)]


def test_conflicting_duplicates_quarantine_every_row_of_the_key(con, landing):
    patients = [
        GOOD,
        patient(patient_id="P0002"),
        patient(patient_id="P0002", bmi="35"),
        patient(patient_id="P0003"),
    ]
    pros = [pro(), pro(value="31"), pro(days_from_index="180")]
    write_drop(landing, "d1", patients=patients, pros=pros)
    summary = ingest(con, landing)
    got = [(f, line, reason) for f, line, reason, _c, _k in quarantine(con)]
    assert got == [
        ("patients.csv", 3, "conflicting_duplicate"),
        ("patients.csv", 4, "conflicting_duplicate"),
        ("pro_responses.csv", 2, "conflicting_duplicate"),
        ("pro_responses.csv", 3, "conflicting_duplicate"),
    ]
    assert file_of(summary, "d1", "patients.csv").accepted == 2


def test_exact_repeats_in_a_file_are_duplicates(con, landing):
    write_drop(
        landing, "d1", patients=[GOOD, GOOD], pros=[pro(), pro(value="30.0")], events=[event(), event()]
    )
    summary = ingest(con, landing)
    for name in ("patients.csv", "pro_responses.csv", "events.csv"):
        rec = file_of(summary, "d1", name)
        assert (rec.rows_read, rec.accepted, rec.quarantined, rec.duplicates) == (2, 1, 0, 1)
    assert con.execute("SELECT line FROM ingest.pro_responses").fetchall() == [(2,)]  # the first is kept


def test_orphans(con, landing):
    write_drop(landing, "d1", pros=[pro(), pro(patient_id="P0002")], events=[event(site_id="S2")])
    ingest(con, landing)
    got = [(f, line, reason) for f, line, reason, _c, _k in quarantine(con)]
    assert got == [("events.csv", 2, "orphan"), ("pro_responses.csv", 3, "orphan")]
    # The ids of an orphan are valid, so the quarantine keeps them (to trace the row, and to erase it).
    assert con.execute("SELECT count(*) FROM ingest.quarantine WHERE patient_id IS NOT NULL").fetchone() == (
        2,
    )


def test_a_quarantined_patient_row_makes_its_pro_rows_orphans(con, landing):
    write_drop(landing, "d1", patients=[patient(age_at_index="12")], pros=[pro()])
    ingest(con, landing)
    assert [r[2] for r in quarantine(con)] == ["out_of_range", "orphan"]


def test_every_reason_code_is_known():
    assert list(REASON_CODES)[:3] == ["malformed_row", "invalid_id", "identifier_in_text"]
    assert list(REASON_CODES).index("erased_patient") < list(REASON_CODES).index("orphan")


SAMPLES = [
    "jane.doe@example.com",
    "www.example.org",
    "HTTP://x.y",
    "078-05-1120",
    "(555) 867-5309",
    "555.867.5309",
    "2024-03-05",
    "03/05/2024",
    "5 March 2024",
    "MARCH 5, 2024",
    "10.0.0.1",
    "90210",
    "90210-1234",
    "MRN 12345",
    "mrn:AB12",
    "1234567",
    "P000123",
    "site_A",
    "2024-03-05_siteA",
    "x5 march 2024",
    "12000",
    "facet injection L4-L5",
    "",
]


def test_the_combined_identifier_pattern_is_the_union_of_the_patterns(con):
    from pipeline.contract import IDENTIFIER_TEXT_PATTERNS
    from pipeline.ingest.context import IDENTIFIER_ANY

    for text in SAMPLES:
        each = any(
            con.execute("SELECT regexp_matches(?, ?)", [text, p]).fetchone()[0]
            for p in IDENTIFIER_TEXT_PATTERNS.values()
        )
        assert con.execute("SELECT regexp_matches(?, ?)", [text, IDENTIFIER_ANY]).fetchone()[0] == each, text


def test_known_codes_hold_no_identifier(con):
    # The checks skip the identifier scan for known instrument, unit and event codes.
    from pipeline.contract import EVENTS, INSTRUMENTS
    from pipeline.ingest.context import IDENTIFIER_ANY

    codes = [*INSTRUMENTS, *EVENTS, *{u for i in INSTRUMENTS.values() for u in i.units}]
    hits = [c for c in codes if con.execute("SELECT regexp_matches(?, ?)", [c, IDENTIFIER_ANY]).fetchone()[0]]
    assert hits == []
