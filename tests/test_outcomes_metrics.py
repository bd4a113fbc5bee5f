"""Outcome tables of SAP sections 2, 3 and 5 on hand-made patients, each number worked out by hand."""

from __future__ import annotations

import dataclasses

import pytest

from pipeline.outcomes import StagingMismatch, build_all
from pipeline.study import load_study
from tests.outcomes_world import STUDY, World


@pytest.fixture
def world() -> World:
    w = World()
    yield w
    w.con.close()


def change_row(world: World, pid: str, instrument: str = "ODI", visit: str = "M12") -> dict:
    cur = world.con.execute(
        "SELECT * FROM outcomes.pro_changes WHERE patient_id = ? AND instrument = ? AND visit = ?",
        [pid, instrument, visit],
    )
    names = [d[0] for d in cur.description]
    row = cur.fetchone()
    return dict(zip(names, row, strict=True)) if row else {}


def summary(world: World, arm: str = "MILD", instrument: str = "ODI", visit: str = "M12") -> dict:
    cur = world.con.execute(
        "SELECT * FROM outcomes.pro_change_summary WHERE arm = ? AND instrument = ? AND visit = ?",
        [arm, instrument, visit],
    )
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchone(), strict=True))


# --- change from baseline (SAP section 3) ---

def test_change_is_the_visit_value_minus_the_baseline_value(world):
    world.pair("A", baseline=50, value=30)
    world.build()
    row = change_row(world, "A")
    assert (row["baseline_value"], row["value"], row["change"]) == (50, 30, -20)
    assert (row["baseline_day"], row["visit_day"], row["arm"], row["arm_role"]) == (-10, 365, "MILD", "treatment")


def test_improvement_is_minus_change_where_lower_is_better():
    w = World()
    w.pair("A", baseline=50, value=30)  # ODI: lower is better
    w.pair("B", baseline=100, value=250, instrument="WALK_DISTANCE")  # higher is better
    w.build()
    assert change_row(w, "A")["improvement"] == 20
    assert change_row(w, "B", "WALK_DISTANCE")["improvement"] == 150


def test_only_complete_pairs_are_analysed(world):
    world.pair("A", baseline=50, value=30)
    world.patient("B")
    world.pro("B", 365, "ODI", 20)  # no baseline
    world.patient("C")
    world.pro("C", -5, "ODI", 60)  # no visit
    world.build()
    assert world.rows("SELECT patient_id FROM outcomes.pro_changes") == [("A",)]


def test_patients_outside_the_two_arms_are_not_analysed(world):
    world.pair("A", baseline=50, value=30, procedure="SPACER")
    world.build()
    assert world.one("SELECT count(*) FROM outcomes.pro_changes") == (0,)


def test_each_visit_is_paired_with_the_same_instruments_baseline(world):
    world.patient("A")
    world.pro("A", -10, "ODI", 50)
    world.pro("A", -10, "NRS_LEG", 8)
    world.pro("A", 42, "ODI", 35)
    world.pro("A", 365, "NRS_LEG", 3)
    world.build()
    assert world.rows("SELECT instrument, visit, change FROM outcomes.pro_changes ORDER BY 1") == [
        ("NRS_LEG", "M12", -5.0), ("ODI", "W6", -15.0)]


def four_odi_pairs(world: World) -> None:
    # changes -10, -5, -40, 0 from baselines 40, 50, 60, 30
    for pid, base, value in (("A", 40, 30), ("B", 50, 45), ("C", 60, 20), ("D", 30, 30)):
        world.pair(pid, baseline=base, value=value)


def test_summary_mean_change_with_t_interval_by_hand(world):
    four_odi_pairs(world)
    world.build()
    s = summary(world)
    # mean -13.75; SD √(968.75 / 3) = 17.9699; t(0.975, 3) = 3.1824 (t table); half-width 28.594
    assert s["n"] == 4
    assert s["mean_change"] == pytest.approx(-13.75)
    assert s["sd_change"] == pytest.approx(17.9699, abs=1e-4)
    assert (s["ci_lower"], s["ci_upper"]) == pytest.approx((-42.344, 14.844), abs=1e-3)
    assert (s["baseline_mean"], s["visit_mean"]) == (45.0, 31.25)
    assert s["baseline_sd"] == pytest.approx(12.9099, abs=1e-4)  # √(500 / 3)


def test_summary_median_and_quartiles_interpolate_linearly(world):
    four_odi_pairs(world)
    world.build()
    s = summary(world)
    # sorted -40, -10, -5, 0; positions (n − 1)p: 0.75, 1.5, 2.25 (R's default quantile type 7)
    assert (s["q1_change"], s["median_change"], s["q3_change"]) == (-17.5, -7.5, -3.75)


def test_bounded_scores_get_no_wilcoxon_or_percent_change(world):
    four_odi_pairs(world)
    world.build()
    s = summary(world)
    assert s["wilcoxon_p"] is None
    assert s["median_percent_change"] is None


def test_skewed_instruments_get_wilcoxon_p_and_median_percent_change(world):
    for pid, base, value in (("A", 100, 150), ("B", 200, 180), ("C", 50, 150), ("D", 80, 200), ("E", 0, 40)):
        world.pair(pid, baseline=base, value=value, instrument="WALK_DISTANCE")
    world.build()
    s = summary(world, instrument="WALK_DISTANCE")
    # changes 50, -20, 100, 120, 40: ranks of |d| 3, 1, 4, 5, 2 -> V+ = 14 of 15. Of the 32 sign patterns,
    # V+ >= 14 in 2 ({}, {1} negative) and V+ <= 1 in 2: exact two-sided p = 4/32.
    assert s["wilcoxon_p"] == pytest.approx(4 / 32)
    # percent changes over non-zero baselines: 50, -10, 200, 150 -> median 100
    assert (s["n_percent_change"], s["median_percent_change"]) == (4, 100.0)


def test_summary_has_one_row_per_arm_instrument_and_visit(world):
    world.pair("A", baseline=50, value=30)
    world.pair("B", baseline=50, value=40, procedure="LAMINECTOMY")
    world.pair("C", baseline=50, value=40, day=42)
    world.build()
    assert world.rows("SELECT arm, instrument, visit, n FROM outcomes.pro_change_summary ORDER BY 1, 3") == [
        ("LAMINECTOMY", "ODI", "M12", 1), ("MILD", "ODI", "M12", 1), ("MILD", "ODI", "W6", 1)]


# --- responders (SAP section 3) ---

def responder(world: World, pid: str, instrument: str = "ODI") -> tuple:
    row = change_row(world, pid, instrument)
    return row["responder_absolute"], row["responder_relative"], row["responder"]


@pytest.mark.parametrize(
    "column, reached, short, baseline, at, below",
    [
        pytest.param("responder_absolute", "ODI", "ODI", 50, 40, 41, id="ODI improves by 10 points"),
        pytest.param("responder_relative", "ODI", "ODI", 40, 28, 29, id="ODI improves by 30% of 40 = 12"),
        pytest.param("responder", "STAND_TIME", "STAND_TIME", 10, 13, 12.9, id="stand time 30% more minutes"),
        pytest.param("responder", "NRS_BACK", "NRS_LEG", 7, 5, 6, id="NRS improves by 2 points"),
        # 1.8 - 2.3 is -0.49999999999999978 in binary; the SAP's improvement of 0.5 is reached.
        pytest.param("responder", "ZCQ_SYMPTOM", "ZCQ_FUNCTION", 2.3, 1.8, 1.9,
                     id="ZCQ half point despite binary floating point"),
    ],
)
def test_responder_on_the_threshold_and_just_short_of_it(world, column, reached, short, baseline, at, below):
    world.pair("A", baseline=baseline, value=at, instrument=reached)
    world.pair("B", baseline=baseline, value=below, instrument=short)
    world.build()
    assert change_row(world, "A", reached)[column] is True
    assert change_row(world, "B", short)[column] is False


def test_relative_odi_with_baseline_0_can_never_respond(world):
    world.pair("A", baseline=0, value=0)
    world.build()
    assert responder(world, "A")[1] is False


def test_walk_distance_with_baseline_0_responds_on_any_increase(world):
    world.pair("A", baseline=0, value=5, instrument="WALK_DISTANCE")
    world.pair("B", baseline=0, value=0, instrument="WALK_DISTANCE")
    world.build()
    assert responder(world, "A", "WALK_DISTANCE") == (None, True, True)
    assert responder(world, "B", "WALK_DISTANCE") == (None, False, False)


def test_exact_30_percent_counts_despite_binary_floating_point(world):
    # 9.1 - 7 is 2.0999999999999996 in binary, 0.3 · 7 is 2.1: a 30% gain must still count.
    world.pair("A", baseline=7, value=9.1, instrument="WALK_DISTANCE")
    world.build()
    assert responder(world, "A", "WALK_DISTANCE")[2] is True


def test_thirty_percent_in_converted_units(world):
    world.pair("A", baseline=1000, value=1300, instrument="WALK_DISTANCE", unit="ft")
    world.build()
    row = change_row(world, "A", "WALK_DISTANCE")
    assert row["baseline_value"] == pytest.approx(304.8) and row["responder"] is True


def test_the_study_selects_the_relative_odi_rule(world):
    world.pair("A", baseline=40, value=30)  # 10 points (absolute: yes), 25% (relative: no)
    world.build(load_study(overrides='responders.ODI.rule = "relative"'))
    row = change_row(world, "A")
    assert (row["responder_rule"], row["responder"]) == ("relative", False)
    assert summary(world)["responder_rule"] == "relative"


def test_every_mcid_rule_is_reported_with_the_selected_one_marked(world):
    four_odi_pairs(world)
    world.build()
    assert world.rows(
        "SELECT rule, threshold, selected, n, responders FROM outcomes.responder_rates"
        " WHERE instrument = 'ODI' ORDER BY rule") == [("absolute", 10.0, True, 4, 2), ("relative", 0.3, False, 4, 1)]


def test_responder_rate_has_a_wilson_interval(world):
    four_odi_pairs(world)
    world.build()
    rate, lower, upper = world.one(
        "SELECT rate, ci_lower, ci_upper FROM outcomes.responder_rates WHERE instrument = 'ODI' AND selected")
    # 2/4, Wilson: (4 + z² ± z√(4 + z²)) / (2(4 + z²)) with z = 1.96 -> 0.1500, 0.8500
    assert (rate, round(lower, 4), round(upper, 4)) == (0.5, 0.1500, 0.8500)
    assert summary(world)["responder_rate"] == 0.5


# --- satisfaction (SAP section 3) ---

def satisfaction_row(world: World, definition: str = "NASS", arm: str = "MILD", visit: str = "M12") -> tuple:
    return world.one(
        "SELECT n, satisfied, rate FROM outcomes.satisfaction_rates WHERE definition = ? AND arm = ? AND visit = ?",
        [definition, arm, visit])


def test_satisfied_means_nass_1_or_2_among_respondents(world):
    for i, value in enumerate((1, 2, 3, 4)):
        world.patient(f"P{i}")
        world.pro(f"P{i}", 365, "SATISFACTION", value)
    world.patient("silent")
    world.build()
    assert satisfaction_row(world) == (4, 2, 0.5)


def test_zcq_satisfaction_of_2_5_or_less_is_the_secondary_definition(world):
    for i, value in enumerate((2.4, 2.5, 2.6)):
        world.patient(f"P{i}")
        world.pro(f"P{i}", 365, "ZCQ_SATISFACTION", value)
    world.build()
    assert satisfaction_row(world, "ZCQ") == (3, 2, pytest.approx(2 / 3))


def test_satisfaction_is_per_arm_and_visit_and_marks_the_primary(world):
    world.patient("A")
    world.pro("A", 42, "SATISFACTION", 1)
    world.pro("A", 365, "SATISFACTION", 3)
    world.patient("B", "LAMINECTOMY")
    world.pro("B", 365, "SATISFACTION", 2)
    world.build()
    assert world.rows(
        "SELECT arm, visit, n, satisfied, primary_definition, primary_visit FROM outcomes.satisfaction_rates"
        " ORDER BY arm, visit_ordinal") == [
        ("LAMINECTOMY", "M12", 1, 1, True, True), ("MILD", "W6", 1, 1, True, False),
        ("MILD", "M12", 1, 0, True, True)]


# --- safety and care (SAP section 5) ---

def test_complication_within_90_days_counts_patients_among_all_of_the_arm(world):
    for pid in ("A", "B", "C", "D"):
        world.patient(pid)
    world.event("A", 3, "COMPLICATION")
    world.event("A", 40, "COMPLICATION")  # a second one: still one patient
    world.event("B", 90, "COMPLICATION")  # day 90 counts
    world.event("C", 91, "COMPLICATION")  # day 91 does not
    world.build()
    assert world.one("SELECT n, events, rate FROM outcomes.complication_rates WHERE arm = 'MILD'") == (4, 2, 0.5)


def test_complication_difference_has_a_newcombe_interval(world):
    for i in range(10):
        world.patient(f"M{i}")
        world.patient(f"L{i}", "LAMINECTOMY")
    for i in range(9):
        world.event(f"M{i}", 5, "COMPLICATION")
    for i in range(3):
        world.event(f"L{i}", 5, "COMPLICATION")
    world.build()
    # 9/10 - 3/10: Newcombe 1998b Table II example (b): 0.6000 (0.1705, 0.8090)
    estimate, lower, upper, method = world.one(
        "SELECT estimate, ci_lower, ci_upper, method FROM outcomes.complication_difference")
    assert (round(estimate, 4), round(lower, 4), round(upper, 4)) == (0.6, 0.1705, 0.8090)
    assert method == "newcombe_hybrid_score"


def test_same_day_discharge_among_patients_with_a_length_of_stay(world):
    for pid, los in (("A", 0), ("B", 0), ("C", 2), ("D", None)):
        world.patient(pid, los_days=los)
    world.build()
    assert world.one(
        "SELECT patients, n, los_missing, same_day, rate, mean_los, median_los FROM outcomes.discharge_summary"
        " WHERE arm = 'MILD'") == (4, 3, 1, 2, pytest.approx(2 / 3), pytest.approx(2 / 3), 0.0)


def test_both_arms_get_a_safety_row_even_when_one_is_empty(world):
    world.patient("A")
    world.build()
    assert world.rows("SELECT arm, n FROM outcomes.complication_rates ORDER BY arm") == [
        ("LAMINECTOMY", 0), ("MILD", 1)]


# --- follow-up completeness (SAP section 2) ---

def test_completeness_counts_patients_whose_follow_up_reached_the_window(world):
    world.patient("A")
    world.pro("A", 300, "ODI", 30)  # assessed at M12 (window starts day 271)
    world.patient("B")
    world.event("B", 280, "LAST_CONTACT")  # reached the window, no assessment
    world.patient("C")
    world.event("C", 200, "LAST_CONTACT")  # follow-up ended before the window: not in the denominator
    world.build()
    assert world.one(
        "SELECT n, assessed, rate FROM outcomes.follow_up_completeness"
        " WHERE arm = 'MILD' AND visit = 'M12' AND instrument = 'ANY'") == (2, 1, 0.5)


def test_completeness_by_instrument_beside_any(world):
    world.patient("A")
    world.pro("A", 300, "NRS_BACK", 3)
    world.build()
    assert world.rows(
        "SELECT instrument, assessed FROM outcomes.follow_up_completeness WHERE visit = 'M12' ORDER BY 1") == [
        ("ANY", 1), ("NRS_BACK", 1)]


# --- consistency with staging and recorded parameters ---

def test_outcomes_refuse_staging_built_with_other_visit_windows(world):
    world.pair("A", baseline=50, value=30)
    world.build()
    other = load_study(overrides="[[visits]]\nname='BASELINE'\nstart=-30\nend=0\ntarget=0\n"
                                 "[[visits]]\nname='M12'\nstart=300\nend=400\ntarget=365")
    with pytest.raises(StagingMismatch, match="visit-window"):
        build_all(world.con, other)


def test_outcomes_refuse_staging_built_with_other_arms(world):
    world.pair("A", baseline=50, value=30)
    world.build()
    with pytest.raises(StagingMismatch, match="patient arms"):
        build_all(world.con, dataclasses.replace(STUDY, treatment="SPACER"))


def test_every_table_records_the_parameters_it_was_built_with(world):
    world.pair("A", baseline=50, value=30)
    study = load_study(overrides='outcomes.primary_visit = "M24"')
    world.build(study)
    recorded = world.rows(
        "SELECT DISTINCT asset, study_sha256 FROM outcomes.study_parameters"
        " WHERE parameter = 'outcomes.primary_visit' AND value = 'M24' ORDER BY 1")
    assert [a for a, _ in recorded] == sorted([
        "pro_changes", "pro_change_summary", "responder_rates", "satisfaction_rates", "complication_rates",
        "discharge_summary", "follow_up_completeness", "attendance_weights", "pro_change_mar"])
    assert {sha for _, sha in recorded} == {study.sha256}


def test_rebuilding_replaces_tables_and_parameters(world):
    world.pair("A", baseline=50, value=30)
    world.build()
    world.build()
    assert world.one("SELECT count(*) FROM outcomes.pro_changes") == (1,)
    assert world.one("SELECT count(*) FROM outcomes.study_parameters WHERE asset = 'pro_changes'") == (
        len(STUDY.parameters()),)


def test_no_patients_gives_empty_tables_with_text_columns_typed_as_text(world):
    world.build()
    assert world.one("SELECT count(*) FROM outcomes.pro_change_summary") == (0,)
    assert world.one(
        "SELECT data_type FROM information_schema.columns"
        " WHERE table_schema = 'outcomes' AND table_name = 'pro_change_summary' AND column_name = 'instrument'"
    ) == ("VARCHAR",)
