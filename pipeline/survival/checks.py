"""The checks of the durability results (SAP section 4): SQL in sql/checks/durability_*.sql (one KM check
for both curves), plus the judge that reads the proportional-hazards test (or why it is not estimable) back
for its warning. The checks hold on empty and partial tables: they block wrong numbers, not absent ones
(SAP 9)."""

from __future__ import annotations

import duckdb

from pipeline.checks import CheckOutcome, CheckSpec
from pipeline.estimable import read_gaps
from pipeline.sql import scalar
from pipeline.study import Study
from pipeline.survival.gaps import PH_TEST


def proportional_hazards(con: duckdb.DuckDBPyConnection, study: Study) -> CheckOutcome:
    """Fails when the stored cox.zph test rejects proportional hazards; holds, saying why, when the comparison
    stored no test (not estimable, or not materialized): an absent number is not a wrong one."""
    row = None
    if scalar(con, "staging/table_exists", schema="durability", table="reintervention_comparison"):
        row = con.execute("SELECT statistic, df, p_value FROM durability.reintervention_comparison "
                          "WHERE measure = 'ph_test'").fetchone()
    if row is None:
        reason = next((gap.reason for gap in read_gaps(con) if gap.what == PH_TEST), None)
        return CheckOutcome(0, 0, description=f"no proportional-hazards test: {reason or 'not estimable'}")
    chisq, df, p_value = float(row[0]), int(row[1]), float(row[2])
    # The test "rejects" below the study's alpha: then WARN, the hazard ratio is a time average.
    return CheckOutcome(int(not p_value >= study.ph_alpha), 1,
                        {"chisq": chisq, "df": df, "p_value": p_value, "alpha": study.ph_alpha})


def _sql(asset: str, name: str, description: str, sql: str) -> CheckSpec:
    return CheckSpec(asset, name, description, sql=sql)


def _km_valid(asset: str, description: str) -> CheckSpec:
    """The one KM-curve check (sql/checks/durability_km_valid.sql) on the table of `asset`."""
    curve = {"curve": f"durability.{asset}_curve"}
    return CheckSpec(asset, f"{asset}_valid", description, sql="checks/durability_km_valid",
                     params=lambda study: curve)


DURABILITY_CHECKS = (
    _km_valid("reintervention_km", "Each arm's KM curve lies in [0, 1], never rises, and lies inside its CI."),
    _sql("reintervention_km", "reintervention_at_risk",
         "At-risk counts agree with the cohort: one data-set row per analysis patient, at risk at each day = "
         "patients with time ≥ day, and every patient counted once as event or censored.",
         "checks/durability_reintervention_at_risk"),
    _sql("reintervention_cif", "reintervention_cif_valid",
         "Cumulative incidences lie in [0, 1], never fall, and reintervention + death ≤ 1.",
         "checks/durability_reintervention_cif_valid"),
    _sql("durable_response_turnbull", "durable_response_valid",
         "Durable-response probabilities lie in [0, 1], never rise, and the EM converged.",
         "checks/durability_durable_response_valid"),
    _km_valid("return_to_activity_km",
              "Each arm's return-to-activity KM curve lies in [0, 1], never rises, and lies inside its CI."),
    CheckSpec("reintervention_comparison", "proportional_hazards",
              "WARN when R's cox.zph test rejects proportional hazards (p < the study's survival.ph_alpha, SAP "
              "0.05): the reported hazard ratio is then an average over time and the report should say so.",
              judge=proportional_hazards, blocking=False, severity="WARN"),
)
