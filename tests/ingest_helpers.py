"""Shared helpers of the ingest tests: small drops from dicts, and a large synthetic drop for timing."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import duckdb

from pipeline.contract import COLUMNS, INSTRUMENTS

PATIENT = {
    "site_id": "S1",
    "patient_id": "P0001",
    "procedure": "MILD",
    "index_year": "2020",
    "age_at_index": "70",
    "sex": "F",
    "bmi": "27.5",
    "diabetes": "0",
    "smoker": "0",
    "prior_esi": "1",
    "symptom_months": "24",
    "levels_treated": "1",
    "asa_class": "2",
    "anesthesia": "LOCAL_SEDATION",
    "los_days": "0",
}
PRO = {
    "site_id": "S1",
    "patient_id": "P0001",
    "days_from_index": "90",
    "instrument": "ODI",
    "value": "30",
    "unit": "",
}
EVENT = {"site_id": "S1", "patient_id": "P0001", "days_from_index": "200", "event": "INJECTION", "detail": ""}


def patient(**changes: str) -> dict[str, str]:
    return {**PATIENT, **changes}


def pro(**changes: str) -> dict[str, str]:
    return {**PRO, **changes}


def event(**changes: str) -> dict[str, str]:
    return {**EVENT, **changes}


def csv_text(
    table: str, rows: list[dict[str, str]], columns: list[str] | None = None, newline: str = "\n"
) -> str:
    """A contract CSV (header + rows, `"` quoting where needed) as text."""
    import io

    out = io.StringIO()
    cols = columns or list(COLUMNS[table])
    writer = csv.DictWriter(out, fieldnames=cols, lineterminator=newline, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in cols})
    return out.getvalue()


def write_drop(
    landing: Path,
    drop_id: str,
    patients: list[dict[str, str]] | None = None,
    pros: list[dict[str, str]] | None = None,
    events: list[dict[str, str]] | None = None,
    erasures: list[dict[str, str]] | None = None,
    *,
    manifest: bool = False,
) -> Path:
    """A drop folder with the three required tables (default: one valid patient, no PRO or event)."""
    folder = landing / drop_id
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "patients": [PATIENT] if patients is None else patients,
        "pro_responses": pros or [],
        "events": events or [],
    }
    if erasures is not None:
        tables["erasures"] = erasures
    for table, rows in tables.items():
        (folder / f"{table}.csv").write_text(csv_text(table, rows), encoding="utf-8", newline="")
    if manifest:
        write_manifest(folder)
    return folder


def write_manifest(folder: Path, overrides: dict[str, str] | None = None) -> None:
    files = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != "manifest.json"
    }
    files.update(overrides or {})
    (folder / "manifest.json").write_text(json.dumps({"contract_version": "1", "files": files}))


def to_parquet(folder: Path, table: str) -> None:
    """Replace <table>.csv of a drop by <table>.parquet with the same rows (all VARCHAR columns)."""
    src = folder / f"{table}.csv"
    con = duckdb.connect()
    rel = con.sql("SELECT * FROM read_csv(?, all_varchar = true, header = true)", params=[str(src)])
    rel.write_parquet(str(folder / f"{table}.parquet"))
    src.unlink()


def all_text(con: duckdb.DuckDBPyConnection, exclude: tuple[str, ...] = ()) -> str:
    """Every VARCHAR value of every ingest.* table, concatenated (to prove a value never got in)."""
    cols = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE schema_name = 'ingest' AND data_type = 'VARCHAR'"
    ).fetchall()
    parts = []
    for table, column in cols:
        if table in exclude:
            continue
        values = con.execute(
            f'SELECT "{column}" FROM ingest."{table}" WHERE "{column}" IS NOT NULL'
        ).fetchall()
        parts.extend(v[0] for v in values)
    return "\n".join(parts)


# A large, valid synthetic drop: `patients` patients of 5 sites, `per_patient` PRO rows each (distinct
# instrument/day keys, units cycling), 2 events each. Written by DuckDB, so millions of rows take seconds.
_VISITS = (-14, 42, 90, 180, 365)


def write_synthetic_drop(
    landing: Path, drop_id: str, patients: int, per_patient: int = 40, id_length: int = 9
) -> Path:
    """A valid drop of `patients` patients; id_length (>= 9) pads patient ids, to vary the bytes per row."""
    folder = landing / drop_id
    folder.mkdir(parents=True, exist_ok=True)
    codes = list(INSTRUMENTS)
    con = duckdb.connect()
    _write(
        con,
        """
            SELECT 'S' || (i % 5) AS site_id, 'P' || lpad(CAST(i AS VARCHAR), ?, '0') AS patient_id,
                CASE WHEN i % 2 = 0 THEN 'MILD' ELSE 'LAMINECTOMY' END AS procedure,
                2012 + i % 12 AS index_year, 50 + i % 45 AS age_at_index, ['F', 'M'][1 + i % 2] AS sex,
                round(20 + (i % 150) / 10, 1) AS bmi, i % 2 AS diabetes, (i // 2) % 2 AS smoker,
                (i // 4) % 2 AS prior_esi, 6 + i % 60 AS symptom_months, 1 + i % 5 AS levels_treated,
                1 + i % 4 AS asa_class, ['LOCAL_SEDATION', 'GENERAL'][1 + i % 2] AS anesthesia,
                i % 3 AS los_days
            FROM range(?) t(i)
        """,
        [id_length - 1, patients],
        folder / "patients.csv",
    )
    _write(
        con,
        """
            WITH rows AS (
                SELECT i, k, ?[1 + k % 9] AS instrument, ?[1 + (k // 9) % 5] AS day
                FROM range(?) t(i), range(?) u(k)
            )
            SELECT 'S' || (i % 5) AS site_id, 'P' || lpad(CAST(i AS VARCHAR), ?, '0') AS patient_id,
                CASE WHEN instrument IN ('ZCQ_SATISFACTION', 'SATISFACTION') AND day <= 0 THEN 30
                     ELSE day + k // 45 END AS days_from_index,
                instrument,
                CASE instrument
                    WHEN 'ODI' THEN CAST((i * 7 + k) % 101 AS VARCHAR)
                    WHEN 'NRS_BACK' THEN CAST((i + k) % 11 AS VARCHAR)
                    WHEN 'NRS_LEG' THEN CAST((i + 3 * k) % 11 AS VARCHAR)
                    WHEN 'ZCQ_SYMPTOM' THEN CAST(round(1 + (i % 40) / 10, 1) AS VARCHAR)
                    WHEN 'ZCQ_FUNCTION' THEN CAST(round(1 + (i % 30) / 10, 1) AS VARCHAR)
                    WHEN 'ZCQ_SATISFACTION' THEN CAST(round(1 + (i % 30) / 10, 1) AS VARCHAR)
                    WHEN 'SATISFACTION' THEN CAST(1 + i % 4 AS VARCHAR)
                    WHEN 'WALK_DISTANCE' THEN CAST(100 + i % 900 AS VARCHAR)
                    ELSE CAST(5 + i % 20 AS VARCHAR)
                END AS value,
                CASE instrument
                    WHEN 'WALK_DISTANCE' THEN ['m', 'ft'][1 + i % 2]
                    WHEN 'STAND_TIME' THEN 'min'
                END AS unit
            FROM rows
        """,
        [codes, list(_VISITS), patients, per_patient, id_length - 1],
        folder / "pro_responses.csv",
    )
    _write(
        con,
        """
            SELECT 'S' || (i % 5) AS site_id, 'P' || lpad(CAST(i AS VARCHAR), ?, '0') AS patient_id,
                30 + 100 * k AS days_from_index, ['INJECTION', 'LAST_CONTACT'][1 + k] AS event,
                CASE WHEN k = 0 AND i % 10 = 0 THEN 'facet injection, "L4-L5"' END AS detail
            FROM range(?) t(i), range(2) u(k)
        """,
        [id_length - 1, patients],
        folder / "events.csv",
    )
    return folder


def _write(con: duckdb.DuckDBPyConnection, query: str, params: list, path: Path) -> None:
    con.sql(query, params=params).write_csv(str(path), header=True)


# --- running the ingest in tests -------------------------------------------------------------------------

CURRENT_YEAR = 2026


def ingest(con: duckdb.DuckDBPyConnection, landing: Path, **kwargs):
    """ingest_landing with a fixed current year, so that tests do not depend on the calendar."""
    from pipeline.ingest import ingest_landing

    return ingest_landing(con, landing, current_year=CURRENT_YEAR, **kwargs)


def quarantine(con: duckdb.DuckDBPyConnection, file: str | None = None) -> list[tuple]:
    """(file, line, reason_code, column_name, identifier_kind) of the quarantine, ordered."""
    sql = "SELECT file, line, reason_code, column_name, identifier_kind FROM ingest.quarantine"
    if file:
        return con.execute(sql + " WHERE file = ? ORDER BY line", [file]).fetchall()
    return con.execute(sql + " ORDER BY file, line").fetchall()


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM ingest.{table}").fetchone()[0]


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    names = [
        "patients",
        "pro_responses",
        "events",
        "quarantine",
        "erasures",
        "drop_versions",
        "drop_files",
        "current_patients",
        "current_pro_responses",
        "current_events",
    ]
    return {n: count(con, n) for n in names}


def file_of(summary, drop_id: str, file: str):
    """The FileReconciliation of one file of one drop in an IngestSummary."""
    drop = next(d for d in summary.drops if d.drop_id == drop_id)
    return next(f for f in drop.files if f.file == file)
