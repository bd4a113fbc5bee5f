"""The Dagster resources every test that materializes assets needs, assembled in one place so that a new
resource field, or a change of the defaults, is made once for every test module."""

from __future__ import annotations

from pathlib import Path

from assets.resources import RefreshPaths, Warehouse
from pipeline.study import DEFAULT_STUDY_FILE


def refresh_paths(landing: Path | str = "unused", reports: Path | str = "unused", overrides: str = "",
                  *, at_launch: bool = False) -> RefreshPaths:
    """RefreshPaths on the committed study file. `at_launch`: configurable at launch, so that a run's config
    may set study_overrides alone while the other fields keep these values."""
    fields = {"landing": str(landing), "reports": str(reports), "study_file": str(DEFAULT_STUDY_FILE)}
    if at_launch:
        return RefreshPaths.configure_at_launch(**fields)
    return RefreshPaths(**fields, study_overrides=overrides)


def dagster_resources(database: Path | str, landing: Path | str = "unused", reports: Path | str = "unused",
                      overrides: str = "", *, at_launch: bool = False) -> dict:
    """{"warehouse": ..., "paths": ...} for dg.materialize or dg.Definitions."""
    return {"warehouse": Warehouse(database=str(database)),
            "paths": refresh_paths(landing, reports, overrides, at_launch=at_launch)}
