"""The estimates of SAP 3.1 under missing at random: attendance-weighted means with a sandwich CI, and the
closed-form tipping point of the delta adjustment.

Weighted mean: Σ w y / Σ w over the eligible assessed patients of one arm (w: attendance weights,
pipeline/outcomes/attendance.py; 1 under complete case). Its variance is the robust sandwich of the
intercept-only weighted least squares fit, the weights treated as fixed (SAP 3.1):
    HC0 = Σ w² (y − ȳ)² / (Σ w)²,  HC1 = HC0 · n / (n − 1),
what statsmodels' WLS(y, 1, weights=w).fit(cov_type="HC1") reports (tested); 95% CI ȳ ± z₀.₉₇₅ · SE (normal,
as statsmodels' robust covariance). A rate is the weighted mean of a 0/1 outcome; its CI is clipped to
[0, 1]. With unit weights this is the mean with the n − 1 variance, i.e. the complete-case mean with a
z instead of a t quantile.

Tipping point (delta adjustment): if the eligible patients who were not assessed had changes δ worse than
similar assessed patients (MAR), the weighted mean over all eligible patients moves by δ × s, s = share of
eligible patients not assessed, and so does its CI. δ* is the δ at which the CI limit nearest the null (or a
claim's threshold) reaches it: δ* = |threshold − limit| / s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

Z95 = float(norm.ppf(0.975))


@dataclass(frozen=True)
class WeightedMean:
    estimate: float
    se: float
    lower: float
    upper: float
    n: int  # assessed patients (rows with y)


def weighted_means(y: ArrayLike, weights: ArrayLike, group: ArrayLike, n_groups: int,
                   rate: bool = False) -> list[WeightedMean]:
    """The weighted mean of every group at once (rows with y or weight missing left out): one bincount per
    sum. Two passes (the mean, then the spread around it), so the variance has no cancellation. A group
    with no row has estimate NaN; with one row, or all y equal, no CI (a degenerate sandwich would claim
    certainty). `rate`: the CI is clipped to [0, 1]."""
    v = np.asarray(y, dtype=float)
    w = np.asarray(weights, dtype=float)
    g = np.asarray(group, dtype=np.int64)
    ok = ~np.isnan(v) & ~np.isnan(w)
    v, w, g = v[ok], w[ok], g[ok]
    count = np.bincount(g, minlength=n_groups)
    sw = np.bincount(g, weights=w, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(g, weights=w * v, minlength=n_groups) / sw
        spread = np.bincount(g, weights=(w * (v - mean[g])) ** 2, minlength=n_groups) / sw**2
    # All y of a group equal (e.g. every patient a responder): the spread is exactly 0, not the rounding
    # noise of y − mean, so the CI is "none" on every run.
    low, high = np.full(n_groups, np.inf), np.full(n_groups, -np.inf)
    np.minimum.at(low, g, v)
    np.maximum.at(high, g, v)
    spread[low == high] = 0.0
    return [from_sums(int(count[k]), float(sw[k]), float(mean[k]), float(spread[k]) * float(sw[k]) ** 2, rate)
            for k in range(n_groups)]


def from_sums(n: int, sum_w: float | None, mean: float | None, spread: float | None,
              rate: bool = False) -> WeightedMean:
    """The weighted mean with its HC1 95% CI from n, Σw, the weighted mean and Σ w²(y − mean)² (as summed in
    SQL, two passes: sql/outcomes/mar_change_sums.sql). No row: NaN; one row, or all y equal: no CI."""
    n = int(n)
    if n == 0 or sum_w is None or mean is None or not sum_w > 0 or not math.isfinite(mean):
        return WeightedMean(math.nan, math.nan, math.nan, math.nan, n)
    spread = math.nan if spread is None else float(spread)
    var = spread / sum_w**2 * n / (n - 1) if n > 1 else math.nan
    se = math.sqrt(var) if var > 0 else math.nan
    lower, upper = mean - Z95 * se, mean + Z95 * se
    if rate and not math.isnan(se):
        lower, upper = max(lower, 0.0), min(upper, 1.0)
    return WeightedMean(float(mean), se, lower, upper, n)


def weighted_mean(y: ArrayLike, weights: ArrayLike, rate: bool = False) -> WeightedMean:
    """weighted_means of one group."""
    v = np.asarray(y, dtype=float)
    return weighted_means(v, weights, np.zeros(v.size, dtype=np.int64), 1, rate)[0]


def tipping_point(estimate: float, ci: tuple[float, float], share_unassessed: float, threshold: float = 0.0,
                  unfavourable: int = 1) -> float | None:
    """δ* ≥ 0: the shift of the unassessed patients' outcomes, in the outcome's units and the unfavourable
    direction (`unfavourable` = +1: larger is worse, e.g. an ODI change or a treatment − comparator
    difference of ODI changes; −1: smaller is worse), at which the 95% CI limit nearest `threshold` reaches
    it. None when there is no such shift: the CI already includes the threshold, an unfavourable shift moves
    the CI away from it, nobody is unassessed (share 0), or a number is missing. `estimate` is only checked
    to lie in its CI. why_no_tipping_point says which."""
    return None if why_no_tipping_point(estimate, ci, share_unassessed, threshold, unfavourable) else \
        abs(threshold - _near_limit(ci, unfavourable)) / share_unassessed


def why_no_tipping_point(estimate: float, ci: tuple[float, float], share_unassessed: float, threshold: float = 0.0,
                         unfavourable: int = 1) -> str | None:
    """The plain reason tipping_point returns None, or None when it returns a number."""
    if unfavourable not in (1, -1):
        raise ValueError("unfavourable must be +1 or -1")
    numbers = (estimate, *ci, share_unassessed, threshold)
    if any(v is None or not math.isfinite(float(v)) for v in numbers):
        return "no estimate with a 95% CI"
    lower, upper = float(ci[0]), float(ci[1])
    if not lower <= estimate <= upper:
        raise ValueError("the estimate lies outside its CI")
    if not share_unassessed > 0:
        return "every eligible patient was assessed"
    if lower <= threshold <= upper:
        return "the 95% CI already includes the threshold"
    if (unfavourable == 1 and lower > threshold) or (unfavourable == -1 and upper < threshold):
        return "an unfavourable shift moves the 95% CI away from the threshold"
    return None


def _near_limit(ci: tuple[float, float], unfavourable: int) -> float:
    """The CI limit an unfavourable shift moves towards the threshold first."""
    return float(ci[1]) if unfavourable == 1 else float(ci[0])
