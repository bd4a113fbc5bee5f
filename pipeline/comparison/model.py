"""Propensity model, weights and balance of one population in one call (used for the whole analysis
population, every bootstrap replicate and every subgroup), and the subsetting of the patient-level data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.comparison.balance import Balance, balance_table
from pipeline.comparison.estimates import ComparisonData
from pipeline.comparison.propensity import Design, PropensityFit, build_design, fit_propensity
from pipeline.comparison.weights import propensity_weights


@dataclass(frozen=True)
class Weighting:
    design: Design
    fit: PropensityFit
    weights: np.ndarray
    balance: Balance
    scheme: str


def weigh(patients: pd.DataFrame, scheme: str = "overlap", truncation: tuple[float, float] = (1.0, 99.0)
          ) -> Weighting:
    """SAP 6 from covariates to balance: design (imputation, indicators, constants dropped), logistic model,
    weights, balance table."""
    treated = patients["treated"].to_numpy(dtype=bool)
    design = build_design(patients)
    fit = fit_propensity(design.x, treated)
    w = propensity_weights(fit.score, treated, scheme, truncation)
    return Weighting(design, fit, w, balance_table(design.x, treated, w, fit.score), scheme)


def refit_weights(design: Design, treated: np.ndarray, counts: np.ndarray, scheme: str,
                  truncation: tuple[float, float]) -> np.ndarray:
    """Weights from the propensity model re-fitted on a bootstrap resample (counts = times drawn)."""
    fit = fit_propensity(design.x, treated, freq_weights=counts)
    drawn = counts > 0
    w = np.zeros(treated.size)
    # Truncation percentiles from the patients in the resample, as if it were the data.
    w[drawn] = propensity_weights(fit.score[drawn], treated[drawn], scheme, truncation)
    return w


def subset(data: ComparisonData, mask: np.ndarray) -> ComparisonData:
    """The patients where mask is true, with the long tables' `row` renumbered to match."""
    keep = np.flatnonzero(mask)
    new_row = np.full(mask.size, -1)
    new_row[keep] = np.arange(keep.size)

    def remap(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[mask[frame["row"].to_numpy()]].copy()
        out["row"] = new_row[out["row"].to_numpy()]
        return out.reset_index(drop=True)

    return ComparisonData(data.patients.iloc[keep].reset_index(drop=True), remap(data.changes),
                          remap(data.satisfaction), data.primary_visit)
