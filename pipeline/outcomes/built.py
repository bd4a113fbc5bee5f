"""What building an outcomes table returns: its name, row count and headline numbers for asset metadata."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from pipeline.estimable import Gap
from pipeline.outcomes.intervals import wilson_interval


@dataclass(frozen=True)
class Built:
    asset: str
    table: str  # schema-qualified, e.g. "outcomes.satisfaction_rates"
    rows: int
    headline: dict[str, float] = field(default_factory=dict)
    # How a patient-level table was built (full or incremental, patients rebuilt); never an identifier.
    build: dict[str, str | int] = field(default_factory=dict)
    # Numbers of the table's results.json members that the data cannot give (SAP 9), as recorded with it.
    gaps: tuple[Gap, ...] = ()


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
