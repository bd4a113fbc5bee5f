"""Wilcoxon signed-rank p-value (SAP section 3, WALK_DISTANCE and STAND_TIME) against R's documented examples
and against the test written out by hand.

References:
- Hollander M, Wolfe DA (1973). Nonparametric Statistical Methods, p. 29-30: depression scale of nine
  patients at first (x) and second (y) visit; R's `?wilcox.test` example
  `wilcox.test(x, y, paired = TRUE, alternative = "greater")` gives V = 40, p-value = 0.01953.
- Student's sleep data: `wilcox.test(extra ~ group, data = sleep, paired = TRUE)` in R warns about ties and
  zeros and gives p-value = 0.009091 (normal approximation, continuity correction).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import norm, rankdata

from pipeline.outcomes.signed_rank import wilcoxon_p

DEPRESSION_X = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
DEPRESSION_Y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
SLEEP_DIFFERENCES = [1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4]


def exact_p_by_enumeration(d: list[float]) -> float:
    """Two-sided exact p: share of the 2^n sign patterns whose V+ is at least as far from n(n+1)/4."""
    ranks = rankdata(np.abs(d))
    observed = sum(r for r, x in zip(ranks, d, strict=True) if x > 0)
    centre = len(d) * (len(d) + 1) / 4
    patterns = list(itertools.product((0, 1), repeat=len(d)))
    extreme = sum(abs(sum(r * s for r, s in zip(ranks, p, strict=True)) - centre) >= abs(observed - centre)
                  for p in patterns)
    return extreme / len(patterns)


def normal_p_by_hand(d: list[float]) -> float:
    """Zeros dropped; z = (V+ − n(n+1)/4 ∓ ½) / √(n(n+1)(2n+1)/24 − Σ(t³ − t)/48); two-sided."""
    x = np.array([v for v in d if v != 0])
    n = x.size
    ranks = rankdata(np.abs(x))
    v = ranks[x > 0].sum()
    _, ties = np.unique(np.abs(x), return_counts=True)
    variance = n * (n + 1) * (2 * n + 1) / 24 - (ties**3 - ties).sum() / 48
    diff = v - n * (n + 1) / 4
    z = (diff - math.copysign(0.5, diff)) / math.sqrt(variance)
    return 2 * norm.sf(abs(z))


def test_exact_p_for_small_samples_without_ties_matches_hollander_wolfe():
    d = [a - b for a, b in zip(DEPRESSION_X, DEPRESSION_Y, strict=True)]
    # R's one-sided p 0.01953 = 10/512; two-sided is twice that.
    assert wilcoxon_p(d) == pytest.approx(20 / 512, abs=1e-12)
    assert wilcoxon_p(d) == pytest.approx(exact_p_by_enumeration(d), abs=1e-12)


def test_ties_and_zeros_use_the_corrected_normal_approximation_as_r_does_for_the_sleep_data():
    assert wilcoxon_p(SLEEP_DIFFERENCES) == pytest.approx(0.009091, abs=5e-7)
    assert wilcoxon_p(SLEEP_DIFFERENCES) == pytest.approx(normal_p_by_hand(SLEEP_DIFFERENCES), abs=1e-12)


def test_fifty_or_more_differences_use_the_normal_approximation():
    rng = np.random.default_rng(3)
    d = list(rng.normal(0.3, 1.0, 60).round(6))
    assert wilcoxon_p(d) == pytest.approx(normal_p_by_hand(d), abs=1e-12)


def test_large_groups_with_many_ties_match_the_formula():
    rng = np.random.default_rng(4)
    d = list(rng.integers(-20, 40, 5000).astype(float))  # integer changes: heavy ties, some zeros
    assert wilcoxon_p(d) == pytest.approx(normal_p_by_hand(d), rel=1e-9)


def test_float_noise_from_unit_conversion_does_not_break_ties():
    # 100 ft and 30.48 m are the same distance; converted changes differ in the last bits only.
    noisy = [100 * 0.3048 - 0, 30.48, 30.48 + 1e-12, -10.0, 5.0, 7.0]
    clean = [30.48, 30.48, 30.48, -10.0, 5.0, 7.0]
    assert wilcoxon_p(noisy) == wilcoxon_p(clean)


def test_no_p_value_when_every_difference_is_zero():
    assert wilcoxon_p([0.0, 0.0, 0.0]) is None
