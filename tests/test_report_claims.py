"""Claims scorecard (SAP 7): verdict rules, the inconclusive cases, and the configuration file."""

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline.comparison.adjusted_tables import typed
from pipeline.comparison.estimates import ComparisonData, return_hr
from pipeline.comparison.robust import weighted_difference
from pipeline.estimable import Gap, record_gaps
from pipeline.outcomes.intervals import wilson_interval
from pipeline.reporting.claims import (
    CLAIMS_FILE,
    INCONCLUSIVE,
    NOT_SUPPORTED,
    REPORTED,
    SUPPORTED,
    UNSUPPRESSED,
    Condition,
    Metric,
    _shorter,
    combine,
    evaluate,
    load_claims,
    rule_text,
    verdict,
    weighted_median,
)
from pipeline.reporting.results_json import assemble_results
from pipeline.study import load_study
from pipeline.survival import kaplan_meier
from tests.reference import data, reference


def _v(rule, value, ci=None, n=100, threshold=0.5):
    return verdict(Condition("x", rule, threshold=threshold), Metric("m", value, ci, n), 30)


@pytest.mark.parametrize(("ci", "expected"), [((0.80, 0.90), SUPPORTED), ((0.86, 0.95), SUPPORTED),
                                              ((0.70, 0.78), NOT_SUPPORTED)])
def test_ci_contains_or_above(ci, expected):
    assert _v("ci_contains_or_above", sum(ci) / 2, list(ci), threshold=0.85) == expected


@pytest.mark.parametrize(("ci", "expected"), [((0.55, 0.7), SUPPORTED), ((0.5, 0.7), SUPPORTED),
                                              ((0.3, 0.45), NOT_SUPPORTED), ((0.45, 0.6), INCONCLUSIVE)])
def test_ci_lower_at_least_straddling_is_inconclusive(ci, expected):
    assert _v("ci_lower_at_least", sum(ci) / 2, list(ci)) == expected


@pytest.mark.parametrize(("ci", "expected"), [((-0.07, -0.03), SUPPORTED), ((0.01, 0.05), NOT_SUPPORTED),
                                              ((-0.02, 0.01), INCONCLUSIVE)])
def test_ci_upper_below(ci, expected):
    assert _v("ci_upper_below", sum(ci) / 2, list(ci), threshold=0.0) == expected


def test_ci_lower_above_is_strict():
    assert _v("ci_lower_above", 1.0, [0.0, 2.0], threshold=0.0) == INCONCLUSIVE
    assert _v("ci_lower_above", 1.0, [0.1, 2.0], threshold=0.0) == SUPPORTED
    assert _v("ci_lower_above", -1.0, [-2.0, 0.0], threshold=0.0) == NOT_SUPPORTED


def test_estimate_at_least():
    assert _v("estimate_at_least", 0.95, [0.93, 0.96], threshold=0.9) == SUPPORTED
    assert _v("estimate_at_least", 0.85, [0.80, 0.92], threshold=0.9) == NOT_SUPPORTED


def test_fewer_than_30_patients_or_no_number_is_inconclusive():
    assert _v("ci_lower_at_least", 0.9, [0.8, 0.95], n=29) == INCONCLUSIVE
    assert _v("ci_lower_at_least", 0.9, [0.8, 0.95], n=30) == SUPPORTED
    assert _v("ci_lower_at_least", None, None) == INCONCLUSIVE
    assert _v("ci_lower_at_least", 0.9, [0.8, 0.95], n=None) == INCONCLUSIVE  # n unknown


def test_report_rule_gives_no_verdict_and_combination():
    assert _v("report", 0.1) == REPORTED
    assert combine([SUPPORTED, SUPPORTED]) == SUPPORTED
    assert combine([SUPPORTED, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine([INCONCLUSIVE, NOT_SUPPORTED]) == NOT_SUPPORTED
    assert combine([REPORTED]) == REPORTED


def test_committed_claims_file_holds_the_sap_claims():
    minimum_n, claims = load_claims()
    assert minimum_n == 30
    assert {c.id for c in claims} == {"satisfaction_85", "relief_five_years", "same_day_home", "routine_2_4_weeks",
                                      "faster_recovery", "fewer_complications", "stand_walk", "options_open"}


def test_a_new_claim_needs_no_code_and_typos_are_refused(tmp_path):
    good = tmp_path / "claims.toml"
    good.write_text('[[claims]]\nid = "x"\nclaim = "Most <b>patients</b> satisfied"\n[[claims.conditions]]\n'
                    'metric = "satisfaction_rate"\narm = "treatment"\nvisit = "M12"\nrule = "ci_lower_at_least"\n'
                    'threshold = 0.5\n')
    results = {"population": {"MILD": {"patients": 200}}, "satisfaction": [
        {"arm": "MILD", "visit": "M12", "n": 150, "satisfied": 120, "rate": 0.8, "ci": [0.73, 0.86]}]}
    [claim] = evaluate(results, load_study(), {}, good)
    assert claim["verdict"] == SUPPORTED and claim["value"] == 0.8 and claim["ci"] == [0.73, 0.86]
    assert set(claim) >= {"id", "claim", "metric", "value", "ci", "verdict"}
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text().replace("satisfaction_rate", "satisfaction_rat"))
    with pytest.raises(ValueError, match="unknown metric"):
        load_claims(bad)
    bad.write_text(good.read_text().replace("ci_lower_at_least", "above"))
    with pytest.raises(ValueError, match="unknown rule"):
        load_claims(bad)


# --- SAP 7 version 2 -------------------------------------------------------------------------------------------

def _satisfaction(satisfied: int, n: int) -> tuple[float, list[float]]:
    """Rate and Wilson 95% CI as the outcomes stage computes them (pipeline/outcomes/intervals.py)."""
    lo, hi = wilson_interval(satisfied, n)
    return satisfied / n, [float(lo), float(hi)]


def _ni(value, ci, n=100):
    cond = Condition("satisfaction_rate", "non_inferior", {"margin": 0.05}, threshold=0.85)
    return verdict(cond, Metric("m", value, ci, n), 30)


def test_satisfaction_non_inferiority_no_longer_rewards_small_samples():
    small, large = _satisfaction(22, 30), _satisfaction(140, 200)
    # The statsmodels Wilson limits these verdicts rest on (R: prop.test(22, 30, correct = FALSE)$conf.int).
    assert small[1] == pytest.approx([0.5555204, 0.8581734], abs=1e-7)
    assert large[1] == pytest.approx([0.6332093, 0.7592526], abs=1e-7)
    # Version 1's rule: 22 of 30 (73%) passed, 140 of 200 (70%) failed.
    assert _v("ci_contains_or_above", *small, n=30, threshold=0.85) == SUPPORTED
    assert _v("ci_contains_or_above", *large, n=200, threshold=0.85) == NOT_SUPPORTED
    # Version 2: the small sample decides nothing, the large one refutes the claim.
    assert _ni(*small, n=30) == INCONCLUSIVE
    assert _ni(*large, n=200) == NOT_SUPPORTED


@pytest.mark.parametrize(("satisfied", "n", "expected"), [
    # Wilson limits from R prop.test(x, n, correct = FALSE) in the comments.
    (830, 1000, SUPPORTED),      # 83%, CI 80.5–85.2%: within 5 points of 85%, non-inferior
    (880, 1000, SUPPORTED),      # CI 85.8–89.9%: wholly above 85%
    (800, 1000, NOT_SUPPORTED),  # CI 77.4–82.4%: wholly below 85%
    (165, 200, INCONCLUSIVE),    # 82.5%, CI 76.6–87.1%: below 80% and above 85%
    (29, 29, INCONCLUSIVE),      # fewer than 30 patients, whatever the CI
])
def test_satisfaction_non_inferiority_with_wilson_intervals(satisfied, n, expected):
    assert _ni(*_satisfaction(satisfied, n), n=n) == expected


def test_non_inferiority_boundaries():
    assert _ni(0.83, [0.80, 0.86]) == SUPPORTED          # lower limit exactly 0.85 − 0.05
    assert _ni(0.83, [0.7999, 0.86]) == INCONCLUSIVE
    assert _ni(0.80, [0.75, 0.85]) == INCONCLUSIVE       # upper limit exactly 0.85: not below it
    assert _ni(0.80, [0.75, 0.8499]) == NOT_SUPPORTED
    assert _ni(0.82, [0.80, 0.84]) == SUPPORTED          # both: the lower limit decides first
    assert _ni(None, None) == INCONCLUSIVE


def test_non_inferior_needs_a_margin_and_only_it_takes_one(tmp_path):
    path = tmp_path / "claims.toml"
    base = ('[[claims]]\nid = "x"\nclaim = "x"\n[[claims.conditions]]\nmetric = "satisfaction_rate"\n'
            'arm = "treatment"\nvisit = "M12"\nthreshold = 0.85\n')
    path.write_text(base + 'rule = "non_inferior"\n')
    with pytest.raises(ValueError, match="needs a margin"):
        load_claims(path)
    path.write_text(base + 'rule = "ci_lower_at_least"\nmargin = 0.05\n')
    with pytest.raises(ValueError, match="margin belongs"):
        load_claims(path)
    path.write_text(base + 'rule = "non_inferior"\nmargin = 0.05\n')
    [claim] = load_claims(path)[1]
    assert claim.conditions[0].params == {"arm": "treatment", "visit": "M12", "margin": 0.05}
    assert "lower limit ≥ 0.8 (non-inferiority margin 0.05)" in rule_text(claim.conditions[0])


def _faster(ci, shorter, n=100):
    cond = Condition("return_faster", "median_shorter_and_hr_above", threshold=1.0)
    estimate = None if ci is None else (ci[0] * ci[1]) ** 0.5
    return verdict(cond, Metric("m", estimate, ci, n, medians={"median_shorter": shorter}), 30)


@pytest.mark.parametrize(("ci", "shorter", "expected"), [
    ([1.2, 1.9], True, SUPPORTED),
    ([1.2, 1.9], False, NOT_SUPPORTED),     # the HR says sooner, the medians say not: not supported
    ([1.2, 1.9], None, INCONCLUSIVE),       # the medians cannot be compared
    ([0.8, 1.3], True, INCONCLUSIVE),       # the HR's CI contains 1
    ([0.8, 1.3], False, INCONCLUSIVE),
    ([1.0, 1.5], True, INCONCLUSIVE),       # lower limit exactly 1: not above it
    ([0.6, 1.0], True, INCONCLUSIVE),       # upper limit exactly 1: not below it
    ([0.5, 0.9], True, NOT_SUPPORTED),      # the treated return more slowly, whatever the medians
    ([0.5, 0.9], None, NOT_SUPPORTED),
    (None, True, INCONCLUSIVE),             # HR not estimable
])
def test_faster_recovery_rule(ci, shorter, expected):
    assert _faster(ci, shorter) == expected
    assert _faster(ci, shorter, n=29) == INCONCLUSIVE


@pytest.mark.parametrize(("medians", "ends", "expected"), [
    ({"MILD": 12.0, "LAMINECTOMY": 30.0}, {"MILD": 365.0, "LAMINECTOMY": 365.0}, True),
    ({"MILD": 30.0, "LAMINECTOMY": 30.0}, {"MILD": 365.0, "LAMINECTOMY": 365.0}, False),  # equal: not shorter
    ({"MILD": 12.0, "LAMINECTOMY": None}, {"MILD": 365.0, "LAMINECTOMY": 365.0}, True),    # beyond 365 days
    ({"MILD": 400.0, "LAMINECTOMY": None}, {"MILD": 500.0, "LAMINECTOMY": 365.0}, None),   # cannot be told
    ({"MILD": None, "LAMINECTOMY": 30.0}, {"MILD": 365.0, "LAMINECTOMY": 365.0}, False),
    ({"MILD": None, "LAMINECTOMY": None}, {"MILD": 365.0, "LAMINECTOMY": 365.0}, None),
    ({"MILD": 12.0}, {"MILD": 365.0}, None),                                                # no comparator curve
])
def test_median_comparison_when_a_curve_does_not_reach_half(medians, ends, expected):
    extras = {"return_weighted_median": medians, "return_curve_end": ends}
    assert _shorter(extras, load_study()) is expected


def test_weighted_median_uses_the_km_median_rule():
    # Weighted curve stored as (time, survival): it sits exactly at 0.5 from day 20 to day 30. R's survfit (and
    # km.median) give the midpoint 25; the former claims rule (first time ≤ 0.5) gave 20.
    time, event, w = np.array([10.0, 20, 30, 40]), np.ones(4), np.array([0.5, 1.5, 1.0, 1.0])
    km = kaplan_meier(time, event, w)
    assert km.surv[1] == pytest.approx(0.5)
    assert float(time[np.nonzero(km.surv <= 0.5)[0][0]]) == 20.0  # the former rule
    assert weighted_median(km.time, km.surv) == km.median()[0] == 25.0
    assert reference("claims_return")["flat_median"] == 25.0  # R survfit(weights = w) median on these data
    # A curve that ends above 0.5 has no median (None, not NaN) and one that crosses it gives the crossing time.
    assert weighted_median(np.array([1.0, 2.0]), np.array([0.9, 0.6])) is None
    assert weighted_median(np.array([1.0, 2.0]), np.array([0.9, 0.4])) == 2.0


def test_weighted_medians_of_the_reference_data_match_r():
    ref, frame = reference("claims_return"), data("claims_return")
    for arm, expected in (("treated", ref["median_treated"]), ("comparator", ref["median_comparator"])):
        a = frame[frame["treated"] == (arm == "treated")]
        km = kaplan_meier(a["time"].to_numpy(), a["event"].to_numpy(), a["weight"].to_numpy())
        assert weighted_median(km.time, km.surv) == pytest.approx(expected)


def test_return_hr_is_the_weighted_cox_with_robust_ci_of_r():
    """The comparison stage's return-to-activity HR (estimates.return_hr) against R coxph(weights, robust)."""
    ref, frame = reference("claims_return"), data("claims_return")
    patients = pd.DataFrame({"treated": frame["treated"].astype(bool), "return_to_activity_time": frame["time"],
                             "return_to_activity_event": frame["event"].astype(float)})
    cd = ComparisonData(patients, pd.DataFrame(), pd.DataFrame())
    hr = return_hr(cd, frame["weight"].to_numpy(), robust=True)
    assert hr.estimate == pytest.approx(ref["hr"], rel=1e-8)
    assert hr.se_log == pytest.approx(ref["robust_se"], rel=1e-7)
    assert [hr.lower, hr.upper] == pytest.approx([ref["hr_lower"], ref["hr_upper"]], rel=1e-7)
    plain = return_hr(cd, None, robust=False)
    assert plain.estimate == pytest.approx(ref["hr_unweighted"], rel=1e-8)
    assert plain.se_log == pytest.approx(ref["se_unweighted"], rel=1e-7)


# --- verdicts on unsuppressed numbers, published when the number is withheld --------------------------------

PROVENANCE = {"generated_at": "2026-12-06T00:00:00Z", "run_id": "r", "code_version": "c", "data_sha256": "d",
              "study_config_sha256": "s", "suppression_threshold": 11}


def _complication_warehouse(events_t: int, n_t: int, events_c: int, n_c: int) -> duckdb.DuckDBPyConnection:
    """A warehouse with the analysis population and the complication numbers of `events_t` of `n_t` MILD and
    `events_c` of `n_c` LAMINECTOMY patients: rates with the outcomes stage's Wilson CIs, and the risk difference
    row of comparison.adjusted_estimates from the comparison stage's estimator (robust.weighted_difference) on
    patient-level 0/1 data with unit weights (no covariates here: the adjusted estimator, unadjusted data)."""
    con = duckdb.connect()
    for schema in ("staging", "outcomes", "comparison"):
        con.execute(f"CREATE SCHEMA {schema}")
    patients = pd.DataFrame({"site_id": "S", "patient_id": [f"p{i}" for i in range(n_t + n_c)],
                             "procedure": ["MILD"] * n_t + ["LAMINECTOMY"] * n_c, "in_analysis": True})
    con.register("patients_frame", patients)
    con.execute("CREATE TABLE staging.patients AS SELECT * FROM patients_frame")
    lo, hi = wilson_interval([events_t, events_c], [n_t, n_c])
    rates = pd.DataFrame({"arm": ["MILD", "LAMINECTOMY"], "arm_role": ["treatment", "comparator"],
                          "n": [n_t, n_c], "events": [events_t, events_c],
                          "rate": [events_t / n_t, events_c / n_c], "ci_lower": lo, "ci_upper": hi})
    con.register("rates_frame", rates)
    con.execute("CREATE TABLE outcomes.complication_rates AS SELECT * FROM rates_frame")
    y = np.r_[np.ones(events_t), np.zeros(n_t - events_t), np.ones(events_c), np.zeros(n_c - events_c)]
    treated = np.r_[np.ones(n_t, bool), np.zeros(n_c, bool)]
    d = weighted_difference(y, treated, np.ones(y.size))
    adjusted = typed("adjusted_estimates", [{"outcome": "complication", "measure": "risk_difference",
                                             "adjustment": "adjusted", "estimate": d.estimate, "ci_lower": d.lower,
                                             "ci_upper": d.upper, "n_treatment": n_t, "n_comparator": n_c,
                                             "balance_achieved": True}])
    con.register("adjusted_frame", adjusted)
    con.execute("CREATE TABLE comparison.adjusted_estimates AS SELECT * FROM adjusted_frame")
    return con


def test_complication_claim_9_of_778_vs_79_of_1191_is_supported_with_its_number_withheld():
    study = load_study()
    con = _complication_warehouse(9, 778, 79, 1191)
    published = assemble_results(con, study, PROVENANCE)
    raw = assemble_results(con, study, PROVENANCE, suppressor=UNSUPPRESSED)
    # Disclosure control withholds the MILD count (9 < 11), its rate and every difference built on it.
    assert published["complications"]["rates"][0]["events"] == "<11"
    assert published["complications"]["difference"]["adjusted"] is None
    d = raw["complications"]["difference"]["adjusted"]
    # Risk difference 9/778 − 79/1191 with its Wald CI by hand: the HC1 sandwich of a two-group regression is
    # the unpooled binomial variance p(1 − p)/n summed over the arms, times N/(N − 2).
    p1, p0 = 9 / 778, 79 / 1191
    se = math.sqrt((p1 * (1 - p1) / 778 + p0 * (1 - p0) / 1191) * 1969 / 1967)
    z = 1.959963984540054
    assert d["estimate"] == pytest.approx(p1 - p0, rel=1e-9)
    assert d["ci"] == pytest.approx([p1 - p0 - z * se, p1 - p0 + z * se], rel=1e-9)
    assert d["ci"][1] < 0  # −0.0708 to −0.0387: the rule "upper limit < 0" holds
    claims = {c["id"]: c for c in evaluate(published, study, {}, raw=raw)}
    fewer = claims["fewer_complications"]
    assert fewer["verdict"] == SUPPORTED and fewer["reason"] is None
    assert fewer["value"] is None and fewer["ci"] is None and fewer["withheld"] is True
    assert fewer["conditions"][0]["withheld"] and fewer["conditions"][0]["verdict"] == SUPPORTED
    # Version 1 decided on the published document: the withheld number made the claim inconclusive.
    assert {c["id"]: c for c in evaluate(published, study, {})}["fewer_complications"]["verdict"] == INCONCLUSIVE


def test_complication_claim_with_publishable_counts_shows_its_number():
    study = load_study()
    con = _complication_warehouse(30, 778, 79, 1191)
    published = assemble_results(con, study, PROVENANCE)
    raw = assemble_results(con, study, PROVENANCE, suppressor=UNSUPPRESSED)
    fewer = {c["id"]: c for c in evaluate(published, study, {}, raw=raw)}["fewer_complications"]
    assert fewer["value"] == pytest.approx(30 / 778 - 79 / 1191) and fewer["withheld"] is False
    assert fewer["verdict"] == SUPPORTED


def test_a_claim_that_cannot_be_estimated_stays_inconclusive_with_the_reason():
    study = load_study()
    con = _complication_warehouse(9, 778, 79, 1191)
    con.execute("DELETE FROM comparison.adjusted_estimates")
    record_gaps(con, "adjusted_estimates", [Gap("complications.difference.adjusted", "no complications")])
    published = assemble_results(con, study, PROVENANCE)
    raw = assemble_results(con, study, PROVENANCE, suppressor=UNSUPPRESSED)
    fewer = {c["id"]: c for c in evaluate(published, study, {}, raw=raw)}["fewer_complications"]
    assert fewer["verdict"] == INCONCLUSIVE and fewer["withheld"] is False
    assert fewer["reason"] == "not estimable: no complications"


def _return_extras(withheld: bool) -> dict:
    return {"return_weighted_median": {"MILD": 14.0, "LAMINECTOMY": 35.0},
            "return_curve_end": {"MILD": 365.0, "LAMINECTOMY": 365.0},
            "return_adjusted_hr": {"estimate": 1.6, "ci": [1.3, 2.0]}, "return_withheld": withheld}


def test_faster_recovery_claim_publishes_hr_and_medians_or_withholds_them_with_the_verdict():
    study = load_study()
    doc = assemble_results(_complication_warehouse(30, 778, 79, 1191), study, PROVENANCE)
    path = CLAIMS_FILE
    shown = {c["id"]: c for c in evaluate(doc, study, _return_extras(False), path)}["faster_recovery"]
    assert shown["verdict"] == SUPPORTED and shown["value"] == 1.6 and shown["ci"] == [1.3, 2.0]
    medians = shown["conditions"][0]["medians"]
    assert medians["median_difference"] == -21.0 and medians["median_shorter"] is True
    hidden = {c["id"]: c for c in evaluate(doc, study, _return_extras(True), path)}["faster_recovery"]
    assert hidden["verdict"] == SUPPORTED and hidden["value"] is None and hidden["withheld"] is True
    assert "medians" not in hidden["conditions"][0]
    # Nothing stored about the return (no comparison in this refresh): inconclusive, said so.
    none = {c["id"]: c for c in evaluate(doc, study, {}, path)}["faster_recovery"]
    assert none["verdict"] == INCONCLUSIVE and none["reason"] == "not estimable in this refresh"
