"""Random-effects pooling of the site estimates (pipeline/comparison/heterogeneity.py) against R's
metafor::rma(method = "REML", test = "knha") and predict(), values stored by
tests/reference/make_heterogeneity.R (R is not needed here)."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import t as student_t

from pipeline.comparison.heterogeneity import FEWER_THAN_TWO, INVALID_VARIANCE, random_effects, reml_tau2
from pipeline.estimable import NotEstimable

REFERENCE = json.loads((Path(__file__).parent / "reference" / "heterogeneity.json").read_text())
CASES = {c["name"]: c for c in REFERENCE["cases"]}
TOL = 1e-6


def _compare(fit, ref, tol):
    assert fit.estimate == pytest.approx(ref["estimate"], abs=tol)
    assert fit.se == pytest.approx(ref["se"], abs=tol)
    assert fit.lower == pytest.approx(ref["ci_lower"], abs=tol)
    assert fit.upper == pytest.approx(ref["ci_upper"], abs=tol)
    assert fit.tau2 == pytest.approx(ref["tau2"], abs=tol)
    assert 100 * fit.i2 == pytest.approx(ref["i2_percent"], abs=100 * tol)
    assert fit.typical_variance == pytest.approx(ref["vt"], abs=tol)
    assert fit.pi_lower == pytest.approx(ref["pi_lower"], abs=tol)
    assert fit.pi_upper == pytest.approx(ref["pi_upper"], abs=tol)
    assert fit.df == ref["df"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_agrees_with_metafor_iterated_to_convergence(name):
    case = CASES[name]
    _compare(random_effects(case["yi"], case["vi"]), case["tight"], TOL)


@pytest.mark.parametrize("name", sorted(CASES))
def test_reproduces_metafor_default_output_with_its_threshold(name):
    """The same algorithm stopped at metafor's default threshold gives metafor's default numbers."""
    case = CASES[name]
    _compare(random_effects(case["yi"], case["vi"], threshold=1e-5), case["default"], 1e-9)


def test_the_reference_covers_the_cases_the_brief_asks_for():
    assert CASES["bcg"]["tight"]["tau2"] > 0.2 and len(CASES["bcg"]["yi"]) == 13
    assert CASES["boundary"]["tight"]["tau2"] == 0
    assert len(CASES["two_sites"]["yi"]) == 2 and CASES["two_sites"]["tight"]["df"] == 1
    assert CASES["large"]["tight"]["i2_percent"] > 95


def test_reml_tau2_maximises_the_restricted_likelihood():
    """An independent route: the REML τ² is where the profile restricted log-likelihood peaks (grid search)."""
    case = CASES["sites_like"]
    y, v = np.array(case["yi"]), np.array(case["vi"])

    def loglik(t2):
        w = 1 / (v + t2)
        mu = np.sum(w * y) / np.sum(w)
        return -0.5 * np.sum(np.log(v + t2)) - 0.5 * np.log(np.sum(w)) - 0.5 * np.sum(w * (y - mu) ** 2)

    grid = np.linspace(0, 10, 100001)
    best = grid[np.argmax([loglik(g) for g in grid])]
    tau2, _ = reml_tau2(y, v)
    assert tau2 == pytest.approx(best, abs=1e-4)


def test_hksj_interval_by_hand_and_not_truncated():
    """Knapp–Hartung without the ad hoc truncation: s² < 1 narrows the interval below the z-based one."""
    case = CASES["boundary"]
    fit = random_effects(case["yi"], case["vi"])
    y, v = np.array(case["yi"]), np.array(case["vi"])
    w = 1 / (v + fit.tau2)
    mu = np.sum(w * y) / np.sum(w)
    s2 = np.sum(w * (y - mu) ** 2) / (len(y) - 1)
    assert s2 < 1
    half = student_t.ppf(0.975, len(y) - 1) * math.sqrt(s2 / np.sum(w))
    assert (fit.lower, fit.upper) == pytest.approx((mu - half, mu + half), abs=1e-12)


def test_two_sites_every_number_defined_with_one_df():
    fit = random_effects([-0.5, 0.3], [0.04, 0.09])
    assert fit.df == 1 and all(math.isfinite(x) for x in (fit.lower, fit.upper, fit.pi_lower, fit.pi_upper))
    assert fit.upper - fit.lower > 10 * (0.3 + 0.5)  # t(1) = 12.71: wide by construction


@pytest.mark.parametrize("y, v, reason", [([1.0], [0.1], FEWER_THAN_TWO), ([], [], FEWER_THAN_TWO),
                                          ([1.0, 2.0], [0.1, 0.0], INVALID_VARIANCE),
                                          ([1.0, float("nan")], [0.1, 0.2], INVALID_VARIANCE)])
def test_not_estimable_with_a_reason(y, v, reason):
    with pytest.raises(NotEstimable) as err:
        random_effects(y, v)
    assert err.value.reason == reason
