"""Whole refreshes over landings of many shapes, made by tests/landing_shapes.py, not by our sample generator
(issue 12). Every landing follows ../shared/data-contract.md (revision 2); the invariants are those of a
refresh that works for anyone: the run succeeds, every row is accepted and reconciles, the data-quality report,
data_quality.json and results.json are published and validate, the analysed population per arm and per site
is what was delivered, no count from 1 to 10 and no pseudonymous id is published.

The property test draws shapes (tests/landing_shapes.shapes); four named cases pin the shapes of issue 12:
all ids numeric, a network drop of several sites, a MILD-only clinic, and a landing whose every row is
quarantined. See docs/reliability.md, section "Landing shapes".
"""

from __future__ import annotations

import json
import re
import tempfile
import tomllib
from collections import Counter
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from assets.definitions import build_definitions
from pipeline.reporting.results_json import validate
from pipeline.settings import REPO_ROOT, Settings
from pipeline.sql import run
from tests import landing_shapes as shapes_
from tests.landing_shapes import ARMS, COMPARATOR, TREATMENT, Landing

pytestmark = pytest.mark.slow

MARK = "<11"  # the published form of a count from 1 to 10 (threshold 11, pipeline/study.toml)
THRESHOLD = 11
# Members of results.json / data_quality.json that hold a count of patients, events or assessments.
COUNT_KEYS = {"n", "patients", "events", "satisfied", "at_risk", "same_day", "assessed", "eligible", "responders",
              "n_treatment", "n_comparator", "non_events", "count", "censored"}
PUBLISHED = ("data_quality.html", "data_quality.json", "results.json")


# ------------------------------------------------------------------------------------------------ running

def refresh(landing: Landing, root: Path) -> tuple[dg.ExecuteInProcessResult, Settings]:
    """Write `landing` under `root` and run nightly_refresh once on it (fresh warehouse, reports, instance)."""
    shapes_.write(landing, root / "landing")
    cfg = Settings(landing=root / "landing", warehouse=root / "w.duckdb", reports=root / "site", timezone="UTC")
    job = build_definitions(cfg).resolve_job_def("nightly_refresh")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    return result, cfg


def published(n: int) -> int | str:
    return MARK if 1 <= n < THRESHOLD else n


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def run_failures(result: dg.ExecuteInProcessResult, *, checks: bool = True) -> list[str]:
    """Failed steps (with the user code's message) and, when `checks`, failed ERROR checks. A non-blocking
    ERROR check (covariate `balance`) may fail by design when both arms are there and weighting does not
    balance them; when an arm is absent there is nothing to check and every check must hold (assets/comparison.py:
    "The checks tell wrong numbers (fail) from no numbers (pass)")."""
    out = []
    for e in result.all_events:
        if e.event_type == dg.DagsterEventType.STEP_FAILURE:
            err = e.step_failure_data.error
            while err is not None and err.cause is not None:  # the user code's error, not Dagster's wrapper
                err = err.cause
            msg = (err.message or "").strip().splitlines()[-1] if err and err.message else ""
            out.append(f"step {e.step_key} failed: {msg[:300]}")
    for c in result.get_asset_check_evaluations() if checks else []:
        if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR:
            out.append(f"ERROR check {c.check_name} failed")
    if not result.success and not out:
        out.append("run failed")
    return out


def drop_sites(d: dict) -> set[str] | None:
    """The sites a drop of data_quality.json names: its `sites` list, or `site` (one site id, or a text
    "<k> sites: a, b, ..." for a drop of several sites); None when neither can be read as site ids."""
    if isinstance(d.get("sites"), list):
        return set(d["sites"])
    site = d.get("site")
    if site is None:
        return set()
    m = re.fullmatch(r"\d+ sites: (.*)", site)
    return set(m.group(1).split(", ")) if m else {site}


def small_counts(doc, path: str = "") -> list[str]:
    """Every count member of `doc` that publishes a number from 1 to 10 (or a marker other than MARK)."""
    out = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            here = f"{path}.{k}" if path else k
            if k in COUNT_KEYS and not isinstance(v, bool):
                if isinstance(v, int | float) and 1 <= v < THRESHOLD:
                    out.append(f"{here} = {v}")
                elif isinstance(v, str) and v != MARK:
                    out.append(f"{here} = {v!r}")
            out += small_counts(v, here)
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += small_counts(v, f"{path}[{i}]")
    return out


def leaked_ids(landing: Landing, reports: Path) -> list[str]:
    """Patient ids found in any published file (as whole tokens: not inside a longer id or number)."""
    ids = sorted(landing.patient_ids(), key=len, reverse=True)
    pattern = re.compile(r"(?<![A-Za-z0-9._-])(" + "|".join(map(re.escape, ids)) + r")(?![A-Za-z0-9_-]|\.\w)")
    out = []
    for f in sorted(p for p in reports.rglob("*") if p.is_file()):
        m = pattern.search(f.read_bytes().decode("utf-8", "replace"))
        if m:
            out.append(f"{f.relative_to(reports)} holds patient id {m.group(1)!r}")
    return out


def attrition_by_site(warehouse: Path) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """(patient rows read per site, patients per site and arm-or-"other") from the report's own SQL; a site
    with no row read (a header-only file) is left out, as the generated record leaves it out."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = run(con, "reporting/attrition_by_site").fetchall()
    read = {site: int(n) for site, step, _, n in rows if step == "patient_rows_read" and n}
    groups = {(site, detail): int(n) for site, step, detail, n in rows if step == "patients"}
    return read, groups


# ---------------------------------------------------------------------------------------------- invariants

def problems(landing: Landing, result: dg.ExecuteInProcessResult, cfg: Settings) -> list[str]:
    """Every invariant of a whole refresh over a contract-valid landing that does not hold (empty: all hold)."""
    out = run_failures(result, checks=0 in landing.per_arm().values())
    latest = cfg.reports / "latest"
    out += [f"latest/{f} not published" for f in PUBLISHED if not (latest / f).is_file()]

    dq = _load(latest / "data_quality.json")
    if dq is not None:
        got_files = {}
        for d in dq.get("drops", []):
            if d["status"] != "ingested":
                out.append(f"drop {d['drop_id']} {d['status']}: {d.get('reason')}")
            named = drop_sites(d)
            if named is None or not named <= landing.site_ids():
                out.append(f"data_quality.json: drop {d['drop_id']} names site {d.get('site')!r} "
                           f"{d.get('sites')!r}, not the site_ids of its rows")
            for f in d["files"]:
                got_files[(d["drop_id"], f["file"])] = f["rows_read"]
                if f["rows_read"] != f["accepted"] + f["quarantined"] + f["duplicates"]:
                    out.append(f"{d['drop_id']}/{f['file']} does not reconcile: {f}")
                if f["quarantined"]:
                    out.append(f"{d['drop_id']}/{f['file']}: {f['quarantined']} valid rows quarantined "
                               f"{f['quarantine_reasons']}")
        if got_files != landing.rows_per_file():
            want = landing.rows_per_file()
            diff = {k: (got_files.get(k), want.get(k)) for k in set(got_files) | set(want)
                    if got_files.get(k) != want.get(k)}
            out.append(f"rows read per file (got, generated) differ: {dict(sorted(diff.items()))}")
        out += [f"data_quality.json publishes {p}" for p in small_counts({k: v for k, v in dq.items()
                                                                            if k != "drops"})]

    if cfg.warehouse.is_file():
        try:
            with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
                reasons = con.execute("SELECT reason_code, count(*) FROM ingest.quarantine GROUP BY ALL").fetchall()
                arms = dict(con.execute("SELECT procedure, count(*) FROM staging.patients WHERE in_analysis "
                                        "GROUP BY ALL").fetchall())
            if reasons:
                out.append(f"ingest.quarantine holds valid rows: {dict(reasons)}")
            got_arms = {a: int(arms.get(a, 0)) for a in ARMS}
            if got_arms != landing.per_arm():
                out.append(f"staging.patients in analysis {got_arms} != generated {landing.per_arm()}")
            read, groups = attrition_by_site(cfg.warehouse)
            if read != landing.patient_rows_per_site():
                out.append(f"per-site patient rows read {read} != generated {landing.patient_rows_per_site()}")
            if groups != landing.per_site_group():
                out.append(f"per-site patients {groups} != generated {landing.per_site_group()}")
        except duckdb.Error as e:
            out.append(f"warehouse: {type(e).__name__}: {str(e).splitlines()[0]}")
    else:
        out.append("no warehouse")

    doc = _load(latest / "results.json")
    if doc is not None:
        out += [f"results.json: {p}" for p in validate(doc)]
        pop = {a: (doc.get("population", {}).get(a) or {}).get("patients") for a in ARMS}
        want = {a: published(n) for a, n in landing.per_arm().items()}
        if pop != want:
            out.append(f"results.json population {pop} != generated {want}")
        out += [f"results.json publishes {p}" for p in small_counts(doc)]
    if cfg.reports.exists():
        out += leaked_ids(landing, cfg.reports)
    return out


def assert_holds(landing: Landing, result, cfg) -> None:
    found = problems(landing, result, cfg)
    assert not found, "landing: " + landing.describe() + "\n" + "\n".join(found)


# ---------------------------------------------------------------------------------------------- property

@settings(max_examples=10, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],  # no shrinking: each example is a whole refresh
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(shapes_.shapes())
def test_any_contract_valid_landing_refreshes_and_publishes(shape):
    landing = shapes_.build(shape)
    with tempfile.TemporaryDirectory(prefix="landing_shape_") as tmp:
        result, cfg = refresh(landing, Path(tmp))
        assert_holds(landing, result, cfg)


# ------------------------------------------------------------------------------------------- named cases

@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each named landing refreshed once, on first use."""
    done: dict[str, tuple] = {}

    def get(name: str):
        if name not in done:
            landing = getattr(shapes_, name)()
            result, cfg = refresh(landing, tmp_path_factory.mktemp(name))
            done[name] = (landing, result, cfg)
        return done[name]

    return get


def test_all_ids_numeric(runs):
    landing, result, cfg = runs("all_numeric_ids")
    assert all(p.isdigit() for p in landing.patient_ids()) and all(s.isdigit() for s in landing.site_ids())
    assert_holds(landing, result, cfg)


def test_network_drop_of_several_sites(runs):
    landing, result, cfg = runs("network_drop")
    assert [d.drop_id for d in landing.drops] == ["2026-01-15_northnet"]
    assert_holds(landing, result, cfg)


def test_network_drop_sites_are_the_rows_site_ids_not_the_folder_name(runs):
    landing, result, cfg = runs("network_drop")
    sites = landing.site_ids()
    read, groups = attrition_by_site(cfg.warehouse)
    assert set(read) == sites, f"per-site attrition reads rows of {sorted(read)}, the rows' sites are {sorted(sites)}"
    assert {s for s, _ in groups} == sites
    dq = _load(cfg.reports / "latest" / "data_quality.json")
    named = [drop_sites(d) for d in dq["drops"]]
    shown = [(d.get("site"), d.get("sites")) for d in dq["drops"]]
    assert named == [sites], f"data_quality.json: the drop names sites {shown}"
    html = (cfg.reports / "latest" / "data_quality.html").read_text(encoding="utf-8")
    cells = re.findall(r"<tr><td>2026-01-15_northnet</td><td>([^<]*)</td>", html)
    assert "northnet" not in cells, f"data-quality report shows the drop's site as {cells}"
    site_table = html.split('id="site-table"')[1].split("</table>")[0]
    for s in sites:
        assert f"<td>{s}</td>" in site_table


def _claims_by_kind() -> tuple[set[str], set[str]]:
    """(claims about the treatment arm alone, claims that compare the arms), from pipeline/claims.toml."""
    claims = tomllib.loads((REPO_ROOT / "pipeline" / "claims.toml").read_text(encoding="utf-8"))["claims"]
    comparing = {"return_faster", "complication_difference"}
    single, compare = set(), set()
    for c in claims:
        conds = c["conditions"]
        if any(k["metric"] in comparing or k.get("arm") == "comparator" for k in conds):
            compare.add(c["id"])
        else:
            single.add(c["id"])
    return single, compare


COMPARISON_MEMBERS = ("reintervention.logrank_p", "reintervention.cox_hr", "reintervention.rmst_difference",
                      "reintervention.adjusted_cox_hr", "complications.difference.unadjusted",
                      "complications.difference.adjusted")


def _at(doc: dict, path: str):
    for p in path.split("."):
        doc = doc.get(p) if isinstance(doc, dict) else None
    return doc


def _numbers(x) -> list:
    """Every number in a member (null, or an object whose leaves are all null, holds none)."""
    if isinstance(x, dict):
        return [n for v in x.values() for n in _numbers(v)]
    if isinstance(x, list):
        return [n for v in x for n in _numbers(v)]
    return [] if x is None or isinstance(x, str | bool) else [x]


def test_mild_only_clinic(runs):
    landing, result, cfg = runs("mild_only_clinic")
    assert landing.per_arm() == {TREATMENT: 60, COMPARATOR: 0}
    assert_holds(landing, result, cfg)


def test_mild_only_clinic_report_shows_mild_and_says_why_the_comparison_is_empty(runs):
    landing, result, cfg = runs("mild_only_clinic")
    doc = _load(cfg.reports / "latest" / "results.json")
    assert doc is not None, "results.json not published"
    assert doc["population"][TREATMENT]["patients"] == 60 and doc["population"][COMPARATOR]["patients"] == 0
    # MILD numbers are there.
    mild = [r for r in doc["pro_change"] if r["arm"] == TREATMENT and r["visit"] == "M12" and r["instrument"] == "ODI"]
    assert mild and mild[0]["mean_change"] is not None
    assert any(r["arm"] == TREATMENT and r["rate"] is not None for r in doc["satisfaction"])
    assert any(r["arm"] == TREATMENT and r["survival"] is not None for r in doc["reintervention"]["km"])
    with_los = sum(r["los_days"] is not None for d in landing.drops for r in d.rows["patients"])
    assert any(r["arm"] == TREATMENT and r["n"] == with_los for r in doc["discharge"])
    assert any(r["arm"] == TREATMENT and r["n"] == 60 for r in doc["complications"]["rates"])
    # Comparison members are null, each with a not_estimable entry and a reason.
    gaps = doc.get("not_estimable")
    assert isinstance(gaps, list), "results.json has no not_estimable member"
    for member in COMPARISON_MEMBERS:
        assert not _numbers(_at(doc, member)), f"{member} = {_at(doc, member)} published for a MILD-only landing"
        why = [g for g in gaps if g.get("what") == member or member.startswith(g.get("what", "") + ".")
               or g.get("what", "").startswith(member)]
        assert why and all(g.get("reason") for g in why), f"no not_estimable entry for {member}"
    # Claims: those about MILD are there; those comparing the arms are inconclusive, with a reason.
    single, compare = _claims_by_kind()
    claims = {c["id"]: c for c in doc["claims"]}
    assert single <= set(claims), f"claims about MILD missing: {single - set(claims)}"
    for cid in compare:
        c = claims.get(cid)
        assert c is not None, f"comparison claim {cid} missing"
        assert c["verdict"] == "inconclusive", f"{cid}: {c['verdict']}"
        reasons = [c.get("reason")] + [k.get("note") for k in c.get("conditions", [])]
        assert any(reasons), f"comparison claim {cid} inconclusive without a reason"
    html = (cfg.reports / "latest" / "comparative.html").read_text(encoding="utf-8")
    assert "not estimable" in html.lower()


def test_all_quarantined_landing_publishes_a_data_quality_report_that_says_so(runs):
    landing, result, cfg = runs("all_quarantined")
    assert result.success, "\n".join(run_failures(result))
    latest = cfg.reports / "latest"
    for f in ("data_quality.html", "data_quality.json"):
        assert (latest / f).is_file(), f"latest/{f} not published"
    dq = _load(latest / "data_quality.json")
    assert {(d["drop_id"], f["file"]): f["rows_read"] for d in dq["drops"] for f in d["files"]} \
        == landing.rows_per_file()
    totals: Counter = Counter()
    for d in dq["drops"]:
        assert d["status"] == "ingested", d
        for f in d["files"]:
            assert f["accepted"] == 0 and f["quarantined"] == f["rows_read"], f
            totals.update(f["quarantine_reasons"])
    rows = [r for d in landing.drops for r in d.rows["patients"]]
    followups = sum(len(d.rows[t]) for d in landing.drops for t in ("pro_responses", "events"))
    old = sum(r["index_year"] == 1980 for r in rows)
    assert totals == {"unknown_code": len(rows) - old, "out_of_range": old, "orphan": followups}
    html = (latest / "data_quality.html").read_text(encoding="utf-8")
    assert "No row was quarantined" not in html
    for code in totals:
        assert re.search(rf"<td>{code}</td><td>[^<]*</td><td>{totals[code]}</td>", html), code
    assert not leaked_ids(landing, cfg.reports)


def test_all_quarantined_landing_still_publishes_results_with_no_population(runs):
    landing, result, cfg = runs("all_quarantined")
    doc = _load(cfg.reports / "latest" / "results.json")
    assert doc is not None, "results.json not published"
    assert validate(doc) == []
    assert {a: doc["population"][a]["patients"] for a in ARMS} == {TREATMENT: 0, COMPARATOR: 0}
    assert small_counts(doc) == []
