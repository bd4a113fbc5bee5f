"""The nightly schedule and the new-drop sensor, evaluated without a daemon."""

import shutil

import dagster as dg

from assets.automation import landing_sensor, nightly_schedule
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


def test_sensor_waits_for_a_drop_still_being_copied(tmp_path):
    import time

    landing = tmp_path / "landing"
    write_minimal_drop(landing / "2026-01-01_SITE01")
    clock = {"now": time.time()}
    sensor = landing_sensor(landing, settle_seconds=10, clock=lambda: clock["now"])

    copying = sensor.evaluate_tick(dg.build_sensor_context())
    assert copying.run_requests == [] and "still being copied" in copying.skip_message

    clock["now"] += 11  # settled
    settled = sensor.evaluate_tick(dg.build_sensor_context(cursor=copying.cursor))
    assert len(settled.run_requests) == 1

    # A re-delivery being copied does not fire; it fires once settled, and only once.
    (landing / "2026-01-01_SITE01" / "events.csv").write_text("site_id,patient_id,days_from_index,event,detail\n")
    clock["now"] = time.time()
    again = sensor.evaluate_tick(dg.build_sensor_context(cursor=settled.cursor))
    assert again.run_requests == []
    clock["now"] += 11
    fired = sensor.evaluate_tick(dg.build_sensor_context(cursor=again.cursor))
    assert len(fired.run_requests) == 1
    quiet = sensor.evaluate_tick(dg.build_sensor_context(cursor=fired.cursor))
    assert quiet.run_requests == []


def test_sensor_fires_at_once_for_a_drop_with_its_manifest(tmp_path):
    import time

    from tests.ingest_helpers import write_manifest

    landing = tmp_path / "landing"
    write_minimal_drop(landing / "2026-01-01_SITE01")
    write_manifest(landing / "2026-01-01_SITE01")
    sensor = landing_sensor(landing, settle_seconds=10, clock=time.time)
    assert len(sensor.evaluate_tick(dg.build_sensor_context()).run_requests) == 1
