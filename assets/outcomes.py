"""Outcome metrics (SAP sections 2, 3, 5): thin assets over pipeline/outcomes, tables in schema `outcomes`.

Every asset reads the study of the run from `paths.study()` (pipeline/study.toml with the run config's
`study_overrides`), refuses to run when staging was built with other visit windows or arms, writes its table
together with the parameters it used (outcomes.study_parameters) and the numbers it could not estimate
(meta.not_estimable, SAP 9: an arm without patients, an instrument never recorded, ...), and returns the row
count, the study hash, headline numbers (floats, so the UI plots them over time) and `not_estimable` (how many
numbers could not be estimated, with their reasons) as metadata. Degenerate data never fails an asset.
"""

from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import duckdb

from assets.resources import RefreshPaths, Warehouse
from pipeline.outcomes import BUILDERS, check_staging_matches
from pipeline.outcomes import checks as oc
from pipeline.outcomes.built import Built
from pipeline.sql import run
from pipeline.study import Study


@dataclass(frozen=True)
class OutcomeAsset:
    name: str
    description: str
    deps: tuple[str, ...]
    kinds: frozenset[str] = frozenset({"duckdb", "sql", "python"})


OUTCOME_SPECS = (
    OutcomeAsset(
        "pro_changes",
        "Per patient, instrument and post-baseline visit of the analysis population: baseline and visit value, "
        "change, improvement, percent change and responder flags for every MCID rule (SAP section 3). "
        "Complete pairs only. Also rebuilds the config table outcomes.responder_rules.",
        ("patients", "pro_visits"), frozenset({"duckdb", "sql"}),
    ),
    OutcomeAsset(
        "pro_change_summary",
        "Per arm, instrument and visit: n, mean (SD) at baseline and visit, mean change with t-based 95% CI, "
        "median change (IQR), Wilcoxon signed-rank p and median percent change for the skewed instruments, "
        "responder rate (selected rule) with Wilson 95% CI (SAP section 3).",
        ("pro_changes",),
    ),
    OutcomeAsset(
        "responder_rates",
        "Per arm, instrument, visit and MCID rule: responders / complete pairs with Wilson 95% CI; `selected` "
        "marks the rule that defines a responder (SAP section 3).",
        ("pro_changes",),
    ),
    OutcomeAsset(
        "satisfaction_rates",
        "Per arm, definition (NASS 1-2 primary, ZCQ satisfaction <= 2.5) and visit: satisfied / respondents "
        "with Wilson 95% CI; primary visit M12 (SAP section 3).",
        ("patients", "pro_visits"),
    ),
    OutcomeAsset(
        "complication_rates",
        "Per arm: patients with a complication within 90 days / all patients, Wilson 95% CI; and in "
        "outcomes.complication_difference the treatment - comparator difference with Newcombe's hybrid score "
        "95% CI (SAP section 5).",
        ("patients", "events"),
    ),
    OutcomeAsset(
        "discharge_summary",
        "Per arm: same-day discharge share among patients with a length of stay (Wilson 95% CI), mean, SD, "
        "median and quartiles of the length of stay (SAP section 5).",
        ("patients",),
    ),
    OutcomeAsset(
        "follow_up_completeness",
        "Per arm, visit and instrument (and ANY): patients with an assessment in the window / patients whose "
        "follow-up reached the window's start, Wilson 95% CI (SAP section 2).",
        ("patients", "pro_visits", "follow_up"),
    ),
)


def _column_schema(con: duckdb.DuckDBPyConnection, table: str) -> dg.TableSchema:
    schema, name = table.split(".")
    columns = run(con, "outcomes_column_schema", schema=schema, table=name).fetchall()
    return dg.TableSchema(columns=[dg.TableColumn(c, t) for c, t in columns])


def _gap_metadata(built: Built) -> dict:
    if not built.gaps:
        return {"not_estimable": 0}
    lines = "\n".join(f"- `{g.what}`: {g.reason}" for g in sorted(built.gaps, key=lambda g: g.what))
    return {"not_estimable": len(built.gaps), "not_estimable_reasons": dg.MetadataValue.md(lines)}


def _metadata(built: Built, study: Study, schema: dg.TableSchema) -> dict:
    return {
        "dagster/row_count": built.rows,
        "dagster/table_name": built.table,
        "dagster/column_schema": schema,
        "study_sha256": study.sha256,
        "study_overrides": dg.MetadataValue.md(f"```toml\n{study.overrides}\n```") if study.overrides else "none",
        **built.headline,
        **built.build,
        **_gap_metadata(built),
    }


def _build(spec: OutcomeAsset) -> dg.AssetsDefinition:
    build: Callable[[duckdb.DuckDBPyConnection, Study], Built] = BUILDERS[spec.name]

    @dg.asset(
        name=spec.name, description=spec.description, group_name="outcomes", kinds=set(spec.kinds),
        deps=list(spec.deps),
    )
    def _asset(warehouse: Warehouse, paths: RefreshPaths) -> dg.MaterializeResult:
        study = paths.study()
        with warehouse.get_connection() as con:
            check_staging_matches(con, study)
            built = build(con, study)
            schema = _column_schema(con, built.table)
        return dg.MaterializeResult(metadata=_metadata(built, study, schema))

    return _asset


@dataclass(frozen=True)
class OutcomeCheck:
    asset: str
    name: str
    description: str
    run: Callable[[duckdb.DuckDBPyConnection, Study], oc.CheckOutcome]
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR

    @property
    def blocking(self) -> bool:
        # An ERROR stops the report built on a wrong table; a WARN is information for the reader.
        return self.severity == dg.AssetCheckSeverity.ERROR


def _rates(table: str) -> Callable[[duckdb.DuckDBPyConnection, Study], oc.CheckOutcome]:
    return lambda con, study: oc.rates_valid(con, table)


_RATES_DESCRIPTION = ("Every rate lies in [0, 1] and inside its 95% CI within [0, 1]; a group with n = 0 (not "
                      "estimable, SAP 9) has rate and CI NULL. Blocks wrong numbers, not absent ones.")

OUTCOME_CHECK_SPECS = (
    OutcomeCheck("pro_changes", "changes_have_baseline",
                 "Every change row has the patient's baseline row (same day and value) and change = value - "
                 "baseline.", oc.changes_have_baseline),
    OutcomeCheck("pro_changes", "visits_within_window",
                 "No visit assigned outside its window: every visit and baseline day lies in its window of the "
                 "run's study.", oc.changes_within_window),
    OutcomeCheck("pro_change_summary", "rates_valid", _RATES_DESCRIPTION,
                 lambda con, study: oc.summary_rates_valid(con)),
    OutcomeCheck("responder_rates", "rates_valid", _RATES_DESCRIPTION, _rates("outcomes.responder_rates")),
    OutcomeCheck("satisfaction_rates", "rates_valid", _RATES_DESCRIPTION, _rates("outcomes.satisfaction_rates")),
    OutcomeCheck("complication_rates", "rates_valid", _RATES_DESCRIPTION, _rates("outcomes.complication_rates")),
    OutcomeCheck("discharge_summary", "rates_valid", _RATES_DESCRIPTION, _rates("outcomes.discharge_summary")),
    OutcomeCheck("follow_up_completeness", "rates_valid", _RATES_DESCRIPTION,
                 _rates("outcomes.follow_up_completeness")),
    OutcomeCheck("follow_up_completeness", "completeness_at_primary_visit",
                 "Follow-up completeness at the primary visit (M12) is at least the study's minimum (80%) in "
                 "each arm that has patients who reached the window. Warns, as registries do: low completeness is "
                 "reported, not hidden.",
                 oc.completeness_at_primary_visit, dg.AssetCheckSeverity.WARN),
)


def _check(spec: OutcomeCheck) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=spec.asset, name=spec.name, description=spec.description, blocking=spec.blocking)
    def _run(warehouse: Warehouse, paths: RefreshPaths) -> dg.AssetCheckResult:
        with warehouse.get_connection() as con:
            outcome = spec.run(con, paths.study())
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=spec.severity,
            metadata={"failures": outcome.failures, "rows_checked": outcome.checked, **outcome.metadata},
        )

    return _run


OUTCOME_ASSETS = [_build(s) for s in OUTCOME_SPECS]
OUTCOME_CHECKS = [_check(s) for s in OUTCOME_CHECK_SPECS]
