"""Restricted mean survival time to tau (SAP 4.1): estimate and standard error as R's survfit(..., rmean = tau)
(survival:::survmean), the difference between arms, and why lifelines' variance is not used."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pipeline.survival import kaplan_meier, rmst, rmst_difference
from pipeline.survival.rmst import Rmst
from tests.reference import ESTIMATE_ATOL, SE_RTOL, data, reference, survival_cases, survival_group

CASES = survival_cases()


def curve(name: str, group: str):
    return kaplan_meier(*survival_group(name, group))


@pytest.mark.parametrize("name,group", CASES)
def test_rmst_and_its_standard_error_match_r_survmean(name, group):
    r = reference(name)["km"][group]["rmean"]
    result = rmst(curve(name, group), r["tau"])
    assert result.estimate == pytest.approx(r["rmean"], abs=ESTIMATE_ATOL)
    assert result.se == pytest.approx(r["se"], rel=SE_RTOL)


def test_rmst_without_events_before_tau_is_tau():
    result = rmst(kaplan_meier([50, 60, 70], [0, 1, 0]), 40)
    assert (result.estimate, result.se) == (40.0, 0.0)


def test_rmst_is_the_area_under_the_step_curve():
    # S = 1 on [0, 10), 0.5 on [10, 20), 0 after: area to 30 = 10 + 5.
    assert rmst(kaplan_meier([10, 20], [1, 1]), 30).estimate == pytest.approx(15.0)


def test_difference_has_independent_arm_variances_and_a_normal_ci():
    diff = rmst_difference(Rmst(1826, 1700.0, 30.0), Rmst(1826, 1650.0, 40.0))
    assert diff.estimate == 50.0
    assert diff.se == pytest.approx(50.0)
    assert (diff.lower, diff.upper) == pytest.approx((50 - 1.959964 * 50, 50 + 1.959964 * 50), rel=1e-6)


def test_difference_refuses_different_taus():
    with pytest.raises(ValueError):
        rmst_difference(Rmst(365, 300.0, 1.0), Rmst(730, 600.0, 1.0))


def test_weighted_curves_are_refused():
    with pytest.raises(ValueError, match="unweighted"):
        rmst(kaplan_meier([1, 2], [1, 1], [0.5, 2.0]), 2)


def test_lifelines_variance_is_the_spread_of_times_not_of_the_estimate():
    """lifelines returns Var(min(T, tau)) of the population: it stays put when the sample grows fourfold,
    whereas the variance of the estimate (ours, R's) falls about fourfold."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    frame = data("lung")
    small, large = frame, frame.loc[frame.index.repeat(4)]

    def lifelines_variance(rows) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = KaplanMeierFitter().fit(rows["time"], rows["status"])
            return restricted_mean_survival_time(fitted, t=730, return_variance=True)[1]

    def our_variance(rows) -> float:
        return rmst(kaplan_meier(rows["time"], rows["status"]), 730).se ** 2

    assert lifelines_variance(large) == pytest.approx(lifelines_variance(small), rel=0.01)
    assert our_variance(large) == pytest.approx(our_variance(small) / 4, rel=0.1)
    assert np.sqrt(lifelines_variance(small)) > 5 * rmst(kaplan_meier(small["time"], small["status"]), 730).se
