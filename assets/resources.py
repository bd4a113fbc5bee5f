"""Dagster resources: the warehouse (DuckDB under a run-wide writer lock) and the folders of a refresh."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field, PrivateAttr

from pipeline.study import Study, load_study
from pipeline.warehouse import WriterLock, connect


class Warehouse(DuckDBResource):
    """The DuckDB warehouse. The writer lock is taken when a run starts using the resource and held until it
    ends, so two refreshes never interleave their steps; a busy warehouse fails the run promptly."""

    lock_timeout_seconds: float = 30.0
    _lock: WriterLock | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self.database != ":memory:":
            self._lock = WriterLock(Path(self.database), self.lock_timeout_seconds)
            self._lock.acquire()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.release()

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = connect(Path(self.database), config=self.connection_config)
        try:
            yield con
        finally:
            con.close()


class RefreshPaths(dg.ConfigurableResource):
    """Where drops land, where reports are published, and the study configuration of the run."""

    landing: str
    reports: str
    study_file: str
    study_overrides: str = Field(
        default="",
        description=(
            "Study parameters to override for this run: a TOML fragment with the keys of the study file, "
            'e.g. responders.ODI.rule = "relative" or outcomes.primary_visit = "M24". Tables are merged key '
            "by key; lists (and the visits) are replaced whole. Recorded with the results (study_sha256)."
        ),
    )

    @property
    def landing_dir(self) -> Path:
        return Path(self.landing)

    @property
    def reports_dir(self) -> Path:
        return Path(self.reports)

    def study(self) -> Study:
        """The study file with this run's overrides applied (validated; see pipeline/study.py)."""
        return load_study(Path(self.study_file), overrides=self.study_overrides)
