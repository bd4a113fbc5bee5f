"""The synthetic REDCap export of our own instruments (repeating `pro` and `outcome_event` forms inside two
events, data access groups as sites, units as radio codes, an MRN, a birth date and free-text notes) comes back
through the adapter as exactly the rows of the equivalent contract drop (ages over 90 top-coded)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from pipeline.adapters.__main__ import build
from sample_data.redcap_export import build as build_export


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic_redcap")
    subprocess.run([sys.executable, "-m", "sample_data.generate", "--patients", "150", "--seed", "7", "--landing",
                    str(root / "gen"), "--truth", str(root / "truth.json"), "--no-defects", "--deliveries", "1"],
                   check=True, capture_output=True)
    build_export(root / "gen", root / "rc")
    folder, conv = build("redcap", root / "rc" / "mapping.toml", root / "rc" / "export", root / "landing",
                         drop_id="2026-11-15_NETWORK")
    return root, folder, conv


def _table(folder, name):
    frame = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


@pytest.mark.parametrize("table", ["patients", "pro_responses", "events"])
def test_rows_equal_the_contract_drop(world, table):
    root, folder, _ = world
    expected = _table(root / "rc" / "contract" / "2026-11-15_NETWORK", table)
    if table == "patients":  # the contract drop carries the delivered age; the adapter top-codes at 90
        expected["age_at_index"] = expected["age_at_index"].where(expected["age_at_index"].astype(int) <= 90, "90")
        expected = expected.sort_values(list(expected.columns)).reset_index(drop=True)
    got = _table(folder, table)[list(expected.columns)].sort_values(list(expected.columns)).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)


def test_repeats_events_and_the_completion_filter_are_counted(world):
    root, _, conv = world
    records = pd.read_csv(root / "rc" / "export" / "records.csv", dtype=str, keep_default_na=False)
    pro_rows = records[records["redcap_repeat_instrument"] == "pro"]
    assert (pro_rows["redcap_repeat_instance"].astype(int) > 1).any()  # repeats within an event
    assert set(pro_rows["redcap_event_name"]) == {"baseline_arm_1", "followup_arm_1"}
    src = conv.report.as_dict()["sources"]
    assert src["form:pro"] == {"read": len(pro_rows), "written": len(pro_rows) - 3,
                               "skipped": {"incomplete_form": 3}}
    assert src["form:outcome_event"]["read"] == (records["redcap_repeat_instrument"] == "outcome_event").sum()


def test_no_mrn_birth_date_note_or_date_in_the_drop(world):
    root, folder, _ = world
    records = pd.read_csv(root / "rc" / "export" / "records.csv", dtype=str, keep_default_na=False)
    text = "\n".join(p.read_text() for p in folder.iterdir())
    for column in ("mrn", "dob", "surgery_date", "assess_date", "event_date", "enrolment_notes"):
        values = {v for v in records[column] if v}
        assert values and not any(v in text for v in values), column
