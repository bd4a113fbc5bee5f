"""Confidence intervals of SAP sections 3 and 5.

- Wilson score interval for a proportion (Wilson 1927; Newcombe 1998a, method 3), via statsmodels
  `proportion_confint(method="wilson")`.
- Newcombe's hybrid score interval for a difference of two independent proportions (Newcombe 1998b,
  method 10: the two Wilson intervals combined), via statsmodels
  `confint_proportions_2indep(method="newcomb", compare="diff")`.
- Student t interval for a mean: mean ± t(1 − α/2, n − 1) · sd / √n.

Every function takes plain numbers or numpy arrays and returns NaN where an interval is undefined (n = 0,
or n < 2 for the t interval) rather than raising, so a whole table of groups can be done at once.
tests/test_outcomes_intervals.py checks each against published worked examples.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

CONFIDENCE = 0.95  # every interval of the SAP and of the results contract is 95%


def wilson_interval(
    successes: ArrayLike, n: ArrayLike, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (without continuity correction) for successes / n; NaN where n = 0."""
    x = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    defined = m > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        lower, upper = proportion_confint(x, np.where(defined, m, 1.0), alpha=1 - confidence, method="wilson")
    # At x = 0 the lower limit is exactly 0 and at x = n the upper is exactly 1; floating point leaves a few
    # ulps (6.9e-18 for 0/50), which would make "lower limit = 0" tests and displays wrong.
    lower = np.where(x <= 0, 0.0, np.clip(lower, 0.0, 1.0))
    upper = np.where(x >= m, 1.0, np.clip(upper, 0.0, 1.0))
    return np.where(defined, lower, np.nan), np.where(defined, upper, np.nan)


def newcombe_interval(
    x1: int, n1: int, x2: int, n2: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Newcombe hybrid score interval for x1/n1 − x2/n2; (NaN, NaN) when either n is 0."""
    if n1 <= 0 or n2 <= 0:
        return (float("nan"), float("nan"))
    lower, upper = confint_proportions_2indep(
        x1, n1, x2, n2, method="newcomb", compare="diff", alpha=1 - confidence
    )
    return (float(lower), float(upper))


def t_interval(
    mean: ArrayLike, sd: ArrayLike, n: ArrayLike, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Student t interval for a mean from its sample mean, sample SD (n − 1 denominator) and n; NaN where
    n < 2 (no SD, no degrees of freedom)."""
    mu = np.asarray(mean, dtype=float)
    s = np.asarray(sd, dtype=float)
    m = np.asarray(n, dtype=float)
    defined = m >= 2
    df = np.where(defined, m - 1, 1.0)
    half = stats.t.ppf(0.5 + confidence / 2, df) * s / np.sqrt(np.where(defined, m, 1.0))
    return np.where(defined, mu - half, np.nan), np.where(defined, mu + half, np.nan)
