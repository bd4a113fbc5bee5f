"""Every check of the pipeline, in one place (each stage declares its own beside its SQL and judges)."""

from __future__ import annotations

from pipeline.checks import STAGING_CHECKS, CheckSpec
from pipeline.comparison.checks import COMPARISON_CHECKS
from pipeline.comparison.mar_checks import MAR_DIFFERENCE_CHECKS
from pipeline.outcomes.checks import OUTCOME_CHECKS
from pipeline.outcomes.mar_checks import MAR_CHECKS
from pipeline.survival.checks import DURABILITY_CHECKS

CHECKS: tuple[CheckSpec, ...] = (*STAGING_CHECKS, *OUTCOME_CHECKS, *MAR_CHECKS, *DURABILITY_CHECKS,
                                 *COMPARISON_CHECKS, *MAR_DIFFERENCE_CHECKS)


def check_named(asset: str, name: str) -> CheckSpec:
    """The spec of the asset check `<asset>_<name>`."""
    found = [spec for spec in CHECKS if (spec.asset, spec.name) == (asset, name)]
    if len(found) != 1:
        raise KeyError(f"no check {name!r} on asset {asset!r}")
    return found[0]
