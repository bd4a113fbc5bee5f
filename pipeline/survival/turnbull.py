"""Turnbull's nonparametric maximum likelihood estimator for interval-censored times.

Matches R's survfit(Surv(left, right, type = "interval2") ~ 1): an observation is exact (left == right),
right-censored (right missing: time > left), left-censored (left missing: time ≤ right) or interval-censored
(left < time ≤ right). The NPMLE puts its mass on Turnbull's innermost intervals, but does not say where
inside them; like R, we put each interval's mass at its midpoint (and exact times at themselves), so the
curve read at a day inside an innermost interval is the one R prints. R stops its EM when the curve moves by
less than 5e-5 between iterations; we iterate the same self-consistency equations (Turnbull 1976),
accelerated by SQUAREM, until the curve moves by less than 1e-10, so R's printed curve can differ from the
converged NPMLE by up to ~1e-3 (R's own algorithm run to 1e-10 agrees with ours to ~1e-9).

Rows with the same bounds are grouped and every observation's admissible set is a contiguous run of
support points, so one EM step costs O(groups + support points) whatever the cohort size; the iteration is
compiled (`turnbull_em`, which says why).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from pipeline.survival import turnbull_em as em

EXACT, RIGHT, LEFT, INTERVAL = 0, 1, 2, 3


@dataclass(frozen=True)
class Turnbull:
    time: np.ndarray  # support points, ascending
    mass: np.ndarray  # probability at each support point
    tail: float  # mass after the last support point (right-censored beyond it)
    n: float
    iterations: int
    converged: bool
    loglik: float
    gap: float  # upper bound on (maximum log-likelihood − loglik); 0 at the NPMLE

    @property
    def surv(self) -> np.ndarray:
        return np.clip(1.0 - np.cumsum(self.mass), 0.0, 1.0) + 0.0  # as surv_at: in [0, 1], never −0.0

    def surv_at(self, days: ArrayLike) -> np.ndarray:
        """P(T > day): mass at support points ≤ day removed; in [0, 1] and never −0.0 (the masses' sum may
        exceed 1 by a rounding error, and a −0 would be published as "-0")."""
        last = np.searchsorted(self.time, np.asarray(days, dtype=float), side="right")
        return np.clip(1.0 - np.concatenate([[0.0], np.cumsum(self.mass)])[last], 0.0, 1.0) + 0.0  # −0 + 0 = +0


@dataclass(frozen=True)
class AdmissibleSets:
    """What the EM needs of a data set: the support points, and per group of observations with the same
    admissible points their total weight and the run of points a <= j < b they admit (m = tail)."""

    support: np.ndarray
    a: np.ndarray
    b: np.ndarray
    weight: np.ndarray


def admissible_sets(left: ArrayLike, right: ArrayLike, weights: ArrayLike | None = None) -> AdmissibleSets:
    """Bounds (left, right) as `turnbull` reads them → support points and grouped admissible sets."""
    lo = np.asarray(left, dtype=float)
    hi = np.asarray(right, dtype=float)
    hi = np.where(np.isinf(hi), np.nan, hi)
    w = np.ones(lo.size) if weights is None else np.asarray(weights, dtype=float)
    kind = _kinds(lo, hi)
    support = _support(lo, hi, kind)
    # A left-censored time before every support point is taken as exact there (R does the same).
    early = (kind == LEFT) & (hi < (support[0] if support.size else np.inf))
    if early.any():
        kind, lo = np.where(early, EXACT, kind), np.where(early, hi, lo)
        support = np.union1d(support, hi[early])

    m = support.size
    first = np.where(kind == LEFT, 0, np.searchsorted(support, lo, side="right"))
    first = np.where(kind == EXACT, np.searchsorted(support, lo, side="left"), first)
    stop = np.where(kind == RIGHT, m + 1, np.searchsorted(support, np.nan_to_num(hi), side="right"))
    stop = np.where(kind == EXACT, first + 1, stop)
    # Group identical admissible sets (the EM only needs their total weight), ordered by (first, stop).
    keys, inverse = np.unique(first.astype(np.int64) * (m + 2) + stop, return_inverse=True)
    a, b = keys // (m + 2), keys % (m + 2)
    if np.any(b <= a):
        raise ValueError("an observation admits no support point")
    return AdmissibleSets(support, a, b, np.bincount(inverse.ravel(), weights=w, minlength=a.size))


def turnbull(left: ArrayLike, right: ArrayLike, weights: ArrayLike | None = None,
             tol: float = 1e-10, max_iter: int = 200_000) -> Turnbull:
    """NPMLE of the distribution of T from bounds (left, right): NaN/inf right = right-censored at left,
    NaN left = left-censored at right, left == right = exact, otherwise left < T ≤ right."""
    return _fit(admissible_sets(left, right, weights), tol, max_iter)


def _fit(sets: AdmissibleSets, tol: float, max_iter: int) -> Turnbull:
    m, total = sets.support.size, float(sets.weight.sum())
    if not total > 0:  # no observation (or weight 0 for all): no distribution to estimate, not a fit that fails
        nan = float("nan")
        return Turnbull(sets.support, np.full(m, nan), nan, total, 0, False, nan, nan)
    p, iterations, converged = em.fit(sets.a, sets.b, sets.weight, m, tol, max_iter)
    # Optimality: with d_j = Σ_i w_i 1{j admissible for i} / (W P_i), concavity bounds the distance to the
    # maximum log-likelihood by W (max_j d_j − 1); it is 0 exactly at the NPMLE.
    gap = float(total * (np.max(em.gradient(p, sets.a, sets.b, sets.weight, total)) - 1.0))
    loglik = float(em.loglik(p, sets.a, sets.b, sets.weight))
    return Turnbull(sets.support, p[:m], float(p[m]), total, int(iterations), bool(converged), loglik, gap)


def _kinds(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    if np.any(np.isnan(lo) & np.isnan(hi)):
        raise ValueError("a row needs at least one bound")
    if np.any(lo > hi):
        raise ValueError("left bound after right bound")
    kind = np.full(lo.size, INTERVAL)
    kind[lo == hi] = EXACT
    kind[np.isnan(hi)] = RIGHT
    kind[np.isnan(lo)] = LEFT
    return kind


def _support(lo: np.ndarray, hi: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """R's jump points: exact times, plus the midpoint of each innermost interval, i.e. of each pair of
    consecutive bounds (ordered by time, then exact < right end < left end) where a bound that is not a
    right end is followed by a right end."""
    times = np.concatenate([lo[kind != LEFT], hi[(kind == INTERVAL) | (kind == LEFT)]])
    codes = np.concatenate([np.where(kind[kind != LEFT] == EXACT, 0, 2),
                            np.ones(int(np.sum((kind == INTERVAL) | (kind == LEFT))), dtype=int)])
    order = np.lexsort((codes, times))
    times, codes = times[order], codes[order]
    pair = (codes[:-1] != 1) & (codes[1:] == 1)
    midpoints = 0.5 * (times[:-1] + times[1:])[pair]
    return np.unique(np.concatenate([lo[kind == EXACT], midpoints]))
