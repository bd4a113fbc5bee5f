"""A small generated cohort (small cells everywhere) run through the whole graph with the comparison and
reporting assets, into a temporary warehouse and reports folder."""

import subprocess
import sys
from pathlib import Path

import dagster as dg

from assets.comparison import COMPARISON_ASSETS
from assets.durability import DURABILITY_ASSETS
from assets.ingest import ingest_drops
from assets.outcomes import OUTCOME_ASSETS
from assets.reporting import REPORTING_ASSETS
from assets.staging import STAGING
from tests.dagster_resources import dagster_resources


def generate(root: Path, patients: int, seed: int) -> Path:
    landing = root / "landing"
    subprocess.run([sys.executable, "-m", "sample_data.generate", "--patients", str(patients), "--seed", str(seed),
                    "--landing", str(landing), "--truth", str(root / "truth.json")], check=True, capture_output=True)
    return landing


def run_graph(root: Path, landing: Path, comparison: bool = True, overrides: str = "",
              instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    assets = [ingest_drops, *STAGING, *OUTCOME_ASSETS, *DURABILITY_ASSETS, *(COMPARISON_ASSETS if comparison else []),
              *REPORTING_ASSETS]
    defs = dg.Definitions(assets=assets, resources=dagster_resources(root / "w.duckdb", landing, root / "site",
                                                                     overrides))
    job = defs.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(instance=instance or dg.DagsterInstance.ephemeral(), raise_on_error=True)
