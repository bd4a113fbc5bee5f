"""Data checks as SQL (sql/check_<name>.sql, one row: failures, checked) plus the parameters each needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from pipeline import contract
from pipeline.sql import load_sql


@dataclass(frozen=True)
class CheckOutcome:
    failures: int
    checked: int

    @property
    def passed(self) -> bool:
        return self.failures == 0


def _instrument_bounds() -> list[list]:
    codes = list(contract.INSTRUMENTS)
    return [codes, [contract.INSTRUMENTS[c].low for c in codes], [contract.INSTRUMENTS[c].high for c in codes]]


def _pro_history_params() -> list:
    units = list(contract.UNIT_FACTORS)
    return [*_instrument_bounds(), units, [contract.UNIT_FACTORS[u] for u in units]]


def _canonical_params() -> list:
    codes = list(contract.INSTRUMENTS)
    return [*_instrument_bounds(), [contract.CANONICAL_UNIT.get(c) for c in codes]]


# Parameters of the checks that take any; values travel as `?` parameters, never formatted into SQL.
CHECK_PARAMETERS: dict[str, Callable[[], list]] = {
    "quarantine_reasons_known": lambda: [list(contract.REASON_CODES)],
    "pro_history_within_contract": _pro_history_params,
    "event_history_codes_known": lambda: [list(contract.EVENTS)],
    "pro_assessments_canonical": _canonical_params,
}


# Checks that count on hashes for speed: a failure is recounted exactly by check_<name>_exact.sql, so that a
# hash collision can never fail a check that holds.
EXACT_RECOUNT = frozenset({"pro_visits_one_per_visit"})


def run_check(con: duckdb.DuckDBPyConnection, name: str) -> CheckOutcome:
    params = CHECK_PARAMETERS.get(name, list)()
    failures, checked = con.execute(load_sql(f"check_{name}"), params).fetchone()
    if failures and name in EXACT_RECOUNT:
        failures, checked = con.execute(load_sql(f"check_{name}_exact"), params).fetchone()
    return CheckOutcome(int(failures or 0), int(checked or 0))
