"""Every drop the adapters make from the public fixtures is accepted by the real ingest with nothing rejected
or quarantined, every skipped source row is accounted for in the side report, and no identifier, date or free
text of any fixture appears in any file the adapter wrote."""

from __future__ import annotations

import json

import pytest

from pipeline.adapters.__main__ import build
from tests.adapters_helpers import (
    MAPPINGS,
    REDCAP_LONG,
    REDCAP_SINGLE,
    SMART,
    SYNTHEA,
    fhir_secrets,
    output_text,
    redcap_secrets,
)
from tests.ingest_helpers import ingest

CASES = [
    ("redcap", "redcap_longitudinal.toml", REDCAP_LONG),
    ("redcap", "redcap_single.toml", REDCAP_SINGLE),
    ("fhir", "fhir_smart_proms.toml", SMART),
    ("fhir", "fhir_synthea.toml", SYNTHEA),
]


@pytest.mark.parametrize(("kind", "mapping", "source"), CASES, ids=[c[1] for c in CASES])
def test_fixture_drop_is_ingested_whole(con, landing, kind, mapping, source):
    folder, conv = build(kind, MAPPINGS / mapping, source, landing, drop_id="2026-12-01_ADAPTER")
    report = json.loads((landing / "2026-12-01_ADAPTER.adapter-report.json").read_text())
    assert report["reconciled"]
    for name, s in report["sources"].items():
        assert s["read"] == s["written"] + sum(s["skipped"].values()), name
    summary = ingest(con, landing)
    (drop,) = summary.drops
    assert drop.status == "ingested", drop.reason
    assert summary.quarantined == 0, summary.quarantine_reasons
    written = {f.file: f for f in drop.files}
    for table, n in report["rows_written"].items():
        f = written[f"{table}.csv"]
        assert (f.rows_read, f.accepted, f.quarantined, f.duplicates) == (n, n, 0, 0), table
    assert report["rows_written"]["patients"] > 0 and report["rows_written"]["pro_responses"] > 0
    # the manifest was written last and names every file
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(manifest["files"]) == ["events.csv", "patients.csv", "pro_responses.csv"]


@pytest.mark.parametrize(("kind", "mapping", "source"), CASES, ids=[c[1] for c in CASES])
def test_no_identifier_or_date_of_the_input_in_any_output(tmp_path, kind, mapping, source):
    build(kind, MAPPINGS / mapping, source, tmp_path / "landing")
    secrets = redcap_secrets(source) if kind == "redcap" else fhir_secrets(source)
    assert len(secrets) > 10  # the scan has something to look for
    text = output_text(tmp_path / "landing")
    leaked = sorted(s for s in secrets if s in text)
    assert leaked == []
