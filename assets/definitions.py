"""The one Definitions object of the code location `spine_outcomes`."""

from __future__ import annotations

import dagster as dg

from assets.automation import landing_sensor, nightly_refresh, nightly_schedule
from assets.graph import REFRESH_ASSETS
from assets.resources import RefreshPaths, Warehouse
from pipeline.settings import Settings
from pipeline.study import DEFAULT_STUDY_FILE


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=REFRESH_ASSETS,
        jobs=[nightly_refresh],
        schedules=[nightly_schedule(settings.timezone)],
        sensors=[landing_sensor(settings.landing)],
        resources={
            "warehouse": Warehouse(database=str(settings.warehouse)),
            # Configured at launch so that a launchpad run can override the study (study_overrides) alone.
            "paths": RefreshPaths.configure_at_launch(
                landing=str(settings.landing), reports=str(settings.reports), study_file=str(DEFAULT_STUDY_FILE)
            ),
        },
        executor=dg.in_process_executor,
    )


defs = build_definitions(Settings.from_env())
