"""Adjusted and unadjusted between-arm estimates of SAP section 6, from patient-level data and one weight per
patient. Every adjusted estimate has an unadjusted twin computed by the same estimator with unit weights.

- mean change difference per instrument and visit (outcomes.pro_changes), responder risk difference per
  instrument and visit, satisfaction risk difference at the primary visit, complication risk difference:
  weighted difference with a sandwich SE (robust.py; adjusted: plus the part that accounts for the estimated
  propensity model, ps_variance.py);
- reintervention hazard ratio: Cox (Efron ties) with the weights, Lin–Wei robust SE (adjusted); the
  unadjusted twin is the ordinary Cox fit with its model-based SE (as durability.reintervention_comparison).
- return-to-activity hazard ratio (the "faster recovery" claim, SAP 7): the same estimator on the time to
  return to normal activity (HR > 1: treated patients return sooner). Its adjusted CI is always the robust
  one, also when the bootstrap is selected: SAP 7 states the claim's rule on the robust CI.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from pipeline.comparison.ps_variance import (
    CI_METHOD,
    PropensityTerms,
    corrected_difference,
    variance_corrections,
    with_estimated_weights,
)
from pipeline.comparison.robust import Z95, grouped_differences, weighted_difference
from pipeline.survival import cox_efron
from pipeline.survival.cox_robust import robust_variance

Key = tuple[str, str, str, str]  # (outcome, instrument, visit, measure)
ESTIMATE_COLUMNS = ("outcome", "instrument", "visit", "visit_ordinal", "measure", "adjustment", "estimate", "se",
                    "ci_lower", "ci_upper", "p_value", "n_treatment", "n_comparator", "value_treatment",
                    "value_comparator", "ci_method", "weights", "balance_achieved")


@dataclass
class ComparisonData:
    """Everything the estimates need, aligned on the rows of `patients` (one per analysis patient).

    patients: treated (bool), complication (0/1), reintervention_time, reintervention_event.
    changes: row (index into patients), instrument, visit, visit_ordinal, change, responder.
    satisfaction: row, satisfied (0/1) at the primary visit, primary definition.
    """

    patients: pd.DataFrame
    changes: pd.DataFrame
    satisfaction: pd.DataFrame
    primary_visit: str = "M12"
    _groups: dict | None = field(default=None, repr=False)

    @property
    def treated(self) -> np.ndarray:
        return self.patients["treated"].to_numpy(dtype=bool)

    def change_groups(self) -> dict[tuple[str, str, int], np.ndarray]:
        """(instrument, visit, ordinal) -> row positions in `changes`; computed once (bootstrap reuses it)."""
        if self._groups is None:
            grouped = self.changes.groupby(["instrument", "visit", "visit_ordinal"], sort=True).indices
            self._groups = {k: np.asarray(v) for k, v in grouped.items()}
        return self._groups


def _differences(data: ComparisonData, w: np.ndarray, changes: list | None = None,
                 terms: PropensityTerms | None = None) -> list[tuple[Key, int | None, object]]:
    """Every difference estimate as (key, visit ordinal, Difference). `changes`: the change and responder
    differences already computed (from sums in SQL, pipeline/comparison/cohort.py) instead of from
    data.changes. `terms`: the fitted propensity model of the weights `w`; given, every SE accounts for the
    model's estimation (ps_variance.py), else the weights are treated as fixed."""
    treated = data.treated
    out: list[tuple[Key, int | None, object]] = list(changes or [])
    if changes is None:
        out += _change_differences(data, w, terms)
    s = data.satisfaction["row"].to_numpy()
    satisfied = data.satisfaction["satisfied"].to_numpy(dtype=float)
    complication = data.patients["complication"].to_numpy(dtype=float)
    satisfaction = weighted_difference(satisfied, treated[s], w[s])
    complications = weighted_difference(complication, treated, w)
    if terms is not None:
        satisfaction = corrected_difference(terms, satisfaction, s, satisfied)
        complications = corrected_difference(terms, complications, np.arange(treated.size), complication)
    out.append((("satisfaction", "", data.primary_visit, "risk_difference"), None, satisfaction))
    out.append((("complication", "", "", "risk_difference"), None, complications))
    return out


def _change_differences(data: ComparisonData, w: np.ndarray, terms: PropensityTerms | None = None
                        ) -> list[tuple[Key, int | None, object]]:
    treated = data.treated
    out: list[tuple[Key, int | None, object]] = []
    groups = data.change_groups()
    rows = data.changes["row"].to_numpy()
    group = np.full(rows.size, -1, dtype=np.int64)
    for k, idx in enumerate(groups.values()):
        group[idx] = k
    t_rows, w_rows = treated[rows], w[rows]
    changes = grouped_differences(data.changes["change"].to_numpy(dtype=float), t_rows, w_rows, group, len(groups))
    responders = grouped_differences(data.changes["responder"].to_numpy(dtype=float), t_rows, w_rows, group,
                                     len(groups))
    del t_rows, w_rows
    if terms is not None:
        outcomes = data.changes[["change", "responder"]].to_numpy(dtype=float).T
        delta, positive = variance_corrections(terms, rows, group, outcomes, len(groups))
        for j, found in enumerate((changes, responders)):
            found[:] = [with_estimated_weights(d, float(delta[j, k]), int(positive[j, k]))
                        for k, d in enumerate(found)]
    for ((instrument, visit, ordinal), _), change, responder in zip(groups.items(), changes, responders,
                                                                    strict=True):
        out.append((("pro_change", instrument, visit, "mean_change_difference"), int(ordinal), change))
        out.append((("responder", instrument, visit, "risk_difference"), int(ordinal), responder))
    return out


@dataclass(frozen=True)
class HazardRatio:
    estimate: float
    se_log: float
    lower: float
    upper: float
    p_value: float
    n_treatment: int
    n_comparator: int
    events_treatment: float
    events_comparator: float


def hazard_ratio(time: np.ndarray, event: np.ndarray, treated: np.ndarray, weights: np.ndarray | None,
                 robust: bool) -> HazardRatio:
    """Cox HR of treatment (Efron ties); robust: Lin–Wei sandwich SE, else model-based. NaN (not estimable)
    without patients or events in an arm; patients without a time (not in the data set) are left out."""
    known = ~np.isnan(time) & ~np.isnan(event)  # patients outside the time-to-event data set
    if not known.all():
        time, event, treated = time[known], event[known], treated[known]
        weights = None if weights is None else weights[known]
    nt, nc = int(treated.sum()), int((~treated).sum())
    w = np.ones(time.size) if weights is None else weights
    events_t, events_c = float(np.sum((w * event)[treated])), float(np.sum((w * event)[~treated]))
    if nt == 0 or nc == 0 or event.sum() == 0 or events_t == 0 or events_c == 0:
        # No event in an arm: the HR is 0 or infinite (no finite MLE); report it as not estimable.
        return HazardRatio(math.nan, math.nan, math.nan, math.nan, math.nan, nt, nc, events_t, events_c)
    x = treated.astype(float).reshape(-1, 1)
    try:
        fit = cox_efron(time, event, x, weights)
        var = robust_variance(fit, time, event, x, weights)[0, 0] if robust else fit.var[0, 0]
    except (np.linalg.LinAlgError, ValueError, ArithmeticError):
        # A singular information matrix: no event time has both arms at risk (the HR is 0 or infinite).
        return HazardRatio(math.nan, math.nan, math.nan, math.nan, math.nan, nt, nc, events_t, events_c)
    b = float(fit.coef[0])
    if not (fit.converged and math.isfinite(b) and math.isfinite(var) and var > 0):
        # Monotone likelihood (R: "coefficient may be infinite"): no finite MLE to report.
        return HazardRatio(math.nan, math.nan, math.nan, math.nan, math.nan, nt, nc, events_t, events_c)
    se = math.sqrt(var)
    return HazardRatio(math.exp(b), se, math.exp(b - Z95 * se), math.exp(b + Z95 * se),
                       float(2 * norm.sf(abs(b / se))), nt, nc, events_t, events_c)


def reintervention_hr(data: ComparisonData, w: np.ndarray | None, robust: bool) -> HazardRatio:
    p = data.patients
    return hazard_ratio(p["reintervention_time"].to_numpy(dtype=float),
                        p["reintervention_event"].to_numpy(dtype=float), data.treated, w, robust)


RETURN_HR_KEY: Key = ("return_to_activity", "", "", "hazard_ratio")


def return_hr(data: ComparisonData, w: np.ndarray | None, robust: bool) -> HazardRatio | None:
    """HR of returning to activity, treatment vs comparator; None when the patients carry no return times
    (a ComparisonData built without them, e.g. by the coverage benchmark)."""
    p = data.patients
    if "return_to_activity_time" not in p.columns:
        return None
    return hazard_ratio(p["return_to_activity_time"].to_numpy(dtype=float),
                        p["return_to_activity_event"].to_numpy(dtype=float), data.treated, w, robust)


def is_ratio(key: Key) -> bool:
    """A ratio estimate (its bootstrap interval is normal on the log scale)."""
    return key[3] == "hazard_ratio"


def point_estimates(data: ComparisonData, w: np.ndarray) -> dict[Key, float]:
    """The adjusted point estimates only (what a bootstrap replicate needs)."""
    values = {key: d.estimate for key, _, d in _differences(data, w)}
    values[("reintervention", "", "", "hazard_ratio")] = reintervention_hr(data, w, robust=False).estimate
    return values


def estimates_table(data: ComparisonData, w: np.ndarray, *, scheme: str, balance_achieved: bool,
                    bootstrap: Callable[[], dict[Key, tuple[float, float]]] | None = None,
                    change_differences: dict[str, list] | None = None,
                    terms: PropensityTerms | None = None) -> pd.DataFrame:
    """Adjusted and unadjusted rows for every estimate. `bootstrap` (if given) returns normal bootstrap CIs of
    the adjusted estimates (bootstrap.py), which then replace the sandwich CIs. `change_differences`
    ("unadjusted"/"adjusted" -> change and responder differences), if given, replaces their computation from
    data.changes (their adjusted SEs then already include the correction, cohort.change_differences). `terms`:
    the propensity model behind `w`; given, the adjusted differences' SEs account for its estimation
    (ps_variance.py, ci_method CI_METHOD), else they treat the weights as fixed (robust_sandwich_hc1)."""
    given = change_differences or {}
    intervals = bootstrap() if bootstrap is not None else {}
    sandwich = CI_METHOD if terms is not None else "robust_sandwich_hc1"
    rows: list[dict] = []
    ones = np.ones(len(data.patients))
    adjusted = {key: (ordinal, d) for key, ordinal, d in _differences(data, w, given.get("adjusted"), terms)}
    for key, ordinal, d in _differences(data, ones, given.get("unadjusted")):
        for adjustment, est in (("unadjusted", d), ("adjusted", adjusted[key][1])):
            lower, upper = est.lower, est.upper
            method = sandwich if adjustment == "adjusted" else "robust_sandwich_hc1"
            if adjustment == "adjusted" and bootstrap is not None:
                lower, upper = intervals.get(key, (math.nan, math.nan))
                method = "bootstrap_normal"
            rows.append(_row(key, ordinal, adjustment, est.estimate, est.se, lower, upper, est.p_value,
                             est.n_treatment, est.n_comparator, est.mean_treatment, est.mean_comparator,
                             method, scheme, balance_achieved))
    key = ("reintervention", "", "", "hazard_ratio")
    for adjustment, hr in (("unadjusted", reintervention_hr(data, None, robust=False)),
                           ("adjusted", reintervention_hr(data, w, robust=True))):
        lower, upper = hr.lower, hr.upper
        method = "model_based_wald" if adjustment == "unadjusted" else "robust_lin_wei"
        if adjustment == "adjusted" and bootstrap is not None:
            lower, upper = intervals.get(key, (math.nan, math.nan))
            method = "bootstrap_normal"
        rows.append(_row(key, None, adjustment, hr.estimate, hr.se_log, lower, upper, hr.p_value, hr.n_treatment,
                         hr.n_comparator, hr.events_treatment, hr.events_comparator, method, scheme,
                         balance_achieved))
    rows += _return_hr_rows(data, w, scheme, balance_achieved)
    return pd.DataFrame(rows, columns=list(ESTIMATE_COLUMNS))


def _return_hr_rows(data: ComparisonData, w: np.ndarray, scheme: str, balance_achieved: bool) -> list[dict]:
    """The return-to-activity HR, unadjusted (model-based) and adjusted (weights, robust CI)."""
    rows = []
    for adjustment, hr in (("unadjusted", return_hr(data, None, robust=False)),
                           ("adjusted", return_hr(data, w, robust=True))):
        if hr is None:
            return []
        method = "model_based_wald" if adjustment == "unadjusted" else "robust_lin_wei"
        rows.append(_row(RETURN_HR_KEY, None, adjustment, hr.estimate, hr.se_log, hr.lower, hr.upper, hr.p_value,
                         hr.n_treatment, hr.n_comparator, hr.events_treatment, hr.events_comparator, method, scheme,
                         balance_achieved))
    return rows


def _row(key: Key, ordinal: int | None, adjustment: str, estimate: float, se: float, lower: float, upper: float,
         p: float, nt: int, nc: int, vt: float, vc: float, method: str, scheme: str,
         balance_achieved: bool) -> dict:
    outcome, instrument, visit, measure = key
    return {
        "outcome": outcome, "instrument": instrument or None, "visit": visit or None, "visit_ordinal": ordinal,
        "measure": measure, "adjustment": adjustment, "estimate": estimate, "se": se, "ci_lower": lower,
        "ci_upper": upper, "p_value": p, "n_treatment": nt, "n_comparator": nc, "value_treatment": vt,
        "value_comparator": vc, "ci_method": method,
        "weights": scheme if adjustment == "adjusted" else "none",
        # The gate (SAP 6) concerns the weighted comparison; an unadjusted estimate does not claim balance.
        "balance_achieved": balance_achieved if adjustment == "adjusted" else None,
    }
