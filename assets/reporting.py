"""Reporting stage: pages published atomically to OUTCOMES_REPORTS."""

import dagster as dg

from pipeline.overview import build_overview, render_index
from pipeline.provenance import code_version
from pipeline.publish import new_refresh_id, publish
from pipeline.resources import RefreshPaths, Warehouse


@dg.asset(
    group_name="reporting",
    kinds={"html"},
    deps=["patients", "pro_visits", "follow_up", "drop_reconciliation", "quarantined_rows"],
)
def overview_report(context: dg.AssetExecutionContext, warehouse: Warehouse, paths: RefreshPaths):
    """Data overview page (patients per arm, site and visit; ingest reconciliation), small counts suppressed."""
    study = paths.study()
    provenance = {
        "run_id": context.run.run_id,
        "code_version": code_version(),
        "study_config_sha256": study.sha256,
    }
    with warehouse.get_connection() as con:
        overview = build_overview(con, study, provenance)
    published = publish(
        paths.reports_dir, new_refresh_id(context.run.run_id), {"overview.html": overview.html}, render_index
    )
    page = published.folder / "overview.html"
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(page)),
            "url": dg.MetadataValue.url(page.as_uri()),
            "refresh_id": published.refresh_id,
            **{f"patients_{arm.lower()}": n for arm, n in overview.patients_per_arm.items()},
        }
    )
