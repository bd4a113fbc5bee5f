"""The adjusted (case-weighted) reintervention numbers of SAP 6 version 2 against R (tests/reference/adjusted.json,
written by make_adjusted_reference.R): RMST to tau of the weighted KM curve with its infinitesimal-jackknife SE
(R's influence.surv integrated over the curve's steps), the weighted Aalen–Johansen cumulative incidence with
its IJ SE (R's weighted multi-state survfit) and log(−log) CI, and cox.zph of the weighted Cox model."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.survival import aalen_johansen, cox_efron, cox_zph, kaplan_meier, rmst_difference
from pipeline.survival.rmst import rmst, rmst_ij, rmst_influence
from tests.reference import ESTIMATE_ATOL, data, reference, values

ARMS = ("0", "1")


def arm_rows(arm: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frame = data("generated_competing")
    rows = frame[frame["arm"] == int(arm)]
    return rows["time"].to_numpy(float), rows["status"].to_numpy(), rows["weight"].to_numpy(float)


def edge_rows() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = reference("adjusted")["edge"]["data"]
    return values(d["time"]), values(d["status"]).astype(int), values(d["weight"])


CASES = [("generated", arm) for arm in ARMS] + [("edge", "tau_10"), ("edge", "tau_4")]


def case(kind: str, key: str) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], dict]:
    ref = reference("adjusted")
    if kind == "generated":
        return arm_rows(key), ref["generated"][key]
    return edge_rows(), ref["edge"][key]


@pytest.mark.parametrize("kind,key", CASES)
def test_weighted_rmst_and_its_ij_influence_match_r(kind, key):
    (time, status, w), r = case(kind, key)
    event = (status == 1).astype(int)
    km = kaplan_meier(time, event, w)
    result = rmst_ij(km, r["rmst"]["tau"])
    assert result.estimate == pytest.approx(r["rmst"]["rmst"], abs=ESTIMATE_ATOL)
    # Per patient: R's influence.surv integrated over the steps, to rounding.
    np.testing.assert_allclose(rmst_influence(km, time, event, w, r["rmst"]["tau"]),
                               values(r["rmst"]["influence"]), rtol=1e-9, atol=1e-10)
    assert result.se == pytest.approx(r["rmst"]["se"], rel=1e-9)


@pytest.mark.parametrize("arm", ARMS)
def test_the_unweighted_formula_r_prints_is_not_the_ij_se(arm):
    """SAP 6: R's print(fit, rmean = tau) gives the Greenwood-type SE on weighted counts; ours is not that."""
    (time, status, w), r = case("generated", arm)
    km = kaplan_meier(time, (status == 1).astype(int), w, variance="greenwood")
    assert rmst(km, 1826).se == pytest.approx(r["rmst"]["print_se"], rel=1e-9)
    assert abs(r["rmst"]["se"] / r["rmst"]["print_se"] - 1) > 0.05


def test_ij_se_with_unit_weights_is_the_jackknife_of_the_unweighted_curve():
    """With weights 1 the IJ variance is Σ influence², not Greenwood's; a brute-force numerical derivative
    (perturb each patient's weight) gives the same influence: an independent route for the closed form."""
    time, status, w = arm_rows("1")
    time, status, w = time[:80], status[:80], w[:80]
    event = (status == 1).astype(int)
    tau = 900.0
    km = kaplan_meier(time, event, w)
    base = rmst_ij(km, tau).estimate
    eps = 1e-6
    numeric = np.empty(time.size)
    for k in range(time.size):  # 80 refits: slow route on purpose, only in the test
        w2 = w.copy()
        w2[k] *= 1 + eps
        numeric[k] = (rmst_ij(kaplan_meier(time, event, w2), tau).estimate - base) / eps
    np.testing.assert_allclose(rmst_influence(km, time, event, w, tau), numeric, rtol=1e-4, atol=1e-6)


def test_rmst_difference_of_the_arms_matches_r():
    r = reference("adjusted")
    a = [rmst_ij(kaplan_meier(t, (s == 1).astype(int), w), 1826) for t, s, w in map(arm_rows, ("1", "0"))]
    diff = rmst_difference(*a)
    assert diff.estimate == pytest.approx(r["difference"]["estimate"], abs=ESTIMATE_ATOL)
    assert diff.se == pytest.approx(r["difference"]["se"], rel=1e-9)
    assert (diff.lower, diff.upper) == pytest.approx((diff.estimate - 1.959964 * diff.se,
                                                      diff.estimate + 1.959964 * diff.se), rel=1e-6)


@pytest.mark.parametrize("kind,key", [c for c in CASES if c[1] != "tau_4"])
def test_weighted_cumulative_incidence_and_its_ij_se_match_r(kind, key):
    (time, status, w), r = case(kind, key)
    cif = r["cif"]
    days = values(cif["days"])
    aj = aalen_johansen(time, status, causes=2, weights=w)
    f, se, lower, upper = aj.at_with_ci(days)
    np.testing.assert_allclose(f, values(cif["cumulative_incidence"]), atol=ESTIMATE_ATOL)
    np.testing.assert_allclose(se, values(cif["se"]), rtol=1e-9, atol=1e-12)
    influence = aj.ij_influence(time, status, w, days)
    np.testing.assert_allclose(influence, values(cif["influence_by_day"]).reshape(days.size, -1).T, atol=1e-12)
    # R's conf.type = "log-log" on a state probability is the log(−log F) interval; NA where F is 0 or 1.
    np.testing.assert_allclose(lower, values(cif["lower"]), atol=ESTIMATE_ATOL, equal_nan=True)
    np.testing.assert_allclose(upper, values(cif["upper"]), atol=ESTIMATE_ATOL, equal_nan=True)


def test_weighted_ph_test_matches_r_cox_zph_of_the_weighted_fit():
    frame = data("generated_competing")
    time, event = frame["time"].to_numpy(float), (frame["status"] == 1).astype(int).to_numpy()
    x, w = frame[["arm"]].to_numpy(float), frame["weight"].to_numpy(float)
    r = reference("adjusted")["zph"]
    fit = cox_efron(time, event, x, w)
    assert fit.coef[0] == pytest.approx(r["coef"], abs=1e-8)
    zph = cox_zph(time, event, x, fit, w)
    assert zph.global_chisq == pytest.approx(r["chisq"], rel=1e-6)
    assert zph.global_p == pytest.approx(r["p"], abs=1e-8)
    # R reads the weights as case counts: twice the weights, twice the chi-square (documented in comparison.md).
    doubled = cox_zph(time, event, x, cox_efron(time, event, x, 2 * w), 2 * w)
    assert doubled.global_chisq == pytest.approx(r["chisq_double_weights"], rel=1e-6)
    assert r["chisq_double_weights"] == pytest.approx(2 * r["chisq"], rel=1e-6)
