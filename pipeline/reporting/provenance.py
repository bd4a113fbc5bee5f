"""Provenance block of every published file (results contract): when, which run, which code, which data,
which study configuration, which suppression threshold."""

import hashlib
from datetime import UTC, datetime

import duckdb

from pipeline.provenance import code_version
from pipeline.reporting.common import table_exists
from pipeline.study import Study


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
