"""Write the data sets that tests/reference/make_reference.R reads, so that R and the tests use the same rows.

    .venv/bin/python tests/reference/make_data.py        # then: Rscript tests/reference/make_reference.R

Public data sets shipped with lifelines (MIT licence; see README.md here for their sources) are copied as they
are; two generated data sets (fixed seed) add what the public ones lack: integer days with many ties,
reintervention and death as competing events on the same days, non-integer case weights, and
interval-censored rows built like the durable-response data set (exact, (left, right], right-censored).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from lifelines.datasets import load_diabetes, load_lung, load_rossi, load_waltons

HERE = Path(__file__).resolve().parent
SEED = 20261123
VISIT_DAYS = (42, 91, 182, 365, 730, 1095, 1461, 1826)


def competing(rng: np.random.Generator, n: int = 600) -> pd.DataFrame:
    """Two arms; reintervention (status 1) and death (status 2) on a 30-day grid, so that events of both
    kinds and censorings share days; censoring uniform, horizon 1826; a few patients censored on day 0."""
    arm = np.repeat([0, 1], n // 2)
    reint = rng.exponential(np.where(arm == 1, 4000.0, 6000.0))
    death = rng.exponential(9000.0, n)
    censor = rng.uniform(0, 2400, n)
    censor[rng.random(n) < 0.02] = 0.0
    grid = lambda x: np.floor(x / 30.0) * 30.0  # noqa: E731 - ties on purpose
    reint, death, censor = grid(reint), grid(death), np.minimum(grid(censor), 1826.0)
    time = np.minimum(np.minimum(reint, death), censor)
    status = np.where(reint <= np.minimum(death, censor), 1, np.where(death <= censor, 2, 0))
    weight = np.round(rng.uniform(0.15, 1.85, n), 6)
    return pd.DataFrame({"time": time.astype(int), "status": status, "arm": arm, "weight": weight})


def interval(rng: np.random.Generator, n: int = 500) -> pd.DataFrame:
    """Rows as the durable-response data set builds them: visits near the SAP target days (some missed),
    failure seen at the first visit after it or exactly at a reintervention; right-censored at the last
    visit otherwise."""
    rows = []
    for _ in range(n):
        t_fail = rng.exponential(1500.0)
        exact = rng.random() < 0.3
        days = [d + int(rng.integers(-20, 21)) for d in VISIT_DAYS if rng.random() < 0.85]
        last_good = 0
        left, right = None, None
        for day in days:
            if exact and t_fail <= day:
                left = right = float(np.ceil(t_fail))
                break
            if t_fail <= day:
                left, right = float(last_good), float(day)
                break
            last_good = day
        else:
            if exact and t_fail <= 1826:
                left = right = float(np.ceil(t_fail))
            elif days:
                left, right = float(last_good), None
            else:
                continue
        rows.append({"left": left, "right": right})
    return pd.DataFrame(rows)


def main() -> None:
    rng = np.random.default_rng(SEED)
    load_rossi().to_csv(HERE / "rossi.csv", index=False)
    load_waltons().to_csv(HERE / "waltons.csv", index=False)
    load_lung()[["time", "status", "sex", "age"]].to_csv(HERE / "lung.csv", index=False)
    load_diabetes().to_csv(HERE / "diabetes.csv", index=False)
    competing(rng).to_csv(HERE / "generated_competing.csv", index=False)
    interval(rng).to_csv(HERE / "generated_interval.csv", index=False)


if __name__ == "__main__":
    main()
