"""Between-arm tests of SAP 4.1: log-rank (R's survdiff), Cox with Efron ties (R's coxph: coefficient, hazard
ratio, Wald CI and p, log-likelihood) and the proportional-hazards test (R ≥ 3.0's cox.zph, transform "km")."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from pipeline.survival import cox_efron, cox_zph, logrank
from tests.reference import ESTIMATE_ATOL, SE_RTOL, SURVIVAL_DATA_SETS, data, reference, survival_data, values


def two_groups(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Time, event, x (1 for R's second group) and R's reference values of a data set of SURVIVAL_DATA_SETS."""
    frame, time_col, event_col, group_col = survival_data(name)
    ref = reference(name)
    x = (frame[group_col].astype(str) == ref["groups"][1]).astype(float).to_numpy()
    return frame[time_col].to_numpy(float), frame[event_col].to_numpy(), x, ref


@pytest.mark.parametrize("name", SURVIVAL_DATA_SETS)
def test_logrank_matches_r_survdiff(name):
    time, event, x, ref = two_groups(name)
    result = logrank(time, event, x)
    assert result.chisq == pytest.approx(ref["logrank"]["chisq"], rel=1e-8)
    assert result.p_value == pytest.approx(ref["logrank"]["p"], rel=1e-6)


@pytest.mark.parametrize("name", SURVIVAL_DATA_SETS)
def test_cox_hazard_ratio_and_wald_ci_match_r(name):
    time, event, x, ref = two_groups(name)
    fit = cox_efron(time, event, x)
    lower, upper = fit.ci()
    assert fit.converged
    assert fit.hazard_ratio[0] == pytest.approx(ref["cox"]["hr"], abs=ESTIMATE_ATOL)
    assert lower[0] == pytest.approx(ref["cox"]["lower"], abs=ESTIMATE_ATOL)
    assert upper[0] == pytest.approx(ref["cox"]["upper"], abs=ESTIMATE_ATOL)
    assert fit.se[0] == pytest.approx(ref["cox"]["se"], rel=SE_RTOL)
    assert fit.p_value[0] == pytest.approx(ref["cox"]["p"], abs=ESTIMATE_ATOL)


@pytest.mark.parametrize("name", SURVIVAL_DATA_SETS)
def test_cox_efron_log_likelihood_matches_r(name):
    time, event, x, ref = two_groups(name)
    np.testing.assert_allclose(cox_efron(time, event, x).loglik, values(ref["cox"]["loglik"]), rtol=1e-9)


def test_cox_with_several_covariates_matches_r():
    frame, ref = data("rossi"), reference("rossi")["cox_multi"]
    fit = cox_efron(frame["week"], frame["arrest"], frame[["fin", "age", "prio"]])
    np.testing.assert_allclose(fit.hazard_ratio, values(ref["hr"]), atol=ESTIMATE_ATOL)
    np.testing.assert_allclose(fit.se, values(ref["se"]), rtol=SE_RTOL)


def test_cox_matches_lifelines_for_unweighted_data():
    from lifelines import CoxPHFitter

    time, event, x, _ = two_groups("generated")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lf = CoxPHFitter().fit(pd.DataFrame({"t": time, "e": event, "x": x}), "t", "e")
    assert cox_efron(time, event, x).coef[0] == pytest.approx(lf.params_["x"], abs=1e-6)


def test_cox_refuses_data_without_events():
    with pytest.raises(ValueError, match="no events"):
        cox_efron([1, 2, 3], [0, 0, 0], [0, 1, 0])


@pytest.mark.parametrize("name", SURVIVAL_DATA_SETS)
def test_ph_test_matches_r_cox_zph(name):
    time, event, x, ref = two_groups(name)
    zph = cox_zph(time, event, x, cox_efron(time, event, x))
    assert zph.global_chisq == pytest.approx(values(ref["cox"]["zph_chisq"])[-1], rel=1e-6)
    assert zph.global_p == pytest.approx(values(ref["cox"]["zph_p"])[-1], abs=ESTIMATE_ATOL)


def test_ph_test_per_covariate_and_global_match_r_with_several_covariates():
    frame, ref = data("rossi"), reference("rossi")["cox_multi"]
    x = frame[["fin", "age", "prio"]]
    zph = cox_zph(frame["week"], frame["arrest"], x, cox_efron(frame["week"], frame["arrest"], x))
    np.testing.assert_allclose(zph.chisq, values(ref["zph_chisq"])[:3], rtol=1e-6)
    assert zph.global_chisq == pytest.approx(values(ref["zph_chisq"])[3], rel=1e-6)
    assert zph.global_df == 3


def test_ph_test_is_not_lifelines_older_approximation():
    """lifelines' proportional_hazard_test follows R < 3.0 (one averaged variance): on rossi with three
    covariates its statistic for prio differs from R ≥ 3.0's by more than 30%, which is why we compute R's."""
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    frame, ref = data("rossi")[["week", "arrest", "fin", "age", "prio"]], reference("rossi")["cox_multi"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lf = CoxPHFitter().fit(frame, "week", "arrest")
        old = proportional_hazard_test(lf, frame, time_transform="km").summary["test_statistic"]
    assert abs(old["prio"] / values(ref["zph_chisq"])[2] - 1) > 0.30


# --- zero case weights: a patient of weight 0 is absent from the fit (R refuses 0; its fit is on the rest) ---

def zero_weighted() -> tuple[pd.DataFrame, np.ndarray, dict]:
    """The generated set with every 4th row (1-based) weighted 0, and R's fits on the other rows."""
    frame = data("generated_competing")
    frame["event"] = (frame["status"] == 1).astype(int)
    dropped = np.arange(1, len(frame) + 1) % 4 == 0
    return frame, dropped, reference("cox_zero_weights")


def test_zero_weights_fit_equals_the_fit_without_those_rows():
    frame, dropped, _ = zero_weighted()
    w = np.where(dropped, 0.0, frame["weight"])
    full = cox_efron(frame["time"], frame["event"], frame["arm"], w)
    kept = frame[~dropped]
    reduced = cox_efron(kept["time"], kept["event"], kept["arm"], kept["weight"])
    np.testing.assert_allclose(full.coef, reduced.coef, rtol=1e-10)
    np.testing.assert_allclose(full.var, reduced.var, rtol=1e-10)
    np.testing.assert_allclose(full.loglik, reduced.loglik, rtol=1e-12)
    assert (full.n, full.n_events) == (reduced.n, reduced.n_events) == (len(kept), int(kept["event"].sum()))


@pytest.mark.parametrize("kind", ["weighted", "unit"])
def test_zero_weights_match_r_on_the_remaining_rows(kind):
    frame, dropped, ref = zero_weighted()
    w = np.where(dropped, 0.0, frame["weight"] if kind == "weighted" else 1.0)
    fit = cox_efron(frame["time"], frame["event"], frame["arm"], w)
    r = ref[kind]
    assert fit.coef[0] == pytest.approx(r["coef"], abs=1e-8)
    assert fit.se[0] == pytest.approx(r["se"], rel=1e-8)
    np.testing.assert_allclose(fit.loglik, values(r["loglik"]), rtol=1e-10)
    assert (fit.n, fit.n_events) == (r["n"], r["nevent"])
    zph = cox_zph(frame["time"], frame["event"], frame["arm"], fit, w)
    assert zph.global_chisq == pytest.approx(values(r["zph_chisq"])[-1], rel=1e-6)


def test_zero_weights_match_lifelines_on_the_remaining_rows():
    from lifelines import CoxPHFitter

    frame, dropped, _ = zero_weighted()
    kept = frame.loc[~dropped, ["time", "event", "arm"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lf = CoxPHFitter().fit(kept, "time", "event")
    fit = cox_efron(frame["time"], frame["event"], frame["arm"], (~dropped).astype(float))
    assert fit.coef[0] == pytest.approx(lf.params_["arm"], abs=1e-6)
    assert fit.se[0] == pytest.approx(lf.standard_errors_["arm"], rel=1e-5)


def test_cox_refuses_negative_weights():
    with pytest.raises(ValueError, match="non-negative"):
        cox_efron([1, 2, 3], [1, 0, 1], [0, 1, 0], [1, -1, 1])
