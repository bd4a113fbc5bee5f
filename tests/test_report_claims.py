"""Claims scorecard (SAP 7): verdict rules, the inconclusive cases, and the configuration file."""

import pytest

from pipeline.reporting.claims import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    REPORTED,
    SUPPORTED,
    Condition,
    Metric,
    combine,
    evaluate,
    load_claims,
    verdict,
)
from pipeline.study import load_study


def _v(rule, value, ci=None, n=100, threshold=0.5, p=None):
    return verdict(Condition("x", rule, threshold=threshold), Metric("m", value, ci, n, p), 30)


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


def test_fewer_than_30_patients_or_a_withheld_number_is_inconclusive():
    assert _v("ci_lower_at_least", 0.9, [0.8, 0.95], n=29) == INCONCLUSIVE
    assert _v("ci_lower_at_least", 0.9, [0.8, 0.95], n=30) == SUPPORTED
    assert _v("ci_lower_at_least", None, None) == INCONCLUSIVE
    assert _v("ci_lower_at_least", 0.9, [0.8, 0.95], n=None) == INCONCLUSIVE  # n suppressed ("<11")


def test_shorter_and_significant():
    assert _v("shorter_and_significant", -24.0, p=0.001) == SUPPORTED
    assert _v("shorter_and_significant", 5.0, p=0.001) == NOT_SUPPORTED
    assert _v("shorter_and_significant", -3.0, p=0.2) == INCONCLUSIVE


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
