"""The analysis data sets of SAP section 4, built in SQL from hand-made staging rows: one behaviour each, as the
SAP states it (event, censoring at follow-up end, the 1826-day horizon, death, the durable-response signals)."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from assets.resources import RefreshPaths
from pipeline.sql import run
from pipeline.staging import build_model, visit_window_params
from pipeline.study import DEFAULT_STUDY_FILE, load_study
from pipeline.survival.datasets import (
    build_durable_response_dataset,
    build_reintervention_dataset,
    build_return_to_activity_dataset,
)
from pipeline.survival.durability_tables import durable_response_turnbull

STUDY = load_study()
RELATIVE = load_study(overrides='responders.ODI.rule = "relative"')
HORIZON = STUDY.horizon_days


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    c.execute("CREATE SCHEMA staging")
    c.execute("CREATE TABLE staging.patients (site_id VARCHAR, patient_id VARCHAR, procedure VARCHAR, arm VARCHAR,"
              " in_analysis BOOLEAN)")
    c.execute("CREATE TABLE staging.events (site_id VARCHAR, patient_id VARCHAR, days_from_index INTEGER,"
              " event VARCHAR)")
    c.execute("CREATE TABLE staging.pro_visits (site_id VARCHAR, patient_id VARCHAR, instrument VARCHAR,"
              " visit VARCHAR, visit_ordinal INTEGER, days_from_index INTEGER, value DOUBLE)")
    # staging.follow_up is built by the real staging model, which reads every PRO row as pro_assessments.
    c.execute("CREATE VIEW staging.pro_assessments AS SELECT * FROM staging.pro_visits")
    run(c, "staging/visit_windows", **visit_window_params(STUDY))
    yield c
    c.close()


def patient(con, pid: str, arm: str | None = "treatment") -> None:
    procedure = {"treatment": "MILD", "comparator": "LAMINECTOMY", None: "OTHER"}[arm]
    con.execute("INSERT INTO staging.patients VALUES ('S1', ?, ?, ?, ?)", [pid, procedure, arm, arm is not None])


def event(con, pid: str, day: int, code: str) -> None:
    con.execute("INSERT INTO staging.events VALUES ('S1', ?, ?, ?)", [pid, day, code])


def patient_with_events(con, pid: str, events: list[tuple[int, str]]) -> None:
    """A treatment-arm patient with these (day, code) events."""
    patient(con, pid)
    for day, code in events:
        event(con, pid, day, code)


def odi(con, pid: str, visit: str, day: int, value: float) -> None:
    ordinal = [v.name for v in STUDY.visits].index(visit)
    con.execute("INSERT INTO staging.pro_visits VALUES ('S1', ?, 'ODI', ?, ?, ?, ?)", [pid, visit, ordinal, day, value])


def rows(con, table: str, columns: str) -> dict[str, tuple]:
    build_model(con, "follow_up", STUDY, full=True)
    build = {"reintervention_dataset": lambda: build_reintervention_dataset(con, HORIZON),
             "return_to_activity_dataset": lambda: build_return_to_activity_dataset(con, HORIZON),
             "durable_response_dataset": lambda: build_durable_response_dataset(con, STUDY)}
    build[table]()
    found = con.execute(f"SELECT patient_id, {columns} FROM durability.{table}").fetchall()
    return {r[0]: tuple(r[1:]) for r in found}


def reintervention(con) -> dict[str, tuple]:
    return rows(con, "reintervention_dataset", "time, event, competing_event")


def recovery(con) -> dict[str, tuple]:
    return rows(con, "return_to_activity_dataset", "time, event")


def durable(con) -> dict[str, tuple]:
    return rows(con, "durable_response_dataset", "included, exclusion, failure, left_day, right_day")


# --- freedom from reintervention (SAP 4.1) ---

@pytest.mark.parametrize("events, expected", [
    pytest.param([(500, "REINTERVENTION_SURGERY"), (300, "REPEAT_MILD")], (300, 1, 0),
                 id="event is the first reintervention of either kind"),
    pytest.param([(HORIZON + 100, "REPEAT_MILD")], (HORIZON, 0, 0),
                 id="reintervention after the horizon is censored at the horizon"),
    pytest.param([(HORIZON, "REINTERVENTION_SURGERY")], (HORIZON, 1, 0), id="reintervention on the horizon day counts"),
    # the reintervention is dated after the death: not counted
    pytest.param([(400, "DEATH"), (600, "REINTERVENTION_SURGERY")], (400, 0, 1),
                 id="death first is the competing event and censors KM"),
    pytest.param([(HORIZON + 1, "DEATH")], (HORIZON, 0, 0), id="death after the horizon is censoring at the horizon"),
    pytest.param([(400, "DEATH"), (400, "REPEAT_MILD")], (400, 1, 0),
                 id="reintervention on the day of death counts as reintervention"),
    pytest.param([(400, "DEATH"), (700, "LAST_CONTACT")], (400, 0, 1),
                 id="a row after death does not extend follow-up"),
    pytest.param([], (0, 0, 0), id="patient without follow-up is censored on day 0"),
])
def test_reintervention_time_and_status(con, events, expected):
    """(time, event, competing_event) of one patient with these (day, code) events."""
    patient_with_events(con, "p", events)
    assert reintervention(con)["p"] == expected


def test_without_reintervention_censored_at_follow_up_end(con):
    patient(con, "p")
    event(con, "p", 800, "LAST_CONTACT")
    odi(con, "p", "M36", 1100, 20)
    assert reintervention(con)["p"] == (1100, 0, 0)


def test_only_the_analysis_population(con):
    patient(con, "in", "comparator")
    patient(con, "out", None)
    assert set(reintervention(con)) == {"in"}


# --- return to normal activity (SAP 4.3) ---

@pytest.mark.parametrize("events, expected", [
    pytest.param([(30, "RETURN_TO_ACTIVITY"), (12, "RETURN_TO_ACTIVITY")], (12, 1),
                 id="recovery event is the first return to activity"),
    pytest.param([(20, "DEATH"), (25, "RETURN_TO_ACTIVITY")], (20, 0), id="recovery is censored at death"),
    pytest.param([(90, "LAST_CONTACT")], (90, 0), id="recovery is censored at follow-up end"),
])
def test_return_to_activity_time_and_status(con, events, expected):
    """(time, event) of one patient with these (day, code) events."""
    patient_with_events(con, "p", events)
    assert recovery(con)["p"] == expected


# --- durable response, interval-censored (SAP 4.2); baseline ODI 50, responder = improvement >= 10 ---

def with_baseline(con, pid: str = "p") -> None:
    patient(con, pid)
    odi(con, pid, "BASELINE", -10, 50)


@pytest.mark.parametrize("visits, events, expected", [
    # good again at M36: irrelevant, the failure already happened
    pytest.param([("M3", 90, 30), ("M12", 370, 35), ("M24", 735, 45), ("M36", 1100, 20)], [],
                 (True, None, "visit", 370, 735), id="failure at a bad visit lies after the last good visit"),
    pytest.param([("W6", 40, 48)], [], (True, None, "visit", 0, 40),
                 id="a bad first visit gives an interval from day 0"),
    pytest.param([("M6", 180, 30), ("M12", 370, 45)], [(300, "REPEAT_MILD")],
                 (True, None, "reintervention", 300, 300), id="reintervention is an exactly timed failure"),
    pytest.param([("M12", 365, 45)], [(365, "REINTERVENTION_SURGERY")],
                 (True, None, "reintervention", 365, 365), id="reintervention comes first on the day of a bad visit"),
    pytest.param([("M12", 365, 30), ("M60", 2000, 35)], [], (True, None, None, 2000, None),
                 id="no bad signal is right-censored at the last good visit"),
    pytest.param([("M24", 730, 30)], [(2009, "REPEAT_MILD")], (True, None, None, 730, None),
                 id="signals after the last window are ignored"),
])
def test_durable_response_interval(con, visits, events, expected):
    """The durable-response row of one patient with a baseline ODI of 50, these (visit, day, ODI) answers and
    these (day, code) events."""
    with_baseline(con)
    for visit, day, value in visits:
        odi(con, "p", visit, day, value)
    for day, code in events:
        event(con, "p", day, code)
    assert durable(con)["p"] == expected


def test_improvement_of_exactly_ten_points_is_a_response(con):
    with_baseline(con, "good")
    odi(con, "good", "M12", 365, 40)
    with_baseline(con, "bad")
    odi(con, "bad", "M12", 365, 40.5)
    found = durable(con)
    assert found["good"][2] is None and found["bad"][2] == "visit"


def test_relative_rule_needs_30_percent_of_baseline(con):
    with_baseline(con, "good")
    odi(con, "good", "M12", 365, 35)  # improvement 15 = 30% of 50
    with_baseline(con, "bad")
    odi(con, "bad", "M12", 365, 36)
    build_model(con, "follow_up", STUDY, full=True)
    build_durable_response_dataset(con, RELATIVE)
    failure = dict(con.execute("SELECT patient_id, failure FROM durability.durable_response_dataset").fetchall())
    assert failure == {"good": None, "bad": "visit"}


def test_responder_thresholds_come_from_the_study(con):
    with_baseline(con, "p")
    odi(con, "p", "M12", 365, 38)  # improvement 12: a responder at 10 points, not at 15
    build_model(con, "follow_up", STUDY, full=True)
    build_durable_response_dataset(con, load_study(overrides="responders.ODI.absolute = 15"))
    assert con.execute("SELECT failure FROM durability.durable_response_dataset").fetchone() == ("visit",)


def relative_rule_landing(con) -> None:
    """Four patients, baseline ODI 50: the absolute rule (>= 10 points) and the relative rule (>= 30% = 15
    points) disagree only about p1 at M12 (improvement 12)."""
    for pid in ("p1", "p2", "p3", "p4"):
        with_baseline(con, pid)
    odi(con, "p1", "M12", 365, 38)
    odi(con, "p1", "M24", 730, 30)
    odi(con, "p2", "M12", 365, 30)
    odi(con, "p2", "M24", 730, 45)
    odi(con, "p3", "M12", 365, 20)
    odi(con, "p3", "M60", 1826, 20)
    event(con, "p4", 100, "REPEAT_MILD")


@pytest.mark.parametrize("override, intervals, probability", [
    # absolute: p1 right-censored at 730. NPMLE by hand: 1/4 at day 100 (p4), 1/4 in (365, 730] (p2), 1/2 beyond.
    ("", {"p1": (730, None), "p2": (365, 730), "p3": (1826, None), "p4": (100, 100)}, (0.75, 0.5, 0.5)),
    # relative: p1 fails in (0, 365], whose only support point is day 100: 2/4 there, 1/4 in (365, 730].
    ('responders.ODI.rule = "relative"',
     {"p1": (0, 365), "p2": (365, 730), "p3": (1826, None), "p4": (100, 100)}, (0.5, 0.25, 0.25)),
])
def test_a_relative_rule_override_changes_durable_response(con, override, intervals, probability):
    relative_rule_landing(con)
    study = RefreshPaths(landing="unused", reports="unused", study_file=str(DEFAULT_STUDY_FILE),
                         study_overrides=override).study()
    build_model(con, "follow_up", study, full=True)
    build_durable_response_dataset(con, study)
    found = con.execute("SELECT patient_id, left_day, right_day FROM durability.durable_response_dataset").fetchall()
    assert {p: (left, right) for p, left, right in found} == intervals
    durable_response_turnbull(con)
    stored = con.execute("SELECT probability FROM durability.durable_response_turnbull ORDER BY day").fetchall()
    assert [p for (p,) in stored] == pytest.approx(probability, abs=1e-8)


def test_no_baseline_odi_is_excluded(con):
    patient(con, "p")
    odi(con, "p", "M12", 365, 20)
    assert durable(con)["p"] == (False, "no_baseline_odi", None, None, None)


def test_no_post_index_signal_is_excluded(con):
    with_baseline(con)
    assert durable(con)["p"] == (False, "no_post_index_signal", None, None, None)


def test_a_reintervention_alone_is_a_signal(con):
    with_baseline(con)
    event(con, "p", 50, "REINTERVENTION_SURGERY")
    assert durable(con)["p"] == (True, None, "reintervention", 50, 50)
