"""Time the missing-follow-up steps (SAP 3.1) on a copy of a warehouse built by a full refresh.

Usage: .venv/bin/python -m benchmarks.mar_speed WAREHOUSE [--repeats 2]
e.g. WAREHOUSE = benchmarks/out/scratch/n100000_s20261123/run/warehouse.duckdb (only read: each repeat works on
a copy in a temporary folder). Runs the builders of the assets attendance_weights, pro_change_mar and
adjusted_estimates_mar and the blocking check attendance_weights_weights_valid in order, as the refresh does,
and prints wall and CPU seconds (CPU: all threads of this process; a shared machine inflates wall time more
than CPU time) with the load average. Run it with the source tree of each version on PYTHONPATH to compare
two versions on the same warehouse; results go in docs/outcomes.md ("Speed").
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from pipeline.check_registry import check_named
from pipeline.checks import run_check
from pipeline.comparison.mar_differences import build_adjusted_mar
from pipeline.outcomes.attendance_weights import build_attendance_weights
from pipeline.outcomes.mar_tables import build_pro_change_mar
from pipeline.study import load_study


def timed_steps(warehouse: Path) -> list[tuple[str, float, float]]:
    """(step, wall seconds, CPU seconds) of the three steps and the check on a copy of `warehouse`."""
    study = load_study()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "warehouse.duckdb"
        shutil.copy(warehouse, work)
        con = duckdb.connect(str(work))
        steps: list[tuple[str, Callable[[], object]]] = [
            ("attendance_weights", lambda: build_attendance_weights(con, study)),
            ("pro_change_mar", lambda: build_pro_change_mar(con, study)),
            ("adjusted_estimates_mar", lambda: build_adjusted_mar(con, study)),
            ("check weights_valid",
             lambda: run_check(con, check_named("attendance_weights", "weights_valid"), study)),
        ]
        out = []
        try:
            for name, step in steps:
                wall, cpu = time.perf_counter(), time.process_time()
                step()
                out.append((name, time.perf_counter() - wall, time.process_time() - cpu))
        finally:
            con.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    for _ in range(args.repeats):
        times = timed_steps(args.warehouse)
        three = [t for t in times if not t[0].startswith("check")]
        print(f"load {os.getloadavg()[0]:.1f}  " + "  ".join(f"{n} {w:.2f} s ({c:.2f} CPU)" for n, w, c in times)
              + f"  three steps {sum(t[1] for t in three):.2f} s ({sum(t[2] for t in three):.2f} CPU)", flush=True)


if __name__ == "__main__":
    main()
