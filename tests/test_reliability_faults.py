"""Faults: a run killed at any point, two refreshes at once, a warehouse held by another process, a full disk
or an unusable report folder. Each leaves the warehouse consistent and the last published report intact.

Crashes are real SIGKILLs of a child process running the nightly job (tests/hostile/child.py installs the
hook that kills it at the chosen point); the next run, in this process, must then produce exactly what an
uninterrupted run produces.
"""

import errno
import functools
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import assets.definitions
from assets.resources import Warehouse
from pipeline.reporting.publish import list_refreshes
from tests.hostile.child import CRASH_POINTS
from tests.hostile.runs import check_consistent, generated_landing, report_text, run_job, settings_for, snapshot
from tests.other_process import held_open

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
HISTORY = {"ingest.drop_log"}


def _child(root: Path, landing: Path, point: str = "none", hold: float = 0.0, **popen) -> subprocess.Popen:
    popen = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True} | popen
    return subprocess.Popen(
        [sys.executable, "-m", "tests.hostile.child", str(root), str(landing), point, str(hold)], cwd=REPO, **popen,
    )


def _published(reports: Path) -> dict[str, bytes]:
    """Every file a reader can reach (hidden staging entries aside), with its bytes."""
    return {str(p.relative_to(reports)): p.read_bytes() for p in sorted(reports.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(reports).parts)}


def _failure_messages(result) -> str:
    return "\n".join(
        str(e.event_specific_data.error.to_string()) if getattr(e.event_specific_data, "error", None) else ""
        for e in result.all_events if e.is_failure
    )


def _failed_run(root: Path, landing: Path) -> tuple[str, float]:
    """A refresh of root's warehouse that must fail: its failure messages and how long it took to fail."""
    started = time.monotonic()
    result = run_job(settings_for(root, landing), dg.DagsterInstance.ephemeral(), raise_on_error=False)
    elapsed = time.monotonic() - started
    assert not result.success
    return _failure_messages(result), elapsed


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A landing of two deliveries; the warehouse and report after the first (`before`), and after an
    uninterrupted run over both (`expected`)."""
    root = tmp_path_factory.mktemp("faults")
    full = generated_landing(root / "landing", patients=100, seed=11)
    first = generated_landing(root / "first_landing", patients=100, seed=11, deliveries="2026-05")
    before = root / "before"
    run_job(settings_for(before, first), dg.DagsterInstance.ephemeral())
    expected_root = root / "expected"
    shutil.copytree(before, expected_root, symlinks=True)
    expected = settings_for(expected_root, full)
    result = run_job(expected, dg.DagsterInstance.ephemeral())
    return {
        "root": root, "landing": full, "first_landing": first, "before": before,
        "tables": snapshot(expected.warehouse, skip=HISTORY),
        "report": report_text(expected.reports, (result.run_id,)),
    }


def _fresh_copy(world, name: str) -> Path:
    root = world["root"] / name
    shutil.copytree(world["before"], root, symlinks=True)
    return root


@pytest.fixture(scope="module")
def crashed(world):
    """Every crash point at once: one child per point, each on its own copy of `before`, run in parallel."""
    children = {}
    for point in CRASH_POINTS:
        root = _fresh_copy(world, f"crash_{point}")
        children[point] = (root, _published(root / "site"), _child(root, world["landing"], point))
    out = {}
    for point, (root, before, child) in children.items():
        _out, err = child.communicate(timeout=180)
        out[point] = {"root": root, "before": before, "returncode": child.returncode, "stderr": err[-2000:]}
    return out


@pytest.mark.parametrize("point", list(CRASH_POINTS))
def test_sigkill_leaves_a_consistent_warehouse_and_the_next_run_completes_the_same(world, crashed, point):
    crash = crashed[point]
    assert crash["returncode"] == -9, crash["stderr"]  # really killed, at the hook
    settings = settings_for(crash["root"], world["landing"])
    before = crash["before"]

    check_consistent(settings.warehouse)  # opens; every drop version whole or absent; reconciliation holds
    after = _published(settings.reports)
    old_latest = os.readlink(world["before"] / "site" / "latest")
    latest = os.readlink(settings.reports / "latest")
    # Whatever a reader could see before is still there, byte for byte.
    assert {k: v for k, v in after.items() if k in before} == before
    if point == "publish_index":
        # The new refresh is complete and `latest` points at it; the index is the old one, still whole.
        assert latest != old_latest and (settings.reports / latest / "overview.html").is_file()
    else:
        assert latest == old_latest
    new = {k for k in after if k not in before}
    if point in ("publish_latest", "publish_index"):
        # The killed run's refresh folder was complete when renamed into place (it is never half-written).
        assert new and all(k.startswith("refreshes/") for k in new)
    else:
        assert new == set()

    result = run_job(settings, dg.DagsterInstance.ephemeral())
    assert result.success
    check_consistent(settings.warehouse)
    assert snapshot(settings.warehouse, skip=HISTORY) == world["tables"]
    assert report_text(settings.reports, (result.run_id,)) == world["report"]


def test_two_refreshes_launched_at_once_serialise_on_the_writer_lock(world):
    root = world["root"] / "concurrent"
    root.mkdir()
    # Each child logs to a file: a child writing into a full pipe that nobody reads would block while it holds
    # the writer lock, and the other would time out for a reason that has nothing to do with the lock.
    logs = [root / f"{name}.log" for name in "ab"]
    children = [_child(root, world["landing"], stdout=log.open("w"), stderr=subprocess.STDOUT) for log in logs]
    for child in children:
        child.wait(timeout=180)
    a, b = children
    err_a, err_b = (log.read_text() for log in logs)
    # With the default 30 s wait both finish: the second waits for the first, then finds nothing new.
    assert (a.returncode, b.returncode) == (0, 0), (err_a[-1500:], err_b[-1500:])
    check_consistent(settings_for(root, world["landing"]).warehouse)
    with duckdb.connect(str(root / "w.duckdb"), read_only=True) as con:
        versions = con.execute("SELECT drop_id, count(*) FROM ingest.drop_versions GROUP BY ALL").fetchall()
        runs = con.execute("SELECT run_id, list(DISTINCT status) FROM ingest.drop_log GROUP BY ALL").fetchall()
    assert versions and all(n == 1 for _d, n in versions)  # every drop applied once
    assert sorted(sorted(s) for _r, s in runs) == [["ingested"], ["skipped"]]
    assert snapshot(root / "w.duckdb", skip=HISTORY)["ingest.patients"] == world["tables"]["ingest.patients"]


def test_a_refresh_that_cannot_get_the_lock_is_refused_with_a_clear_message(world, monkeypatch):
    root = _fresh_copy(world, "refused")
    holder = _child(root, world["landing"], "hold", 20)
    try:
        assert holder.stdout.readline().strip() == "holding"
        monkeypatch.setattr(assets.definitions, "Warehouse",
                            functools.partial(Warehouse, lock_timeout_seconds=1.0))
        messages, elapsed = _failed_run(root, world["landing"])
        assert "is in use by another refresh" in messages
        assert elapsed < 15
    finally:
        holder.kill()
        holder.wait()
    check_consistent(root / "w.duckdb")
    assert _published(root / "site") == _published(world["before"] / "site")


def test_a_warehouse_held_open_by_another_process_fails_the_run_promptly(world):
    root = _fresh_copy(world, "held")
    db = root / "w.duckdb"
    with held_open(db):
        messages, elapsed = _failed_run(root, world["landing"])
    assert "open in another process" in messages
    assert elapsed < 20
    check_consistent(db)


def test_disk_full_while_publishing_keeps_the_previous_report(world, monkeypatch):
    root = _fresh_copy(world, "disk_full")
    settings = settings_for(root, world["landing"])
    before = _published(settings.reports)
    reports = settings.reports.resolve()
    for name in ("rename", "replace"):
        original = getattr(os, name)

        def full(src, dst, *args, _original=original, **kwargs):
            if reports in Path(dst).absolute().parents:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
            return _original(src, dst, *args, **kwargs)

        monkeypatch.setattr(os, name, full)
    result = run_job(settings, dg.DagsterInstance.ephemeral(), raise_on_error=False)
    monkeypatch.undo()
    assert not result.success
    # The cause is named. (pipeline/reporting/publish.py adds "cannot publish refresh ...; the previous report is
    # unchanged" when the rename into refreshes/ fails; here the first write to hit the disk is the staging
    # of a page in <reports>/.pending/, which reports the bare OSError.)
    assert "No space left on device" in _failure_messages(result)
    assert _published(settings.reports) == before
    assert list_refreshes(settings.reports) == list_refreshes(world["before"] / "site")
    check_consistent(settings.warehouse)
    # Space is back: the next run publishes.
    assert run_job(settings, dg.DagsterInstance.ephemeral()).success
    assert len(list_refreshes(settings.reports)) == len(list_refreshes(world["before"] / "site")) + 1


def test_a_report_folder_that_is_not_a_folder_fails_clearly_and_touches_nothing(world):
    root = world["root"] / "not_a_folder"
    root.mkdir()
    (root / "site").write_text("not a folder\n")
    settings = settings_for(root, world["first_landing"])
    result = run_job(settings, dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    message = _failure_messages(result)
    assert "Not a directory" in message and str(root / "site") in message, message[-2000:]
    assert (root / "site").read_text() == "not a folder\n"
    check_consistent(settings.warehouse)
