"""Robust (Lin & Wei 1989 sandwich) variance of a weighted Cox fit, as R's coxph(..., weights = w, robust = TRUE).

With propensity weights the model-based variance (inverse weighted information) reads a weight as a number of
patients and is wrong; the sandwich V = I⁻¹ (Σ_i w_i² U_i U_iᵀ) I⁻¹ uses each patient's score residual U_i
(R's residuals(fit, "score"), Efron ties as in R's coxscore) and is what SAP section 6 asks for. Like every
weighted-estimator variance here it treats the weights as fixed (see docs/comparison.md).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from pipeline.survival.cox import CoxFit, efron_terms, risk_sets


def score_residuals(time: ArrayLike, event: ArrayLike, x: ArrayLike, beta: ArrayLike,
                    weights: ArrayLike | None = None) -> np.ndarray:
    """Efron score residuals, one row per patient in the input order (R: residuals(fit, type = "score"))."""
    t_in = np.asarray(time, dtype=float)
    order = np.argsort(t_in, kind="stable")
    rs = risk_sets(time, event, x, weights)
    x_, w, e, starts = rs.x, rs.weight, rs.event, rs.starts
    r = np.exp(x_ @ np.asarray(beta, dtype=float))
    wr = w * r

    def per_time(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, starts, axis=0)

    s0 = np.cumsum(per_time(wr)[::-1])[::-1]
    s1 = np.cumsum(per_time(wr[:, None] * x_)[::-1], axis=0)[::-1]
    d0, d1 = per_time(wr * e), per_time((wr * e)[:, None] * x_)
    n_dead, w_dead = per_time(e), per_time(w * e)
    p = x_.shape[1]
    k_times = starts.size
    a = np.zeros(k_times)  # Σ_k hazard_k over the Efron slots of each time (a patient at risk, not dying)
    b = np.zeros((k_times, p))  # Σ_k hazard_k x̄_k
    ad = np.zeros(k_times)  # the same with the dying patients' Efron down-weight (1 − k/m)
    bd = np.zeros((k_times, p))
    xm = np.zeros((k_times, p))  # mean over slots of x̄_k (the dying patients' own score term)
    for j in np.flatnonzero(n_dead > 0):
        m = int(n_dead[j])
        frac = np.arange(m) / m
        den = s0[j] - frac * d0[j]
        xbar = (s1[j] - frac[:, None] * d1[j]) / den[:, None]
        hazard = (w_dead[j] / m) / den
        a[j], b[j] = hazard.sum(), hazard @ xbar
        ad[j], bd[j] = ((1 - frac) * hazard).sum(), ((1 - frac) * hazard) @ xbar
        xm[j] = xbar.mean(axis=0)
    group = np.repeat(np.arange(k_times), np.diff(np.r_[starts, x_.shape[0]]))
    cum_a, cum_b = np.cumsum(a), np.cumsum(b, axis=0)
    # Every time before the patient's own: at risk, not dying there.
    before_a = np.r_[0.0, cum_a[:-1]][group]
    before_b = np.vstack([np.zeros((1, p)), cum_b[:-1]])[group]
    resid = -r[:, None] * (x_ * before_a[:, None] - before_b)
    own_a = np.where(e > 0, ad[group], a[group])
    own_b = np.where(e[:, None] > 0, bd[group], b[group])
    resid -= r[:, None] * (x_ * own_a[:, None] - own_b)
    resid += e[:, None] * (x_ - xm[group])
    out = np.empty_like(resid)
    out[order] = resid
    return out


def robust_variance(fit: CoxFit, time: ArrayLike, event: ArrayLike, x: ArrayLike,
                    weights: ArrayLike | None = None) -> np.ndarray:
    """Lin–Wei sandwich variance of the coefficients of `fit` (R's fit$var with robust = TRUE)."""
    w = np.ones(np.asarray(time).size) if weights is None else np.asarray(weights, dtype=float)
    dfbeta = score_residuals(time, event, x, fit.coef, w) @ fit.var
    scaled = dfbeta * w[:, None]
    return scaled.T @ scaled


def information(time: ArrayLike, event: ArrayLike, x: ArrayLike, beta: ArrayLike,
                weights: ArrayLike | None = None) -> np.ndarray:
    """Weighted Efron information matrix at beta (for tests and for callers that only have beta)."""
    terms = efron_terms(risk_sets(time, event, x, weights), np.asarray(beta, dtype=float))
    return terms.info.sum(axis=0)
