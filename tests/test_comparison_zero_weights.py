"""Patients of weight 0 are left out of every fit (SAP 6 v2: bootstrap replicates, truncation, the separated
patients of overlap weights), as R does: each weighted fit of all rows with some weights 0 equals the same fit
of the other rows, and R's fit of those rows (tests/reference/zero_weights.R, stored in zero_weights.json):
the weighted difference with its HC1 sandwich SE (lm + sandwich), the logistic propensity model (glm), the
weighted Cox HR with its robust SE (coxph robust = TRUE), the weighted KM with its robust CI (survfit)."""

import numpy as np
import pytest

from pipeline.comparison.estimates import hazard_ratio
from pipeline.comparison.logistic import logistic_mle
from pipeline.comparison.robust import difference_from_sums, grouped_differences, weighted_difference
from pipeline.survival import cox_efron, kaplan_meier
from pipeline.survival.cox_robust import robust_variance
from tests.reference import reference


@pytest.fixture(scope="module")
def ref() -> dict:
    return reference("zero_weights")


def arrays(ref: dict) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=float) for k, v in ref["data"].items()}


def test_the_reference_has_zero_weights(ref):
    w = arrays(ref)["w"]
    assert (w == 0).sum() == 17 and (w > 0).sum() == 103


def test_weighted_difference_drops_zero_weights_from_hc1_n(ref):
    d = arrays(ref)
    keep = d["w"] > 0
    arm = d["arm"].astype(bool)
    full = weighted_difference(d["y"], arm, d["w"])
    reduced = weighted_difference(d["y"][keep], arm[keep], d["w"][keep])
    assert full.estimate == pytest.approx(reduced.estimate, rel=1e-12) == pytest.approx(ref["difference"]["estimate"])
    assert full.se == pytest.approx(reduced.se, rel=1e-12)
    assert full.se == pytest.approx(ref["difference"]["se_hc1"], rel=1e-10)
    assert weighted_difference(d["y"], arm, d["w"], hc="HC0").se == pytest.approx(ref["difference"]["se_hc0"],
                                                                                  rel=1e-10)
    # The published n per arm stays the arm's patients.
    assert (full.n_treatment, full.n_comparator) == (60, 60)


def test_grouped_and_summed_differences_drop_zero_weights_too(ref):
    d = arrays(ref)
    arm = d["arm"].astype(bool)
    got = grouped_differences(d["y"], arm, d["w"], np.zeros(arm.size, dtype=np.int64), 1)[0]
    sums = [(a.sum(), d["w"][a].sum(), (d["w"] * d["y"])[a].sum(), (d["w"] ** 2)[a].sum(),
             (d["w"] ** 2 * d["y"])[a].sum(), (d["w"] ** 2 * d["y"] ** 2)[a].sum()) for a in (arm, ~arm)]
    summed = difference_from_sums(*sums, positive=int((d["w"] > 0).sum()))
    for diff in (got, summed):
        assert diff.se == pytest.approx(ref["difference"]["se_hc1"], rel=1e-10)


def test_logistic_fit_leaves_zero_weights_out(ref):
    d = arrays(ref)
    x = np.column_stack([np.ones(d["x"].size), d["x"]])
    full = logistic_mle(x, d["treated"], d["w"])
    keep = d["w"] > 0
    reduced = logistic_mle(x[keep], d["treated"][keep], d["w"][keep])
    assert full.coef == pytest.approx(reduced.coef, rel=1e-12)
    assert full.coef == pytest.approx(ref["logistic"]["coef"], rel=1e-8)
    assert full.se == pytest.approx(ref["logistic"]["se"], rel=1e-8)


def test_cox_and_its_robust_variance_leave_zero_weights_out(ref):
    d = arrays(ref)
    x = d["arm"].reshape(-1, 1)
    keep = d["w"] > 0
    full = cox_efron(d["time"], d["status"], x, d["w"])
    reduced = cox_efron(d["time"][keep], d["status"][keep], x[keep], d["w"][keep])
    robust_full = robust_variance(full, d["time"], d["status"], x, d["w"])
    robust_reduced = robust_variance(reduced, d["time"][keep], d["status"][keep], x[keep], d["w"][keep])
    assert robust_full == pytest.approx(robust_reduced, rel=1e-10)
    assert full.coef[0] == pytest.approx(ref["cox"]["coef"], abs=1e-8)
    assert np.sqrt(robust_full[0, 0]) == pytest.approx(ref["cox"]["robust_se"], rel=1e-7)
    hr = hazard_ratio(d["time"], d["status"], d["arm"].astype(bool), d["w"], robust=True)
    assert np.log(hr.estimate) == pytest.approx(ref["cox"]["coef"], abs=1e-8)
    assert hr.se_log == pytest.approx(ref["cox"]["robust_se"], rel=1e-7)


def test_weighted_km_leaves_zero_weights_out(ref):
    d = arrays(ref)
    keep = d["w"] > 0
    days = ref["km"]["day"]
    full = kaplan_meier(d["time"], d["status"], d["w"])
    reduced = kaplan_meier(d["time"][keep], d["status"][keep], d["w"][keep])
    np.testing.assert_array_equal(full.time, reduced.time)
    np.testing.assert_allclose(full.surv, reduced.surv, rtol=1e-14)
    np.testing.assert_allclose(full.var_log, reduced.var_log, rtol=1e-12)
    at, at_reduced = full.at(days), reduced.at(days)
    assert at.at_risk.tolist() == at_reduced.at_risk.tolist()  # numbers at risk: patients of positive weight
    for name, ours in (("surv", at.surv), ("std_err", at.se), ("lower", at.lower), ("upper", at.upper)):
        np.testing.assert_allclose(ours, ref["km"][name], rtol=1e-8, err_msg=name)
