"""The twelve propensity covariates of the simulated studies (benchmarks/comparison_coverage.py,
benchmarks/mar_coverage.py): one draw, so that every coverage study has the same case mix.

The order of the draws is part of the design: a seed gives the same study only while every draw keeps its
place, so add new draws after these, never between them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd


class Covariates(NamedTuple):
    """The covariate frame and the four covariates that drive confounding (complete: drawn before
    `blank_bmi_and_odi` empties some of the frame's)."""

    frame: pd.DataFrame
    age: np.ndarray
    asa: np.ndarray
    diabetes: np.ndarray
    odi: np.ndarray


def other_covariates(rng: np.random.Generator, n: int, age: np.ndarray, asa: np.ndarray, diabetes: np.ndarray,
                     odi: np.ndarray) -> pd.DataFrame:
    """The twelve propensity covariates: the four that drive confounding, drawn by the caller (a scenario may
    shift them, e.g. by site), and the other eight drawn here."""
    return pd.DataFrame({
        "age_at_index": age, "female": (rng.random(n) < 0.55).astype(float), "bmi": rng.normal(29, 5, n),
        "diabetes": diabetes, "smoker": (rng.random(n) < 0.15).astype(float),
        "prior_esi": (rng.random(n) < 0.6).astype(float), "symptom_months": rng.gamma(2, 12, n),
        "levels_treated": rng.integers(1, 3, n).astype(float), "asa_class": asa, "baseline_odi": odi,
        "baseline_nrs_back": np.clip(rng.normal(6, 2, n), 0, 10),
        "baseline_nrs_leg": np.clip(rng.normal(6, 2, n), 0, 10),
    })


def draw_covariates(rng: np.random.Generator, n: int) -> Covariates:
    """The twelve covariates of n patients: age (mean 73), ASA class 1-4, diabetes (25%) and baseline ODI
    (mean 45), then the other eight."""
    age, asa = rng.normal(73, 7, n), rng.integers(1, 5, n).astype(float)
    diabetes, odi = (rng.random(n) < 0.25).astype(float), np.clip(rng.normal(45, 12, n), 0, 100)
    return Covariates(other_covariates(rng, n, age, asa, diabetes, odi), age, asa, diabetes, odi)


def blank_bmi_and_odi(rng: np.random.Generator, frame: pd.DataFrame) -> None:
    """About 5% of BMI and of baseline ODI missing (in place), as a registry delivers them."""
    frame.loc[rng.random(len(frame)) < 0.05, "bmi"] = np.nan
    frame.loc[rng.random(len(frame)) < 0.05, "baseline_odi"] = np.nan
