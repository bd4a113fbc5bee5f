"""The one factory of asset checks: every `CheckSpec` of the pipeline (pipeline/check_registry.py) becomes an
`@dg.asset_check` named `<asset>_<name>` in the run, blocking where the spec says (a blocking check that fails
stops everything downstream, the published report included), with the spec's severity."""

from collections.abc import Iterable

import dagster as dg

from assets.resources import RefreshPaths, Warehouse
from pipeline.check_registry import CHECKS
from pipeline.checks import CheckSpec, run_check


def asset_check(spec: CheckSpec) -> dg.AssetChecksDefinition:
    severity = dg.AssetCheckSeverity[spec.severity]

    @dg.asset_check(asset=spec.asset, name=spec.name, description=spec.description, blocking=spec.blocking)
    def _check(warehouse: Warehouse, paths: RefreshPaths) -> dg.AssetCheckResult:
        with warehouse.get_connection() as con:
            outcome = run_check(con, spec, paths.study())
        return dg.AssetCheckResult(passed=outcome.passed, severity=severity, description=outcome.description,
                                   metadata=outcome.metadata)

    return _check


ASSET_CHECKS = [asset_check(spec) for spec in CHECKS]


def checks_on(assets: Iterable[dg.AssetsDefinition]) -> list[dg.AssetChecksDefinition]:
    """The asset checks of the given assets (for a stage's own list, and for tests that run one stage)."""
    keys = {key for a in assets for key in a.keys}
    return [c for c in ASSET_CHECKS if next(iter(c.check_keys)).asset_key in keys]
