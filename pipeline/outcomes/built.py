"""Helpers of the outcomes builds: headline numbers for asset metadata, rows of a frame, rates with their CIs."""

from __future__ import annotations

import math

import pandas as pd

from pipeline.outcomes.intervals import wilson_interval


def estimate_with_ci(prefix: str, estimate: float, lower: float, upper: float) -> dict[str, float]:
    """Three metadata floats: '<prefix>', '<prefix> lower 95%', '<prefix> upper 95%' (undefined ones left out,
    since NaN cannot be plotted)."""
    values = {prefix: estimate, f"{prefix} lower 95%": lower, f"{prefix} upper 95%": upper}
    return {k: float(v) for k, v in values.items() if v is not None and not math.isnan(float(v))}


def rows_where(frame: pd.DataFrame, **equal: object) -> pd.DataFrame:
    """Rows of `frame` whose columns equal the given values."""
    mask = pd.Series(True, index=frame.index)
    for column, value in equal.items():
        mask &= frame[column] == value
    return frame[mask]


def with_rates(counts: pd.DataFrame, successes: str, n: str = "n") -> pd.DataFrame:
    """`counts` plus rate = successes / n and its Wilson 95% CI (ci_lower, ci_upper)."""
    out = counts.copy()
    total = out[n].astype(float)
    out["rate"] = (out[successes] / total.where(total > 0)).astype(float)
    out["ci_lower"], out["ci_upper"] = wilson_interval(out[successes], out[n])
    return out
