"""Running the sql/ingest_*.sql models with named `$name` parameters (values never go into SQL text)."""

from __future__ import annotations

import re
from typing import Any

import duckdb

from pipeline.sql import load_sql

from .errors import SqlModelError

_COMMENT = re.compile(r"--[^\n]*")
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def _param_names(model: str) -> frozenset[str]:
    return frozenset(_PARAM.findall(_COMMENT.sub("", load_sql(model))))


def run(con: duckdb.DuckDBPyConnection, model: str, **params: Any) -> duckdb.DuckDBPyConnection:
    """Execute one model, passing the parameters it names (DuckDB refuses unused ones).

    A DuckDB error comes out as SqlModelError, which names the model but never repeats DuckDB's message.
    """
    names = _param_names(model)
    missing = names - params.keys()
    if missing:
        raise TypeError(f"SQL model {model} needs parameter(s) {sorted(missing)}")
    sql = load_sql(model)
    try:
        if not names:
            return con.execute(sql)
        return con.execute(sql, {k: params[k] for k in names})
    except duckdb.Error as exc:
        raise SqlModelError(model, exc) from None


def scalar(con: duckdb.DuckDBPyConnection, model: str, **params: Any) -> Any:
    row = run(con, model, **params).fetchone()
    return None if row is None else row[0]
