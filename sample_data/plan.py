"""Which rows go into which drop, the extra rows of later deliveries (verbatim repeats, corrections) and
what ingest must make of every row (expected_ingest)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline import contract
from sample_data import model as M
from sample_data.cohort import Cohort
from sample_data.followup import FollowUp
from sample_data.tables import event_row, patient_row, pro_row

ODI = list(contract.INSTRUMENTS).index("ODI")
REPEAT_SHARE = 0.0005  # of a drop's rows repeated verbatim by the next delivery of the site
CORRECTED_SITES = 2  # the first sites re-deliver one patient row and one ODI row with a corrected value


@dataclass
class Extra:
    """A row added to a drop besides its clean rows, and what ingest must do with it."""

    table: str
    values: dict[str, object]  # column -> str | float | None, or defects.Raw (written verbatim)
    outcome: str  # "accepted", "duplicate" or a contract.REASON_CODES key
    defect: str = ""  # what was planted ("repeat", "correction", "phone", "odi_130", ...)
    supersedes: int = 0  # rows of earlier drops this row replaces


@dataclass
class Drop:
    k: int  # delivery (0-based)
    site: int
    drop_id: str
    parquet: bool
    patients: np.ndarray  # clean patient rows: global patient indices, in file order
    rows: dict[str, slice]  # clean rows of pro_responses and events in the sorted arrays
    extras: list[Extra] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)  # raw lines appended to pro_responses.csv
    used: dict[str, set[int]] = field(default_factory=lambda: {t: set() for t in contract.TABLES})
    # Which clean pro_responses rows are written (False: a visit missed not at random, see
    # pros.make_pros). Random draws that pick or place rows use every clean row (n_clean), so that they
    # are the same under both missingness mechanisms; the files and counts use the written ones.
    pro_written: np.ndarray | None = None

    def file(self, table: str) -> str:
        return f"{table}.{'parquet' if self.parquet else 'csv'}"

    def n_clean(self, table: str) -> int:
        if table == "patients":
            return int(self.patients.size)
        r = self.rows[table]
        return r.stop - r.start

    def n_written(self, table: str) -> int:
        if table == "pro_responses" and self.pro_written is not None:
            return int(self.pro_written.sum())
        return self.n_clean(table)

    def written(self, table: str, pos: int) -> bool:
        return table != "pro_responses" or self.pro_written is None or bool(self.pro_written[pos])

    def written_rows(self, table: str) -> slice | np.ndarray:
        """Rows of the sorted arrays written to the drop's file (a slice or indices)."""
        r = self.rows[table]
        if table == "pro_responses" and self.pro_written is not None:
            return r.start + np.flatnonzero(self.pro_written)
        return r


def make_drops(cohort: Cohort, fu: FollowUp, pro: dict[str, np.ndarray], ev: dict[str, np.ndarray],
               parquet_sites: set[str]) -> list[Drop]:
    """One drop per delivery and site, in drop_id order; pro and ev must be sorted by sort_rows."""
    drops = []
    keys = {t: c["delivery"].astype(np.int64) * len(M.SITES) + cohort.site[c["pid"]]
            for t, c in (("pro_responses", pro), ("events", ev))}
    for k, cut in enumerate(fu.cuts):
        for s, site in enumerate(M.SITES):
            index = k * len(M.SITES) + s
            rows = {t: slice(int(np.searchsorted(key, index, "left")),
                             int(np.searchsorted(key, index, "right"))) for t, key in keys.items()}
            patients = np.flatnonzero((cohort.site == s) & (fu.enrol == k))
            drops.append(Drop(k=k, site=s, drop_id=f"{cut.isoformat()}_{site}", parquet=site in parquet_sites,
                              patients=patients, rows=rows,
                              pro_written=pro["delivered"][rows["pro_responses"]] if "delivered" in pro else None))
    return drops


def _pick(rng: np.random.Generator, drop: Drop, table: str, count: int, ok=None) -> list[int]:
    """Up to `count` positions of clean rows of a drop not used for another purpose (and passing ok)."""
    n = drop.n_clean(table)
    chosen: list[int] = []
    for pos in rng.choice(n, size=min(n, max(4 * count, 50)), replace=False):
        pos = int(pos)
        if pos in drop.used[table] or not drop.written(table, pos) or (ok is not None and not ok(pos)):
            continue
        chosen.append(pos)
        drop.used[table].add(pos)
        if len(chosen) == count:
            break
    return chosen


def _row(cohort: Cohort, delivered, pro, ev, drop: Drop, table: str, pos: int) -> dict[str, object]:
    if table == "patients":
        return patient_row(cohort, delivered, int(drop.patients[pos]))
    arrays = pro if table == "pro_responses" else ev
    getter = pro_row if table == "pro_responses" else event_row
    return getter(cohort, arrays, drop.rows[table].start + pos)


def add_repeats_and_corrections(rng: np.random.Generator, drops: list[Drop], cohort: Cohort,
                                delivered: dict[str, np.ndarray], pro: dict[str, np.ndarray],
                                ev: dict[str, np.ndarray]) -> None:
    """Later deliveries repeat a few rows of the previous one verbatim (duplicates), correct a value or
    two (same key, new value: they supersede), and every delivery repeats a row within a file."""
    by_key = {(d.k, d.site): d for d in drops}

    def plain(d: Drop, table: str):
        """Rows safe to repeat: not a patient whose age ingest top-codes (the held row differs then)."""
        if table != "patients":
            return None
        return lambda pos: delivered["age_at_index"][d.patients[pos]] <= contract.AGE_TOP_CODE

    def with_bmi(pos: int, d: Drop) -> bool:
        pid = d.patients[pos]
        return delivered["age_at_index"][pid] <= contract.AGE_TOP_CODE and not np.isnan(delivered["bmi"][pid])

    def post_odi(pos: int, d: Drop) -> bool:
        i = d.rows["pro_responses"].start + pos
        return pro["instrument"][i] == ODI and pro["day"][i] > 0

    for drop in drops:
        prev = by_key.get((drop.k - 1, drop.site))
        if prev is None:
            continue
        if drop.site < CORRECTED_SITES:
            # The earlier drop carried a wrong value; this one brings the generated (true) value.
            for pos in _pick(rng, prev, "patients", 1, lambda p, d=prev: with_bmi(p, d)):
                pid = int(prev.patients[pos])
                drop.extras.append(Extra("patients", patient_row(cohort, delivered, pid), "accepted",
                                         "correction", supersedes=1))
                delivered["bmi"][pid] = round(delivered["bmi"][pid] + 2.5, 1)
            for pos in _pick(rng, prev, "pro_responses", 1, lambda p, d=prev: post_odi(p, d)):
                i = prev.rows["pro_responses"].start + pos
                drop.extras.append(Extra("pro_responses", pro_row(cohort, pro, i), "accepted", "correction",
                                         supersedes=1))
                v = pro["value"][i]
                pro["value"][i] = v + 8 if v + 8 <= 100 else v - 8
        for table in contract.TABLES:
            count = 2 if table == "patients" else max(2, round(REPEAT_SHARE * prev.n_clean(table)))
            for pos in _pick(rng, prev, table, count, plain(prev, table)):
                row = _row(cohort, delivered, pro, ev, prev, table, pos)
                drop.extras.append(Extra(table, row, "duplicate", "repeat"))
    for k in sorted({d.k for d in drops}):
        candidates = [d for d in drops if d.k == k]
        for table in contract.TABLES:
            usable = [d for d in candidates if d.n_clean(table) > 0]
            if not usable:
                continue
            drop = usable[int(rng.integers(0, len(usable)))]
            for pos in _pick(rng, drop, table, 1, plain(drop, table)):
                row = _row(cohort, delivered, pro, ev, drop, table, pos)
                drop.extras.append(Extra(table, row, "duplicate", "within_file_repeat"))


def place_extras(rng: np.random.Generator, drop: Drop,
                 table: str) -> tuple[list[Extra], np.ndarray, np.ndarray]:
    """Random positions among the clean rows: returns the extras in file order, their insertion positions
    (number of clean rows before them) and their 1-based record numbers (CSV line = record + 1)."""
    extras = [e for e in drop.extras if e.table == table]
    n = drop.n_clean(table)
    pos = np.sort(rng.integers(0, n + 1, len(extras)))
    order = rng.permutation(len(extras))  # which extra lands at which sorted position
    if table == "pro_responses" and drop.pro_written is not None:  # count written rows only
        pos = np.concatenate([[0], np.cumsum(drop.pro_written)])[pos]
    placed = [extras[i] for i in order]
    records = pos + np.arange(len(extras)) + 1
    return placed, pos, records


def expected_counts(drop: Drop, table: str, placed: list[Extra], records: np.ndarray) -> tuple[dict, list]:
    """Reconciliation of one file, and its quarantined rows as [line, reason, defect] where line numbers
    records as ingest.quarantine does: the header is line 1, the first data record line 2 (Parquet too)."""
    n = drop.n_written(table)
    reasons = dict.fromkeys(contract.REASON_CODES, 0)
    accepted, duplicates, superseded, lines = n, 0, 0, []
    for extra, record in zip(placed, records, strict=True):
        if extra.outcome == "accepted":
            accepted += 1
            superseded += extra.supersedes
        elif extra.outcome == "duplicate":
            duplicates += 1
        else:
            reasons[extra.outcome] += 1
            lines.append([int(record) + 1, extra.outcome, extra.defect])
    total = n + len(placed)
    if table == "pro_responses":
        for j, _ in enumerate(drop.malformed):
            reasons["malformed_row"] += 1
            lines.append([total + j + 2, "malformed_row", "extra_field"])
        total += len(drop.malformed)
    counts = {"rows_read": total, "accepted": accepted, "duplicates": duplicates, "superseded": superseded,
              "quarantined": reasons, "top_coded_ages": 0}
    return counts, lines


def top_coded(drop: Drop, delivered: dict[str, np.ndarray]) -> int:
    return int((delivered["age_at_index"][drop.patients] > contract.AGE_TOP_CODE).sum())
