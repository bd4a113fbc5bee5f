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
from pipeline.outcomes.built import Built
from pipeline.sql import load_sql
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
    columns = con.execute(load_sql("outcomes_column_schema"), [schema, name]).fetchall()
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


OUTCOME_ASSETS = [_build(s) for s in OUTCOME_SPECS]
