"""Where things live, from the environment, with defaults that work in a fresh clone."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# A drop without manifest.json is taken once none of its files (nor its folder) changed for this long
# (data contract: "default 10 s, configurable"). OUTCOMES_SETTLE_SECONDS overrides it; the ingest and the
# new-drop sensor both read it through settle_seconds().
DEFAULT_SETTLE_SECONDS = 10.0


def settle_seconds() -> float:
    """The settling time of drops without manifest.json, from OUTCOMES_SETTLE_SECONDS (default 10 s)."""
    value = os.environ.get("OUTCOMES_SETTLE_SECONDS", "").strip()
    if not value:
        return DEFAULT_SETTLE_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"OUTCOMES_SETTLE_SECONDS must be a number of seconds, not {value!r}") from None
    if not seconds >= 0:
        raise ValueError(f"OUTCOMES_SETTLE_SECONDS must be 0 or more, not {value!r}")
    return seconds


def _path(env: str, default: Path) -> Path:
    value = os.environ.get(env)
    path = Path(value) if value else default
    return path if path.is_absolute() else (REPO_ROOT / path)


@dataclass(frozen=True)
class Settings:
    landing: Path
    warehouse: Path
    reports: Path
    timezone: str

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            landing=_path("OUTCOMES_LANDING", REPO_ROOT / "sample_data" / "landing"),
            warehouse=_path("OUTCOMES_WAREHOUSE", REPO_ROOT / "data" / "warehouse.duckdb"),
            reports=_path("OUTCOMES_REPORTS", REPO_ROOT / "reports" / "site"),
            timezone=os.environ.get("OUTCOMES_TIMEZONE", "UTC"),
        )
