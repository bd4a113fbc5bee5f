"""SQL models live in sql/*.sql and are read by name; values always travel as `?` parameters."""

from __future__ import annotations

from functools import cache

from pipeline.settings import REPO_ROOT

SQL_DIR = REPO_ROOT / "sql"


@cache
def load_sql(name: str) -> str:
    """Text of sql/<name>.sql."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL model named {name!r} (looked for {path})")
    return path.read_text(encoding="utf-8")
