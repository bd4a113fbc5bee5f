"""Restricted mean survival time (area under the KM curve up to tau) and its standard error.

lifelines' restricted_mean_survival_time(..., return_variance=True) returns 2∫t S(t)dt − RMST², the variance
of the truncated survival time min(T, tau) in the population, not the variance of the estimate; it does
not shrink with the sample size and cannot be used for CIs or tests. We use the KM-integral (Greenwood-type)
variance that R reports for survfit(..., rmean = tau) (survival:::survmean):
    Var RMST = Σ_{t_j ≤ tau} A_j² d_j / (Y_j (Y_j − d_j)),   A_j = ∫_{t_j}^{tau} S(u) du,
with terms where Y_j = d_j set to 0, as R does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from pipeline.survival.km import KaplanMeier


@dataclass(frozen=True)
class Rmst:
    tau: float
    estimate: float
    se: float

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        z = norm.ppf(1 - (1 - level) / 2)
        return self.estimate - z * self.se, self.estimate + z * self.se


@dataclass(frozen=True)
class RmstDifference:
    estimate: float
    se: float
    lower: float
    upper: float
    p_value: float


def rmst(curve: KaplanMeier, tau: float) -> Rmst:
    """RMST to tau of an unweighted KM curve, with R's survmean standard error."""
    if curve.variance != "greenwood":
        # The Greenwood-type formula reads weighted counts as patients; see pipeline.survival.weighted.
        raise ValueError("rmst() needs an unweighted (Greenwood) curve")
    t = curve.table
    start = min(0.0, float(t.time[0])) if t.time.size else 0.0
    keep = t.time <= tau
    times = np.append(t.time[keep], tau)
    surv_before = np.concatenate([[1.0], curve.surv[keep]])  # S on [previous time, this time)
    rectangles = np.diff(np.concatenate([[start], times])) * surv_before
    estimate = float(rectangles.sum() + start)

    d, y = t.events_any()[keep], t.at_risk[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(y - d == 0, 0.0, d / (y * (y - d)))
    # Area from each curve time to tau: the rectangles after it, summed from the end.
    area_after = np.cumsum(rectangles[1:][::-1])[::-1]
    return Rmst(float(tau), estimate, float(np.sqrt(np.sum(area_after**2 * h))))


def rmst_difference(a: Rmst, b: Rmst, level: float = 0.95) -> RmstDifference:
    """a − b for independent groups (two arms): variances add; normal CI and two-sided p-value."""
    if a.tau != b.tau:
        raise ValueError("RMSTs to different taus cannot be compared")
    est = a.estimate - b.estimate
    se = float(np.hypot(a.se, b.se))
    z = norm.ppf(1 - (1 - level) / 2)
    p = float(2 * norm.sf(abs(est) / se)) if se > 0 else float("nan")
    return RmstDifference(est, se, est - z * se, est + z * se, p)
