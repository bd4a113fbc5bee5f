"""Asset checks of the outcomes tables: each passes on consistent tables and catches the fault it is for."""

from __future__ import annotations

import pytest

from pipeline.outcomes.checks import completeness_at_primary_visit
from pipeline.study import load_study
from tests.outcomes_world import RATE_TABLES, STUDY, World, outcome_check, rates_valid


@pytest.fixture(scope="module")
def built() -> World:
    w = World()
    for i, (base, value) in enumerate(((50, 30), (40, 38), (60, 20), (30, 30))):
        w.pair(f"M{i}", baseline=base, value=value)
        w.pair(f"L{i}", baseline=base, value=value - 5, procedure="LAMINECTOMY")
        w.pro(f"M{i}", 365, "SATISFACTION", 1 + i % 4)
        w.pro(f"L{i}", 365, "SATISFACTION", 1 + (i + 1) % 4)
    w.event("M0", 10, "COMPLICATION")
    w.build()
    yield w
    w.con.close()


@pytest.fixture
def world() -> World:
    w = World()
    yield w
    w.con.close()


@pytest.mark.parametrize("table", sorted(RATE_TABLES))
def test_rates_check_passes_on_built_tables(built, table):
    outcome = rates_valid(built.con, table)
    assert outcome.passed and outcome.checked > 0


def test_summary_rates_check_passes_on_built_tables(built):
    assert outcome_check(built.con, "pro_change_summary", "rates_valid").passed


def test_change_checks_pass_on_built_tables(built):
    assert outcome_check(built.con, "pro_changes", "changes_have_baseline").passed
    assert outcome_check(built.con, "pro_changes", "visits_within_window").passed


def test_rates_check_holds_for_an_empty_arm(world):
    world.patient("A")
    world.build()
    outcome = rates_valid(world.con, "outcomes.complication_rates")
    assert (outcome.failures, outcome.checked) == (0, 2)
    assert outcome.metadata["rows_not_estimable"] == 1


@pytest.mark.parametrize("table", sorted(RATE_TABLES))
def test_rates_check_holds_on_a_landing_without_patients(world, table):
    world.build()
    assert rates_valid(world.con, table).passed


def test_summary_rates_check_holds_on_a_landing_without_patients(world):
    world.build()
    assert outcome_check(world.con, "pro_change_summary", "rates_valid").passed


def test_rates_check_fails_for_a_rate_planted_in_an_empty_group(world):
    world.build()
    world.con.execute("UPDATE outcomes.complication_rates SET rate = 0.5, ci_lower = 0.1, ci_upper = 0.9 "
                      "WHERE arm = 'MILD'")
    outcome = rates_valid(world.con, "outcomes.complication_rates")
    assert (outcome.failures, outcome.checked) == (1, 2)


def test_rates_check_fails_for_a_rate_outside_its_interval(world):
    world.patient("A")
    world.build()
    world.con.execute("UPDATE outcomes.complication_rates SET rate = 0.9 WHERE arm = 'MILD'")  # CI 0-0.79
    assert not rates_valid(world.con, "outcomes.complication_rates").passed


def test_rates_check_fails_for_a_group_of_patients_without_its_rate(world):
    world.patient("A")
    world.build()
    world.con.execute("UPDATE outcomes.complication_rates SET rate = NULL WHERE arm = 'MILD'")
    assert not rates_valid(world.con, "outcomes.complication_rates").passed


def test_rates_check_fails_for_a_rate_outside_0_1(world):
    world.pair("A", baseline=50, value=30)
    world.build()
    world.con.execute("UPDATE outcomes.responder_rates SET rate = 1.5")
    assert not rates_valid(world.con, "outcomes.responder_rates").passed


def test_change_without_its_baseline_fails(world):
    world.pair("A", baseline=50, value=30)
    world.pair("B", baseline=50, value=30)
    world.build()
    # staging.pro_visits is a view on the selected rows of staging.pro_assessments.
    world.con.execute("UPDATE staging.pro_assessments SET selected = false "
                      "WHERE patient_id = 'A' AND visit = 'BASELINE'")
    outcome = outcome_check(world.con, "pro_changes", "changes_have_baseline")
    assert (outcome.failures, outcome.checked) == (1, 2)


def test_change_that_disagrees_with_its_values_fails(world):
    world.pair("A", baseline=50, value=30)
    world.build()
    world.con.execute("UPDATE outcomes.pro_changes SET change = 0")
    assert not outcome_check(world.con, "pro_changes", "changes_have_baseline").passed


def test_visit_outside_its_window_fails(world):
    world.pair("A", baseline=50, value=30)
    world.pair("B", baseline=50, value=30)
    world.build()
    world.con.execute("UPDATE outcomes.pro_changes SET visit_day = 600 WHERE patient_id = 'A'")  # M24's days
    outcome = outcome_check(world.con, "pro_changes", "visits_within_window")
    assert (outcome.failures, outcome.checked) == (1, 2)


def test_windows_are_those_of_the_run_not_of_staging(world):
    world.pair("A", baseline=50, value=30, day=280)
    world.build()
    narrower = load_study(overrides="[[visits]]\nname='BASELINE'\nstart=-90\nend=0\ntarget=0\n"
                                    "[[visits]]\nname='M12'\nstart=300\nend=547\ntarget=365")
    assert not outcome_check(world.con, "pro_changes", "visits_within_window", narrower).passed


def completeness_world(assessed_mild: int, assessed_lam: int) -> World:
    w = World()
    for arm, assessed in (("MILD", assessed_mild), ("LAMINECTOMY", assessed_lam)):
        for i in range(10):
            pid = f"{arm[0]}{i}"
            w.patient(pid, arm)
            w.event(pid, 400, "LAST_CONTACT")
            if i < assessed:
                w.pro(pid, 365, "ODI", 20)
    w.build()
    return w


def test_completeness_of_80_percent_in_each_arm_passes():
    w = completeness_world(8, 9)
    outcome = completeness_at_primary_visit(w.con, STUDY)
    assert outcome.passed
    assert (outcome.metadata["MILD completeness"], outcome.metadata["LAMINECTOMY completeness"]) == (0.8, 0.9)


def test_completeness_below_80_percent_in_one_arm_fails():
    w = completeness_world(10, 7)
    outcome = completeness_at_primary_visit(w.con, STUDY)
    assert (outcome.failures, outcome.checked) == (1, 2)


def test_completeness_threshold_comes_from_the_study():
    w = completeness_world(10, 7)
    assert completeness_at_primary_visit(w.con, load_study(overrides="completeness.minimum = 0.7")).passed


def test_completeness_of_an_arm_without_patients_is_not_judged():
    w = World()
    for i in range(10):
        w.patient(f"M{i}")
        w.event(f"M{i}", 400, "LAST_CONTACT")
        w.pro(f"M{i}", 365, "ODI", 20)
    w.build()
    outcome = completeness_at_primary_visit(w.con, STUDY)
    assert (outcome.failures, outcome.checked) == (0, 1)
    assert outcome.metadata["LAMINECTOMY completeness not estimable"] == "no LAMINECTOMY patient reached the M12 window"


def test_completeness_is_not_judged_when_no_follow_up_reached_the_window():
    w = World()
    for arm in ("MILD", "LAMINECTOMY"):
        w.patient(f"{arm}1", arm)
        w.pro(f"{arm}1", -5, "ODI", 40)  # follow-up end 0
    w.build()
    outcome = completeness_at_primary_visit(w.con, STUDY)
    assert (outcome.passed, outcome.checked) == (True, 0)
