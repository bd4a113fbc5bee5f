"""The nightly refresh job, its schedule, and the sensor that refreshes when a new drop lands."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from assets.failures import publish_data_quality_after_failure
from pipeline.ingest import landing_fingerprint

# One run at a time may write the warehouse: the instance's run queue limits this tag to 1 (dagster.yaml),
# and the Warehouse resource's file lock refuses any run launched outside the queue.
WRITER_TAGS = {"outcomes/warehouse": "writer"}

nightly_refresh = dg.define_asset_job(
    "nightly_refresh",
    selection=dg.AssetSelection.all(),
    description="Ingest new drops, rebuild every table and publish the reports.",
    tags=WRITER_TAGS,
    # One process for the whole run: per-step processes cost seconds each on 2 cores and would each
    # contend for the DuckDB file (see docs/dagster.md for the measurement).
    executor_def=dg.in_process_executor,
    # Publication never depends on the analyses (SAP 9): a failed step still publishes the data-quality report.
    hooks={publish_data_quality_after_failure},
)


def nightly_schedule(timezone: str) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="nightly_refresh_schedule",
        job=nightly_refresh,
        cron_schedule="0 2 * * *",
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )


def landing_sensor(landing: Path) -> dg.SensorDefinition:
    @dg.sensor(
        name="new_drop_sensor",
        job=nightly_refresh,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Starts a refresh when the landing folder changes (a new or re-delivered drop). "
        "Looks only at names, sizes and modification times: it never opens the warehouse.",
    )
    def new_drop_sensor(context: dg.SensorEvaluationContext):
        fingerprint = landing_fingerprint(landing)
        if fingerprint == context.cursor:
            return dg.SkipReason("no change in the landing folder")
        context.update_cursor(fingerprint)
        return dg.RunRequest(run_key=fingerprint, tags=WRITER_TAGS)

    return new_drop_sensor
