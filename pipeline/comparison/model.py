"""Propensity model, weights and balance of one population in one call (used for the whole analysis
population, every bootstrap replicate and every subgroup), and the same from stored weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.comparison import reasons
from pipeline.comparison.balance import SAP_GATE, Balance, BalanceGate, balance_table
from pipeline.comparison.propensity import Design, PropensityFit, build_design, fit_propensity
from pipeline.comparison.weights import propensity_weights
from pipeline.estimable import NotEstimable


def _usable(fit: PropensityFit, scheme: str) -> None:
    """Under quasi-complete separation some patients have a score of exactly 0 or 1: overlap weights give
    them weight 0 (they are outside the overlap population the scheme targets) and stay valid; ATE and ATT
    would weight patients who have no counterpart in the other arm (positivity fails): not estimable."""
    if fit.separated_patients and scheme != "overlap":
        raise NotEstimable(reasons.SEPARATION)


@dataclass(frozen=True)
class Weighting:
    design: Design
    fit: PropensityFit | None  # None when the weights were read from comparison.cohort
    score: np.ndarray
    weights: np.ndarray
    balance: Balance
    scheme: str


def weigh(patients: pd.DataFrame, scheme: str = "overlap", truncation: tuple[float, float] = (1.0, 99.0),
          start: dict[str, float] | None = None, gate: BalanceGate = SAP_GATE,
          site_minimum: int | None = None) -> Weighting:
    """SAP 6 from covariates to balance: design (imputation, indicators, constants dropped), logistic model,
    weights, balance table. `start`: starting coefficients of the model (saves iterations only).
    `site_minimum`: the suppression threshold, below which a site is pooled (needed when `patients` has a
    `site` column: build_design).
    Raises NotEstimable when the model cannot be fitted (pipeline/comparison/propensity.py) or the scheme
    cannot use it (`_usable`)."""
    treated = patients["treated"].to_numpy(dtype=bool)
    design = build_design(patients, site_minimum=site_minimum)
    fit = fit_propensity(design.x, treated, start=start)
    _usable(fit, scheme)
    w = propensity_weights(fit.score, treated, scheme, truncation)
    return Weighting(design, fit, fit.score, w, balance_table(design.x, treated, w, fit.score, gate), scheme)


def weighed(design: Design, treated: np.ndarray, score: np.ndarray, weights: np.ndarray, scheme: str,
           gate: BalanceGate = SAP_GATE) -> Weighting:
    """The Weighting of stored scores and weights (the propensity model is not re-fitted)."""
    return Weighting(design, None, score, weights, balance_table(design.x, treated, weights, score, gate), scheme)


def refit_weights(design: Design, treated: np.ndarray, counts: np.ndarray, scheme: str,
                  truncation: tuple[float, float]) -> np.ndarray:
    """Weights from the propensity model re-fitted on a bootstrap resample (counts = times drawn)."""
    fit = fit_propensity(design.x, treated, freq_weights=counts)
    _usable(fit, scheme)
    drawn = counts > 0
    w = np.zeros(treated.size)
    # Truncation percentiles from the patients in the resample, as if it were the data.
    w[drawn] = propensity_weights(fit.score[drawn], treated[drawn], scheme, truncation)
    return w

