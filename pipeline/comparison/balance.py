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


@dataclass(frozen=True)
class BalanceGate:
    """The SAP 6 gates (study.toml [comparison]; these defaults are the SAP's): every |SMD| after weighting
    <= smd_limit; equipoise: share of patients with preference score in equipoise_band >= equipoise_minimum
    (Walker et al. 2013)."""

    smd_limit: float = 0.1
    equipoise_band: tuple[float, float] = (0.3, 0.7)
    equipoise_minimum: float = 0.20


SAP_GATE = BalanceGate()


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


def equipoise_share(score: ArrayLike, treated: ArrayLike, band: tuple[float, float] = (0.3, 0.7)) -> float:
    """Share of patients whose preference score lies in `band` (both ends included)."""
    f = preference_score(score, treated)
    return float(np.mean((f >= band[0]) & (f <= band[1])))


@dataclass(frozen=True)
class Balance:
    table: pd.DataFrame  # covariate, mean/smd before and after
    ess: dict[str, float]  # arm role -> ESS after weighting
    n: dict[str, int]
    equipoise: float
    gate: BalanceGate = SAP_GATE

    @property
    def max_abs_smd_after(self) -> float:
        return float(self.table["smd_after"].abs().max()) if len(self.table) else 0.0

    @property
    def passed(self) -> bool:
        return bool(self.max_abs_smd_after <= self.gate.smd_limit)

    @property
    def equipoise_passed(self) -> bool:
        return bool(self.equipoise >= self.gate.equipoise_minimum)

    def balanced(self) -> pd.Series:
        """Per covariate of `table`: |SMD| after weighting within the gate."""
        return self.table["smd_after"].abs() <= self.gate.smd_limit


def balance_table(x: pd.DataFrame, treated: ArrayLike, weights: ArrayLike, score: ArrayLike,
                  gate: BalanceGate = SAP_GATE) -> Balance:
    """SMD before and after weighting for every column of the design, ESS per arm and equipoise.
    The same formulas as smd(), for all columns at once (one gather per arm instead of one per column)."""
    t = np.asarray(treated).astype(bool)
    w = np.asarray(weights, dtype=float)
    values = np.asfortranarray(x.to_numpy(dtype=float))  # columns contiguous: pairwise sums per column
    vt, vc, wt, wc = values[t], values[~t], w[t], w[~t]
    with np.errstate(invalid="ignore", divide="ignore"):
        before = (vt.mean(axis=0), vc.mean(axis=0))
        after = ((vt * wt[:, None]).sum(axis=0) / wt.sum(), (vc * wc[:, None]).sum(axis=0) / wc.sum())
        pooled = np.sqrt((vt.var(axis=0, ddof=1) + vc.var(axis=0, ddof=1)) / 2)

    def standardized(diff: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(pooled == 0, np.where(diff == 0, 0.0, np.copysign(np.inf, diff)), diff / pooled)

    table = pd.DataFrame({
        "covariate": list(x.columns), "mean_treatment_before": before[0], "mean_comparator_before": before[1],
        "mean_treatment_after": after[0], "mean_comparator_after": after[1],
        "smd_before": standardized(before[0] - before[1]), "smd_after": standardized(after[0] - after[1]),
    })
    return Balance(
        table,
        {"treatment": effective_sample_size(wt), "comparator": effective_sample_size(wc)},
        {"treatment": int(t.sum()), "comparator": int((~t).sum())},
        equipoise_share(score, t, gate.equipoise_band),
        gate,
    )
