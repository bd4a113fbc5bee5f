"""Weights of SAP section 6 from the propensity score e = P(treatment | x).

- overlap (default; Li, Morgan & Zaslavsky 2018): 1 − e for treated, e for comparator. Bounded, no
  truncation needed, and with a logistic propensity model fitted by maximum likelihood it balances every
  covariate of the model exactly (the score equations are the balance equations).
- ate: stabilized inverse probability weights, P(T)/e for treated and (1 − P(T))/(1 − e) for comparator,
  truncated (winsorized) at the 1st and 99th percentiles of the weights of the whole population.
- att: 1 for treated, e / (1 − e) for comparator.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

SCHEMES = ("overlap", "ate", "att")


def propensity_weights(score: ArrayLike, treated: ArrayLike, scheme: str = "overlap",
                       truncation: Sequence[float] = (1.0, 99.0)) -> np.ndarray:
    """One weight per patient; `truncation` (percentiles) applies to the ATE weights only."""
    e = np.asarray(score, dtype=float)
    t = np.asarray(treated).astype(bool)
    if scheme == "overlap":
        return np.where(t, 1.0 - e, e)
    with np.errstate(divide="ignore"):
        if scheme == "ate":
            share = t.mean()
            w = np.where(t, share / e, (1.0 - share) / (1.0 - e))
            low, high = np.percentile(w[np.isfinite(w)], truncation)
            return np.clip(w, low, high)
        if scheme == "att":
            return np.where(t, 1.0, e / (1.0 - e))
    raise ValueError(f"unknown weighting scheme {scheme!r}; expected one of {SCHEMES}")
