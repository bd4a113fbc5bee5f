"""One writer at a time: a second refresh is refused promptly with a message that says why."""

import time

import duckdb
import pytest

from pipeline.warehouse import STORAGE_VERSION, WarehouseBusyError, WriterLock, connect, open_warehouse
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


def _storage_version(con) -> str:
    return con.execute("SELECT tags['storage_version'] FROM duckdb_databases() WHERE NOT internal").fetchone()[0]


def test_a_new_warehouse_is_written_in_the_pinned_storage_format_and_an_old_one_keeps_its_own(tmp_path):
    with open_warehouse(tmp_path / "new.duckdb") as con:
        assert _storage_version(con) == f"{STORAGE_VERSION}+"
    old = tmp_path / "old.duckdb"
    with duckdb.connect(str(old)) as con:  # DuckDB's default format, as warehouses created before
        con.execute("CREATE TABLE t AS SELECT 'a' AS x")
        default = _storage_version(con)
    assert default != f"{STORAGE_VERSION}+"
    with open_warehouse(old) as con:
        con.execute("INSERT INTO t VALUES ('b')")
        assert _storage_version(con) == default
    with duckdb.connect(str(old), read_only=True) as con:
        assert con.execute("SELECT list(x ORDER BY x) FROM t").fetchone() == (["a", "b"],)
