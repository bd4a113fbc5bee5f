"""How the report words the adjusted reintervention comparison (SAP 6 v2): when the PH test of the adjusted
model rejects, the comparison leads with the adjusted RMST difference and says that the HR averages a changing
ratio; otherwise the RMST difference follows the hazard ratios. On results documents built here (no refresh)."""

import copy

import pytest

from pipeline.reporting.summary import adjusted_rmst_sentences, rmst_leads, summary_sentences
from pipeline.study import load_study


@pytest.fixture
def study():
    return load_study()


def results(study, ph_p, difference=(-45.2, (-80.0, -10.4))) -> dict:
    t, c = study.arms
    return {
        "population": {t: {"patients": 500}, c: {"patients": 600}},
        "satisfaction": [], "pro_change": [], "adjusted": None, "return_to_activity": [], "claims": [],
        "reintervention": {
            "km": [], "cox_hr": {"estimate": 1.4, "ci": [1.1, 1.8], "p": 0.01},
            "adjusted_cox_hr": {"estimate": 1.3, "ci": [1.0, 1.7]}, "e_value": {"estimate": 1.9, "ci_limit": 1.0},
            "adjusted_rmst_difference": None if difference is None else {"estimate": difference[0],
                                                                         "ci": list(difference[1])},
            "adjusted_ph_test_p": ph_p,
        },
    }


def test_a_failed_adjusted_ph_test_puts_the_rmst_difference_first_and_says_why(study):
    doc = results(study, 0.0011)
    assert rmst_leads(doc, study)
    lines = summary_sentences(doc, study)
    first_rmst = next(i for i, line in enumerate(lines) if "changes over time" in line)
    first_hr = next(i for i, line in enumerate(lines) if "hazard ratio of reintervention" in line)
    assert first_rmst < first_hr
    assert "averages a changing ratio" in lines[first_rmst]
    assert "45.2 fewer days free of reintervention" in lines[first_rmst + 1] and "95% CI" in lines[first_rmst + 1]


@pytest.mark.parametrize("p", [0.05, 0.3, None])
def test_otherwise_the_hazard_ratio_comes_first(study, p):
    doc = results(study, p)
    assert not rmst_leads(doc, study)
    lines = summary_sentences(doc, study)
    rmst = next(i for i, line in enumerate(lines) if "restricted mean survival time" in line)
    hr = next(i for i, line in enumerate(lines) if "hazard ratio of reintervention" in line)
    assert hr < rmst and not any("changing ratio" in line for line in lines)


def test_without_a_published_difference_nothing_leads(study):
    doc = results(study, 0.001, difference=None)
    assert not rmst_leads(doc, study) and adjusted_rmst_sentences(doc, study) == []


def test_a_positive_difference_reads_more(study):
    doc = copy.deepcopy(results(study, 0.5, difference=(12.0, (2.0, 22.0))))
    assert "12.0 more days" in adjusted_rmst_sentences(doc, study)[0]
