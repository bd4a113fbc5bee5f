"""Cumulative incidence with competing risks: the Aalen–Johansen estimator, deterministic in ties.

lifelines' AalenJohansenFitter breaks ties between the event of interest and other events by adding random
jitter to the times, so two runs on the same data can differ and none equals the estimator with ties
(warned about, but not avoidable). The SAP wants the estimate reproducible. With all events of a day handled
in one step, the estimator for causes k = 1..K from the event-free state is
    S(t) = Π_{s ≤ t} (1 − d(s) / Y(s)),   F_k(t) = Σ_{s ≤ t} S(s−) d_k(s) / Y(s),
with d = Σ_k d_k, which is what R's multi-state survfit(Surv(time, factor(status)) ~ 1) computes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from pipeline.survival.risktable import RiskTable, risk_table


@dataclass(frozen=True)
class CumulativeIncidence:
    table: RiskTable
    event_free: np.ndarray  # S(t): no event of any cause yet
    incidence: np.ndarray  # (times, causes): F_k(t)

    @property
    def time(self) -> np.ndarray:
        return self.table.time

    def at(self, days: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """F_k at each day (rows: days, columns: causes; events on the day included) and the number of
        patients at risk (time ≥ day)."""
        d = np.asarray(days, dtype=float)
        last = np.searchsorted(self.time, d, side="right") - 1
        padded = np.vstack([np.zeros((1, self.incidence.shape[1])), self.incidence])
        first = np.searchsorted(self.time, d, side="left")
        return padded[last + 1], np.append(self.table.n_at_risk, 0.0)[first].astype(np.int64)

    def variance(self, cause: int = 1) -> np.ndarray:
        """Greenwood-type (delta-method) variance of F_cause at each time (Collett, Modelling Survival Data,
        3rd ed., p. 411; SAS PROC LIFETEST; lifelines' AalenJohansenFitter), with d = events of any cause:
            Var F(t) = Σ_{s≤t} (F(t) − F(s))² d(s) / (Y(s)(Y(s) − d(s))) + Σ_{s≤t} S(s−)² d_k(s)(Y(s) − d_k(s)) / Y(s)³
                       − 2 Σ_{s≤t} (F(t) − F(s)) S(s−) d_k(s) / Y(s)².
        The sums over s are expanded in powers of F(t) so that every time costs O(1). Unweighted tables only;
        NaN from the time on where everybody left at risk has an event (Y = d)."""
        if self.table.weighted:
            raise ValueError("the delta-method variance is for unweighted data")
        f = self.incidence[:, cause - 1]
        y, d, dk = self.table.at_risk, self.table.events.sum(axis=1), self.table.events[:, cause - 1]
        before = np.concatenate([[1.0], self.event_free[:-1]])
        with np.errstate(divide="ignore", invalid="ignore"):
            c1 = np.where(d > 0, d / (y * (y - d)), 0.0)
        a, b, c = np.cumsum(c1), np.cumsum(c1 * f), np.cumsum(c1 * f * f)
        second = np.cumsum(before**2 * dk * (y - dk) / y**3)
        c3 = before * dk / y**2
        third = np.cumsum(c3) * f - np.cumsum(c3 * f)
        with np.errstate(invalid="ignore"):  # inf − inf once Y = d: NaN, as documented
            var = f * f * a - 2 * f * b + c + second - 2 * third
        return np.where(np.isfinite(var), np.maximum(var, 0.0), np.nan)

    def confidence_interval(self, cause: int = 1, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise CI of F_cause on the log(−log) scale (stays inside (0, 1)); NaN where F is 0 or 1 or the
        variance is undefined, as for the KM curve."""
        f = self.incidence[:, cause - 1]
        z = float(norm.ppf(0.5 + level / 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            log_f = np.log(f)
            se = np.sqrt(self.variance(cause)) / (f * np.abs(log_f))
            lower = np.exp(-np.exp(np.log(-log_f) + z * se))
            upper = np.exp(-np.exp(np.log(-log_f) - z * se))
        ok = (f > 0) & (f < 1) & np.isfinite(se)
        return np.where(ok, lower, np.nan), np.where(ok, upper, np.nan)


def aalen_johansen(time: ArrayLike, status: ArrayLike, causes: int = 2,
                   weights: ArrayLike | None = None) -> CumulativeIncidence:
    """status: 0 censored, 1..causes the event that ended follow-up."""
    table = risk_table(time, status, weights, causes)
    d, y = table.events, table.at_risk
    event_free = np.cumprod(1.0 - d.sum(axis=1) / y)
    before = np.concatenate([[1.0], event_free[:-1]])
    incidence = np.cumsum(before[:, None] * d / y[:, None], axis=0)
    return CumulativeIncidence(table, event_free, incidence)
