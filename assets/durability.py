"""Durability stage (SAP section 4): time-to-event analysis data sets and fits, tables in schema `durability`.

Thin wrappers: the data sets are SQL models (sql/durability_*_dataset.sql, pipeline.survival.datasets), the
fits live in pipeline.survival.durability_tables, and every estimator is checked against R (docs/durability.md).
"""

import math
from collections.abc import Mapping, Sequence

import dagster as dg

from assets.resources import RefreshPaths, Warehouse
from pipeline.estimable import Gap
from pipeline.survival import durability_tables
from pipeline.survival.checks import ph_test, ph_test_gap, run_durability_check
from pipeline.survival.datasets import (
    build_durable_response_dataset,
    build_reintervention_dataset,
    build_return_to_activity_dataset,
    key_numbers,
)

GROUP = "durability"


def _result(rows: int, numbers: Mapping[str, float], gaps: Sequence[Gap] = ()) -> dg.MaterializeResult:
    """Row count plus the key numbers; a number that does not exist (e.g. a median never reached) is left out.
    Numbers the data cannot give (SAP 9) are listed with their reason under `not_estimable`."""
    metadata: dict[str, object] = {"dagster/row_count": int(rows)}
    metadata |= {k: float(v) for k, v in numbers.items() if v is not None and math.isfinite(float(v))}
    if gaps:
        metadata["not_estimable"] = dg.MetadataValue.json({gap.what: gap.reason for gap in gaps})
    return dg.MaterializeResult(metadata=metadata)


def _fitted(out: durability_tables.Materialized) -> dg.MaterializeResult:
    return _result(out.rows, out.numbers, out.gaps)


@dg.asset(group_name=GROUP, kinds={"duckdb", "sql"}, deps=["patients", "events", "follow_up"])
def reintervention_dataset(warehouse: Warehouse, paths: RefreshPaths) -> dg.MaterializeResult:
    """One row per analysis patient: time to first reintervention (REINTERVENTION_SURGERY or REPEAT_MILD),
    death as competing event, censored at follow-up end, everything capped at the horizon (SAP 4.1)."""
    with warehouse.get_connection() as con:
        study = paths.study()
        rows = build_reintervention_dataset(con, study.horizon_days, study.events.reintervention)
        return _result(rows, key_numbers(con, "reintervention_dataset"))


@dg.asset(group_name=GROUP, kinds={"duckdb", "python"}, deps=[reintervention_dataset])
def reintervention_km(warehouse: Warehouse, paths: RefreshPaths) -> dg.MaterializeResult:
    """Freedom from reintervention per arm: KM with log(−log) 95% CIs at days 365…1826, patients at risk,
    events and censored per year (durability.reintervention_km), and the whole curve
    (durability.reintervention_km_curve)."""
    with warehouse.get_connection() as con:
        out = durability_tables.reintervention_km(con, study=paths.study())
    return _fitted(out)


@dg.asset(group_name=GROUP, kinds={"duckdb", "python"}, deps=[reintervention_dataset])
def reintervention_comparison(warehouse: Warehouse, paths: RefreshPaths) -> dg.MaterializeResult:
    """Treatment vs comparator: log-rank test, Cox hazard ratio (Efron ties, Wald CI), proportional-hazards
    test (R's cox.zph), RMST to the horizon per arm and its difference (durability.reintervention_comparison)."""
    with warehouse.get_connection() as con:
        study = paths.study()
        out = durability_tables.reintervention_comparison(con, tau=study.horizon_days, study=study)
    return _fitted(out)


@dg.asset(group_name=GROUP, kinds={"duckdb", "python"}, deps=[reintervention_dataset])
def reintervention_cif(warehouse: Warehouse, paths: RefreshPaths) -> dg.MaterializeResult:
    """Cumulative incidence of reintervention with death as competing risk, per arm at days 365…1826
    (deterministic Aalen–Johansen; durability.reintervention_cif), and the whole curve with delta-method
    log(−log) 95% CIs, one row per distinct time (durability.reintervention_cif_curve)."""
    with warehouse.get_connection() as con:
        out = durability_tables.reintervention_cif(con, study=paths.study())
    return _fitted(out)


@dg.asset(group_name=GROUP, kinds={"duckdb", "sql"}, deps=["patients", "events", "pro_visits"])
def durable_response_dataset(warehouse: Warehouse, paths: RefreshPaths) -> dg.MaterializeResult:
    """One row per analysis patient: the interval in which durable ODI response ended (first bad signal:
    visit where the patient is not an ODI responder by the study's rule, or reintervention, up to the end of
    the M60 window), or why the patient is excluded (SAP 4.2)."""
    with warehouse.get_connection() as con:
        rows = build_durable_response_dataset(con, paths.study())
        return _result(rows, key_numbers(con, "durable_response_dataset"))


@dg.asset(group_name=GROUP, kinds={"duckdb", "python"}, deps=[durable_response_dataset])
def durable_response_turnbull(warehouse: Warehouse, paths: RefreshPaths) -> dg.MaterializeResult:
    """Probability of durable ODI response per arm at days 365, 730 and 1826, by Turnbull's NPMLE
    (durability.durable_response_turnbull), and the whole curve, one row per support point
    (durability.durable_response_curve)."""
    with warehouse.get_connection() as con:
        out = durability_tables.durable_response_turnbull(con, study=paths.study())
    return _fitted(out)


@dg.asset(group_name=GROUP, kinds={"duckdb", "sql"}, deps=["patients", "events", "follow_up"])
def return_to_activity_dataset(warehouse: Warehouse, paths: RefreshPaths) -> dg.MaterializeResult:
    """One row per analysis patient: time to first RETURN_TO_ACTIVITY, censored at follow-up end or death,
    capped at the horizon (SAP 4.3)."""
    with warehouse.get_connection() as con:
        study = paths.study()
        rows = build_return_to_activity_dataset(con, study.horizon_days, study.events.return_to_activity)
        return _result(rows, key_numbers(con, "return_to_activity_dataset"))


@dg.asset(group_name=GROUP, kinds={"duckdb", "python"}, deps=[return_to_activity_dataset])
def return_to_activity_km(warehouse: Warehouse, paths: RefreshPaths) -> dg.MaterializeResult:
    """Recovery per arm: KM median days with 95% CI, share back by day 14 and 28 (1 − KM) with CIs
    (durability.return_to_activity_km), and the whole curve (durability.return_to_activity_km_curve)."""
    with warehouse.get_connection() as con:
        out = durability_tables.return_to_activity_km(con, study=paths.study())
    return _fitted(out)


def _sql_check(asset: dg.AssetsDefinition, name: str, description: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset, name=name, description=description, blocking=True)
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.get_connection() as con:
            outcome = run_durability_check(con, name)
        return dg.AssetCheckResult(passed=outcome.passed,
                                   metadata={"failures": outcome.failures, "rows_checked": outcome.checked})

    return _check


@dg.asset_check(
    asset=reintervention_comparison, name="proportional_hazards",
    description="WARN when R's cox.zph test rejects proportional hazards (p < the study's survival.ph_alpha, "
                "SAP 0.05): the reported hazard "
                "ratio is then an average over time and the report should say so.",
)
def proportional_hazards(warehouse: Warehouse, paths: RefreshPaths) -> dg.AssetCheckResult:
    alpha = paths.study().ph_alpha
    with warehouse.get_connection() as con:
        test = ph_test(con)
        reason = ph_test_gap(con)
    if test is None:
        # Not estimable (SAP 9): nothing to warn about, an absent number is not a wrong one.
        return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN,
                                   description=f"no proportional-hazards test: {reason or 'not estimable'}")
    return dg.AssetCheckResult(
        passed=bool(test.p_value >= alpha), severity=dg.AssetCheckSeverity.WARN,
        metadata={"chisq": test.chisq, "df": test.df, "p_value": test.p_value, "alpha": alpha},
    )


DURABILITY_ASSETS = [
    reintervention_dataset, reintervention_km, reintervention_comparison, reintervention_cif,
    durable_response_dataset, durable_response_turnbull, return_to_activity_dataset, return_to_activity_km,
]

DURABILITY_CHECKS = [
    _sql_check(reintervention_km, "reintervention_km_valid",
               "Each arm's KM curve lies in [0, 1], never rises, and lies inside its CI."),
    _sql_check(reintervention_km, "reintervention_at_risk",
               "At-risk counts agree with the cohort: one data-set row per analysis patient, at risk at each day = "
               "patients with time ≥ day, and every patient counted once as event or censored."),
    _sql_check(reintervention_cif, "reintervention_cif_valid",
               "Cumulative incidences lie in [0, 1], never fall, and reintervention + death ≤ 1."),
    _sql_check(durable_response_turnbull, "durable_response_valid",
               "Durable-response probabilities lie in [0, 1], never rise, and the EM converged."),
    _sql_check(return_to_activity_km, "return_to_activity_km_valid",
               "Each arm's return-to-activity KM curve lies in [0, 1], never rises, and lies inside its CI."),
    proportional_hazards,
]
