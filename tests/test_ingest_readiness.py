"""Drop readiness (data contract revision 2): a drop is taken only when complete, i.e. it holds manifest.json or
none of its files (nor the folder) changed for the settling time. One still being copied is left for a later
refresh, not recorded as a drop version, and listed as `waiting`. The clock is injected: no test sleeps."""

from __future__ import annotations

import time

import pytest

from pipeline.ingest import waiting_reason
from pipeline.reporting.data_quality import drops as dq_drops
from pipeline.settings import DEFAULT_SETTLE_SECONDS, settle_seconds
from tests.ingest_helpers import count, ingest, patient, write_drop

SETTLE = 10.0


def _later(seconds: float):
    return lambda: time.time() + seconds


def test_a_fresh_drop_waits_and_is_taken_once_settled(con, landing):
    write_drop(landing, "2026-01-01_S1")
    first = ingest(con, landing, settle_seconds=SETTLE, clock=_later(0))
    (drop,) = first.drops
    assert (drop.status, drop.version, drop.files) == ("waiting", None, [])
    assert "still being copied" in drop.reason
    # Nothing recorded as a drop version or in the drop log; listed as waiting.
    assert count(con, "drop_versions") == count(con, "drop_log") == count(con, "patients") == 0
    assert con.execute("SELECT drop_id FROM ingest.waiting_drops").fetchall() == [("2026-01-01_S1",)]
    (entry,) = dq_drops(con)
    assert entry["status"] == "waiting" and entry["version"] is None and entry["files"] == []
    assert "still being copied" in entry["reason"]

    later = ingest(con, landing, settle_seconds=SETTLE, clock=_later(SETTLE + 1))
    assert [d.status for d in later.drops] == ["ingested"]
    assert count(con, "waiting_drops") == 0 and count(con, "patients") == 1


def test_a_manifest_makes_a_drop_complete_at_once(con, landing):
    write_drop(landing, "2026-01-01_S1", manifest=True)
    summary = ingest(con, landing, settle_seconds=SETTLE, clock=_later(0))
    assert [d.status for d in summary.drops] == ["ingested"]


def test_only_the_drop_being_copied_waits(con, landing):
    write_drop(landing, "2026-01-01_S1", manifest=True)
    write_drop(landing, "2026-01-02_S1", [patient(patient_id="P0002")])  # no manifest, just written
    write_drop(landing, "2026-01-03_S1", [patient(patient_id="P0003")], manifest=True)
    summary = ingest(con, landing, settle_seconds=SETTLE, clock=_later(0))
    assert [(d.drop_id, d.status) for d in summary.drops] == [
        ("2026-01-01_S1", "ingested"), ("2026-01-02_S1", "waiting"), ("2026-01-03_S1", "ingested"),
    ]
    # Taken by a later refresh, after the drop that sorts after it (out-of-order delivery is supported).
    later = ingest(con, landing, settle_seconds=SETTLE, clock=_later(SETTLE + 1))
    assert [d.status for d in later.drops] == ["skipped", "ingested", "skipped"]
    assert count(con, "current_patients") == 3


def test_a_file_changing_inside_the_folder_resets_the_wait(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "patients.csv").write_text("x")
    now = time.time()
    assert waiting_reason(folder, settle_seconds=SETTLE, now=now) is not None
    assert waiting_reason(folder, settle_seconds=SETTLE, now=now + SETTLE + 1) is None
    # A hidden temporary file of a copy tool counts as a change too.
    (folder / ".patients.csv.part").write_text("y")
    assert waiting_reason(folder, settle_seconds=SETTLE, now=time.time()) is not None
    assert waiting_reason(folder, settle_seconds=0, now=time.time()) is None


def test_a_folder_whose_name_is_not_a_drop_id_is_not_held_while_waiting(con, landing):
    write_drop(landing, "jane.doe@example.com")
    (drop,) = ingest(con, landing, settle_seconds=SETTLE, clock=_later(0)).drops
    assert drop.status == "waiting"
    assert con.execute("SELECT drop_id FROM ingest.waiting_drops").fetchall() == [("(rejected folder name)",)]


def test_settling_time_from_the_environment(monkeypatch):
    monkeypatch.delenv("OUTCOMES_SETTLE_SECONDS", raising=False)
    assert settle_seconds() == DEFAULT_SETTLE_SECONDS == 10.0
    monkeypatch.setenv("OUTCOMES_SETTLE_SECONDS", "2.5")
    assert settle_seconds() == 2.5
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv("OUTCOMES_SETTLE_SECONDS", bad)
        with pytest.raises(ValueError, match="OUTCOMES_SETTLE_SECONDS"):
            settle_seconds()
