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


def aalen_johansen(time: ArrayLike, status: ArrayLike, causes: int = 2,
                   weights: ArrayLike | None = None) -> CumulativeIncidence:
    """status: 0 censored, 1..causes the event that ended follow-up."""
    table = risk_table(time, status, weights, causes)
    d, y = table.events, table.at_risk
    event_free = np.cumprod(1.0 - d.sum(axis=1) / y)
    before = np.concatenate([[1.0], event_free[:-1]])
    incidence = np.cumsum(before[:, None] * d / y[:, None], axis=0)
    return CumulativeIncidence(table, event_free, incidence)
