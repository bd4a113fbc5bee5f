"""Held drops recognised from remembered hashes (ingest.file_hashes) without reading their bytes, and
never when a file may have changed."""

from __future__ import annotations

import pytest

import pipeline.ingest.known_hashes as known_hashes
import pipeline.ingest.run as ingest_run
from tests.ingest_helpers import csv_text, ingest, patient, write_drop


def _refuse_to_read(*_args, **_kwargs):
    raise AssertionError("the drop was read again")


@pytest.fixture
def trusting(monkeypatch):
    """No racy window: a hash taken after a file's last change is trusted at once (the default waits 2 s)."""
    monkeypatch.setattr(known_hashes, "RACY_US", 0)


def test_unchanged_drop_is_skipped_without_reading_it(con, landing, trusting, monkeypatch):
    write_drop(landing, "d1")
    assert [d.status for d in ingest(con, landing).drops] == ["ingested"]
    monkeypatch.setattr(ingest_run, "scan_file", _refuse_to_read)
    summary = ingest(con, landing)
    assert [(d.status, d.version) for d in summary.drops] == [("skipped", 1)]


def test_same_size_rewrite_is_read_and_applied_as_a_correction(con, landing, trusting):
    folder = write_drop(landing, "d1", patients=[patient(bmi="27.5")])
    ingest(con, landing)
    (folder / "patients.csv").write_text(csv_text("patients", [patient(bmi="31.5")]), newline="")
    summary = ingest(con, landing)
    assert [(d.status, d.version) for d in summary.drops] == [("ingested", 2)]
    assert con.execute("SELECT bmi FROM ingest.current_patients").fetchall() == [(31.5,)]


def test_a_hash_taken_right_after_a_change_is_not_trusted(con, landing, monkeypatch):
    write_drop(landing, "d1")
    ingest(con, landing)  # files written moments ago: within the racy window
    monkeypatch.setattr(ingest_run, "scan_file", _refuse_to_read)
    with pytest.raises(AssertionError, match="read again"):
        ingest(con, landing)


def test_new_file_in_a_held_drop_is_read(con, landing, trusting):
    folder = write_drop(landing, "d1")
    ingest(con, landing)
    (folder / "erasures.csv").write_text("site_id,patient_id\nS1,P0001\n")
    summary = ingest(con, landing)
    assert [(d.status, d.version) for d in summary.drops] == [("ingested", 2)]
