"""SAP 7 version 2: the claims that rest on PRO numbers read the MAR (IPAW) estimates of results.json
(satisfaction_mar, pro_change_mar), not the complete-case ones; a fall-back of the attendance model is noted,
and a withheld count of assessed patients makes the claim inconclusive."""

import pytest

from pipeline.reporting.claims import FELL_BACK, INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, evaluate, load_claims
from pipeline.reporting.results_json import assemble_results
from pipeline.study import load_study
from tests.test_report_not_estimable import PROVENANCE, _warehouse


@pytest.fixture
def doc(study):
    d = assemble_results(_warehouse({"MILD": 400, "LAMINECTOMY": 500}), study, PROVENANCE)
    # Complete case says one thing, MAR another: the claims must follow MAR.
    d["satisfaction"] = [{"arm": "MILD", "visit": "M12", "n": 300, "satisfied": 270, "rate": 0.9,
                          "ci": [0.86, 0.93]}]
    d["satisfaction_mar"] = [{"arm": "MILD", "visit": "M12", "eligible": 390, "assessed": 300, "rate": 0.78,
                              "ci": [0.73, 0.83], "method": "ipaw"}]
    cc = {"arm": "MILD", "n": 200, "baseline_mean": 50.0, "median_change": 1.0}
    d["pro_change"] = [
        cc | {"instrument": "ODI", "visit": "M60", "mean_change": -20.0, "ci": [-22.0, -18.0],
              "responder_rate": 0.7, "responder_ci": [0.63, 0.76]},
        cc | {"instrument": "STAND_TIME", "visit": "M12", "mean_change": 10.0, "ci": [5.0, 15.0],
              "responder_rate": 0.6, "responder_ci": [0.5, 0.7]},
        cc | {"instrument": "WALK_DISTANCE", "visit": "M12", "mean_change": 100.0, "ci": [50.0, 150.0],
              "responder_rate": 0.6, "responder_ci": [0.5, 0.7]},
    ]
    mar = {"arm": "MILD", "eligible": 390}
    d["pro_change_mar"] = [
        mar | {"instrument": "ODI", "visit": "M60", "assessed": 200, "mean_change": -12.0, "ci": [-15.0, -9.0],
               "responder_rate": 0.42, "responder_ci": [0.35, 0.49], "method": "ipaw"},
        mar | {"instrument": "STAND_TIME", "visit": "M12", "assessed": 250, "mean_change": 3.0,
               "ci": [-1.0, 7.0], "responder_rate": 0.5, "responder_ci": [0.4, 0.6], "method": "ipaw"},
        mar | {"instrument": "WALK_DISTANCE", "visit": "M12", "assessed": 250, "mean_change": 90.0,
               "ci": [40.0, 140.0], "responder_rate": 0.5, "responder_ci": [0.4, 0.6], "method": "complete_case"},
    ]
    return d


@pytest.fixture
def study():
    return load_study()


def _conditions(doc, study) -> dict[str, dict]:
    return {c["id"]: c for c in evaluate(doc, study)}


def test_the_committed_pro_claims_read_mar_metrics():
    _, claims = load_claims()
    metrics = {c.id: [k.metric for k in c.conditions] for c in claims}
    assert metrics["satisfaction_85"] == ["satisfaction_rate_mar"]
    assert metrics["relief_five_years"][0] == "responder_rate_mar"
    assert metrics["stand_walk"] == ["mean_change_mar", "mean_change_mar"]


def test_satisfaction_claim_uses_the_mar_rate(doc, study):
    claim = _conditions(doc, study)["satisfaction_85"]
    assert claim["value"] == 0.78 and claim["ci"] == [0.73, 0.83]
    assert "(MAR)" in claim["metric"]
    assert claim["verdict"] == NOT_SUPPORTED  # the complete-case CI [0.86, 0.93] would have supported it


def test_relief_claim_uses_the_mar_responder_rate(doc, study):
    first = _conditions(doc, study)["relief_five_years"]["conditions"][0]
    assert first["value"] == 0.42 and first["ci"] == [0.35, 0.49] and first["proportion"]
    assert first["verdict"] == NOT_SUPPORTED


def test_stand_walk_uses_mar_changes_and_notes_a_fall_back(doc, study):
    stand, walk = _conditions(doc, study)["stand_walk"]["conditions"]
    assert (stand["value"], stand["verdict"]) == (3.0, INCONCLUSIVE)  # CI [−1, 7] straddles 0
    assert (walk["value"], walk["verdict"]) == (90.0, SUPPORTED)
    assert walk["note"] == FELL_BACK and stand["note"] == ""


def test_a_withheld_count_of_assessed_patients_makes_the_claim_inconclusive(doc, study):
    doc["satisfaction_mar"][0] |= {"assessed": "<11", "rate": None, "ci": None}
    claim = _conditions(doc, study)["satisfaction_85"]
    assert claim["verdict"] == INCONCLUSIVE and claim["value"] is None


def test_without_mar_members_the_claims_are_inconclusive_not_complete_case(doc, study):
    del doc["satisfaction_mar"], doc["pro_change_mar"]
    claims = _conditions(doc, study)
    assert claims["satisfaction_85"]["verdict"] == INCONCLUSIVE and claims["satisfaction_85"]["value"] is None
