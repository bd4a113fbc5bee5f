"""Seeded nonparametric bootstrap of the adjusted estimates that re-fits the propensity model in every replicate
(so the CI reflects the estimation of the weights, which the sandwich SE ignores).

A replicate draws n patients with replacement, as multinomial counts c_i (a patient drawn twice counts twice
in the propensity model, via frequency weights, and in every estimate, via weight c_i · w_i). Long tables
(one row per patient and visit) therefore need no copying. CI: the 2.5th and 97.5th percentiles of the
replicates (replicates where an estimate is not finite are left out of that estimate's percentiles).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import numpy as np

from pipeline.estimable import NotEstimable


def bootstrap_intervals(n: int, weights_for: Callable[[np.ndarray], np.ndarray],
                        estimates_for: Callable[[np.ndarray], dict[Hashable, float]], replicates: int,
                        seed: int, level: float = 0.95) -> dict[Hashable, tuple[float, float]]:
    """Percentile CIs. weights_for(counts) re-fits the propensity model on the resample and returns a weight per
    patient; estimates_for(counts * weights) returns the point estimates of that replicate."""
    rng = np.random.default_rng(seed)
    draws: dict[Hashable, list[float]] = {}
    for _ in range(replicates):
        counts = rng.multinomial(n, np.full(n, 1.0 / n)).astype(float)
        try:
            w = weights_for(counts)
        except (NotEstimable, np.linalg.LinAlgError, ValueError):
            continue  # a degenerate resample (e.g. separated, one arm lost a category entirely): skip it
        for key, value in estimates_for(counts * w).items():
            draws.setdefault(key, []).append(value)
    alpha = (1 - level) / 2
    out: dict[Hashable, tuple[float, float]] = {}
    for key, values in draws.items():
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        out[key] = (float(np.quantile(v, alpha)), float(np.quantile(v, 1 - alpha))) if v.size else (np.nan, np.nan)
    return out
