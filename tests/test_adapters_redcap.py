"""The REDCap adapter on REDCapR's public demo exports (tests/fixtures/adapters/redcap): events and event day
offsets, checkbox columns, the completion filter, dates to days, units, the side report, and precise mapping
errors. Expected values were read off the fixture CSVs by hand (see the comments)."""

from __future__ import annotations

import copy
import os

import pytest

from pipeline.adapters import MappingError
from pipeline.adapters.__main__ import build, main
from tests.adapters_helpers import MAPPINGS, REDCAP_LONG, REDCAP_SINGLE, convert, mapping, rows


@pytest.fixture(scope="module")
def long_conv():
    return convert("redcap", mapping("redcap_longitudinal.toml"), REDCAP_LONG)


def _pro(conv, pid):
    return {(int(r["days_from_index"]), r["instrument"]): (r["value"], r["unit"])
            for r in rows(conv, "pro_responses") if r["patient_id"] == pid}


def test_patients_from_choice_fields_checkboxes_and_a_calc(long_conv):
    by_id = {r["patient_id"]: r for r in rows(long_conv, "patients")}
    assert set(by_id) == {"100", "220", "304"}
    # data.csv: 100 sex 1 (Male), ethnicity 0, bmi 31.3, meds___2 = 1, gym___1 = 0, slider 71
    assert by_id["100"] | {} == {**by_id["100"], "procedure": "MILD", "sex": "M", "bmi": "31.3", "diabetes": "1",
                                "smoker": "0", "age_at_index": "71", "index_year": "2015", "levels_treated": "1"}
    # 220: sex 0 (Female), ethnicity 2, gym___1 = 1
    assert (by_id["220"]["sex"], by_id["220"]["procedure"], by_id["220"]["smoker"]) == ("F", "LAMINECTOMY", "1")


def test_days_from_event_offsets_and_from_dates(long_conv):
    p100 = _pro(long_conv, "100")
    # visit_lab_data at visit_1_arm_1 (DayOffset 3) and visit_2_arm_1 (10); ".423" written as 0.423
    assert p100[(3, "ODI")] == ("5.6", "") and p100[(10, "ODI")] == ("0.423", "")
    assert p100[(3, "WALK_DISTANCE")] == ("33.5", "m")
    # baseline_data dated by date_enrolled (day 0); creat_b as standing time in minutes
    assert p100[(0, "ODI")] == ("3.5", "") and p100[(0, "STAND_TIME")] == ("355", "min")
    # completion_project_questionnaire of 304 dated 2015-04-13, 11 days after enrolment, but cpq10 is empty
    assert not any(k[0] == 11 for k in _pro(long_conv, "304"))
    assert {r["patient_id"]: r["days_from_index"] for r in rows(long_conv, "events")} == {"100": "0", "220": "0"}


def test_completion_filter_default_and_configured(long_conv):
    # 220's baseline_data_complete is 1 (unverified): skipped by default
    assert (0, "ODI") not in _pro(long_conv, "220")
    assert long_conv.report.sources["form:baseline_data"].skipped["incomplete_form"] == 1
    doc = mapping("redcap_longitudinal.toml")
    doc["complete"] = {"status": ["1", "2"]}
    assert _pro(convert("redcap", doc, REDCAP_LONG), "220")[(0, "ODI")] == ("44.8", "")


def test_every_row_of_a_mapped_form_is_accounted_for(long_conv):
    report = long_conv.report.as_dict()
    assert report["reconciled"]
    src = report["sources"]
    # patient_morale_questionnaire is on 6 events of 2 arms: 4 rows for 100 and 220 each, 2 for 304;
    # complete = 0 or 1 on 3 of them (100 visit_1, 100 dose_2, 220 visit_2)
    assert src["form:patient_morale_questionnaire"] == {"read": 10, "written": 7, "skipped": {"incomplete_form": 3}}
    # 220's date of study completion (2007) lies outside the window; 304's has no cpq10 value
    assert src["form:completion_project_questionnaire"] == {
        "read": 3, "written": 1, "skipped": {"no_value": 1, "outside_window": 1}}
    assert src["records"] == {"read": 3, "written": 3, "skipped": {}}
    for s in src.values():
        assert s["read"] == s["written"] + sum(s["skipped"].values())


def test_mapped_fields_never_seen_are_listed():
    doc = mapping("redcap_longitudinal.toml")
    doc["patients"]["symptom_months"] = "num_children"  # no record has a value
    assert convert("redcap", doc, REDCAP_LONG).report.never_seen == {"num_children"}


def test_birth_date_becomes_an_age_and_is_never_written():
    doc = mapping("redcap_longitudinal.toml")
    del doc["patients"]["age_at_index"]
    doc["patients"]["birth_date"] = "dob"  # marked Identifier? = y: allowed only to compute the age
    conv = convert("redcap", doc, REDCAP_LONG)
    # dob 1983-09-23, 2011-02-12, 2005-04-02 at enrolment 2015-04-02
    assert {r["patient_id"]: r["age_at_index"] for r in rows(conv, "patients")} == {
        "100": "31", "220": "4", "304": "10"}


def test_an_event_typo_in_the_project_is_matched_by_unique_name_only():
    doc = mapping("redcap_single.toml")
    conv = convert("redcap", doc, REDCAP_SINGLE)
    assert {(r["patient_id"], r["days_from_index"], r["value"]) for r in rows(conv, "pro_responses")} == {
        (str(p), str(d), f"{p}{d + 1}") for p in (1, 2, 3) for d in (0, 1, 2)}
    doc["pro"][0]["event"] = ["discharge_arm_1"]
    with pytest.raises(MappingError, match="'discharge_arm_1' is not an event.*dischage_arm_1"):
        convert("redcap", doc, REDCAP_SINGLE)


def _error(change, match):
    doc = mapping("redcap_longitudinal.toml")
    change(doc)
    with pytest.raises(MappingError, match=match):
        convert("redcap", doc, REDCAP_LONG)


@pytest.mark.parametrize(("change", "match"), [
    (lambda d: d["patients"].update(bmi="bmi_kg"), r"patients.bmi: field 'bmi_kg' is not in the data dictionary"),
    (lambda d: d["patients"].update(sex={"field": "sex", "map": {"1": "M", "2": "F"}}),
     r"patients.sex: choice code '2' is not in the choices of 'sex' \(0, 1\)"),
    (lambda d: d["patients"].update(diabetes="meds___9"), r"checkbox code '9' is not in the choices of 'meds'"),
    (lambda d: d["patients"].update(diabetes="meds"), r"'meds' is a checkbox; name one of its columns"),
    (lambda d: d["pro"][1].update(event=["dose_1_arm_1"]),
     r"pro\[1\].event: form 'visit_lab_data' is not assigned to event 'dose_1_arm_1'"),
    (lambda d: d["pro"][1]["values"].update(WALK_DISTANCE="vld4"), r"WALK_DISTANCE needs a unit"),
    (lambda d: d["pro"][1]["values"].update(STAND_TIME={"field": "vld3", "unit": "s"}),
     r"unit 's' is not allowed for STAND_TIME"),
    (lambda d: d["pro"][1]["values"].update(ODI_TOTAL="vld1"), r"'ODI_TOTAL' is not a contract instrument"),
    (lambda d: d["patients"].update(bmi="email"), r"'email' is marked as an identifier .*Identifier\? = y"),
    (lambda d: d["patients"].update(bmi="ec_phone"), r"'ec_phone' looks like an identifier \(phone\)"),
    (lambda d: d["patients"].update(bmi="next_of_kin_contact_name"), r"looks like an identifier \(name\)"),
    (lambda d: d["pro"][1]["values"].update(ODI="vob7"), r"'vob7' is free text \(notes\)"),
    (lambda d: d["patients"].update(bmi="discharge_date_4"), r"'discharge_date_4' is a date"),
    (lambda d: d["events"][0].update(detail={"field": "study_comments"}), r"free text is never copied"),
    (lambda d: d["pro"][1].update(days="event", event=["visit_1_arm_1", "final_visit_arm_1"]),
     r"not assigned to event 'final_visit_arm_1'"),
    (lambda d: d["event_days"].pop("visit_2_arm_1"), r'days = "event" needs event_days.visit_2_arm_1'),
    (lambda d: d["index"].update(date="age"), r"'age' is not a date field"),
    (lambda d: d.update(site_id="site 1"), r"site_id: must match"),
])
def test_mapping_errors_name_the_key_and_what_is_wrong(change, match):
    _error(change, match)


def test_the_same_export_and_mapping_give_byte_identical_drops(tmp_path):
    m = MAPPINGS / "redcap_longitudinal.toml"
    a, _ = build("redcap", m, REDCAP_LONG, tmp_path / "a", drop_id="2026-12-01_RC1")
    b, _ = build("redcap", m, REDCAP_LONG, tmp_path / "b", drop_id="2026-12-01_RC1")
    names = sorted(p.name for p in a.iterdir())
    assert names == ["events.csv", "manifest.json", "patients.csv", "pro_responses.csv"]
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in names)
    # a re-delivery into the same landing leaves the files untouched (same bytes, same mtimes)
    stamps = {n: os.stat(a / n).st_mtime_ns for n in names}
    build("redcap", m, REDCAP_LONG, tmp_path / "a", drop_id="2026-12-01_RC1")
    assert {n: os.stat(a / n).st_mtime_ns for n in names} == stamps
    assert [p.name for p in (tmp_path / "a").iterdir() if p.name.startswith(".")] == []


def test_a_changed_export_replaces_the_drop_as_a_correction(tmp_path):
    m = MAPPINGS / "redcap_longitudinal.toml"
    folder, _ = build("redcap", m, REDCAP_LONG, tmp_path / "landing", drop_id="d1")
    before = (folder / "pro_responses.csv").read_bytes()
    doc = (tmp_path / "m.toml")
    doc.write_text(m.read_text().replace('values = { NRS_LEG = "pmq2" }', 'values = { NRS_LEG = "pmq1" }'))
    folder, _ = build("redcap", doc, REDCAP_LONG, tmp_path / "landing", drop_id="d1")
    assert (folder / "pro_responses.csv").read_bytes() != before
    assert sorted(p.name for p in (tmp_path / "landing").iterdir()) == ["d1", "d1.adapter-report.json"]


def test_command_line_reports_a_mapping_error_without_writing(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text((MAPPINGS / "redcap_longitudinal.toml").read_text().replace('bmi = "bmi"', 'bmi = "email"'))
    code = main(["redcap", "--mapping", str(bad), "--export", str(REDCAP_LONG), "--landing", str(tmp_path / "l")])
    assert code == 2 and "Identifier? = y" in capsys.readouterr().err
    assert not (tmp_path / "l").exists()


def test_mapping_is_not_modified_by_conversion():
    doc = mapping("redcap_longitudinal.toml")
    keep = copy.deepcopy(doc)
    convert("redcap", doc, REDCAP_LONG)
    assert doc == keep


def test_values_pass_through_unclamped_and_ingest_judges(con, tmp_path):
    from tests.ingest_helpers import ingest

    doc = mapping("redcap_longitudinal.toml")
    doc["pro"][1]["values"]["ODI"] = "vld5"  # transferrin: .34, .989, 722.4, 98.2
    conv = convert("redcap", doc, REDCAP_LONG)
    assert ("722.4", "") == _pro(conv, "220")[(3, "ODI")]
    landing = tmp_path / "landing"
    m = tmp_path / "m.toml"
    m.write_text((MAPPINGS / "redcap_longitudinal.toml").read_text().replace('ODI = "vld1"', 'ODI = "vld5"'))
    build("redcap", m, REDCAP_LONG, landing, drop_id="d")
    summary = ingest(con, landing)
    assert summary.drops[0].status == "ingested"
    assert summary.quarantined == 1 and summary.quarantine_reasons == {"out_of_range": 1}


CLASSIC_DICTIONARY = ("field_name,form_name,field_type,select_choices_or_calculations,"
                      "text_validation_type_or_show_slider_number,identifier\n") + """\
record_id,enrolment,text,,,
surgery_date,enrolment,text,,date_mdy,
age,enrolment,text,,integer,
comorbid,enrolment,checkbox,"1, Diabetes | 2, Smoker",,
visit_date,visit,text,,date_ymd,
odi,visit,text,,number,
"""
CLASSIC_RECORDS = ("record_id,redcap_repeat_instrument,redcap_repeat_instance,surgery_date,age,comorbid___1,"
                   "comorbid___2,enrolment_complete,visit_date,odi,visit_complete\n") + """\
A-001,,,2021-06-10,95,1,0,2,,,
A-001,visit,1,,,,,,2021-05-01,50,2
A-001,visit,2,,,,,,2021-09-08,20.50,2
A-001,visit,3,,,,,,2021-12-01,,2
A-002,,,2022-01-15,64,0,1,0,,,
A-002,visit,1,,,,,,2022-02-26,35,1
A-003,,,,70,0,0,2,,,
A-003,visit,1,,,,,,2022-03-01,40,2
"""


def test_a_classic_project_with_a_repeating_form(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    (export / "metadata.csv").write_text(CLASSIC_DICTIONARY)
    (export / "records.csv").write_text(CLASSIC_RECORDS)
    doc = {"site_id": "C1", "index": {"date": "surgery_date"},
           "patients": {"procedure": {"constant": "MILD"}, "age_at_index": "age", "diabetes": "comorbid___1",
                        "smoker": "comorbid___2", "levels_treated": {"constant": "1"}, "sex": {"constant": "U"}},
           "pro": [{"form": "visit", "date": "visit_date", "values": {"ODI": "odi"}}]}
    conv = convert("redcap", doc, export)
    pats = {r["patient_id"]: r for r in rows(conv, "patients")}
    # A-001 aged 95 -> top-coded 90; A-002's enrolment form is incomplete, so its covariates are left empty;
    # A-003 has no surgery date: no index, not written
    assert {k: (p["age_at_index"], p["diabetes"], p["smoker"]) for k, p in pats.items()} == {
        "A-001": ("90", "1", "0"), "A-002": ("", "", "")}
    assert sorted((r["patient_id"], r["days_from_index"], r["value"]) for r in rows(conv, "pro_responses")) == [
        ("A-001", "-40", "50"), ("A-001", "90", "20.5")]
    src = conv.report.as_dict()["sources"]
    assert src["records"] == {"read": 3, "written": 2, "skipped": {"no_date": 1}}
    # 3 instances of A-001 (one without a value), A-002's unfinished one, A-003's without a patient row
    assert src["form:visit"] == {"read": 5, "written": 2, "skipped": {
        "incomplete_form": 1, "no_value": 1, "unresolved_reference": 1}}


def test_a_record_id_that_looks_like_an_identifier_is_copied_only_as_a_pseudonym(tmp_path):
    # The dictionary does not flag it, but a record id called "mrn" is a medical record number: digits only, it
    # would pass the ingest as a study number, so the adapter refuses it unless it is pseudonymised.
    export = tmp_path / "export"
    export.mkdir()
    (export / "metadata.csv").write_text(CLASSIC_DICTIONARY.replace("record_id,enrolment", "mrn,enrolment"))
    (export / "records.csv").write_text(CLASSIC_RECORDS.replace("record_id,", "mrn,").replace("A-00", "0048291"))
    doc = {"site_id": "C1", "index": {"date": "surgery_date"}, "ids": {"field": "mrn"},
           "patients": {"procedure": {"constant": "MILD"}, "age_at_index": "age", "levels_treated": {"constant": "1"},
                        "sex": {"constant": "U"}},
           "pro": [{"form": "visit", "date": "visit_date", "values": {"ODI": "odi"}}]}
    with pytest.raises(MappingError, match=r"record id 'mrn' is or looks like an identifier"):
        convert("redcap", doc, export)
    doc["ids"].update(pseudonymise=True, salt="a-secret-the-site-keeps")
    conv = convert("redcap", doc, export)
    written = {r["patient_id"] for r in rows(conv, "patients")}
    assert written and not any(pid.startswith("0048291") for pid in written)
