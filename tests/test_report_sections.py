"""Sections added to the reports, on a small generated cohort (small cells everywhere) run through the graph
without the comparison: completeness after each drop (checked against a refresh that only had those drops),
attrition per site with complementary suppression, the overview read from aggregate tables, and one plain
sentence per claim."""

import html
import json
import re
import shutil

import duckdb
import pytest

from pipeline.ingest import ingest_landing
from pipeline.outcomes import build_follow_up_completeness
from pipeline.reporting.summary import claim_sentences
from pipeline.sql import run
from pipeline.staging import build_all
from pipeline.study import load_study
from tests.report_world import generate, run_graph

pytestmark = pytest.mark.slow
SMALL = re.compile(r"\s*([1-9]|10)\s*")
OLD_VISIT_COUNTS = """
    SELECT w.visit, p.procedure, count(DISTINCT (v.site_id, v.patient_id)) AS patients
    FROM staging.pro_visits v JOIN staging.patients p USING (site_id, patient_id)
    JOIN staging.visit_windows w USING (visit)
    WHERE p.in_analysis GROUP BY ALL"""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("sections")
    landing = generate(root, patients=150, seed=23)
    assert run_graph(root, landing, comparison=False).success
    return root


def _by_cut(con: duckdb.DuckDBPyConnection) -> dict:
    rows = run(con, "reporting/completeness_by_cut", instrument="ANY").fetchall()
    return {(r[0], r[2], r[4]): (r[6], r[7]) for r in rows}  # (cut, arm, visit) -> (n, assessed)


def _completeness(con: duckdb.DuckDBPyConnection) -> dict:
    rows = con.execute("SELECT arm, visit, n, assessed FROM outcomes.follow_up_completeness "
                       "WHERE instrument = 'ANY'").fetchall()
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def test_the_last_cut_is_todays_completeness(world):
    with duckdb.connect(str(world / "w.duckdb"), read_only=True) as con:
        by_cut, today = _by_cut(con), _completeness(con)
    last = max(c for c, _, _ in by_cut)
    assert {(a, v): x for (c, a, v), x in by_cut.items() if c == last} == today


@pytest.mark.parametrize("cut", [1, 6])
def test_a_cut_is_the_completeness_of_a_refresh_that_had_only_those_drops(world, tmp_path, cut):
    drops = sorted(p.name for p in (world / "landing").iterdir() if p.is_dir())
    partial = tmp_path / "landing"
    for name in drops[:cut]:
        shutil.copytree(world / "landing" / name, partial / name)
    study = load_study()
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ingest_landing(con, partial)
        build_all(con, study)
        build_follow_up_completeness(con, study)
        expected = _completeness(con)
    with duckdb.connect(str(world / "w.duckdb"), read_only=True) as con:
        got = {(a, v): x for (c, a, v), x in _by_cut(con).items() if c == cut}
    assert got == expected


def test_completeness_by_cut_publishes_rates_only_and_withholds_small_proportions(world):
    dq = json.loads((world / "site" / "latest" / "data_quality.json").read_text())
    rows = dq["completeness_by_cut"]
    assert rows and all(set(r) == {"cut", "drop_id", "arm", "visit", "rate", "ci"} for r in rows)
    with duckdb.connect(str(world / "w.duckdb"), read_only=True) as con:
        raw = _by_cut(con)
    withheld = 0
    for r in rows:
        n, k = raw[(r["cut"], r["arm"], r["visit"])]
        hidden = any(0 < x < 11 for x in (n, k, n - k))
        assert (r["rate"] is None) == hidden, r
        withheld += hidden
    assert withheld > 0
    page = (world / "site" / "latest" / "data_quality.html").read_text()
    assert 'id="fig-completeness-cut"' in page and 'id="completeness-cut-table"' in page


def test_attrition_per_site_is_suppressed_with_complements_and_adds_up_to_the_flow(world):
    page = (world / "site" / "latest" / "comparative.html").read_text()
    table = re.search(r'<table id="attrition-site-table".*?</table>', page, re.S).group(0)
    rows = [[html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", tr)]
            for tr in re.findall(r"<tr><td>.*?</tr>", table, re.S)]
    assert rows[-1][0] == "Total" and len(rows) > 2
    hidden = 0
    for row in rows:  # site, read, quarantined, other, one per arm, analysed (= the arms' total)
        assert not any(SMALL.fullmatch(c) for c in row[1:]), row
        arms = row[4:6]
        hidden += arms.count("<11") + (row[3] == "<11")
        assert arms.count("<11") != 1 or row[6] == "<11", row
    for col in range(1, 7):  # no column with a single hidden cell above a published total
        cells = [row[col] for row in rows[:-1]]
        assert cells.count("<11") != 1 or rows[-1][col] == "<11", col
    assert hidden > 0, "the small cohort should hide some site cells"
    flow = html.unescape(re.search(r'<div class="flow" id="attrition-flow">.*?</div>\s*</div>', page, re.S).group(0))
    assert f"Other procedure (excluded)<br><b>{rows[-1][3]}</b>" in flow
    accepted = re.search(r"Patients accepted<br><b>(.*?)</b>", flow).group(1)
    assert (accepted == "<11") == (rows[-1][3] == "<11")


def test_the_overview_counts_patients_per_visit_as_before(world):
    with duckdb.connect(str(world / "w.duckdb"), read_only=True) as con:
        new = {(r[0], r[2]): r[3] for r in run(con, "reporting/patients_by_visit_arm").fetchall()}
        old = {(r[0], r[1]): r[2] for r in con.execute(OLD_VISIT_COUNTS).fetchall()}
    assert new == old and new


def test_every_claim_gets_one_plain_sentence_saying_whether_the_data_support_it(world):
    doc = json.loads((world / "site" / "latest" / "results.json").read_text())
    sentences = claim_sentences(doc["claims"])
    assert len(sentences) == len(doc["claims"])
    opening = {"supported": "The data support “", "not supported": "The data do not support “",
               "inconclusive": "The data can neither confirm nor refute “", "reported": "“"}
    for claim, sentence in zip(doc["claims"], sentences, strict=True):
        assert sentence.startswith(opening[claim["verdict"]] + claim["claim"] + "”"), sentence
    page = html.unescape((world / "site" / "latest" / "comparative.html").read_text())
    assert all(s in page for s in sentences)


def test_complications_is_an_object_of_per_arm_rates_and_the_difference(world):
    from pipeline.reporting.results_json import validate

    doc = json.loads((world / "site" / "latest" / "results.json").read_text())
    c = doc["complications"]
    assert set(c) == {"rates", "difference"} and [r["arm"] for r in c["rates"]] == ["MILD", "LAMINECTOMY"]
    assert all(set(r) == {"arm", "n", "events", "rate", "ci"} for r in c["rates"])
    assert set(c["difference"]) == {"unadjusted", "adjusted"}
    assert c["difference"]["adjusted"] is None  # no comparison in this world
    assert validate(doc) == []
    as_list = {**doc, "complications": c["rates"]}
    assert "complications is not an object" in validate(as_list)
    broken = {**doc, "complications": {**c, "difference": {"unadjusted": {"estimate": 0.1}, "adjusted": None}}}
    assert validate(broken) == ["complications.difference.unadjusted.ci missing"]
