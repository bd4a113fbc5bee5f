"""A nightly refresh in a child process, optionally SIGKILLed at a chosen point (crash-safety tests).

    python -m tests.hostile.child ROOT LANDING [POINT] [HOLD_SECONDS]

ROOT holds w.duckdb and site/ (tests.hostile.runs.settings_for). POINT is one of CRASH_POINTS, or 'hold'
(sleep HOLD_SECONDS inside ingest, holding the writer lock, after printing 'holding'), or 'none'. The hooks are
monkeypatches installed here, in the child only: production code is unchanged.
"""

import os
import signal
import sys
import time
from pathlib import Path

CRASH_POINTS = {
    "ingest_in_transaction": "inside the write transaction of the 3rd drop, after its patients were inserted",
    "ingest_between_drops": "after the 2nd drop committed, before the 3rd is looked at",
    "staging": "when the staging model pro_visits starts (ingest done, analysis tables half rebuilt)",
    "publish_files": "report files written, before the refresh folder is renamed into refreshes/",
    "publish_latest": "new refresh folder in place, before the `latest` link is swapped",
    "publish_index": "`latest` swapped, before index.html is replaced",
}


def _die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def install(point: str, reports: Path, hold_seconds: float = 0.0) -> None:
    import assets.staging
    import pipeline.ingest.run as ingest_run

    if point == "ingest_in_transaction":
        original_load = ingest_run.load_file
        calls = {"n": 0}

        def load_file(*args, **kwargs):
            result = original_load(*args, **kwargs)
            calls["n"] += 1
            if calls["n"] == 7:  # 3 files per drop: the 3rd drop's patients.csv is in, the transaction open
                _die()
            return result

        ingest_run.load_file = load_file
    elif point in ("ingest_between_drops", "hold"):
        original_apply = ingest_run._apply_drop
        drops = {"n": 0}

        def apply_drop(*args, **kwargs):
            if point == "hold" and drops["n"] == 0:
                print("holding", flush=True)
                time.sleep(hold_seconds)
                drops["n"] = 1
            outcome = original_apply(*args, **kwargs)
            if point == "ingest_between_drops" and outcome.status == "ingested":
                drops["n"] += 1
                if drops["n"] == 2:
                    _die()
            return outcome

        ingest_run._apply_drop = apply_drop
    elif point == "staging":
        original_build = assets.staging.build_model

        def build_model(con, name, *args, **kwargs):
            if name == "pro_visits":
                _die()
            return original_build(con, name, *args, **kwargs)

        assets.staging.build_model = build_model
    elif point.startswith("publish_"):
        target = {"publish_files": None, "publish_latest": "latest", "publish_index": "index.html"}[point]
        reports = reports.resolve()

        def fires(dst) -> bool:
            dst = Path(dst).absolute()
            if reports not in dst.parents:
                return False
            if target is None:
                return dst.parent.name == "refreshes" and not dst.name.startswith(".")
            return dst.name == target and dst.parent == reports

        for name in ("rename", "replace"):
            original = getattr(os, name)

            def hooked(src, dst, *args, _original=original, **kwargs):
                if fires(dst):
                    _die()
                return _original(src, dst, *args, **kwargs)

            setattr(os, name, hooked)
    elif point != "none":
        raise SystemExit(f"unknown point {point}")


def main(argv: list[str]) -> int:
    root, landing = Path(argv[0]), Path(argv[1])
    point = argv[2] if len(argv) > 2 else "none"
    hold = float(argv[3]) if len(argv) > 3 else 0.0
    import dagster as dg

    from tests.hostile.runs import run_job, settings_for

    settings = settings_for(root, landing)
    install(point, settings.reports, hold)
    result = run_job(settings, dg.DagsterInstance.ephemeral(), raise_on_error=False)
    print("success" if result.success else "failure", flush=True)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
