"""Wilcoxon signed-rank test of paired changes (SAP section 3, skewed instruments), as R's
`wilcox.test(x, mu = 0)` with its defaults:

- zero differences are dropped before ranking (Wilcoxon's method);
- exact p-value when fewer than 50 non-zero differences remain and there are neither ties nor zeros;
- otherwise the normal approximation with tie-corrected variance and continuity correction.

scipy.stats.wilcoxon computes both; this module only chooses between them as R does (scipy's own "auto"
switches at n <= 50 and treats zeros differently), so that a p-value can be checked against R output.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

EXACT_BELOW = 50  # R: exact <- n < 50


def wilcoxon_p(differences: ArrayLike) -> float | None:
    """Two-sided p-value of the signed-rank test that the differences are symmetric about 0; None when
    every difference is 0 (nothing to rank)."""
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    # Rounded to 9 decimals so that float noise from unit conversion (ft and mi to metres) cannot turn two
    # equal changes into a non-tie or a zero change into a tiny non-zero one; instruments carry fewer decimals.
    d = np.round(d, 9)
    zeros = bool(np.any(d == 0))
    d = d[d != 0]
    n = d.size
    if n == 0:
        return None
    ties = np.unique(np.abs(d)).size < n
    method = "exact" if n < EXACT_BELOW and not ties and not zeros else "asymptotic"
    result = stats.wilcoxon(d, zero_method="wilcox", correction=True, method=method)
    return float(result.pvalue)
