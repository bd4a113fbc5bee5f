"""Cumulative incidence with competing risks: the Aalen–Johansen estimator, deterministic in ties.

lifelines' AalenJohansenFitter breaks ties between the event of interest and other events by adding random
jitter to the times, so two runs on the same data can differ and none equals the estimator with ties
(warned about, but not avoidable). The SAP wants the estimate reproducible. With all events of a day handled
in one step, the estimator for causes k = 1..K from the event-free state is
    S(t) = Π_{s ≤ t} (1 − d(s) / Y(s)),   F_k(t) = Σ_{s ≤ t} S(s−) d_k(s) / Y(s),
with d = Σ_k d_k, which is what R's multi-state survfit(Surv(time, factor(status)) ~ 1) computes.

With case weights (the adjusted comparison, SAP 6) the same estimator runs on weighted counts; its variance is
then the infinitesimal jackknife (weights fixed), as R's weighted multi-state survfit reports it:
Var F(t) = Σ_k (w_k ∂F(t)/∂w_k)², computed at chosen days from per-time pieces (`ij_variance_at`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from pipeline.survival.risktable import RiskTable, risk_table
from pipeline.survival.weighted import km_hazard_pieces


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
        return incidence_interval(self.incidence[:, cause - 1], self.variance(cause), level)

    def _ij_brackets(self, days: ArrayLike, cause: int) -> tuple[np.ndarray, np.ndarray]:
        """(brackets, last): brackets[s, m, i] is the influence on F_cause(day i) of a patient at curve time m
        with status s (0 censored, 1..K its cause), divided by its weight; `last` the curve row of each day.
        With b_j = S(t_j−), a_j = d_cause,j / Y_j, C and jump of km_hazard_pieces (all-cause), m' = min(m, J):
            G_{m'} + (C_m − 1{s ≥ 1} jump_m)(F_J − F_{m'}) + 1{s = cause, m ≤ J} b_m / Y_m − H_{m'},
        G = cumsum(b a C_{j−1}), H = cumsum(b d_cause / Y²), J the last curve time ≤ the day: the derivative of
        Σ_{j ≤ J} b_j a_j through b (the patient's influence on the all-cause KM before t_j) and through a."""
        d_all = np.asarray(days, dtype=float)
        t = self.table
        y, dk = t.at_risk, t.events[:, cause - 1]
        before = np.concatenate([[1.0], self.event_free[:-1]])
        c, jump = km_hazard_pieces(t)
        c_prev = np.concatenate([[0.0], c[:-1]])
        f = self.incidence[:, cause - 1]
        g = np.cumsum(before * dk / y * c_prev)
        h = np.cumsum(before * dk / y**2)
        last = np.searchsorted(self.time, d_all, side="right") - 1  # −1: the day is before every time
        rows = np.arange(self.time.size)[:, None]
        m_ = np.minimum(rows, last[None, :])  # (m, day)
        seen = last[None, :] >= 0
        m_safe = np.where(seen, m_, 0)
        f_after = np.where(seen, f[np.maximum(last, 0)][None, :] - f[m_safe], 0.0)
        common = np.where(seen, g[m_safe] - h[m_safe], 0.0)
        out = np.empty((t.events.shape[1] + 1, self.time.size, d_all.size))
        out[0] = common + c[:, None] * f_after
        for s in range(1, t.events.shape[1] + 1):
            own = (before / y)[:, None] * (rows <= last[None, :]) if s == cause else 0.0
            out[s] = common + (c - jump)[:, None] * f_after + own
        return out, last

    def ij_variance_at(self, days: ArrayLike, cause: int = 1) -> np.ndarray:
        """Infinitesimal-jackknife variance of F_cause at each day (weights fixed): Σ_k (w_k ∂F/∂w_k)², from
        the per-time sums of squared weights (R: colSums((w × influence.pstate)²) of the weighted multi-state
        survfit). Costs (curve times × days), never patients × times."""
        brackets, _ = self._ij_brackets(days, cause)
        t = self.table
        w2 = np.column_stack([t.w2_censored, t.w2_events]).T  # (status, m)
        return np.einsum("sm,smi->i", w2, brackets**2)

    def ij_influence(self, time: ArrayLike, status: ArrayLike, weights: ArrayLike | None, days: ArrayLike,
                     cause: int = 1) -> np.ndarray:
        """(patients × days) influence on F_cause of the rows the estimate was fitted on, for checks."""
        brackets, _ = self._ij_brackets(days, cause)
        tt = np.asarray(time, dtype=float)
        w = np.ones(tt.size) if weights is None else np.asarray(weights, dtype=float)
        return w[:, None] * brackets[np.asarray(status).astype(np.int64), np.searchsorted(self.time, tt)]

    def at_with_ci(self, days: ArrayLike, cause: int = 1, level: float = 0.95
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(F, se, lower, upper) of F_cause at each day: the infinitesimal-jackknife SE for a weighted
        estimate, the delta-method one otherwise; log(−log) CI as `confidence_interval`."""
        f = self.at(days)[0][:, cause - 1]
        if self.table.weighted:
            var = self.ij_variance_at(days, cause)
        else:
            last = np.searchsorted(self.time, np.asarray(days, dtype=float), side="right") - 1
            var = np.where(last >= 0, self.variance(cause)[np.maximum(last, 0)], 0.0)
        lower, upper = incidence_interval(f, var, level)
        return f, np.sqrt(var), lower, upper


def incidence_interval(f: np.ndarray, var: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise CI of a cumulative incidence on the log(−log) scale of F (stays inside (0, 1)); NaN where F is
    0 or 1 or the variance is undefined."""
    z = float(norm.ppf(0.5 + level / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_f = np.log(f)
        se = np.sqrt(var) / (f * np.abs(log_f))
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
