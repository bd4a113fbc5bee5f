"""Counts per distinct time: the one pass over patient rows that KM, log-rank, Aalen–Johansen and RMST need.

Every estimator of this package that allows it works on this table instead of on patient rows, so a
1,000,000-patient cohort costs one sort (np.unique) and a few bincounts, and the fits themselves loop over at
most a few thousand distinct days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class RiskTable:
    """Per distinct time (ascending): weighted and unweighted numbers at risk, events per cause, censored.

    `events` has one column per cause (status 1..k); `at_risk` counts everyone whose time is ≥ the row's time
    (R's n.risk). `w2_*` are sums of squared weights, needed by the weighted-KM variances.
    """

    time: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    censored: np.ndarray
    n_at_risk: np.ndarray
    n_events: np.ndarray
    n_censored: np.ndarray
    w2_at_risk: np.ndarray
    w2_events: np.ndarray
    w2_censored: np.ndarray
    weighted: bool

    @property
    def n(self) -> int:
        """Patients in the table."""
        return int(self.n_at_risk[0]) if self.time.size else 0

    def events_any(self) -> np.ndarray:
        """Weighted events of any cause per time."""
        return self.events.sum(axis=1)


def risk_table(time: ArrayLike, status: ArrayLike, weights: ArrayLike | None = None, causes: int = 1) -> RiskTable:
    """Aggregate patient rows (time, status 0 = censored / 1..causes = event of that cause, weight)."""
    t = np.asarray(time, dtype=float)
    s = np.asarray(status).astype(np.int64)
    if t.ndim != 1 or t.shape != s.shape:
        raise ValueError("time and status must be 1-d arrays of the same length")
    if not np.all(np.isfinite(t)):
        raise ValueError("times must be finite")
    if s.size and (s.min() < 0 or s.max() > causes):
        raise ValueError(f"status must be 0 (censored) or a cause 1..{causes}")
    weighted = weights is not None
    w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != t.shape or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite, non-negative and one per row")

    uniq, inverse = np.unique(t, return_inverse=True)
    m, k = uniq.size, causes + 1
    cell = inverse * k + s

    def per_cell(values: np.ndarray | None) -> np.ndarray:
        return np.bincount(cell, weights=values, minlength=m * k).reshape(m, k).astype(float)

    wsum, count, w2 = per_cell(w), per_cell(None), per_cell(w * w)
    return RiskTable(
        time=uniq,
        at_risk=_from_the_end(wsum.sum(axis=1)),
        events=wsum[:, 1:],
        censored=wsum[:, 0],
        n_at_risk=_from_the_end(count.sum(axis=1)),
        n_events=count[:, 1:],
        n_censored=count[:, 0],
        w2_at_risk=_from_the_end(w2.sum(axis=1)),
        w2_events=w2[:, 1:],
        w2_censored=w2[:, 0],
        weighted=weighted,
    )


def _from_the_end(x: np.ndarray) -> np.ndarray:
    """Sum over rows at or after each row: the risk set is everyone whose time is ≥ t."""
    return np.cumsum(x[::-1])[::-1]
