"""Unpenalized logistic regression (maximum likelihood) by Newton–Raphson on X'WX with a Cholesky solve.

statsmodels' GLM IRLS solves a weighted least-squares problem by SVD/pinv in every iteration, which at
1,000,000 patients and ~20 columns costs seconds per iteration; the normal equations X'WX (p × p) cost one
matrix product. The MLE is the same (tested against statsmodels and R's glm to 1e-9): Newton's method on the
concave log-likelihood, stopped after a step below 1e-8 standard errors of every coefficient (convergence
is quadratic, so the error left is of the order of 1e-16 standard errors). A starting value (e.g. the
whole population's coefficients for a subgroup) only saves iterations: the maximum is unique.
Frequency weights (bootstrap resample counts) count a row that many times, as statsmodels' freq_weights.
Each Newton iteration reads the rows once, block by block (`_Rows`, BLOCK_ROWS rows at a time): η, the
deviance when needed, X'WX and the score at the new point in one pass; at 1,000,000 patients the design
(~140 MB) does not fit in any cache, and whole-matrix products read it about five times per iteration.

Separation: when a combination of the covariates separates y = 1 from y = 0 (completely, or quasi-completely:
with ties on the boundary) the MLE does not exist; Newton's iterates drift off to infinity, the fitted values
reach 0 or 1 and the standard errors grow as fast as the steps, so the step criterion is met anyway (R's glm
and statsmodels then also report "converged" coefficients of 30 or 100). The fit therefore watches the linear
predictor: once some |η| exceeds ETA_LIMIT (fitted values within 1e-13 of 0 or 1, R's "fitted probabilities
numerically 0 or 1") or Newton runs out of iterations, a linear program decides whether the data are
separated (Konis 2007: max Σ s_i x_i'β subject to s_i x_i'β ≥ 0, s_i = ±1 for y = 1 / 0, β in a box; a
positive optimum is a separating direction; separated_rows).

* Complete separation (no row left on the boundary with both outcomes, e.g. a covariate that predicts y
  exactly, or y of one value only): no fit; `separated` set, `converged` false, coef and fitted NaN.
* Quasi-complete separation (some rows strictly on one side, the others on the boundary with both
  outcomes, e.g. a rare missing indicator present in one arm only): the supremum of the likelihood is the
  limit in which the separated rows (the largest separable set, from the LP) get fitted values exactly 0 or 1
  and the rest, which is not separable, the MLE of their own fit on a full-rank set of columns. That limit is
  returned with `separated` set, `converged` true and `boundary` marking the rows fitted exactly 0 or 1;
  `separating` marks the columns left out of the rest's fit (their true coefficient is infinite or not
  identified; stored as 0). Overlap weights of the separated rows are exactly 0, which callers may accept.

An empty input returns a fit that has not converged. None of these reaches BLAS or LAPACK with an empty
matrix.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse
from scipy.linalg import LinAlgError, cho_factor, cho_solve, qr
from scipy.linalg.blas import dsyrk
from scipy.optimize import linprog
from scipy.special import expit

STEP_TOLERANCE = 1e-8  # stop after a step with every |step| < this many standard errors
# Without a covariance wanted (fitted values only: the attendance models of SAP 3.1), stop after *taking* a step
# below this many SEs: convergence is quadratic (measured: the next step is ~0.015 × the square of this one, in
# SEs), so the error left is ~1e-8 SE at worst and ~1e-11 SE typically, and the confirming iteration (one more
# X'WX) is saved.
FITTED_ONLY_TOLERANCE = 1e-3
ETA_LIMIT = 30.0  # |linear predictor| beyond which a fitted value is within 1e-13 of 0 or 1: check separation
ETA_CHECK = 12.0  # a converged fit with some |η| beyond this (fitted value within 6e-6 of 0 or 1): check too


@dataclass(frozen=True)
class LogisticFit:
    coef: np.ndarray
    cov: np.ndarray  # inverse information at coef (R's vcov(glm))
    fitted: np.ndarray  # P(y = 1 | x) per row
    converged: bool
    iterations: int
    separated: bool = False  # some direction separates y: complete (converged false) or quasi-complete
    boundary: np.ndarray | None = None  # quasi-complete: rows fitted exactly 0 or 1
    separating: np.ndarray | None = None  # quasi-complete: columns of the separating direction

    @property
    def se(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.sqrt(np.diag(self.cov))


def _log1p_exp(eta: np.ndarray) -> np.ndarray:
    """log(1 + e^η), stable for large |η|: numpy's logaddexp(0, η) by its own formula, max(η, 0) +
    log1p(e^−|η|), from vectorized exp and log1p (~5× faster than logaddexp's scalar loop; equal to it within
    an ulp)."""
    return np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta)))


def _deviance(y: np.ndarray, eta: np.ndarray, fw: np.ndarray) -> float:
    # −2 log L = 2 Σ fw [log(1 + e^η) − y η].
    return float(2 * np.sum(fw * (_log1p_exp(eta) - y * eta)))


def _solve(info: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(info⁻¹ rhs, info⁻¹); pseudo-inverse when the information is singular (collinear columns, as
    statsmodels)."""
    try:
        factor = cho_factor(info)
        return cho_solve(factor, rhs), cho_solve(factor, np.eye(info.shape[0]))
    except LinAlgError:
        inverse = np.linalg.pinv(info)
        return inverse @ rhs, inverse


def separated_rows(x: ArrayLike, y: ArrayLike, freq_weights: ArrayLike | None = None) -> np.ndarray | None:
    """The rows that some direction separates strictly (the largest such set), or None when no direction
    separates y (the MLE exists). A linear program in the spirit of Konis (2007): maximize Σ t_i subject to
    t_i ≤ s_i z_i'β, s_i z_i'β ≥ 0 for every row with weight, 0 ≤ t_i ≤ 1, β free; z the columns
    standardized (an invertible change of coordinates: separability is kept, the solver is helped),
    s_i = +1 / −1 for y = 1 / 0. Directions add up (the cone is convex) and scale, so at the optimum t_i = 1
    exactly on the largest separable set, and the rows left are not separable among themselves."""
    X = np.asarray(x, dtype=float)
    yv = np.asarray(y, dtype=float)
    keep = np.ones(yv.size, dtype=bool) if freq_weights is None else np.asarray(freq_weights, dtype=float) > 0
    m = int(keep.sum())
    if m == 0:
        return None
    Xk, yk = X[keep], yv[keep]
    mean, scale = Xk.mean(axis=0), Xk.std(axis=0)
    varying = scale > 0
    Z = np.where(varying, (Xk - mean) / np.where(varying, scale, 1.0), Xk)
    A = sparse.csr_matrix(Z * (2 * yk - 1)[:, None])
    p = X.shape[1]
    eye = sparse.identity(m, format="csr")
    constraints = sparse.vstack([sparse.hstack([-A, eye]), sparse.hstack([-A, sparse.csr_matrix((m, m))])])
    result = linprog(np.concatenate([np.zeros(p), -np.ones(m)]), A_ub=constraints.tocsc(), b_ub=np.zeros(2 * m),
                     bounds=[(None, None)] * p + [(0.0, 1.0)] * m, method="highs")
    if result.status != 0 or not -result.fun > 0.5:
        return None
    rows = np.zeros(yv.size, dtype=bool)
    rows[np.flatnonzero(keep)[result.x[p:] > 0.5]] = True
    return rows


def _unfitted(n: int, p: int, iterations: int, separated: bool) -> LogisticFit:
    return LogisticFit(np.full(p, np.nan), np.full((p, p), np.nan), np.full(n, np.nan), False, iterations,
                       separated)


def logistic_mle(x: ArrayLike, y: ArrayLike, freq_weights: ArrayLike | None = None, max_iter: int = 100,
                 start: ArrayLike | None = None, covariance: bool = True) -> LogisticFit:
    """Fit P(y = 1) = expit(x @ coef); `x` includes the intercept column if one is wanted. covariance=False:
    only coef and fitted values are wanted (cov is NaN), and the fit stops one iteration earlier
    (FITTED_ONLY_TOLERANCE)."""
    X = np.asfortranarray(x, dtype=float)  # columns contiguous: what BLAS's syrk reads fastest
    yv = np.asarray(y, dtype=float)
    fw = np.ones(yv.size) if freq_weights is None else np.asarray(freq_weights, dtype=float)
    n, p = X.shape
    active = fw > 0
    if not active.any():  # nothing to fit (and BLAS refuses an empty matrix: guard before any call)
        return _unfitted(n, p, 0, False)
    if np.all(yv[active] == yv[active][0]):  # one outcome value: the intercept separates, no MLE
        return _unfitted(n, p, 0, True)
    beta = np.zeros(p) if start is None else np.asarray(start, dtype=float).copy()
    tolerance = STEP_TOLERANCE if covariance else FITTED_ONLY_TOLERANCE
    beta, eta, inverse, converged, iterations, drifting = _newton(X, yv, fw, beta, max_iter, watch=True,
                                                                  tolerance=tolerance)
    # Separation shows as drifting (|η| beyond ETA_LIMIT), no convergence, or fitted values near 0 or 1 at a
    # "converged" fit (the step criterion can be met on the way to infinity): the LP decides.
    if drifting or not converged or np.max(np.abs(eta[active])) > ETA_CHECK:
        outside = separated_rows(X, yv, fw)
        if outside is not None:
            return _limit(X, yv, fw, outside, iterations, max_iter)
        if drifting:  # large but finite: the MLE exists, carry on from here
            beta, eta, inverse, converged, more, _ = _newton(X, yv, fw, beta, max_iter - iterations, watch=False,
                                                             tolerance=tolerance)
            iterations += more
    # The covariance is the inverse information of the last iteration: its step was below 1e-8 standard
    # errors, so the information at the final coefficients differs by ~1e-10 relative.
    return LogisticFit(beta, inverse if covariance else np.full_like(inverse, np.nan), expit(eta), converged,
                       iterations)


def _newton(X: np.ndarray, yv: np.ndarray, fw: np.ndarray, beta: np.ndarray, max_iter: int, watch: bool,
            tolerance: float = STEP_TOLERANCE) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, int, bool]:
    """Newton–Raphson with step halving from `beta`: (coef, η, inverse information, converged, iterations,
    drifting). `watch`: stop as soon as some |η| of a row with weight exceeds ETA_LIMIT (drifting). Each
    iteration is one pass over the rows (_Rows.evaluate: η, the deviance when a step could overshoot, the
    information and the score of the next point together)."""
    p = X.shape[1]
    rows = _Rows(X, yv, fw)
    everyone = bool(rows.active.all())
    information, score, _ = rows.evaluate(beta, information=max_iter > 0, deviance=False)
    deviance: float | None = None  # evaluated only while a step could overshoot
    converged, iterations = False, 0
    inverse = np.full((p, p), np.nan)
    while not converged and iterations < max_iter:
        iterations += 1
        step, inverse = _solve(information, score)
        with np.errstate(invalid="ignore", divide="ignore"):
            scaled = np.abs(step) / np.sqrt(np.diag(inverse))
        converged = bool(np.all(scaled < tolerance) or np.max(np.abs(step)) == 0.0)
        more = not converged and iterations < max_iter  # the next point's information is wanted
        if np.any(scaled >= 1e-3):  # far from the maximum: halve a step that lowers the likelihood
            deviance = rows.deviance() if deviance is None else deviance
            information, score, new_deviance = rows.evaluate(beta + step, information=more, deviance=True)
            halvings = 0
            while not new_deviance <= deviance and halvings < 30:
                step, halvings = step / 2, halvings + 1
                _, _, new_deviance = rows.evaluate(beta + step, information=False, deviance=True)
            if halvings and more:  # the information of the first (rejected) step was not this point's
                information, score, _ = rows.evaluate(beta + step, information=True, deviance=False)
            deviance = new_deviance
        else:
            information, score, _ = rows.evaluate(beta + step, information=more, deviance=False)
            deviance = None
        beta = beta + step
        eta = rows.eta
        if watch and np.max(np.abs(eta if everyone else eta[rows.active])) > ETA_LIMIT:  # fitted: 0 or 1
            return beta, eta, inverse, False, iterations, True
    return beta, rows.eta, inverse, converged, iterations, False


BLOCK_ROWS = 8192  # rows per block of _Rows.evaluate: √W X of a block (8192 × 25 doubles: 1.6 MB) stays in cache
_POOL: dict[int, ThreadPoolExecutor] = {}  # process id -> the worker thread that evaluates the second half
_POOL_LOCK = threading.Lock()


def _worker() -> ThreadPoolExecutor:
    """One worker thread per process, made at first use (and again in a forked child, which has no threads)."""
    with _POOL_LOCK:
        pid = os.getpid()
        if pid not in _POOL:
            _POOL.clear()
            _POOL[pid] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="logistic_rows")
        return _POOL[pid]


class _Rows:
    """The rows of one Newton fit, read block by block: at 1,000,000 patients X (n × p, ~140 MB) does not fit
    in any cache, and forming √W X whole, then X'WX by syrk, then X'(y − μ), then η = Xβ read it from memory
    four times per iteration (memory-bound: ~4× the arithmetic's time on the 2-core benchmark machine). By
    blocks of BLOCK_ROWS rows, X is read once per iteration and the block's √W X is reused from cache;
    X'WX and the score are sums over the blocks (syrk with beta = 1 into the p × p accumulator), equal to the
    whole-matrix products up to rounding (the summation order differs: ~1e-15 relative).

    More than one block: the rows are split at a block boundary into two halves, the second evaluated on a
    worker thread while the calling thread does the first (numpy and BLAS release the GIL; a block is too
    small for BLAS's own threads), and the halves' sums added in that order: the result does not depend on
    the threads' timing or on how many cores there are."""

    def __init__(self, X: np.ndarray, y: np.ndarray, fw: np.ndarray) -> None:
        self.X, self.y, self.fw = X, y, fw
        self.active = fw > 0
        n, p = X.shape
        self.eta = np.empty(n)  # η at the point last evaluated
        self.terms = np.empty(n)  # the deviance's terms there (when asked)
        blocks = -(-n // BLOCK_ROWS)
        middle = BLOCK_ROWS * ((blocks + 1) // 2)
        self.halves = [(0, n)] if blocks < 2 else [(0, middle), (middle, n)]
        # One block's √W X per half, column-ordered.
        self.work = [np.empty(min(stop - start, BLOCK_ROWS) * p) for start, stop in self.halves]

    def evaluate(self, beta: np.ndarray, information: bool, deviance: bool
                 ) -> tuple[np.ndarray | None, np.ndarray | None, float]:
        """η = Xβ (into self.eta), and if asked the information X'WX with the score X'(fw (y − μ)) at β and
        the deviance (NaN when not asked), in one pass over the rows."""
        if len(self.halves) == 1:
            upper, score = self._sums(0, beta, information, deviance)
        else:
            second = _worker().submit(self._sums, 1, beta, information, deviance)
            try:
                upper, score = self._sums(0, beta, information, deviance)
            finally:
                wait([second])  # the worker writes into this fit's arrays: never leave it running
            upper2, score2 = second.result()
            upper, score = upper + upper2, score + score2
        dev = 2 * float(np.sum(self.terms)) if deviance else float("nan")
        if not information:
            return None, None, dev
        return np.triu(upper) + np.triu(upper, 1).T, score, dev

    def _sums(self, half: int, beta: np.ndarray, information: bool, deviance: bool
              ) -> tuple[np.ndarray, np.ndarray]:
        """One half's rows: η and the deviance's terms written in place; X'WX (upper triangle) and the score
        summed over its blocks (zeros when the information is not asked)."""
        X, y, fw = self.X, self.y, self.fw
        p = X.shape[1]
        upper = np.zeros((p, p), order="F")
        score = np.zeros(p)
        first, last = self.halves[half]
        for start in range(first, last, BLOCK_ROWS):
            stop = min(start + BLOCK_ROWS, last)
            xb, eta = X[start:stop], self.eta[start:stop]
            np.matmul(xb, beta, out=eta)
            if deviance:
                self.terms[start:stop] = fw[start:stop] * (_log1p_exp(eta) - y[start:stop] * eta)
            if information:
                mu = expit(eta)
                root = self.work[half][:(stop - start) * p].reshape((stop - start, p), order="F")
                np.multiply(xb, np.sqrt(fw[start:stop] * mu * (1.0 - mu))[:, None], out=root)
                upper = dsyrk(1.0, root, beta=1.0, c=upper, trans=1, overwrite_c=1)
                score += xb.T @ (fw[start:stop] * (y[start:stop] - mu))
        return upper, score

    def deviance(self) -> float:
        """The deviance at the point last evaluated."""
        return _deviance(self.y, self.eta, self.fw)


def _limit(X: np.ndarray, y: np.ndarray, fw: np.ndarray, outside: np.ndarray, iterations: int,
           max_iter: int) -> LogisticFit:
    """The supremum of the likelihood under separation: the separated rows fitted exactly (0 or 1), the rest
    (not separable, so their MLE exists) by their own fit on a full-rank set of columns (on the rest the
    columns are collinear: the separating direction is 0 there); columns left out get coefficient 0."""
    n, p = X.shape
    rest = (fw > 0) & ~outside
    if not rest.any() or np.all(y[rest] == y[rest][0]):
        return _unfitted(n, p, iterations, True)  # complete separation: nothing left to fit
    Xr = X[rest]
    # Columns in order (the intercept first), each kept when it adds to the rank: the rank of X_rest's
    # columns is that of the same columns of its R factor (p × p, cheap to test).
    r = qr(Xr, mode="r")[0][:p]
    chosen: list[int] = []
    for j in range(p):
        if np.linalg.matrix_rank(r[:, [*chosen, j]], tol=1e-9 * max(1.0, float(np.abs(r).max()))) > len(chosen):
            chosen.append(j)
    columns = np.asarray(chosen, dtype=np.int64)
    beta, _, inverse, converged, more, _ = _newton(np.asfortranarray(Xr[:, columns]), y[rest], fw[rest],
                                                   np.zeros(columns.size), max_iter, watch=False)
    if not converged:
        return _unfitted(n, p, iterations + more, True)
    coef = np.zeros(p)
    coef[columns] = beta
    cov = np.full((p, p), np.nan)
    cov[np.ix_(columns, columns)] = inverse
    fitted = expit(X @ coef)
    fitted[outside] = y[outside]
    separating = np.ones(p, dtype=bool)
    separating[columns] = False
    separating[0] = False  # the intercept is not a covariate
    return LogisticFit(coef, cov, fitted, True, iterations + more, True, outside, separating)
