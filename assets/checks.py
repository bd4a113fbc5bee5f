"""The one factory of asset checks: every `CheckSpec` of the pipeline (pipeline/check_registry.py) becomes an
`AssetCheckSpec` of its asset (`check_specs_of`, given to `@dg.asset` / `@dg.multi_asset`) and is judged inside
the asset's own step, on the connection and the data the asset has just written (`check_results_of`, whose
results go out with the asset's `MaterializeResult`). Blocking where the spec says: a blocking ERROR check that
fails fails the asset's step after its materialization is recorded, so everything downstream, the published
report included, is skipped. With the spec's severity; the check key stays `<asset>` + `<name>`.

Why inside the asset rather than one `@dg.asset_check` step each: every step costs Dagster bookkeeping (step
events, resource set-up and a warehouse connection, the failure hook's skip event), 32 of the refresh's 68 steps
were checks, and a check that runs in its own step needs a second connection to read what the asset wrote.
"""

from __future__ import annotations

import dagster as dg
import duckdb

from pipeline.check_registry import CHECKS
from pipeline.checks import CheckSpec, run_check
from pipeline.study import Study


def _specs(assets: tuple[str, ...]) -> list[CheckSpec]:
    return [spec for spec in CHECKS if spec.asset in assets]


def check_specs_of(*assets: str) -> list[dg.AssetCheckSpec]:
    """The Dagster check specs of the given assets' checks (for `check_specs=` of the asset that makes them)."""
    return [dg.AssetCheckSpec(spec.name, asset=spec.asset, description=spec.description, blocking=spec.blocking)
            for spec in _specs(assets)]


def check_results_of(con: duckdb.DuckDBPyConnection, study: Study, *assets: str) -> list[dg.AssetCheckResult]:
    """Every check of the given assets judged on `con`: call it after the assets' tables are written."""
    return [check_result(con, spec, study) for spec in _specs(assets)]


def check_result(con: duckdb.DuckDBPyConnection, spec: CheckSpec, study: Study) -> dg.AssetCheckResult:
    outcome = run_check(con, spec, study)
    return dg.AssetCheckResult(asset_key=spec.asset, check_name=spec.name, passed=outcome.passed,
                               severity=dg.AssetCheckSeverity[spec.severity], description=outcome.description,
                               metadata=outcome.metadata)
