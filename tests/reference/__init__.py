"""R reference values (make_reference.R) and the data sets they were computed on (make_data.py).

The JSON files hold R's numbers as written by R (17 significant digits, NA as null); `values` turns any
of them into a float array with NaN for NA, so a scalar and a one-element vector read alike.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

# Agreement required with R (issue 4): 4 decimals for estimates, 2% for standard errors.
ESTIMATE_ATOL = 5e-5
SE_RTOL = 0.02


@cache
def reference(name: str) -> dict:
    return json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))


def data(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / f"{name}.csv")


def values(x: object) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in np.atleast_1d(np.asarray(x, dtype=object))], dtype=float)


# Right-censored data sets of the one-sample analyses: reference file -> (csv, time, event, group column).
SURVIVAL_DATA_SETS = {
    "rossi": ("rossi", "week", "arrest", "fin"),
    "waltons": ("waltons", "T", "E", "group"),
    "lung": ("lung", "time", "status", "sex"),
    "generated": ("generated_competing", "time", "reintervention", "arm"),
}


def survival_data(name: str) -> tuple[pd.DataFrame, str, str, str]:
    """A data set of SURVIVAL_DATA_SETS and its time, event and group columns. In the generated one the event
    is a reintervention (status 1); a death (status 2) censors, as in the KM and Cox analyses."""
    csv, time_col, event_col, group_col = SURVIVAL_DATA_SETS[name]
    frame = data(csv)
    if event_col == "reintervention":
        frame[event_col] = (frame["status"] == 1).astype(int)
    return frame, time_col, event_col, group_col


def survival_group(name: str, group: str) -> tuple[pd.Series, pd.Series]:
    """Times and event flags of one group of a data set of SURVIVAL_DATA_SETS."""
    frame, time_col, event_col, group_col = survival_data(name)
    rows = frame[frame[group_col].astype(str) == group]
    return rows[time_col], rows[event_col]


def survival_cases() -> list[tuple[str, str]]:
    """(data set, group) pairs that R reported a curve for."""
    return [(name, group) for name in SURVIVAL_DATA_SETS for group in reference(name)["groups"]]
