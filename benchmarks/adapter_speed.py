"""Time the REDCap adapter on a large synthetic REDCap export of our own instruments.

    .venv/bin/python -m benchmarks.adapter_speed [--patients 100000] [--work /tmp/adapter_bench]

Generates a clean contract landing (sample_data.generate --no-defects --deliveries 1), turns it into a REDCap
export (sample_data/redcap_export.py), then times `python -m pipeline.adapters redcap` end to end in-process
(read, convert, write the drop and the manifest). Prints wall times and sizes; results go in docs/adapters.md.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from pipeline.adapters.__main__ import build
from sample_data.redcap_export import build as build_export


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/adapter_bench"))
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sample_data.generate", "--patients", str(args.patients), "--seed", "1",
                    "--landing", str(args.work / "gen"), "--truth", str(args.work / "truth.json"), "--no-defects",
                    "--deliveries", "1"], check=True, capture_output=True)
    t1 = time.perf_counter()
    build_export(args.work / "gen", args.work / "rc")
    t2 = time.perf_counter()
    records = args.work / "rc" / "export" / "records.csv"
    _, conv = build("redcap", args.work / "rc" / "mapping.toml", args.work / "rc" / "export", args.work / "landing",
                    drop_id="bench")
    t3 = time.perf_counter()
    rows = sum(1 for _ in records.open()) - 1
    print(f"generate {t1 - t0:.1f} s; REDCap export {t2 - t1:.1f} s ({rows:,} records rows, "
          f"{records.stat().st_size / 1e6:.0f} MB)")
    print(f"adapter {t3 - t2:.1f} s -> {conv.report.rows}")


if __name__ == "__main__":
    main()
