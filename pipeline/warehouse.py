"""Opening the DuckDB warehouse: one writer at a time, and a prompt, plain error when it is busy.

DuckDB locks its file per process; a second process (even a read-only one) blocks a writer, and
dagster-duckdb would then retry for about 100 s before failing with a stack trace. We take an OS file lock
beside the database first, so a concurrent refresh is refused quickly with a message that says what to do.
`fcntl.flock` locks vanish when the holding process dies, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


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


def connect(database: Path, *, read_only: bool = False, config: dict | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, turning DuckDB's lock conflict into a WarehouseBusyError at once."""
    if not read_only:
        database.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(database), read_only=read_only, config=config or {})
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
