"""Balance diagnostics of SAP section 6: SMDs before and after weighting, effective sample size, equipoise.

SMD = (mean_treated − mean_comparator) / sqrt((s1² + s0²) / 2), where s1², s0² are the sample variances
(n − 1) of the UNWEIGHTED arms: the same denominator before and after weighting, so that the change of an SMD
is the change of the mean difference alone (Austin & Stuart 2015). After weighting the means are weighted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

SMD_LIMIT = 0.1  # SAP gate: every |SMD| after weighting <= 0.1
EQUIPOISE_BAND = (0.3, 0.7)  # Walker et al. 2013: preference score in [0.3, 0.7]
EQUIPOISE_MINIMUM = 0.20  # SAP: share of patients in the band


def smd(x: ArrayLike, treated: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Standardized mean difference (treated − comparator), pooled SD of the unweighted arms."""
    v = np.asarray(x, dtype=float)
    t = np.asarray(treated).astype(bool)
    w = np.ones(v.size) if weights is None else np.asarray(weights, dtype=float)
    diff = np.average(v[t], weights=w[t]) - np.average(v[~t], weights=w[~t])
    pooled = np.sqrt((np.var(v[t], ddof=1) + np.var(v[~t], ddof=1)) / 2)
    if pooled == 0:
        return 0.0 if diff == 0 else float(np.copysign(np.inf, diff))
    return float(diff / pooled)


def effective_sample_size(weights: ArrayLike) -> float:
    """Kish's effective sample size (Σw)² / Σw²."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / np.sum(w * w)) if w.size else 0.0


def preference_score(score: ArrayLike, treated: ArrayLike) -> np.ndarray:
    """Walker et al. (2013): logit F = logit e − logit P, P the share treated; removes the arms' sizes."""
    e = np.clip(np.asarray(score, dtype=float), 1e-15, 1 - 1e-15)
    p = np.asarray(treated).astype(bool).mean()
    logit = np.log(e / (1 - e)) - np.log(p / (1 - p))
    return 1.0 / (1.0 + np.exp(-logit))


def equipoise_share(score: ArrayLike, treated: ArrayLike) -> float:
    """Share of patients whose preference score lies in [0.3, 0.7]."""
    f = preference_score(score, treated)
    return float(np.mean((f >= EQUIPOISE_BAND[0]) & (f <= EQUIPOISE_BAND[1])))


@dataclass(frozen=True)
class Balance:
    table: pd.DataFrame  # covariate, mean/smd before and after
    ess: dict[str, float]  # arm role -> ESS after weighting
    n: dict[str, int]
    equipoise: float

    @property
    def max_abs_smd_after(self) -> float:
        return float(self.table["smd_after"].abs().max()) if len(self.table) else 0.0

    @property
    def passed(self) -> bool:
        return bool(self.max_abs_smd_after <= SMD_LIMIT)

    @property
    def equipoise_passed(self) -> bool:
        return bool(self.equipoise >= EQUIPOISE_MINIMUM)


def balance_table(x: pd.DataFrame, treated: ArrayLike, weights: ArrayLike, score: ArrayLike) -> Balance:
    """SMD before and after weighting for every column of the design, ESS per arm and equipoise."""
    t = np.asarray(treated).astype(bool)
    w = np.asarray(weights, dtype=float)
    rows = []
    for name in x.columns:
        v = x[name].to_numpy(dtype=float)
        rows.append({
            "covariate": name,
            "mean_treatment_before": float(v[t].mean()), "mean_comparator_before": float(v[~t].mean()),
            "mean_treatment_after": float(np.average(v[t], weights=w[t])),
            "mean_comparator_after": float(np.average(v[~t], weights=w[~t])),
            "smd_before": smd(v, t), "smd_after": smd(v, t, w),
        })
    table = pd.DataFrame(rows, columns=["covariate", "mean_treatment_before", "mean_comparator_before",
                                        "mean_treatment_after", "mean_comparator_after", "smd_before",
                                        "smd_after"])
    return Balance(
        table,
        {"treatment": effective_sample_size(w[t]), "comparator": effective_sample_size(w[~t])},
        {"treatment": int(t.sum()), "comparator": int((~t).sum())},
        equipoise_share(score, t),
    )
