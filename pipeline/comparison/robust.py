"""Weighted differences in means (and risks: the mean of a 0/1 outcome) with sandwich standard errors.

The estimate is the weighted least squares coefficient of the treatment indicator in y ~ 1 + treated, i.e.
Σ_T w y / Σ_T w − Σ_C w y / Σ_C w. Its heteroskedasticity-consistent (sandwich) variance has the closed form
    HC0 = Σ_T w² (y − ȳ_T)² / (Σ_T w)² + Σ_C w² (y − ȳ_C)² / (Σ_C w)²,
and HC1 = HC0 · n / (n − 2), what statsmodels' WLS(...).fit(cov_type="HC1") reports (tested). HC1 is the
default: a little wider in small subgroups. Patients of weight 0 (outside the overlap population, not drawn in
a bootstrap replicate) are left out of the fit (SAP 6 v2): they add nothing to the sums, and n counts only
the patients of positive weight, as R's lm(weights = w, subset = w > 0) (R's sandwich::vcovHC on an lm fit
that keeps them mixes n with and without them). The published n per arm stays the patients of the arm.
With unit weights this is the unpooled (Welch-type) variance, so
the unadjusted twin is the same estimator with w = 1.

Here the weights are treated as fixed (the propensity model's estimation is ignored): the unadjusted twins'
SE, and the HC0 component of the adjusted differences' SE, to which pipeline/comparison/ps_variance.py adds the
part that accounts for the estimated propensity model (Lunceford & Davidian 2004; Li, Morgan & Zaslavsky 2018).
The seeded bootstrap that re-fits the propensity model is the alternative (bootstrap.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

EPSILON = float(np.finfo(float).eps)
Z95 = float(norm.ppf(0.975))


@dataclass(frozen=True)
class Difference:
    estimate: float
    se: float
    lower: float
    upper: float
    n_treatment: int
    n_comparator: int
    mean_treatment: float
    mean_comparator: float

    @property
    def p_value(self) -> float:
        if not self.se > 0:
            return math.nan
        return float(2 * norm.sf(abs(self.estimate / self.se)))


def weighted_difference(y: ArrayLike, treated: ArrayLike, weights: ArrayLike | None = None,
                        hc: str = "HC1") -> Difference:
    """Treatment − comparator weighted mean difference with a Wald 95% CI from the sandwich SE."""
    v = np.asarray(y, dtype=float)
    t = np.asarray(treated).astype(bool)
    w = np.ones(v.size) if weights is None else np.asarray(weights, dtype=float)
    nt, nc = int(t.sum()), int((~t).sum())
    if nt == 0 or nc == 0 or w[t].sum() <= 0 or w[~t].sum() <= 0:
        return Difference(math.nan, math.nan, math.nan, math.nan, nt, nc, math.nan, math.nan)
    parts = []
    means = []
    for arm in (t, ~t):
        wa, ya = w[arm], v[arm]
        mean = float(np.sum(wa * ya) / np.sum(wa))
        means.append(mean)
        parts.append(float(np.sum(wa**2 * (ya - mean) ** 2) / np.sum(wa) ** 2))
    var = sum(parts)
    positive = w > 0
    return _difference(means[0], means[1], var, nt, nc, hc, int(positive.sum()))


def grouped_differences(y: ArrayLike, treated: ArrayLike, weights: ArrayLike, group: ArrayLike, n_groups: int,
                        hc: str = "HC1") -> list[Difference]:
    """weighted_difference of every group at once (rows with a missing y left out, as a caller would): one
    bincount per sum instead of masks per group, for the ~25 million change rows of a large registry."""
    v = np.asarray(y, dtype=float)
    ok = ~np.isnan(v)
    v = v[ok]
    w = np.asarray(weights, dtype=float)[ok]
    cell = np.asarray(group, dtype=np.int64)[ok] * 2 + (~np.asarray(treated, dtype=bool)[ok])
    size = 2 * n_groups
    count = np.bincount(cell, minlength=size)
    positive = np.bincount(cell, weights=(w > 0).astype(float), minlength=size)
    sw = np.bincount(cell, weights=w, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(cell, weights=w * v, minlength=size) / sw
        part = np.bincount(cell, weights=w**2 * (v - mean[cell]) ** 2, minlength=size) / sw**2
    out = []
    for g in range(n_groups):
        t, c = 2 * g, 2 * g + 1
        nt, nc = int(count[t]), int(count[c])
        if nt == 0 or nc == 0 or sw[t] <= 0 or sw[c] <= 0:
            out.append(Difference(math.nan, math.nan, math.nan, math.nan, nt, nc, math.nan, math.nan))
            continue
        out.append(_difference(float(mean[t]), float(mean[c]), float(part[t] + part[c]), nt, nc, hc,
                               int(positive[t] + positive[c])))
    return out


def difference_from_sums(treatment: tuple[float, ...], comparator: tuple[float, ...], hc: str = "HC1",
                         positive: int | None = None) -> Difference:
    """weighted_difference from per-arm sums (n, Σw, Σwy, Σw², Σw²y, Σw²y²), as aggregated in SQL
    (sql/comparison/change_sums.sql); with unit weights pass (n, n, Σy, n, Σy, Σy²). `positive`: the rows
    of positive weight in both arms (the n of HC1), when some weights may be 0; default all rows."""
    (nt, swt, *_), (nc, swc, *_) = treatment, comparator
    nt, nc = int(nt), int(nc)
    if nt == 0 or nc == 0 or not swt > 0 or not swc > 0:
        return Difference(math.nan, math.nan, math.nan, math.nan, nt, nc, math.nan, math.nan)
    means, var = [], 0.0
    for _, sw, swy, sww, swwy, swwyy in (treatment, comparator):
        mean = swy / sw
        means.append(mean)
        # Σ w²(y − ȳ)², expanded. Where every y is equal it is 0 up to the rounding of the expansion, whose
        # size depends on the (parallel, so varying) summation order: below that bound it is exactly 0, so a
        # degenerate variance gives the same "no CI" on every run instead of sometimes a noise-sized SE.
        spread = swwyy - 2 * mean * swwy + mean * mean * sww
        var += (spread if spread > 64 * EPSILON * abs(swwyy) else 0.0) / sw**2
    return _difference(means[0], means[1], var, nt, nc, hc, positive)


def _difference(mean_t: float, mean_c: float, var: float, nt: int, nc: int, hc: str,
                positive: int | None = None) -> Difference:
    """The difference of two arm means with its sandwich variance, HC1 scaling n / (n − 2) applied, n the
    rows of positive weight (`positive`; all nt + nc rows when not given)."""
    n = nt + nc if positive is None else positive
    if hc == "HC1":
        var *= n / (n - 2) if n > 2 else math.nan
    elif hc != "HC0":
        raise ValueError(f"hc must be 'HC0' or 'HC1', not {hc!r}")
    estimate = mean_t - mean_c
    # A variance of 0 (every outcome equal within both arms, e.g. no complication at all) gives no CI: the
    # sandwich is degenerate at the boundary, and a CI [d, d] would claim certainty.
    se = math.sqrt(var) if var > 0 else math.nan
    return Difference(estimate, se, estimate - Z95 * se, estimate + Z95 * se, nt, nc, mean_t, mean_c)
