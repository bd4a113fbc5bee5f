"""results.json members of SAP 3.1 through the Suppressor (SAP 8): counts 1–10 are "<11", estimates derived
from suppressed counts null, and the members conform to the results contract."""

from __future__ import annotations

import pandas as pd

from pipeline.reporting.mar_results import ROWS, pro_change_mar, satisfaction_mar, tipping_point
from pipeline.reporting.suppression import Suppressor

S = Suppressor(11)


def _change(eligible: int, assessed: int, responders: int) -> pd.DataFrame:
    return pd.DataFrame([{
        "arm": "MILD", "arm_role": "treatment", "instrument": "ODI", "visit": "M12", "visit_ordinal": 4,
        "eligible": eligible, "assessed": assessed, "mean_change": -15.0, "ci_low": -17.0, "ci_high": -13.0,
        "responders": responders, "responder_rate": 0.6, "responder_ci_low": 0.5, "responder_ci_high": 0.7,
        "method": "ipaw"}])


def test_pro_change_mar_publishes_counts_and_estimates_when_no_cell_is_small():
    (row,) = pro_change_mar(_change(200, 150, 90), S)
    assert set(row) == set(ROWS[("pro_change_mar",)])
    assert (row["eligible"], row["assessed"], row["mean_change"], row["ci"], row["responder_rate"],
            row["responder_ci"], row["method"]) == (200, 150, -15.0, [-17.0, -13.0], 0.6, [0.5, 0.7], "ipaw")


def test_few_assessed_patients_withhold_the_count_and_every_estimate():
    (row,) = pro_change_mar(_change(200, 8, 5), S)
    assert (row["eligible"], row["assessed"]) == (200, "<11")
    assert row["mean_change"] is row["ci"] is row["responder_rate"] is row["responder_ci"] is None


def test_few_unassessed_patients_withhold_the_eligible_count_but_not_the_mean():
    # 5 not assessed: the assessed patients are the complete-case n published beside the row (155), so the
    # eligible count is the one withheld (160 − 155 would reveal the 5).
    (row,) = pro_change_mar(_change(160, 155, 90), S)
    assert (row["eligible"], row["assessed"], row["mean_change"]) == ("<11", 155, -15.0)


def test_few_responders_or_non_responders_withhold_the_responder_rate():
    (row,) = pro_change_mar(_change(200, 150, 145), S)
    assert row["mean_change"] == -15.0 and row["responder_rate"] is None and row["responder_ci"] is None


def test_satisfaction_mar_follows_the_same_rules():
    frame = pd.DataFrame([{"arm": "MILD", "arm_role": "treatment", "visit": "M12", "visit_ordinal": 4,
                           "eligible": e, "assessed": a, "satisfied": k, "rate": 0.7, "ci_low": 0.6, "ci_high": 0.8,
                           "method": "complete_case"} for e, a, k in ((300, 200, 140), (300, 200, 195), (9, 9, 5))])
    rows = satisfaction_mar(frame, S)
    assert all(set(r) == set(ROWS[("satisfaction_mar",)]) for r in rows)
    assert (rows[0]["rate"], rows[0]["ci"], rows[0]["method"]) == (0.7, [0.6, 0.8], "complete_case")
    assert rows[1]["rate"] is None and rows[1]["assessed"] == 200  # 5 not satisfied
    assert (rows[2]["eligible"], rows[2]["assessed"], rows[2]["rate"]) == ("<11", "<11", None)


def test_a_tipping_point_is_withheld_when_few_patients_were_not_assessed():
    frame = pd.DataFrame([{"what": "pro_change_mar.mean_change", "arm": "MILD", "arm_role": "treatment", "visit": v,
                           "visit_ordinal": o, "eligible": e, "assessed": a, "share_unassessed": (e - a) / e,
                           "delta": 30.0, "threshold": 0.0}
                          for v, o, e, a in (("M12", 4, 400, 300), ("M60", 8, 100, 95))])
    rows = tipping_point(frame, S)
    assert all(set(r) == set(ROWS[("tipping_point",)]) for r in rows)
    assert (rows[0]["delta"], rows[0]["share_unassessed"], rows[0]["threshold"]) == (30.0, 0.25, 0.0)
    assert rows[1]["delta"] is None and rows[1]["share_unassessed"] is None


def test_few_patients_not_eligible_withhold_the_eligible_count_and_the_tipping_point():
    # The population is published: 300 MILD patients, 295 eligible at W6 would reveal the 5 who died, withdrew or
    # were not yet due. The tipping point's share not assessed would give eligible back from assessed.
    population = {"MILD": 300}
    (row,) = pro_change_mar(_change(295, 200, 120), S, population)
    assert (row["eligible"], row["assessed"], row["mean_change"]) == ("<11", 200, -15.0)
    (far,) = pro_change_mar(_change(250, 200, 120), S, population)
    assert far["eligible"] == 250
    tipping = pd.DataFrame([{"what": "pro_change_mar.mean_change", "arm": "MILD", "arm_role": "treatment",
                             "visit": "W6", "visit_ordinal": 1, "eligible": 295, "assessed": 200,
                             "share_unassessed": 95 / 295, "delta": 30.0, "threshold": 0.0}])
    (tip,) = tipping_point(tipping, S, population)
    assert tip["delta"] is None and tip["share_unassessed"] is None
    satisfaction = pd.DataFrame([{"arm": "MILD", "arm_role": "treatment", "visit": "M12", "visit_ordinal": 4,
                                  "eligible": 292, "assessed": 200, "satisfied": 140, "rate": 0.7, "ci_low": 0.6,
                                  "ci_high": 0.8, "method": "ipaw"}])
    (sat,) = satisfaction_mar(satisfaction, S, population)
    assert (sat["eligible"], sat["assessed"], sat["rate"]) == ("<11", 200, 0.7)
