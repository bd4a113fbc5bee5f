"""The propensity model of SAP section 6: P(treatment | x) by unpenalized logistic regression (maximum likelihood).

Covariates: age_at_index, female, bmi, diabetes, smoker, prior_esi, symptom_months, levels_treated, asa_class
and the BASELINE ODI, NRS_BACK and NRS_LEG. A covariate with missing values in the analysis population is
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


def build_design(frame: pd.DataFrame, covariates: Sequence[str] = COVARIATES,
                 binary: Sequence[str] = BINARY) -> Design:
    """Impute, add missing indicators and drop constants, in the SAP's covariate order."""
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

