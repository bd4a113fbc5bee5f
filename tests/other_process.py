"""A DuckDB file held open by another process, for the tests of a warehouse that is not ours to open."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def held_open(db: Path) -> Iterator[None]:
    """Another Python process opens `db` (DuckDB's own file lock) for the duration of the block; the block
    starts only once it holds the file, and the process is ended afterwards whatever happened."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('open', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        yield
    finally:
        holder.kill()
        holder.wait()
