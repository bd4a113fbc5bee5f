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
import statsmodels.api as sm
from numpy.typing import ArrayLike

CONTINUOUS = ("age_at_index", "bmi", "symptom_months", "levels_treated", "asa_class",
              "baseline_odi", "baseline_nrs_back", "baseline_nrs_leg")
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
    x = pd.DataFrame(columns, index=frame.index)
    # Constant (zero range) columns carry no information and make the information matrix singular.
    constant = tuple(c for c in x.columns if x[c].size == 0 or np.ptp(x[c].to_numpy()) == 0)
    return Design(x.drop(columns=list(constant)), constant, imputed, missing)


@dataclass(frozen=True)
class PropensityFit:
    score: np.ndarray  # e(x) per patient
    coef: pd.Series  # intercept first
    se: pd.Series
    converged: bool


def fit_propensity(x: pd.DataFrame, treated: ArrayLike, freq_weights: ArrayLike | None = None) -> PropensityFit:
    """Unpenalized logistic regression by Newton–Raphson (statsmodels GLM, IRLS to a tight tolerance).

    `freq_weights` (bootstrap resample counts) count a patient that many times. The tight tolerance matters:
    overlap weights balance the model's covariates exactly only at the maximum of the likelihood.
    """
    y = np.asarray(treated, dtype=float)
    design = sm.add_constant(x.to_numpy(dtype=float), has_constant="add")
    names = ["intercept", *x.columns]
    model = sm.GLM(y, design, family=sm.families.Binomial(), freq_weights=freq_weights)
    result = model.fit(method="IRLS", tol=1e-12, maxiter=100)
    converged = bool(result.converged)
    # Under (quasi-)separation the MLE does not exist: IRLS drifts and some scores reach 0 or 1.
    score = np.clip(result.fittedvalues if freq_weights is None else result.predict(design), 0.0, 1.0)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(result.cov_params()))
    return PropensityFit(np.asarray(score, dtype=float), pd.Series(result.params, index=names),
                         pd.Series(se, index=names), converged)
