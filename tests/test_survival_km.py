"""Kaplan–Meier (SAP section 4): agreement with R's survfit(conf.type = "log-log") on public and generated data,
and the SAP's reading rules: the estimate at day d includes events on d, the number at risk counts times
≥ d, events and censored are counted over (previous day, d] (R's summary(fit, times = d))."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pipeline.survival import kaplan_meier
from tests.reference import ESTIMATE_ATOL, SE_RTOL, data, reference, survival_cases, survival_group, values

CASES = survival_cases()


def fit(name: str, group: str):
    return kaplan_meier(*survival_group(name, group)), reference(name)["km"][group]


def on_r_times(km, r_curve):
    return np.searchsorted(km.time, values(r_curve["time"]))


@pytest.mark.parametrize("name,group", CASES)
def test_curve_matches_r(name, group):
    km, r = fit(name, group)
    idx = on_r_times(km, r["curve"])
    np.testing.assert_allclose(km.surv[idx], values(r["curve"]["surv"]), atol=ESTIMATE_ATOL)


@pytest.mark.parametrize("name,group", CASES)
def test_greenwood_standard_error_matches_r(name, group):
    km, r = fit(name, group)
    ref = values(r["curve"]["std_err"])
    mine = km.se[on_r_times(km, r["curve"])]
    finite = np.isfinite(ref) & (ref > 0)
    np.testing.assert_allclose(mine[finite], ref[finite], rtol=SE_RTOL)


@pytest.mark.parametrize("name,group", CASES)
def test_loglog_confidence_interval_matches_r(name, group):
    km, r = fit(name, group)
    lower, upper = km.confidence_interval()
    idx = on_r_times(km, r["curve"])
    np.testing.assert_allclose(lower[idx], values(r["curve"]["lower"]), atol=ESTIMATE_ATOL)
    np.testing.assert_allclose(upper[idx], values(r["curve"]["upper"]), atol=ESTIMATE_ATOL)


@pytest.mark.parametrize("name,group", CASES)
def test_reporting_days_match_r_summary_times(name, group):
    km, r = fit(name, group)
    at = km.at(values(r["at"]["time"]))
    np.testing.assert_allclose(at.surv, values(r["at"]["surv"]), atol=ESTIMATE_ATOL)
    np.testing.assert_array_equal(at.at_risk, values(r["at"]["n_risk"]))
    np.testing.assert_array_equal(at.events, values(r["at"]["n_event"]))
    np.testing.assert_array_equal(at.censored, values(r["at"]["n_censor"]))


@pytest.mark.parametrize("name,group", CASES)
def test_median_and_its_ci_match_r_print(name, group):
    km, r = fit(name, group)
    expected = [values(r["median"][k])[0] for k in ("median", "lower", "upper")]
    np.testing.assert_allclose(km.median(), expected, atol=ESTIMATE_ATOL)


def test_estimate_on_a_day_includes_that_days_events():
    km = kaplan_meier([10, 20, 20, 30], [1, 1, 0, 1])
    assert km.at([20]).surv[0] == pytest.approx(0.75 * (1 - 1 / 3))


def test_number_at_risk_counts_times_on_or_after_the_day():
    km = kaplan_meier([10, 20, 20, 30, 40], [1, 1, 0, 0, 1])
    np.testing.assert_array_equal(km.at([20, 25, 41]).at_risk, [4, 2, 0])


def test_events_and_censored_are_counted_per_interval_ending_on_the_day():
    km = kaplan_meier([0, 365, 366, 700, 730, 731], [1, 1, 0, 1, 0, 1])
    at = km.at([365, 730])
    np.testing.assert_array_equal(at.events, [2, 1])
    np.testing.assert_array_equal(at.censored, [0, 2])


def test_ci_is_undefined_before_the_first_event_as_in_r():
    lower, upper = kaplan_meier([5, 10, 20], [0, 1, 0]).confidence_interval()
    assert np.isnan(lower[0]) and np.isnan(upper[0])


def test_median_on_a_flat_half_is_the_midpoint_as_in_r():
    km = kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1])
    assert km.median()[0] == pytest.approx(2.5)


def test_agrees_with_lifelines_for_unweighted_data():
    from lifelines import KaplanMeierFitter

    frame = data("waltons")
    km = kaplan_meier(frame["T"], frame["E"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lf = KaplanMeierFitter().fit(frame["T"], frame["E"])
    np.testing.assert_allclose(km.surv, lf.survival_function_.loc[km.time].to_numpy().ravel(), atol=1e-12)
    lower = lf.confidence_interval_.loc[km.time].to_numpy()[:, 0]
    mine = km.confidence_interval()[0]
    both = np.isfinite(mine)
    np.testing.assert_allclose(mine[both], lower[both], atol=1e-10)


# --- the CI before the first event (issue 15 audit): R's summary(fit, times) values, stored by
# tests/reference/km_before_first_event.R ---

@pytest.mark.parametrize("kind", ["unweighted", "weighted"])
def test_ci_before_the_first_time_is_one_one_as_r_reports(kind):
    ref = reference("km_before_first_event")
    r = ref[kind]
    weights = np.asarray(ref["weight"], dtype=float) if kind == "weighted" else None
    at = kaplan_meier(np.asarray(ref["time"], dtype=float), np.asarray(ref["status"]), weights).at(r["day"])
    for name, ours in (("surv", at.surv), ("lower", at.lower), ("upper", at.upper)):
        theirs = np.array([np.nan if v is None else v for v in r[name]], dtype=float)
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, equal_nan=True, err_msg=name)
    assert (at.lower[0], at.upper[0]) == (1.0, 1.0)  # day 1: before every time of the curve
