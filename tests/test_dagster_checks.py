"""The checks run inside their asset's step (assets/checks.py): every check of the registry keeps its key,
description, blocking flag and severity; it is judged after the asset's write, on the connection that wrote;
a blocking check that fails stops everything downstream, the published report included, while the data-quality
report is still published naming the check; a non-blocking one that fails stops nothing."""

import json

import dagster as dg
import pytest

import assets.checks
from assets.definitions import build_definitions
from assets.graph import REFRESH_ASSETS
from pipeline.check_registry import CHECKS
from pipeline.checks import CheckOutcome, run_check
from pipeline.settings import Settings
from tests.report_world import generate

BLOCKING = ("patients", "patients_key_unique")
NON_BLOCKING = ("quarantined_rows", "quarantine_reasons_known")


def test_every_check_of_the_registry_is_a_check_of_its_asset_with_its_flags():
    specs = {(s.asset_key.to_user_string(), s.name): s for a in REFRESH_ASSETS for s in a.check_specs}
    assert set(specs) == {(c.asset, c.name) for c in CHECKS}
    for c in CHECKS:
        spec = specs[(c.asset, c.name)]
        assert (spec.description, spec.blocking) == (c.description, c.blocking), c.name


def test_no_check_is_a_step_of_its_own():
    job = build_definitions(Settings(landing="l", warehouse="w.duckdb", reports="r", timezone="UTC")
                            ).resolve_job_def("nightly_refresh")
    assert len(job.graph.node_defs) == len(REFRESH_ASSETS)
    assert len(job.asset_layer.asset_graph.asset_check_keys) == len(CHECKS)


@pytest.fixture(scope="module")
def failed_check_refresh(tmp_path_factory):
    root = tmp_path_factory.mktemp("blocked")
    landing = generate(root, patients=150, seed=31)
    settings = Settings(landing=landing, warehouse=root / "w.duckdb", reports=root / "site", timezone="UTC")
    seen: dict[str, int] = {}

    def failing(con, spec, study):
        """The real judgement, then the two chosen checks made to fail (their SQL is tested elsewhere)."""
        outcome = run_check(con, spec, study)
        if (spec.asset, spec.name) == BLOCKING:
            # What the check sees: the asset's table, written by this step, on this connection.
            seen["patients"] = con.execute("SELECT count(*) FROM staging.patients").fetchone()[0]
        if (spec.asset, spec.name) in (BLOCKING, NON_BLOCKING):
            return CheckOutcome(1, outcome.checked, {**outcome.metadata, "failures": 1})
        return outcome

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(assets.checks, "run_check", failing)
        job = build_definitions(settings).resolve_job_def("nightly_refresh")
        result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    return root, result, seen


@pytest.mark.slow
def test_a_failing_blocking_check_fails_its_assets_step_after_the_materialization(failed_check_refresh):
    _, result, seen = failed_check_refresh
    assert not result.success
    assert seen["patients"] > 0
    assert [e.step_key for e in result.all_events if e.is_step_failure] == ["patients"]
    assert result.asset_materializations_for_node("patients")  # the table is recorded, then the step fails
    failed = {(e.asset_key.to_user_string(), e.check_name) for e in result.get_asset_check_evaluations()
              if not e.passed}
    assert failed == {BLOCKING, NON_BLOCKING}


@pytest.mark.slow
def test_a_failing_blocking_check_stops_everything_downstream(failed_check_refresh):
    _, result, _ = failed_check_refresh
    ran = {e.step_key for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_SUCCESS}
    # Ingest (with its failing non-blocking check) and the staging tables that do not read patients ran.
    assert {"ingest_drops", "pro_assessments", "pro_visits"} <= ran
    for downstream in ("events", "follow_up", "pro_changes", "reintervention_dataset", "propensity_weights",
                       "comparative_report", "published_reports"):
        assert downstream not in ran


@pytest.mark.slow
def test_the_data_quality_report_names_the_blocking_check_and_no_comparative_report_is_published(
        failed_check_refresh):
    root, _, _ = failed_check_refresh
    latest = root / "site" / "latest"
    dq = json.loads((latest / "data_quality.json").read_text())
    assert dq["stage_failures"] == [{
        "stage": "staging", "step": "patients",
        "what": "a blocking data check (patients_patients_key_unique) found wrong numbers, so nothing downstream "
                "of it was computed"}]
    published = {p.name for p in latest.iterdir()}
    assert "data_quality.html" in published
    assert "comparative.html" not in published and "results.json" not in published
