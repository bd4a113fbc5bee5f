"""Data checks of the durability results: SQL in sql/durability_check_<name>.sql (one row: failures, checked),
plus the proportional-hazards test (or why it is not estimable) read back for its warning check. The checks
hold on empty and partial tables: they block wrong numbers, not absent ones (SAP 9)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipeline.checks import CheckOutcome
from pipeline.estimable import read_gaps
from pipeline.sql import load_sql
from pipeline.survival.gaps import PH_TEST

DURABILITY_CHECKS = (
    "reintervention_km_valid", "reintervention_at_risk", "reintervention_cif_valid", "durable_response_valid",
    "return_to_activity_km_valid",
)


@dataclass(frozen=True)
class PhTest:
    chisq: float
    df: int
    p_value: float


def run_durability_check(con: duckdb.DuckDBPyConnection, name: str) -> CheckOutcome:
    if name not in DURABILITY_CHECKS:
        raise ValueError(f"unknown durability check {name!r}")
    failures, checked = con.execute(load_sql(f"durability_check_{name}")).fetchone()
    return CheckOutcome(int(failures or 0), int(checked or 0))


def ph_test(con: duckdb.DuckDBPyConnection) -> PhTest | None:
    """The stored cox.zph result, or None when the comparison stored none (not estimable, or not materialized)."""
    if not con.execute(load_sql("durability_table_exists"), ["reintervention_comparison"]).fetchone()[0]:
        return None
    row = con.execute(load_sql("durability_ph_test")).fetchone()
    return None if row is None else PhTest(float(row[0]), int(row[1]), float(row[2]))


def ph_test_gap(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why the proportional-hazards test is not estimable, as recorded by the comparison (None if it is)."""
    return next((gap.reason for gap in read_gaps(con) if gap.what == PH_TEST), None)
