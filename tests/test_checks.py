"""The one check runner: a SQL check counts failures on the rows it checks, a judge check is judged by its
function; both as the asset checks of every stage run them."""

from __future__ import annotations

import pytest

from pipeline.check_registry import CHECKS, check_named
from pipeline.checks import CheckSpec, run_check
from tests.outcomes_world import STUDY, World


@pytest.fixture
def world() -> World:
    w = World()
    for arm, letter in (("MILD", "M"), ("LAMINECTOMY", "L")):
        for i in range(5):
            w.pair(f"{letter}{i}", baseline=50, value=30, procedure=arm)
            w.event(f"{letter}{i}", 400, "LAST_CONTACT")
    w.build()
    yield w
    w.con.close()


def test_a_sql_check_holds_on_consistent_tables(world):
    outcome = run_check(world.con, check_named("patients", "patients_key_unique"), STUDY)
    assert (outcome.passed, outcome.checked) == (True, 10)
    assert outcome.metadata == {"failures": 0, "rows_checked": 10}


def test_a_sql_check_fails_on_a_planted_wrong_row(world):
    world.con.execute("INSERT INTO staging.patients SELECT * FROM staging.patients WHERE patient_id = 'M0'")
    outcome = run_check(world.con, check_named("patients", "patients_key_unique"), STUDY)
    assert (outcome.passed, outcome.failures) == (False, 1)


def test_a_sql_check_with_named_parameters_fails_on_a_planted_wrong_row(world):
    assert run_check(world.con, check_named("pro_changes", "changes_have_baseline"), STUDY).passed
    world.con.execute("UPDATE outcomes.pro_changes SET change = change + 1 WHERE patient_id = 'L3'")
    outcome = run_check(world.con, check_named("pro_changes", "changes_have_baseline"), STUDY)
    assert outcome.failures == 1


def test_a_sql_check_reports_its_extra_columns_as_metadata(world):
    outcome = run_check(world.con, check_named("complication_rates", "rates_valid"), STUDY)
    assert outcome.metadata == {"failures": 0, "rows_checked": 2, "rows_not_estimable": 0.0}


def test_a_judge_check_is_judged_by_its_function(world):
    spec = check_named("follow_up_completeness", "completeness_at_primary_visit")
    assert run_check(world.con, spec, STUDY).passed  # every patient assessed at M12
    world.con.execute("UPDATE outcomes.follow_up_completeness SET rate = 0.5 WHERE arm = 'MILD'")
    outcome = run_check(world.con, spec, STUDY)
    assert (outcome.failures, outcome.checked, outcome.metadata["MILD completeness"]) == (1, 2, 0.5)


def test_a_judge_check_says_why_there_was_nothing_to_check(world):
    outcome = run_check(world.con, check_named("reintervention_comparison", "proportional_hazards"), STUDY)
    assert outcome.passed
    assert outcome.description == "no proportional-hazards test: not estimable"


def test_a_check_is_judged_by_sql_or_by_a_function_not_both():
    with pytest.raises(ValueError):
        CheckSpec("patients", "twice", "both ways", sql="checks/patients_key_unique",
                  judge=lambda con, study: None)
    with pytest.raises(ValueError):
        CheckSpec("patients", "never", "no way")


def test_every_check_of_the_pipeline_has_a_unique_public_key():
    keys = [f"{spec.asset}_{spec.name}" for spec in CHECKS]
    # 29 + the two of SAP 3.1 (attendance weights, MAR estimates) + the MAR adjusted differences
    assert len(keys) == len(set(keys)) == 32
