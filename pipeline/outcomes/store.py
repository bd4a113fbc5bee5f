"""Reading and writing the `outcomes` schema: SQL models by name, tables replaced atomically (by
pipeline.warehouse.write_table) together with the study parameters that produced them, and the guard that
staging was built with the same study."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from pipeline.sql import run
from pipeline.staging import visit_window_params
from pipeline.study import Study
from pipeline.warehouse import transaction as warehouse_transaction


class StagingMismatch(RuntimeError):
    """Staging was built with other visit windows or arms than the study of this run."""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS outcomes")
    run(con, "outcomes/study_parameters_table")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction: a table and its recorded parameters change together or not at all."""
    ensure_schema(con)
    with warehouse_transaction(con):
        yield


def record_parameters(con: duckdb.DuckDBPyConnection, asset: str, study: Study) -> None:
    """Replace the parameters recorded for `asset` with those of `study`."""
    names, values = zip(*study.parameters(), strict=True)
    run(con, "outcomes/study_parameters_clear", asset=asset)
    run(con, "outcomes/study_parameters_record", asset=asset, names=list(names), parameter_values=list(values),
        study_sha256=study.sha256)


def check_staging_matches(con: duckdb.DuckDBPyConnection, study: Study) -> None:
    """Refuse to compute outcomes when staging used other visit windows or arms than `study`.

    A launchpad override of windows or arms takes effect in staging only when staging is materialized in the
    same run; outcomes computed on older staging would silently mix two configurations.
    """
    windows, arms = run(con, "outcomes/staging_mismatches", **visit_window_params(study),
                        treatment=study.treatment, comparator=study.comparator).fetchone()
    if windows or arms:
        raise StagingMismatch(
            f"staging was built with another study configuration ({windows} visit-window rows and {arms} "
            "patient arms differ from this run's study); materialize the staging assets with the same study "
            "overrides first"
        )
