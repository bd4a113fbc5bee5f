"""Provenance block of every published file (results contract): when, which run, which code, which data,
which study configuration, which suppression threshold."""

import hashlib
import subprocess
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version

import duckdb

from pipeline.reporting.common import table_exists
from pipeline.settings import REPO_ROOT
from pipeline.study import Study


@cache
def code_version() -> str:
    """The git commit of the checkout (with '+dirty' for local changes), else the package version."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True,
            timeout=5, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT, capture_output=True,
            text=True, timeout=5, check=True,
        ).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        try:
            return version("spine-outcomes")
        except PackageNotFoundError:
            return "unknown"


def data_sha256(con: duckdb.DuckDBPyConnection) -> str:
    """SHA-256 of the sorted `drop_id/version/file:sha256` lines of every ingested input file
    (ingest.drop_files holds one row, with the file's SHA-256, per file of every ingested drop version)."""
    lines: list[str] = []
    if table_exists(con, "ingest.drop_files"):
        rows = con.execute("SELECT drop_id, version, file, sha256 FROM ingest.drop_files").fetchall()
        lines = sorted(f"{d}/{v}/{f}:{s}" for d, v, f, s in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def build_provenance(con: duckdb.DuckDBPyConnection, study: Study, run_id: str,
                     generated_at: datetime | None = None) -> dict[str, object]:
    return {
        "generated_at": (generated_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "run_id": run_id,
        "code_version": code_version(),
        "data_sha256": data_sha256(con),
        "study_config_sha256": study.sha256,
        "suppression_threshold": study.suppression_threshold,
    }
