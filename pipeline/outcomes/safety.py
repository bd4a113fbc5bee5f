"""Safety and care (SAP section 5).

- Complication within the window (default 90 days): patients with any COMPLICATION on a day <= window / all
  patients of the arm, Wilson 95% CI; treatment − comparator difference with Newcombe's hybrid score 95% CI.
- Same-day discharge: share with los_days = 0 among patients with los_days given (Wilson 95% CI); mean, SD,
  median and quartiles of the length of stay.

Both tables keep one row per arm. An arm without patients (or, for discharge, without a los_days) has n = 0
and its rate, CI and LOS statistics NULL, and the asset records why (pipeline/outcomes/gaps.py); the
difference needs patients in both arms, else its estimate and CI are NULL with a recorded gap.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.estimable import Gap, missing_arm, record_gaps
from pipeline.outcomes import gaps as g
from pipeline.outcomes.built import estimate_with_ci, with_rates
from pipeline.outcomes.intervals import newcombe_interval
from pipeline.outcomes.store import record_parameters, transaction
from pipeline.sql import query
from pipeline.study import Study
from pipeline.warehouse import Built, write_table

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


def complication_gaps(rates: pd.DataFrame) -> list[Gap]:
    """An arm without patients has no rate; the difference needs patients in both arms."""
    patients = {r.arm: int(r.n) for r in rates.itertuples()}
    out = [Gap(g.member("complications.rates", arm), g.no_patients(arm)) for arm, n in patients.items() if n == 0]
    reason = missing_arm(patients, none=g.NEITHER_ARM)
    if reason is not None:
        out.append(Gap("complications.difference.unadjusted", reason))
    return out


def discharge_gaps(frame: pd.DataFrame) -> list[Gap]:
    """An arm without patients, or whose patients all lack los_days, has no discharge numbers."""
    return [Gap(g.member("discharge", r.arm), g.no_patients(r.arm) if r.patients == 0 else g.NO_LOS)
            for r in frame.itertuples() if r.n == 0]


def _store(con: duckdb.DuckDBPyConnection, asset: str, frames: dict[str, pd.DataFrame], study: Study,
           gaps: list[Gap]) -> dict[str, int]:
    """Write an asset's tables with its study parameters and gaps in one transaction, so no reader sees a
    table without the parameters and gaps it was built with; rows written per table."""
    with transaction(con):
        rows = {name: write_table(con, name, frame) for name, frame in frames.items()}
        record_parameters(con, asset, study)
        record_gaps(con, asset, gaps)
    return rows


def build_complication_rates(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    """outcomes.complication_rates (one row per arm) and outcomes.complication_difference (one row)."""
    counts = query(con, "outcomes/complication_counts", treatment=study.treatment, comparator=study.comparator,
                   window_days=study.complication_window_days, complication_event=study.events.complication)
    counts.insert(2, "window_days", study.complication_window_days)
    rates = with_rates(counts, "events")
    difference = complication_difference(rates, study)
    gaps = complication_gaps(rates)
    tables = _store(con, COMPLICATIONS, {f"outcomes.{COMPLICATIONS}": rates, f"outcomes.{DIFFERENCE}": difference},
                    study, gaps)
    headline: dict[str, float] = {}
    for r in rates.itertuples():
        headline |= estimate_with_ci(f"{r.arm} complication {r.window_days}d", r.rate, r.ci_lower, r.ci_upper)
        headline[f"{r.arm} patients"] = float(r.n)
    d = difference.iloc[0]
    headline |= estimate_with_ci(f"complication difference {study.treatment} - {study.comparator}",
                                 d["estimate"], d["ci_lower"], d["ci_upper"])
    return Built(COMPLICATIONS, tables, headline, gaps=tuple(gaps))


def build_discharge_summary(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    """outcomes.discharge_summary: one row per arm."""
    counts = sql.query(con, "outcomes/discharge", treatment=study.treatment, comparator=study.comparator)
    frame = with_rates(counts, "same_day")
    gaps = discharge_gaps(frame)
    tables = _store(con, DISCHARGE, {f"outcomes.{DISCHARGE}": frame}, study, gaps)
    headline: dict[str, float] = {}
    for r in frame.itertuples():
        headline |= estimate_with_ci(f"{r.arm} same-day discharge", r.rate, r.ci_lower, r.ci_upper)
        headline |= {k: v for k, v in ((f"{r.arm} mean LOS", r.mean_los), (f"{r.arm} median LOS", r.median_los))
                     if pd.notna(v)}
    return Built(DISCHARGE, tables, headline, gaps=tuple(gaps))
