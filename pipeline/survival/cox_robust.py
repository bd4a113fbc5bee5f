"""Robust (Lin & Wei 1989 sandwich) variance of a weighted Cox fit, as R's coxph(..., weights = w, robust = TRUE).

With propensity weights the model-based variance (inverse weighted information) reads a weight as a number of
patients and is wrong; the sandwich V = I⁻¹ (Σ_i w_i² U_i U_iᵀ) I⁻¹ uses each patient's score residual U_i
(R's residuals(fit, "score"), Efron ties as in R's coxscore) and is what SAP section 6 asks for. Like every
weighted-estimator variance here it treats the weights as fixed (see docs/comparison.md).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from pipeline.survival.cox import CoxFit, RiskSets, risk_sets


def _cell_residuals(rs: RiskSets, beta: np.ndarray) -> np.ndarray:
    """The score residual of a patient of each cell (patients of a cell share time, status and covariates,
    hence their residual; the weight enters only the risk-set sums)."""
    x_, w, e, starts = rs.x, rs.weight, rs.event, rs.starts
    r = np.exp(x_ @ beta)
    wr = w * r

    def per_time(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, starts, axis=0)

    s0 = np.cumsum(per_time(wr)[::-1])[::-1]
    s1 = np.cumsum(per_time(wr[:, None] * x_)[::-1], axis=0)[::-1]
    d0, d1 = per_time(wr * e), per_time((wr * e)[:, None] * x_)
    n_dead, w_dead = per_time(rs.count * e), per_time(w * e)
    p = x_.shape[1]
    k_times = starts.size
    a = np.zeros(k_times)  # Σ_k hazard_k over the Efron slots of each time (a patient at risk, not dying)
    b = np.zeros((k_times, p))  # Σ_k hazard_k x̄_k
    ad = np.zeros(k_times)  # the same with the dying patients' Efron down-weight (1 − k/m)
    bd = np.zeros((k_times, p))
    xm = np.zeros((k_times, p))  # mean over slots of x̄_k (the dying patients' own score term)
    dead = np.flatnonzero(n_dead > 0)
    if dead.size:
        # One Efron slot k = 0..m−1 per tied death, all death times at once.
        m = np.round(n_dead[dead]).astype(np.int64)
        slot = np.repeat(np.arange(dead.size), m)
        first = np.cumsum(m) - m
        frac = (np.arange(slot.size) - first[slot]) / m[slot]
        den = s0[dead][slot] - frac * d0[dead][slot]
        xbar = (s1[dead][slot] - frac[:, None] * d1[dead][slot]) / den[:, None]
        hazard = (w_dead[dead] / m)[slot] / den
        a[dead] = np.add.reduceat(hazard, first)
        b[dead] = np.add.reduceat(hazard[:, None] * xbar, first, axis=0)
        ad[dead] = np.add.reduceat((1 - frac) * hazard, first)
        bd[dead] = np.add.reduceat(((1 - frac) * hazard)[:, None] * xbar, first, axis=0)
        xm[dead] = np.add.reduceat(xbar, first, axis=0) / m[:, None]
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
    return resid


def robust_variance(fit: CoxFit, time: ArrayLike, event: ArrayLike, x: ArrayLike,
                    weights: ArrayLike | None = None) -> np.ndarray:
    """Lin–Wei sandwich variance of the coefficients of `fit` (R's fit$var with robust = TRUE):
    Σ_i w_i² D_i D_iᵀ with D_i = U_i I⁻¹, summed per cell as Σ w² of the cell times D Dᵀ."""
    rs = risk_sets(time, event, x, weights)
    dfbeta = _cell_residuals(rs, np.asarray(fit.coef, dtype=float)) @ fit.var
    return (dfbeta * rs.w2[:, None]).T @ dfbeta

