"""The published reports on a small generated cohort (small cells everywhere), through the real graph:
contract members, disclosure control, no identifier or free text, autoescape, offline HTML, atomic
publication, and a headless-Chromium check that every figure renders without console errors."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from plotly.offline import get_plotlyjs

from pipeline.reporting.provenance import build_provenance
from pipeline.reporting.publish import list_refreshes
from pipeline.reporting.render import publish_pending, render_data_quality_files
from pipeline.reporting.results_json import validate
from pipeline.study import load_study
from tests.report_world import generate, run_graph

pytestmark = pytest.mark.slow
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
COUNT_KEYS = {"n", "satisfied", "events", "same_day", "at_risk", "patients", "assessed"}
PAGES = ("comparative.html", "data_quality.html", "overview.html")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("reports")
    landing = generate(root, patients=150, seed=11)
    assert run_graph(root, landing).success
    return root


@pytest.fixture(scope="module")
def latest(world):
    return world / "site" / "latest"


@pytest.fixture(scope="module")
def results(latest):
    return json.loads((latest / "results.json").read_text())


def _strip_bundle(html: str) -> str:
    return html.replace(get_plotlyjs(), "")


def test_every_file_of_a_refresh_is_published_together(world, latest):
    assert sorted(p.name for p in latest.iterdir()) == sorted(
        ["comparative.html", "results.json", "data_quality.html", "data_quality.json", "overview.html"])
    index = (world / "site" / "index.html").read_text()
    [refresh] = list_refreshes(world / "site")
    assert f"refreshes/{refresh}/comparative.html" in index and "latest/comparative.html" in index
    assert not (world / "site" / ".pending").exists()


def test_results_json_has_every_contract_member_and_provenance(results, world):
    assert validate(results) == []
    prov = results["provenance"]
    assert prov["suppression_threshold"] == 11 and len(prov["data_sha256"]) == 64
    assert prov["study_config_sha256"] == load_study().sha256
    assert results["arms"] == {"treatment": "MILD", "comparator": "LAMINECTOMY"}
    assert {r["day"] for r in results["reintervention"]["km"]} == {365, 730, 1095, 1461, 1826}
    assert results["balance"] is not None and results["adjusted"] is not None
    dq = json.loads((world / "site" / "latest" / "data_quality.json").read_text())
    assert dq["contract_version"] == "1" and dq["drops"]
    for d in dq["drops"]:
        assert d["status"] in ("ingested", "rejected", "skipped")
        for f in d["files"]:
            assert f["rows_read"] == f["accepted"] + f["quarantined"] + f["duplicates"]
            assert sum(f["quarantine_reasons"].values()) == f["quarantined"]


def test_subgroups_member_and_section_carry_the_interaction_p_and_say_exploratory(results, latest, world):
    """results.json `subgroups` (SAP 6 v2): one row per level and outcome; both rows of a pair share the
    interaction p, which is the stored one (null only with a withheld level); the page says exploratory."""
    rows = results["subgroups"]
    assert len(rows) == 16 and all(set(r) >= {"outcome", "subgroup", "level", "estimate", "ci", "interaction_p"}
                                   for r in rows)
    with duckdb.connect(str(world / "w.duckdb"), read_only=True) as con:
        stored = {(s, o, lv): p for s, o, lv, p in con.execute(
            "SELECT subgroup, outcome, level, interaction_p FROM comparison.subgroups").fetchall()}
    pairs: dict = {}
    for r in rows:
        pairs.setdefault((r["subgroup"], r["outcome"]), []).append(r)
    for pair in pairs.values():
        assert len(pair) == 2 and pair[0]["interaction_p"] == pair[1]["interaction_p"]
        shown = all(r["estimate"] is not None for r in pair)
        p = stored[(pair[0]["subgroup"], pair[0]["outcome"], pair[0]["level"])]
        if shown and p is not None and p == p:
            assert pair[0]["interaction_p"] == pytest.approx(p, rel=1e-9)
        if not shown:
            assert pair[0]["interaction_p"] is None
    page = (latest / "comparative.html").read_text()
    assert "Exploratory, no multiplicity adjustment" in page and "<th>Interaction p</th>" in page


def _walk(obj, path=()):
    if isinstance(obj, dict):
        yield path, obj
        for k, v in obj.items():
            yield from _walk(v, (*path, k))
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk(v, path)


def test_no_count_from_1_to_10_and_no_recoverable_complement_in_results(results):
    small = 0
    for path, obj in _walk(results):
        for key in COUNT_KEYS & set(obj):
            v = obj[key]
            assert not (isinstance(v, int) and 1 <= v <= 10), (path, key, v)
            small += v == "<11"
        for k in ("satisfied", "events", "same_day"):
            if isinstance(obj.get("n"), int) and isinstance(obj.get(k), int):
                assert not 1 <= obj["n"] - obj[k] <= 10, (path, obj)
        for k, derived in (("satisfied", "rate"), ("events", "rate"), ("same_day", "rate")):
            if obj.get(k) == "<11":
                assert obj.get(derived) is None and obj.get("ci") is None, (path, obj)
        if obj.get("at_risk") == "<11":
            assert obj.get("survival") is None
    assert small > 0, "the small cohort should have produced suppressed cells"


def _cells(html: str, table_id: str) -> list[str]:
    m = re.search(rf'<table id="{table_id}".*?</table>', html, re.S)
    assert m, table_id
    return re.findall(r"<td[^>]*>(.*?)</td>", m.group(0), re.S)


def test_no_small_count_in_the_html_tables(latest):
    comparative = (latest / "comparative.html").read_text()
    dq = (latest / "data_quality.html").read_text()
    checks = [(comparative, "numbers-at-risk"), (comparative, "safety-table"), (comparative, "attrition-site-table"),
              (dq, "site-table"),
              (dq, "completeness-table")]
    for html, table in checks:
        for cell in _cells(html, table):
            assert not re.fullmatch(r"\s*([1-9]|10)\s*", cell), (table, cell)
    for cell in _cells(comparative, "table1-table"):
        assert not re.match(r"\s*([1-9]|10) \(", cell), cell
    assert "&lt;11" in comparative and "&lt;11" in dq


def test_complementary_suppression_in_the_site_table(latest):
    cells = _cells((latest / "data_quality.html").read_text(), "site-table")
    rows = [cells[i:i + 4] for i in range(0, len(cells), 4)]  # site, MILD, LAMINECTOMY, Total
    for row in rows:
        assert sum(c == "&lt;11" for c in row[1:3]) != 1 or row[3] == "&lt;11", row


def test_no_patient_id_or_free_text_in_any_published_file(world):
    with duckdb.connect(str(world / "w.duckdb"), read_only=True) as con:
        ids = {r[0] for r in con.execute("SELECT patient_id FROM ingest.patients").fetchall()}
        details = {r[0] for r in con.execute("SELECT DISTINCT detail FROM ingest.events WHERE detail LIKE '% %'")
                   .fetchall()}
    assert ids and details
    for path in (world / "site").rglob("*"):
        if path.is_file():
            text = _strip_bundle(path.read_text())
            assert not [i for i in ids if i in text], path
            assert not [d for d in details if d.lower() in text.lower()], path
            if path.suffix == ".json":
                assert '"patient_id"' not in text and '"detail"' not in text, path


def test_no_external_url_or_resource_in_the_html(latest):
    for name in PAGES:
        html = _strip_bundle((latest / name).read_text())
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I), name
        assert not re.search(r"<link\b|@import|url\(\s*['\"]?(https?:)?//", html, re.I), name
        assert "cdn.plot.ly" not in html and "mathjax" not in html.lower(), name
    assert (latest / "comparative.html").read_text().count(get_plotlyjs()) == 1


def test_text_from_data_is_escaped(world, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copy(world / "w.duckdb", db)
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT INTO ingest.drop_versions VALUES ('2027-01-01_SITE09', 1, 'x', 'rejected', "
                    "'bad_manifest', '<script>alert(1)</script>', NULL, now(), 'r')")
        study = load_study()
        rendered = render_data_quality_files(con, study, build_provenance(con, study, "run"))
    html = rendered.files["data_quality.html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_without_the_comparison_every_adjusted_member_is_null(tmp_path, world):
    landing = world / "landing"
    assert run_graph(tmp_path, landing, comparison=False).success
    latest = tmp_path / "site" / "latest"
    doc = json.loads((latest / "results.json").read_text())
    assert validate(doc) == []
    assert doc["balance"] is None and doc["adjusted"] is None
    assert doc["reintervention"]["adjusted_cox_hr"] is None and doc["reintervention"]["e_value"] is None
    assert doc["complications"]["difference"]["adjusted"] is None
    assert "Not available in this refresh" in (latest / "comparative.html").read_text()


def test_the_threshold_is_configurable(tmp_path, world):
    assert run_graph(tmp_path, world / "landing", overrides="disclosure.suppression_threshold = 30").success
    doc = json.loads((tmp_path / "site" / "latest" / "results.json").read_text())
    assert doc["provenance"]["suppression_threshold"] == 30
    for path, obj in _walk(doc):
        for key in COUNT_KEYS & set(obj):
            assert not (isinstance(obj[key], int) and 1 <= obj[key] <= 29), (path, key)
    assert "<30" in json.dumps(doc)


def test_a_failed_refresh_leaves_the_previous_one(world):
    site = world / "site"
    before = os.readlink(site / "latest")
    with pytest.raises(FileNotFoundError):
        publish_pending(site, "run-that-rendered-nothing", "29990101T000000Z-none")
    assert os.readlink(site / "latest") == before and "29990101T000000Z-none" not in list_refreshes(site)


def _chromium(args: list[str], url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHROMIUM), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--virtual-time-budget=20000",
         "--enable-logging=stderr", "--v=0", *args, url],
        capture_output=True, text=True, timeout=180)


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium not installed at {CHROMIUM} "
                    "(apt-get install -y chromium); the browser check of the reports cannot run")
@pytest.mark.parametrize("page", PAGES)
def test_every_figure_renders_offline_in_chromium_without_console_errors(latest, page, tmp_path):
    url = (latest / page).resolve().as_uri()
    html = (latest / page).read_text()
    figures = re.findall(r'<div id="([^"]+)" class="plotly-graph-div', html)
    done = _chromium(["--dump-dom"], url)
    dom = done.stdout
    assert "</html>" in dom, done.stderr[-2000:]
    for fig in figures:
        m = re.search(rf'<div id="{fig}" class="plotly-graph-div[^>]*>(.{{0,2000}})', dom, re.S)
        assert m and "plot-container" in m.group(1) and "main-svg" in m.group(1), f"{page}: {fig} did not render"
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == [], console
    artifacts = Path(os.environ.get("TEST_ARTIFACTS", tmp_path))
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / f"{Path(page).stem}.png"
    _chromium([f"--screenshot={shot}", "--window-size=1200,4000", "--hide-scrollbars"], url)
    assert shot.exists() and shot.stat().st_size > 10_000


def test_durable_response_cis_and_difference_are_published(results, latest):
    """SAP 4.2 v2: every durable_response row carries a ci member, the difference member is there, and the
    comparative report shows the table and the difference sentence."""
    assert results["durable_response"] and all("ci" in r for r in results["durable_response"])
    assert any(r["ci"] for r in results["durable_response"])
    for r in results["durable_response"]:
        if r["ci"]:
            assert r["ci"][0] <= r["probability"] <= r["ci"][1]
    member = results["durable_response_difference"]
    gaps = {g["what"] for g in results["not_estimable"]}
    assert member is not None or "durable_response_difference" in gaps
    page = (latest / "comparative.html").read_text()
    assert 'id="durable-table"' in page and 'id="durable-difference"' in page
