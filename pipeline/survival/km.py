"""Kaplan–Meier estimator with R's log(−log) confidence intervals, at-risk tables and median.

Matches R's `survfit(Surv(time, status) ~ 1, conf.type = "log-log")`: the curve has a row per distinct time
(events and censorings), the estimate at day d includes events on day d, the number at risk at d counts
times ≥ d and events/censored are counted over (previous day, d], as `summary(fit, times = d)` does.

Unweighted curves use Greenwood's variance. Case-weighted curves (the adjusted comparison of SAP section 6)
take one of the two variances of pipeline.survival.weighted; lifelines' weighted KM treats weights as
frequencies in Greenwood's formula, which overstates the information of a pseudo-population and gives CIs
that are too narrow, so it is not used for weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from pipeline.survival.risktable import RiskTable, risk_table
from pipeline.survival.weighted import robust_var_log, xie_liu_var_log

Variance = Literal["greenwood", "robust", "xie-liu"]
_TOL = np.sqrt(np.finfo(float).eps)  # R's tolerance for "the curve equals 0.5"


@dataclass(frozen=True)
class AtTimes:
    """The curve read at chosen days (SAP section 4 reporting)."""

    day: np.ndarray
    surv: np.ndarray
    se: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    at_risk: np.ndarray  # patients whose time is ≥ day
    events: np.ndarray  # patients with an event in (previous day, day]
    censored: np.ndarray  # patients censored in (previous day, day]


@dataclass(frozen=True)
class KaplanMeier:
    table: RiskTable
    surv: np.ndarray
    var_log: np.ndarray  # variance of log S(t) (R's std.err squared); inf once S reaches 0
    variance: Variance

    @property
    def time(self) -> np.ndarray:
        return self.table.time

    @property
    def se(self) -> np.ndarray:
        """Standard error of S(t) (R's summary std.err); 0 once the curve has reached 0."""
        with np.errstate(invalid="ignore"):
            se = self.surv * np.sqrt(self.var_log)
        return np.where(self.surv > 0, se, 0.0)

    def confidence_interval(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        return loglog_interval(self.surv, self.var_log, level)

    def at(self, days: ArrayLike, level: float = 0.95) -> AtTimes:
        d = np.asarray(days, dtype=float)
        if np.any(np.diff(d) <= 0):
            raise ValueError("days must be increasing")
        t = self.table
        last = np.searchsorted(t.time, d, side="right") - 1  # last curve time ≤ d
        seen = last >= 0
        pick = np.where(seen, last, 0)
        lower, upper = self.confidence_interval(level)
        surv = np.where(seen, self.surv[pick], 1.0)
        first = np.searchsorted(t.time, d, side="left")  # first time ≥ d: its risk set is everyone ≥ d
        at_risk = np.append(t.n_at_risk, 0.0)[first]
        cum_events = np.concatenate([[0.0], np.cumsum(t.n_events.sum(axis=1))])[last + 1]
        cum_censored = np.concatenate([[0.0], np.cumsum(t.n_censored)])[last + 1]
        return AtTimes(
            day=d, surv=surv, se=np.where(seen, self.se[pick], 0.0),
            # Before the curve's first time S = 1 for certain: R's summary(fit, times) reports the CI [1, 1]
            # there (and NA at a later time where S is still 1 after censorings: the log(−log) CI of S = 1).
            lower=np.where(seen, lower[pick], 1.0), upper=np.where(seen, upper[pick], 1.0),
            at_risk=at_risk.astype(np.int64),
            events=np.diff(cum_events, prepend=0.0).astype(np.int64),
            censored=np.diff(cum_censored, prepend=0.0).astype(np.int64),
        )

    def median(self, level: float = 0.95) -> tuple[float, float, float]:
        """Median and its CI as R's print(survfit): the first time each of the curve, its lower and its
        upper confidence limit is ≤ 0.5 (lower curve → lower limit); NaN where a curve never gets there.
        The CI therefore has the log(−log) shape of the curve's CI (Brookmeyer–Crowley by inversion)."""
        lower, upper = self.confidence_interval(level)
        return (_first_below_half(self.surv, self.time), _first_below_half(lower, self.time),
                _first_below_half(upper, self.time))


def kaplan_meier(time: ArrayLike, event: ArrayLike, weights: ArrayLike | None = None,
                 variance: Variance | None = None) -> KaplanMeier:
    """KM of (time, event 0/1[, case weights]). Default variance: Greenwood without weights, the robust
    (infinitesimal jackknife) one with weights, as R's survfit chooses for non-integer weights.
    Patients of weight 0 (not drawn in a bootstrap replicate, outside the overlap population) are left out
    (SAP 6 v2): the curve, its variance and the numbers at risk are those of the other patients."""
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if np.any(w == 0):
            keep = w != 0  # negative or non-finite weights still reach risk_table's refusal
            time, event, weights = np.asarray(time)[keep], np.asarray(event)[keep], w[keep]
    table = risk_table(time, event, weights)
    return kaplan_meier_from_table(table, variance or ("robust" if table.weighted else "greenwood"))


def kaplan_meier_from_table(table: RiskTable, variance: Variance = "greenwood") -> KaplanMeier:
    """KM of an aggregated risk table (cause columns pooled as one event)."""
    d, y = table.events_any(), table.at_risk
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(d > 0, 1.0 - d / y, 1.0))
        if variance == "greenwood":
            var_log = np.cumsum(np.where(d > 0, d / (y * (y - d)), 0.0))
        elif variance == "xie-liu":
            var_log = xie_liu_var_log(table)
        elif variance == "robust":
            var_log = robust_var_log(table, surv)
        else:
            raise ValueError(f"unknown variance {variance!r}")
    return KaplanMeier(table, surv, np.where(surv > 0, var_log, np.inf), variance)


def loglog_interval(surv: np.ndarray, var_log: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """R's conf.type = "log-log": symmetric on log(−log S); undefined (NaN) where S is 0 or 1, as in R."""
    z = norm.ppf(1 - (1 - level) / 2)
    s = np.where((surv > 0) & (surv < 1), surv, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = z * np.sqrt(var_log) / np.log(s)
        lower = np.exp(-np.exp(np.log(-np.log(s)) - half))
        upper = np.exp(-np.exp(np.log(-np.log(s)) + half))
    return lower, upper


def _first_below_half(curve: np.ndarray, time: np.ndarray) -> float:
    """R's survmean minmin(): first time the curve is ≤ 0.5; if it sits exactly at 0.5 there, the midpoint
    between that time and the next time it drops below (R's convention for a flat median)."""
    keep = ~np.isnan(curve) & (curve < 0.5 + _TOL)
    if not keep.any():
        return float("nan")
    x, y = time[keep], curve[keep]
    if abs(y[0] - 0.5) < _TOL and np.any(y < y[0]):
        return float((x[0] + x[np.argmax(y < y[0])]) / 2)
    return float(x[0])


def curve_median(time: ArrayLike, surv: ArrayLike) -> float:
    """Median of a stored curve (one row per time, increasing): the rule of `KaplanMeier.median` (R's), so a
    curve read back from a table gives the same median as the fitted curve; NaN when it never reaches 0.5."""
    return _first_below_half(np.asarray(surv, dtype=float), np.asarray(time, dtype=float))
