"""Restricted mean survival time (area under the KM curve up to tau) and its standard error.

lifelines' restricted_mean_survival_time(..., return_variance=True) returns 2∫t S(t)dt − RMST², the variance
of the truncated survival time min(T, tau) in the population, not the variance of the estimate; it does
not shrink with the sample size and cannot be used for CIs or tests. We use the KM-integral (Greenwood-type)
variance that R reports for survfit(..., rmean = tau) (survival:::survmean):
    Var RMST = Σ_{t_j ≤ tau} A_j² d_j / (Y_j (Y_j − d_j)),   A_j = ∫_{t_j}^{tau} S(u) du,
with terms where Y_j = d_j set to 0, as R does.

For a case-weighted curve (the adjusted comparison, SAP 6) that formula reads the weights as patients, and R's
print(fit, rmean = tau) still reports it; `rmst_ij` gives the infinitesimal-jackknife SE instead (weights
fixed): patient k's influence on the RMST is the integral to tau of its influence on the weighted KM curve,
SE = sqrt(Σ_k influence_k²). lifelines is not used: it has no infinitesimal-jackknife variance for weighted
curves (its weighted KM treats weights as frequencies, see pipeline.survival.weighted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from pipeline.survival.km import KaplanMeier
from pipeline.survival.weighted import km_hazard_pieces


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


def _rectangles(curve: KaplanMeier, tau: float) -> tuple[float, np.ndarray, np.ndarray]:
    """(start, rectangles, keep): the area under the step curve to tau is start + Σ rectangles, where
    rectangles[0] is the area before the first curve time (S = 1) and rectangles[j + 1] = S_j × (width from
    curve time j to the next curve time or tau) for the curve times j ≤ tau (`keep`)."""
    t = curve.table
    start = min(0.0, float(t.time[0])) if t.time.size else 0.0
    keep = t.time <= tau
    times = np.append(t.time[keep], tau)
    surv_before = np.concatenate([[1.0], curve.surv[keep]])  # S on [previous time, this time)
    return start, np.diff(np.concatenate([[start], times])) * surv_before, keep


def rmst(curve: KaplanMeier, tau: float) -> Rmst:
    """RMST to tau of an unweighted KM curve, with R's survmean standard error."""
    if curve.variance != "greenwood":
        # The Greenwood-type formula reads weighted counts as patients; see pipeline.survival.weighted.
        raise ValueError("rmst() needs an unweighted (Greenwood) curve; use rmst_ij for weights")
    t = curve.table
    start, rectangles, keep = _rectangles(curve, tau)
    estimate = float(rectangles.sum() + start)

    d, y = t.events_any()[keep], t.at_risk[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(y - d == 0, 0.0, d / (y * (y - d)))
    # Area from each curve time to tau: the rectangles after it, summed from the end.
    area_after = np.cumsum(rectangles[1:][::-1])[::-1]
    return Rmst(float(tau), estimate, float(np.sqrt(np.sum(area_after**2 * h))))


def _rmst_brackets(curve: KaplanMeier, tau: float) -> tuple[float, np.ndarray, np.ndarray]:
    """(estimate, censored, event): a patient's influence on the RMST divided by its weight, for a patient
    censored / with an event at each curve time. Closed form by cumulative sums (no patients × times matrix):
    with A_j = S_j × width_j (rectangle j, 0 beyond tau), the influence of a patient at curve time m is
        w Σ_j A_j [C_{min(m, j)} − δ 1{m ≤ j} jump_m] = w [P_{m−1} + C_m R_m − δ R_m jump_m],
    P_{m−1} = Σ_{j < m} A_j C_j (rectangles before m), R_m = Σ_{j ≥ m} A_j (area from t_m to tau)."""
    start, rectangles, keep = _rectangles(curve, tau)
    area = np.zeros(curve.time.size)
    area[keep] = rectangles[1:]  # the S = 1 rectangle before the first time moves with nobody's weight
    c, jump = km_hazard_pieces(curve.table)
    before = np.concatenate([[0.0], np.cumsum(area * c)[:-1]])
    after = np.cumsum(area[::-1])[::-1]
    censored = before + c * after
    return float(rectangles.sum() + start), censored, censored - after * jump


def rmst_ij(curve: KaplanMeier, tau: float) -> Rmst:
    """RMST to tau of a (case-weighted) KM curve with the infinitesimal-jackknife SE, weights fixed:
    sqrt(Σ_k influence_k²), which equals R's survfit(..., weights = w, robust = TRUE, influence = TRUE)
    $influence.surv integrated over the curve's steps to tau, squared and summed. Needs only the per-time sums
    of squared weights of the risk table."""
    estimate, censored, event = _rmst_brackets(curve, tau)
    t = curve.table
    var = np.sum(t.w2_censored * censored**2 + t.w2_events.sum(axis=1) * event**2)
    return Rmst(float(tau), estimate, float(np.sqrt(var)))


def rmst_influence(curve: KaplanMeier, time: ArrayLike, event: ArrayLike, weights: ArrayLike | None,
                   tau: float) -> np.ndarray:
    """Each patient's influence on the RMST (the rows the curve was fitted on): R's integrated
    influence.surv. rmst_ij's SE is the root of the sum of their squares; this per-patient form is for
    checks and for the coverage study."""
    _, censored, evented = _rmst_brackets(curve, tau)
    t = np.asarray(time, dtype=float)
    w = np.ones(t.size) if weights is None else np.asarray(weights, dtype=float)
    m = np.searchsorted(curve.time, t)
    return w * np.where(np.asarray(event) > 0, evented[m], censored[m])


def rmst_difference(a: Rmst, b: Rmst, level: float = 0.95) -> RmstDifference:
    """a − b for independent groups (two arms): variances add; normal CI and two-sided p-value."""
    if a.tau != b.tau:
        raise ValueError("RMSTs to different taus cannot be compared")
    est = a.estimate - b.estimate
    se = float(np.hypot(a.se, b.se))
    z = norm.ppf(1 - (1 - level) / 2)
    p = float(2 * norm.sf(abs(est) / se)) if se > 0 else float("nan")
    return RmstDifference(est, se, est - z * se, est + z * se, p)
