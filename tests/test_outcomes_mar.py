"""SAP 3.1 missing follow-up, the functions: attendance models against statsmodels' GLM, weighted means and
their HC1 CIs against statsmodels' WLS, the closed-form tipping point by hand, and a simulation with known
truth in which attendance depends on an earlier outcome and the arm (MAR given the model's terms): the IPAW
mean change recovers the truth, the complete-case mean does not."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.special import expit

from pipeline.outcomes.attendance import (
    COMPLETE_CASE,
    IPAW,
    SEPARATED,
    attendance_design,
    fit_attendance,
    last_value_columns,
    site_indicators,
    stabilized_weights,
    too_few,
)
from pipeline.outcomes.mar import from_sums, tipping_point, weighted_mean, weighted_means, why_no_tipping_point

RNG_SEED = 20261207


def _world(n: int, seed: int = RNG_SEED) -> dict[str, np.ndarray]:
    """Patients with two covariates, three sites, an earlier value and attendance depending on all of them."""
    rng = np.random.default_rng(seed)
    treated = rng.random(n) < 0.4
    age = rng.normal(65, 9, n)
    female = (rng.random(n) < 0.5).astype(float)
    site = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    earlier = rng.normal(30, 12, n)
    eta = 1.0 - 0.5 * treated + 0.02 * (age - 65) + 0.3 * female - 0.04 * (earlier - 30) + 0.4 * (site == 1)
    assessed = rng.random(n) < expit(eta)
    return {"treated": treated, "covariates": np.column_stack([age, female]), "site": site, "earlier": earlier,
            "assessed": assessed}


# --- the attendance model ---

def test_the_attendance_fit_is_statsmodels_glm_binomial_and_the_weights_follow_the_sap_formula():
    w = _world(3000)
    x, names = attendance_design(w["treated"], w["covariates"], ["age", "female"], w["site"], w["earlier"], 11)
    assert names == ("intercept", "treatment", "age", "female", "site_1", "site_2", "last_value")
    att = fit_attendance(x, names, w["assessed"], w["treated"], 99.0, 11)
    glm = sm.GLM(w["assessed"].astype(float), x, family=sm.families.Binomial()).fit(tol=1e-12)
    assert att.method == IPAW and att.reason is None
    np.testing.assert_allclose(att.fit.coef, glm.params, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(att.fit.fitted, glm.fittedvalues, rtol=1e-7)
    # Weight = P(assessed | arm) / P(assessed | x), capped at the 99th percentile of the assessed weights.
    a, t = w["assessed"], w["treated"]
    share = np.where(t, a[t].mean(), a[~t].mean())
    raw = share / glm.fittedvalues
    cap = np.percentile(raw[a], 99)
    expected = np.where(a, np.minimum(raw, cap), np.nan)
    np.testing.assert_allclose(att.weights, expected, rtol=1e-7)
    assert np.isnan(att.weights[~a]).all() and (att.weights[a] > 0).all()
    assert np.sum(raw[a] > cap) == pytest.approx(0.01 * a.sum(), abs=2)  # 1% of the assessed were capped


def test_truncation_at_100_leaves_the_weights_as_they_are():
    fitted = np.array([0.2, 0.5, 0.8, 0.4])
    assessed = np.array([True, True, True, False])
    treated = np.array([True, False, True, False])
    w = stabilized_weights(fitted, assessed, treated, 100.0)
    # P(assessed | treated) = 2/2, P(assessed | comparator) = 1/2.
    np.testing.assert_allclose(w, [1 / 0.2, 0.5 / 0.5, 1 / 0.8, np.nan])


def test_sites_below_the_threshold_are_pooled_and_the_largest_level_is_the_reference():
    site = np.array([0] * 30 + [1] * 12 + [2] * 5 + [3] * 4)  # sites 2 and 3 below 11: one pooled level of 9
    columns, names = site_indicators(site, 11)
    assert names == ["site_1", "site_pooled"]
    np.testing.assert_array_equal(columns[:, 0], site == 1)
    np.testing.assert_array_equal(columns[:, 1], site >= 2)
    # One site, or only small sites (one pooled level): no site term at all.
    assert site_indicators(np.zeros(40, dtype=int), 11)[1] == []
    assert site_indicators(np.array([0] * 5 + [1] * 5), 11)[1] == []
    # The pooled level can be the largest: then it is the reference.
    assert site_indicators(np.array([0] * 12 + [1] * 8 + [2] * 8), 11)[1] == ["site_0"]


def test_a_missing_earlier_value_is_imputed_by_the_median_with_an_indicator():
    columns, names = last_value_columns(np.array([10.0, np.nan, 30.0, 20.0]))
    assert names == ["last_value", "last_value_missing"]
    np.testing.assert_array_equal(columns, [[10, 0], [20, 1], [30, 0], [20, 0]])
    assert last_value_columns(np.array([5.0, 5.0]))[1] == []  # constant: the intercept already says it


def test_columns_constant_among_the_eligible_patients_are_left_out():
    treated = np.array([True] * 20 + [False] * 20)
    covariates = np.column_stack([np.arange(40.0), np.zeros(40)])
    x, names = attendance_design(treated, covariates, ["age", "bmi_missing"], np.zeros(40, dtype=int),
                                 np.linspace(0, 1, 40), 11)
    assert names == ("intercept", "treatment", "age", "last_value") and x.shape == (40, 4)


def test_too_few_assessed_or_unassessed_patients_fall_back_to_complete_case():
    w = _world(200)
    x, names = attendance_design(w["treated"], w["covariates"], ["age", "female"], w["site"], w["earlier"], 11)
    assessed = np.zeros(200, dtype=bool)
    assessed[:10] = True  # 10 assessed: fewer than 11
    att = fit_attendance(x, names, assessed, w["treated"], 99.0, 11)
    assert (att.method, att.reason) == (COMPLETE_CASE, too_few(11))
    np.testing.assert_array_equal(att.weights, np.where(assessed, 1.0, np.nan))
    assessed[:] = True
    assessed[:11] = False  # 11 not assessed: enough
    assert fit_attendance(x, names, assessed, w["treated"], 99.0, 11).method == IPAW
    assessed[:] = True
    assessed[:10] = False
    assert fit_attendance(x, names, assessed, w["treated"], 99.0, 11).method == COMPLETE_CASE


def test_separation_falls_back_to_complete_case():
    w = _world(400)
    x, names = attendance_design(w["treated"], w["covariates"], ["age", "female"], w["site"], w["earlier"], 11)
    separated = w["earlier"] < 30  # the earlier value decides attendance exactly
    att = fit_attendance(x, names, separated, w["treated"], 99.0, 11)
    assert (att.method, att.reason) == (COMPLETE_CASE, SEPARATED)
    # Quasi-complete: only a rare indicator separates (its 15 patients all assessed).
    rare = np.zeros(400)
    rare[:15] = 1.0
    x2, names2 = attendance_design(w["treated"], np.column_stack([w["covariates"], rare]),
                                   ["age", "female", "rare"], w["site"], w["earlier"], 11)
    assessed = w["assessed"].copy()
    assessed[:15] = True
    assert fit_attendance(x2, names2, assessed, w["treated"], 99.0, 11).method == COMPLETE_CASE


def test_a_warm_start_gives_the_same_fit():
    w = _world(2000)
    x, names = attendance_design(w["treated"], w["covariates"], ["age", "female"], w["site"], w["earlier"], 11)
    cold = fit_attendance(x, names, w["assessed"], w["treated"], 99.0, 11)
    warm = fit_attendance(x, names, w["assessed"], w["treated"], 99.0, 11,
                          start={k: v * 0.9 for k, v in cold.coef.items()})
    np.testing.assert_allclose(warm.weights, cold.weights, rtol=1e-9)


# --- weighted means with the HC1 sandwich ---

@pytest.mark.parametrize("n", [2, 5, 60, 2000])
def test_the_weighted_mean_and_its_hc1_ci_are_statsmodels_wls(n):
    rng = np.random.default_rng(n)
    y = rng.normal(-15, 12, n)
    w = rng.uniform(0.6, 2.5, n)
    fit = sm.WLS(y, np.ones(n), weights=w).fit(cov_type="HC1")
    got = weighted_mean(y, w)
    assert got.estimate == pytest.approx(fit.params[0], rel=1e-12)
    assert got.se == pytest.approx(fit.bse[0], rel=1e-10)
    lower, upper = fit.conf_int(alpha=0.05)[0]
    assert (got.lower, got.upper) == (pytest.approx(lower, rel=1e-10), pytest.approx(upper, rel=1e-10))
    assert got.n == n


def test_a_weighted_rate_is_statsmodels_wls_of_the_0_1_outcome_with_its_ci_clipped_to_0_1():
    rng = np.random.default_rng(3)
    y = (rng.random(300) < 0.7).astype(float)
    w = rng.uniform(0.5, 2, 300)
    fit = sm.WLS(y, np.ones(300), weights=w).fit(cov_type="HC1")
    got = weighted_mean(y, w, rate=True)
    assert (got.estimate, got.se) == (pytest.approx(fit.params[0], rel=1e-12), pytest.approx(fit.bse[0], rel=1e-10))
    near_one = weighted_mean(np.array([1.0] * 14 + [0.0]), np.ones(15), rate=True)
    assert near_one.upper == 1.0 and near_one.lower < near_one.estimate


def test_grouped_means_equal_one_group_at_a_time_and_the_sums_route():
    rng = np.random.default_rng(11)
    y, w, g = rng.normal(size=500), rng.uniform(0.5, 2, 500), rng.integers(0, 4, 500)
    y[::17] = np.nan  # missing outcomes are left out
    grouped = weighted_means(y, w, g, 5)
    for k in range(4):
        keep = (g == k) & ~np.isnan(y)
        one = weighted_mean(y[keep], w[keep])
        assert grouped[k].estimate == pytest.approx(one.estimate, rel=1e-12)
        assert grouped[k].se == pytest.approx(one.se, rel=1e-10)
        mean = np.sum(w[keep] * y[keep]) / np.sum(w[keep])
        sums = from_sums(keep.sum(), np.sum(w[keep]), mean, np.sum((w[keep] * (y[keep] - mean)) ** 2))
        assert sums.se == pytest.approx(one.se, rel=1e-10)
    assert math.isnan(grouped[4].estimate) and grouped[4].n == 0


def test_no_ci_for_one_patient_or_for_equal_values():
    one = weighted_mean(np.array([3.0]), np.array([1.2]))
    assert one.estimate == 3.0 and math.isnan(one.lower)
    equal = weighted_mean(np.array([1.0, 1.0, 1.0]), np.array([0.3, 1.7, 2.9]), rate=True)
    assert equal.estimate == 1.0 and math.isnan(equal.se) and math.isnan(equal.upper)


def test_unit_weights_give_the_complete_case_mean_with_its_sample_variance():
    y = np.array([-20.0, -12.0, -7.0, -25.0, -3.0])
    got = weighted_mean(y, np.ones(5))
    assert got.estimate == pytest.approx(y.mean())
    assert got.se == pytest.approx(y.std(ddof=1) / math.sqrt(5))


# --- tipping points (closed form) ---

def test_the_tipping_point_is_the_distance_from_the_near_limit_to_the_null_over_the_share_unassessed():
    # ODI change −15 (−18, −12), 40% of the eligible patients not assessed: the upper limit −12 reaches 0
    # when the mean moves by 12, i.e. δ = 12 / 0.4 = 30 points worse.
    assert tipping_point(-15.0, (-18.0, -12.0), 0.4) == pytest.approx(30.0)
    # A claim's threshold instead of the null: −5 is reached after 7 / 0.4.
    assert tipping_point(-15.0, (-18.0, -12.0), 0.4, threshold=-5.0) == pytest.approx(17.5)
    # Higher is better (−1): the lower limit 2 moves down to 0 after 2 / 0.5.
    assert tipping_point(3.0, (2.0, 4.0), 0.5, unfavourable=-1) == pytest.approx(4.0)
    # Check the closed form by shifting: the CI shifted by δ* · share has its upper limit exactly at 0.
    delta = tipping_point(-9.3, (-11.1, -7.5), 0.55)
    assert -7.5 + delta * 0.55 == pytest.approx(0.0)


@pytest.mark.parametrize(("estimate", "ci", "share", "reason"), [
    (-2.0, (-5.0, 1.0), 0.4, "the 95% CI already includes the threshold"),
    (4.0, (2.0, 6.0), 0.4, "an unfavourable shift moves the 95% CI away from the threshold"),
    (-15.0, (-18.0, -12.0), 0.0, "every eligible patient was assessed"),
    (-15.0, (math.nan, math.nan), 0.4, "no estimate with a 95% CI"),
])
def test_no_tipping_point_says_why(estimate, ci, share, reason):
    assert tipping_point(estimate, ci, share) is None
    assert why_no_tipping_point(estimate, ci, share) == reason


# --- simulation with known truth ---

def _mar_study(n: int, seed: int) -> dict[str, np.ndarray]:
    """Two arms; the M3 ODI (an earlier outcome) predicts the M12 change; attendance at M12 falls as the
    M3 ODI rises (patients who fare worse stop answering) and is lower after MILD: MAR given the attendance
    model's terms (arm, covariates, site, the earlier value; additive on the logit scale, as the model)."""
    rng = np.random.default_rng(seed)
    treated = rng.random(n) < 0.4
    age = rng.normal(66, 9, n)
    site = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    baseline = np.clip(rng.normal(46, 12, n), 0, 100)
    m3 = baseline - 18 + 4 * treated + rng.normal(0, 10, n)
    change12 = 0.8 * (m3 - baseline) + rng.normal(0, 7, n) + 0.05 * (age - 66)
    eta = 1.0 - 0.05 * (m3 - 28) - 0.6 * treated + 0.2 * (site == 2)
    assessed = rng.random(n) < expit(eta)
    return {"treated": treated, "covariates": np.column_stack([age, baseline]), "site": site, "m3": m3,
            "change": change12, "assessed": assessed}


TRUE_CHANGE = {True: 0.8 * (-18 + 4), False: 0.8 * -18}  # E[change | arm] of _mar_study, by construction


def test_ipaw_recovers_the_true_mean_change_where_complete_case_does_not():
    sim = _mar_study(30_000, RNG_SEED)
    x, names = attendance_design(sim["treated"], sim["covariates"], ["age", "baseline_odi"], sim["site"], sim["m3"],
                                 11)
    for percentile in (99.0, 100.0):  # the SAP's truncation, and none
        att = fit_attendance(x, names, sim["assessed"], sim["treated"], percentile, 11)
        assert att.method == IPAW
        for arm in (True, False):
            a = (sim["treated"] == arm) & sim["assessed"]
            truth = TRUE_CHANGE[arm]
            ipaw = weighted_mean(sim["change"][a], att.weights[a])
            cc = weighted_mean(sim["change"][a], np.ones(a.sum()))
            assert abs(ipaw.estimate - truth) < 3 * ipaw.se, (arm, percentile, ipaw, truth)
            # Complete case: those who stayed fared better, by many standard errors.
            assert cc.estimate - truth < -8 * cc.se, (arm, cc, truth)
            assert not cc.lower <= truth <= cc.upper


def test_a_column_equal_to_an_earlier_one_is_left_out():
    # At the first visit after baseline the earlier value is the baseline covariate itself.
    w = _world(100)
    baseline = w["earlier"]
    x, names = attendance_design(w["treated"], np.column_stack([w["covariates"], baseline]),
                                 ["age", "female", "baseline_odi"], w["site"], baseline, 11)
    assert names == ("intercept", "treatment", "age", "female", "baseline_odi", "site_1", "site_2")
    np.testing.assert_array_equal(x[:, 4], baseline)


def test_an_indicator_whose_patients_were_all_unassessed_is_found_without_the_linear_program():
    from pipeline.outcomes.attendance import separating_indicator

    w = _world(500)
    never = np.zeros(500)
    never[:20] = 1.0  # e.g. patients without any ODI, who never answer satisfaction either
    x, names = attendance_design(w["treated"], np.column_stack([w["covariates"], never]),
                                 ["age", "female", "last_value_missing"], w["site"], w["earlier"], 11)
    assessed = w["assessed"].copy()
    assert not separating_indicator(x, assessed)
    assessed[:20] = False
    assert separating_indicator(x, assessed)
    att = fit_attendance(x, names, assessed, w["treated"], 99.0, 11)
    assert (att.method, att.reason, att.fit) == (COMPLETE_CASE, SEPARATED, None)
    # The fitter's own detection agrees (linear program): the data are separated.
    from pipeline.comparison.logistic import logistic_mle
    assert logistic_mle(x, assessed).separated
