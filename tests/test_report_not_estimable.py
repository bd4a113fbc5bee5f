"""SAP 9 in results.json: a number that cannot be estimated is null with a `not_estimable` entry saying why;
claims resting on it are inconclusive with that reason (SAP 7)."""

import duckdb
import pytest

from pipeline.estimable import Gap, record_gaps
from pipeline.reporting.claims import INCONCLUSIVE, evaluate
from pipeline.reporting.results_json import BETWEEN_ARM_MEMBERS, PER_ARM_MEMBERS, assemble_results, validate
from pipeline.study import load_study

PROVENANCE = {"generated_at": "2026-12-06T00:00:00Z", "run_id": "r", "code_version": "c", "data_sha256": "d",
              "study_config_sha256": "s", "suppression_threshold": 11}


def _warehouse(arms: dict[str, int]) -> duckdb.DuckDBPyConnection:
    """A warehouse holding only the analysis population: `arms` maps procedure -> patients."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging")
    con.execute("CREATE TABLE staging.patients (site_id VARCHAR, patient_id VARCHAR, procedure VARCHAR, "
                "in_analysis BOOLEAN)")
    rows = [("S", f"{arm}{i}", arm, True) for arm, n in arms.items() for i in range(n)]
    if rows:
        con.executemany("INSERT INTO staging.patients VALUES (?, ?, ?, ?)", rows)
    return con


@pytest.fixture
def study():
    return load_study()


def test_a_single_arm_landing_lists_the_missing_arm_and_every_comparison_as_not_estimable(study):
    doc = assemble_results(_warehouse({"MILD": 40}), study, PROVENANCE)
    gaps = {g["what"]: g["reason"] for g in doc["not_estimable"]}
    for member in PER_ARM_MEMBERS:
        assert gaps[f"{member}[LAMINECTOMY]"] == "no LAMINECTOMY patients"
        assert f"{member}[MILD]" not in gaps
    for member in BETWEEN_ARM_MEMBERS:
        assert gaps[member] == "no LAMINECTOMY patients: a comparison needs both arms"
    assert doc["population"] == {"MILD": {"patients": 40}, "LAMINECTOMY": {"patients": 0}}
    assert validate(doc) == []


def test_an_empty_landing_says_neither_arm_has_patients(study):
    doc = assemble_results(_warehouse({}), study, PROVENANCE)
    gaps = {g["what"]: g["reason"] for g in doc["not_estimable"]}
    assert gaps["reintervention.cox_hr"] == "no patients in either arm"
    assert gaps["satisfaction[MILD]"] == "no MILD patients"
    assert validate(doc) == []


def test_an_analysis_reason_is_published_as_recorded_and_wins_over_the_generic_one(study):
    con = _warehouse({"MILD": 40})
    record_gaps(con, "reintervention_comparison", [Gap("reintervention.cox_hr", "no reintervention events")])
    gaps = {g["what"]: g["reason"] for g in assemble_results(con, study, PROVENANCE)["not_estimable"]}
    assert gaps["reintervention.cox_hr"] == "no reintervention events"


def test_both_arms_present_and_nothing_recorded_means_nothing_is_listed(study):
    doc = assemble_results(_warehouse({"MILD": 40, "LAMINECTOMY": 50}), study, PROVENANCE)
    assert doc["not_estimable"] == []


def test_claims_on_a_missing_arm_are_inconclusive_with_the_reason(study):
    doc = assemble_results(_warehouse({"MILD": 40}), study, PROVENANCE)
    claims = {c["id"]: c for c in evaluate(doc, study)}
    fewer = claims["fewer_complications"]
    assert fewer["verdict"] == INCONCLUSIVE
    assert fewer["reason"] == "not estimable: no LAMINECTOMY patients: a comparison needs both arms"
    # A MILD claim with no MILD number recorded is inconclusive for its own reason, not the comparator's.
    assert "LAMINECTOMY" not in (claims["satisfaction_85"]["reason"] or "")


def test_a_claim_on_an_instrument_never_answered_gives_that_reason(study):
    con = _warehouse({"MILD": 40, "LAMINECTOMY": 50})
    gap = Gap("pro_change[MILD][WALK_DISTANCE]", "no patient answered WALK_DISTANCE")
    record_gaps(con, "pro_change_summary", [gap])
    claims = {c["id"]: c for c in evaluate(assemble_results(con, study, PROVENANCE), study)}
    assert claims["stand_walk"]["verdict"] == INCONCLUSIVE
    assert "not estimable: no patient answered WALK_DISTANCE" in claims["stand_walk"]["reason"]
