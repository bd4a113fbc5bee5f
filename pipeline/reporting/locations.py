"""Print where a refresh put its outputs (run by `make run` after the job)."""

from __future__ import annotations

import os

from pipeline.reporting.publish import LATEST
from pipeline.settings import Settings


def main() -> None:
    s = Settings.from_env()
    latest = s.reports / LATEST / "comparative.html"
    print(f"warehouse: {s.warehouse}")
    print(f"report:    {latest if latest.exists() else '(not published: see the run log above)'}")
    print(f"data:      {s.reports / LATEST / 'data_quality.html'}")
    print(f"index:     {s.reports / 'index.html'}")
    print(f"landing:   {s.landing}")
    print(f"dagster:   {os.environ.get('DAGSTER_HOME', '(DAGSTER_HOME not set)')}  (make ui to browse runs)")


if __name__ == "__main__":
    main()
