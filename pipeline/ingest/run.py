"""ingest_landing: every drop folder of the landing directory, in delivery order, each all or nothing.

A drop is applied in two phases. Phase 1 reads and checks every file into temporary tables, outside any
transaction: it writes nothing to the warehouse, and DuckDB is several times faster (and frees memory at
once) for temporary tables created outside a transaction. Phase 2 writes the outcome in one transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import duckdb

from pipeline.contract import public_drop_id
from pipeline.settings import settle_seconds as default_settle_seconds
from pipeline.sql import SqlModelError, run, scalar
from pipeline.warehouse import transaction

from .context import RunContext, contract_params, setup_session
from .discover import Drop, discover_drops, waiting_reason
from .erase import apply_erasures
from .errors import DropRejected, IngestError
from .inspect import FilePlan, inspect_drop
from .known_hashes import Stamp, now_us, remember, remembered_fingerprint
from .load import load_file
from .scan import content_fingerprint, scan_file
from .summary import DropOutcome, FileReconciliation, IngestSummary
from .validate import DROP_STAGE, CheckedFile, check_file

# The other temporary tables of a drop (some hold raw delivered text), dropped after DROP_STAGE at the end of
# every drop: nothing outlives its use.
DROP_TEMPORARY = """DROP TABLE IF EXISTS ingest_rejects;
DROP TABLE IF EXISTS ingest_reject_scans;
DROP TABLE IF EXISTS ingest_checked;
DROP TABLE IF EXISTS ingest_file_dups;
DROP TABLE IF EXISTS ingest_result_patients;
DROP TABLE IF EXISTS ingest_result_pro_responses;
DROP TABLE IF EXISTS ingest_result_events;
DROP TABLE IF EXISTS ingest_result_erasures;
DROP TABLE IF EXISTS ingest_drop_patients;
DROP TABLE IF EXISTS ingest_malformed;
DROP TABLE IF EXISTS ingest_affected;
DROP TABLE IF EXISTS ingest_before;
DROP TABLE IF EXISTS ingest_erase_now;"""

log = logging.getLogger(__name__)


def ingest_landing(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    *,
    run_id: str | None = None,
    current_year: int | None = None,
    settle_seconds: float | None = None,
    clock: Callable[[], float] = time.time,
) -> IngestSummary:
    """Apply every complete drop under `landing` to the ingest.* tables of `con` and report what happened.

    Must not be called inside an open transaction: each drop is applied in its own. current_year (default:
    today's) bounds index_year. A drop without manifest.json whose files changed within `settle_seconds`
    (default: pipeline.settings.settle_seconds(), from OUTCOMES_SETTLE_SECONDS) of `clock()` is still being
    copied: it is left for a later run, reported as `waiting` and listed in ingest.waiting_drops only.
    """
    setup_session(con)
    ctx = RunContext(run_id, contract_params(current_year or date.today().year))
    settle = default_settle_seconds() if settle_seconds is None else settle_seconds
    now = clock()
    outcomes = []
    try:
        drops = discover_drops(Path(landing))
        waiting = {d.drop_id: waiting_reason(d.path, settle_seconds=settle, now=now) for d in drops}
        _record_waiting(con, ctx, drops, waiting)
        for drop in drops:
            if waiting[drop.drop_id] is not None:
                outcomes.append(DropOutcome(drop.drop_id, None, "waiting", None, waiting[drop.drop_id], []))
                log.info("drop %s: waiting (still being copied)", _loggable(drop))
                continue
            outcome = _apply_drop(con, drop, ctx)
            outcomes.append(outcome)
            rows = sum(f.rows_read for f in outcome.files)
            log.info(
                "drop %s: %s (version %s, %d rows)", _loggable(drop), outcome.status, outcome.version, rows
            )
    finally:
        # The reference tables of the run (its macros stay: they hold no data and are replaced next run).
        con.execute("DROP TABLE IF EXISTS ingest_ref_instruments; DROP TABLE IF EXISTS ingest_ref_units;")
    return IngestSummary(outcomes)


def _record_waiting(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, drops: list[Drop], waiting: dict[str, str | None]
) -> None:
    """ingest.waiting_drops := the drops this run leaves for later (the data-quality report lists them)."""
    copying = [(public_drop_id(d.drop_id), waiting[d.drop_id]) for d in drops if waiting[d.drop_id] is not None]
    with transaction(con):
        run(con, "ingest/waiting_record", drop_ids=[d for d, _ in copying], reasons=[r for _, r in copying],
            at=ctx.now(), run_id=ctx.run_id)


def _loggable(drop: Drop) -> str:
    return drop.drop_id if drop.valid_id else "<invalid folder name>"


def _apply_drop(con: duckdb.DuckDBPyConnection, drop: Drop, ctx: RunContext) -> DropOutcome:
    held = run(con, "ingest/drop_versions_of", drop_id=drop.drop_id).fetchall()
    # A drop held byte for byte is usually recognised from remembered hashes, without reading it.
    skipped = _skip_if_held(con, ctx, drop, held, remembered_fingerprint(con, drop))
    if skipped is not None:
        return skipped
    hashed_us = now_us()
    stamps = {name: Stamp.of(path) for name, path in drop.files.items()}
    scans = {name: scan_file(path, text=name.endswith(".csv")) for name, path in drop.files.items()}
    remember(con, drop, stamps, scans, hashed_us)
    fingerprint = content_fingerprint(list(scans.values()))
    skipped = _skip_if_held(con, ctx, drop, held, fingerprint)
    if skipped is not None:
        return skipped
    version = max((v for v, *_ in held), default=0) + 1
    live = [v for v, _sha, status, superseded_by in held if status == "ingested" and superseded_by is None]
    prev_version = live[-1] if live else None
    try:
        plans = inspect_drop(con, drop, scans)
        checked = _check(con, drop, ctx, plans, prev_version)
        return _write(con, drop, ctx, checked, version, prev_version, fingerprint)
    except DropRejected as rejection:
        return _reject(con, ctx, drop, version, fingerprint, rejection)
    except IngestError:
        raise
    except SqlModelError as exc:
        raise IngestError(f"ingest of drop {_loggable(drop)} failed: {exc}") from None
    except Exception as exc:
        # The error text may quote delivered data: only its type is passed on.
        raise IngestError(f"ingest of drop {_loggable(drop)} failed ({type(exc).__name__})") from None
    finally:
        con.execute(DROP_STAGE)
        con.execute(DROP_TEMPORARY)


def _skip_if_held(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, drop: Drop, held: list[tuple], fingerprint: str | None
) -> DropOutcome | None:
    for held_version, held_sha, _status, _superseded_by in held:
        if fingerprint is not None and held_sha == fingerprint:
            reason = f"identical to version {held_version}"
            _log(con, ctx, drop.drop_id, held_version, "skipped", reason)
            return DropOutcome(drop.drop_id, held_version, "skipped", None, reason, [])
    return None


def _check(
    con: duckdb.DuckDBPyConnection,
    drop: Drop,
    ctx: RunContext,
    plans: list[FilePlan],
    prev_version: int | None,
) -> list[CheckedFile]:
    """Phase 1: every file staged and checked into temporary tables; the warehouse is only read."""
    run(con, "ingest/drop_reset")
    return [
        check_file(con, plan, ctx.params, drop_id=drop.drop_id, prev_version=prev_version) for plan in plans
    ]


def _write(
    con: duckdb.DuckDBPyConnection,
    drop: Drop,
    ctx: RunContext,
    checked: list[CheckedFile],
    version: int,
    prev_version: int | None,
    fingerprint: str,
) -> DropOutcome:
    """Phase 2: the drop's outcome written in one transaction (nothing of it if anything fails)."""
    at = ctx.now()
    with _insertion_order_free(con), transaction(con):
        # The new version is live, and the one it corrects superseded, before any row is written.
        _insert_version(con, ctx, drop, version, fingerprint, "ingested", at)
        if prev_version is not None:
            run(
                con,
                "ingest/version_supersede",
                drop_id=drop.drop_id,
                version=version,
                prev_version=prev_version,
            )
        files: list[FileReconciliation] = []
        erased = 0
        for item in checked:
            if item.plan.spec.name == "erasures":
                rec = apply_erasures(con, item, drop_id=drop.drop_id, version=version, at=at)
                erased = rec.accepted
            else:
                rec = load_file(con, item, drop_id=drop.drop_id, version=version)
            files.append(rec)
        _log(con, ctx, drop.drop_id, version, "ingested", None)
    top_coded = sum(item.top_coded for item in checked)
    return DropOutcome(drop.drop_id, version, "ingested", None, None, files, top_coded, erased)


@contextmanager
def _insertion_order_free(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Row order in the history tables carries no meaning (each row keeps its line): letting DuckDB append
    in any order makes the insert of a large file markedly faster. Phase 1 needs file order (ordinals),
    so the setting is undone after the transaction, whatever its outcome."""
    preserve = scalar(con, "ingest/preserve_order_get")
    run(con, "ingest/preserve_order_set", preserve=False)
    try:
        yield
    finally:
        run(con, "ingest/preserve_order_set", preserve=preserve)


def _reject(
    con: duckdb.DuckDBPyConnection,
    ctx: RunContext,
    drop: Drop,
    version: int,
    fingerprint: str,
    rejection: DropRejected,
) -> DropOutcome:
    _insert_version(con, ctx, drop, version, fingerprint, "rejected", ctx.now(), rejection)
    _log(con, ctx, drop.drop_id, version, "rejected", rejection.reason)
    return DropOutcome(drop.drop_id, version, "rejected", rejection.code, rejection.reason, [])


def _insert_version(
    con: duckdb.DuckDBPyConnection,
    ctx: RunContext,
    drop: Drop,
    version: int,
    fingerprint: str,
    status: str,
    at: datetime,
    rejection: DropRejected | None = None,
) -> None:
    """Record a version of the drop with its content fingerprint and outcome (and why, when rejected)."""
    run(
        con,
        "ingest/version_insert",
        drop_id=drop.drop_id,
        version=version,
        content_sha256=fingerprint,
        status=status,
        reason_code=None if rejection is None else rejection.code,
        reason=None if rejection is None else rejection.reason,
        at=at,
        run_id=ctx.run_id,
    )


def _log(
    con: duckdb.DuckDBPyConnection,
    ctx: RunContext,
    drop_id: str,
    version: int | None,
    status: str,
    reason: str | None,
) -> None:
    run(
        con,
        "ingest/log_insert",
        run_id=ctx.run_id,
        at=ctx.now(),
        drop_id=drop_id,
        version=version,
        status=status,
        reason=reason,
    )
