"""What the ingest asset shows in Dagster metadata: counts and valid drop ids only."""

from assets.ingest import reconciliation_markdown, summary_totals
from pipeline.ingest import DropOutcome, FileReconciliation, IngestSummary

PLANTED = "jane.doe@example.com"


def _summary() -> IngestSummary:
    good = DropOutcome(
        "2026-01-01_SITE01", 1, "ingested", None, None,
        [FileReconciliation("patients.csv", "patients", 5, 3, 1, 1, 0, {"out_of_range": 1})],
    )
    bad = DropOutcome(PLANTED, None, "rejected", "invalid_drop_id", "the folder name is not a drop id", [])
    return IngestSummary([good, bad])


def test_metadata_markdown_never_echoes_a_rejected_folder_name():
    text = reconciliation_markdown(_summary())
    assert PLANTED not in text
    assert "2026-01-01_SITE01" in text and "(rejected folder name)" in text


def test_totals_reconcile_rows_read():
    totals = summary_totals(_summary())
    assert totals["rows_read"] == totals["rows_accepted"] + totals["rows_quarantined"] + totals["rows_duplicate"]
    assert (totals["drops_ingested"], totals["drops_rejected"]) == (1, 1)
