"""One writer at a time: a second refresh is refused promptly with a message that says why."""

import time

import pytest

from pipeline.warehouse import WarehouseBusyError, WriterLock, connect, open_warehouse
from tests.other_process import held_open


def test_second_writer_lock_is_refused_with_a_clear_message(tmp_path):
    db = tmp_path / "w.duckdb"
    with WriterLock(db, timeout_s=0.1):
        with pytest.raises(WarehouseBusyError, match="in use by another refresh"):
            WriterLock(db, timeout_s=0.3).acquire()


def test_lock_is_free_again_after_release(tmp_path):
    db = tmp_path / "w.duckdb"
    with open_warehouse(db) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    with open_warehouse(db, timeout_s=0.1) as con:
        assert con.execute("SELECT x FROM t").fetchone() == (1,)


def test_database_held_by_another_process_fails_fast_not_after_retries(tmp_path):
    db = tmp_path / "w.duckdb"
    with held_open(db):
        started = time.monotonic()
        with pytest.raises(WarehouseBusyError, match="open in another process"):
            connect(db)
        assert time.monotonic() - started < 10
