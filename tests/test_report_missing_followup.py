"""The report section "Missing follow-up" (SAP 3.1): tipping points in plain words, from the results document."""

import pytest

from pipeline.reporting.missing_followup import missing_followup, tipping_sentence
from pipeline.study import load_study

STUDY = load_study()


def test_a_tipping_point_reads_as_how_much_worse_the_non_answering_patients_would_have_to_be():
    row = {"what": "mean_change", "arm": "MILD", "visit": "M60", "delta": 27.5, "share_unassessed": 0.48,
           "threshold": 0.0}
    text = tipping_sentence(row, -15.2, [-17.3, -13.2], STUDY)
    assert text == ("The M60 conclusion that MILD patients improved (the mean ODI change of MILD -15.2 points, "
                    "95% CI -17.3 to -13.2, MAR) would change only if the 48% of eligible MILD patients who did not "
                    "answer had done 27.5 ODI points worse than similar MILD patients who did.")


def test_the_difference_tipping_point_names_both_arms():
    row = {"what": "adjusted.pro_change_difference_mar", "arm": "MILD", "visit": "M12", "delta": 4.0,
           "share_unassessed": 0.25, "threshold": 0.0}
    text = tipping_sentence(row, -2.0, [-3.0, -1.0], STUDY)
    assert text.startswith("The M12 conclusion that MILD patients did better than LAMINECTOMY patients (the adjusted "
                           "ODI change difference MILD − LAMINECTOMY -2.00 points")
    assert "the 25% of eligible MILD patients who did not answer had done 4.0 ODI points worse" in text
    assert "LAMINECTOMY patients who did not answer taken as similar" in text


@pytest.mark.parametrize(("row", "estimate", "ci", "expected"), [
    ({"share_unassessed": 0.0, "delta": None}, -10.0, [-12.0, -8.0], "every eligible patient answered"),
    ({"share_unassessed": 0.3, "delta": None}, None, None, "tipping point is not available"),
    ({"share_unassessed": None, "delta": None}, -10.0, [-12.0, -8.0], "tipping point is not available"),
    ({"share_unassessed": 0.3, "delta": None}, -1.0, [-3.0, 1.0], "the CI already includes no change"),
    ({"share_unassessed": 0.3, "delta": None}, 3.0, [1.0, 5.0], "already points to a worsening"),
])
def test_no_tipping_point_is_said_plainly(row, estimate, ci, expected):
    base = {"what": "mean_change", "arm": "MILD", "visit": "M12", "threshold": 0.0}
    assert expected in tipping_sentence(base | row, estimate, ci, STUDY)


def test_the_section_lays_complete_case_beside_mar_per_visit_and_arm():
    results = {
        "pro_change": [{"arm": "MILD", "instrument": "ODI", "visit": "M12", "n": 300, "mean_change": -18.0,
                        "ci": [-20.0, -16.0]}],
        "pro_change_mar": [{"arm": "MILD", "instrument": "ODI", "visit": "M12", "eligible": 400, "assessed": 300,
                            "mean_change": -15.0, "ci": [-17.5, -12.5], "method": "ipaw"}],
        "satisfaction": [], "satisfaction_mar": [], "adjusted": None,
        "tipping_point": [{"what": "mean_change", "arm": "MILD", "visit": "M12", "delta": 50.0,
                           "share_unassessed": 0.25, "threshold": 0.0}],
    }
    completeness = [{"arm": "MILD", "visit": "M12", "n": 420, "assessed": 310, "rate": 310 / 420, "ci": None}]
    section = missing_followup(results, STUDY, completeness)
    assert [(e["visit"], e["arm"], e["cc"]["mean_change"], e["mar"]["mean_change"]) for e in section["estimates"]] \
        == [("M12", "MILD", -18.0, -15.0)]
    assert section["completeness"] == [{"visit": "M12", "cells": [{"assessed": 310, "n": 420, "rate": 310 / 420},
                                                                  None]}]
    assert section["tipping"][0].startswith("The M12 conclusion that MILD patients improved (the mean ODI change of "
                                            "MILD -15.0 points")
    assert section["mar_available"]
