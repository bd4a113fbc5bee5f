"""Opening the DuckDB warehouse: one writer at a time, and a prompt, plain error when it is busy; what a build
returns (`Built`) and the one writer of computed tables (`write_table`).

DuckDB locks its file per process; a second process (even a read-only one) blocks a writer, and
dagster-duckdb would then retry for about 100 s before failing with a stack trace. We take an OS file lock
beside the database first, so a concurrent refresh is refused quickly with a message that says what to do.
`fcntl.flock` locks vanish when the holding process dies, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline.estimable import Gap


class WarehouseBusyError(RuntimeError):
    """Another process holds the warehouse."""


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


class WriterLock:
    """An exclusive, process-wide lock on the warehouse, waited for at most `timeout_s` seconds."""

    def __init__(self, database: Path, timeout_s: float = 30.0) -> None:
        self.path = lock_path(database)
        self.timeout_s = timeout_s
        self._fd: int | None = None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise WarehouseBusyError(
                        f"the warehouse {self.path.with_suffix('')} is in use by another refresh "
                        f"(waited {self.timeout_s:.0f} s for {self.path.name}); try again when it has finished"
                    ) from None
                time.sleep(0.2)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# The storage format of a warehouse file created here: DuckDB 1.5's, whose string compression (dictionary and
# FSST in one method) writes text columns markedly faster than the 1.0 format DuckDB creates by default (a
# copy of outcomes.pro_changes: 3.4 -> 2.5 CPU s; the same values, a file no larger). A file keeps the format
# it was created with (DuckDB does not convert one), and reading it needs DuckDB 1.5 or later (pinned: 1.5.6).
STORAGE_VERSION = "v1.5.0"


def connect(database: Path, *, read_only: bool = False, config: dict | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, turning DuckDB's lock conflict into a WarehouseBusyError at once."""
    if not read_only:
        database.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(database), read_only=read_only,
                              config={"storage_compatibility_version": STORAGE_VERSION, **(config or {})})
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusyError(
                f"the warehouse {database} is open in another process (DuckDB allows one writer, and no reader "
                "beside it); close that process or wait for it to finish"
            ) from None
        raise


@contextmanager
def open_warehouse(database: Path, *, timeout_s: float = 30.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """Writer connection under the writer lock, closed (and the lock released) on exit."""
    with WriterLock(database, timeout_s):
        con = connect(database)
        try:
            yield con
        finally:
            con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction: committed when the block ends, rolled back if it raises (KeyboardInterrupt too).

    A ROLLBACK that fails because a failed COMMIT already ended the transaction is ignored: the original error
    is the one that matters."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise


@dataclass(frozen=True)
class Built:
    """What building one asset wrote: its tables with their row counts (the asset's own table first), headline
    numbers for the asset's metadata, how a patient-level table was built (full or incremental; never an
    identifier), and the numbers of its results.json members the data cannot give (SAP 9)."""

    asset: str
    tables: Mapping[str, int]  # schema-qualified name -> rows written
    headline: Mapping[str, float] = field(default_factory=dict)
    build: Mapping[str, str | int] = field(default_factory=dict)
    gaps: tuple[Gap, ...] = ()

    @property
    def table(self) -> str:
        """The asset's own table, schema-qualified."""
        return next(iter(self.tables))

    @property
    def rows(self) -> int:
        return self.tables[self.table]


# The tables that write_table() may replace, per schema. A table name is an identifier, not a value, so it
# cannot travel as a parameter; it is checked against this list instead, so nothing from outside reaches SQL.
WRITABLE_TABLES: dict[str, frozenset[str]] = {
    "outcomes": frozenset({"pro_change_summary", "responder_rates", "satisfaction_rates", "complication_rates",
                           "complication_difference", "discharge_summary", "follow_up_completeness",
                           # SAP 3.1 (missing follow-up); attendance_weights is a view over attendance_rows and
                           # attendance_patients, written by SQL (sql/outcomes/attendance_*_write.sql), listed so
                           # the schema's tables are in one place.
                           "attendance_weights", "attendance_models", "pro_change_mar", "satisfaction_mar",
                           "tipping_points", "attendance_rows", "attendance_patients"}),
    "durability": frozenset({"reintervention_km", "reintervention_km_curve", "reintervention_comparison",
                             "reintervention_cif", "reintervention_cif_curve", "durable_response_turnbull",
                             "durable_response_curve", "durable_response_difference", "return_to_activity_km",
                             "return_to_activity_km_curve"}),
    "comparison": frozenset({"propensity_inputs", "propensity_model", "balance", "balance_summary",
                             "adjusted_estimates", "adjusted_km", "adjusted_km_curve", "e_value", "subgroups",
                             "adjusted_reintervention", "adjusted_cif", "site_estimates", "site_heterogeneity",
                             "pro_change_difference_mar", "tipping_point_difference"}),
}
# Column types a writer may ask for (DuckDB names), and the shape of a column name: both end up in SQL text.
COLUMN_TYPES = frozenset({"VARCHAR", "DOUBLE", "INTEGER", "BIGINT", "BOOLEAN"})
_COLUMN = re.compile(r"[a-z_][a-z0-9_]*")


def write_table(con: duckdb.DuckDBPyConnection, qualified_name: str, frame: pd.DataFrame,
                column_types: Mapping[str, str] | None = None) -> int:
    """Replace `qualified_name` (schema.table, from WRITABLE_TABLES) by `frame`; return its row count.

    NaN becomes NULL. Without `column_types`, an object column whose values are all booleans is written as
    BOOLEAN (a row that claims nothing has NULL) and every other object column as VARCHAR, so that an empty
    table (no patients yet) keeps its text columns instead of getting a type guessed from no values. With
    `column_types` (column -> DuckDB type), the table has exactly those columns, cast to those types.
    """
    schema, _, table = qualified_name.partition(".")
    if table not in WRITABLE_TABLES.get(schema, frozenset()):
        raise ValueError(f"{qualified_name!r} is not a table the pipeline writes")
    if column_types is None:
        frame = frame.astype({c: _object_type(frame[c]) for c in frame.columns if frame[c].dtype == object})
        select = "*"
    else:
        if not all(_COLUMN.fullmatch(c) and t in COLUMN_TYPES for c, t in column_types.items()):
            raise ValueError(f"column names or types of {qualified_name!r} are not allowed")
        select = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in column_types.items())
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.register("_written_frame", frame)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {schema}.{table} AS SELECT {select} FROM _written_frame")
    finally:
        con.unregister("_written_frame")
    return len(frame)


def _object_type(column: pd.Series) -> str:
    values = column.dropna()
    is_bool = len(values) > 0 and all(isinstance(v, bool | np.bool_) for v in values)
    return "boolean" if is_bool else "string"
