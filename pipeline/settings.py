"""Where things live, from the environment, with defaults that work in a fresh clone."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


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
