"""Degenerate but contract-valid landings (SAP 9): every outcomes table is built, holds what can be computed,
the rest is recorded as not estimable with a plain reason, and the checks hold. Real rows flow through the
staging models and the outcomes SQL (tests/outcomes_world.py)."""

from __future__ import annotations

import math

import dagster as dg
import pytest

from assets.ingest import ingest_drops
from assets.outcomes import OUTCOME_ASSETS
from assets.staging import STAGING
from pipeline.estimable import read_gaps
from pipeline.outcomes import build_all as build_outcomes
from pipeline.outcomes import build_pro_changes
from pipeline.outcomes.checks import completeness_at_primary_visit
from pipeline.outcomes.gaps import NO_LOS, NO_PAIRS
from pipeline.staging import build_all as build_staging
from pipeline.study import load_study
from tests.dagster_resources import dagster_resources
from tests.ingest_helpers import patient, write_drop
from tests.outcomes_world import RATE_TABLES, STUDY, World, outcome_check, rates_valid

OTHER_INSTRUMENTS = ("NRS_BACK", "NRS_LEG", "ZCQ_SYMPTOM", "ZCQ_FUNCTION", "WALK_DISTANCE", "STAND_TIME")


@pytest.fixture
def world() -> World:
    w = World()
    yield w
    w.con.close()


def gaps(w: World) -> dict[str, str]:
    return {g.what: g.reason for g in read_gaps(w.con)}


def checks_hold(w: World, study=STUDY) -> bool:
    outcomes = [rates_valid(w.con, t) for t in sorted(RATE_TABLES)]
    outcomes += [outcome_check(w.con, "pro_change_summary", "rates_valid", study),
                 outcome_check(w.con, "pro_changes", "changes_have_baseline", study),
                 outcome_check(w.con, "pro_changes", "visits_within_window", study),
                 completeness_at_primary_visit(w.con, study)]
    return all(o.passed for o in outcomes)


def rebuild_in_full(w: World) -> None:
    """Staging, PRO changes and outcomes rebuilt in full: rows added into the drop version already built are
    not a new drop, so an incremental build would not see them."""
    build_staging(w.con, STUDY, full=True)
    build_pro_changes(w.con, STUDY, full=True)
    build_outcomes(w.con, STUDY)


def arm_patients(w: World, arm: str, n: int, satisfaction: bool = True) -> None:
    """n patients of `arm` with an ODI pair (50 -> 30 at M12), a NASS answer and follow-up to day 400."""
    for i in range(n):
        pid = f"{arm}{i}"
        w.pair(pid, baseline=50, value=30, procedure=arm)
        if satisfaction:
            w.pro(pid, 365, "SATISFACTION", 1 + i % 3)
        w.event(pid, 400, "LAST_CONTACT")


def test_a_landing_without_patients_builds_every_table_and_records_each_arm_as_not_estimable(world):
    built = world.build()
    assert set(built) >= {"complication_rates", "discharge_summary", "satisfaction_rates", "pro_change_summary"}
    assert world.rows("SELECT arm, n, events, rate, ci_lower, ci_upper FROM outcomes.complication_rates") == [
        ("MILD", 0, 0, None, None, None), ("LAMINECTOMY", 0, 0, None, None, None)]
    assert world.one("SELECT estimate, ci_lower, ci_upper FROM outcomes.complication_difference") == (
        None, None, None)
    assert gaps(world) == {
        f"{member}[{arm}]": f"no {arm} patients"
        for member in ("pro_change", "satisfaction", "complications.rates", "discharge", "pro_change_mar",
                       "satisfaction_mar", "tipping_point")
        for arm in ("MILD", "LAMINECTOMY")
    } | {"complications.difference.unadjusted": "no patients in either arm"}
    assert checks_hold(world)


def test_a_mild_only_clinic_gets_its_numbers_and_the_comparator_is_not_estimable(world):
    arm_patients(world, "MILD", 12)
    world.build()
    assert world.rows("SELECT arm, n FROM outcomes.satisfaction_rates WHERE primary_definition") == [("MILD", 12)]
    assert world.rows("SELECT arm, n, mean_change FROM outcomes.pro_change_summary WHERE instrument = 'ODI'") == [
        ("MILD", 12, -20.0)]
    rates = world.rows("SELECT arm, n, rate FROM outcomes.complication_rates")
    assert rates == [("MILD", 12, 0.0), ("LAMINECTOMY", 0, None)]
    found = gaps(world)
    assert {w: r for w, r in found.items() if "LAMINECTOMY" in w} == {
        f"{m}[LAMINECTOMY]": "no LAMINECTOMY patients"
        for m in ("pro_change", "satisfaction", "complications.rates", "discharge", "pro_change_mar",
                  "satisfaction_mar", "tipping_point")}
    assert found["complications.difference.unadjusted"] == "no LAMINECTOMY patients"
    assert not any(w.startswith(("satisfaction[MILD]", "complications.rates[MILD]", "discharge[MILD]"))
                   for w in found)
    assert checks_hold(world)


def test_a_laminectomy_only_landing_mirrors_the_mild_only_one(world):
    arm_patients(world, "LAMINECTOMY", 3)  # into the same drop version: rebuilt in full, not incrementally
    rebuild_in_full(world)
    found = gaps(world)
    assert found["satisfaction[MILD]"] == "no MILD patients"
    assert found["complications.difference.unadjusted"] == "no MILD patients"
    assert "satisfaction[LAMINECTOMY]" not in found
    assert checks_hold(world)


def test_an_instrument_never_recorded_is_not_estimable_for_each_arm(world):
    arm_patients(world, "MILD", 3)
    arm_patients(world, "LAMINECTOMY", 3)  # into the same drop version: rebuilt in full, not incrementally
    rebuild_in_full(world)
    found = gaps(world)
    for arm in ("MILD", "LAMINECTOMY"):
        assert found[f"pro_change[{arm}][WALK_DISTANCE]"] == "no patient answered WALK_DISTANCE"
        assert f"pro_change[{arm}][ODI]" not in found and f"pro_change[{arm}]" not in found
    assert world.one("SELECT count(*) FROM outcomes.pro_change_summary WHERE instrument = 'WALK_DISTANCE'") == (0,)
    assert checks_hold(world)


def test_an_instrument_answered_only_at_baseline_has_no_complete_pair(world):
    arm_patients(world, "MILD", 3)
    world.pro("MILD0", -5, "WALK_DISTANCE", 200)
    world.build()
    assert gaps(world)["pro_change[MILD][WALK_DISTANCE]"] == (
        "no patient answered WALK_DISTANCE both at baseline and at a follow-up visit")


def test_an_arm_without_any_complete_pair_is_one_gap(world):
    world.patient("M1")
    world.pro("M1", 365, "ODI", 30)  # a follow-up answer without a baseline
    world.build()
    found = gaps(world)
    assert found["pro_change[MILD]"] == NO_PAIRS
    assert not any(w.startswith("pro_change[MILD][") for w in found)


def test_no_satisfaction_answer_means_satisfaction_not_estimable(world):
    arm_patients(world, "MILD", 3, satisfaction=False)
    arm_patients(world, "LAMINECTOMY", 3)  # into the same drop version: rebuilt in full, not incrementally
    rebuild_in_full(world)
    found = gaps(world)
    assert found["satisfaction[MILD]"] == "no patient answered SATISFACTION at a follow-up visit"
    assert "satisfaction[LAMINECTOMY]" not in found
    assert world.rows("SELECT DISTINCT arm FROM outcomes.satisfaction_rates") == [("LAMINECTOMY",)]
    assert checks_hold(world)


def test_no_complication_recorded_gives_zero_rates_and_a_newcombe_difference(world):
    arm_patients(world, "MILD", 10)
    arm_patients(world, "LAMINECTOMY", 20)
    world.build()
    assert world.rows("SELECT arm, events, rate, ci_lower FROM outcomes.complication_rates") == [
        ("MILD", 0, 0.0, 0.0), ("LAMINECTOMY", 0, 0.0, 0.0)]
    estimate, lower, upper = world.one("SELECT estimate, ci_lower, ci_upper FROM outcomes.complication_difference")
    # Newcombe (1998b) Table II: 0/10 - 0/20 = 0 (-0.1611, 0.2775).
    assert (estimate, round(lower, 4), round(upper, 4)) == (0.0, -0.1611, 0.2775)
    assert not any(w.startswith("complications") for w in gaps(world))
    assert checks_hold(world)


def test_no_los_days_given_leaves_discharge_not_estimable(world):
    for arm in ("MILD", "LAMINECTOMY"):
        world.patient(f"{arm}1", arm, los_days=None)
    world.build()
    assert world.rows("SELECT arm, patients, n, rate, mean_los, median_los FROM outcomes.discharge_summary") == [
        ("MILD", 1, 0, None, None, None), ("LAMINECTOMY", 1, 0, None, None, None)]
    assert gaps(world)["discharge[MILD]"] == NO_LOS == gaps(world)["discharge[LAMINECTOMY]"]
    assert checks_hold(world)


def test_every_follow_up_ending_on_day_0_builds_and_checks_hold(world):
    for arm in ("MILD", "LAMINECTOMY"):
        world.patient(f"{arm}1", arm)
        world.pro(f"{arm}1", 0, "ODI", 40)
    world.build()
    assert world.rows("SELECT DISTINCT visit FROM outcomes.follow_up_completeness") == [("BASELINE",)]
    assert world.one("SELECT count(*) FROM outcomes.pro_changes") == (0,)
    assert checks_hold(world)


def test_patients_followed_without_any_questionnaire_have_a_completeness_of_0(world):
    for i in range(3):
        world.patient(f"M{i}")
        world.event(f"M{i}", 400, "LAST_CONTACT")
    world.build()
    assert world.rows("SELECT instrument, n, assessed, rate FROM outcomes.follow_up_completeness "
                      "WHERE arm = 'MILD' AND visit = 'M12'") == [("ANY", 3, 0, 0.0)]
    outcome = completeness_at_primary_visit(world.con, STUDY)  # a warning, not a gap: 0% is a number
    assert (outcome.failures, outcome.checked) == (1, 1)
    assert rates_valid(world.con, "outcomes.follow_up_completeness").passed


def test_a_handful_of_patients_gives_what_one_pair_can_give(world):
    world.pair("M1", baseline=100, value=150, instrument="WALK_DISTANCE")
    world.pair("L1", baseline=50, value=30, procedure="LAMINECTOMY")
    world.build()
    n, mean, sd, lower, p = world.one("SELECT n, mean_change, sd_change, ci_lower, wilcoxon_p "
                                      "FROM outcomes.pro_change_summary WHERE arm = 'MILD'")
    assert (n, mean, sd, lower) == (1, 50.0, None, None)
    assert math.isclose(p, 1.0)
    assert checks_hold(world)


def test_a_study_whose_arms_are_absent_from_the_data_records_them(world):
    arm_patients(world, "MILD", 3)
    study = load_study(overrides='arms.treatment = "FOO"\narms.comparator = "BAR"')
    world.build(study)
    found = gaps(world)
    assert found["complications.rates[FOO]"] == "no FOO patients"
    assert found["discharge[BAR]"] == "no BAR patients"
    assert checks_hold(world, study)


def test_gaps_are_replaced_when_the_missing_arm_arrives(world):
    arm_patients(world, "MILD", 3)
    world.build()
    assert "complications.rates[LAMINECTOMY]" in gaps(world)
    arm_patients(world, "LAMINECTOMY", 3)  # into the same drop version: rebuilt in full, not incrementally
    rebuild_in_full(world)
    found = gaps(world)
    assert not {"complications.rates[LAMINECTOMY]", "complications.difference.unadjusted", "discharge[LAMINECTOMY]",
                "satisfaction[LAMINECTOMY]", "pro_change[LAMINECTOMY]"} & set(found)
    assert "pro_change[LAMINECTOMY][WALK_DISTANCE]" in found  # an instrument nobody answered stays a gap


# --- in Dagster: a refresh on a landing whose every row is quarantined ---

def test_a_refresh_where_every_row_is_quarantined_materializes_every_outcome_and_passes_every_check(tmp_path):
    landing = tmp_path / "landing"
    write_drop(landing, "2026-01-01_S1", patients=[patient(patient_id=f"P{i}", sex="X") for i in range(3)],
               manifest=True)
    defs = dg.Definitions(
        assets=[ingest_drops, *STAGING, *OUTCOME_ASSETS],
        jobs=[dg.define_asset_job("refresh", selection="*")],
        resources=dagster_resources(tmp_path / "w.duckdb", landing, tmp_path / "site"),
        executor=dg.in_process_executor,
    )
    result = defs.resolve_job_def("refresh").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations)
    materialized = {e.materialization.asset_key.path[0]: e.materialization.metadata
                    for e in result.get_asset_materialization_events()}
    assert materialized["patients"]["dagster/row_count"].value == 0
    assert materialized["complication_rates"]["not_estimable"].value == 3
