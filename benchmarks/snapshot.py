"""Fingerprint of a refresh's outputs, to prove that a change of code left every number where it was.

    python -m benchmarks.snapshot --warehouse data/warehouse.duckdb --reports reports/site/latest --out A.json
    python -m benchmarks.snapshot --compare A.json B.json

Every warehouse table (all schemas) is read in a canonical order and hashed, with doubles written to 12
significant digits (far below any published precision, above last-bit noise of a changed summation order) and
the columns that name a run or a moment left out (TIMESTAMP columns, run_id), and the SQL fingerprints of the
incremental builds' state (a hash of the code, not of the data). results.json and
data_quality.json are compared member by member, without their provenance (run id, time, code version).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import duckdb

RUN_SPECIFIC = {"run_id", "code_version", "generated_at"}
# Derived from the code, not from the data: the incremental builds' hash of the SQL texts they ran.
CODE_SPECIFIC = {("staging", "build_state", "fingerprint"), ("outcomes", "build_state", "fingerprint")}


def _value(v: object) -> str:
    if isinstance(v, float):
        return format(v, ".12g")
    return repr(v)


def table_fingerprints(warehouse: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('information_schema', 'pg_catalog') "
            "ORDER BY ALL").fetchall()
        for schema, name in tables:
            cols = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position", [schema, name]).fetchall()
            keep = [c for c, t in cols if not t.startswith("TIMESTAMP") and c not in RUN_SPECIFIC
                    and (schema, name, c) not in CODE_SPECIFIC]
            if not keep:
                continue
            select = ", ".join(f'"{c}"' for c in keep)
            rows = con.execute(f'SELECT {select} FROM "{schema}"."{name}"').fetchall()
            lines = sorted("\t".join(_value(v) for v in row) for row in rows)
            digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
            out[f"{schema}.{name}"] = {"rows": len(rows), "columns": keep, "sha256": digest}
    return out


def _without_provenance(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "provenance"} | {
        "provenance": {k: v for k, v in doc.get("provenance", {}).items() if k not in RUN_SPECIFIC}}


def snapshot(warehouse: Path, reports: Path) -> dict:
    docs = {name: _without_provenance(json.loads((reports / name).read_text()))
            for name in ("results.json", "data_quality.json") if (reports / name).is_file()}
    return {"tables": table_fingerprints(warehouse), "documents": docs}


def compare(a: dict, b: dict) -> list[str]:
    out = []
    for name in sorted(set(a["tables"]) | set(b["tables"])):
        ta, tb = a["tables"].get(name), b["tables"].get(name)
        if ta != tb:
            out.append(f"table {name}: {'absent' if ta is None else ta['rows']} rows before, "
                       f"{'absent' if tb is None else tb['rows']} after" + ("" if not (ta and tb) else
                       f"; columns {'same' if ta['columns'] == tb['columns'] else 'differ'}"))
    for name in sorted(set(a["documents"]) | set(b["documents"])):
        if a["documents"].get(name) != b["documents"].get(name):
            out.append(f"document {name} differs")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path)
    parser.add_argument("--reports", type=Path, help="a published refresh folder (e.g. reports/site/latest)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args(argv)
    if args.compare:
        before, after = (json.loads(p.read_text()) for p in args.compare)
        differences = compare(before, after)
        print("\n".join(differences) if differences else
              f"identical: {len(after['tables'])} tables and {len(after['documents'])} documents")
        return 1 if differences else 0
    args.out.write_text(json.dumps(snapshot(args.warehouse, args.reports), indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
