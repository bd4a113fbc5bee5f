"""Per-run settings of the ingest: the contract's rules as SQL parameters, and the temporary helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from pipeline.contract import (
    AGE_TOP_CODE,
    ANESTHESIA,
    DETAIL_MAX_CHARS,
    EVENT_DAY_RANGE,
    EVENTS,
    IDENTIFIER_TEXT_PATTERNS,
    INSTRUMENTS,
    KEY_IDENTIFIER_PATTERNS,
    PATIENT_ID_PATTERN,
    PATIENT_RANGES,
    PRO_DAY_RANGE,
    PROCEDURE_PATTERN,
    SEXES,
    SITE_ID_PATTERN,
    UNIT_FACTORS,
)
from pipeline.sql import run

from .current import ensure_maintained

# One pattern matching wherever any identifier pattern matches: a single scan per value; the kind is
# worked out afterwards, for the few values that match.
IDENTIFIER_ANY = "|".join(f"(?:{p})" for p in IDENTIFIER_TEXT_PATTERNS.values())
# The same for the key columns, whose whole value is judged (contract.KEY_IDENTIFIER_PATTERNS).
KEY_IDENTIFIER_ANY = "|".join(f"(?:{p})" for p in KEY_IDENTIFIER_PATTERNS.values())


def contract_params(current_year: int) -> dict[str, Any]:
    """Every `$name` the check models use, from pipeline.contract."""
    params: dict[str, Any] = {
        "site_pattern": SITE_ID_PATTERN,
        "patient_pattern": PATIENT_ID_PATTERN,
        "procedure_pattern": PROCEDURE_PATTERN,
        "ident_any": IDENTIFIER_ANY,
        "key_ident_any": KEY_IDENTIFIER_ANY,
        "sexes": list(SEXES),
        "anesthesia_codes": list(ANESTHESIA),
        "event_codes": list(EVENTS),
        "unit_codes": sorted({u for i in INSTRUMENTS.values() for u in i.units}),
        "pro_day_low": PRO_DAY_RANGE[0],
        "pro_day_high": PRO_DAY_RANGE[1],
        "event_day_low": EVENT_DAY_RANGE[0],
        "event_day_high": EVENT_DAY_RANGE[1],
        "detail_max_chars": DETAIL_MAX_CHARS,
        "age_top_code": AGE_TOP_CODE,
        "current_year": current_year,
    }
    for column, (low, high, _integer) in PATIENT_RANGES.items():
        params[f"{column}_low"] = low
        params[f"{column}_high"] = high
    return params


def setup_session(con: duckdb.DuckDBPyConnection) -> None:
    """Warehouse schema, macros and reference tables (temporary objects live as long as the connection)."""
    run(con, "ingest/schema")
    ensure_maintained(con)
    run(con, "ingest/macros")
    instruments = [
        {
            "code": i.code,
            "low": float(i.low),
            "high": float(i.high),
            "post_only": i.post_only,
            "is_integer": i.integer,
            "has_units": bool(i.units),
        }
        for i in INSTRUMENTS.values()
    ]
    units = [
        {"instrument": i.code, "unit": u, "factor": float(UNIT_FACTORS[u])}
        for i in INSTRUMENTS.values()
        for u in i.units
    ]
    run(con, "ingest/ref_instruments", instruments=instruments)
    run(con, "ingest/ref_units", units=units)


@dataclass(frozen=True)
class RunContext:
    run_id: str | None
    params: dict[str, Any]

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC).replace(tzinfo=None)
