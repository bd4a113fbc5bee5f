"""SAP 3.1 through the whole graph (a generated cohort, ingest to reports): the MAR twin of the adjusted ODI
differences in results.json equals statsmodels WLS on the warehouse's patient-level tables (confounding weight ×
attendance weight; its HC1 is the weights-fixed component) with the SE of the stacked estimating equations that
account for the estimated propensity model (numerical derivatives, tests/stacked_sandwich.py); the comparative
report carries the section "Missing follow-up" with its figure and no small count, and the PRO claims show the MAR
numbers of results.json."""

import html
import json
import math
import re

import duckdb
import numpy as np
import pytest
import statsmodels.api as sm

from pipeline.comparison.cohort import load_cohort
from pipeline.comparison.propensity import build_design
from pipeline.study import load_study
from tests.report_world import generate, run_graph
from tests.stacked_sandwich import stacked_variance

pytestmark = pytest.mark.slow
SMALL = re.compile(r"\s*([1-9]|10)\s*")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("missing")
    landing = generate(root, patients=700, seed=41)
    assert run_graph(root, landing).success
    doc = json.loads((root / "site" / "latest" / "results.json").read_text())
    page = (root / "site" / "latest" / "comparative.html").read_text()
    return {"root": root, "doc": doc, "page": page}


def _wls(con: duckdb.DuckDBPyConnection, visit: str):
    rows = con.execute("""
        SELECT c.change, r.treated::DOUBLE AS treated, r.weight AS w_conf, a.weight AS w_att, r.row
        FROM outcomes.pro_changes c
        JOIN comparison.cohort r USING (site_id, patient_id)
        JOIN outcomes.attendance_weights a USING (site_id, patient_id, instrument, visit)
        WHERE c.instrument = 'ODI' AND c.visit = ? AND a.eligible AND a.assessed""", [visit]).df()
    fit = sm.WLS(rows["change"], sm.add_constant(rows["treated"]),
                 weights=rows["w_conf"] * rows["w_att"]).fit(cov_type="HC1")
    return fit, rows


def _stacked(con: duckdb.DuckDBPyConnection, rows, study) -> float:
    """The variance accounting for the estimated propensity model (attendance weights fixed factors): the
    stacked equations by numerical derivatives (tests/stacked_sandwich.py) on statsmodels' logistic fit of the
    stored cohort's design, times the HC1 factor."""
    cohort = load_cohort(con)
    x = build_design(cohort, site_minimum=study.suppression_threshold).x
    t = cohort["treated"].to_numpy(dtype=bool)
    glm = sm.GLM(t.astype(float), sm.add_constant(x.to_numpy(), has_constant="add"),
                 family=sm.families.Binomial()).fit(tol=1e-12)
    estimate, variance, hc0 = stacked_variance(x.to_numpy(), t, np.asarray(glm.params), rows["row"].to_numpy(),
                                               rows["change"].to_numpy(), "overlap", rows["w_att"].to_numpy())
    n = len(rows)
    return variance * n / (n - 2), hc0 * n / (n - 2)


def test_the_mar_twin_in_results_json_equals_the_stacked_sandwich(world):
    study = load_study()
    rows = [r for r in world["doc"]["adjusted"]["pro_change_difference_mar"] if r["instrument"] == "ODI"]
    published = [r for r in rows if r["estimate"] is not None]
    assert len(published) >= 4
    with duckdb.connect(str(world["root"] / "w.duckdb"), read_only=True) as con:
        for r in published:
            fit, data = _wls(con, r["visit"])
            variance, hc1 = _stacked(con, data, study)
            assert hc1 == pytest.approx(fit.bse.iloc[1] ** 2, rel=1e-8)  # the weights-fixed component
            estimate = fit.params.iloc[1]
            half = 1.959963984540054 * math.sqrt(variance)
            assert r["estimate"] == pytest.approx(estimate, rel=1e-8), r
            assert r["ci"] == pytest.approx([estimate - half, estimate + half], rel=1e-6), r
            assert r["method"] in ("ipaw", "complete_case")
    # The complete-case twin is still published beside it, for the same visits.
    cc = {r["visit"] for r in world["doc"]["adjusted"]["pro_change_difference"] if r["instrument"] == "ODI"}
    assert {r["visit"] for r in rows} <= cc


def test_the_difference_tipping_point_joins_the_per_arm_ones(world):
    rows = [r for r in world["doc"]["tipping_point"] if r["what"] == "adjusted.pro_change_difference_mar"]
    assert len(rows) == 1 and rows[0]["visit"] == "M12" and rows[0]["arm"] == "MILD" and rows[0]["threshold"] == 0
    assert rows[0]["share_unassessed"] is None or 0 < rows[0]["share_unassessed"] < 1


def test_the_report_has_the_missing_follow_up_section_with_one_figure_and_no_small_count(world):
    page = world["page"]
    section = re.search(r'<h2 id="missing-followup">.*?(?=<h2 id=)', page, re.S).group(0)
    assert section.count('class="figure"') == 1 and 'id="fig-missing"' in section
    for table in ("missing-completeness-table", "missing-estimates-table", "missing-differences-table"):
        assert f'id="{table}"' in section, table
    cells = [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", section, re.S)]
    counts = [part.strip() for c in cells for part in c.split("/")]
    assert not any(SMALL.fullmatch(c) for c in counts)
    sentences = re.findall(r"<li>(.*?)</li>", re.search(r'<ul id="missing-tipping">.*?</ul>', section, re.S).group(0),
                           re.S)
    assert len(sentences) == len(world["doc"]["tipping_point"])


def test_the_pro_claims_show_the_mar_numbers_of_results_json(world):
    doc = world["doc"]
    claims = {c["id"]: c for c in doc["claims"]}
    mar = next(r for r in doc["satisfaction_mar"] if r["arm"] == "MILD" and r["visit"] == "M12")
    assert claims["satisfaction_85"]["value"] == mar["rate"]
    stand, walk = claims["stand_walk"]["conditions"]
    for condition, instrument in ((stand, "STAND_TIME"), (walk, "WALK_DISTANCE")):
        row = next(r for r in doc["pro_change_mar"] if r["arm"] == "MILD" and r["instrument"] == instrument
                   and r["visit"] == "M12")
        assert condition["value"] == row["mean_change"] and "(MAR)" in condition["metric"]
