"""A tiny warehouse for the outcomes tests: hand-made ingest rows, staged by the real staging models, then
the outcomes tables built by the real SQL. Each test states only the rows that matter to it."""

from __future__ import annotations

import itertools

import duckdb

from pipeline.check_registry import check_named
from pipeline.checks import CheckOutcome, run_check
from pipeline.outcomes import build_all
from pipeline.outcomes.checks import OUTCOME_CHECKS
from pipeline.sql import run
from pipeline.staging import build_all as build_staging
from pipeline.study import Study, load_study
from pipeline.warehouse import Built

STUDY = load_study()
# The outcomes tables whose rows carry n, rate, ci_lower, ci_upper, each checked by rates_valid.
RATE_TABLES = sorted(f"outcomes.{s.asset}" for s in OUTCOME_CHECKS if s.sql == "checks/outcomes_rates_valid")


def outcome_check(con: duckdb.DuckDBPyConnection, asset: str, name: str, study: Study = STUDY) -> CheckOutcome:
    """The asset check `<asset>_<name>`, judged as the asset check judges it."""
    return run_check(con, check_named(asset, name), study)


def rates_valid(con: duckdb.DuckDBPyConnection, table: str) -> CheckOutcome:
    """The rates_valid check of `table` (schema-qualified)."""
    return outcome_check(con, table.removeprefix("outcomes."), "rates_valid")


class World:
    """An in-memory warehouse with one ingested drop; add rows, then build()."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        run(self.con, "ingest/schema")
        self.con.execute(
            "INSERT INTO ingest.drop_versions (drop_id, version, content_sha256, status, ingested_at)"
            " VALUES ('d1', 1, 'sha', 'ingested', now())"
        )
        self._line = itertools.count(2)

    def patient(self, pid: str, procedure: str = "MILD", los_days: int | None = 1, site: str = "S1") -> None:
        self.con.execute(
            "INSERT INTO ingest.patients (drop_id, version, line, site_id, patient_id, procedure, index_year,"
            " age_at_index, age_top_coded, sex, levels_treated, los_days)"
            " VALUES ('d1', 1, ?, ?, ?, ?, 2022, 70, false, 'F', 1, ?)",
            [next(self._line), site, pid, procedure, los_days],
        )

    def pro(self, pid: str, day: int, instrument: str = "ODI", value: float = 40.0, unit: str | None = None,
            site: str = "S1") -> None:
        if unit is None and instrument == "WALK_DISTANCE":
            unit = "m"
        if unit is None and instrument == "STAND_TIME":
            unit = "min"
        self.con.execute(
            "INSERT INTO ingest.pro_responses (drop_id, version, line, site_id, patient_id, days_from_index,"
            " instrument, value, unit) VALUES ('d1', 1, ?, ?, ?, ?, ?, ?, ?)",
            [next(self._line), site, pid, day, instrument, value, unit],
        )

    def pair(self, pid: str, baseline: float, value: float, instrument: str = "ODI", day: int = 365,
             procedure: str | None = "MILD", unit: str | None = None) -> None:
        """A patient (unless procedure is None: already added) with a baseline and one visit value."""
        if procedure is not None:
            self.patient(pid, procedure)
        self.pro(pid, -10, instrument, baseline, unit)
        self.pro(pid, day, instrument, value, unit)

    def event(self, pid: str, day: int, event: str, site: str = "S1") -> None:
        self.con.execute(
            "INSERT INTO ingest.events (drop_id, version, line, site_id, patient_id, days_from_index, event)"
            " VALUES ('d1', 1, ?, ?, ?, ?, ?)",
            [next(self._line), site, pid, day, event],
        )

    def build(self, study: Study = STUDY) -> dict[str, Built]:
        build_staging(self.con, study)
        return build_all(self.con, study)

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def one(self, sql: str, params: list | None = None) -> tuple:
        return self.con.execute(sql, params or []).fetchone()


def odi_mar_and_complete_case(landing, database, mar_columns: str, cc_columns: str) -> tuple[dict, dict]:
    """Ingest `landing` into a new warehouse at `database`, build staging and outcomes, and return the MAR
    (outcomes.pro_change_mar) and complete-case (outcomes.pro_change_summary) ODI rows keyed by (arm, visit):
    the chosen columns after arm and visit. The two SAP 3.1 truth tests (committed sample, large generated
    sample) read their estimates this one way."""
    from pipeline.ingest import ingest_landing

    with duckdb.connect(str(database)) as con:
        ingest_landing(con, landing)
        build_staging(con, STUDY)
        build_all(con, STUDY)
        mar = con.execute(f"SELECT arm, visit, {mar_columns} FROM outcomes.pro_change_mar "
                          "WHERE instrument = 'ODI'").fetchall()
        cc = con.execute(f"SELECT arm, visit, {cc_columns} FROM outcomes.pro_change_summary "
                         "WHERE instrument = 'ODI'").fetchall()
    return {(r[0], r[1]): r[2:] for r in mar}, {(r[0], r[1]): r[2:] for r in cc}
