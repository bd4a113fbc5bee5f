"""Running the nightly job in tests, and comparing what two runs left behind."""

import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import dagster as dg
import duckdb

from assets.definitions import build_definitions
from pipeline.settings import Settings

# Columns that record when or by which run something happened, not what the data is (and every TIMESTAMP).
VOLATILE_COLUMNS = {"at", "run_id", "erased_at", "ingested_at", "created_at", "generated_at", "refreshed_at"}
# DuckDB's parallel aggregates may add floats in another order from run to run: a standard deviation can
# differ in its last bit (1.3153691795200968 vs ...966), and a variance from sums (Σw²y² − 2ȳΣw²y + ȳ²Σw²)
# carries that into the 12th digit. Doubles are compared to 10 significant digits, the precision of every
# published number (pipeline/reporting/common.number): "the same refresh" means the same published numbers.
SIGNIFICANT_DIGITS = 10


@cache
def _cache_root() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix="reliability_landings_"))


@cache
def _generated(patients: int, seed: int, root: Path) -> Path:
    out = root / f"gen_{patients}_{seed}"
    if not out.exists():
        subprocess.run(
            [sys.executable, "-m", "sample_data.generate", "--patients", str(patients), "--seed", str(seed),
             "--landing", str(out), "--truth", str(root / f"truth_{patients}_{seed}.json")],
            check=True, capture_output=True,
        )
    return out


def generated_landing(dest: Path, *, patients: int = 100, seed: int = 11, deliveries: str | None = None) -> Path:
    """A copy of a generated landing at `dest` (only the drops whose id starts with `deliveries`, if given).
    The landing is generated once per test process, into a fresh temporary folder."""
    source = _generated(patients, seed, _cache_root())
    dest.mkdir(parents=True, exist_ok=True)
    for drop in sorted(source.iterdir()):
        if drop.is_dir() and (deliveries is None or drop.name.startswith(deliveries)):
            shutil.copytree(drop, dest / drop.name)
    return dest


def first_delivery(root: Path, *, patients: int, seed: int, prefix: str = "2026-05"
                   ) -> tuple[Path, Path, list[str], list[str]]:
    """A generated landing at root/all and a new root/landing holding only its drops whose id starts with
    `prefix` (the first delivery), as on a site's first night. Returns both folders and the names of the
    first and of the later drops, each in delivery order."""
    full = generated_landing(root / "all", patients=patients, seed=seed)
    drops = sorted(p.name for p in full.iterdir() if p.is_dir())
    first = [d for d in drops if d.startswith(prefix)]
    landing = root / "landing"
    landing.mkdir()
    for d in first:
        shutil.copytree(full / d, landing / d)
    return full, landing, first, [d for d in drops if not d.startswith(prefix)]


def settings_for(root: Path, landing: Path) -> Settings:
    return Settings(landing=landing, warehouse=root / "w.duckdb", reports=root / "site", timezone="UTC")


def run_job(settings: Settings, instance: dg.DagsterInstance, *, raise_on_error: bool = True):
    job = build_definitions(settings).resolve_job_def("nightly_refresh")
    return job.execute_in_process(instance=instance, raise_on_error=raise_on_error)


def tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY ALL"
    ).fetchall()


def snapshot(warehouse: Path, *, skip: set[str] = frozenset()) -> dict[str, list[tuple]]:
    """Every table of the warehouse, sorted rows, without the VOLATILE_COLUMNS; `skip`: 'schema.table'."""
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for schema, table in tables(con):
            name = f"{schema}.{table}"
            if name in skip:
                continue
            cols = [c for (c, kind) in con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
                "ORDER BY column_index", [schema, table]).fetchall()
                if c not in VOLATILE_COLUMNS and not kind.startswith("TIMESTAMP")]
            select = ", ".join(f'"{c}"' for c in cols)
            rows = con.execute(f'SELECT {select} FROM "{schema}"."{table}"').fetchall()
            out[name] = sorted((tuple(_stable(v) for v in row) for row in rows), key=repr)
    return out


def _stable(value):
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}") if isinstance(value, float) else value


def report_text(reports: Path, run_ids: tuple[str, ...] = ()) -> dict[str, str]:
    """Every file of the latest published refresh, without its provenance (run ids, refresh ids, times)."""
    import re

    latest = reports / "latest"
    assert latest.is_dir(), f"nothing published: {latest} is missing"
    out = {}
    for path in sorted(p for p in latest.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("utf-8", "replace")
        for run_id in run_ids:
            text = text.replace(run_id, "<run_id>").replace(run_id[:8], "<run>")
        text = re.sub(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<run_id>", text)
        text = re.sub(r"\d{8}T\d{6}Z-[0-9a-f]{8}", "<refresh_id>", text)
        text = re.sub(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?", "<time>", text)
        out[str(path.relative_to(latest))] = text
    return out


def check_consistent(warehouse: Path) -> None:
    """The warehouse opens, every file reconciles, and every drop version is wholly there or wholly absent."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        unbalanced = con.execute(
            "SELECT count(*) FROM ingest.drop_files WHERE rows_read <> accepted + quarantined + duplicates"
        ).fetchone()[0]
        assert unbalanced == 0
        for table, file in (("patients", "patients.csv"), ("pro_responses", "pro_responses.csv"),
                            ("events", "events.csv")):
            # Rows stored per drop version = the accepted count of its drop_files row (no erasure here).
            bad = con.execute(f"""
                WITH stored AS (SELECT drop_id, version, count(*) AS n FROM ingest.{table} GROUP BY ALL)
                SELECT count(*) FROM ingest.drop_versions v
                LEFT JOIN ingest.drop_files f ON f.drop_id = v.drop_id AND f.version = v.version AND f.file = ?
                LEFT JOIN stored s ON s.drop_id = v.drop_id AND s.version = v.version
                WHERE v.status = 'ingested' AND (f.accepted IS NULL OR coalesce(s.n, 0) <> f.accepted)
            """, [file]).fetchone()[0]
            assert bad == 0, table
            stray = con.execute(f"""
                SELECT count(*) FROM ingest.{table} t WHERE NOT EXISTS (
                    SELECT 1 FROM ingest.drop_versions v
                    WHERE v.drop_id = t.drop_id AND v.version = t.version AND v.status = 'ingested')
            """).fetchone()[0]
            assert stray == 0, table
