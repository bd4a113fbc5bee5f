"""Case-weighted Kaplan–Meier (for the adjusted comparison, SAP section 6): the robust (infinitesimal jackknife)
variance agrees with R's survfit for non-integer weights, the Xie & Liu variance with the paper's formula
written out in R, and both reduce to what they should on known cases."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pipeline.survival import kaplan_meier
from tests.reference import ESTIMATE_ATOL, SE_RTOL, data, reference, values

ARMS = ("0", "1")


def arm_rows(arm: str):
    frame = data("generated_competing")
    rows = frame[frame["arm"] == int(arm)]
    return rows["time"].to_numpy(), (rows["status"] == 1).astype(int).to_numpy(), rows["weight"].to_numpy()


@pytest.mark.parametrize("arm", ARMS)
def test_weighted_estimate_matches_r(arm):
    km = kaplan_meier(*arm_rows(arm))
    r = reference("generated")["weighted"][arm]["robust"]
    np.testing.assert_allclose(km.surv[np.searchsorted(km.time, values(r["time"]))], values(r["surv"]),
                               atol=ESTIMATE_ATOL)


@pytest.mark.parametrize("arm", ARMS)
def test_robust_variance_matches_r_survfit_with_non_integer_weights(arm):
    km = kaplan_meier(*arm_rows(arm), variance="robust")
    r = reference("generated")["weighted"][arm]["robust"]
    idx = np.searchsorted(km.time, values(r["time"]))
    ref = values(r["std_err"])
    np.testing.assert_allclose(km.se[idx][ref > 0], ref[ref > 0], rtol=SE_RTOL)
    lower, upper = km.confidence_interval()
    np.testing.assert_allclose(lower[idx], values(r["lower"]), atol=ESTIMATE_ATOL)
    np.testing.assert_allclose(upper[idx], values(r["upper"]), atol=ESTIMATE_ATOL)


@pytest.mark.parametrize("arm", ARMS)
def test_xie_liu_variance_matches_the_formula_computed_in_r(arm):
    km = kaplan_meier(*arm_rows(arm), variance="xie-liu")
    r = reference("generated")["weighted"][arm]["xie_liu"]
    ref = values(r["std_err"])
    mine = km.se[np.searchsorted(km.time, values(r["time"]))]
    np.testing.assert_allclose(mine[ref > 0], ref[ref > 0], rtol=SE_RTOL)


def test_weights_default_to_the_robust_variance():
    assert kaplan_meier([1, 2, 3], [1, 0, 1], [0.5, 1.5, 1.0]).variance == "robust"


def test_xie_liu_with_unit_weights_is_greenwood():
    time, event, _ = arm_rows("1")
    weighted = kaplan_meier(time, event, np.ones(time.size), variance="xie-liu")
    plain = kaplan_meier(time, event)
    np.testing.assert_allclose(weighted.surv, plain.surv, rtol=1e-14)
    np.testing.assert_allclose(weighted.se, plain.se, rtol=1e-12)


def test_xie_liu_does_not_change_when_all_weights_are_scaled():
    time, event, w = arm_rows("0")
    a = kaplan_meier(time, event, w, variance="xie-liu")
    b = kaplan_meier(time, event, 7.5 * w, variance="xie-liu")
    np.testing.assert_allclose(a.se, b.se, rtol=1e-12)


def test_frequency_weights_reproduce_the_expanded_data_set():
    # Integer weights read as frequencies with Greenwood's formula: the same curve as repeating the rows.
    time, event = np.array([3, 5, 5, 8, 9]), np.array([1, 1, 0, 1, 0])
    counts = np.array([2, 1, 3, 1, 2])
    grouped = kaplan_meier(time, event, counts, variance="greenwood")
    expanded = kaplan_meier(np.repeat(time, counts), np.repeat(event, counts))
    np.testing.assert_allclose(grouped.surv, expanded.surv)
    np.testing.assert_allclose(grouped.se, expanded.se)


def test_lifelines_weighted_ci_narrows_when_weights_are_scaled_ours_does_not():
    """Why lifelines is not used with weights: it reads them as numbers of patients, so tripling every weight
    (the same pseudo-population, no new information) narrows its CI by about √3; the robust CI is unchanged."""
    from lifelines import KaplanMeierFitter

    time, event, w = arm_rows("1")

    def lifelines_width(weights: np.ndarray) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ci = KaplanMeierFitter().fit(time, event, weights=weights).confidence_interval_
        return float(np.diff(ci.loc[:1095].iloc[-1].to_numpy())[0])

    def robust_width(weights: np.ndarray) -> float:
        km = kaplan_meier(time, event, weights)
        lower, upper = km.confidence_interval()
        i = np.searchsorted(km.time, 1095, side="right") - 1
        return float(upper[i] - lower[i])

    assert lifelines_width(3 * w) == pytest.approx(lifelines_width(w) / np.sqrt(3), rel=0.05)
    assert robust_width(3 * w) == pytest.approx(robust_width(w), rel=1e-10)
