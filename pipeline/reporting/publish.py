"""Atomic publication of a refresh's report files into OUTCOMES_REPORTS.

Layout:  <reports>/refreshes/<refresh_id>/...   every refresh, kept
         <reports>/latest -> refreshes/<refresh_id>   symlink swapped atomically
         <reports>/index.html                   list of refreshes, newest first
A refresh is written into a hidden temporary folder and renamed into place only when complete, so readers
never see a half-written report and a failed refresh leaves the previous one untouched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REFRESHES = "refreshes"
LATEST = "latest"


class PublishError(OSError):
    """A refresh could not be published. The message names the folder, the cause and what readers now see."""


@dataclass(frozen=True)
class Published:
    refresh_id: str
    folder: Path
    latest: Path
    index: Path


def new_refresh_id(run_id: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{run_id[:8]}"


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a web server must be able to read the page
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def publish(reports: Path, refresh_id: str, files: dict[str, str], render_index, *, replace: bool = False) -> Published:
    """Write `files` (name -> text) as refresh `refresh_id`, point `latest` at it, rebuild the index.

    `render_index(refresh_ids_newest_first) -> str` renders index.html. `replace`: a refresh already published
    under this id is swapped for the new files (a run whose analyses failed republishes its data-quality report
    with each failure it meets); otherwise an existing refresh is an error.
    """
    refreshes = reports / REFRESHES
    final = refreshes / refresh_id
    if final.exists() and not replace:
        raise FileExistsError(f"refresh {refresh_id} is already published")
    state = "the previous report is unchanged"
    try:
        refreshes.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=refreshes, prefix=f".{refresh_id}."))
        try:
            for name, text in files.items():
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "w", encoding="utf-8") as fh:
                    fh.write(text)
                    fh.flush()
                    os.fsync(fh.fileno())
            staging.chmod(0o755)
            if final.exists():  # replace: move the old folder aside, put the new one in place, then drop the old
                old = Path(tempfile.mkdtemp(dir=refreshes, prefix=f".{refresh_id}.old.")) / "refresh"
                os.rename(final, old)
                os.rename(staging, final)
                shutil.rmtree(old.parent, ignore_errors=True)
            else:
                os.rename(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        latest = reports / LATEST
        tmp_link = reports / f".{LATEST}.{refresh_id}.tmp"
        tmp_link.unlink(missing_ok=True)
        os.symlink(Path(REFRESHES) / refresh_id, tmp_link)
        os.replace(tmp_link, latest)
        state = f"refresh {refresh_id} is published and `latest` points at it, but index.html was not updated"
        index = reports / "index.html"
        _write_atomic(index, render_index(list_refreshes(reports)))
    except OSError as exc:
        if isinstance(exc, PublishError):
            raise
        error = PublishError(f"cannot publish refresh {refresh_id} to {reports}: {exc.strerror or exc}; {state}")
        error.errno = exc.errno
        raise error from exc
    return Published(refresh_id, final, latest, index)


def list_refreshes(reports: Path) -> list[str]:
    """Published refresh ids, newest first (ids start with a UTC timestamp)."""
    folder = reports / REFRESHES
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)
