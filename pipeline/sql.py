"""SQL models live in sql/*.sql, are read by name and run by `run`/`scalar`/`query`; values always travel as
named `$name` parameters, never in the SQL text."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import duckdb
import pandas as pd

from pipeline.settings import REPO_ROOT

SQL_DIR = REPO_ROOT / "sql"

_COMMENT = re.compile(r"--[^\n]*")
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class SqlModelError(duckdb.Error):
    """A DuckDB error in a named SQL model. Only the model and the error type are kept: DuckDB messages
    may quote the data (a value that failed a cast, the text of a CSV line).

    The error raised is also an instance of DuckDB's own class (see `_wrapped`), so that a caller expecting,
    say, a missing table still catches duckdb.CatalogException.
    """

    def __init__(self, model: str, error: duckdb.Error) -> None:
        super().__init__(f"SQL model {model} failed ({type(error).__name__})")
        self.model = model
        self.error_type = type(error)

    @property
    def is_bug(self) -> bool:
        """The SQL itself is wrong (it does not bind or parse), whatever the data."""
        return issubclass(
            self.error_type, (duckdb.BinderException, duckdb.CatalogException, duckdb.ParserException)
        )


@cache
def _error_class(error_type: type[duckdb.Error]) -> type[SqlModelError]:
    return type(f"SqlModel{error_type.__name__}", (SqlModelError, error_type), {})


def _wrapped(name: str, error: duckdb.Error) -> SqlModelError:
    return _error_class(type(error))(name, error)


@cache
def load_sql(name: str) -> str:
    """Text of sql/<name>.sql."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL model named {name!r} (looked for {path})")
    return path.read_text(encoding="utf-8")


@cache
def param_names(name: str) -> frozenset[str]:
    """The `$name` parameters that sql/<name>.sql uses (comments left out)."""
    return frozenset(_PARAM.findall(_COMMENT.sub("", load_sql(name))))


def run_as(con: duckdb.DuckDBPyConnection, statement: str, name: str, /, **params: Any
           ) -> duckdb.DuckDBPyConnection:
    """Execute sql/<name>.sql preceded by `statement`, a fixed SQL prefix such as
    `CREATE OR REPLACE TABLE staging.events AS` (identifiers from the code only, never a value).

    Only the parameters the model names are passed: DuckDB refuses unused ones. A DuckDB error comes out as
    SqlModelError, which names the model but never repeats DuckDB's message.
    """
    names = param_names(name)
    missing = names - params.keys()
    if missing:
        raise TypeError(f"SQL model {name} needs parameter(s) {sorted(missing)}")
    sql = f"{statement} {load_sql(name)}" if statement else load_sql(name)
    try:
        if not names:
            return con.execute(sql)
        return con.execute(sql, {k: params[k] for k in names})
    except duckdb.Error as exc:
        raise _wrapped(name, exc) from None


def run(con: duckdb.DuckDBPyConnection, name: str, /, **params: Any) -> duckdb.DuckDBPyConnection:
    """Execute sql/<name>.sql with the named parameters it uses (see run_as)."""
    return run_as(con, "", name, **params)


def scalar(con: duckdb.DuckDBPyConnection, name: str, /, **params: Any) -> Any:
    """The first column of the first row of sql/<name>.sql, or None when it returns no row."""
    row = run(con, name, **params).fetchone()
    return None if row is None else row[0]


def query(con: duckdb.DuckDBPyConnection, name: str, /, **params: Any) -> pd.DataFrame:
    """The result of sql/<name>.sql as a DataFrame."""
    return run(con, name, **params).df()
