"""Sandwich variance of an adjusted difference that accounts for the estimation of the propensity model.

The adjusted difference τ = μ1 − μ0 (robust.py) solves, with the logistic model's coefficients β, the stacked
estimating equations (Lunceford & Davidian 2004 for IPW; Li, Morgan & Zaslavsky 2018 for overlap weights; what
R's PSweight computes):

    Σ_i (T_i − e_i) x_i = 0                       (propensity score equations, all n patients; x_i with intercept)
    Σ_r T_r w_r (y_r − μ1) = 0,  Σ_r (1 − T_r) w_r (y_r − μ0) = 0     (outcome rows r of patient i(r))

with w_r = f_r · w_i(β), w_i the confounding weight and f_r a fixed row factor (1; the attendance weight of the
MAR twin). Linearising, patient i's influence on τ is IF_i = a_i + cᵀ U_i with

    a_i = T w f (y − μ1) / W1 − (1 − T) w f (y − μ0) / W0     (the weights-fixed part; 0 without an outcome row)
    U_i = (T_i − e_i) x_i,   c = I⁻¹ (H1 / W1 − H0 / W0),   H_a = Σ_{r in arm a} f_r ∂w_i/∂η_i (y_r − μ_a) x_i,
    I = Σ e(1 − e) x xᵀ (the information; the derivative of the score equations), W_a = Σ_{arm a} w_r,

and Var τ = Σ_i IF_i² = HC0 + 2 cᵀ Σ_i a_i U_i + cᵀ (Σ_i U_i U_iᵀ) c: the weights-fixed HC0 sandwich of robust.py
plus a correction (`delta`) that needs, per outcome group, the p-vectors Σ a_i U_i and H1/W1 − H0/W0 — sums over
the outcome rows of x_i times a per-row scalar — and the p × p matrices I and Σ U Uᵀ, computed once. The
p-vectors of every group come from two compiled passes over the rows in patient order (variance_corrections):
no Python loop over patients, no patients × groups matrix, and the same bits whatever order the rows came in.

∂w/∂η per scheme (η the linear predictor, ∂e/∂η = e(1 − e)):
  overlap  treated 1 − e: −e(1 − e);     comparator e: e(1 − e)
  ate      treated P/e: −w(1 − e);        comparator (1 − P)/(1 − e): w e   (P, the share treated, cancels in each
           arm's weighted mean, so its estimation adds nothing). Truncation: the percentile bounds are treated as
           FIXED constants; a patient whose weight is at a bound has ∂w/∂η = 0 (the derivative of the clip).
  att      treated 1: 0;                  comparator e/(1 − e): w
Patients of score exactly 0 or 1 (quasi-complete separation, overlap weights 0) add nothing; I is then singular
in the separating direction, so its pseudo-inverse is used (that direction carries no weight).

Small-sample factor: the HC1 factor n / (n − 2) of robust.py (n the outcome rows of positive weight) multiplies
the whole corrected variance, so with a propensity model that explains nothing the CI is the HC1 one. The
reference (tests/reference/ps_variance.R: the stacked equations by hand, numDeriv's Jacobian) is the plain
M-estimation sandwich (no factor, = HC0 + delta), and so is PSweight's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from numba import njit
from numpy.typing import ArrayLike

from pipeline.comparison.robust import Z95, Difference


def weight_derivative(score: ArrayLike, treated: ArrayLike, weights: ArrayLike, scheme: str) -> np.ndarray:
    """∂w_i/∂η_i of each patient's weight (the table in the module docstring); 0 at an ATE truncation bound."""
    e = np.asarray(score, dtype=float)
    t = np.asarray(treated, dtype=bool)
    w = np.asarray(weights, dtype=float)
    if scheme == "overlap":
        return np.where(t, -1.0, 1.0) * e * (1.0 - e)
    if scheme == "ate":
        share = t.mean()
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = np.where(t, share / e, (1.0 - share) / (1.0 - e))
            derivative = np.where(t, -w * (1.0 - e), w * e)
        # Winsorised patients carry the bound, not their own weight: fixed bounds, derivative 0.
        free = np.abs(w - raw) <= 1e-12 * np.abs(raw)
        return np.where(free, derivative, 0.0)
    if scheme == "att":
        return np.where(t, 0.0, w)
    raise ValueError(f"unknown weighting scheme {scheme!r}")


@dataclass(frozen=True)
class PropensityTerms:
    """What the correction needs from a fitted propensity model of n patients (row order of the weights)."""

    x: np.ndarray  # n × k design as entered, no intercept column
    treated: np.ndarray
    weights: np.ndarray
    s_fixed: np.ndarray  # w_i (T_i − e_i): a_i U_i = (± f (y − μ) / W) s_fixed x_i
    s_derivative: np.ndarray  # ∂w_i/∂η_i
    info_inverse: np.ndarray  # I⁻¹, (k + 1) × (k + 1), intercept first
    meat: np.ndarray  # Σ U Uᵀ

    @property
    def n(self) -> int:
        return int(self.treated.size)


def propensity_terms(x: pd.DataFrame | np.ndarray, treated: ArrayLike, score: ArrayLike, weights: ArrayLike,
                     scheme: str) -> PropensityTerms:
    """The score residuals' pieces and the p × p matrices of the fitted model (x: the design as entered, without
    the intercept; score: the fitted e; weights: the scheme's weights of the same patients)."""
    xv = np.asarray(x, dtype=float)
    if xv.ndim == 1:
        xv = xv.reshape(-1, 1)
    t = np.asarray(treated, dtype=bool)
    e = np.asarray(score, dtype=float)
    w = np.asarray(weights, dtype=float)
    residual = t - e
    information = _cross(xv, e * (1.0 - e))
    meat = _cross(xv, residual * residual)
    try:
        if np.any((e <= 0.0) | (e >= 1.0)):  # separated patients: I singular in the separating direction
            raise np.linalg.LinAlgError
        inverse = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        # Singular (separation, or columns aliased among the patients of positive weight): the pseudo-inverse;
        # U and H lie in the span of the patients' x, where every generalised inverse gives the same variance.
        inverse = np.linalg.pinv(information, rcond=1e-12, hermitian=True)
    return PropensityTerms(xv, t, w, w * residual, weight_derivative(e, t, w, scheme), inverse, meat)


def weighting_terms(weighting: object, treated: ArrayLike) -> PropensityTerms:
    """propensity_terms of a model.Weighting (design as entered, fitted or stored scores, weights, scheme)."""
    return propensity_terms(weighting.design.x, treated, weighting.score, weighting.weights,  # type: ignore[attr-defined]
                            weighting.scheme)  # type: ignore[attr-defined]


def _cross(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Σ v_i x1_i x1_iᵀ with x1 = (1, x): intercept first."""
    k = x.shape[1]
    out = np.empty((k + 1, k + 1))
    vx = x.T @ v
    out[0, 0] = v.sum()
    out[0, 1:] = out[1:, 0] = vx
    out[1:, 1:] = (x * v[:, None]).T @ x
    return out


BLOCK_ROWS = 4096  # rows per partial sum of the compiled passes (see _arm_totals)


@njit(cache=True, nogil=True)
def _flush(part: np.ndarray, total: np.ndarray, error: np.ndarray) -> None:
    """total += part with Neumaier's compensation (the lost low bits kept in `error`), then part = 0."""
    p, t, e = part.ravel(), total.ravel(), error.ravel()
    for i in range(p.size):
        s = t[i] + p[i]
        if abs(t[i]) >= abs(p[i]):
            e[i] += (t[i] - s) + p[i]
        else:
            e[i] += (p[i] - s) + t[i]
        t[i] = s
        p[i] = 0.0


@njit(cache=True, nogil=True)
def _arm_totals(row: np.ndarray, group: np.ndarray, factor: np.ndarray, weights: np.ndarray, treated: np.ndarray,
                y: np.ndarray, totals: np.ndarray, positive: np.ndarray) -> None:
    """Per group g over the rows with a y, in row order: totals[g] += (Σ_T f w, Σ_T f w y, Σ_C f w, Σ_C f w y)
    and positive[g] += rows of positive weight. Each run of at least BLOCK_ROWS rows (ending between two patients)
    is summed plainly and added to the totals with compensation (_flush): rounding errors of a few ulps,
    instead of a chain of half a million."""
    part, total, error = np.zeros_like(totals), np.zeros_like(totals), np.zeros_like(totals)
    count = 0
    for i in range(row.size):
        if count >= BLOCK_ROWS and row[i] != row[i - 1]:  # only between patients: see _score_sums
            _flush(part, total, error)
            count = 0
        v = y[i]
        if np.isnan(v):
            continue
        p, g = row[i], group[i]
        w = (factor[i] if factor.size else 1.0) * weights[p]
        if w > 0:
            positive[g] += 1
        a = 0 if treated[p] else 2
        part[g, a] += w
        part[g, a + 1] += w * v
        count += 1
    _flush(part, total, error)
    totals += total + error


@njit(cache=True, nogil=True)
def _score_sums(row: np.ndarray, group: np.ndarray, factor: np.ndarray, y: np.ndarray, treated: np.ndarray,
                arms: np.ndarray, fixed: np.ndarray, derivative: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:
    """Per group g with both arm totals positive (arms[g] = μ_T, μ_C, W_T, W_C), in row order: out[g, 0] +=
    Σ a_i U_i and out[g, 1] += H1 / W1 − H0 / W0, each row's ± f (y − μ_arm) / W_arm times w(T − e) x1 and times
    ∂w/∂η x1 (x1 = (1, x)), by runs of rows as in _arm_totals. Rows in patient order read each design row once
    for all of the patient's groups. A run ends only between two patients, so each group's rows and runs are
    the same whatever the order of a patient's rows (one per group): the sums depend only on the patient order."""
    k = x.shape[1]
    part, total, error = np.zeros_like(out), np.zeros_like(out), np.zeros_like(out)
    count = 0
    for i in range(row.size):
        if count >= BLOCK_ROWS and row[i] != row[i - 1]:
            _flush(part, total, error)
            count = 0
        v = y[i]
        g = group[i]
        w_t, w_c = arms[g, 2], arms[g, 3]
        if np.isnan(v) or not (w_t > 0 and w_c > 0):
            continue
        p = row[i]
        f = factor[i] if factor.size else 1.0
        # + treated, − comparator, so the sums are treated minus comparator.
        c = (v - arms[g, 0]) / w_t * f if treated[p] else (arms[g, 1] - v) / w_c * f
        c_fixed, c_derivative = c * fixed[p], c * derivative[p]
        part[g, 0, 0] += c_fixed
        part[g, 1, 0] += c_derivative
        for j in range(k):
            part[g, 0, j + 1] += c_fixed * x[p, j]
            part[g, 1, j + 1] += c_derivative * x[p, j]
        count += 1
    _flush(part, total, error)
    out += total + error


def patient_order(row: np.ndarray, group: np.ndarray, n_groups: int, *values: np.ndarray) -> np.ndarray | None:
    """The permutation putting rows in (row, group) order, None when they already are in row order (the order
    of sql/comparison/change_rows.sql; the order of a patient's rows, one per group, does not change a sum).
    Rows repeated within a group (not expected: one row per patient and group) are ordered by their values too,
    so that any input order gives the same order."""
    row = np.asarray(row, dtype=np.int64)
    if bool(np.all(row[1:] >= row[:-1])):
        return None
    return np.lexsort(tuple(reversed((row * max(n_groups, 1) + group, *values))))


def variance_corrections(terms: PropensityTerms, row: ArrayLike, group: ArrayLike, y: ArrayLike, n_groups: int,
                         factor: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per group (and per outcome of `y`: 1-D, 2-D outcomes × rows, or a list of 1-D): (delta, positive).
    delta = 2 cᵀ Σ a U + cᵀ (Σ U Uᵀ) c, the variance to add to the weights-fixed HC0 of the group's difference;
    positive = outcome rows of positive weight (the n of HC1). row: the patient of each outcome row (index into
    the terms' patients; one row per patient and group expected), group: 0..n_groups − 1, y: the outcome (NaN
    rows left out, as in the difference), factor: a fixed per-row multiplier of the weight (None: 1).

    The rows may come in any order and the result is the same to the last bit: every sum runs over the rows in
    patient order (patient_order; rows that come in that order, as the 25 million rows of the comparison stage
    at 1,000,000 patients do, are not copied). Two compiled passes (numba) over the rows per
    outcome: the arm totals and means of every group, then the p-vectors Σ a U and H of every group, each design
    row read once per outcome (in numpy, scattering each group's rows onto patient-length vectors and
    multiplying them with the whole design, group after group, cost ~10 s at 1,000,000 patients). Memory: the
    per-group sums. Returns arrays of shape (n_groups,) for a 1-D array y, (outcomes, n_groups) for a 2-D array
    or a list of 1-D arrays (one per outcome)."""
    r_all = np.asarray(row, dtype=np.int64)
    single = not isinstance(y, (list, tuple)) and np.ndim(y) == 1
    # Outcome columns as separate 1-D arrays (a list avoids stacking 25 million rows into a copy at 1M patients).
    y_all = [np.asarray(y, dtype=float)] if single else [np.asarray(v, dtype=float) for v in y]
    q = len(y_all)
    f_all = np.zeros(0) if factor is None else np.asarray(factor, dtype=float)
    g_all = np.asarray(group, dtype=np.int64)
    order = patient_order(r_all, g_all, n_groups, *y_all, *([f_all] if f_all.size else []))
    if order is not None:
        r_all, g_all = r_all[order], g_all[order]
        y_all = [v[order] for v in y_all]
        f_all = f_all[order] if f_all.size else f_all
    x = np.ascontiguousarray(terms.x, dtype=float)
    treated = np.ascontiguousarray(terms.treated, dtype=np.bool_)
    weights, fixed, derivative = (np.ascontiguousarray(v, dtype=float)
                                  for v in (terms.weights, terms.s_fixed, terms.s_derivative))
    delta = np.zeros((q, n_groups))
    positive = np.zeros((q, n_groups), dtype=np.int64)
    for j in range(q):
        totals = np.zeros((n_groups, 4))
        _arm_totals(r_all, g_all, f_all, weights, treated, y_all[j], totals, positive[j])
        with np.errstate(divide="ignore", invalid="ignore"):
            arms = np.column_stack([totals[:, 1] / totals[:, 0], totals[:, 3] / totals[:, 2], totals[:, 0],
                                    totals[:, 2]])
        sums = np.zeros((n_groups, 2, x.shape[1] + 1))
        _score_sums(r_all, g_all, f_all, y_all[j], treated, arms, fixed, derivative, x, sums)
        for g in range(n_groups):
            if arms[g, 2] > 0 and arms[g, 3] > 0:
                c = terms.info_inverse @ sums[g, 1]
                delta[j, g] = 2.0 * float(c @ sums[g, 0]) + float(c @ terms.meat @ c)
    return (delta[0], positive[0]) if single else (delta, positive)


def with_estimated_weights(d: Difference, delta: float, positive: int, hc: str = "HC1") -> Difference:
    """The Difference `d` (its SE the weights-fixed sandwich, robust.py) with the propensity model's estimation
    accounted for: variance (HC0 + delta) × the small-sample factor of `hc` (HC1: n / (n − 2), n = `positive`)."""
    if not (math.isfinite(d.estimate) and math.isfinite(d.se)):
        return d  # not estimable, or a degenerate variance (no CI): the correction is 0 there too
    scale = positive / (positive - 2) if hc == "HC1" and positive > 2 else (1.0 if hc == "HC0" else math.nan)
    var = d.se**2 + delta * scale
    se = math.sqrt(var) if var > 0 else math.nan
    return replace(d, se=se, lower=d.estimate - Z95 * se, upper=d.estimate + Z95 * se)


def corrected_difference(terms: PropensityTerms, d: Difference, row: ArrayLike, y: ArrayLike,
                         factor: ArrayLike | None = None, hc: str = "HC1") -> Difference:
    """One difference (`d` from robust.weighted_difference on the same rows) with the estimated weights
    accounted for. row: the patient (index into the terms' patients) of each outcome value y."""
    r = np.asarray(row, dtype=np.int64)
    delta, positive = variance_corrections(terms, r, np.zeros(r.size, dtype=np.int64), y, 1, factor)
    return with_estimated_weights(d, float(delta[0]), int(positive[0]), hc)


CI_METHOD = "sandwich_estimated_weights_hc1"  # ci_method of a difference whose variance includes the correction
