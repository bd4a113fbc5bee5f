"""After a failed step, publish the data-quality report anyway (SAP 9), saying which stage failed.

A failed step skips everything downstream of it, the reporting assets included; this failure hook, attached to
the refresh job, renders the data-quality report (with data_quality.json and whatever else the run had
rendered) and publishes it as the run's refresh. The report names the stage and step and says what failed in
plain words; it never carries the exception's message, which may quote delivered data.
"""

import dagster as dg

from assets.graph import REFRESH_ASSETS
from assets.reporting import refresh_id_of
from pipeline.reporting.provenance import build_provenance
from pipeline.reporting.render import StageFailure, publish_after_failure


def _stages() -> dict[str, str]:
    """Op name -> stage (the asset group) for every asset of the refresh (its checks run in its step)."""
    return {a.op.name: next(iter(a.group_names_by_key.values())) for a in REFRESH_ASSETS}


STAGE_OF = _stages()


def describe(step: str, error_type: str | None, checks: list[str] | None = None) -> str:
    """What a failed step means, in plain words: the error's type name at most, never its text; for a blocking
    check, the checks that failed (`<asset>_<name>`, the names of the registry)."""
    if error_type and "AssetCheckFailed" in error_type:
        which = ", ".join(checks or ()) or step
        return f"a blocking data check ({which}) found wrong numbers, so nothing downstream of it was computed"
    kind = f" ({error_type})" if error_type else ""
    return f"step {step} stopped with an unexpected error{kind}, so nothing downstream of it was computed"


def _error_type(event: dg.DagsterEvent | None) -> str | None:
    data = getattr(event, "step_failure_data", None) if event is not None else None
    error = getattr(data, "error", None)
    # Dagster wraps an asset's own exception: the innermost cause is the one that says what went wrong.
    while error is not None and getattr(error, "cause", None) is not None:
        error = error.cause
    return getattr(error, "cls_name", None)


def _failed_blocking_checks(context: dg.HookContext) -> dict[str, list[str]]:
    """Step -> the blocking ERROR checks that failed in it (checks run inside their asset's step)."""
    out: dict[str, list[str]] = {}
    for record in context.instance.all_logs(context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        event = record.dagster_event
        if event is None or not event.step_key:
            continue
        check = event.asset_check_evaluation_data
        if not check.passed and check.blocking and check.severity == dg.AssetCheckSeverity.ERROR:
            out.setdefault(event.step_key, []).append(f"{check.asset_key.to_user_string()}_{check.check_name}")
    return out


def _failures(context: dg.HookContext) -> list[StageFailure]:
    """Every step of the run that failed so far (the current one included), in order."""
    steps: dict[str, str | None] = {}
    for record in context.instance.all_logs(context.run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        if event is not None and event.step_key:
            steps.setdefault(event.step_key, _error_type(event))
    if context.step_key not in steps:
        steps[context.step_key] = type(context.op_exception).__name__ if context.op_exception else None
    checks = _failed_blocking_checks(context)
    return [StageFailure(STAGE_OF.get(step, "refresh"), step, describe(step, kind, checks.get(step)))
            for step, kind in steps.items()]


@dg.failure_hook(name="publish_data_quality_after_failure", required_resource_keys={"warehouse", "paths"})
def publish_data_quality_after_failure(context: dg.HookContext) -> None:
    warehouse, paths = context.resources.warehouse, context.resources.paths
    try:
        study = paths.study()
        with warehouse.get_connection() as con:
            provenance = build_provenance(con, study, context.run_id)
            published = publish_after_failure(con, study, provenance, paths.reports_dir, context.run_id,
                                              refresh_id_of(context.instance, context.run_id), _failures(context))
        context.log.info(f"published the data-quality report of refresh {published.refresh_id} after a failure")
    except Exception as exc:  # a hook must not hide the failure it reports; say only what kind of error
        context.log.error(f"could not publish the data-quality report after the failure ({type(exc).__name__})")
