"""Interval formulas of SAP sections 3 and 5 against published worked examples and hand computation.

References:
- Newcombe RG (1998a). Two-sided confidence intervals for the single proportion: comparison of seven
  methods. Stat Med 17:857-872, Table I, method 3 (Wilson score without continuity correction).
- Newcombe RG (1998b). Interval estimation for the difference between independent proportions: comparison
  of eleven methods. Stat Med 17:873-890, Table II, method 10 (hybrid score without continuity correction).
  The values of examples (a) and (b) below are also asserted by the test suite of the R package propint
  (m-Py/propint, tests/testthat/test_Two_Independent_Props_CI.R), as are 81/263 and 15/148 for Wilson.
- Student's sleep data (R `datasets::sleep`): `t.test(extra ~ group, data = sleep, paired = TRUE)` reports
  the 95% CI -2.4598858 to -0.7001142 for group 1 - group 2.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.outcomes.intervals import newcombe_interval, t_interval, wilson_interval

Z = 1.959963984540054  # standard normal 0.975 quantile


def wilson_by_hand(x: int, n: int) -> tuple[float, float]:
    """Wilson (1927): (2np + z² ± z√(4np(1−p) + z²)) / (2(n + z²)), written out independently of statsmodels."""
    p = x / n
    centre = 2 * n * p + Z**2
    spread = Z * math.sqrt(4 * n * p * (1 - p) + Z**2)
    return (centre - spread) / (2 * (n + Z**2)), (centre + spread) / (2 * (n + Z**2))


def newcombe_by_hand(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Newcombe (1998b) method 10 from the two hand-computed Wilson intervals."""
    p1, p2 = x1 / n1, x2 / n2
    (l1, u1), (l2, u2) = wilson_by_hand(x1, n1), wilson_by_hand(x2, n2)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


# --- Wilson score interval for a proportion ---

@pytest.mark.parametrize(
    ("x", "n", "lower", "upper"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_matches_newcombe_1998a_table_i(x, n, lower, upper):
    got = wilson_interval(x, n)
    assert (round(float(got[0]), 4), round(float(got[1]), 4)) == (lower, upper)


@pytest.mark.parametrize(("x", "n"), [(81, 263), (15, 148), (1, 29), (7, 7), (374, 505), (5, 2000)])
def test_wilson_matches_the_formula_by_hand(x, n):
    lower, upper = wilson_interval(x, n)
    assert (float(lower), float(upper)) == pytest.approx(wilson_by_hand(x, n), abs=1e-12)


def test_wilson_upper_limit_for_zero_events_is_z2_over_n_plus_z2():
    # With x = 0 the formula collapses to [0, z² / (n + z²)]: 3.8415 / 23.8415 for n = 20.
    lower, upper = wilson_interval(0, 20)
    assert float(lower) == 0.0
    assert float(upper) == pytest.approx(Z**2 / (20 + Z**2), abs=1e-12)


def test_wilson_is_vectorised_and_undefined_for_an_empty_group():
    lower, upper = wilson_interval(np.array([81, 0, 3]), np.array([263, 0, 4]))
    assert lower[0] == pytest.approx(0.2553, abs=5e-5)
    assert np.isnan(lower[1]) and np.isnan(upper[1])
    assert 0 < lower[2] < 0.75 < upper[2] < 1


def test_wilson_limits_stay_within_0_and_1():
    lower, upper = wilson_interval(np.array([0, 50]), np.array([50, 50]))
    assert lower[0] == 0.0 and upper[1] == 1.0


# --- Newcombe hybrid score interval for a difference of proportions ---

# Newcombe 1998b Table II, method 10, to 4 decimals; (a) and (b) are the ones also asserted by propint.
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), 0.2000, 0.0524, 0.3339),
    ((9, 10, 3, 10), 0.6000, 0.1705, 0.8090),
]


@pytest.mark.parametrize(("counts", "difference", "lower", "upper"), NEWCOMBE_TABLE_II)
def test_newcombe_matches_newcombe_1998b_table_ii(counts, difference, lower, upper):
    x1, n1, x2, n2 = counts
    got = newcombe_interval(x1, n1, x2, n2)
    assert round(x1 / n1 - x2 / n2, 4) == difference
    assert (round(got[0], 4), round(got[1], 4)) == (lower, upper)


# Newcombe's other examples (c)-(h): boundary cases (zero events, all events, small n), by hand.
@pytest.mark.parametrize(
    "counts",
    [(6, 7, 2, 7), (5, 56, 0, 29), (0, 10, 0, 20), (0, 10, 0, 10), (10, 10, 0, 20), (10, 10, 0, 10),
     (9, 778, 79, 1191)],
)
def test_newcombe_matches_the_hybrid_score_formula_by_hand(counts):
    assert newcombe_interval(*counts) == pytest.approx(newcombe_by_hand(*counts), abs=1e-12)


def test_newcombe_is_undefined_when_an_arm_is_empty():
    assert all(math.isnan(v) for v in newcombe_interval(3, 10, 0, 0))


# --- Student t interval for a mean ---

SLEEP_DIFFERENCES = [1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4]  # group 2 - group 1, Student (1908)


def test_t_interval_matches_r_on_the_sleep_data():
    d = np.array(SLEEP_DIFFERENCES)
    lower, upper = t_interval(d.mean(), d.std(ddof=1), d.size)
    # R reports -2.4598858 -0.7001142 for group 1 - group 2; our differences are group 2 - group 1.
    assert (float(lower), float(upper)) == pytest.approx((0.7001142, 2.4598858), abs=5e-8)


def test_t_interval_of_1_to_5_uses_the_t_table_quantile():
    # mean 3, SD √2.5, n 5; t(0.975, 4) = 2.7764 from the t table: 3 ± 2.7764 · √2.5 / √5 = 3 ± 1.9632.
    lower, upper = t_interval(3.0, math.sqrt(2.5), 5)
    assert (float(lower), float(upper)) == pytest.approx((1.0368, 4.9632), abs=1e-4)


def test_t_interval_needs_two_observations():
    lower, upper = t_interval(np.array([5.0, 5.0]), np.array([np.nan, 1.0]), np.array([1, 2]))
    assert np.isnan(lower[0]) and np.isnan(upper[0])
    assert upper[1] - lower[1] == pytest.approx(2 * 12.7062 / math.sqrt(2), abs=1e-3)  # t(0.975, 1) = 12.7062
