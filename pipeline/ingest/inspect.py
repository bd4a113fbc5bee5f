"""Drop-level checks that need no transaction: file set, manifest, checksums, readability, column names.

Each failure raises DropRejected with a reason that names files and column positions, never a data value
or a column name that may itself be one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.contract import CONTRACT_VERSION, identifier_column_word
from pipeline.sql import SqlModelError, run

from .discover import Drop
from .errors import DropRejected
from .scan import FileScan, read_csv_header, scan_file
from .tables import KNOWN_FILES, MANIFEST, SPECS, TableSpec

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class FilePlan:
    """A table file that passed the drop-level checks, and how to read it."""

    spec: TableSpec
    file: str
    path: Path
    fmt: str  # 'csv' | 'parquet'
    scan: FileScan
    names: tuple[str, ...]  # column names as delivered, by position

    def csv_columns(self) -> dict[str, str]:
        """DuckDB read_csv `columns`: contract columns under their name, any other column as _x<position>.

        The synthetic names avoid clashes (DuckDB names are case-insensitive, delivered ones are not).
        """
        return {n if n in self.spec.columns else f"_x{i}": "VARCHAR" for i, n in enumerate(self.names)}


def inspect_drop(con: duckdb.DuckDBPyConnection, drop: Drop, scans: dict[str, FileScan]) -> list[FilePlan]:
    """The files to apply, in application order; raises DropRejected on the first drop-level fault.

    Order of the checks: drop id, file set (ambiguous, then missing), manifest, checksums, readability,
    identifier-like column names (in any file), missing columns.
    """
    if not drop.valid_id:
        raise DropRejected(
            "invalid_drop_id", "the folder name does not match the drop id pattern [A-Za-z0-9._-]{1,64}"
        )
    chosen: list[tuple[TableSpec, str]] = []
    for spec in SPECS:
        csv_name, parquet_name = spec.file_names()
        if csv_name in drop.files and parquet_name in drop.files:
            raise DropRejected(
                "ambiguous_format", f"{spec.name} is given both as {csv_name} and as {parquet_name}"
            )
    for spec in SPECS:
        present = [n for n in spec.file_names() if n in drop.files]
        if present:
            chosen.append((spec, present[0]))
        elif spec.required:
            csv_name, parquet_name = spec.file_names()
            raise DropRejected("missing_file", f"{csv_name} (or {parquet_name}) is missing")
    if MANIFEST in drop.files:
        _check_manifest(drop, scans)
    plans = [_plan(con, spec, name, drop.files[name], scans[name]) for spec, name in chosen]
    for plan in plans:
        for position, column in enumerate(plan.names, start=1):
            word = identifier_column_word(column)
            if word is not None:
                raise DropRejected(
                    "identifier_column",
                    f"column {position} of {plan.file} is named like a direct identifier ({word})",
                )
    for plan in plans:
        missing = [c for c in plan.spec.columns if c not in plan.names]
        if missing:
            raise DropRejected("missing_column", f"{plan.file} lacks the column(s) {', '.join(missing)}")
        duplicated = sorted({c for c in plan.spec.columns if plan.names.count(c) > 1})
        if duplicated:
            raise DropRejected(
                "unreadable_file", f"the header of {plan.file} names {', '.join(duplicated)} more than once"
            )
    return plans


def _check_manifest(drop: Drop, scans: dict[str, FileScan]) -> None:
    try:
        manifest = json.loads(drop.files[MANIFEST].read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise DropRejected("bad_manifest", "manifest.json is not valid UTF-8 JSON") from None
    if not isinstance(manifest, dict):
        raise DropRejected("bad_manifest", "manifest.json is not a JSON object")
    if manifest.get("contract_version") != CONTRACT_VERSION:
        raise DropRejected(
            "bad_manifest", f'manifest.json does not declare "contract_version": "{CONTRACT_VERSION}"'
        )
    files = manifest.get("files", {})
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and _HEX64.fullmatch(v) for k, v in files.items()
    ):
        raise DropRejected("bad_manifest", 'manifest.json "files" must map file names to SHA-256 hex digests')
    for position, (name, digest) in enumerate(files.items(), start=1):
        if name == MANIFEST:
            continue  # a file cannot hold its own digest
        # Contract file names are echoed; any other listed name is referred to by its position.
        label = name if name in KNOWN_FILES else f"the file of entry {position} of manifest.json"
        if name in drop.files:
            actual = scans[name].sha256
        elif name in drop.others:
            actual = scan_file(drop.others[name], text=False).sha256
        else:
            raise DropRejected("checksum_mismatch", f"manifest.json lists {label}, which is not in the drop")
        if actual != digest.lower():
            raise DropRejected("checksum_mismatch", f"{label} does not match its SHA-256 in manifest.json")


def _plan(con: duckdb.DuckDBPyConnection, spec: TableSpec, name: str, path: Path, scan: FileScan) -> FilePlan:
    if name.endswith(".parquet"):
        try:
            names = [row[0] for row in run(con, "ingest/parquet_columns", path=str(path)).fetchall()]
        except SqlModelError as exc:
            if exc.is_bug:
                raise
            raise DropRejected("unreadable_file", f"{name} cannot be read as Parquet") from None
        return FilePlan(spec, name, path, "parquet", scan, tuple(names))
    if scan.problem:
        raise DropRejected("unreadable_file", scan.problem)
    header = read_csv_header(path)
    if not header:
        raise DropRejected("unreadable_file", f"{name} has no header row")
    return FilePlan(spec, name, path, "csv", scan, tuple(header))
