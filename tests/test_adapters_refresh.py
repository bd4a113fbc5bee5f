"""A whole refresh from the synthetic REDCap export of our own instruments (sample_data/redcap_export.py),
converted by the adapter, publishes the same results.json numbers as a refresh from the equivalent contract
drop (the generated drops, concatenated). Independent route: the contract drop is written by the generator,
never by the adapter."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipeline.adapters.__main__ import build
from sample_data.redcap_export import build as build_export
from tests.report_world import run_graph

pytestmark = pytest.mark.slow


def _results(root, landing):
    assert run_graph(root, landing).success
    doc = json.loads((root / "site" / "latest" / "results.json").read_text())
    doc.pop("provenance")  # run id, time and input hashes differ by construction
    return doc


def test_redcap_refresh_gives_the_contract_drops_results(tmp_path):
    generated = tmp_path / "gen" / "landing"
    subprocess.run([sys.executable, "-m", "sample_data.generate", "--patients", "300", "--seed", "23",
                    "--landing", str(generated), "--truth", str(tmp_path / "gen" / "truth.json"), "--no-defects",
                    "--deliveries", "1"], check=True, capture_output=True)
    build_export(generated, tmp_path / "rc")
    _, conv = build("redcap", tmp_path / "rc" / "mapping.toml", tmp_path / "rc" / "export",
                    tmp_path / "redcap_landing", drop_id="2026-11-15_NETWORK")
    report = conv.report.as_dict()
    # the unfinished assessments planted by the export (pro_complete = 0) are skipped, nothing else
    assert report["sources"]["form:pro"]["skipped"] == {"incomplete_form": 6}
    assert report["sources"]["records"] == {"read": 300, "written": 300, "skipped": {}}
    contract = _results(tmp_path / "a", tmp_path / "rc" / "contract")
    adapted = _results(tmp_path / "b", tmp_path / "redcap_landing")
    assert adapted == contract
    # a real report, not two empty ones: both arms, and change scores estimated for every instrument
    assert sum(arm["patients"] for arm in contract["population"].values()) > 250
    assert {row["instrument"] for row in contract["pro_change"] if row["mean_change"] is not None} >= {
        "ODI", "NRS_BACK", "NRS_LEG"}
