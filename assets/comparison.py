"""Confounding-adjusted comparison (SAP section 6): thin assets over pipeline/comparison, tables in schema
`comparison`, group `comparison`.

The checks `balance` (ERROR when any |SMD| after weighting > comparison.smd_limit, SAP 0.1) and `equipoise` (WARN
below comparison.equipoise_minimum, SAP 20%) are not
blocking: SAP 6 says a failed gate must not hide results. Instead every adjusted estimate row carries
`balance_achieved`, which the report shows.

Numbers the data cannot give (SAP 9: no patients in an arm, separation, no events) never fail an asset: each
asset stores what it can and records its gaps (`pipeline.estimable.record_gaps`, replaced every run). The
checks tell wrong numbers (fail) from no numbers (pass: nothing to check, the reason in the description).
"""

import math
from collections.abc import Mapping

import dagster as dg
import pandas as pd

from assets.resources import RefreshPaths, Warehouse
from pipeline.comparison import adjusted_tables
from pipeline.estimable import record_gaps
from pipeline.sql import load_sql

GROUP = "comparison"
KINDS = {"duckdb", "python"}


def _result(built: adjusted_tables.Built, study_sha: str,
            extra: Mapping[str, object] | None = None) -> dg.MaterializeResult:
    """Row count, table name, study hash, the finite key numbers (NaN cannot be plotted) and what could not
    be estimated (member: reason)."""
    metadata: dict[str, object] = {"dagster/row_count": int(built.rows), "dagster/table_name": built.table,
                                   "study_sha256": study_sha}
    if built.gaps:
        metadata["not_estimable"] = dg.MetadataValue.json({g.what: g.reason for g in built.gaps})
    metadata |= {k: float(v) for k, v in built.numbers.items()
                 if v is not None and not pd.isna(v) and math.isfinite(float(v))}
    metadata |= dict(extra or {})
    return dg.MaterializeResult(metadata=metadata)


# The cohort (comparison.cohort) snapshots the complication flag and both time-to-event data sets, so the
# model step must follow every table it copies; later steps read the snapshot, never those tables.
@dg.asset(group_name=GROUP, kinds=KINDS, deps=["patients", "pro_visits", "events", "reintervention_dataset",
                                             "return_to_activity_dataset"])
def propensity_weights(warehouse: Warehouse, paths: RefreshPaths) -> dg.MaterializeResult:
    """Propensity score per analysis patient from an unpenalized logistic regression on the SAP 6 covariates
    (median / 0 imputation with `<name>_missing` indicators, constant covariates dropped and listed in
    comparison.propensity_model), and the weight of the study's scheme (overlap by default). Fitted once per run:
    the population with its score and weight is stored as comparison.cohort, which the later steps read."""
    study = paths.study()
    with warehouse.get_connection() as con:
        built = adjusted_tables.build_propensity(con, study)
        record_gaps(con, "propensity_weights", built.gaps)
    return _result(built, study.sha256, {"weights": study.comparison_weights})


@dg.asset(group_name=GROUP, kinds=KINDS, deps=[propensity_weights])
def covariate_balance(warehouse: Warehouse, paths: RefreshPaths) -> dg.MaterializeResult:
    """SMD before and after weighting for every covariate as entered in the propensity model (pooled SD of
    the unweighted arms), effective sample size per arm and preference-score equipoise
    (comparison.balance, comparison.balance_summary)."""
    study = paths.study()
    with warehouse.get_connection() as con:
        built = adjusted_tables.build_balance(con, study)
        record_gaps(con, "covariate_balance", built.gaps)
    table = built.frame
    records = [dg.TableRecord({"covariate": r.covariate, "smd_before": round(float(r.smd_before), 4),
                               "smd_after": round(float(r.smd_after), 4),
                               "mean_treatment_after": round(float(r.mean_treatment_after), 4),
                               "mean_comparator_after": round(float(r.mean_comparator_after), 4)})
               for r in table.itertuples()]
    schema = dg.TableSchema(columns=[
        dg.TableColumn("covariate", "string"), dg.TableColumn("smd_before", "float"),
        dg.TableColumn("smd_after", "float"), dg.TableColumn("mean_treatment_after", "float"),
        dg.TableColumn("mean_comparator_after", "float"),
    ])
    return _result(built, study.sha256, {"balance_table": dg.MetadataValue.table(records, schema),
                                         "weights": study.comparison_weights})


@dg.asset(group_name=GROUP, kinds=KINDS,
          deps=[covariate_balance, "pro_changes", "pro_visits"])
def adjusted_estimates(warehouse: Warehouse, paths: RefreshPaths) -> dg.MaterializeResult:
    """Every between-arm estimate adjusted (weighted) beside its unadjusted twin: mean change difference per
    instrument and visit, responder, satisfaction (primary visit) and 90-day complication risk differences,
    reintervention Cox HR (Lin–Wei robust SE). CIs: robust sandwich, or the seeded bootstrap that re-fits the
    propensity model (study comparison.ci). Each adjusted row carries balance_achieved."""
    study = paths.study()
    with warehouse.get_connection() as con:
        built = adjusted_tables.build_adjusted_estimates(con, study)
        record_gaps(con, "adjusted_estimates", built.gaps)
    return _result(built, study.sha256, {"ci": study.comparison_ci})


@dg.asset(group_name=GROUP, kinds=KINDS, deps=[covariate_balance])
def adjusted_km(warehouse: Warehouse, paths: RefreshPaths) -> dg.MaterializeResult:
    """Weighted KM curves per arm (robust infinitesimal-jackknife variance, log(−log) CIs) beside the
    unweighted ones, for freedom from reintervention and return to activity (comparison.adjusted_km,
    comparison.adjusted_km_curve)."""
    study = paths.study()
    with warehouse.get_connection() as con:
        built = adjusted_tables.build_adjusted_km(con, study)
        record_gaps(con, "adjusted_km", built.gaps)
    return _result(built, study.sha256)


@dg.asset(group_name=GROUP, kinds=KINDS, deps=[adjusted_estimates])
def reintervention_e_value(warehouse: Warehouse, paths: RefreshPaths) -> dg.MaterializeResult:
    """E-value (VanderWeele & Ding 2017) of the adjusted reintervention HR and of its CI limit nearest 1; the
    HR is converted to a risk ratio by the square-root rule when the outcome is common (> 15% at the horizon)
    (comparison.e_value)."""
    study = paths.study()
    with warehouse.get_connection() as con:
        built = adjusted_tables.build_e_value(con, study)
        record_gaps(con, "reintervention_e_value", built.gaps)
    return _result(built, study.sha256)


@dg.asset(group_name=GROUP, kinds=KINDS, deps=[covariate_balance, "pro_changes"])
def subgroup_estimates(warehouse: Warehouse, paths: RefreshPaths) -> dg.MaterializeResult:
    """Forest plot rows: adjusted ODI change difference at the primary visit and adjusted reintervention HR
    within age < 75 / ≥ 75, sex, baseline ODI < 40 / ≥ 40 and diabetes, the propensity model re-fitted within
    each subgroup (comparison.subgroups)."""
    study = paths.study()
    with warehouse.get_connection() as con:
        built = adjusted_tables.build_subgroups(con, study)
        record_gaps(con, "subgroup_estimates", built.gaps)
    return _result(built, study.sha256)


def _summary(warehouse: Warehouse) -> dict | None:
    with warehouse.get_connection() as con:
        frame = con.execute(load_sql("comparison_balance_summary")).df()
    return None if frame.empty else frame.iloc[0].to_dict()


def _nothing_to_check(s: dict) -> dg.AssetCheckResult | None:
    """No weights, hence no balance to check (SAP 9): the check holds and says why. None when there are."""
    reason = s.get("not_estimable")
    if not isinstance(reason, str):
        return None
    return dg.AssetCheckResult(passed=True, description=f"Nothing to check, not estimable: {reason}",
                               metadata={"not_estimable": reason})


@dg.asset_check(asset=covariate_balance, name="balance", blocking=False,
                description="Every |SMD| after weighting ≤ the study's comparison.smd_limit (SAP 6 gate, 0.1). "
                            "Fails with ERROR otherwise; "
                            "results stay available, marked balance_achieved = false. Holds when there is "
                            "nothing to check (the comparison is not estimable).")
def balance(warehouse: Warehouse, paths: RefreshPaths) -> dg.AssetCheckResult:
    s = _summary(warehouse)
    if s is None:
        return dg.AssetCheckResult(passed=False, description="comparison.balance_summary is empty")
    held = _nothing_to_check(s)
    if held is not None:
        return held
    return dg.AssetCheckResult(
        passed=bool(s["balance_passed"]), severity=dg.AssetCheckSeverity.ERROR,
        metadata={"max_abs_smd_after": float(s["max_abs_smd_after"]), "limit": paths.study().smd_limit,
                  "weights": s["weights"]},
    )


@dg.asset_check(asset=covariate_balance, name="equipoise", blocking=False,
                description="Share of patients with preference score in the study's comparison.equipoise_band "
                            "(SAP [0.3, 0.7]) ≥ comparison.equipoise_minimum (SAP 20%; Walker et al. 2013). "
                            "Warns otherwise; holds when there is nothing to check.")
def equipoise(warehouse: Warehouse, paths: RefreshPaths) -> dg.AssetCheckResult:
    s = _summary(warehouse)
    if s is None:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN,
                                   description="comparison.balance_summary is empty")
    held = _nothing_to_check(s)
    if held is not None:
        return held
    return dg.AssetCheckResult(
        passed=bool(s["equipoise_passed"]), severity=dg.AssetCheckSeverity.WARN,
        metadata={"equipoise": float(s["equipoise"]), "minimum": paths.study().equipoise_minimum},
    )


COMPARISON_ASSETS = [propensity_weights, covariate_balance, adjusted_estimates, adjusted_km, reintervention_e_value,
                     subgroup_estimates]
COMPARISON_CHECKS = [balance, equipoise]
