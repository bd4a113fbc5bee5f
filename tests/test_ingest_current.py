"""The maintained current rows (ingest.replaced_rows behind the ingest.current_* views) equal the window
definition over the whole history, after any sequence of drops, out-of-order deliveries, corrections,
duplicates and erasures, and after migrating a warehouse that had only the window views."""

from __future__ import annotations

import random

import pytest

from pipeline.sql import run
from tests.ingest_helpers import event, ingest, patient, pro, write_drop

# The reference: the definition of the current rows as it stood before they were maintained.
WINDOW = {
    "patients": ("site_id, patient_id", "ingest.patients"),
    "pro_responses": ("site_id, patient_id, instrument, days_from_index", "ingest.pro_responses"),
    "events": ("site_id, patient_id, days_from_index, event, detail", "ingest.events"),
}


def by_window(con, table: str) -> list[tuple]:
    keys, history = WINDOW[table]
    return con.execute(
        f"SELECT t.* FROM {history} t JOIN ingest.live_versions v USING (drop_id, version) "
        f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY t.drop_id DESC, t.line DESC) = 1 "
        "ORDER BY ALL"
    ).fetchall()


def current(con, table: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM ingest.current_{table} ORDER BY ALL").fetchall()


def assert_current_equals_window(con) -> None:
    for table in WINDOW:
        assert current(con, table) == by_window(con, table), table


def random_drop(rng: random.Random, landing, drop_id: str) -> None:
    patients = [
        patient(patient_id=f"P{i}", bmi=str(rng.choice([22.5, 27.5, 31.0])))
        for i in rng.sample(range(1, 6), rng.randint(0, 4))
    ]
    pros = [
        pro(patient_id=f"P{rng.randint(1, 5)}", days_from_index=str(rng.choice([90, 180])),
            value=str(rng.choice([10, 20, 30])))
        for _ in range(rng.randint(0, 6))
    ]
    events = [
        event(patient_id=f"P{rng.randint(1, 5)}", days_from_index=str(rng.choice([200, 300])),
              detail=rng.choice(["", "", "left"]))
        for _ in range(rng.randint(0, 4))
    ]
    erasures = None
    if rng.random() < 0.15:
        erasures = [{"site_id": "S1", "patient_id": f"P{rng.randint(1, 5)}"}]
    write_drop(landing, drop_id, patients=patients, pros=pros, events=events, erasures=erasures)


@pytest.mark.parametrize("seed", range(8))
def test_maintained_current_rows_equal_the_window_definition(con, landing, seed):
    rng = random.Random(seed)
    for _ in range(9):
        # Ids out of delivery order, and ids already held (corrections), on purpose.
        random_drop(rng, landing, f"d{rng.randint(1, 6)}")
        ingest(con, landing)
        assert_current_equals_window(con)


def test_out_of_order_drop_is_stored_but_not_current(con, landing):
    write_drop(landing, "d2", patients=[patient(bmi="30.0")], pros=[pro(value="20")])
    ingest(con, landing)
    write_drop(landing, "d1", patients=[patient(bmi="25.0")], pros=[pro(value="10")])
    summary = ingest(con, landing)
    assert [f.superseded for f in summary.drops[0].files] == [0, 0, 0]
    assert con.execute("SELECT drop_id, bmi FROM ingest.current_patients").fetchall() == [("d2", 30.0)]
    assert con.execute("SELECT count(*) FROM ingest.patients").fetchone() == (2,)
    assert_current_equals_window(con)


def test_a_warehouse_with_window_views_is_migrated_once(con, landing):
    write_drop(landing, "d1", patients=[patient(), patient(patient_id="P2")], pros=[pro()])
    write_drop(landing, "d2", patients=[patient(bmi="31.5")], pros=[pro(value="40")], events=[event()])
    ingest(con, landing)
    # The warehouse as the earlier code left it: no replaced_rows, window views.
    con.execute("DROP VIEW ingest.current_patients; DROP VIEW ingest.current_pro_responses;"
                "DROP VIEW ingest.current_events; DROP TABLE ingest.replaced_rows")
    run(con, "ingest/schema")
    expected = {t: by_window(con, t) for t in WINDOW}
    assert {t: current(con, t) for t in WINDOW} == expected
    summary = ingest(con, landing)  # nothing new; the migration alone
    assert [d.status for d in summary.drops] == ["skipped", "skipped"]
    assert con.execute("SELECT table_name, drop_id FROM ingest.replaced_rows ORDER BY ALL").fetchall() == [
        ("patients", "d1"), ("pro_responses", "d1"),
    ]
    assert {t: current(con, t) for t in WINDOW} == expected
    view = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'current_patients'").fetchone()[0]
    assert "replaced_rows" in view
    # Re-running the schema file keeps the maintained views.
    run(con, "ingest/schema")
    assert "replaced_rows" in con.execute(
        "SELECT sql FROM duckdb_views() WHERE view_name = 'current_patients'").fetchone()[0]


@pytest.mark.parametrize("preserve", [True, False])
def test_the_write_phase_restores_the_insertion_order_setting(con, landing, preserve):
    # Phase 2 appends in any order; phase 1 of the next drop numbers rows in file order again.
    con.execute("SET preserve_insertion_order = ?", [preserve])
    write_drop(landing, "d1", pros=[pro()])
    write_drop(landing, "d2", pros=[pro(days_from_index="180"), pro(days_from_index="bad")])
    ingest(con, landing)
    assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchone() == (preserve,)
    assert con.execute("SELECT drop_id, line FROM ingest.quarantine").fetchall() == [("d2", 3)]
