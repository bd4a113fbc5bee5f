"""The nightly schedule and the new-drop sensor, evaluated without a daemon."""

import shutil

import dagster as dg

from pipeline.automation import landing_sensor, nightly_schedule
from tests.landing import write_minimal_drop


def test_schedule_runs_nightly_refresh_at_two_and_starts_running():
    schedule = nightly_schedule("Europe/Oslo")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/Oslo"
    assert schedule.job_name == "nightly_refresh"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_sensor_requests_a_refresh_only_when_the_landing_changes(tmp_path):
    landing = tmp_path / "landing"
    write_minimal_drop(landing / "2026-01-01_SITE01")
    sensor = landing_sensor(landing)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING

    first = sensor.evaluate_tick(dg.build_sensor_context())
    assert len(first.run_requests) == 1
    assert first.run_requests[0].tags["outcomes/warehouse"] == "writer"

    unchanged = sensor.evaluate_tick(dg.build_sensor_context(cursor=first.cursor))
    assert unchanged.run_requests == [] and unchanged.cursor == first.cursor

    shutil.copytree(landing / "2026-01-01_SITE01", landing / "2026-02-01_SITE01")
    changed = sensor.evaluate_tick(dg.build_sensor_context(cursor=first.cursor))
    assert len(changed.run_requests) == 1 and changed.cursor != first.cursor
