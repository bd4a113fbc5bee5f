"""Across drops: re-delivery, corrections, supersession, duplicates of held rows, orphans, erasure."""

from __future__ import annotations

import shutil

import pytest

from tests.ingest_helpers import (
    all_text,
    count,
    csv_text,
    event,
    file_of,
    ingest,
    patient,
    pro,
    quarantine,
    table_counts,
    write_drop,
)


def versions(con, drop_id: str) -> list[tuple]:
    return con.execute(
        "SELECT version, status, superseded_by FROM ingest.drop_versions WHERE drop_id = ? ORDER BY version",
        [drop_id],
    ).fetchall()


def test_byte_identical_redelivery_changes_nothing(con, landing, tmp_path):
    write_drop(landing, "d1", pros=[pro()], events=[event()])
    ingest(con, landing)
    before = table_counts(con)
    # Same bytes, new files (copied elsewhere and back: other mtimes)
    shutil.copytree(landing / "d1", tmp_path / "copy")
    shutil.rmtree(landing / "d1")
    shutil.copytree(tmp_path / "copy", landing / "d1")
    summary = ingest(con, landing)
    assert [(d.status, d.version) for d in summary.drops] == [("skipped", 1)]
    assert summary.rows_read == 0
    assert table_counts(con) == before
    assert con.execute("SELECT status FROM ingest.drop_log ORDER BY seen_at").fetchall() == [
        ("ingested",),
        ("skipped",),
    ]


def test_correction_supersedes_the_previous_version_and_keeps_it_in_history(con, landing):
    write_drop(landing, "d1", patients=[patient(), patient(patient_id="P0002")], pros=[pro()])
    ingest(con, landing)
    # The correction changes one patient, drops the other, keeps the PRO row as it was.
    write_drop(landing, "d1", patients=[patient(bmi="31.5")], pros=[pro()])
    summary = ingest(con, landing)
    (drop,) = summary.drops
    assert (drop.status, drop.version) == ("ingested", 2)
    assert versions(con, "d1") == [(1, "ingested", 2), (2, "ingested", None)]
    assert count(con, "patients") == 3  # history kept
    assert con.execute("SELECT version, bmi FROM ingest.current_patients").fetchall() == [(2, 31.5)]
    assert con.execute("SELECT version FROM ingest.current_pro_responses").fetchall() == [(2,)]
    patients = file_of(summary, "d1", "patients.csv")
    assert (patients.accepted, patients.duplicates, patients.superseded) == (1, 0, 2)
    pros = file_of(summary, "d1", "pro_responses.csv")
    # An unchanged row is not a duplicate of the version it corrects: it is re-inserted in the new one.
    assert (pros.accepted, pros.duplicates, pros.superseded) == (1, 0, 1)


def test_rejected_correction_leaves_the_previous_version_live(con, landing):
    folder = write_drop(landing, "d1")
    ingest(con, landing)
    (folder / "events.csv").unlink()
    assert ingest(con, landing).drops[0].status == "rejected"
    assert versions(con, "d1") == [(1, "ingested", None), (2, "rejected", None)]
    assert count(con, "current_patients") == 1
    (folder / "events.csv").write_text(csv_text("events", [event()]))
    assert ingest(con, landing).drops[0].version == 3
    assert versions(con, "d1")[0] == (1, "ingested", 3)


def test_a_later_drop_supersedes_a_key_and_duplicates_are_counted(con, landing):
    write_drop(landing, "2024-01", pros=[pro(), pro(days_from_index="180")], events=[event()])
    ingest(con, landing)
    write_drop(
        landing,
        "2024-02",
        patients=[patient()],  # identical to the held row
        pros=[pro(), pro(days_from_index="180", value="25")],  # one identical, one new value
        events=[event(), event(event="DEATH", days_from_index="900")],
    )
    summary = ingest(con, landing)
    assert [(f.file, f.accepted, f.duplicates, f.superseded) for f in summary.drops[1].files] == [
        ("patients.csv", 0, 1, 0),
        ("pro_responses.csv", 1, 1, 1),
        ("events.csv", 1, 1, 0),
    ]
    current = con.execute(
        "SELECT drop_id, days_from_index, value FROM ingest.current_pro_responses ORDER BY 2"
    )
    assert current.fetchall() == [("2024-01", 90, 30.0), ("2024-02", 180, 25.0)]


def test_orphan_check_looks_at_earlier_drops_of_the_same_site_only(con, landing):
    write_drop(landing, "d1", patients=[patient()])
    ingest(con, landing)
    write_drop(
        landing,
        "d2",
        patients=[patient(site_id="S2", patient_id="P0009")],
        pros=[pro(), pro(site_id="S2", patient_id="P0001")],
    )
    summary = ingest(con, landing)
    rec = file_of(summary, "d2", "pro_responses.csv")
    assert (rec.accepted, rec.quarantine_reasons) == (1, {"orphan": 1})
    assert quarantine(con, "pro_responses.csv") == [("pro_responses.csv", 3, "orphan", None, None)]


def test_a_correction_that_drops_a_patient_makes_its_later_rows_orphans(con, landing):
    write_drop(landing, "d1", patients=[patient(), patient(patient_id="P0002")])
    ingest(con, landing)
    write_drop(landing, "d1", patients=[patient()], pros=[pro(patient_id="P0002")])
    ingest(con, landing)
    assert [r[2] for r in quarantine(con)] == ["orphan"]


def test_erasure_removes_the_patient_everywhere_and_is_audited(con, landing):
    write_drop(
        landing,
        "d1",
        patients=[patient(), patient(patient_id="P0002")],
        pros=[pro(), pro(patient_id="P0002"), pro(patient_id="P0002", value="x")],
        events=[event(patient_id="P0002")],
    )
    ingest(con, landing)
    write_drop(landing, "d1", patients=[patient(), patient(patient_id="P0002", bmi="30")])  # history
    ingest(con, landing)
    assert con.execute("SELECT count(*) FROM ingest.patients WHERE patient_id = 'P0002'").fetchone() == (2,)
    erase = [{"site_id": "S1", "patient_id": "P0002"}, {"site_id": "S1", "patient_id": "P0002"}]
    write_drop(landing, "d2", patients=[], erasures=[*erase, {"site_id": "S1", "patient_id": "bad id"}])
    summary = ingest(con, landing)
    drop = summary.drops[-1]
    assert drop.erased_patients == 1
    rec = file_of(summary, "d2", "erasures.csv")
    assert (rec.rows_read, rec.accepted, rec.quarantined, rec.duplicates) == (3, 1, 1, 1)
    assert "P0002" not in all_text(con, exclude=("erasures",))  # only the audit trail names them
    for table in ("patients", "pro_responses", "events", "quarantine"):
        n = con.execute(f"SELECT count(*) FROM ingest.{table} WHERE patient_id = 'P0002'").fetchone()[0]
        assert n == 0, table
    audit = con.execute("SELECT site_id, patient_id, drop_id, version, rows_deleted FROM ingest.erasures")
    # 2 patient rows (two versions), 2 + 1 PRO rows (accepted and quarantined), 1 event
    assert audit.fetchall() == [("S1", "P0002", "d2", 1, 5)]
    assert count(con, "current_patients") == 1


def test_an_erased_patient_delivered_again_is_quarantined(con, landing):
    write_drop(landing, "d1", patients=[patient()], erasures=[{"site_id": "S1", "patient_id": "P0001"}])
    ingest(con, landing)
    assert count(con, "patients") == 0  # the drop's own rows go too
    write_drop(landing, "d2", patients=[patient()], pros=[pro()], events=[event()])
    summary = ingest(con, landing)
    assert [f.quarantine_reasons for f in summary.drops[1].files] == [{"erased_patient": 1}] * 3
    # Their ids are not kept, even in quarantine; a second erasure of them is a duplicate.
    assert con.execute("SELECT count(*) FROM ingest.quarantine WHERE patient_id IS NOT NULL").fetchone() == (
        0,
    )
    write_drop(landing, "d3", patients=[], erasures=[{"site_id": "S1", "patient_id": "P0001"}])
    rec = file_of(ingest(con, landing), "d3", "erasures.csv")
    assert (rec.accepted, rec.duplicates) == (0, 1)
    assert count(con, "erasures") == 1


def test_reconciliation_holds_for_every_file(con, landing):
    write_drop(
        landing,
        "d1",
        patients=[patient(), patient(), patient(patient_id="P0002", sex="Q"), patient(patient_id="P0003")],
        pros=[
            pro(),
            pro(),
            pro(value="31", days_from_index="1"),
            pro(value="32", days_from_index="1"),
            pro(site_id=""),
        ],
        events=[event(detail="call 555-867-5309"), event(patient_id="P0404")],
        erasures=[{"site_id": "S1", "patient_id": "P0003"}],
    )
    write_drop(landing, "d2", patients=[patient(), patient(patient_id="P0004")], pros=[pro(value="40")])
    summary = ingest(con, landing)
    files = [f for d in summary.drops for f in d.files]
    assert len(files) == 7
    assert all(f.rows_read == f.accepted + f.quarantined + f.duplicates for f in files)
    stored = con.execute(
        "SELECT count(*) FROM ingest.drop_files WHERE rows_read <> accepted + quarantined + duplicates"
    ).fetchone()
    assert stored == (0,)
    totals = con.execute("SELECT sum(rows_read), sum(quarantined), sum(superseded) FROM ingest.drop_files")
    assert totals.fetchone() == (summary.rows_read, summary.quarantined, summary.superseded)
    assert summary.superseded == 1  # d2's new ODI value for P0001 day 90


def test_no_identifier_text_reaches_any_ingest_table(con, landing):
    secrets = ["jane.doe@example.com", "555-867-5309", "078-05-1120", "2024-03-05", "https://x.example.org/p"]
    write_drop(
        landing,
        "d1",
        patients=[patient(), patient(patient_id="078-05-1120"), patient(patient_id="P0002", bmi=secrets[3])],
        pros=[pro(value=secrets[1]), pro(patient_id="jane.doe@example.com", days_from_index="180")],
        events=[event(detail=f"contact {secrets[0]}"), event(detail=secrets[4], days_from_index="10")],
    )
    summary = ingest(con, landing)
    assert summary.quarantine_reasons == {"identifier_in_text": 5, "invalid_id": 1}
    text = all_text(con)
    for secret in secrets:
        assert secret not in text


def test_an_unexpected_failure_rolls_the_drop_back_and_keeps_data_out_of_the_error(con, landing, monkeypatch):
    import pipeline.ingest.run as ingest_run
    from pipeline.ingest import IngestError

    def broken(*_args, **_kwargs):
        raise RuntimeError("S1 P0001 jane.doe@example.com")

    monkeypatch.setattr(ingest_run, "apply_erasures", broken)
    write_drop(landing, "d1", pros=[pro()], erasures=[{"site_id": "S1", "patient_id": "P0001"}])
    with pytest.raises(IngestError) as failure:
        ingest(con, landing)
    assert "P0001" not in str(failure.value) and failure.value.__cause__ is None
    # Phase 2 had inserted the patient and PRO rows before the failure: all rolled back.
    assert table_counts(con) == dict.fromkeys(table_counts(con), 0)
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone() == (0,)
