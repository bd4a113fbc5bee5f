"""The durability analyses of SAP section 4: read an analysis data set, fit per arm, write result tables.

No Dagster here: each function takes a DuckDB connection, writes its durability.* tables (typed by
sql/durability_<table>.sql) and returns the row count and the key numbers for asset metadata.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from pipeline.survival.cif import CumulativeIncidence, aalen_johansen
from pipeline.survival.cox import cox_efron
from pipeline.survival.datasets import load, write
from pipeline.survival.km import KaplanMeier, kaplan_meier
from pipeline.survival.logrank import logrank
from pipeline.survival.rmst import rmst, rmst_difference
from pipeline.survival.turnbull import turnbull
from pipeline.survival.zph import cox_zph
from pipeline.warehouse import transaction

ARMS = ("treatment", "comparator")
KM_DAYS = (365, 730, 1095, 1461, 1826)  # SAP 4: yearly to five years
DURABLE_DAYS = (365, 730, 1826)  # SAP 4.2
RECOVERY_DAYS = (14, 28)  # SAP 4.3

KM_COLUMNS = ("arm", "procedure", "day", "survival", "se", "ci_lower", "ci_upper", "at_risk", "events", "censored")
CURVE_COLUMNS = ("arm", "procedure", "time", "at_risk", "events", "censored", "survival", "se", "ci_lower",
                 "ci_upper")
CIF_COLUMNS = ("arm", "procedure", "day", "cumulative_incidence", "death_cumulative_incidence", "at_risk")
CIF_CURVE_COLUMNS = ("arm", "procedure", "time", "at_risk", "events", "competing", "censored", "cumulative_incidence",
                     "se", "ci_lower", "ci_upper", "death_cumulative_incidence")
DURABLE_CURVE_COLUMNS = ("arm", "procedure", "time", "probability", "at_risk", "patients")
TURNBULL_COLUMNS = ("arm", "procedure", "day", "probability", "patients", "exact", "interval_censored",
                    "right_censored", "iterations", "converged")
RECOVERY_COLUMNS = ("arm", "procedure", "measure", "day", "estimate", "ci_lower", "ci_upper", "patients", "events",
                    "at_risk")


@dataclass(frozen=True)
class Materialized:
    rows: int
    numbers: dict[str, float] = field(default_factory=dict)


def reintervention_km(con: duckdb.DuckDBPyConnection, days: Sequence[int] = KM_DAYS,
                      level: float = 0.95) -> Materialized:
    data = load(con, "reintervention_dataset", ["arm", "procedure", "time", "event"])
    summary, curves, numbers = [], [], {}
    for arm, procedure, sel in _arms(data):
        km = kaplan_meier(data["time"][sel], data["event"][sel])
        at = km.at(days, level)
        summary.append(pd.DataFrame({
            "arm": arm, "procedure": procedure, "day": at.day, "survival": at.surv, "se": at.se,
            "ci_lower": at.lower, "ci_upper": at.upper, "at_risk": at.at_risk, "events": at.events,
            "censored": at.censored}))
        curves.append(_curve_frame(arm, procedure, km, level))
        numbers |= {f"freedom_{int(days[-1])}_{procedure}": at.surv[-1],
                    f"freedom_{int(days[-1])}_{procedure}_ci_lower": at.lower[-1],
                    f"freedom_{int(days[-1])}_{procedure}_ci_upper": at.upper[-1]}
    with _transaction(con):
        rows = write(con, "reintervention_km", _concat(summary, KM_COLUMNS))
        write(con, "reintervention_km_curve", _concat(curves, CURVE_COLUMNS))
    return Materialized(rows, numbers)


def reintervention_comparison(con: duckdb.DuckDBPyConnection, tau: float, level: float = 0.95) -> Materialized:
    """Log-rank, Cox HR (treatment vs comparator) with the PH test, RMST to tau per arm and difference."""
    data = load(con, "reintervention_dataset", ["arm", "procedure", "time", "event"])
    arms = _arms(data)
    if [a for a, _, _ in arms] != list(ARMS):
        raise ValueError("the comparison needs patients in both arms")
    time, event = data["time"], data["event"]
    x = (data["arm"] == "treatment").astype(float)
    test = logrank(time, event, data["arm"])
    cox = cox_efron(time, event, x)
    if not cox.converged:
        raise ValueError("the Cox model did not converge (e.g. no events in one arm)")
    zph = cox_zph(time, event, x, cox)
    lower, upper = cox.ci(level)
    rows = [
        _row("logrank", statistic=test.chisq, df=test.df, p_value=test.p_value),
        _row("cox_hr", estimate=cox.hazard_ratio[0], se=cox.se[0], ci_lower=lower[0], ci_upper=upper[0],
             statistic=cox.coef[0] / cox.se[0], p_value=cox.p_value[0]),
        _row("ph_test", statistic=zph.global_chisq, df=zph.global_df, p_value=zph.global_p),
    ]
    by_arm = {}
    for arm, procedure, sel in arms:
        by_arm[arm] = rmst(kaplan_meier(time[sel], event[sel]), tau)
        lo, hi = by_arm[arm].ci(level)
        rows.append(_row("rmst", arm=arm, procedure=procedure, estimate=by_arm[arm].estimate,
                         se=by_arm[arm].se, ci_lower=lo, ci_upper=hi, tau=tau))
    diff = rmst_difference(by_arm["treatment"], by_arm["comparator"], level)
    rows.append(_row("rmst_difference", estimate=diff.estimate, se=diff.se, ci_lower=diff.lower,
                     ci_upper=diff.upper, p_value=diff.p_value, tau=tau))
    n = write(con, "reintervention_comparison", pd.DataFrame(rows))
    return Materialized(n, {
        "hazard_ratio": cox.hazard_ratio[0], "hazard_ratio_ci_lower": lower[0], "hazard_ratio_ci_upper": upper[0],
        "cox_p": cox.p_value[0], "logrank_p": test.p_value, "ph_test_p": zph.global_p,
        "rmst_difference_days": diff.estimate, "rmst_difference_ci_lower": diff.lower,
        "rmst_difference_ci_upper": diff.upper})


def reintervention_cif(con: duckdb.DuckDBPyConnection, days: Sequence[int] = KM_DAYS,
                       level: float = 0.95) -> Materialized:
    data = load(con, "reintervention_dataset", ["arm", "procedure", "time", "event", "competing_event"])
    status = data["event"] + 2 * data["competing_event"]
    frames, curves, numbers = [], [], {}
    for arm, procedure, sel in _arms(data):
        fit = aalen_johansen(data["time"][sel], status[sel], causes=2)
        incidence, at_risk = fit.at(days)
        frames.append(pd.DataFrame({
            "arm": arm, "procedure": procedure, "day": list(days), "cumulative_incidence": incidence[:, 0],
            "death_cumulative_incidence": incidence[:, 1], "at_risk": at_risk}))
        curves.append(_cif_curve_frame(arm, procedure, fit, level))
        numbers[f"cumulative_incidence_{int(days[-1])}_{procedure}"] = incidence[-1, 0]
    with _transaction(con):
        rows = write(con, "reintervention_cif", _concat(frames, CIF_COLUMNS))
        write(con, "reintervention_cif_curve", _concat(curves, CIF_CURVE_COLUMNS))
    return Materialized(rows, numbers)


def durable_response_turnbull(con: duckdb.DuckDBPyConnection, days: Sequence[int] = DURABLE_DAYS) -> Materialized:
    data = load(con, "durable_response_dataset", ["arm", "procedure", "included", "left_day", "right_day"])
    frames, curves, numbers = [], [], {}
    for arm, procedure, sel in _arms(data):
        use = sel & np.asarray(data["included"], dtype=bool)
        left = _floats(data["left_day"])[use]
        right = _floats(data["right_day"])[use]
        if left.size == 0:
            continue
        fit = turnbull(left, right)
        probability = fit.surv_at(days)
        exact, censored = int(np.sum(left == right)), int(np.sum(np.isnan(right)))
        frames.append(pd.DataFrame({
            "arm": arm, "procedure": procedure, "day": list(days), "probability": probability,
            "patients": left.size, "exact": exact, "interval_censored": left.size - exact - censored,
            "right_censored": censored, "iterations": fit.iterations, "converged": fit.converged}))
        # Still observed in durable response at t: left bound ≥ t (exact failures, intervals and censorings).
        still = left.size - np.searchsorted(np.sort(left), fit.time, side="left")
        curves.append(pd.DataFrame({
            "arm": arm, "procedure": procedure, "time": fit.time, "probability": fit.surv, "at_risk": still,
            "patients": left.size}))
        numbers[f"durable_response_{int(days[-1])}_{procedure}"] = probability[-1]
    with _transaction(con):
        rows = write(con, "durable_response_turnbull", _concat(frames, TURNBULL_COLUMNS))
        write(con, "durable_response_curve", _concat(curves, DURABLE_CURVE_COLUMNS))
    return Materialized(rows, numbers)


def return_to_activity_km(con: duckdb.DuckDBPyConnection, days: Sequence[int] = RECOVERY_DAYS,
                          level: float = 0.95) -> Materialized:
    data = load(con, "return_to_activity_dataset", ["arm", "procedure", "time", "event"])
    rows, curves, numbers = [], [], {}
    for arm, procedure, sel in _arms(data):
        km = kaplan_meier(data["time"][sel], data["event"][sel])
        patients, events = int(sel.sum()), int(data["event"][sel].sum())
        median, lo, hi = km.median(level)
        rows.append({"arm": arm, "procedure": procedure, "measure": "median_days", "day": None, "estimate": median,
                     "ci_lower": lo, "ci_upper": hi, "patients": patients, "events": events, "at_risk": None})
        at = km.at(days, level)
        for i, day in enumerate(at.day):
            # Share back = 1 − KM; its CI is 1 − the curve's CI limits (upper limit ↔ lower share).
            rows.append({"arm": arm, "procedure": procedure, "measure": "share_back", "day": int(day),
                         "estimate": 1.0 - at.surv[i], "ci_lower": 1.0 - at.upper[i], "ci_upper": 1.0 - at.lower[i],
                         "patients": patients, "events": events, "at_risk": int(at.at_risk[i])})
            numbers[f"back_by_day_{int(day)}_{procedure}"] = 1.0 - at.surv[i]
        numbers[f"median_days_{procedure}"] = median
        curves.append(_curve_frame(arm, procedure, km, level))
    with _transaction(con):
        n = write(con, "return_to_activity_km", pd.DataFrame(rows, columns=list(RECOVERY_COLUMNS)))
        write(con, "return_to_activity_km_curve", _concat(curves, CURVE_COLUMNS))
    return Materialized(n, numbers)


def _arms(data: dict[str, np.ndarray]) -> list[tuple[str, str, np.ndarray]]:
    """(arm, procedure code, row mask) for each arm with patients, treatment first."""
    out = []
    for arm in ARMS:
        sel = data["arm"] == arm
        if sel.any():
            out.append((arm, str(data["procedure"][sel][0]), sel))
    return out


def _curve_frame(arm: str, procedure: str, km: KaplanMeier, level: float) -> pd.DataFrame:
    lower, upper = km.confidence_interval(level)
    t = km.table
    return pd.DataFrame({"arm": arm, "procedure": procedure, "time": t.time, "at_risk": t.n_at_risk,
                         "events": t.n_events.sum(axis=1), "censored": t.n_censored, "survival": km.surv,
                         "se": km.se, "ci_lower": lower, "ci_upper": upper})


def _cif_curve_frame(arm: str, procedure: str, fit: CumulativeIncidence, level: float) -> pd.DataFrame:
    """The whole cumulative-incidence curve of reintervention: one row per distinct time (events of either
    cause or censorings), with its delta-method SE and log(−log) CI."""
    lower, upper = fit.confidence_interval(1, level)
    t = fit.table
    return pd.DataFrame({"arm": arm, "procedure": procedure, "time": t.time, "at_risk": t.n_at_risk,
                         "events": t.n_events[:, 0], "competing": t.n_events[:, 1], "censored": t.n_censored,
                         "cumulative_incidence": fit.incidence[:, 0], "se": np.sqrt(fit.variance(1)),
                         "ci_lower": lower, "ci_upper": upper, "death_cumulative_incidence": fit.incidence[:, 1]})


def _row(measure: str, **values: object) -> dict[str, object]:
    keys = ("arm", "procedure", "estimate", "se", "ci_lower", "ci_upper", "statistic", "df", "p_value", "tau")
    return {"measure": measure, **{k: values.get(k) for k in keys}}


def _floats(values: np.ndarray) -> np.ndarray:
    """A column with NULLs (a masked array from DuckDB) as floats with NaN."""
    return np.ma.filled(np.ma.asarray(values).astype(float), np.nan)


def _concat(frames: list[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """The frames stacked; with none (no patient in either arm) an empty table of the right columns."""
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(columns))


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Tables written together (a summary and its curve) are replaced together or not at all."""
    with transaction(con):
        yield
