"""Measure the nightly refresh on the committed sample with the in-process and the multiprocess executor.

Usage: .venv/bin/python -m benchmarks.executor_choice
Each executor runs the same job twice on a fresh temporary warehouse (first run ingests everything, second
run skips every drop), with a temporary Dagster instance. Prints wall times; results go in docs/dagster.md.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import dagster as dg

from assets.definitions import build_definitions
from pipeline.settings import REPO_ROOT, Settings


def _settings(root: Path) -> Settings:
    return Settings(
        landing=REPO_ROOT / "sample_data" / "landing", warehouse=root / "w.duckdb", reports=root / "site",
        timezone="UTC",
    )


def multiprocess_job() -> dg.JobDefinition:
    """A reconstructable twin of nightly_refresh with Dagster's default multiprocess executor."""
    defs = build_definitions(_settings(Path(os.environ["BENCH_ROOT"])))
    return dg.define_asset_job("nightly_refresh_multiprocess", selection=dg.AssetSelection.all(),
                               executor_def=dg.multiprocess_executor).resolve(
        asset_graph=defs.resolve_asset_graph(), resource_defs=defs.resources
    )


def main() -> None:
    for executor in ("in_process", "multiprocess"):
        with tempfile.TemporaryDirectory() as tmp, dg.instance_for_test(temp_dir=tmp) as instance:
            os.environ["BENCH_ROOT"] = tmp
            times = []
            for _ in range(2):
                started = time.perf_counter()
                if executor == "in_process":
                    job = build_definitions(_settings(Path(tmp))).resolve_job_def("nightly_refresh")
                    ok = job.execute_in_process(instance=instance).success
                else:
                    result = dg.execute_job(dg.reconstructable(multiprocess_job), instance=instance)
                    ok = result.success
                times.append(time.perf_counter() - started)
                assert ok, f"{executor} run failed"
            print(f"{executor:>12}: first run {times[0]:.1f} s, second run {times[1]:.1f} s")


if __name__ == "__main__":
    main()
