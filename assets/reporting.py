"""Reporting stage (group `reporting`): every refresh publishes the comparative effectiveness report with
results.json, the data-quality report with data_quality.json and the data overview, together.

Each report asset renders its files into the run's pending folder (`<reports>/.pending/<run_id>/`, invisible to
readers); `published_reports` then publishes everything the run rendered as one refresh, atomically
(pipeline/reporting/publish.py), points `latest/` at it and rebuilds the index. A failed report leaves the previous
refresh in place. The refresh id comes from the run's creation time, so every asset of a run names the same one.
"""

import dagster as dg

from assets.resources import RefreshPaths, Warehouse
from pipeline.reporting.overview import build_overview
from pipeline.reporting.provenance import build_provenance
from pipeline.reporting.publish import REFRESHES, new_refresh_id
from pipeline.reporting.render import (
    pending_dir,
    publish_pending,
    render_comparative_files,
    render_data_quality_files,
    stage,
)

GROUP = "reporting"
OUTCOME_DEPS = ["pro_change_summary", "responder_rates", "satisfaction_rates", "complication_rates",
                "discharge_summary", "follow_up_completeness"]
DURABILITY_DEPS = ["reintervention_km", "reintervention_comparison", "reintervention_cif", "durable_response_turnbull",
                   "return_to_activity_km"]
COMPARISON_DEPS = ["propensity_weights", "covariate_balance", "adjusted_estimates", "adjusted_km",
                   "reintervention_e_value", "subgroup_estimates", "adjusted_reintervention",
                   "site_heterogeneity", "adjusted_estimates_mar"]


def refresh_id_of(instance: dg.DagsterInstance, run_id: str) -> str:
    """The refresh a run publishes, named after the run's creation time (every step of the run agrees)."""
    record = instance.get_run_record_by_id(run_id)
    created = record.create_timestamp if record is not None else None
    return new_refresh_id(run_id, created)


def _refresh_id(context: dg.AssetExecutionContext) -> str:
    return refresh_id_of(context.instance, context.run.run_id)


def _where(context: dg.AssetExecutionContext, paths: RefreshPaths, name: str) -> dict:
    final = paths.reports_dir / REFRESHES / _refresh_id(context) / name
    return {"path": dg.MetadataValue.path(str(final)), "url": dg.MetadataValue.url(final.as_uri()),
            "pending_path": dg.MetadataValue.path(str(pending_dir(paths.reports_dir, context.run.run_id) / name)),
            "refresh_id": _refresh_id(context)}


@dg.asset(group_name=GROUP, kinds={"html"},
          deps=["patients", "follow_up_completeness", "drop_reconciliation", "quarantined_rows"])
def overview_report(context: dg.AssetExecutionContext, warehouse: Warehouse, paths: RefreshPaths):
    """Data overview page (patients per arm, site and visit; ingest reconciliation), small counts suppressed;
    aggregate tables only (patients seen per visit from outcomes.follow_up_completeness)."""
    study = paths.study()
    with warehouse.get_connection() as con:
        overview = build_overview(con, study, build_provenance(con, study, context.run.run_id))
    stage(paths.reports_dir, context.run.run_id, {"overview.html": overview.html})
    return dg.MaterializeResult(metadata={
        **_where(context, paths, "overview.html"),
        **{f"patients_{arm.lower()}": n for arm, n in overview.patients_per_arm.items()},
    })


@dg.asset(group_name=GROUP, kinds={"html", "json"}, deps=["drop_reconciliation", "quarantined_rows", "patients",
                                                            "follow_up_completeness"])
def data_quality_report(context: dg.AssetExecutionContext, warehouse: Warehouse, paths: RefreshPaths):
    """Data-quality report and data_quality.json: per drop and site status and reason, reconciliation,
    quarantine reasons, follow-up completeness per visit, trend over drops."""
    study = paths.study()
    with warehouse.get_connection() as con:
        provenance = build_provenance(con, study, context.run.run_id)
        rendered = render_data_quality_files(con, study, provenance)
    stage(paths.reports_dir, context.run.run_id, rendered.files)
    drops = rendered.document["drops"]
    return dg.MaterializeResult(metadata={
        **_where(context, paths, "data_quality.html"),
        "drops": len(drops),
        "drops_rejected": sum(d["status"] == "rejected" for d in drops),
        "drops_skipped": sum(d["status"] == "skipped" for d in drops),
        "rows_quarantined": sum(f["quarantined"] for d in drops for f in d["files"]),
        "data_sha256": provenance["data_sha256"],
    })


def _float(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dg.asset(group_name=GROUP, kinds={"html", "json"}, deps=[*OUTCOME_DEPS, *DURABILITY_DEPS, *COMPARISON_DEPS])
def comparative_report(context: dg.AssetExecutionContext, warehouse: Warehouse, paths: RefreshPaths):
    """Comparative effectiveness report (MILD vs laminectomy) and results.json (results contract v1), with
    disclosure control; comparison sections read as "not available" when the comparison tables are absent."""
    study = paths.study()
    with warehouse.get_connection() as con:
        provenance = build_provenance(con, study, context.run.run_id)
        rendered = render_comparative_files(con, study, provenance)
    stage(paths.reports_dir, context.run.run_id, rendered.files)
    doc = rendered.document
    numbers: dict[str, float] = {}
    for row in doc["satisfaction"]:
        if row["visit"] == study.primary_visit and _float(row["rate"]) is not None:
            numbers[f"{row['arm']} satisfied {row['visit']}"] = float(row["rate"])
    for row in doc["reintervention"]["km"]:
        if row["day"] == study.horizon_days and _float(row["survival"]) is not None:
            numbers[f"{row['arm']} free from reintervention day {row['day']}"] = float(row["survival"])
    for key in ("cox_hr", "adjusted_cox_hr"):
        if doc["reintervention"].get(key):
            numbers[f"reintervention {key}"] = float(doc["reintervention"][key]["estimate"])
    verdicts = {c["id"]: c["verdict"] for c in doc["claims"]}
    return dg.MaterializeResult(metadata={
        **_where(context, paths, "comparative.html"),
        **numbers,
        "claims": dg.MetadataValue.json(verdicts),
        "claims_supported": sum(v == "supported" for v in verdicts.values()),
        "comparison_available": doc["balance"] is not None,
        "data_sha256": provenance["data_sha256"],
        "study_config_sha256": provenance["study_config_sha256"],
    })


@dg.asset(group_name=GROUP, kinds={"html"}, deps=[overview_report, data_quality_report, comparative_report])
def published_reports(context: dg.AssetExecutionContext, paths: RefreshPaths):
    """Publishes every report file the run rendered as one refresh (atomic rename), swaps `latest/` and
    rebuilds index.html (every refresh, newest first)."""
    published = publish_pending(paths.reports_dir, context.run.run_id, _refresh_id(context))
    files = sorted(p.name for p in published.folder.iterdir())
    return dg.MaterializeResult(metadata={
        "refresh_id": published.refresh_id,
        "path": dg.MetadataValue.path(str(published.folder)),
        "index": dg.MetadataValue.url(published.index.as_uri()),
        "latest": dg.MetadataValue.path(str(published.latest)),
        **{f"url {name}": dg.MetadataValue.url((published.folder / name).as_uri()) for name in files},
    })


REPORTING_ASSETS = [overview_report, data_quality_report, comparative_report, published_reports]
