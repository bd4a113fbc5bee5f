"""Hostile-input corpus: one drop per data-contract rule, each with its documented outcome.

The fast tests run every case alone through ingest_landing; the slow one puts the whole corpus beside a
generated landing and runs the nightly job: bad drops are rejected, the others land, the run succeeds.
"""

from collections import Counter

import dagster as dg
import duckdb
import pytest

from tests.hostile.corpus import CASES, Case, build_corpus
from tests.hostile.runs import generated_landing, run_job, settings_for
from tests.ingest_helpers import ingest


def _check_outcome(case: Case, outcome) -> None:
    assert outcome.status == case.status, (case.name, outcome.reason)
    assert outcome.reason_code == case.reason_code, case.name
    if case.status == "rejected":
        assert outcome.files == [] and outcome.reason
        return
    for f in outcome.files:
        assert f.balanced, (case.name, f)
        assert f.quarantine_reasons == case.quarantined.get(f.file, {}), (case.name, f.file)
        assert f.accepted == case.accepted.get(f.file, 0), (case.name, f.file)
    assert outcome.top_coded_ages == case.top_coded


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_case_alone_yields_its_documented_outcome(con, landing, case):
    drop_id = case.drop_id(1)
    case.build(landing, drop_id)
    summary = ingest(con, landing)
    [outcome] = summary.drops
    _check_outcome(case, outcome)
    if case.status == "rejected":
        # All or nothing: no row of a rejected drop reaches a table.
        rows = con.execute(
            "SELECT (SELECT count(*) FROM ingest.patients) + (SELECT count(*) FROM ingest.pro_responses) "
            "+ (SELECT count(*) FROM ingest.events) + (SELECT count(*) FROM ingest.quarantine)"
        ).fetchone()[0]
        assert rows == 0


def test_the_whole_corpus_in_one_landing_keeps_every_case_apart(con, landing):
    built = build_corpus(landing)
    summary = ingest(con, landing)
    by_id = {d.drop_id: d for d in summary.drops}
    assert set(by_id) == set(built)
    for drop_id, case in built.items():
        _check_outcome(case, by_id[drop_id])


@pytest.mark.slow
def test_nightly_run_over_the_corpus_and_good_drops_succeeds(tmp_path):
    landing = generated_landing(tmp_path / "landing", patients=100, seed=11)
    good = sorted(p.name for p in landing.iterdir())
    built = build_corpus(landing)
    settings = settings_for(tmp_path, landing)
    result = run_job(settings, dg.DagsterInstance.ephemeral())
    assert result.success
    failed = [e.check_name for e in result.get_asset_check_evaluations()
              if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
    assert failed == []
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        status = dict(con.execute("SELECT drop_id, status FROM ingest.drop_versions").fetchall())
        codes = dict(con.execute("SELECT drop_id, reason_code FROM ingest.drop_versions").fetchall())
        reasons = con.execute(
            "SELECT drop_id, file, reason_code, count(*) FROM ingest.quarantine GROUP BY ALL"
        ).fetchall()
        staged_hx = con.execute("SELECT count(*) FROM staging.patients WHERE site_id = 'HX'").fetchone()[0]
    assert all(status[d] == "ingested" for d in good)
    got: dict[str, dict[str, Counter]] = {}
    for drop_id, file, reason, n in reasons:
        got.setdefault(drop_id, {}).setdefault(file, Counter())[reason] = n
    for drop_id, case in built.items():
        assert status[drop_id] == case.status, case.name
        assert codes[drop_id] == case.reason_code, case.name
        assert {f: dict(c) for f, c in got.get(drop_id, {}).items()} == case.quarantined, case.name
    # The accepted patients of the ingested cases reach staging (the analysis tables) like any other.
    expected_hx = sum(c.accepted.get("patients.csv", 0) for c in built.values() if c.status == "ingested")
    assert staged_hx == expected_hx
    page = (settings.reports / "latest" / "overview.html").read_text()
    assert "bad folder!" not in page
