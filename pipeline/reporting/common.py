"""Small shared helpers: warehouse reads that tolerate absent tables, number cleaning, the Jinja environment."""

import math
from typing import Any

import duckdb
import jinja2
import pandas as pd

from pipeline.settings import REPO_ROOT
from pipeline.sql import scalar

TEMPLATES = REPO_ROOT / "reports" / "templates"


def environment() -> jinja2.Environment:
    """Autoescaping environment: every value from data is HTML-escaped."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["num"] = fmt
    env.filters["pct"] = pct
    env.filters["ci"] = fmt_ci
    env.filters["pci"] = pct_ci
    return env


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".")
    return bool(scalar(con, "reporting/relation_exists", schema=schema, table=name))


def read(con: duckdb.DuckDBPyConnection, qualified: str, where: str = "", params: list | None = None) -> pd.DataFrame:
    """All rows of a warehouse table (empty frame when it does not exist). `qualified` comes from code only."""
    if not table_exists(con, qualified):
        return pd.DataFrame()
    return con.execute(f"SELECT * FROM {qualified} {where}", params or []).df()


def clean(value: Any) -> Any:
    """A JSON-ready scalar: NaN / NA / inf -> None, numpy -> Python."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


SIGNIFICANT_DIGITS = 10


def number(value: Any) -> float | None:
    """A published float, rounded to 10 significant digits: far below any reported precision, and above the
    last-bit noise of parallel aggregation, so a rerun on the same data publishes identical files."""
    v = clean(value)
    return None if v is None else float(f"{float(v):.{SIGNIFICANT_DIGITS}g}")


def count(value: Any) -> int | None:
    v = clean(value)
    return None if v is None else int(v)


def interval(lower: Any, upper: Any) -> list[float] | None:
    lo, hi = number(lower), number(upper)
    return None if lo is None or hi is None else [lo, hi]


def fmt(value: Any, digits: int = 1) -> str:
    if isinstance(value, str):
        return value
    v = number(value)
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def pct(value: Any, digits: int = 1) -> str:
    if isinstance(value, str):
        return value
    v = number(value)
    return "–" if v is None else f"{100 * v:.{digits}f}%"


def fmt_ci(ci: Any, digits: int = 1) -> str:
    if not ci:
        return "–"
    return f"{fmt(ci[0], digits)} to {fmt(ci[1], digits)}"


def pct_ci(ci: Any, digits: int = 1) -> str:
    if not ci:
        return "–"
    return f"{pct(ci[0], digits)} to {pct(ci[1], digits)}"
