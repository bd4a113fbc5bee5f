"""Writing one contract drop atomically and deterministically, and the adapter's side report.

The drop is built in a hidden temporary folder of the landing directory (ingest ignores hidden entries), moved
into place with one rename, and `manifest.json` is written last, so the pipeline never takes a half-written
drop. Rows are sorted and numbers rendered canonically, so the same export and mapping give byte-identical
files; a re-delivery of identical files leaves the folder untouched (ingest then skips it).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipeline import contract

SKIP_REASONS = ("incomplete_form", "unmapped", "no_date", "unresolved_reference", "no_value", "outside_window",
                "not_index_value")


@dataclass
class SourceCount:
    """Reconciliation of one form or resource type: read = written + sum(skipped)."""

    read: int = 0
    written: int = 0
    skipped: Counter = field(default_factory=Counter)

    def add(self, reason: str | None, n: int = 1) -> None:
        self.read += n
        if reason is None:
            self.written += n
        else:
            self.skipped[reason] += n

    def as_dict(self) -> dict:
        return {"read": self.read, "written": self.written,
                "skipped": {r: self.skipped[r] for r in sorted(self.skipped) if self.skipped[r]}}


@dataclass
class Report:
    """What the adapter did, in counts and mapping names only (no data value, id or date)."""

    adapter: str
    sources: dict[str, SourceCount] = field(default_factory=dict)
    never_seen: set[str] = field(default_factory=set)
    not_numeric: Counter = field(default_factory=Counter)  # mapped field -> values dropped as non-numeric
    notes: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    def source(self, name: str) -> SourceCount:
        return self.sources.setdefault(name, SourceCount())

    def balanced(self) -> bool:
        return all(s.read == s.written + sum(s.skipped.values()) for s in self.sources.values())

    def as_dict(self) -> dict:
        return {
            "adapter": self.adapter,
            "rows_written": dict(sorted(self.rows.items())),
            "sources": {k: self.sources[k].as_dict() for k in sorted(self.sources)},
            "reconciled": self.balanced(),
            "mapped_fields_never_seen": sorted(self.never_seen),
            "values_not_numeric": dict(sorted(self.not_numeric.items())),
            "notes": sorted(set(self.notes)),
        }


@dataclass
class Conversion:
    patients: pd.DataFrame
    pro_responses: pd.DataFrame
    events: pd.DataFrame
    report: Report


def _csv_bytes(frame: pd.DataFrame, table: str) -> bytes:
    """The table as contract CSV: distinct rows in a total order (key columns first, days as numbers), empty
    values unquoted, so that the same rows always give the same bytes whatever the export's order. Written by
    DuckDB (a few seconds for millions of rows, where pandas' sort and writer took a minute)."""
    cols = list(contract.COLUMNS[table])
    out = frame.reindex(columns=cols).fillna("").astype(str)
    keys = [c for c in cols if c not in ("value", "unit", "detail")] + [c for c in cols if c in ("value", "unit",
                                                                                                  "detail")]
    order = ", ".join(f'TRY_CAST("{c}" AS BIGINT), "{c}"' if c == "days_from_index" else f'"{c}"' for c in keys)
    select = ", ".join(f'NULLIF("{c}", \'\') AS "{c}"' for c in cols)
    with tempfile.TemporaryDirectory() as tmp, duckdb.connect() as con:
        path = Path(tmp) / f"{table}.csv"
        con.execute("SET enable_progress_bar = false")
        con.register("rows_out", out)
        con.execute(f"COPY (SELECT DISTINCT {select} FROM rows_out ORDER BY {order}) TO '{path}' "
                    "(HEADER, DELIMITER ',', QUOTE '\"', NEW_LINE '\\n')")
        return path.read_bytes()


def drop_files(conv: Conversion) -> dict[str, bytes]:
    return {f"{t}.csv": _csv_bytes(getattr(conv, t), t) for t in contract.TABLES}


def default_drop_id(site: str, adapter: str, files: dict[str, bytes]) -> str:
    digest = hashlib.sha256(b"".join(files[n] for n in sorted(files))).hexdigest()[:12]
    return f"{adapter}_{site}_{digest}"[:64]


def write_drop(conv: Conversion, landing: Path, drop_id: str) -> Path:
    """Place the drop at landing/drop_id (temp folder -> rename -> manifest.json last); returns its folder."""
    if not re.match(contract.DROP_ID_PATTERN, drop_id):
        raise ValueError("--drop-id must match [A-Za-z0-9._-]{1,64}")
    files = drop_files(conv)
    manifest = json.dumps({"contract_version": contract.CONTRACT_VERSION,
                           "files": {n: hashlib.sha256(b).hexdigest() for n, b in sorted(files.items())}},
                          indent=1, sort_keys=True).encode() + b"\n"
    landing.mkdir(parents=True, exist_ok=True)
    final = landing / drop_id
    if final.is_dir() and _same(final, {**files, "manifest.json": manifest}):
        return final  # a re-delivery: identical bytes, nothing to do (ingest skips it)
    tmp = landing / f".{drop_id}.adapter-tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    old = None
    if final.exists():  # a correction under the same drop_id: swap the folders, then remove the old one
        old = landing / f".{drop_id}.adapter-old-{os.getpid()}"
        os.rename(final, old)
    os.rename(tmp, final)
    if old is not None:
        shutil.rmtree(old)
    part = final / ".manifest.json.part"
    part.write_bytes(manifest)
    os.replace(part, final / "manifest.json")
    return final


def _same(folder: Path, files: dict[str, bytes]) -> bool:
    present = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
    if present != set(files):
        return False
    return all((folder / n).read_bytes() == b for n, b in files.items())


def write_report(report: Report, path: Path, drop_id: str) -> None:
    body = {"drop_id": drop_id, **report.as_dict()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=1, sort_keys=False) + "\n", encoding="utf-8")
