"""Patient-level tables rebuilt only for the patients whose current ingest rows changed (see docs/staging.md).

Every patient-level table of staging (and outcomes.pro_changes) is a function of each patient's own current
rows, so a table can be brought up to date by deleting and re-inserting the rows of the changed patients.
`staging.build_state` records, per table, what its last build incorporated: the live (drop_id, version)
pairs of ingest.drop_versions, the count and latest time of ingest.erasures, and a fingerprint of the SQL and
parameters used. Changed patients = keys of rows in versions that became live or stopped being live since,
plus patients erased since. Any doubt (no state, another fingerprint, a missing table, erasures that do not
add up, upstream tables built from different ingest states) means a full rebuild.

A table downstream of other patient-level tables (follow_up, pro_changes) follows the ingest state its
upstream tables recorded, not ingest itself: it must never claim to include a drop its inputs do not hold.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from pipeline.sql import run, run_as
from pipeline.warehouse import Built, transaction

_TABLE_NAME = re.compile(r"^(staging|outcomes)\.[a-z_]+$")
_SOURCE_NAME = re.compile(r"^(ingest|staging|outcomes)\.[a-z_]+$")


@dataclass(frozen=True)
class IngestState:
    """What of ingest a table incorporates."""

    live: tuple[tuple[str, int], ...]
    erasures: int
    erased_until: datetime | None


@dataclass(frozen=True)
class PatientTable:
    """A table whose rows belong to one patient each (columns site_id, patient_id).

    `body`: the sql/<body>.sql SELECT that computes the table, reading its patient-level inputs through the
    temporary views named in `sources` (view name -> relation). `upstream`: the tables whose recorded ingest
    state this one follows; empty when it reads ingest directly. `config`: (sql name, params) steps that
    rebuild small config tables first, in the same transaction.
    """

    table: str
    body: str
    sources: dict[str, str]
    upstream: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Table and view names are identifiers, not values: they cannot be `?` parameters, so they are
        # checked against a strict pattern and only ever come from the fixed specs of pipeline code.
        names = [self.table, *self.sources.values(), *self.upstream]
        if not _TABLE_NAME.match(self.table) or not all(_SOURCE_NAME.match(n) for n in names):
            raise ValueError("patient tables and their sources must be schema.table names of the pipeline")
        if not all(re.fullmatch(r"scoped_[a-z_]+", v) for v in self.sources):
            raise ValueError("source views must be named scoped_<name>")


def how_built(mode: str, reason: str, patients_rebuilt: int | None = None) -> dict[str, str | int]:
    """How a table was built, for its Built.build (never an identifier): "full" | "incremental" | "view", why a
    full build (or "changed patients only"), and how many patients an incremental build rebuilt."""
    out: dict[str, str | int] = {"build": mode, "build_reason": reason}
    if patients_rebuilt is not None:
        out["patients_rebuilt"] = patients_rebuilt
    return out


@dataclass(frozen=True)
class _Plan:
    mode: str
    reason: str
    now: IngestState | None
    fingerprint: str
    before: IngestState | None = None


def fingerprint(*parts: object) -> str:
    """sha256 of the SQL texts and parameters a build used (their repr, in order)."""
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def ingest_state(con: duckdb.DuckDBPyConnection) -> IngestState:
    drop_ids, versions, erasures, erased_until = run(con, "staging/ingest_state").fetchone()
    return IngestState(tuple(zip(drop_ids or [], versions or [], strict=True)), int(erasures), erased_until)


def recorded(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str, IngestState] | None:
    """(fingerprint, ingest state) of the last build of `table`, or None."""
    row = run(con, "staging/build_state_read", table=table).fetchone()
    if row is None:
        return None
    fp, drop_ids, versions, erasures, erased_until = row
    return fp, IngestState(tuple(zip(drop_ids, versions, strict=True)), int(erasures), erased_until)


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    return run(con, "staging/table_exists", schema=schema, table=name).fetchone()[0] > 0


def _plan(con: duckdb.DuckDBPyConnection, spec: PatientTable, fp: str, force_full: bool) -> _Plan:
    if spec.upstream:
        states = [recorded(con, t) for t in spec.upstream]
        ingest_states = {s[1] for s in states if s is not None}
        now = ingest_states.pop() if None not in states and len(ingest_states) == 1 else None
        # An upstream table rebuilt with other SQL or parameters may have changed every patient's rows.
        fp = fingerprint(fp, [s[0] for s in states if s is not None])
    else:
        now = ingest_state(con)
    if force_full:
        return _Plan("full", "requested", now, fp)
    if now is None:
        return _Plan("full", "upstream tables built from different ingest states", now, fp)
    last = recorded(con, spec.table)
    if last is None or not _table_exists(con, spec.table):
        return _Plan("full", "no earlier build", now, fp)
    if last[0] != fp:
        return _Plan("full", "SQL or study configuration changed", now, fp)
    before = last[1]
    (kept,) = run(con, "staging/erasures_until", erased_until=before.erased_until).fetchone()
    if kept != before.erasures:
        return _Plan("full", "erasure audit differs from the recorded one", now, fp)
    return _Plan("incremental", "changed patients only", now, fp, before)


def _scope_views(con: duckdb.DuckDBPyConnection, spec: PatientTable, changed_only: bool) -> None:
    for view, source in spec.sources.items():
        # Identifiers from the validated spec only (see PatientTable.__post_init__); no value is formatted.
        scope = " SEMI JOIN changed_patients USING (site_id, patient_id)" if changed_only else ""
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {source}{scope}")


def _drop_scope(con: duckdb.DuckDBPyConnection, spec: PatientTable) -> None:
    for view in spec.sources:
        con.execute(f"DROP VIEW IF EXISTS {view}")
    con.execute("DROP TABLE IF EXISTS changed_patients")


def build(con: duckdb.DuckDBPyConnection, spec: PatientTable, body_params: Mapping[str, Any], fp: str,
          config: Sequence[tuple[str, Mapping[str, Any]]] = (), force_full: bool = False,
          finish: Callable[[duckdb.DuckDBPyConnection], None] | None = None) -> Built:
    """Bring spec.table up to date with ingest, incrementally when that is safe; one transaction.

    `config`: (sql name, params) steps run first (small config tables the body reads); `finish`: run last,
    in the same transaction (e.g. recording the study parameters used)."""
    schema = spec.table.split(".")[0]
    with transaction(con):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        run(con, "staging/build_state_table")
        for sql_name, params in config:
            run(con, sql_name, **params)
        plan = _plan(con, spec, fp, force_full)
        rebuilt = None
        if plan.mode == "full":
            _scope_views(con, spec, changed_only=False)
            run_as(con, f"CREATE OR REPLACE TABLE {spec.table} AS", spec.body, **body_params)
        else:
            assert plan.before is not None and plan.now is not None
            was, now = plan.before, plan.now
            run(con, "staging/changed_patients",
                drop_ids_before=[d for d, _ in was.live], versions_before=[v for _, v in was.live],
                drop_ids_now=[d for d, _ in now.live], versions_now=[v for _, v in now.live],
                erased_until_before=was.erased_until)
            (rebuilt,) = con.execute("SELECT count(*) FROM changed_patients").fetchone()
            if rebuilt:
                _scope_views(con, spec, changed_only=True)
                con.execute(f"DELETE FROM {spec.table} t USING changed_patients c "
                            "WHERE t.site_id = c.site_id AND t.patient_id = c.patient_id")
                run_as(con, f"INSERT INTO {spec.table} BY NAME", spec.body, **body_params)
        _record(con, spec.table, plan.fingerprint, plan.now)
        _drop_scope(con, spec)
        if finish is not None:
            finish(con)
        (rows,) = con.execute(f"SELECT count(*) FROM {spec.table}").fetchone()
    return Built(spec.table.split(".")[1], {spec.table: int(rows)},
                 build=how_built(plan.mode, plan.reason, None if rebuilt is None else int(rebuilt)))


def _record(con: duckdb.DuckDBPyConnection, table: str, fp: str, now: IngestState | None) -> None:
    run(con, "staging/build_state_clear", table=table)
    if now is None:
        return  # no consistent state to claim: the next build is full
    run(con, "staging/build_state_record", table=table, fingerprint=fp, drop_ids=[d for d, _ in now.live],
        versions=[v for _, v in now.live], erasures=now.erasures, erased_until=now.erased_until)

