"""Safety and care (SAP section 5).

- Complication within the window (default 90 days): patients with any COMPLICATION on a day <= window / all
  patients of the arm, Wilson 95% CI; treatment − comparator difference with Newcombe's hybrid score 95% CI.
- Same-day discharge: share with los_days = 0 among patients with los_days given (Wilson 95% CI); mean, SD,
  median and quartiles of the length of stay.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.outcomes.built import Built, estimate_with_ci, with_rates
from pipeline.outcomes.intervals import newcombe_interval
from pipeline.outcomes.store import query, record_parameters, replace_table, transaction
from pipeline.study import Study

COMPLICATIONS = "complication_rates"
DIFFERENCE = "complication_difference"
DISCHARGE = "discharge_summary"


def complication_difference(rates: pd.DataFrame, study: Study) -> pd.DataFrame:
    """One row: treatment − comparator risk difference with its Newcombe hybrid score 95% CI."""
    by_role = rates.set_index("arm_role")
    t, c = by_role.loc["treatment"], by_role.loc["comparator"]
    lower, upper = newcombe_interval(int(t["events"]), int(t["n"]), int(c["events"]), int(c["n"]))
    estimate = t["rate"] - c["rate"] if t["n"] > 0 and c["n"] > 0 else float("nan")
    return pd.DataFrame([{
        "treatment": study.treatment, "comparator": study.comparator,
        "window_days": study.complication_window_days,
        "estimate": float(estimate), "ci_lower": lower, "ci_upper": upper, "method": "newcombe_hybrid_score",
    }])


def build_complication_rates(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    """outcomes.complication_rates (one row per arm) and outcomes.complication_difference (one row)."""
    counts = query(con, "outcomes_complication_counts",
                   [study.treatment, study.comparator, study.complication_window_days])
    counts.insert(2, "window_days", study.complication_window_days)
    rates = with_rates(counts, "events")
    difference = complication_difference(rates, study)
    with transaction(con):
        rows = replace_table(con, COMPLICATIONS, rates)
        replace_table(con, DIFFERENCE, difference)
        record_parameters(con, COMPLICATIONS, study)
    headline: dict[str, float] = {}
    for r in rates.itertuples():
        headline |= estimate_with_ci(f"{r.arm} complication {r.window_days}d", r.rate, r.ci_lower, r.ci_upper)
        headline[f"{r.arm} patients"] = float(r.n)
    d = difference.iloc[0]
    headline |= estimate_with_ci(f"complication difference {study.treatment} - {study.comparator}",
                                 d["estimate"], d["ci_lower"], d["ci_upper"])
    return Built(COMPLICATIONS, f"outcomes.{COMPLICATIONS}", rows, headline)


def build_discharge_summary(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    """outcomes.discharge_summary: one row per arm."""
    frame = with_rates(query(con, "outcomes_discharge", [study.treatment, study.comparator]), "same_day")
    with transaction(con):
        rows = replace_table(con, DISCHARGE, frame)
        record_parameters(con, DISCHARGE, study)
    headline: dict[str, float] = {}
    for r in frame.itertuples():
        headline |= estimate_with_ci(f"{r.arm} same-day discharge", r.rate, r.ci_lower, r.ci_upper)
        headline |= {k: v for k, v in ((f"{r.arm} mean LOS", r.mean_los), (f"{r.arm} median LOS", r.median_los))
                     if pd.notna(v)}
    return Built(DISCHARGE, f"outcomes.{DISCHARGE}", rows, headline)
