"""Benchmark the nightly refresh at registry scale: `make bench` (SIZES="10000 100000 1000000").

For each size N:

1. Generate a landing with the sample generator into `benchmarks/out/scratch/n<N>_s<seed>/landing` (reused
   when `generated.json` there says it was made with the same size, seed and parquet sites).
2. Floor: the time DuckDB alone needs to read every landing file once (all CSV and Parquet files of each
   table into an in-memory table, best of two).
3. Full refresh exactly as `make run` does it: `dg launch --job nightly_refresh` (in-process executor) in
   the repository, with OUTCOMES_LANDING / OUTCOMES_WAREHOUSE / OUTCOMES_REPORTS / DAGSTER_HOME pointing at
   a fresh scratch run folder (`.../run/`; the landing there is a tree of hard links to the generated one).
   Wall time end to end, peak memory of the process tree (sum of RSS, sampled from /proc every 0.1 s), and
   per-stage time from the run's Dagster event log (STEP_START → STEP_SUCCESS/FAILURE, steps grouped by
   the asset group of the asset they materialize or check).
4. Incremental refresh: one new drop (`2026-11-16_SITE01`) re-delivers ~1% of the patients as new
   patients (new ids, their PRO and event rows), and the same job runs again on the same warehouse.

Results: `benchmarks/out/refresh-<N>.json` per size, merged into `benchmarks/out/summary.json` (latest per
size), copied to `benchmarks/results/refresh.json`; the generated block of `docs/performance.md` (between
the `bench:begin` / `bench:end` markers) and `docs/performance.svg` (log–log plot) are rewritten from it.

Usage: .venv/bin/python -m benchmarks.refresh [--sizes 10000 100000] [--seed 20261123] [--repeats 1] [--no-docs]
       .venv/bin/python -m benchmarks.refresh --docs-only   (re-render docs from the summary)
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import duckdb

from benchmarks.procmem import TreeMemory
from pipeline.settings import REPO_ROOT

OUT = REPO_ROOT / "benchmarks" / "out"
SCRATCH = OUT / "scratch"
RESULTS = REPO_ROOT / "benchmarks" / "results" / "refresh.json"
DOC = REPO_ROOT / "docs" / "performance.md"
PLOT = REPO_ROOT / "docs" / "performance.svg"
BIN = Path(sys.executable).parent
STAGES = ("ingest", "staging", "outcomes", "durability", "comparison", "reporting")
PARQUET_SITES = ("SITE05",)  # as the committed sample: one site delivers Parquet
INCREMENT_DROP = "2026-11-16_SITE01"
INCREMENT_SITE = "SITE01"
TABLES = ("patients", "pro_responses", "events")
GIB = 1024**3

# Targets of issue 8 (2-core, 24 GiB machine): size -> (seconds, bytes).
TARGETS = {100_000: (60.0, 4 * GIB), 1_000_000: (600.0, 16 * GIB)}
INCREMENTAL_TARGET = 0.5


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------------------------- machine


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {"cores": os.cpu_count(), "memory_gib": round(mem_kib / 1024**2, 1), "cpu": cpu,
            "python": platform.python_version(), "duckdb": duckdb.__version__, "dagster": _dagster_version(),
            "loadavg_at_start": [round(x, 2) for x in load]}


def _dagster_version() -> str:
    from dagster.version import __version__

    return __version__


def git_commit() -> dict:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()

    # The harness's own outputs (results file, docs block, plot) do not make the measured code dirty.
    own = (":!benchmarks/results", ":!docs/performance.md", ":!docs/performance.svg")
    return {"commit": git("rev-parse", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no", "--", ".", *own))}


# --------------------------------------------------------------------------------------------- landing


def landing_dir(n: int, seed: int) -> Path:
    return SCRATCH / f"n{n}_s{seed}"


def ensure_landing(n: int, seed: int) -> dict:
    """Generate (or reuse) the landing for n patients; returns the generation record."""
    root = landing_dir(n, seed)
    stamp = root / "generated.json"
    want = {"patients": n, "seed": seed, "parquet_sites": list(PARQUET_SITES)}
    if stamp.exists():
        have = json.loads(stamp.read_text())
        if {k: have.get(k) for k in want} == want and (root / "landing").is_dir():
            log(f"n={n:,}: reusing landing {root / 'landing'}")
            return have | {"reused": True}
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    log(f"n={n:,}: generating landing")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sample_data.generate", "--patients", str(n), "--seed", str(seed),
                    "--parquet-sites", *PARQUET_SITES, "--landing", str(root / "landing"),
                    "--truth", str(root / "truth.json")], cwd=REPO_ROOT, check=True)
    record = want | {"seconds": round(time.perf_counter() - started, 2)}
    stamp.write_text(json.dumps(record) + "\n")
    return record | {"reused": False}


def landing_files(landing: Path) -> dict[str, dict[str, list[str]]]:
    """{table: {"csv": [...], "parquet": [...]}} over every drop folder."""
    out: dict[str, dict[str, list[str]]] = {t: {"csv": [], "parquet": []} for t in TABLES}
    for drop in sorted(p for p in landing.iterdir() if p.is_dir()):
        for t in TABLES:
            for ext in ("csv", "parquet"):
                f = drop / f"{t}.{ext}"
                if f.exists():
                    out[t][ext].append(str(f))
    return out


def landing_stats(landing: Path) -> dict:
    files = [f for f in landing.rglob("*") if f.is_file()]
    return {"files": len(files), "bytes": sum(f.stat().st_size for f in files),
            "drops": sum(1 for p in landing.iterdir() if p.is_dir())}


def csv_options(table: str) -> str:
    """As ingest reads CSV (sql/ingest/read_csv.sql): contract columns as VARCHAR, no sniffing; malformed
    records (the generator's planted defects) are skipped instead of listed in a rejects table."""
    from pipeline.contract import COLUMNS

    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in COLUMNS[table]) + "}"
    return (f"columns = {columns}, header = true, auto_detect = false, delim = ',', quote = '\"', "
            "escape = '\"', ignore_errors = true")


def duckdb_floor(landing: Path, repeats: int = 2) -> dict:
    """Seconds for DuckDB alone to read every landing file once (materialised in memory), best of `repeats`."""
    files = landing_files(landing)
    times, rows = [], 0
    for _ in range(repeats):
        con = duckdb.connect()
        started = time.perf_counter()
        rows = 0
        for t, by_ext in files.items():
            parts = []
            if by_ext["csv"]:
                parts.append(f"SELECT * FROM read_csv({by_ext['csv']!r}, {csv_options(t)})")
            if by_ext["parquet"]:
                parts.append(f"SELECT * FROM read_parquet({by_ext['parquet']!r}, union_by_name = true)")
            # Materialise every column: count(*) alone would let Parquet answer from its footer.
            con.execute(f"CREATE TEMP TABLE floor_{t} AS " + " UNION ALL BY NAME ".join(parts))
            rows += con.execute(f"SELECT count(*) FROM floor_{t}").fetchone()[0]
        times.append(time.perf_counter() - started)
        con.close()
    return {"seconds": round(min(times), 3), "all_seconds": [round(x, 3) for x in times], "rows": rows}


def link_tree(src: Path, dst: Path) -> None:
    """Copy a folder tree as hard links (same bytes, no copy cost), falling back to copies across devices."""
    for path in sorted(src.rglob("*")):
        target = dst / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:
                shutil.copy2(path, target)


def add_increment(landing: Path, n: int, fraction: float = 0.01) -> dict:
    """Write drop INCREMENT_DROP: ~fraction*n patients of INCREMENT_SITE re-delivered under new ids.

    Each chosen patient's current row (latest drop) and its PRO and event rows (one per key, latest drop)
    are copied with patient_id prefixed by 'X'. Values stay text (all_varchar), so the CSV stays in the
    generator's format. Returns row counts of the new drop.
    """
    files = landing_files(landing)
    drop = landing / INCREMENT_DROP
    drop.mkdir()
    k = max(1, round(fraction * n))
    con = duckdb.connect()

    def src(t: str) -> str:
        return (f"(SELECT *, regexp_extract(filename, '([^/]+)/[^/]+$', 1) AS drop_id "
                f"FROM read_csv({files[t]['csv']!r}, {csv_options(t)}, filename = true) "
                f"WHERE site_id = '{INCREMENT_SITE}')")

    con.execute(f"""CREATE TEMP TABLE chosen AS
        SELECT patient_id FROM (SELECT DISTINCT patient_id FROM {src('patients')})
        ORDER BY hash(patient_id) LIMIT {k}""")
    keys = {"patients": ["patient_id"], "pro_responses": ["patient_id", "days_from_index", "instrument"],
            "events": ["patient_id", "days_from_index", "event"]}
    from pipeline.contract import COLUMNS

    counts, manifest = {}, {}
    for t in TABLES:
        cols = [c if c != "patient_id" else "'X' || patient_id AS patient_id" for c in COLUMNS[t]]
        by = ", ".join(keys[t])
        path = drop / f"{t}.csv"
        con.execute(f"""COPY (
            SELECT {", ".join(cols)} FROM {src(t)} JOIN chosen USING (patient_id)
            QUALIFY row_number() OVER (PARTITION BY {by} ORDER BY drop_id DESC) = 1
            ORDER BY patient_id, {by}
        ) TO '{path}' (FORMAT csv, HEADER true)""")
        counts[t] = con.execute(f"SELECT count(*) FROM read_csv('{path}', all_varchar = true)").fetchone()[0]
        manifest[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    con.close()
    (drop / "manifest.json").write_text(json.dumps({"contract_version": "1", "files": manifest}, indent=2) + "\n")
    return {"drop": INCREMENT_DROP, "rows": counts, "patients": counts["patients"]}


# --------------------------------------------------------------------------------------------- a refresh


def run_refresh(run_root: Path, label: str) -> dict:
    """`dg launch --job nightly_refresh` on the scratch run folder; wall time, memory, per-stage times."""
    env = os.environ | {
        "OUTCOMES_LANDING": str(run_root / "landing"),
        "OUTCOMES_WAREHOUSE": str(run_root / "warehouse.duckdb"),
        "OUTCOMES_REPORTS": str(run_root / "site"),
        "DAGSTER_HOME": str(run_root / "dagster_home"),
    }
    log_path = run_root / f"{label}.log"
    log(f"{label}: dg launch --job nightly_refresh (log {log_path.relative_to(REPO_ROOT)})")
    with log_path.open("w") as out:
        started = time.perf_counter()
        proc = subprocess.Popen([str(BIN / "dg"), "launch", "--job", "nightly_refresh"], cwd=REPO_ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
        with TreeMemory(proc.pid) as mem:
            rc = proc.wait()
        wall = time.perf_counter() - started
    result = {"wall_seconds": round(wall, 2), "returncode": rc,
              "peak_rss_sum_bytes": mem.peak_rss_sum_kib * 1024, "peak_hwm_bytes": mem.peak_hwm_kib * 1024,
              "processes": mem.max_processes}
    result |= event_log_times(run_root / "dagster_home")
    steps = sum(result["stages"].values())
    result["outside_steps_seconds"] = round(wall - steps, 2)
    log(f"{label}: {wall:.1f} s, peak RSS {mem.peak_rss_sum_kib / 1024**2:.2f} GiB, status {result['status']}")
    return result


def _asset_groups() -> dict[str, str]:
    from assets.definitions import defs

    graph = defs.resolve_asset_graph()
    return {node.key.to_user_string(): node.group_name for node in graph.asset_nodes}


def event_log_times(home: Path, run_id: str | None = None) -> dict:
    """Per-step and per-group seconds of a run (default: the newest) in the instance at `home`."""
    import dagster as dg

    groups = _asset_groups()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_run_by_id(run_id) if run_id else instance.get_runs(limit=1)[0]
        entries = instance.all_logs(run.run_id)
    start: dict[str, float] = {}
    steps: dict[str, float] = {}
    step_group: dict[str, str] = {}
    run_start = run_end = None
    for e in entries:
        ev = e.dagster_event
        if ev is None:
            continue
        kind = ev.event_type_value
        if kind in ("RUN_START", "PIPELINE_START"):
            run_start = e.timestamp
        elif kind in ("RUN_SUCCESS", "RUN_FAILURE", "PIPELINE_SUCCESS", "PIPELINE_FAILURE"):
            run_end = e.timestamp
        elif kind == "STEP_START":
            start[e.step_key] = e.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and e.step_key in start:
            steps[e.step_key] = e.timestamp - start[e.step_key]
        elif kind == "ASSET_MATERIALIZATION":
            step_group.setdefault(e.step_key, groups.get(ev.asset_key.to_user_string(), "other"))
        elif kind == "ASSET_CHECK_EVALUATION":
            key = ev.event_specific_data.asset_key.to_user_string()
            step_group.setdefault(e.step_key, groups.get(key, "other"))
    stages: dict[str, float] = defaultdict(float)
    for step, seconds in steps.items():
        stages[step_group.get(step, "other")] += seconds
    return {
        "run_id": run.run_id, "status": run.status.value,
        "run_seconds": round(run_end - run_start, 2) if run_start and run_end else None,
        "stages": {g: round(stages.get(g, 0.0), 2) for g in (*STAGES, "other") if g in stages or g in STAGES},
        "steps": {k: round(v, 2) for k, v in sorted(steps.items(), key=lambda kv: -kv[1])},
        "step_groups": step_group,
    }


def assemble(base: dict, attempts: list[dict]) -> dict:
    """The size's record from its attempts: the fastest full and the fastest incremental refresh (on a shared
    machine the fastest attempt is the least disturbed one); every attempt's wall time is kept. An attempt
    whose incremental refresh has not finished yet contributes its full refresh only."""
    record = dict(base)
    record["repeats"] = [{"full_wall_seconds": a["full"]["wall_seconds"],
                          "incremental_wall_seconds": a["incremental"]["wall_seconds"] if a.get("incremental")
                          else None} for a in attempts]
    best_full = min(attempts, key=lambda a: a["full"]["wall_seconds"])
    record["full"] = best_full["full"] | {
        "ratio_to_floor": round(best_full["full"]["wall_seconds"] / base["floor"]["seconds"], 1)}
    done = [a for a in attempts if a.get("incremental")]
    record["increment"] = record["incremental"] = None
    if done:
        best_inc = min(done, key=lambda a: a["incremental"]["wall_seconds"])
        record["increment"] = best_inc["increment"]
        record["incremental"] = best_inc["incremental"] | {"ratio_to_full": round(
            best_inc["incremental"]["wall_seconds"] / record["full"]["wall_seconds"], 2)}
    try:
        record["machine"] = record["machine"] | {"loadavg_at_end": [round(x, 2) for x in os.getloadavg()]}
    except OSError:
        pass
    return record


def bench_size(n: int, seed: int, repeats: int = 1, save=None) -> dict:
    """Benchmark one size; `save(record)` is called after every refresh, so an interrupted run keeps what it
    measured (a record whose `incremental` is None has its full refresh only)."""
    gen = ensure_landing(n, seed)
    landing = landing_dir(n, seed) / "landing"
    stats = landing_stats(landing)
    log(f"n={n:,}: floor (DuckDB reads the landing once)")
    floor = duckdb_floor(landing)
    base = {"patients": n, "seed": seed, "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine(), "git": git_commit(), "generation": gen, "landing": stats, "floor": floor}
    attempts: list[dict] = []
    record = base
    for attempt in range(repeats):
        run_root = landing_dir(n, seed) / "run"
        shutil.rmtree(run_root, ignore_errors=True)
        (run_root / "dagster_home").mkdir(parents=True)
        shutil.copy(REPO_ROOT / "assets" / "dagster.yaml", run_root / "dagster_home" / "dagster.yaml")
        link_tree(landing, run_root / "landing")
        current = {"attempt": attempt + 1, "full": run_refresh(run_root, "full")}
        attempts.append(current)
        record = assemble(base, attempts)
        if save:
            save(record)
        current["increment"] = add_increment(run_root / "landing", n)
        current["incremental"] = run_refresh(run_root, "incremental")
        record = assemble(base, attempts)
        if save:
            save(record)
    return record


def save_record(record: dict) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"refresh-{record['patients']}.json").write_text(json.dumps(record, indent=2) + "\n")
    return merge_summary([record])


def merge_summary(records: list[dict]) -> dict:
    path = OUT / "summary.json"
    summary = json.loads(path.read_text()) if path.exists() else {"runs": {}}
    for r in records:
        summary["runs"][str(r["patients"])] = r
    summary["runs"] = dict(sorted(summary["runs"].items(), key=lambda kv: int(kv[0])))
    summary["targets"] = {str(k): {"seconds": s, "bytes": b} for k, (s, b) in TARGETS.items()}
    summary["targets"]["incremental_ratio"] = INCREMENTAL_TARGET
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--repeats", type=int, default=1,
                        help="full + incremental refreshes per size; the fastest of each is reported")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.{md,svg}")
    parser.add_argument("--docs-only", action="store_true", help="only re-render the docs from the summary")
    args = parser.parse_args(argv)
    from benchmarks.report import render_docs

    if args.docs_only:
        render_docs(json.loads(RESULTS.read_text()), DOC, PLOT)
        return
    def save(record: dict) -> None:
        summary = save_record(record)
        if not args.no_docs:
            render_docs(summary, DOC, PLOT)

    records = [bench_size(n, args.seed, args.repeats, save) for n in args.sizes]
    failed = [r["patients"] for r in records for k in ("full", "incremental")
              if (r[k] or {}).get("status") != "SUCCESS"]
    if failed:
        sys.exit(f"refresh failed for sizes {failed}: see benchmarks/out/scratch/*/run/*.log")


if __name__ == "__main__":
    main()
