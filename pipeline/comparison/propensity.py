"""The propensity model of SAP section 6: P(treatment | x) by unpenalized logistic regression (maximum likelihood).

Covariates: age_at_index, female, bmi, diabetes, smoker, prior_esi, symptom_months, levels_treated, asa_class
and the BASELINE ODI, NRS_BACK and NRS_LEG, and (SAP version 2) the site: one 0/1 indicator per site
except the reference, the largest site (ties: the first label in sort order); sites with fewer patients than
the suppression threshold pooled into one level "site: other (pooled)"; no site term when the population
holds one level (one site, or only small sites, which pool into one). The levels are those of the
population being modelled: a subgroup's refit recounts them within the subgroup; a bootstrap replicate keeps
the design of the data it resamples. A covariate with missing values in the analysis population is
imputed (median when continuous, 0 when 0/1) and gets a 0/1 indicator `<name>_missing`; a covariate (or
indicator) that is constant in the population is dropped and listed. No patient is dropped.

The design is what the balance table reports on ("as entered"): after imputation, indicators included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from pipeline.comparison import reasons
from pipeline.comparison.logistic import logistic_mle
from pipeline.estimable import NotEstimable

BINARY = ("female", "diabetes", "smoker", "prior_esi")
COVARIATES = ("age_at_index", "female", "bmi", "diabetes", "smoker", "prior_esi", "symptom_months",
              "levels_treated", "asa_class", "baseline_odi", "baseline_nrs_back", "baseline_nrs_leg")
SITE = "site"  # the column of a patient frame holding the site label (a label, not a patient identifier)
SITE_PREFIX = "site: "
POOLED_SITE = "site: other (pooled)"


@dataclass(frozen=True)
class Design:
    """The covariates as entered into the model (no intercept column)."""

    x: pd.DataFrame
    dropped: tuple[str, ...]  # constant in the population, left out of the model
    imputed: dict[str, float]  # covariate -> the value that replaced its missing values
    missing: dict[str, int]  # covariate -> number of patients with it missing

    @property
    def names(self) -> list[str]:
        return list(self.x.columns)


def site_indicators(site: ArrayLike, minimum: int) -> dict[str, np.ndarray]:
    """The site term of SAP 6 (version 2): name -> 0/1 column, one per level except the reference, in label
    order with the pooled level last; empty when there is one level. A site with fewer than `minimum`
    patients joins the pooled level (also when it is the only small one: the name says nothing about it).
    The reference is the largest site (ties: the first label); when every site is small, all pool into one
    level and there is no term."""
    if isinstance(site, pd.Series):
        site = site.array
    if isinstance(site, pd.Categorical):  # the cohort's site column: codes already, no string hashing
        codes, names = np.asarray(site.codes, dtype=np.int64), np.asarray(site.categories, dtype=object)
    else:
        codes, names = pd.factorize(np.asarray(site, dtype=object), sort=True)
    if codes.size == 0:
        return {}
    counts = np.bincount(codes, minlength=len(names))
    present = counts > 0  # a category without patients here (e.g. within a subgroup) is no level
    codes = np.cumsum(present)[codes] - 1
    names, counts = names[present], counts[present]
    small = counts < minimum
    if (~small).sum() == 0 or (small.sum() == 0 and names.size == 1):
        return {}  # one level: every site small (pooled together), or one site
    reference = int(np.argmax(np.where(small, -1, counts)))  # first maximum: ties go to the first label
    columns = {f"{SITE_PREFIX}{names[k]}": (codes == k).astype(float)
               for k in range(names.size) if k != reference and not small[k]}
    if small.any():
        columns[POOLED_SITE] = small[codes].astype(float)
    return columns


def build_design(frame: pd.DataFrame, covariates: Sequence[str] = COVARIATES,
                 binary: Sequence[str] = BINARY, site_minimum: int | None = None) -> Design:
    """Impute, add missing indicators and drop constants, in the SAP's covariate order; then the site
    indicators (site_indicators) when the frame has a `site` column. `site_minimum`: the suppression
    threshold, the fewest patients of a site not pooled (required with a site column)."""
    columns: dict[str, np.ndarray] = {}
    imputed: dict[str, float] = {}
    missing: dict[str, int] = {}
    for name in covariates:
        values = pd.to_numeric(frame[name], errors="coerce").astype(float).to_numpy()
        gaps = np.isnan(values)
        if gaps.any():
            observed = values[~gaps]
            # 0 for a 0/1 covariate (SAP); median otherwise; 0 if nobody has a value (then it is constant).
            fill = 0.0 if name in binary or observed.size == 0 else float(np.median(observed))
            values = np.where(gaps, fill, values)
            imputed[name], missing[name] = fill, int(gaps.sum())
            columns[name] = values
            columns[f"{name}_missing"] = gaps.astype(float)
        else:
            columns[name] = values
    if SITE in frame.columns:
        if site_minimum is None:
            raise ValueError("a frame with a site column needs site_minimum (the suppression threshold)")
        columns |= site_indicators(frame[SITE], site_minimum)
    # Constant (zero range) columns carry no information and make the information matrix singular.
    constant = tuple(c for c, v in columns.items() if v.size == 0 or np.ptp(v) == 0)
    kept = [c for c in columns if c not in constant]
    # One column-ordered block (no per-column blocks to consolidate, no copy by to_numpy(), balance or fit).
    values = np.empty((len(frame), len(kept)), order="F")
    for j, c in enumerate(kept):
        values[:, j] = columns[c]
    x = pd.DataFrame(values, index=frame.index, columns=kept, copy=False)
    return Design(x, constant, imputed, missing)


@dataclass(frozen=True)
class PropensityFit:
    score: np.ndarray  # e(x) per patient
    coef: pd.Series  # intercept first
    se: pd.Series
    converged: bool
    # Quasi-complete separation (logistic.py): patients whose covariates place them in one arm for certain
    # (score exactly 0 or 1) and the terms of the separating direction (coefficient infinite); empty otherwise.
    separated_patients: int = 0
    separating: tuple[str, ...] = ()


def fit_propensity(x: pd.DataFrame, treated: ArrayLike, freq_weights: ArrayLike | None = None,
                   start: dict[str, float] | None = None) -> PropensityFit:
    """Unpenalized logistic regression by Newton–Raphson (logistic.py; stops once every step is below 1e-8
    standard errors).

    `freq_weights` (bootstrap resample counts) count a patient that many times. The tight tolerance matters:
    overlap weights balance the model's covariates exactly only at the maximum of the likelihood.
    `start`: term -> starting coefficient (terms not named start at 0); it only saves iterations.
    Raises NotEstimable when the covariates (or one arm alone) separate the arms completely, or Newton does
    not converge; no empty design reaches numpy's linear algebra. Under quasi-complete separation the limit
    fit is returned (scores of the separated patients exactly 0 or 1, `separated_patients`, `separating`).
    """
    t = np.asarray(treated, dtype=float)
    counted = t if freq_weights is None else t[np.asarray(freq_weights, dtype=float) > 0]
    if counted.size == 0:
        raise NotEstimable(reasons.NO_PATIENTS)
    design = np.empty((len(x), x.shape[1] + 1), order="F")  # column order, as logistic_mle wants it
    design[:, 0] = 1.0
    design[:, 1:] = x.to_numpy(dtype=float)
    names = ["intercept", *x.columns]
    initial = None if start is None else [start.get(term, 0.0) for term in names]
    fit = logistic_mle(design, t, freq_weights, start=initial)
    if fit.separated and not fit.converged:  # complete separation: no fit at all
        raise NotEstimable(reasons.SEPARATION)
    if not fit.converged:
        raise NotEstimable(reasons.NOT_CONVERGED)
    score = np.clip(fit.fitted, 0.0, 1.0)
    coef, se = pd.Series(fit.coef, index=names), pd.Series(fit.se, index=names)
    if not fit.separated:
        return PropensityFit(score, coef, se, True)
    separating = tuple(n for n, flag in zip(names, fit.separating, strict=True) if flag)
    return PropensityFit(score, coef, se, True, int(fit.boundary.sum()), separating)

