"""Ingest stage: every drop in the landing folder validated against the data contract and applied once.

One idempotent multi-asset rather than a partition per drop: a refresh must apply drops in delivery
order (corrections supersede, erasures remove), which one ordered pass does naturally; skipping drops
already held byte for byte makes re-running it cheap. See docs/dagster.md.
"""

import dagster as dg

from assets.checks import check_results_of, check_specs_of
from assets.resources import RefreshPaths, Warehouse
from assets.table_assets import column_schema
from pipeline.contract import public_drop_id
from pipeline.ingest import IngestSummary, ingest_landing
from pipeline.sql import run


def _spec(key: str, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(key, description=description, group_name="ingest", kinds={"duckdb"})


INGEST_SPECS = [
    _spec("drop_reconciliation", "Every drop seen, its status (ingested, rejected, skipped; waiting while still "
          "being copied) and, per file, "
          "rows read = accepted + quarantined + duplicates (ingest.drop_versions, drop_files, drop_log)."),
    _spec("quarantined_rows", "Input rows refused by the contract, with reason code, drop, file and line; "
          "no data value."),
    _spec("patient_history", "Accepted patient rows of every drop version (history kept)."),
    _spec("pro_response_history", "Accepted patient-reported outcome rows of every drop version (history kept)."),
    _spec("event_history", "Accepted clinical event rows of every drop version (history kept)."),
]


# The table each ingest asset is (drop_reconciliation: the per-file reconciliation, its row count).
TABLE_OF = {"drop_reconciliation": "ingest.drop_files", "quarantined_rows": "ingest.quarantine",
            "patient_history": "ingest.patients", "pro_response_history": "ingest.pro_responses",
            "event_history": "ingest.events"}


@dg.multi_asset(specs=INGEST_SPECS, can_subset=False, check_specs=check_specs_of(*TABLE_OF))
def ingest_drops(context: dg.AssetExecutionContext, warehouse: Warehouse, paths: RefreshPaths):
    """Discover, validate and apply new drops from the landing folder."""
    with warehouse.get_connection() as con:
        summary = ingest_landing(con, paths.landing_dir, run_id=context.run.run_id)
        counts = dict(run(con, "ingest/table_counts").fetchall())
        schemas = {key: column_schema(con, table) for key, table in TABLE_OF.items()}
        # Judged here, on the connection that applied the drops, once every drop is applied.
        checks = check_results_of(con, paths.study(), *TABLE_OF)
    totals = summary_totals(summary)
    context.log.info(
        "ingest: %d drops ingested, %d rejected, %d skipped, %d still being copied; %d rows read, %d quarantined",
        totals["drops_ingested"], totals["drops_rejected"], totals["drops_skipped"], totals["drops_waiting"],
        totals["rows_read"], totals["rows_quarantined"],
    )
    yield dg.MaterializeResult(
        asset_key="drop_reconciliation",
        metadata={
            "dagster/row_count": counts["drop_files"],
            "dagster/column_schema": schemas["drop_reconciliation"],
            **totals,
            "this_refresh": dg.MetadataValue.md(reconciliation_markdown(summary)),
        },
    )
    yield dg.MaterializeResult(
        asset_key="quarantined_rows",
        metadata={"dagster/row_count": counts["quarantine"], "dagster/column_schema": schemas["quarantined_rows"],
                  "new_this_refresh": totals["rows_quarantined"]},
    )
    for key, table in (
        ("patient_history", "patients"),
        ("pro_response_history", "pro_responses"),
        ("event_history", "events"),
    ):
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={"dagster/row_count": counts[table], "dagster/column_schema": schemas[key],
                      "current_rows": counts[f"current_{table}"]},
        )
    yield from checks


def summary_totals(summary: IngestSummary) -> dict[str, int]:
    """Counts only (never an identifier), for metadata the UI plots over time."""
    files = [f for d in summary.drops for f in d.files]
    return {
        "drops_ingested": sum(d.status == "ingested" for d in summary.drops),
        "drops_rejected": sum(d.status == "rejected" for d in summary.drops),
        "drops_skipped": sum(d.status == "skipped" for d in summary.drops),
        "drops_waiting": sum(d.status == "waiting" for d in summary.drops),
        "rows_read": sum(f.rows_read for f in files),
        "rows_accepted": sum(f.accepted for f in files),
        "rows_quarantined": sum(f.quarantined for f in files),
        "rows_duplicate": sum(f.duplicates for f in files),
        "rows_superseded": sum(f.superseded for f in files),
        "ages_top_coded": sum(d.top_coded_ages for d in summary.drops),
    }


def reconciliation_markdown(summary: IngestSummary) -> str:
    """Per drop and file reconciliation as a markdown table for the UI; rejected folder names masked."""
    lines = ["| drop | status | file | read | accepted | quarantined | duplicates | superseded |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for d in summary.drops:
        drop_id = public_drop_id(d.drop_id)
        if not d.files:
            lines.append(f"| {drop_id} | {d.status} ({d.reason_code or ''}) | | | | | | |")
        for f in d.files:
            lines.append(
                f"| {drop_id} | {d.status} | {f.file} | {f.rows_read} | {f.accepted} | {f.quarantined} "
                f"| {f.duplicates} | {f.superseded} |"
            )
    return "\n".join(lines)
