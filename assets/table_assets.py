"""The one way to declare a table asset: a `TableAsset` spec (name, group, description, deps, kinds and the
pipeline function that builds it) turned into a Dagster asset by `table_asset`, and the one metadata helper
that turns what a build returned (`pipeline.warehouse.Built`) into the asset's materialization metadata.

Every table asset reads the study of the run from `paths.study()`, runs its checks (assets/checks.py) on the
connection it wrote with, once its table is written, and returns them with: the row count and name of its table,
the table's column schema as written (information_schema), the study hash and overrides, its headline numbers
(finite floats only: NaN and infinity cannot be plotted over time), how it was built (full or incremental) and
`not_estimable`: how many numbers the data could not give (SAP 9), with their reasons.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import dagster as dg
import duckdb

from assets.checks import check_results_of, check_specs_of
from assets.resources import RefreshPaths, Warehouse
from pipeline.estimable import Gap
from pipeline.sql import run
from pipeline.study import Study
from pipeline.warehouse import Built

Build = Callable[[duckdb.DuckDBPyConnection, Study], Built]
# Metadata beyond the Built (e.g. the balance table), read once the table is written.
Extra = Callable[[duckdb.DuckDBPyConnection, Study], Mapping[str, object]]


@dataclass(frozen=True)
class TableAsset:
    name: str
    group: str
    description: str
    deps: tuple[str, ...]
    kinds: frozenset[str]
    build: Build
    extra: Extra | None = None


def table_asset(spec: TableAsset) -> dg.AssetsDefinition:
    # A description may be written as an indented docstring: cleaned as Dagster cleans an asset's docstring.
    @dg.asset(name=spec.name, description=inspect.cleandoc(spec.description), group_name=spec.group,
              kinds=set(spec.kinds), deps=list(spec.deps), check_specs=check_specs_of(spec.name))
    def _asset(warehouse: Warehouse, paths: RefreshPaths) -> dg.MaterializeResult:
        study = paths.study()
        with warehouse.get_connection() as con:
            built = spec.build(con, study)
            metadata = built_metadata(con, built, study)
            if spec.extra is not None:
                metadata |= spec.extra(con, study)
            checks = check_results_of(con, study, spec.name)
        return dg.MaterializeResult(metadata=metadata, check_results=checks)

    return _asset


def built_metadata(con: duckdb.DuckDBPyConnection, built: Built, study: Study) -> dict[str, object]:
    return {
        "dagster/row_count": int(built.rows),
        "dagster/table_name": built.table,
        "dagster/column_schema": column_schema(con, built.table),
        "study_sha256": study.sha256,
        "study_overrides": dg.MetadataValue.md(f"```toml\n{study.overrides}\n```") if study.overrides else "none",
        **finite_numbers(built.headline),
        **built.build,
        **gap_metadata(built.gaps),
    }


def column_schema(con: duckdb.DuckDBPyConnection, table: str) -> dg.TableSchema:
    """The columns of `table` (schema-qualified) as written, with their DuckDB types."""
    schema, name = table.split(".")
    columns = run(con, "outcomes/column_schema", schema=schema, table=name).fetchall()
    return dg.TableSchema(columns=[dg.TableColumn(c, t) for c, t in columns])


def finite_numbers(numbers: Mapping[str, object]) -> dict[str, float]:
    """The numbers as floats, those that do not exist (None, NaN, a median never reached) left out."""
    out = {}
    for key, value in numbers.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            out[key] = number
    return out


def gap_metadata(gaps: tuple[Gap, ...]) -> dict[str, object]:
    """How many numbers could not be estimated (plotted over time) and, when any, why each."""
    if not gaps:
        return {"not_estimable": 0}
    lines = "\n".join(f"- `{g.what}`: {g.reason}" for g in sorted(gaps, key=lambda g: g.what))
    return {"not_estimable": len(gaps), "not_estimable_reasons": dg.MetadataValue.md(lines)}
