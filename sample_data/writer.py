"""Writing a drop's files with DuckDB (CSV or Parquet) and its manifest.

Clean rows come as typed pandas frames (Categoricals for strings) and are formatted by DuckDB, which is
fast and never prints a float as 45.0000001; the few extra rows go through the same SQL, so a verbatim
repeat is byte-identical to the row it repeats. Missing values are NULL and written as empty fields.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline import contract
from sample_data.defects import Raw
from sample_data.plan import Extra
from sample_data.tables import kind

_PARQUET_TYPES = {"int": "INTEGER", "float": "DOUBLE", "str": "VARCHAR"}


def _csv_expr(column: str, source: str) -> str:
    if kind(column) == "int":
        return f"CAST(CAST({source} AS BIGINT) AS VARCHAR)"
    if kind(column) == "float":
        # Whole numbers without ".0" (ODI 45, not 45.0); others in DuckDB's shortest round-trip form.
        return (f"CASE WHEN {source} = trunc({source}) THEN CAST(CAST({source} AS BIGINT) AS VARCHAR) "
                f"ELSE CAST({source} AS VARCHAR) END")
    return f"CAST({source} AS VARCHAR)"


def _extras_frame(table: str, extras: list[Extra], positions: np.ndarray) -> pd.DataFrame:
    data: dict[str, object] = {}
    for column in contract.COLUMNS[table]:
        values = [e.values.get(column) for e in extras]
        raw = [v if isinstance(v, Raw) else None for v in values]
        if kind(column) == "str":
            data[column] = pd.Series(values, dtype=object)
        else:
            data[column] = np.array([np.nan if v is None or isinstance(v, Raw) else float(v) for v in values],
                                    dtype=np.float64)
        data[f"raw_{column}"] = pd.Series(raw, dtype=object)
    data["_ord"] = 2 * positions.astype(np.int64) - 1
    data["_sub"] = np.arange(len(extras), dtype=np.int64) + 1
    return pd.DataFrame(data)


def write_table(con: duckdb.DuckDBPyConnection, path: Path, table: str, site_id: str, clean: pd.DataFrame,
                extras: list[Extra], positions: np.ndarray, parquet: bool) -> None:
    """Clean rows in order, each extra inserted before the clean row at its position."""
    clean = clean.assign(_ord=2 * np.arange(len(clean), dtype=np.int64), _sub=np.zeros(len(clean), np.int64))
    extra_df = _extras_frame(table, extras, positions)
    if parquet and any(extra_df[c].notna().any() for c in extra_df.columns if c.startswith("raw_")):
        raise ValueError("a value of the wrong type cannot be written to a typed Parquet column")
    con.register("clean_rows", clean)
    con.register("extra_rows", extra_df)
    clean_cols, extra_cols = [], []
    for column in contract.COLUMNS[table]:
        quoted = f'"{column}"'
        source = f"'{site_id}'" if column == "site_id" else quoted
        if parquet:
            sql_type = _PARQUET_TYPES[kind(column)]
            clean_cols.append(f"CAST({source} AS {sql_type}) AS {quoted}")
            extra_cols.append(f"CAST({quoted} AS {sql_type}) AS {quoted}")
        else:
            clean_cols.append(f"{_csv_expr(column, source)} AS {quoted}")
            extra_cols.append(f'COALESCE("raw_{column}", {_csv_expr(column, quoted)}) AS {quoted}')
    names = ", ".join(f'"{c}"' for c in contract.COLUMNS[table])
    query = (f"SELECT {names} FROM (SELECT {', '.join(clean_cols)}, _ord, _sub FROM clean_rows "
             f"UNION ALL SELECT {', '.join(extra_cols)}, _ord, _sub FROM extra_rows) ORDER BY _ord, _sub")
    options = "FORMAT parquet" if parquet else "FORMAT csv, HEADER, DELIMITER ','"
    con.execute(f"COPY ({query}) TO '{path.as_posix()}' ({options})")
    con.unregister("clean_rows")
    con.unregister("extra_rows")


def append_lines(path: Path, lines: list[str]) -> None:
    with path.open("a", encoding="utf-8", newline="") as handle:
        for line in lines:
            handle.write(line + "\n")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path, files: list[str]) -> None:
    manifest = {"contract_version": contract.CONTRACT_VERSION,
                "files": {name: sha256(folder / name) for name in sorted(files)}}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
