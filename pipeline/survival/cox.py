"""Cox proportional hazards with Efron's tie handling, fitted on risk sets aggregated by distinct time (and
patients sharing time, status and covariates merged into one weighted cell).

Matches R's coxph(..., ties = "efron") (case weights as R uses them: Efron's fractions count tied deaths,
each weighted by the mean weight of the tied deaths). A patient of weight 0 takes no part in the fit, as if
the row were absent (R's coxph refuses zero weights, so the equivalent R fit is on the other rows): it adds
nothing to a risk set and is not counted among Efron's tied deaths, the patients or the events.
lifelines' CoxPHFitter is also correct for unweighted data, but takes ~13 s for 1,000,000 rows with one
covariate on two cores; summing the risk sets once per distinct time takes well under a second, and the
same per-time pieces give the cox.zph test (zph.py).
Numerical note: covariates are centred (as R does); that changes neither the estimates nor the likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm


@dataclass(frozen=True)
class CoxFit:
    coef: np.ndarray
    var: np.ndarray  # inverse information at coef (model-based)
    loglik: tuple[float, float]  # at 0 and at coef, as R's fit$loglik
    n: int
    n_events: int
    iterations: int
    converged: bool

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.var))

    @property
    def hazard_ratio(self) -> np.ndarray:
        return np.exp(self.coef)

    def ci(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Wald CI of the hazard ratios."""
        z = norm.ppf(1 - (1 - level) / 2)
        return np.exp(self.coef - z * self.se), np.exp(self.coef + z * self.se)

    @property
    def p_value(self) -> np.ndarray:
        """Two-sided Wald p-values (R's summary Pr(>|z|))."""
        return 2 * norm.sf(np.abs(self.coef / self.se))


@dataclass(frozen=True)
class RiskSets:
    """Cells of patients sharing time, status and covariates (interchangeable in every Efron sum), sorted by
    time, covariates centred, with the start of each distinct time. `weight`/`w2` sum the cell's weights
    and squared weights, `count` counts its patients of positive weight (a zero-weight patient is absent
    from the fit, so not one of Efron's tied deaths); `cell` maps each input row to its cell."""

    time: np.ndarray
    event: np.ndarray
    x: np.ndarray
    weight: np.ndarray
    starts: np.ndarray
    count: np.ndarray
    w2: np.ndarray
    cell: np.ndarray

    @property
    def distinct_times(self) -> np.ndarray:
        return self.time[self.starts]


def risk_sets(time: ArrayLike, event: ArrayLike, x: ArrayLike, weights: ArrayLike | None = None) -> RiskSets:
    t = np.asarray(time, dtype=float)
    e = np.asarray(event).astype(float)
    xs = np.asarray(x, dtype=float)
    xs = xs.reshape(-1, 1) if xs.ndim == 1 else xs
    xs = xs - xs.mean(axis=0)
    w = np.ones(t.size) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != t.shape or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite, non-negative and one per row")
    # A 1,000,000-patient comparison with one binary covariate has a few thousand cells: every later sum
    # (all Newton iterations, the score residuals) runs over cells instead of patients.
    order = np.lexsort((*xs.T[::-1], e, t))
    ts, es, xo = t[order], e[order], xs[order]
    new = np.r_[True, (ts[1:] != ts[:-1]) | (es[1:] != es[:-1]) | np.any(xo[1:] != xo[:-1], axis=1)]
    first = np.flatnonzero(new)
    cell = np.empty(t.size, dtype=np.int64)
    cell[order] = np.cumsum(new) - 1
    wo = w[order]
    tc = ts[first]
    return RiskSets(tc, es[first], xo[first], np.add.reduceat(wo, first) if first.size else wo[:0],
                    np.flatnonzero(np.r_[True, tc[1:] != tc[:-1]]) if first.size else first,
                    np.add.reduceat((wo > 0).astype(float), first) if first.size else wo[:0],
                    np.add.reduceat(wo * wo, first) if first.size else wo[:0], cell)


@dataclass(frozen=True)
class EfronTerms:
    """Per distinct death time: score contribution (Σ w x over deaths − Efron-averaged means) and the
    information contribution; their sums are the score vector and information matrix at beta."""

    death_times: np.ndarray
    score: np.ndarray  # (deaths times, p)
    info: np.ndarray  # (death times, p, p)
    loglik: float


def efron_terms(rs: RiskSets, beta: np.ndarray) -> EfronTerms:
    x, w, e = rs.x, rs.weight, rs.event
    eta = x @ beta
    r = w * np.exp(eta)
    xx = x[:, :, None] * x[:, None, :]

    def per_time(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, rs.starts, axis=0)

    def from_the_end(values: np.ndarray) -> np.ndarray:
        return np.cumsum(values[::-1], axis=0)[::-1]

    s0, s1, s2 = (from_the_end(per_time(v)) for v in (r, r[:, None] * x, r[:, None, None] * xx))
    re = r * e
    d0, d1, d2 = per_time(re), per_time(re[:, None] * x), per_time(re[:, None, None] * xx)
    n_dead, w_dead = per_time(rs.count * e), per_time(w * e)
    x_dead, lp_dead = per_time((w * e)[:, None] * x), float(np.sum(w * e * eta))

    has = n_dead > 0
    m = n_dead[has].astype(np.int64)
    # Efron: the k-th of m tied deaths (k = 0..m-1) sees the risk set less k/m of the tied deaths' risk.
    slot = np.repeat(np.arange(m.size), m)
    frac = (np.arange(slot.size) - np.repeat(np.cumsum(m) - m, m)) / m[slot]
    s0h, s1h, s2h, d0h, d1h, d2h = (a[has][slot] for a in (s0, s1, s2, d0, d1, d2))
    den = s0h - frac * d0h
    xbar = (s1h - frac[:, None] * d1h) / den[:, None]
    var = (s2h - frac[:, None, None] * d2h) / den[:, None, None] - xbar[:, :, None] * xbar[:, None, :]
    mean_weight = (w_dead[has] / m)[slot]  # R's wtave: each tied death carries the mean weight
    slot_starts = np.cumsum(m) - m
    score = x_dead[has] - np.add.reduceat(mean_weight[:, None] * xbar, slot_starts, axis=0)
    info = np.add.reduceat(mean_weight[:, None, None] * var, slot_starts, axis=0)
    loglik = lp_dead - float(np.sum(mean_weight * np.log(den)))
    return EfronTerms(rs.distinct_times[has], score, info, loglik)


def cox_efron(time: ArrayLike, event: ArrayLike, x: ArrayLike, weights: ArrayLike | None = None,
              max_iter: int = 50, tol: float = 1e-12) -> CoxFit:
    """Newton–Raphson with step halving (as R's coxph), to a tighter tolerance than R's default."""
    rs = risk_sets(time, event, x, weights)
    if not np.any(rs.count * rs.event):
        raise ValueError("no events: the Cox model is not estimable")
    beta = np.zeros(rs.x.shape[1])
    terms = efron_terms(rs, beta)
    loglik0 = terms.loglik
    converged, iterations = False, 0
    while not converged and iterations < max_iter:
        iterations += 1
        step = np.linalg.solve(terms.info.sum(axis=0), terms.score.sum(axis=0))
        new = efron_terms(rs, beta + step)
        while new.loglik < terms.loglik - 1e-12 * abs(terms.loglik) and np.max(np.abs(step)) > 1e-12:
            step = step / 2  # the likelihood is concave; a drop means the step overshot
            new = efron_terms(rs, beta + step)
        beta, change, terms = beta + step, abs(new.loglik - terms.loglik), new
        converged = bool(change <= tol * max(1.0, abs(new.loglik)) and np.max(np.abs(step)) < 1e-8)
    var = np.linalg.inv(terms.info.sum(axis=0))
    return CoxFit(beta, var, (loglik0, terms.loglik), int(rs.count.sum()), int(np.sum(rs.count * rs.event)),
                  iterations, converged)
