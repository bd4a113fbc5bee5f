"""SAP 9: the data-quality report is published after every refresh, including one whose analyses failed, and
says which stage failed in plain words, without the error's text (which may quote delivered data)."""

import json

import dagster as dg
import pytest

from assets.definitions import build_definitions
from pipeline.settings import Settings
from pipeline.survival import durability_tables
from tests.report_world import generate

pytestmark = pytest.mark.slow
LEAKY_MESSAGE = "patient 078-05-1120 of clinic-00042 broke the fit"


@pytest.fixture(scope="module")
def failed_refresh(tmp_path_factory):
    root = tmp_path_factory.mktemp("failed")
    landing = generate(root, patients=150, seed=31)
    settings = Settings(landing=landing, warehouse=root / "w.duckdb", reports=root / "site", timezone="UTC")

    def broken(*args, **kwargs):
        raise RuntimeError(LEAKY_MESSAGE)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(durability_tables, "reintervention_km", broken)
        job = build_definitions(settings).resolve_job_def("nightly_refresh")
        result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    return root, result


def test_the_refresh_fails_where_the_analysis_failed(failed_refresh):
    _, result = failed_refresh
    assert not result.success
    failed = [e.step_key for e in result.all_events if e.is_step_failure]
    assert "reintervention_km" in failed


def test_the_data_quality_report_is_published_and_names_the_failed_stage(failed_refresh):
    root, _ = failed_refresh
    latest = root / "site" / "latest"
    dq = json.loads((latest / "data_quality.json").read_text())
    assert {"stage": "durability", "step": "reintervention_km",
            "what": "step reintervention_km stopped with an unexpected error (RuntimeError), so nothing "
                    "downstream of it was computed",
            } in dq["stage_failures"]
    assert any(d["status"] == "ingested" for d in dq["drops"])
    page = (latest / "data_quality.html").read_text()
    assert "The durability stage failed" in page


def test_no_comparative_report_of_the_failed_run_is_published(failed_refresh):
    root, _ = failed_refresh
    published = {p.name for p in (root / "site" / "latest").iterdir()}
    assert "comparative.html" not in published and "results.json" not in published
    assert "data_quality.html" in published


def test_the_error_text_reaches_no_published_file(failed_refresh):
    root, _ = failed_refresh
    for path in (root / "site").rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert "078-05-1120" not in text and "clinic-00042" not in text, path.name
