"""SAP section 6 formulas against worked examples and hand calculations:
E-values (VanderWeele & Ding 2017 examples, as in the EValue package's vignette), SMD and ESS by hand, the
preference score (Walker et al. 2013), the weights, the sandwich difference (statsmodels WLS HC0/HC1), the
weighted Cox robust variance (R survival 3.5.3 coxph(robust = TRUE), numbers below), and the propensity
design rules (imputation, indicators, constants)."""

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from pipeline.comparison.balance import (
    balance_table,
    effective_sample_size,
    equipoise_share,
    preference_score,
    smd,
)
from pipeline.comparison.bootstrap import bootstrap_intervals, normal_interval
from pipeline.comparison.cohort import _row_order
from pipeline.comparison.evalue import evalue_hr, evalue_ratio, evalue_rr, hr_to_rr
from pipeline.comparison.propensity import build_design, fit_propensity
from pipeline.comparison.robust import difference_from_sums, grouped_differences, weighted_difference
from pipeline.comparison.weights import propensity_weights
from pipeline.survival import cox_efron
from pipeline.survival.cox_robust import robust_variance


@pytest.mark.parametrize(("est", "lo", "hi", "e_point", "e_ci"), [
    (10.73, 8.02, 14.36, 20.95, 15.52),  # smoking and lung cancer (Hammond & Horn), paper: 20.9 and 15.5
    (3.9, 1.8, 8.7, 7.26, 3.0),  # breastfeeding and infant death, OR ≈ RR (rare), paper: 7.2 and 3.0
    (0.80, 0.71, 0.91, 1.81, 1.43),  # leukemia example (protective), paper: 1.81 and 1.43
])
def test_e_value_paper_examples(est, lo, hi, e_point, e_ci):
    ev = evalue_ratio(est, lo, hi)
    assert ev.estimate == pytest.approx(e_point, abs=0.006)
    assert ev.ci_limit == pytest.approx(e_ci, abs=0.006)


def test_e_value_is_one_when_the_ci_includes_one_and_symmetric():
    assert evalue_ratio(1.3, 0.9, 1.8).ci_limit == 1.0
    assert evalue_rr(1 / 0.8) == pytest.approx(evalue_rr(0.8))
    assert evalue_rr(1.0) == 1.0


def test_e_value_of_a_common_outcome_hr_uses_the_square_root_conversion():
    # EValue::evalues.HR(0.56, 0.46, 0.69, rare = FALSE): RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)).
    rr = (1 - 0.5 ** math.sqrt(0.56)) / (1 - 0.5 ** math.sqrt(1 / 0.56))
    assert hr_to_rr(0.56, common=True) == pytest.approx(rr)
    assert rr == pytest.approx(0.6701, abs=1e-4)  # by hand: (1 − 0.59531) / (1 − 0.39606) = 0.67009
    ev = evalue_hr(0.56, 0.46, 0.69, common=True)
    r_hi = hr_to_rr(0.69, True)
    assert ev.estimate == pytest.approx(1 / rr + math.sqrt(1 / rr * (1 / rr - 1)))
    assert ev.ci_limit == pytest.approx(1 / r_hi + math.sqrt(1 / r_hi * (1 / r_hi - 1)))
    assert evalue_hr(0.56, 0.46, 0.69, common=False).estimate == pytest.approx(evalue_rr(0.56))


def test_smd_by_hand():
    x = np.array([1.0, 2.0, 3.0, 4.0, 2.0, 6.0])
    t = np.array([1, 1, 1, 0, 0, 0])
    # treated mean 2, var 1; comparator mean 4, var 4; pooled SD sqrt(2.5)
    assert smd(x, t) == pytest.approx(-2 / math.sqrt(2.5))
    w = np.array([1.0, 1.0, 2.0, 1.0, 1.0, 2.0])
    # weighted means 9/4 and 18/4; the denominator stays the unweighted pooled SD
    assert smd(x, t, w) == pytest.approx((9 / 4 - 18 / 4) / math.sqrt(2.5))


def test_balance_table_gives_every_column_the_smd_by_hand():
    """The all-columns balance table (what the SAP 6 gate reads) against the hand values of test_smd_by_hand;
    a column constant in both arms has SMD 0, one constant within each arm but different between them ±inf."""
    t = np.array([1, 1, 1, 0, 0, 0])
    w = np.array([1.0, 1.0, 2.0, 1.0, 1.0, 2.0])
    x = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 2.0, 6.0], "constant": [5.0] * 6,
                      "split": [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]})
    table = balance_table(x, t, w, np.full(6, 0.5)).table.set_index("covariate")
    assert table.loc["x", "smd_before"] == pytest.approx(-2 / math.sqrt(2.5))
    assert table.loc["x", "smd_after"] == pytest.approx((9 / 4 - 18 / 4) / math.sqrt(2.5))
    assert table.loc["x", "mean_treatment_after"] == pytest.approx(9 / 4)
    assert table.loc["constant", "smd_before"] == 0 and table.loc["constant", "smd_after"] == 0
    assert table.loc["split", "smd_after"] == math.inf
    for column in x.columns:
        assert table.loc[column, "smd_after"] == pytest.approx(smd(x[column], t, w))


def test_ess_and_preference_score():
    assert effective_sample_size([1, 1, 1, 1]) == 4
    assert effective_sample_size([2, 1, 1]) == pytest.approx(16 / 6)
    t = np.array([1, 0, 0, 0])  # P = 0.25
    f = preference_score([0.25, 0.25, 0.5, 0.1], t)
    assert f[0] == pytest.approx(0.5)  # e = P gives preference 0.5
    assert f[2] == pytest.approx(0.75)  # odds 1 / (1/3) = 3
    assert equipoise_share([0.25, 0.25, 0.5, 0.1], t) == pytest.approx(0.5)


def test_weights():
    e = np.array([0.2, 0.5, 0.8, 0.4])
    t = np.array([1, 1, 0, 0])
    assert propensity_weights(e, t, "overlap") == pytest.approx([0.8, 0.5, 0.8, 0.4])
    assert propensity_weights(e, t, "att") == pytest.approx([1, 1, 4, 2 / 3])
    assert propensity_weights(e, t, "ate", (0, 100)) == pytest.approx([0.5 / 0.2, 1.0, 2.5, 0.5 / 0.6])
    rng = np.random.default_rng(1)
    e = rng.uniform(0.01, 0.99, 1000)
    t = rng.random(1000) < e
    w = propensity_weights(e, t, "ate", (1, 99))
    raw = np.where(t, t.mean() / e, (1 - t.mean()) / (1 - e))
    assert w.min() == pytest.approx(np.percentile(raw, 1)) and w.max() == pytest.approx(np.percentile(raw, 99))


@pytest.mark.parametrize("hc", ["HC0", "HC1"])
def test_weighted_difference_is_wls_with_sandwich(hc):
    rng = np.random.default_rng(2)
    t = rng.random(200) < 0.4
    y = 3 * t + rng.normal(size=200)
    w = rng.uniform(0.1, 1, 200)
    fit = sm.WLS(y, sm.add_constant(t.astype(float)), weights=w).fit(cov_type=hc)
    d = weighted_difference(y, t, w, hc=hc)
    assert d.estimate == pytest.approx(fit.params[1], abs=1e-12)
    assert d.se == pytest.approx(fit.bse[1], rel=1e-10)


def test_weighted_cox_robust_variance_matches_r():
    # R 4.2.2, survival 3.5.3: coxph(Surv(V1, V2) ~ V3 + V4, weights = V5, robust = TRUE, ties = "efron")
    # on exactly these data (heavy ties): coef 0.379989045257103 0.000189749444574, robust SE 0.077458523030
    # 0.143685438197.
    rng = np.random.default_rng(3)
    n = 300
    x = np.c_[rng.normal(size=n), rng.integers(0, 2, n)]
    t = np.round(rng.exponential(100 * np.exp(-0.3 * x[:, 0]), n) / 10) + 1
    e = (rng.random(n) < 0.7).astype(int)
    w = rng.uniform(0.2, 1.5, n)
    fit = cox_efron(t, e, x, w)
    assert fit.coef == pytest.approx([0.379989045257103, 0.000189749444574], abs=1e-8)
    assert np.sqrt(np.diag(robust_variance(fit, t, e, x, w))) == pytest.approx([0.077458523030, 0.143685438197],
                                                                               rel=1e-6)


def test_design_imputes_adds_indicators_and_drops_constants():
    frame = pd.DataFrame({"a": [1.0, np.nan, 3.0, 10.0], "b": [1.0, np.nan, 0.0, 1.0], "c": [5.0] * 4})
    design = build_design(frame, covariates=("a", "b", "c"), binary=("b",))
    assert design.names == ["a", "a_missing", "b", "b_missing"]
    assert design.x["a"].tolist() == [1.0, 3.0, 3.0, 10.0]  # median of 1, 3, 10
    assert design.x["b"].tolist() == [1.0, 0.0, 0.0, 1.0]
    assert design.dropped == ("c",) and design.missing == {"a": 1, "b": 1}


def test_overlap_weights_balance_the_model_covariates_exactly():
    rng = np.random.default_rng(4)
    n = 800
    frame = pd.DataFrame({"age": rng.normal(75, 7, n), "female": rng.integers(0, 2, n).astype(float),
                          "odi": rng.normal(45, 12, n)})
    frame.loc[rng.random(n) < 0.1, "odi"] = np.nan
    lin = 0.08 * (frame["age"] - 75) + 0.5 * frame["female"] - 0.03 * (frame["odi"].fillna(45) - 45)
    t = rng.random(n) < 1 / (1 + np.exp(-lin))
    design = build_design(frame, covariates=("age", "female", "odi"), binary=("female",))
    fit = fit_propensity(design.x, t)
    w = propensity_weights(fit.score, t, "overlap")
    for name in design.names:
        v = design.x[name].to_numpy()
        assert np.average(v[t], weights=w[t]) == pytest.approx(np.average(v[~t], weights=w[~t]), abs=1e-8), name


def test_bootstrap_is_seeded_and_reproducible():
    y = np.arange(50, dtype=float)

    def estimates(w):
        return {"mean": float(np.sum(w * y) / np.sum(w))}

    point = {"mean": float(y.mean())}
    one = bootstrap_intervals(50, lambda c: np.ones(50), estimates, 200, seed=9, point=point)
    two = bootstrap_intervals(50, lambda c: np.ones(50), estimates, 200, seed=9, point=point)
    assert one == two and one["mean"][0] < 24.5 < one["mean"][1]


def test_bootstrap_normal_interval_equals_a_direct_computation_from_the_replicates():
    """estimate ± 1.959964 × SD (n − 1) of the replicates; for a ratio the same on log values, exponentiated.
    The replicates are re-drawn here by hand (same seed, same multinomial draws) and the SD taken by the
    statistics module, not numpy."""
    import statistics

    rng = np.random.default_rng(1)
    y = rng.exponential(2.0, 40)

    def estimates(w):
        return {"mean": float(np.sum(w * y) / np.sum(w)), "ratio": float(np.sum(w * y) / np.sum(w) / 2.0)}

    point = {"mean": float(y.mean()), "ratio": float(y.mean() / 2.0)}
    got = bootstrap_intervals(40, lambda c: np.ones(40), estimates, 300, seed=4, point=point,
                              log_scale=lambda key: key == "ratio")
    draws = np.random.default_rng(4)
    means = []
    for _ in range(300):
        counts = draws.multinomial(40, np.full(40, 1 / 40))
        means.append(sum(c * v for c, v in zip(counts, y, strict=True)) / 40)
    sd = statistics.stdev(means)
    assert got["mean"] == pytest.approx((point["mean"] - 1.959964 * sd, point["mean"] + 1.959964 * sd), rel=1e-6)
    sd_log = statistics.stdev([math.log(m / 2.0) for m in means])
    expected = (math.exp(math.log(point["ratio"]) - 1.959964 * sd_log),
                math.exp(math.log(point["ratio"]) + 1.959964 * sd_log))
    assert got["ratio"] == pytest.approx(expected, rel=1e-6)
    # Not the percentile interval any more (it differs for a skewed statistic).
    assert got["mean"][0] != pytest.approx(float(np.quantile(means, 0.025)), rel=1e-3)


def test_bootstrap_interval_without_replicates_or_estimate_is_nan():
    assert all(math.isnan(v) for v in normal_interval(1.0, np.array([2.0])))
    assert all(math.isnan(v) for v in normal_interval(float("nan"), np.array([1.0, 2.0, 3.0])))
    assert all(math.isnan(v) for v in normal_interval(0.0, np.array([1.0, 2.0, 3.0]), log_scale=True))
    lo, hi = normal_interval(0.0, np.array([1.0, 2.0, np.nan, 3.0]))  # the NaN replicate is left out
    assert (lo, hi) == pytest.approx((-1.959964, 1.959964), rel=1e-6)


def _glm_data():
    """The data of the R reference below (numpy's PCG64 streams are stable across versions)."""
    rng = np.random.default_rng(20261124)
    n = 400
    age = rng.normal(72, 8, n)
    female = (rng.random(n) < 0.5).astype(float)
    odi = rng.normal(45, 12, n)
    miss = (rng.random(n) < 0.1).astype(float)
    odi = np.where(miss == 1, 45.0, odi)
    lin = -0.5 + 0.06 * (age - 72) + 0.4 * female - 0.02 * (odi - 45) + 0.3 * miss
    y = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(float)
    counts = rng.integers(0, 4, n).astype(float)
    return pd.DataFrame({"age": age, "female": female, "odi": odi, "odi_missing": miss}), y, counts


def test_newton_logistic_matches_r_glm_and_statsmodels():
    # R 4.2.2: glm(y ~ age + female + odi + odi_missing, family = binomial, control = glm.control(epsilon =
    # 1e-14)) on exactly these data; second fit with weights = counts (frequency weights, as a bootstrap uses).
    # SEs: sqrt(diag(solve(crossprod(X, X * w)))), w = prior weights × μ(1 − μ) at R's final coefficients (R's
    # vcov() uses the weights of the previous IRLS iterate, 3e-8 away; the coefficients agree either way).
    x, y, counts = _glm_data()
    fit = fit_propensity(x, y)
    assert fit.converged
    assert fit.coef.to_numpy() == pytest.approx(
        [-5.28223794315608, 0.0797484115496884, 0.645765035971057, -0.0263616945647833, 0.337164657692716],
        rel=1e-9)
    assert fit.se.to_numpy() == pytest.approx(
        [1.11991826253151, 0.0144024159868246, 0.217717189244668, 0.00995546939583138, 0.346485218780957], rel=1e-9)
    assert fit.score[:3] == pytest.approx([0.426828226436043, 0.115830687110304, 0.377190021002353], rel=1e-9)
    weighted = fit_propensity(x, y, freq_weights=counts)
    assert weighted.coef.to_numpy() == pytest.approx(
        [-3.54085697207377, 0.0653957464424816, 0.397568117026139, -0.0418225785872771, 0.159729491241704],
        rel=1e-9)
    assert weighted.se.to_numpy() == pytest.approx(
        [0.890393944869141, 0.0115066891231005, 0.181698011116243, 0.00871136545279419, 0.282659206477409],
        rel=1e-9)
    # statsmodels' GLM (what the model was fitted with before): the same MLE, SEs and fitted values.
    design = sm.add_constant(x.to_numpy(), has_constant="add")
    for freq, ours in ((None, fit), (counts, weighted)):
        ref = sm.GLM(y, design, family=sm.families.Binomial(), freq_weights=freq).fit(method="IRLS", tol=1e-12,
                                                                                     maxiter=100)
        assert ours.coef.to_numpy() == pytest.approx(ref.params, rel=1e-9)
        assert ours.se.to_numpy() == pytest.approx(ref.bse, rel=1e-7)  # statsmodels: previous iterate, as R
        assert ours.score == pytest.approx(ref.predict(design), rel=1e-9)


def test_newton_logistic_from_a_start_value_reaches_the_same_maximum():
    x, y, _ = _glm_data()
    cold = fit_propensity(x, y)
    warm = fit_propensity(x, y, start={"intercept": -3.0, "age": 0.05, "not_a_term": 9.0})
    assert warm.coef.to_numpy() == pytest.approx(cold.coef.to_numpy(), rel=1e-10)
    assert warm.score == pytest.approx(cold.score, rel=1e-12)


def test_grouped_and_summed_differences_equal_the_per_group_estimator():
    rng = np.random.default_rng(8)
    n = 3000
    group = rng.integers(0, 5, n)
    treated = rng.random(n) < 0.4
    treated[group == 4] = True  # a group with one arm only: not estimable
    y = rng.normal(10, 5, n) + 3 * treated
    y[rng.random(n) < 0.05] = np.nan  # e.g. a responder flag that cannot be computed
    w = rng.uniform(0.1, 2.0, n)
    grouped = grouped_differences(y, treated, w, group, 5)
    for g in range(5):
        m = (group == g) & ~np.isnan(y)
        ref = weighted_difference(y[m], treated[m], w[m])
        got = grouped[g]
        t, c = m & treated, m & ~treated
        sums = [(a.sum(), w[a].sum(), (w * y)[a].sum(), (w**2)[a].sum(), (w**2 * y)[a].sum(), (w**2 * y**2)[a].sum())
                for a in (t, c)]
        summed = difference_from_sums(*sums)
        for d in (got, summed):
            assert (d.n_treatment, d.n_comparator) == (ref.n_treatment, ref.n_comparator)
            if g == 4:
                assert math.isnan(d.estimate) and math.isnan(d.se)
                continue
            assert d.estimate == pytest.approx(ref.estimate, rel=1e-12)
            assert d.se == pytest.approx(ref.se, rel=1e-10)
            assert (d.lower, d.upper) == pytest.approx((ref.lower, ref.upper), rel=1e-10)


def test_row_order_sorts_by_group_then_row_even_with_duplicates():
    rng = np.random.default_rng(2)
    n = 50
    group = rng.integers(0, 3, 120).astype(np.int16)
    row = rng.integers(0, n, 120)
    order = _row_order(group, row, 3, n)
    assert sorted(order.tolist()) == list(range(120))
    assert np.all(np.diff(group[order].astype(int) * n + row[order]) >= 0)
