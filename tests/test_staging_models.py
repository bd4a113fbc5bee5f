"""Staging models on hand-made ingest rows: visit windows, units, current rows, arms, follow-up, events."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator

import duckdb
import pytest

from pipeline import staging
from pipeline.checks import STAGING_CHECKS as STAGING_CHECK_SPECS
from pipeline.checks import CheckOutcome, run_check
from pipeline.contract import CANONICAL_UNIT, UNIT_FACTORS
from pipeline.sql import run
from pipeline.staging import STAGING_MODELS, build_all, build_model
from pipeline.study import load_study
from tests.ingest_helpers import ingest, patient, pro, write_drop

STUDY = load_study()
_line = itertools.count(2)  # line 1 is a file's header


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    run(c, "ingest/schema")
    add_drop(c, "d1")
    yield c
    c.close()


def add_drop(con, drop_id: str, version: int = 1, status: str = "ingested", superseded_by: int | None = None):
    con.execute(
        "INSERT INTO ingest.drop_versions (drop_id, version, content_sha256, status, superseded_by,"
        " ingested_at) VALUES (?, ?, 'sha', ?, ?, now())",
        [drop_id, version, status, superseded_by],
    )


def add_patient(con, pid: str, procedure: str = "MILD", sex: str = "F", site: str = "S1",
                drop: str = "d1", version: int = 1) -> None:
    con.execute(
        "INSERT INTO ingest.patients VALUES (?, ?, ?, ?, ?, ?, 2022, 70, false, ?, 28.0, 0, 1, NULL, 12.0, 2,"
        " 3, 'GENERAL', 1)",
        [drop, version, next(_line), site, pid, procedure, sex],
    )


def add_pro(con, pid: str, day: int, instrument: str = "ODI", value: float = 40.0, unit: str | None = None,
            site: str = "S1", drop: str = "d1", version: int = 1) -> None:
    con.execute(
        "INSERT INTO ingest.pro_responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [drop, version, next(_line), site, pid, day, instrument, value, unit],
    )


def add_event(con, pid: str, day: int, event: str, detail: str | None = None, site: str = "S1",
              drop: str = "d1", version: int = 1) -> None:
    con.execute(
        "INSERT INTO ingest.events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [drop, version, next(_line), site, pid, day, event, detail],
    )


def rows(con, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def assessment(con, pid: str, day: int, instrument: str = "ODI") -> tuple:
    return con.execute(
        "SELECT visit, in_window, selected FROM staging.pro_assessments"
        " WHERE patient_id = ? AND days_from_index = ? AND instrument = ?",
        [pid, day, instrument],
    ).fetchone()


# --- visits and windows (SAP section 2) ---

BOUNDARY_DAYS = {
    -91: None, -90: "BASELINE", 0: "BASELINE", 1: None, 13: None, 14: "W6", 63: "W6", 64: "M3",
    2008: "M60", 2009: None,
}


def test_visit_windows_table_mirrors_the_study(con):
    build_model(con, "pro_assessments", STUDY)
    expected = [tuple(r) for r in STUDY.visit_rows()]
    assert rows(con, "SELECT * FROM staging.visit_windows ORDER BY ordinal") == expected


def test_sap_boundary_days(con):
    add_patient(con, "P1")
    for day in BOUNDARY_DAYS:
        add_pro(con, "P1", day)
    build_all(con, STUDY)
    for day, visit in BOUNDARY_DAYS.items():
        got_visit, in_window, _ = assessment(con, "P1", day)
        assert (got_visit, in_window) == (visit, visit is not None), day


def test_every_window_boundary_of_the_study(con):
    add_patient(con, "P1")
    days = sorted({d for v in STUDY.visits for d in (v.start - 1, v.start, v.end, v.end + 1)})
    for day in days:
        add_pro(con, "P1", day)
    build_all(con, STUDY)
    for day in days:
        expected = next((v.name for v in STUDY.visits if v.start <= day <= v.end), None)
        assert assessment(con, "P1", day)[:2] == (expected, expected is not None), day


def test_closest_to_target_is_selected(con):
    add_patient(con, "P1")
    for day in (-60, -2, 20, 40, 60, 100, 130):  # targets: BASELINE 0, W6 42, M3 91
        add_pro(con, "P1", day)
    build_all(con, STUDY)
    selected = rows(con, "SELECT days_from_index FROM staging.pro_assessments WHERE selected ORDER BY 1")
    assert selected == [(-2,), (40,), (100,)]


def test_tie_goes_to_the_earlier_day(con):
    add_patient(con, "P1")
    for day in (40, 44, 89, 93, 1461 - 100, 1461 + 100):  # targets: W6 42, M3 91, M48 1461
        add_pro(con, "P1", day)
    build_all(con, STUDY)
    assert rows(con, "SELECT visit, days_from_index FROM staging.pro_visits ORDER BY visit_ordinal") == [
        ("W6", 40), ("M3", 89), ("M48", 1361),
    ]


def test_selection_is_per_instrument_and_patient(con):
    add_patient(con, "P1")
    add_patient(con, "P2")
    add_pro(con, "P1", 30, "ODI")
    add_pro(con, "P1", 50, "NRS_BACK", 5)
    add_pro(con, "P2", 60, "ODI")
    build_all(con, STUDY)
    got = rows(con, "SELECT patient_id, instrument, days_from_index FROM staging.pro_visits ORDER BY ALL")
    assert got == [
        ("P1", "NRS_BACK", 50), ("P1", "ODI", 30), ("P2", "ODI", 60),
    ]


def test_outside_window_rows_are_kept_flagged_and_not_used_by_visit(con):
    add_patient(con, "P1")
    add_pro(con, "P1", 7)
    add_pro(con, "P1", 3000)
    build_all(con, STUDY)
    assert assessment(con, "P1", 7) == (None, False, False)
    assert assessment(con, "P1", 3000) == (None, False, False)
    assert rows(con, "SELECT count(*) FROM staging.pro_visits") == [(0,)]


def test_pro_visits_columns(con):
    add_patient(con, "P1")
    add_pro(con, "P1", 365, "WALK_DISTANCE", 2.0, "km")
    build_all(con, STUDY)
    assert [c[0] for c in con.execute("DESCRIBE staging.pro_visits").fetchall()] == [
        "site_id", "patient_id", "instrument", "visit", "visit_ordinal", "days_from_index", "value",
    ]
    assert rows(con, "FROM staging.pro_visits") == [("S1", "P1", "WALK_DISTANCE", "M12", 4, 365, 2000.0)]


# --- units (SAP section 3) ---

UNIT_CASES = [  # instrument, raw value, unit, value in canonical units
    ("WALK_DISTANCE", 250.0, "m", 250.0),
    ("WALK_DISTANCE", 1000.0, "ft", 304.8),
    ("WALK_DISTANCE", 1.5, "km", 1500.0),
    ("WALK_DISTANCE", 2.0, "mi", 3218.688),
    ("STAND_TIME", 25.0, "min", 25.0),
    ("STAND_TIME", 2.5, "h", 150.0),
]


@pytest.mark.parametrize(("instrument", "raw", "unit", "expected"), UNIT_CASES)
def test_unit_conversion_is_exact(con, instrument, raw, unit, expected):
    add_patient(con, "P1")
    add_pro(con, "P1", 42, instrument, raw, unit)
    build_all(con, STUDY)
    got = con.execute("SELECT value, value_raw, unit_raw, unit FROM staging.pro_assessments").fetchone()
    assert got == (expected, raw, unit, CANONICAL_UNIT[instrument])
    assert got[0] == raw * UNIT_FACTORS[unit]


def test_every_contract_unit_is_covered():
    assert {u for _, _, u, _ in UNIT_CASES} == set(UNIT_FACTORS)


def test_unitless_instrument_keeps_its_value(con):
    add_patient(con, "P1")
    add_pro(con, "P1", 42, "ODI", 37.5)
    build_all(con, STUDY)
    assert rows(con, "SELECT value, value_raw, unit_raw, unit FROM staging.pro_assessments") == [
        (37.5, 37.5, None, None)
    ]


# --- current rows, patients and arms ---

def test_superseded_and_rejected_versions_are_absent(con):
    add_drop(con, "d0", 1, superseded_by=2)
    add_drop(con, "d0", 2)
    add_drop(con, "d9", 1, status="rejected")
    add_patient(con, "OLD", drop="d0", version=1)
    add_pro(con, "OLD", 42, drop="d0", version=1)
    add_event(con, "OLD", 10, "COMPLICATION", drop="d0", version=1)
    add_patient(con, "NEW", drop="d0", version=2)
    add_pro(con, "NEW", 42, drop="d0", version=2)
    add_patient(con, "REJ", drop="d9")
    build_all(con, STUDY)
    for table in ("patients", "pro_assessments", "pro_visits", "follow_up"):
        assert rows(con, f"SELECT DISTINCT patient_id FROM staging.{table}") == [("NEW",)], table
    assert rows(con, "SELECT count(*) FROM staging.events") == [(0,)]


def test_later_drop_wins_for_a_patient(con):
    add_drop(con, "d2")
    add_patient(con, "P1", "MILD", drop="d1")
    add_patient(con, "P1", "LAMINECTOMY", drop="d2")
    build_all(con, STUDY)
    assert rows(con, "SELECT procedure, arm FROM staging.patients") == [("LAMINECTOMY", "comparator")]


def test_arms_with_default_study(con):
    for pid, proc, sex in (("A", "MILD", "F"), ("B", "LAMINECTOMY", "M"), ("C", "FUSION", "U")):
        add_patient(con, pid, proc, sex)
    build_model(con, "patients", STUDY)
    assert rows(con, "SELECT patient_id, female, arm, in_analysis FROM staging.patients ORDER BY 1") == [
        ("A", 1, "treatment", True), ("B", 0, "comparator", True), ("C", 0, None, False),
    ]


def test_arms_come_from_the_study(con):
    study = dataclasses.replace(STUDY, treatment="LAMINECTOMY", comparator="FUSION")
    for pid, proc in (("A", "MILD"), ("B", "LAMINECTOMY"), ("C", "FUSION")):
        add_patient(con, pid, proc)
    build_model(con, "patients", study)
    assert rows(con, "SELECT patient_id, arm, in_analysis FROM staging.patients ORDER BY 1") == [
        ("A", None, False), ("B", "treatment", True), ("C", "comparator", True),
    ]


def test_identical_arms_are_refused(con):
    with pytest.raises(ValueError, match="same procedure"):
        build_model(con, "patients", dataclasses.replace(STUDY, comparator=STUDY.treatment))


def test_patients_keep_every_contract_column(con):
    add_patient(con, "P1")
    build_model(con, "patients", STUDY)
    assert rows(con, "FROM staging.patients") == [(
        "S1", "P1", "MILD", 2022, 70, False, "F", 28.0, 0, 1, None, 12.0, 2, 3, "GENERAL", 1,
        1, "treatment", True,
    )]


# --- events and follow-up (SAP section 1) ---

def test_events_drop_detail_and_keep_distinct_events(con):
    add_patient(con, "P1")
    add_event(con, "P1", 3, "COMPLICATION", "durotomy")
    add_event(con, "P1", 3, "COMPLICATION", "hematoma")
    build_model(con, "events", STUDY)
    assert [c[0] for c in con.execute("DESCRIBE staging.events").fetchall()] == [
        "site_id", "patient_id", "days_from_index", "event",
    ]
    assert rows(con, "FROM staging.events") == [("S1", "P1", 3, "COMPLICATION")] * 2


def test_follow_up_end(con):
    for pid in ("PRO", "NONE", "EVENTS", "OUTSIDE", "DEATH_ONLY", "OTHER_ARM"):
        add_patient(con, pid, "FUSION" if pid == "OTHER_ARM" else "MILD")
    for day in (-30, 0, 400):  # only day > 0 counts
        add_pro(con, "PRO", day)
    add_event(con, "PRO", 20, "RETURN_TO_ACTIVITY")
    add_pro(con, "NONE", -10)
    add_pro(con, "NONE", 0)
    add_pro(con, "EVENTS", 100)
    add_event(con, "EVENTS", 500, "WITHDRAWN")
    add_event(con, "EVENTS", 700, "LAST_CONTACT")
    add_event(con, "EVENTS", 650, "LAST_CONTACT")
    add_event(con, "EVENTS", 800, "DEATH")
    add_pro(con, "OUTSIDE", 3000)  # outside every window, still a post-index PRO row
    add_event(con, "DEATH_ONLY", 50, "DEATH")
    add_pro(con, "OTHER_ARM", 30)
    build_all(con, STUDY)
    assert rows(con, "FROM staging.follow_up ORDER BY patient_id") == [
        ("S1", "DEATH_ONLY", 50, 50, None, None, 0),
        ("S1", "EVENTS", 800, 800, 500, 700, 1),
        ("S1", "NONE", 0, None, None, None, 0),
        ("S1", "OTHER_ARM", 30, None, None, None, 1),
        ("S1", "OUTSIDE", 3000, None, None, None, 1),
        ("S1", "PRO", 400, None, None, None, 1),
    ]


def test_patient_keys_are_per_site(con):
    add_patient(con, "P1", site="S1")
    add_patient(con, "P1", site="S2")
    add_event(con, "P1", 90, "LAST_CONTACT", site="S2")
    build_all(con, STUDY)
    got = rows(con, "SELECT site_id, follow_up_end_day FROM staging.follow_up ORDER BY 1")
    assert got == [("S1", 0), ("S2", 90)]


# --- the stage as a whole ---

def _snapshot(con) -> dict[str, list[tuple]]:
    tables = (*STAGING_MODELS, "visit_windows", "units")
    return {t: sorted(rows(con, f"FROM staging.{t}"), key=repr) for t in tables}


def _small_warehouse(con) -> None:
    add_patient(con, "P1")
    add_patient(con, "P2", "LAMINECTOMY", "M")
    for day, value in ((-20, 50.0), (40, 30.0), (44, 31.0), (7, 45.0), (370, 20.0)):
        add_pro(con, "P1", day, "ODI", value)
    add_pro(con, "P2", 365, "STAND_TIME", 1.0, "h")
    add_event(con, "P2", 400, "LAST_CONTACT", "phoned")


def test_rebuild_gives_the_same_rows_and_counts(con):
    _small_warehouse(con)
    first_counts = build_all(con, STUDY)
    first = _snapshot(con)
    assert build_all(con, STUDY) == first_counts
    assert _snapshot(con) == first
    assert first_counts == {t: len(first[t]) for t in STAGING_MODELS}
    assert list(first_counts) == list(STAGING_MODELS)


def test_rebuild_drops_rows_that_are_no_longer_current(con):
    _small_warehouse(con)
    build_all(con, STUDY)
    con.execute("UPDATE ingest.drop_versions SET superseded_by = 2 WHERE drop_id = 'd1'")
    assert set(build_all(con, STUDY).values()) == {0}


def staging_check(con, name: str) -> CheckOutcome:
    """The staging check `name`, judged as its asset check judges it."""
    return run_check(con, next(s for s in STAGING_CHECK_SPECS if s.name == name), STUDY)


def test_staging_checks_pass(con):
    _small_warehouse(con)
    build_all(con, STUDY)
    for check in ("patients_key_unique", "patients_within_contract", "pro_assessments_canonical",
                  "pro_visits_one_per_visit", "pro_visits_within_window", "follow_up_one_per_patient",
                  "events_name_known_patients"):
        assert staging_check(con, check).passed, check


def test_two_assessments_for_one_visit_fail_the_check(con):
    _small_warehouse(con)
    build_all(con, STUDY)
    # P1 has two W6 rows (days 40 and 44); mark both as the one used.
    con.execute("UPDATE staging.pro_assessments SET selected = true WHERE patient_id = 'P1' AND visit = 'W6'")
    outcome = staging_check(con, "pro_visits_one_per_visit")
    assert (outcome.failures, outcome.checked) == (1, 5)


def test_a_build_with_an_earlier_drop_superseded_is_incremental_and_equals_a_full_one(con):
    _small_warehouse(con)
    build_all(con, STUDY)
    con.execute("INSERT INTO ingest.drop_versions (drop_id, version, content_sha256, status, ingested_at) "
                "VALUES ('d1', 2, 'sha2', 'ingested', now())")
    con.execute("UPDATE ingest.drop_versions SET superseded_by = 2 WHERE drop_id = 'd1' AND version = 1")
    con.execute("INSERT INTO ingest.pro_responses SELECT drop_id, 2, line, site_id, patient_id, days_from_index, "
                "instrument, value + 1, unit FROM ingest.pro_responses WHERE patient_id = 'P1'")
    con.execute("INSERT INTO ingest.patients SELECT * REPLACE (2 AS version) FROM ingest.patients "
                "WHERE patient_id = 'P1'")
    assert staging.build_model(con, "pro_assessments", STUDY).build["patients_rebuilt"] == 2
    for name in STAGING_MODELS:
        staging.build_model(con, name, STUDY)
    incremental = _snapshot(con)
    build_all(con, STUDY, full=True)
    assert _snapshot(con) == incremental
    assert rows(con, "SELECT count(*) FROM staging.patients") == [(1,)]


def test_unknown_model_is_refused(con):
    with pytest.raises(ValueError, match="unknown staging model"):
        build_model(con, "visits", STUDY)


def test_unit_that_does_not_fit_gives_no_value_and_no_visit(con):
    add_patient(con, "P1")
    add_pro(con, "P1", 42, "WALK_DISTANCE", 100.0, "yd")
    add_pro(con, "P1", 42, "ODI", 30.0, "m")
    build_all(con, STUDY)
    got = rows(con, "SELECT instrument, value, unit, visit, selected FROM staging.pro_assessments ORDER BY 1")
    assert got == [
        ("ODI", None, None, "W6", False), ("WALK_DISTANCE", None, None, "W6", False),
    ]
    assert rows(con, "SELECT count(*) FROM staging.pro_visits") == [(0,)]


def test_failed_build_leaves_the_previous_tables(con):
    build_model(con, "pro_assessments", STUDY)
    windows = "SELECT * FROM staging.visit_windows ORDER BY ordinal"
    before = rows(con, windows)
    one_visit = dataclasses.replace(STUDY, visits=STUDY.visits[:1])
    con.execute("DROP VIEW ingest.current_pro_responses")
    with pytest.raises(duckdb.CatalogException):
        build_model(con, "pro_assessments", one_visit)
    assert rows(con, windows) == before and len(before) == len(STUDY.visits)


# --- degenerate landings (SAP 9): nothing to stage is not an error ---

STAGING_CHECKS = ("patients_key_unique", "patients_within_contract", "pro_assessments_canonical",
                  "pro_visits_one_per_visit", "pro_visits_within_window", "follow_up_one_per_patient",
                  "events_name_known_patients")


def _incremental_build(con) -> dict[str, tuple[str, int]]:
    return {name: (r.build["build"], r.rows) for name in STAGING_MODELS for r in [build_model(con, name, STUDY)]}


def test_an_empty_landing_stages_empty_tables_full_then_incrementally(tmp_path):
    (tmp_path / "landing").mkdir()
    with duckdb.connect() as c:
        ingest(c, tmp_path / "landing")
        first, second = _incremental_build(c), _incremental_build(c)
        assert {rows for _, rows in first.values()} == {0}
        assert second["patients"] == ("incremental", 0) and second["follow_up"] == ("incremental", 0)
        assert all(staging_check(c, check).passed for check in STAGING_CHECKS)


def test_erasing_every_patient_empties_staging_incrementally(tmp_path):
    landing = tmp_path / "landing"
    write_drop(landing, "2026-01-01_S1", patients=[patient()], pros=[pro(days_from_index="-5"), pro()])
    with duckdb.connect() as c:
        ingest(c, landing)
        assert _incremental_build(c)["pro_assessments"] == ("full", 2)
        write_drop(landing, "2026-02-01_S1", patients=[], erasures=[{"site_id": "S1", "patient_id": "P0001"}])
        ingest(c, landing)
        after = _incremental_build(c)
        assert {mode for name, (mode, _) in after.items() if name != "pro_visits"} == {"incremental"}
        assert {rows for _, rows in after.values()} == {0}
        assert all(staging_check(c, check).passed for check in STAGING_CHECKS)
