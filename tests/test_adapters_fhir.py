"""The FHIR adapter on public exports (tests/fixtures/adapters/fhir: SMART PROMs STU3 bundles, Synthea R4
bundles) and on small hand-written resources carrying the faults real exports have. Expected values were read
off the fixture JSON by hand (see the comments)."""

from __future__ import annotations

import json

import pytest

from pipeline.adapters import MappingError
from tests.adapters_helpers import SMART, SYNTHEA, convert, mapping, rows


@pytest.fixture(scope="module")
def smart():
    return convert("fhir", mapping("fhir_smart_proms.toml"), SMART)


@pytest.fixture(scope="module")
def synthea():
    return convert("fhir", mapping("fhir_synthea.toml"), SYNTHEA)


def _by_age(conv):
    return {r["age_at_index"]: r for r in rows(conv, "patients")}


def test_stu3_responses_are_dated_by_their_encounter(smart):
    pats = rows(smart, "patients")
    assert len(pats) == 6 and {p["procedure"] for p in pats} == {"THR", "TKR"}
    # SMART-PROMs-1: born 1976-07-26, hip replacement 2019-03-20 (a `coding` object, system http://snomed.info)
    p1 = next(p for p in pats if p["age_at_index"] == "42")
    assert (p1["procedure"], p1["index_year"], p1["sex"]) == ("THR", "2019", "F")
    pro = {(r["days_from_index"], r["instrument"]): (r["value"], r["unit"])
           for r in rows(smart, "pro_responses") if r["patient_id"] == p1["patient_id"]}
    # Oxford Hip Score "Score" 15 pre-op (encounter 2019-03-06, day -14) and 46 post-op (2019-09-28, day 192)
    assert pro == {("-14", "ODI"): ("15", ""), ("192", "ODI"): ("46", ""),
                   ("-14", "WALK_DISTANCE"): ("70", "m"), ("192", "WALK_DISTANCE"): ("95", "m")}


def test_smart_reconciliation(smart):
    src = smart.report.as_dict()["sources"]
    # 3 hip bundles x 6 responses + 3 knee bundles x 4; general-health questionnaires (QUE1, QUE3) unmapped
    assert src["resource:QuestionnaireResponse"] == {"read": 30, "written": 18, "skipped": {"unmapped": 12}}
    assert src["resource:Patient"] == {"read": 6, "written": 6, "skipped": {}}
    assert smart.report.balanced()


def test_r4_observations_urn_uuid_references_and_covariates(synthea):
    pats = _by_age(synthea)
    # Buster: born 1988-03-16, index procedure 2016-12-14 -> 28; BMI that day 23.46495252438672, never smoker
    assert pats["28"] | {} == {**pats["28"], "bmi": "23.46495252438672", "smoker": "0", "sex": "M",
                               "index_year": "2016", "procedure": "MILD"}
    pid = pats["28"]["patient_id"]
    pain = {r["days_from_index"]: r["value"] for r in rows(synthea, "pro_responses") if r["patient_id"] == pid}
    # pain scores 2016-12-14 (day 0) and 2019-12-18 (day 1099); 2013-12-11 (day -1099) is outside the window
    assert pain == {"0": "2.345476790579413", "1099": "0.9602512255631246"}
    src = synthea.report.as_dict()["sources"]["resource:Observation"]
    # 6 pain scores, 3 outside the window; 12 BMI/smoking observations, 4 used (latest on or before index)
    assert src["skipped"]["outside_window"] == 3 and src["skipped"]["not_index_value"] == 8
    assert src["read"] == 33 + 48


# -------------------------------------------------------------------------------------- hand-written faults

PATIENT = {"resourceType": "Patient", "id": "pat-1", "gender": "female", "birthDate": "1950-06-01",
           "name": [{"family": "Doe"}]}
INDEX = {"resourceType": "Procedure", "id": "proc-1", "status": "completed", "subject": {"reference": "Patient/pat-1"},
         "code": {"coding": [{"system": "http://snomed.info/sct", "code": "MILD-CODE"}]},
         "performedPeriod": {"start": "2020-03-01T08:00:00-05:00"}}
ENC = {"resourceType": "Encounter", "id": "enc-9", "period": {"start": "2020-06-01"}}


def _obs(code, value, when="2020-04-01", **extra):
    o = {"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/pat-1"},
         "code": {"coding": [{"system": "http://loinc.org", "code": code}]}, **value, **extra}
    if when:
        o["effectiveDateTime"] = when
    return o


FAULTS = [
    _obs("97909-6", {"valueInteger": 40}),  # default code: ODI total, day 31
    _obs("72514-3", {"valueQuantity": {"value": 6, "unit": "{score}"}},
         bodySite={"coding": [{"system": "http://snomed.info/sct", "code": "77568009"}]}),  # back of trunk
    _obs("72514-3", {"valueQuantity": {"value": 8}}, bodySite={"text": "Left leg"}),  # leg, by text
    _obs("72514-3", {"valueQuantity": {"value": 3}}),  # no body site: back or leg unknown -> unmapped
    _obs("97909-6", {"valueInteger": 30}, when=None, encounter={"reference": "Encounter/enc-9"}),  # day 92
    _obs("97909-6", {"valueInteger": 20}, when=None),  # no date at all
    _obs("97909-6", {"valueInteger": 25}, subject={"reference": "Patient/unknown"}),
    _obs("97909-6", {"valueString": "forty"}, when="2020-05-01"),  # free text: never copied
    _obs("97909-6", {"valueInteger": 50}, status="preliminary"),
    {"resourceType": "QuestionnaireResponse", "status": "completed", "authored": "2020-02-20T10:00:00Z",
     "questionnaire": "http://example.org/Questionnaire/zcq|2.0", "subject": {"reference": "#p"},
     "contained": [{"resourceType": "Patient", "id": "p"}],
     "item": [{"linkId": "g", "item": [{"linkId": "sym", "answer": [{"valueDecimal": 2.75}]}]}]},
    {"resourceType": "QuestionnaireResponse", "status": "completed", "authored": "2020-02-20",
     "questionnaire": "http://example.org/Questionnaire/zcq|2.0",
     "subject": {"reference": "https://ehr.example.org/fhir/Patient/pat-1/_history/3"},
     "item": [{"linkId": "g", "item": [{"linkId": "sym", "answer": [{"valueDecimal": 2.75}]},
                                        {"linkId": "walk", "answer": [{"valueQuantity": {"value": 0.5}}]}]}]},
    {"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/pat-1"}},  # no code
    {"resourceType": "QuestionnaireResponse", "status": "completed", "authored": "2020-05-01",
     "questionnaire": {"reference": "Questionnaire/zcq"}, "subject": {"reference": "Patient/pat-1"}},  # no item
    {"resourceType": "QuestionnaireResponse", "status": "in-progress", "authored": "2020-02-21",
     "questionnaire": "Questionnaire/zcq", "subject": {"reference": "Patient/pat-1"},
     "item": [{"linkId": "sym", "answer": [{"valueDecimal": 4}]}]},
]
QUESTIONNAIRE = {"resourceType": "Questionnaire", "id": "zcq", "url": "http://example.org/Questionnaire/zcq",
                 "item": [{"linkId": "g", "type": "group", "item": [{"linkId": "sym"}, {"linkId": "walk"}]}]}
FAULT_MAPPING = {
    "site_id": "F1", "ids": {"salt": "0123456789abcdef"}, "index": {"procedure": ["MILD-CODE"]},
    "patients": {"procedure": {"constant": "MILD"}, "levels_treated": {"constant": "1"}},
    "questionnaire": [{"questionnaire": "zcq", "values": {"ZCQ_SYMPTOM": "sym",
                                                          "WALK_DISTANCE": {"item": "walk", "unit": "km"}}}],
}


@pytest.fixture
def fault_dir(tmp_path):
    (tmp_path / "patient.json").write_text(json.dumps(PATIENT))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bundle.json").write_text(json.dumps({
        "resourceType": "Bundle", "type": "searchset",
        "entry": [{"fullUrl": "https://ehr.example.org/fhir/Procedure/proc-1", "resource": INDEX},
                  {"resource": ENC}, {"resource": QUESTIONNAIRE}]}))
    (tmp_path / "observations.ndjson").write_text("\n".join(json.dumps(o) for o in FAULTS) + "\n")
    (tmp_path / "broken.json").write_text("{not json")
    return tmp_path


def test_faults_of_real_exports_are_tolerated_and_counted(fault_dir):
    conv = convert("fhir", FAULT_MAPPING, fault_dir)
    (pat,) = rows(conv, "patients")
    assert (pat["age_at_index"], pat["sex"], pat["index_year"]) == ("69", "F", "2020")
    got = sorted((r["days_from_index"], r["instrument"], r["value"], r["unit"]) for r in rows(conv, "pro_responses"))
    # index day 2020-03-01 (local date of the time stamp); the QR dated 2020-02-20 is day -10
    assert got == [("-10", "WALK_DISTANCE", "0.5", "km"), ("-10", "ZCQ_SYMPTOM", "2.75", ""),
                   ("31", "NRS_BACK", "6", ""), ("31", "NRS_LEG", "8", ""), ("31", "ODI", "40", ""),
                   ("92", "ODI", "30", "")]
    rep = conv.report.as_dict()
    assert rep["sources"]["resource:Observation"] == {
        "read": 10, "written": 4, "skipped": {"incomplete_form": 1, "no_date": 1, "no_value": 1, "unmapped": 2,
                                             "unresolved_reference": 1}}
    assert rep["sources"]["resource:QuestionnaireResponse"] == {
        "read": 4, "written": 1, "skipped": {"incomplete_form": 1, "no_value": 1, "unresolved_reference": 1}}
    assert rep["reconciled"] and rep["notes"] == ["1 file(s) or NDJSON line(s) were not JSON and were not read"]
    assert "forty" not in conv.pro_responses.to_csv()


def test_a_patient_without_gender_or_birth_date(fault_dir):
    (fault_dir / "patient.json").write_text(json.dumps({"resourceType": "Patient", "id": "pat-1"}))
    (pat,) = rows(convert("fhir", FAULT_MAPPING, fault_dir), "patients")
    assert (pat["sex"], pat["age_at_index"]) == ("U", "")  # ingest quarantines the missing age, visibly


def test_command_line_fhir(fault_dir, tmp_path, capsys):
    from pipeline.adapters.__main__ import main

    m = tmp_path / "m.toml"
    m.write_text('site_id = "F1"\n[ids]\nsalt = "0123456789abcdef"\n[index]\nprocedure = ["MILD-CODE"]\n'
                 '[patients]\nprocedure = { constant = "MILD" }\nlevels_treated = { constant = "1" }\n')
    assert main(["fhir", "--mapping", str(m), "--fhir", str(fault_dir), "--landing", str(tmp_path / "l"),
                 "--drop-id", "d"]) == 0
    assert "1 patients, 4 PRO rows" in capsys.readouterr().out
    assert (tmp_path / "l" / "d" / "manifest.json").is_file()
    with pytest.raises(SystemExit):  # fhir needs --fhir, not --export
        main(["fhir", "--mapping", str(m), "--export", str(fault_dir), "--landing", str(tmp_path / "l")])


def test_free_text_answer_is_counted_not_copied(fault_dir):
    conv = convert("fhir", FAULT_MAPPING, fault_dir)
    src = conv.report.as_dict()["sources"]["resource:Observation"]
    assert src["skipped"].get("no_value") == 1  # the "forty" observation


@pytest.mark.parametrize(("change", "match"), [
    (lambda d: d["questionnaire"][0]["values"].update(ZCQ_SYMPTOM="symptom"),
     r"item 'symptom' does not exist in questionnaire 'zcq'"),
    (lambda d: d["questionnaire"][0]["values"].update(WALK_DISTANCE="walk"), r"WALK_DISTANCE needs a unit"),
    (lambda d: d.update(ids={"salt": "short"}), r"ids.salt"),
    (lambda d: d["patients"].update(sex={"field": "Patient.gender"}), r"patients.sex: needs a 'map'"),
    (lambda d: d.update(observation=[{"code": "1-1", "instrument": "STAND_TIME"}]), r"STAND_TIME needs a unit"),
    (lambda d: d.update(procedure_events={"X": "SURGERY"}), r"'SURGERY' is not a contract event"),
])
def test_fhir_mapping_errors(fault_dir, change, match):
    doc = json.loads(json.dumps(FAULT_MAPPING))
    change(doc)
    with pytest.raises(MappingError, match=match):
        convert("fhir", doc, fault_dir)


def test_patient_ids_are_keyed_pseudonyms(smart):
    ids = [r["patient_id"] for r in rows(smart, "patients")]
    assert all(i.startswith("P") and len(i) == 17 for i in ids) and len(set(ids)) == 6
    other = mapping("fhir_smart_proms.toml")
    other["ids"]["salt"] = "another-salt-0123456789"
    assert not set(ids) & {r["patient_id"] for r in rows(convert("fhir", other, SMART), "patients")}
