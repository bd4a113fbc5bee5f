"""Between-arm differences in the comparative report (SAP 8): an estimate whose arms hold a small count of
events or non-events is withheld, adjusted and unadjusted alike, because the small count is recoverable from
the difference and the other arm's published rate; a subgroup hazard ratio with few events in an arm too."""

import duckdb
import pytest

from pipeline.comparison.estimates import ESTIMATE_COLUMNS
from pipeline.reporting.comparative import differences, subgroup_rows
from pipeline.reporting.suppression import Suppressor
from pipeline.study import load_study

STUDY = load_study()


def _row(outcome, instrument, visit, measure, adjustment, estimate, n_t, n_c, v_t, v_c):
    values = {"outcome": outcome, "instrument": instrument, "visit": visit, "visit_ordinal": None,
              "measure": measure, "adjustment": adjustment, "estimate": estimate, "se": 0.01,
              "ci_lower": estimate - 0.02, "ci_upper": estimate + 0.02, "p_value": 0.5, "n_treatment": n_t,
              "n_comparator": n_c, "value_treatment": v_t, "value_comparator": v_c, "ci_method": "x",
              "weights": "none" if adjustment == "unadjusted" else "overlap",
              "balance_achieved": None if adjustment == "unadjusted" else True}
    return [values[c] for c in ESTIMATE_COLUMNS]


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("CREATE SCHEMA comparison")
    text = {"outcome", "instrument", "visit", "measure", "adjustment", "ci_method", "weights"}
    kinds = {c: "VARCHAR" if c in text else "BOOLEAN" if c == "balance_achieved" else "DOUBLE"
             for c in ESTIMATE_COLUMNS}
    c.execute("CREATE TABLE comparison.adjusted_estimates (" + ", ".join(f"{k} {v}" for k, v in kinds.items()) + ")")
    primary = STUDY.primary_visit
    rows = [
        # 9 of 778 MILD patients had a complication: 9 would be recoverable from the difference.
        ("complication", None, None, "risk_difference", 9 / 778 - 79 / 1191, 778, 1191, 9 / 778, 79 / 1191),
        # 770 of 778 responded: the 8 non-responders would be recoverable.
        ("responder", "ODI", primary, "risk_difference", 770 / 778 - 0.7, 778, 1191, 770 / 778, 0.7),
        ("responder", "NRS_LEG", primary, "risk_difference", 0.6 - 0.7, 778, 1191, 0.6, 0.7),
        # 4 reinterventions in the MILD arm.
        ("reintervention", None, None, "hazard_ratio", 1.3, 778, 1191, 4.0, 60.0),
        ("pro_change", "ODI", primary, "mean_change_difference", 2.4, 778, 1191, -15.0, -19.0),
    ]
    for outcome, instrument, visit, measure, est, n_t, n_c, v_t, v_c in rows:
        for adjustment in ("unadjusted", "adjusted"):
            c.execute("INSERT INTO comparison.adjusted_estimates VALUES (" + ", ".join("?" * len(ESTIMATE_COLUMNS))
                      + ")", _row(outcome, instrument, visit, measure, adjustment, est, n_t, n_c, v_t, v_c))
    yield c
    c.close()


def _published(con) -> dict[tuple[str, str], object]:
    return {(d["name"], d["adjustment"]): d["estimate"] for d in differences(con, STUDY, Suppressor(11))}


def test_a_risk_difference_with_a_small_event_count_is_withheld(con):
    shown = _published(con)
    assert shown[("complication", "unadjusted")] is None and shown[("complication", "adjusted")] is None


def test_a_risk_difference_with_a_small_complement_is_withheld(con):
    shown = _published(con)
    assert shown[(f"responder ODI {STUDY.primary_visit}", "adjusted")] is None


def test_a_hazard_ratio_with_few_events_in_an_arm_is_withheld(con):
    shown = _published(con)
    assert shown[("reintervention", "unadjusted")] is None and shown[("reintervention", "adjusted")] is None


def test_estimates_from_large_cells_are_published(con):
    shown = _published(con)
    assert shown[(f"responder NRS_LEG {STUDY.primary_visit}", "unadjusted")] == pytest.approx(-0.1)
    assert shown[(f"pro_change ODI {STUDY.primary_visit}", "adjusted")] == pytest.approx(2.4)


def test_a_subgroup_hazard_ratio_with_few_events_in_an_arm_is_withheld():
    c = duckdb.connect()
    c.execute("CREATE SCHEMA comparison")
    c.execute("CREATE TABLE comparison.subgroups (subgroup VARCHAR, level VARCHAR, outcome VARCHAR, measure VARCHAR,"
              " estimate DOUBLE, ci_lower DOUBLE, ci_upper DOUBLE, n_treatment BIGINT, n_comparator BIGINT,"
              " events_treatment BIGINT, events_comparator BIGINT, max_abs_smd_after DOUBLE,"
              " balance_achieved BOOLEAN, weights VARCHAR, note VARCHAR, se DOUBLE, interaction_p DOUBLE)")
    for level, events in (("yes", 4), ("no", 40)):
        c.execute("INSERT INTO comparison.subgroups VALUES ('diabetes', ?, 'reintervention', 'hazard_ratio', 1.3,"
                  " 0.9, 1.8, 300, 500, ?, 60, 0.0, true, 'overlap', NULL, 0.2, 0.5)", [level, events])
    rows = subgroup_rows(c, Suppressor(11))
    shown = {r["level"]: r["estimate"] for r in rows}
    c.close()
    assert shown == {"yes": None, "no": pytest.approx(1.3)}
    # The pair's interaction p is computed from both levels: withheld with the withheld level.
    assert [r["interaction_p"] for r in rows] == [None, None]
