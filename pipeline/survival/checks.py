"""Data checks of the durability results: SQL in sql/durability_check_<name>.sql (one row: failures, checked),
plus the proportional-hazards test read back for its warning check."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipeline.checks import CheckOutcome
from pipeline.sql import load_sql

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
    """The stored cox.zph result, or None when the comparison has not been materialized."""
    row = con.execute(load_sql("durability_ph_test")).fetchone()
    return None if row is None else PhTest(float(row[0]), int(row[1]), float(row[2]))
