"""The SAP parameters of sections 4 and 6 and the event codes are study parameters (pipeline/study.toml): the
committed file holds today's values, and a run-config override changes what each analysis uses, on a small
staging world of hand-made patients (tests/test_survival_estimable.py)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from assets.durability import DURABILITY_ASSETS
from pipeline.comparison.adjusted_tables import balance_gate
from pipeline.comparison.balance import balance_table
from pipeline.outcomes.safety import build_complication_rates
from pipeline.reporting.comparative import limitations
from pipeline.staging import build_model
from pipeline.study import Study, load_study
from pipeline.survival.checks import proportional_hazards
from tests.dagster_resources import dagster_resources
from tests.test_survival_estimable import con, durability, event, patients, staging  # noqa: F401  (con: fixture)

STUDY = load_study()


def test_the_committed_file_holds_the_sap_values_of_sections_4_and_6_and_the_event_codes():
    # That these are also the dataclass defaults: tests/test_outcomes_study.py, for every field.
    assert (STUDY.km_days, STUDY.durable_response_days, STUDY.return_to_activity_days) == (
        (365, 730, 1095, 1461, 1826), (365, 730, 1826), (14, 28))
    assert (STUDY.ph_alpha, STUDY.smd_limit, STUDY.equipoise_band, STUDY.equipoise_minimum) == (
        0.05, 0.1, (0.3, 0.7), 0.20)
    assert STUDY.durable_response_bootstrap_resamples == 200
    assert STUDY.events.reintervention == ("REINTERVENTION_SURGERY", "REPEAT_MILD")
    assert (STUDY.events.complication, STUDY.events.return_to_activity, STUDY.events.death,
            STUDY.events.withdrawal, STUDY.events.last_contact) == (
        "COMPLICATION", "RETURN_TO_ACTIVITY", "DEATH", "WITHDRAWN", "LAST_CONTACT")


def test_the_new_parameters_are_recorded_with_the_results():
    params = dict(load_study(overrides="survival.km_days = [100, 200]\ncomparison.smd_limit = 0.25").parameters())
    assert params["survival.km_days"] == "100,200"
    assert params["comparison.smd_limit"] == "0.25"
    assert params["events.reintervention"] == "REINTERVENTION_SURGERY,REPEAT_MILD"
    assert params["survival.ph_alpha"] == "0.05"
    assert params["survival.durable_response_bootstrap_resamples"] == "200"


@pytest.mark.parametrize("override", [
    "survival.km_days = [730, 365]",
    "survival.return_to_activity_days = []",
    "survival.ph_alpha = 1.5",
    "comparison.smd_limit = 0",
    "comparison.equipoise_band = [0.7, 0.3]",
    'events.death = "DIED"',
    "events.reintervention = []",
    "survival.km_day = [365]",
    "survival.durable_response_bootstrap_resamples = 5",
    "survival.durable_response_bootstrap_seed = -1",
    # SAP 3.1 (missing follow-up)
    'missing.data_cut_year = "2024"',
    "missing.data_cut_year = 2024.5",
    "missing.data_cut_year = 24",
    "missing.weight_truncation_percentile = 40",
    "missing.weight_truncation_percentile = 101",
    "missing.min_patients = 0",
    "missing.min_patients = 11.5",
    "missing.cut_year = 2024",
])
def test_an_invalid_parameter_is_refused(override):
    with pytest.raises(ValueError):
        load_study(overrides=override)


def days_of(c: duckdb.DuckDBPyConnection, table: str, where: str = "true") -> list[int]:
    return [int(d) for (d,) in c.execute(f"SELECT DISTINCT day FROM durability.{table} WHERE {where} ORDER BY day")
            .fetchall()]


def test_km_days_override_gives_the_km_and_cumulative_incidence_at_those_days(con):  # noqa: F811
    patients(con, "treatment", 20, reintervention_every=3)
    patients(con, "comparator", 20, reintervention_every=4)
    durability(con, load_study(overrides="survival.km_days = [100, 500, 900]"))
    assert days_of(con, "reintervention_km") == [100, 500, 900]
    assert days_of(con, "reintervention_cif") == [100, 500, 900]


def test_durable_response_days_override_gives_the_probability_at_those_days(con):  # noqa: F811
    patients(con, "treatment", 20, reintervention_every=3)
    patients(con, "comparator", 20)
    durability(con, load_study(overrides="survival.durable_response_days = [400, 1000]"))
    assert days_of(con, "durable_response_turnbull") == [400, 1000]


def test_return_to_activity_days_override_gives_the_share_back_by_those_days(con):  # noqa: F811
    patients(con, "treatment", 20, return_every=2)
    patients(con, "comparator", 20, return_every=3)
    durability(con, load_study(overrides="survival.return_to_activity_days = [7, 21, 60]"))
    assert days_of(con, "return_to_activity_km", "measure = 'share_back'") == [7, 21, 60]


def world_file(tmp_path: Path, fill) -> Path:
    database = tmp_path / "w.duckdb"
    with duckdb.connect(str(database)) as c:
        staging(c)
        fill(c)
        build_model(c, "follow_up", STUDY, full=True)
    return database


DURABILITY = {a.key.path[-1]: a for a in DURABILITY_ASSETS}


def materialize(asset: dg.AssetsDefinition, database: Path, overrides: str) -> None:
    assert dg.materialize([asset], resources=dagster_resources(database, overrides=overrides)).success


def test_reintervention_codes_override_decides_which_events_count(tmp_path):
    def fill(c):
        patients(c, "treatment", 6, reintervention_every=2)  # REPEAT_MILD on patients 0, 2, 4
        event(c, "treatment-1", 150, "REINTERVENTION_SURGERY")

    database = world_file(tmp_path, fill)
    events = "SELECT patient_id FROM durability.reintervention_dataset WHERE event = 1 ORDER BY patient_id"
    materialize(DURABILITY["reintervention_dataset"], database, "")
    with duckdb.connect(str(database)) as c:
        assert [p for (p,) in c.execute(events).fetchall()] == [f"treatment-{i}" for i in (0, 1, 2, 4)]
    materialize(DURABILITY["reintervention_dataset"], database, 'events.reintervention = ["REINTERVENTION_SURGERY"]')
    with duckdb.connect(str(database)) as c:
        assert c.execute(events).fetchall() == [("treatment-1",)]


def test_return_to_activity_code_override_decides_which_event_is_the_return(tmp_path):
    def fill(c):
        patients(c, "treatment", 4, return_every=2)  # RETURN_TO_ACTIVITY on patients 0 and 2
        event(c, "treatment-3", 40, "INJECTION")

    database = world_file(tmp_path, fill)
    returned = "SELECT patient_id FROM durability.return_to_activity_dataset WHERE event = 1 ORDER BY patient_id"
    materialize(DURABILITY["return_to_activity_dataset"], database, 'events.return_to_activity = "INJECTION"')
    with duckdb.connect(str(database)) as c:
        assert c.execute(returned).fetchall() == [("treatment-3",)]


@pytest.mark.parametrize(("key", "column"), [
    ("death", "death_day"), ("withdrawal", "withdrawn_day"), ("last_contact", "last_contact_day"),
])
def test_follow_up_event_code_override_decides_which_event_dates_it(con, key, column):  # noqa: F811
    patients(con, "treatment", 1, follow_up=None)
    event(con, "treatment-0", 77, "INJECTION")
    build_model(con, "follow_up", STUDY, full=True)
    assert con.execute(f"SELECT {column} FROM staging.follow_up").fetchone() == (None,)
    build_model(con, "follow_up", load_study(overrides=f'events.{key} = "INJECTION"'), full=True)
    assert con.execute(f"SELECT {column} FROM staging.follow_up").fetchone() == (77,)


def test_complication_code_override_decides_which_events_are_complications(con):  # noqa: F811
    patients(con, "treatment", 4)
    event(con, "treatment-0", 10, "COMPLICATION")
    event(con, "treatment-1", 10, "INJECTION")
    event(con, "treatment-2", 11, "INJECTION")
    events = "SELECT events FROM outcomes.complication_rates WHERE arm_role = 'treatment'"
    build_complication_rates(con, STUDY)
    assert con.execute(events).fetchone() == (1,)
    build_complication_rates(con, load_study(overrides='events.complication = "INJECTION"'))
    assert con.execute(events).fetchone() == (2,)


def test_ph_alpha_override_decides_whether_the_check_warns(tmp_path):
    database = world_file(tmp_path, lambda c: (patients(c, "treatment", 20, reintervention_every=3),
                                               patients(c, "comparator", 20, reintervention_every=2)))
    with duckdb.connect(str(database)) as c:
        durability(c)
        c.execute("UPDATE durability.reintervention_comparison SET p_value = 0.01 WHERE measure = 'ph_test'")
        assert not proportional_hazards(c, STUDY).passed
        assert proportional_hazards(c, load_study(overrides="survival.ph_alpha = 0.005")).passed


def test_ph_alpha_override_decides_whether_the_report_doubts_the_hazard_ratio():
    results = {"balance": None, "reintervention": {"ph_test_p": 0.01}}

    def doubted(study: Study) -> bool:
        return any("proportional-hazards" in line for line in limitations(results, study, []))

    assert doubted(STUDY)
    assert not doubted(load_study(overrides="survival.ph_alpha = 0.005"))


def unbalanced_by(smd: float) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Two arms of 4 whose one covariate differs by `smd` pooled SDs (unit weights, scores 0.5)."""
    treated = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
    base = np.array([-1.5, -0.5, 0.5, 1.5]) / np.std([-1.5, -0.5, 0.5, 1.5], ddof=1)
    x = pd.DataFrame({"age_at_index": np.concatenate([base + smd, base])})
    return x, treated, np.ones(8), np.full(8, 0.5)


def test_smd_limit_override_flips_a_failed_gate_to_passed():
    b_default = balance_table(*unbalanced_by(0.3), balance_gate(STUDY))
    assert b_default.max_abs_smd_after == pytest.approx(0.3)
    assert not b_default.passed and b_default.balanced().tolist() == [False]
    b_loose = balance_table(*unbalanced_by(0.3), balance_gate(load_study(overrides="comparison.smd_limit = 0.5")))
    assert b_loose.passed and b_loose.balanced().tolist() == [True]


def test_equipoise_override_decides_the_band_and_the_minimum_share():
    x, treated, weights, _ = unbalanced_by(0.0)
    # Half the arm share (0.5) cancels out: preference score = propensity score.
    score = np.array([0.1, 0.2, 0.35, 0.5, 0.5, 0.65, 0.8, 0.9])
    b = balance_table(x, treated, weights, score, balance_gate(STUDY))
    assert b.equipoise == pytest.approx(0.5) and b.equipoise_passed
    narrow = balance_table(x, treated, weights, score,
                           balance_gate(load_study(overrides="comparison.equipoise_band = [0.45, 0.55]")))
    assert narrow.equipoise == pytest.approx(0.25)
    strict = balance_table(x, treated, weights, score,
                           balance_gate(load_study(overrides="comparison.equipoise_minimum = 0.6")))
    assert not strict.equipoise_passed



# --- SAP 3.1 (missing follow-up): data_cut_year, attendance weight truncation, minimum per model ---

def test_the_committed_file_holds_the_sap_values_of_section_3_1():
    # That these are also the dataclass defaults: tests/test_outcomes_study.py, for every field.
    assert (STUDY.data_cut_year, STUDY.attendance_truncation_percentile, STUDY.attendance_min_patients) == (
        None, 99.0, 11)
    params = dict(STUDY.parameters())
    assert (params["missing.data_cut_year"], params["missing.weight_truncation_percentile"],
            params["missing.min_patients"]) == ("auto", "99.0", "11")


def test_the_section_3_1_parameters_can_be_overridden_and_are_recorded():
    study = load_study(overrides="missing.data_cut_year = 2024\nmissing.weight_truncation_percentile = 100"
                                 "\nmissing.min_patients = 20")
    assert (study.data_cut_year, study.attendance_truncation_percentile, study.attendance_min_patients) == (
        2024, 100.0, 20)
    assert dict(study.parameters())["missing.data_cut_year"] == "2024"
    assert load_study(overrides='missing.data_cut_year = "auto"').data_cut_year is None


def test_truncation_and_minimum_overrides_change_the_attendance_weights():
    from tests.outcomes_world import World
    from tests.test_outcomes_mar_tables import _cohort

    world = World()
    _cohort(world)
    world.build()
    capped = world.one("SELECT max(weight) FROM outcomes.attendance_weights WHERE instrument = 'ODI'"
                       " AND visit = 'M12'")
    world.build(load_study(overrides="missing.weight_truncation_percentile = 100"))
    uncapped = world.one("SELECT max(weight) FROM outcomes.attendance_weights WHERE instrument = 'ODI'"
                         " AND visit = 'M12'")
    assert uncapped[0] > capped[0]
    world.build(load_study(overrides="missing.min_patients = 1000"))
    assert world.rows("SELECT DISTINCT method FROM outcomes.attendance_models") == [("complete_case",)]
    world.con.close()
