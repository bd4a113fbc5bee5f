"""Key columns (site_id, patient_id) are checked by their own patterns (contract revision 2): any digits are a
study number; only a whole value shaped like an SSN, a phone number or a calendar date is an identifier."""

from __future__ import annotations

import pytest

from tests.ingest_helpers import all_text, event, ingest, patient, pro, quarantine, write_drop

VALID_IDS = [
    "100234", "0012345", "H04-00012", "p.000123", "SITE01-7f3a", "K07-00012", "clinic-00042", "9" * 64,
    "0012345678", "5558675309", "20240305", "078051120", "90210",
]
VALID_SITES = ["7", "clinic.north", "H-12", "90210", "0012345", "K07-00012"]


def _rows(site: str, pid: str):
    return (
        [patient(site_id=site, patient_id=pid)],
        [pro(site_id=site, patient_id=pid), pro(site_id=site, patient_id=pid, days_from_index="-10")],
        [event(site_id=site, patient_id=pid)],
    )


@pytest.mark.parametrize("pid", VALID_IDS)
def test_numeric_and_dotted_patient_ids_are_accepted_in_every_table(con, landing, pid):
    patients, pros, events = _rows("S1", pid)
    write_drop(landing, "2026-01-01_S1", patients, pros, events)
    summary = ingest(con, landing)
    assert quarantine(con) == []
    assert summary.accepted == 4 and summary.quarantined == 0
    assert con.execute("SELECT DISTINCT patient_id FROM ingest.current_pro_responses").fetchall() == [(pid,)]
    # An erasure names the patient by the same key.
    write_drop(landing, "2026-01-02_S1", [], erasures=[{"site_id": "S1", "patient_id": pid}])
    later = ingest(con, landing)
    assert later.erased_patients == 1 and quarantine(con) == []


@pytest.mark.parametrize("site", VALID_SITES)
def test_short_and_dotted_site_ids_are_accepted(con, landing, site):
    patients, pros, events = _rows(site, "100234")
    write_drop(landing, "2026-01-01_NETWORK", patients, pros, events)
    summary = ingest(con, landing)
    assert quarantine(con) == [] and summary.accepted == 4


@pytest.mark.parametrize(
    "pid, kind",
    [
        ("078-05-1120", "ssn"),
        ("078.05.1120", "ssn"),
        ("555-867-5309", "phone"),
        ("555.867.5309", "phone"),
        ("1-555-867-5309", "phone"),
        ("2024-03-05", "date"),
        ("2024.03.05", "date"),
        ("03-05-2024", "date"),
        ("25.12.1950", "date"),
        ("5-Mar-2024", "date"),
    ],
)
def test_whole_value_identifier_shapes_in_a_key_are_quarantined_with_their_kind(con, landing, pid, kind):
    patients, pros, events = _rows("S1", pid)
    write_drop(landing, "d1", [patient(), *patients], pros, events)
    ingest(con, landing)
    got = quarantine(con)
    assert [(f, r, c, k) for f, _line, r, c, k in got] == [
        ("events.csv", "identifier_in_text", "patient_id", kind),
        ("patients.csv", "identifier_in_text", "patient_id", kind),
        ("pro_responses.csv", "identifier_in_text", "patient_id", kind),
        ("pro_responses.csv", "identifier_in_text", "patient_id", kind),
    ]
    assert pid not in all_text(con)
    assert con.execute("SELECT count(*) FROM ingest.quarantine WHERE patient_id IS NOT NULL").fetchone()[0] == 0


def test_a_date_shaped_site_id_is_quarantined_and_not_kept(con, landing):
    write_drop(landing, "d1", [patient(), patient(site_id="2024-03-05", patient_id="P7")])
    ingest(con, landing)
    assert quarantine(con) == [("patients.csv", 3, "identifier_in_text", "site_id", "date")]
    assert con.execute("SELECT site_id, patient_id FROM ingest.quarantine").fetchall() == [(None, "P7")]


def test_free_text_columns_keep_the_full_scan(con, landing):
    # The same digits accepted in a key are identifiers in free text.
    write_drop(landing, "d1", [patient(patient_id="90210")],
               events=[event(patient_id="90210", detail="lives in 90210"),
                       event(patient_id="90210", days_from_index="300", detail="MRN 0012345")])
    ingest(con, landing)
    assert quarantine(con) == [
        ("events.csv", 2, "identifier_in_text", "detail", "zip"),
        ("events.csv", 3, "identifier_in_text", "detail", "mrn"),
    ]
