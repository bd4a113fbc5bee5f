"""Recognising a held drop without reading its bytes again.

The skip decision compares a drop's content fingerprint (SHA-256 of every file) with the versions held.
Hashing the whole landing every night costs seconds per gigabyte, so each file's hash is remembered in
ingest.file_hashes with the file's size, mtime and ctime. A file whose stamps are unchanged is taken to
hold the same bytes, as make and git do. Like git's "racily clean" rule, a remembered hash is trusted only
if the file had not been modified within RACY_US of the moment its hash began: a file rewritten within
the file system's time-stamp granularity could otherwise keep the same stamps. A drop with any file
unknown, changed or racy is read in full, as before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.sql import run

from .discover import Drop
from .scan import FileScan, content_fingerprint

RACY_US = 2_000_000


@dataclass(frozen=True)
class Stamp:
    bytes: int
    modified_us: int
    changed_us: int

    @staticmethod
    def of(path: Path) -> Stamp:
        st = path.stat()
        return Stamp(st.st_size, st.st_mtime_ns // 1000, st.st_ctime_ns // 1000)


def now_us() -> int:
    return time.time_ns() // 1000


def remembered_fingerprint(con: duckdb.DuckDBPyConnection, drop: Drop) -> str | None:
    """The drop's content fingerprint from remembered hashes, or None if any file must be read."""
    known = {
        file: (Stamp(size, modified, changed), hashed, sha)
        for file, size, modified, changed, hashed, sha in run(con, "ingest/file_hashes_of", drop_id=drop.drop_id)
        .fetchall()
    }
    scans = []
    for name, path in drop.files.items():
        entry = known.get(name)
        if entry is None:
            return None
        stamp, hashed_us, sha = entry
        try:
            current = Stamp.of(path)
        except OSError:
            return None
        if current != stamp or stamp.modified_us >= hashed_us - RACY_US or stamp.changed_us >= hashed_us - RACY_US:
            return None
        scans.append(FileScan(name, sha, stamp.bytes, None, 0))
    return content_fingerprint(scans)


def remember(
    con: duckdb.DuckDBPyConnection, drop: Drop, stamps: dict[str, Stamp], scans: dict[str, FileScan], hashed_us: int
) -> None:
    """Store each file's hash under the stamps it had before the byte pass began (at hashed_us)."""
    for name, scan in scans.items():
        stamp = stamps[name]
        if stamp.bytes != scan.size:
            continue  # the file changed while it was read: nothing trustworthy to remember
        run(
            con,
            "ingest/file_hash_put",
            drop_id=drop.drop_id,
            file=name,
            bytes=stamp.bytes,
            modified_us=stamp.modified_us,
            changed_us=stamp.changed_us,
            hashed_us=hashed_us,
            sha256=scan.sha256,
        )
