"""The nightly refresh job, its schedule, and the sensor that refreshes when a new drop lands."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from assets.failures import publish_data_quality_after_failure
from pipeline.ingest import drop_digests
from pipeline.settings import settle_seconds as default_settle_seconds

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


def landing_sensor(
    landing: Path, settle_seconds: float | None = None, clock: Callable[[], float] = time.time
) -> dg.SensorDefinition:
    """The new-drop sensor. settle_seconds (default: pipeline.settings.settle_seconds(), the ingest's) and clock
    are those of the drop readiness rule (pipeline.ingest.waiting_reason); tests inject them."""

    @dg.sensor(
        name="new_drop_sensor",
        job=nightly_refresh,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Starts a refresh when a drop in the landing folder is new or re-delivered and complete "
        "(manifest.json present, or no file changed for the settling time): never for a drop still being "
        "copied. Looks only at names, sizes and modification times: it never opens the warehouse.",
    )
    def new_drop_sensor(context: dg.SensorEvaluationContext):
        settle = default_settle_seconds() if settle_seconds is None else settle_seconds
        ready, waiting = drop_digests(landing, settle_seconds=settle, now=clock())
        previous = _digests(context.cursor)
        # A drop being copied keeps the digest it had when last complete, so it neither fires a run now nor
        # is mistaken for unchanged once it settles; a removed drop is forgotten (removal changes nothing).
        cursor = {**{k: previous[k] for k in waiting if k in previous}, **ready}
        changed = any(previous.get(k) != digest for k, digest in ready.items())
        encoded = json.dumps(cursor, sort_keys=True, separators=(",", ":"))
        if encoded != context.cursor:
            context.update_cursor(encoded)
        note = f"; {len(waiting)} drop(s) still being copied" if waiting else ""
        if not changed:
            return dg.SkipReason(f"no new complete drop in the landing folder{note}")
        return dg.RunRequest(run_key=hashlib.sha256(encoded.encode()).hexdigest(), tags=WRITER_TAGS)

    return new_drop_sensor


def _digests(cursor: str | None) -> dict[str, str]:
    """The sensor cursor: {folder key: digest} of the drops last seen complete (an older cursor reads as {})."""
    try:
        value = json.loads(cursor or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
