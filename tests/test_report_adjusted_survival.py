"""How the report words the adjusted reintervention comparison (SAP 6 v2): when the PH test of the adjusted
model rejects, the comparison leads with the adjusted RMST difference and says that the HR averages a changing
ratio; otherwise the RMST difference follows the hazard ratios. On results documents built here (no refresh)."""

import copy

import duckdb
import pytest

from pipeline.comparison.adjusted_survival import typed
from pipeline.reporting.results_json import _adjusted_survival
from pipeline.reporting.summary import adjusted_rmst_sentences, rmst_leads, summary_sentences
from pipeline.reporting.suppression import Suppressor
from pipeline.study import load_study
from pipeline.warehouse import write_table


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


# --- disclosure control of the adjusted members (results_json._adjusted_survival) ---------------------------

def _warehouse(arm_events: tuple[int, int], day_events: int):
    con = duckdb.connect()
    con.execute("CREATE SCHEMA comparison")
    rows = [{"measure": "rmst", "arm": "MILD", "arm_role": "treatment", "tau": 1826.0, "estimate": 1600.0, "se": 20.0,
             "n": 400, "events": arm_events[0]},
            {"measure": "rmst", "arm": "LAMINECTOMY", "arm_role": "comparator", "tau": 1826.0, "estimate": 1650.0,
             "se": 15.0, "n": 500, "events": arm_events[1]},
            {"measure": "rmst_difference", "tau": 1826.0, "estimate": -50.0, "se": 25.0, "ci_lower": -99.0,
             "ci_upper": -1.0, "n": 900, "events": min(arm_events)},
            {"measure": "ph_test", "estimate": 6.8, "p_value": 0.009, "n": 900, "events": min(arm_events)}]
    write_table(con, "comparison.adjusted_reintervention", typed("adjusted_reintervention", rows))
    cif = [{"arm": arm, "arm_role": role, "day": 365.0, "cumulative_incidence": 0.03, "se": 0.01, "ci_lower": 0.02,
            "ci_upper": 0.045, "at_risk": 300, "events": day_events}
           for arm, role in (("MILD", "treatment"), ("LAMINECTOMY", "comparator"))]
    write_table(con, "comparison.adjusted_cif", typed("adjusted_cif", cif))
    return con


def test_adjusted_members_are_published_from_large_counts(study):
    out = _adjusted_survival(_warehouse((40, 50), 12), study, Suppressor(11), {"MILD": 400, "LAMINECTOMY": 500})
    assert [r["arm"] for r in out["adjusted_rmst"]] == list(study.arms)
    assert out["adjusted_rmst_difference"] == {"estimate": -50.0, "ci": [-99.0, -1.0]}
    assert out["adjusted_ph_test_p"] == 0.009
    assert out["adjusted_cif"][0] == {"arm": "MILD", "day": 365, "cumulative_incidence": 0.03, "ci": [0.02, 0.045]}


def test_few_events_withhold_the_between_arm_numbers_and_the_cif_cell(study):
    out = _adjusted_survival(_warehouse((40, 7), 7), study, Suppressor(11), {"MILD": 400, "LAMINECTOMY": 500})
    assert out["adjusted_rmst_difference"] is None and out["adjusted_ph_test_p"] is None
    assert all(r["cumulative_incidence"] is None and r["ci"] is None for r in out["adjusted_cif"])
    assert all(r["rmst"] is not None for r in out["adjusted_rmst"])  # per arm: the arm's patients decide
