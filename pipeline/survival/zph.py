"""Proportional-hazards test on scaled Schoenfeld residuals, as R's cox.zph (survival ≥ 3.0, transform "km").

R ≥ 3.0's cox.zph is a score test: add x·g(t) to the fitted model for each covariate and test its coefficient
at 0 given the fitted beta, using the full information matrix of the enlarged model (Efron terms included).
g(t) = 1 − S(t−) from the KM of all rows, centred on its mean over the events. lifelines'
proportional_hazard_test implements the older approximation (R < 3.0: one averaged variance for all
times), which can differ noticeably, so we compute R's test here from the same per-time Efron pieces as the
fit. Per covariate: chisq with 1 df; global: all covariates together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import chi2

from pipeline.survival.cox import CoxFit, efron_terms, risk_sets
from pipeline.survival.km import kaplan_meier


@dataclass(frozen=True)
class ZphTest:
    chisq: np.ndarray  # per covariate
    p_value: np.ndarray
    global_chisq: float
    global_df: int
    global_p: float


def cox_zph(time: ArrayLike, event: ArrayLike, x: ArrayLike, fit: CoxFit,
            weights: ArrayLike | None = None) -> ZphTest:
    """Test of proportional hazards for a fitted cox_efron model on the same rows (and weights)."""
    t = np.asarray(time, dtype=float)
    e = np.asarray(event).astype(np.int64)
    xs = np.asarray(x, dtype=float)
    if weights is not None:
        # A zero-weight patient is absent from the fit (cox.py), so from the KM transform and the event mean too.
        keep = np.asarray(weights, dtype=float) > 0
        t, e, xs, weights = t[keep], e[keep], xs[keep], np.asarray(weights, dtype=float)[keep]
    # KM transform over all rows, unweighted as in R; left-continuous: 1 − S just before each time.
    km = kaplan_meier(t, e)
    surv_before = np.concatenate([[1.0], km.surv])

    def g_of(times: np.ndarray) -> np.ndarray:
        return 1.0 - surv_before[np.searchsorted(km.time, times, side="left")]

    terms = efron_terms(risk_sets(t, e, xs, weights), fit.coef)
    g = g_of(terms.death_times) - g_of(t[e == 1]).mean()  # centred on the mean over events, as R
    p = fit.coef.size
    u_gamma = np.einsum("t,tp->p", g, terms.score)
    info = np.zeros((2 * p, 2 * p))
    info[:p, :p] = terms.info.sum(axis=0)
    info[:p, p:] = info[p:, :p] = np.einsum("t,tpq->pq", g, terms.info)
    info[p:, p:] = np.einsum("t,tpq->pq", g * g, terms.info)

    chisq = np.empty(p)
    for j in range(p):
        keep = np.r_[np.arange(p), p + j]
        u = np.r_[np.zeros(p), u_gamma[j]]
        chisq[j] = u @ np.linalg.solve(info[np.ix_(keep, keep)], u)
    u_all = np.r_[np.zeros(p), u_gamma]
    global_chisq = float(u_all @ np.linalg.solve(info, u_all))
    return ZphTest(chisq, chi2.sf(chisq, 1), global_chisq, p, float(chi2.sf(global_chisq, p)))
