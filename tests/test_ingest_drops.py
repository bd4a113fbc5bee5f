"""Drop-level rules of the contract: each rejection reason, all-or-nothing, discovery and fingerprints."""

from __future__ import annotations

import json
import os

import pytest

from pipeline.ingest import landing_fingerprint
from tests.ingest_helpers import (
    count,
    csv_text,
    ingest,
    patient,
    pro,
    table_counts,
    to_parquet,
    write_drop,
    write_manifest,
)


def rejected(con, landing, code: str):
    summary = ingest(con, landing)
    (drop,) = summary.drops
    assert (drop.status, drop.reason_code) == ("rejected", code), drop.reason
    # Nothing of a rejected drop enters the warehouse; the rejection itself is recorded.
    assert count(con, "patients") == count(con, "quarantine") == count(con, "drop_files") == 0
    status = con.execute("SELECT status, reason_code FROM ingest.drop_versions").fetchall()
    assert status == [("rejected", code)]
    return drop


def test_invalid_drop_id(con, landing):
    write_drop(landing, "bad drop id!")
    drop = rejected(con, landing, "invalid_drop_id")
    assert "bad drop id" not in drop.reason


def test_missing_file(con, landing):
    (write_drop(landing, "d1") / "events.csv").unlink()
    assert "events.csv" in rejected(con, landing, "missing_file").reason


def test_ambiguous_format(con, landing):
    folder = write_drop(landing, "d1", pros=[pro()])
    to_parquet(folder, "pro_responses")
    (folder / "pro_responses.csv").write_text(csv_text("pro_responses", [pro()]))
    rejected(con, landing, "ambiguous_format")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("site_id,patient_id\nS1,P\xe9\n".encode("latin-1"), id="latin-1"),
        pytest.param(bytes(range(256)) * 4, id="binary"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\xef\xbb\xbf", id="only-bom"),
    ],
)
def test_unreadable_csv(con, landing, content):
    folder = write_drop(landing, "d1")
    (folder / "events.csv").write_bytes(content)
    assert "events.csv" in rejected(con, landing, "unreadable_file").reason


def test_non_utf8_deep_in_a_file_rejects_the_drop(con, landing):
    folder = write_drop(landing, "d1")
    text = csv_text("pro_responses", [pro(days_from_index=str(d)) for d in range(1, 3000)])
    (folder / "pro_responses.csv").write_bytes(text.encode() + b"S1,P0001,5000,ODI,3\xff,\n")
    drop = rejected(con, landing, "unreadable_file")
    assert "UTF-8" in drop.reason


def test_broken_parquet(con, landing):
    folder = write_drop(landing, "d1")
    (folder / "events.csv").unlink()
    (folder / "events.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    rejected(con, landing, "unreadable_file")


def test_missing_column(con, landing):
    folder = write_drop(landing, "d1")
    cols = [c for c in patient() if c != "bmi"]
    (folder / "patients.csv").write_text(csv_text("patients", [patient()], columns=cols))
    assert "bmi" in rejected(con, landing, "missing_column").reason


def test_a_contract_column_named_twice(con, landing):
    folder = write_drop(landing, "d1")
    (folder / "events.csv").write_text("site_id,patient_id,days_from_index,event,detail,event\n")
    assert "event" in rejected(con, landing, "unreadable_file").reason


def test_column_names_are_case_sensitive(con, landing):
    folder = write_drop(landing, "d1")
    text = csv_text("patients", [patient()]).replace("site_id", "Site_ID", 1)
    (folder / "patients.csv").write_text(text)
    rejected(con, landing, "missing_column")


def test_identifier_column_is_named_by_position_only(con, landing):
    folder = write_drop(landing, "d1")
    rows = [{**patient(), "Patient E-mail": "x"}]
    (folder / "patients.csv").write_text(csv_text("patients", rows, columns=[*patient(), "Patient E-mail"]))
    drop = rejected(con, landing, "identifier_column")
    assert "column 16 of patients.csv" in drop.reason
    assert "Patient E-mail" not in drop.reason


def test_identifier_column_in_parquet(con, landing):
    folder = write_drop(landing, "d1")
    rows = [{**patient(), "dob": "1950-01-01"}]
    (folder / "patients.csv").write_text(csv_text("patients", rows, columns=[*patient(), "dob"]))
    to_parquet(folder, "patients")
    rejected(con, landing, "identifier_column")


def test_extra_columns_are_ignored(con, landing):
    folder = write_drop(landing, "d1")
    rows = [{"comment": "anything", **patient()}]
    (folder / "patients.csv").write_text(
        csv_text("patients", rows, columns=["comment", *reversed(patient())])
    )
    summary = ingest(con, landing)
    assert summary.drops[0].status == "ingested"
    assert count(con, "patients") == 1


@pytest.mark.parametrize(
    "manifest",
    [
        pytest.param("{not json", id="not-json"),
        pytest.param(json.dumps({"contract_version": "2", "files": {}}), id="other-version"),
        pytest.param(
            json.dumps({"contract_version": "1", "files": {"patients.csv": "abc"}}), id="bad-digest"
        ),
        pytest.param(json.dumps(["contract_version", "1"]), id="not-an-object"),
    ],
)
def test_bad_manifest(con, landing, manifest):
    folder = write_drop(landing, "d1")
    (folder / "manifest.json").write_text(manifest)
    rejected(con, landing, "bad_manifest")


def test_manifest_checksum_mismatch(con, landing):
    folder = write_drop(landing, "d1", manifest=True)
    (folder / "patients.csv").write_text(csv_text("patients", [patient(bmi="31")]))
    assert "patients.csv" in rejected(con, landing, "checksum_mismatch").reason


def test_manifest_lists_a_missing_file(con, landing):
    folder = write_drop(landing, "d1")
    write_manifest(folder, {"erasures.csv": "0" * 64})
    assert "erasures.csv" in rejected(con, landing, "checksum_mismatch").reason


def test_matching_manifest_is_accepted(con, landing):
    write_drop(landing, "d1", manifest=True)
    assert ingest(con, landing).drops[0].status == "ingested"


def test_rejected_drop_is_skipped_until_it_changes(con, landing):
    folder = write_drop(landing, "d1")
    (folder / "events.csv").unlink()
    assert ingest(con, landing).drops[0].status == "rejected"
    assert [(d.status, d.version) for d in ingest(con, landing).drops] == [("skipped", 1)]
    (folder / "events.csv").write_text(csv_text("events", []))
    drop = ingest(con, landing).drops[0]
    assert (drop.status, drop.version) == ("ingested", 2)
    assert count(con, "patients") == 1


def test_a_fault_in_a_later_file_leaves_nothing_of_the_drop(con, landing):
    folder = write_drop(landing, "d1", pros=[pro()])
    (folder / "events.csv").unlink()
    (folder / "events.parquet").write_bytes(b"PAR1" + b"\0" * 100 + b"PAR1")
    rejected(con, landing, "unreadable_file")
    assert count(con, "pro_responses") == 0


def test_discovery_order_and_ignored_entries(con, landing):
    write_drop(landing, "b", patients=[patient(bmi="31")])
    write_drop(landing, "a", patients=[patient(bmi="30")])
    write_drop(landing, ".hidden")
    (landing / "notes.txt").write_text("not a drop")
    summary = ingest(con, landing)
    assert [d.drop_id for d in summary.drops] == ["a", "b"]
    # The drop applied last wins the key.
    assert con.execute("SELECT bmi, drop_id FROM ingest.current_patients").fetchall() == [(31.0, "b")]


def test_nothing_to_do(con, landing):
    assert ingest(con, landing).drops == []
    write_drop(landing, "d1")
    ingest(con, landing)
    before = table_counts(con)
    summary = ingest(con, landing)
    assert [d.status for d in summary.drops] == ["skipped"]
    assert table_counts(con) == before


def test_landing_fingerprint_changes_only_with_the_drops(landing):
    write_drop(landing, "d1")
    first = landing_fingerprint(landing)
    assert landing_fingerprint(landing) == first
    (landing / ".tmp-upload").mkdir()
    assert landing_fingerprint(landing) == first
    write_drop(landing, "d2")
    second = landing_fingerprint(landing)
    assert second != first
    path = landing / "d2" / "patients.csv"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert landing_fingerprint(landing) != second
    assert landing_fingerprint(landing / "missing") == landing_fingerprint(landing / "also-missing")
