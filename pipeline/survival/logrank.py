"""Two-group log-rank test (R's survdiff, rho = 0) by lifelines, on counts aggregated by distinct time.

lifelines' logrank_test is correct here (hypergeometric variance with ties, as survdiff), so it is called;
we only hand it one row per (time, event) and group with the count as an integer frequency weight, which
leaves the statistic unchanged (it depends on the data only through the numbers at risk and events per
time) and keeps the call fast for a million patients.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from lifelines.statistics import logrank_test
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class LogRank:
    chisq: float
    df: int
    p_value: float


def logrank(time: ArrayLike, event: ArrayLike, group: ArrayLike) -> LogRank:
    """Log-rank test between the two groups of `group` (any two distinct values)."""
    t = np.asarray(time, dtype=float)
    e = np.asarray(event).astype(np.int64)
    g = np.asarray(group)
    levels = np.unique(g)
    if levels.size != 2:
        raise ValueError(f"log-rank needs exactly two groups, got {levels.size}")
    parts = [_frequencies(t[g == level], e[g == level]) for level in levels]
    return _test(parts)


def logrank_from_counts(groups: list[tuple[ArrayLike, ArrayLike, ArrayLike]]) -> LogRank:
    """The same test from two groups already counted per distinct time: (time, events, censored) each, e.g.
    the rows of a KM curve table, so a report needs no patient-level row."""
    if len(groups) != 2:
        raise ValueError(f"log-rank needs exactly two groups, got {len(groups)}")
    parts = []
    for time, events, censored in groups:
        t = np.asarray(time, dtype=float)
        d, c = np.asarray(events, dtype=float), np.asarray(censored, dtype=float)
        keep_d, keep_c = d > 0, c > 0
        parts.append((np.concatenate([t[keep_d], t[keep_c]]),
                      np.concatenate([np.ones(int(keep_d.sum()), dtype=int), np.zeros(int(keep_c.sum()), dtype=int)]),
                      np.concatenate([d[keep_d], c[keep_c]])))
    return _test(parts)


def _frequencies(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (time, event) rows and how many patients each stands for."""
    uniq, inverse = np.unique(time, return_inverse=True)
    counts = np.bincount(inverse * 2 + (event > 0), minlength=2 * uniq.size).reshape(-1, 2)
    cell_time, cell_event = np.nonzero(counts)
    return uniq[cell_time], cell_event, counts[cell_time, cell_event].astype(float)


def _test(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> LogRank:
    """lifelines' test on two groups of (time, event, count) rows."""
    with warnings.catch_warnings():
        # The counts are integer weights; lifelines' note about weights does not apply.
        warnings.simplefilter("ignore")
        result = logrank_test(parts[0][0], parts[1][0], parts[0][1], parts[1][1],
                              weights_A=parts[0][2], weights_B=parts[1][2])
    return LogRank(float(result.test_statistic), 1, float(result.p_value))
