"""Attendance models of SAP 3.1 (missing follow-up): who is assessed at a visit, and the inverse probability of
attendance weights (IPAW) that make the assessed patients stand for every eligible patient.

One logistic regression per instrument and post-baseline visit, over both arms, of *assessed in the window* on
an intercept, the arm, the propensity-model covariates (imputed by the comparison stage's `build_design`,
pipeline/comparison/propensity.py), site indicators (sites with fewer eligible patients than the suppression
threshold pooled into one level; none when one level is left) and the patient's most recent value of the
instrument observed before the window (for satisfaction: of ODI). Fitted by the pipeline's one logistic
fitter (pipeline/comparison/logistic.py), whose separation detection decides the fall-back.

Weight of an assessed patient = P̂(assessed | arm) / P̂(assessed | x) (stabilized: the arm's share assessed
among its eligible patients), truncated at a percentile (default 99) of the assessed patients' weights.
Complete case (weight 1) instead, with the reason recorded, when fewer than `minimum` patients are assessed
or not assessed, when the data are separated (completely or quasi-completely: some fitted probabilities are
exactly 0 or 1, so some weights would be infinite), or when the fit fails to converge.

Everything works on numpy arrays of the eligible patients of one model: no loop over patients.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from pipeline.comparison.logistic import LogisticFit, logistic_mle

IPAW = "ipaw"
COMPLETE_CASE = "complete_case"
METHODS = (IPAW, COMPLETE_CASE)


def too_few(minimum: int) -> str:
    return f"fewer than {minimum} assessed or not assessed patients"


SEPARATED = "the attendance model's covariates separate assessed from not assessed patients"
NOT_CONVERGED = "the attendance model did not converge"


@dataclass(frozen=True)
class Attendance:
    """The attendance weights of one instrument and visit, over its eligible patients (in their order)."""

    weights: np.ndarray  # assessed: the weight (1 under complete case); not assessed: NaN
    method: str  # "ipaw" or "complete_case"
    reason: str | None  # why complete case (None under ipaw)
    names: tuple[str, ...]  # the model's terms, intercept first
    fit: LogisticFit | None = None  # None when no model was fitted

    @property
    def coef(self) -> dict[str, float]:
        """Term -> coefficient (empty without a fit): a starting value for the next model."""
        if self.fit is None:
            return {}
        return dict(zip(self.names, (float(c) for c in self.fit.coef), strict=True))


def site_indicators(site: ArrayLike, minimum: int) -> tuple[np.ndarray, list[str]]:
    """0/1 columns for the sites of the eligible patients (`site`: integer codes): sites with fewer than
    `minimum` patients pooled into one level; the largest level is the reference (no column); no columns when
    one level is left. Names: `site_<code>`, `site_pooled`."""
    codes = np.asarray(site, dtype=np.int64)
    if codes.size == 0:
        return np.zeros((0, 0)), []
    # Counts and levels by bincount (codes are small non-negative integers): no sort of the patients.
    counts = np.bincount(codes)
    present = np.flatnonzero(counts)
    small = present[counts[present] < minimum]
    level = codes
    pooled = -1
    if small.size:
        pooled = int(counts.size)  # a code no site has
        is_small = np.zeros(counts.size, dtype=bool)
        is_small[small] = True
        level = np.where(is_small[codes], pooled, codes)
    level_counts = np.bincount(level)
    levels = np.flatnonzero(level_counts)
    sizes = level_counts[levels]
    if levels.size <= 1:
        return np.zeros((codes.size, 0)), []
    reference = levels[np.argmax(sizes)]
    kept = [lv for lv in levels if lv != reference]
    columns = np.empty((codes.size, len(kept)), order="F")
    for j, lv in enumerate(kept):
        columns[:, j] = level == lv
    return columns, [("site_pooled" if lv == pooled else f"site_{lv}") for lv in kept]


def last_value_columns(values: ArrayLike) -> tuple[np.ndarray, list[str]]:
    """The most recent earlier value as a column; where no value exists at all (satisfaction without any ODI)
    it is imputed by the median of the others with a 0/1 indicator `last_value_missing`, as the comparison
    stage imputes a covariate. A constant column is left out (it would only duplicate the intercept)."""
    v = np.asarray(values, dtype=float)
    gaps = np.isnan(v)
    columns, names = [], []
    if gaps.any():
        fill = float(np.median(v[~gaps])) if (~gaps).any() else 0.0
        v = np.where(gaps, fill, v)
        columns, names = [v, gaps.astype(float)], ["last_value", "last_value_missing"]
    else:
        columns, names = [v], ["last_value"]
    keep = [j for j, c in enumerate(columns) if c.size and np.ptp(c) > 0]
    return np.column_stack([columns[j] for j in keep]) if keep else np.zeros((v.size, 0)), [names[j] for j in keep]


def attendance_design(treated: ArrayLike, covariates: np.ndarray, covariate_names: Sequence[str], site: ArrayLike,
                      last_value: ArrayLike, site_minimum: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """The model matrix of one attendance model (rows: its eligible patients), intercept first, then arm,
    covariates, site indicators and the last value; columns constant among these patients are left out
    (a covariate can be constant in a subset even when it is not in the whole population)."""
    t = np.asarray(treated, dtype=float)
    base = np.empty((t.size, 1 + np.shape(covariates)[1]), order="F")
    base[:, 0] = t
    base[:, 1:] = covariates
    return design_of_rows(base, ("treatment", *covariate_names), np.arange(t.size), site,
                          np.asarray(last_value, dtype=float), site_minimum)


def design_of_rows(base: np.ndarray, base_names: Sequence[str], rows: np.ndarray, site: ArrayLike,
                   last_value: ArrayLike, site_minimum: int, buffer: np.ndarray | None = None
                   ) -> tuple[np.ndarray, tuple[str, ...]]:
    """attendance_design of the patients `rows` of a population whose arm and covariates are the columns of
    `base` (column-ordered, the arm first; `site` and `last_value` of the same patients as `rows`, in its
    order): the columns are gathered straight into the model matrix (one contiguous gather per column) and
    the columns left out are closed up in place, so the matrix is written once. `buffer`: a 1-d float array
    to build the matrix in when it is large enough (the matrix returned is then a view of it, valid until the
    buffer is used again): one buffer for all models of a build spares each model's fresh matrix (~200 MB at
    1,000,000 patients) its page faults."""
    idx = np.asarray(rows, dtype=np.int64)
    sites, site_names = site_indicators(site, site_minimum)
    last, last_names = last_value_columns(last_value)
    names = ["intercept", *base_names, *site_names, *last_names]
    q = base.shape[1]
    size = idx.size * len(names)
    if buffer is not None and buffer.size >= size:
        x = buffer[:size].reshape((idx.size, len(names)), order="F")
    else:
        x = np.empty((idx.size, len(names)), order="F")
    x[:, 0] = 1.0
    for j in range(q):
        np.take(base[:, j], idx, out=x[:, 1 + j])
    x[:, 1 + q:1 + q + sites.shape[1]] = sites
    x[:, 1 + q + sites.shape[1]:] = last
    keep = np.ones(len(names), dtype=bool)
    if idx.size:
        varying, fingerprint = _column_summary(x)
        keep[1:] = varying[1:]
        keep &= ~_repeated_columns(x, fingerprint)
    terms = tuple(n for n, k in zip(names, keep, strict=True) if k)
    if keep.all():
        return x, terms
    # Column-ordered: moving kept columns left leaves the first len(terms) columns one contiguous block.
    for dst, src in enumerate(np.flatnonzero(keep)):
        if dst != src:
            x[:, dst] = x[:, src]
    return x[:, :len(terms)], terms


# Rows per block of the passes over a model's design (_column_summary, separating_indicator): a block
# (~1.8 MB at 27 columns) stays in cache.
SCREEN_ROWS = 8192
_PROJECTION: list[np.ndarray] = [np.zeros(0)]


def _projection(n: int) -> np.ndarray:
    """n standard normal draws (seed 0), drawn once for the largest n asked and sliced after (64 models at
    100,000 patients drew 5 million normals each refresh)."""
    if _PROJECTION[0].size < n:
        _PROJECTION[0] = np.random.default_rng(0).standard_normal(n)
    return _PROJECTION[0][:n]


def _column_summary(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(whether each column takes more than one value, its fingerprint for _repeated_columns) in one pass over
    blocks of SCREEN_ROWS rows: at 1,000,000 patients the design does not fit in any cache, and a minimum, a
    maximum and a projection read it three times."""
    n, p = x.shape
    low, high, fingerprint = np.full(p, np.inf), np.full(p, -np.inf), np.zeros(p)
    projection = _projection(n)
    for start in range(0, n, SCREEN_ROWS):
        block = x[start:start + SCREEN_ROWS]
        np.minimum(low, block.min(axis=0), out=low)
        np.maximum(high, block.max(axis=0), out=high)
        fingerprint += projection[start:start + SCREEN_ROWS] @ block
    return high > low, fingerprint


def _repeated_columns(x: np.ndarray, fingerprint: np.ndarray | None = None) -> np.ndarray:
    """Columns equal to an earlier column (e.g. the earlier value at the first visit after baseline is the
    baseline covariate itself, and their missing indicators coincide): the model keeps the first. Candidates
    by a random projection (`fingerprint`, the projection of every column, e.g. from _column_summary; by
    default one product; near-equal, since BLAS may sum two equal columns in different orders), confirmed by
    exact comparison, so the outcome does not depend on the projection drawn or on how it was summed."""
    if fingerprint is None:
        fingerprint = _projection(x.shape[0]) @ x
    tolerance = 1e-9 * (np.abs(fingerprint) + 1.0)
    repeated = np.zeros(x.shape[1], dtype=bool)
    for j in range(1, x.shape[1]):
        for i in np.flatnonzero(np.abs(fingerprint[:j] - fingerprint[j]) <= tolerance[j]):
            if not repeated[i] and np.array_equal(x[:, i], x[:, j]):
                repeated[j] = True
                break
    return repeated


def stabilized_weights(fitted: ArrayLike, assessed: ArrayLike, treated: ArrayLike,
                       percentile: float) -> np.ndarray:
    """P̂(assessed | arm) / P̂(assessed | x) for the assessed patients (NaN for the others), truncated from above
    at `percentile` of the assessed patients' weights (numpy's default linear interpolation; 100: none)."""
    p = np.asarray(fitted, dtype=float)
    a = np.asarray(assessed, dtype=bool)
    t = np.asarray(treated, dtype=bool)
    w = np.full(p.size, np.nan)
    if not a.any():
        return w
    # The arm's share assessed from counts (the mean of a 0/1 column is its count over its size, exactly).
    treated_n, treated_assessed = np.count_nonzero(t), np.count_nonzero(a & t)
    control_n, control_assessed = t.size - treated_n, np.count_nonzero(a) - treated_assessed
    share_treated = treated_assessed / treated_n if treated_n else np.nan
    share_control = control_assessed / control_n if control_n else np.nan
    weights = np.where(t[a], share_treated, share_control) / p[a]  # the assessed patients' only: gathered once
    np.minimum(weights, float(np.percentile(weights, percentile)), out=weights)
    w[a] = weights
    return w


def separating_indicator(x: np.ndarray, assessed: np.ndarray) -> bool:
    """Whether a 0/1 column has a level in which every patient was assessed, or none was (quasi-complete
    separation: the column's coefficient is infinite). The usual cause (a rare missing indicator; patients who
    never answer any ODI, in the satisfaction models) found in one pass, so the logistic fitter's linear
    program, whose cost grows steeply with the number of patients, is left for the rare other kinds.
    One pass over the design by blocks of SCREEN_ROWS rows (at 1,000,000 patients the design does not fit in
    any cache, and a pass per column and per count read it from memory ~7 times): per block, which columns
    are still 0/1 throughout and, by one product, their sums and sums among the assessed (sums of products
    of 0/1 values: integers, exact in floating point in any order)."""
    if x.shape[1] < 2 or assessed.size == 0:
        return False
    n, p = assessed.size, x.shape[1] - 1
    a = np.asarray(assessed, dtype=bool)
    binary = np.ones(p, dtype=bool)  # every value 0 or 1 so far
    counts = np.zeros((p, 2))  # per column: Σ x, Σ x among the assessed (meaningful where binary)
    for start in range(0, n, SCREEN_ROWS):
        stop = min(start + SCREEN_ROWS, n)
        columns = np.flatnonzero(binary)
        if not columns.size:
            return False
        block = x[start:stop, 1 + columns]
        binary[columns] = np.all((block == 0) | (block == 1), axis=0)
        counts[columns] += block.T @ np.column_stack([np.ones(stop - start), a[start:stop]])
    if not binary.any():
        return False
    ones, ones_assessed = counts[binary, 0], counts[binary, 1]
    zeros, zeros_assessed = n - ones, float(np.count_nonzero(a)) - ones_assessed
    return bool(np.any((ones_assessed == 0) | (ones_assessed == ones) | (zeros_assessed == 0)
                       | (zeros_assessed == zeros)))


def complete_case(assessed: np.ndarray, names: tuple[str, ...], reason: str,
                  fit: LogisticFit | None = None) -> Attendance:
    return Attendance(np.where(assessed, 1.0, np.nan), COMPLETE_CASE, reason, names, fit)


def fit_attendance(x: np.ndarray, names: tuple[str, ...], assessed: ArrayLike, treated: ArrayLike,
                   percentile: float, minimum: int, start: Mapping[str, float] | None = None) -> Attendance:
    """The attendance model on the design `x` (attendance_design) of one instrument and visit, and its weights;
    complete case when it cannot be fitted (see the module's docstring). `start`: term -> starting coefficient
    (e.g. the model of another instrument at the same visit); it only saves Newton iterations."""
    a = np.asarray(assessed, dtype=bool)
    n_assessed = int(a.sum())
    if n_assessed < minimum or a.size - n_assessed < minimum:
        return complete_case(a, names, too_few(minimum))
    if separating_indicator(x, a):
        return complete_case(a, names, SEPARATED)
    initial = None if not start else [start.get(name, 0.0) for name in names]
    try:
        fit = logistic_mle(x, a, start=initial, covariance=False)  # the weights need fitted values only
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        return complete_case(a, names, NOT_CONVERGED)
    if fit.separated:
        return complete_case(a, names, SEPARATED, fit)
    if not fit.converged or not np.all(np.isfinite(fit.fitted)) or np.any(fit.fitted[a] <= 0):
        return complete_case(a, names, NOT_CONVERGED, fit)
    return Attendance(stabilized_weights(fit.fitted, a, treated, percentile), IPAW, None, names, fit)
