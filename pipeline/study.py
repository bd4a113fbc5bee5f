"""The study configuration (pipeline/study.toml): arms, visit windows, horizon, disclosure threshold."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_STUDY_FILE = Path(__file__).with_name("study.toml")


@dataclass(frozen=True)
class Visit:
    name: str
    start: int
    end: int
    target: int


@dataclass(frozen=True)
class Study:
    treatment: str
    comparator: str
    horizon_days: int
    visits: tuple[Visit, ...]
    suppression_threshold: int
    sha256: str

    @property
    def arms(self) -> tuple[str, str]:
        return (self.treatment, self.comparator)

    def visit_rows(self) -> list[tuple[str, int, int, int, int]]:
        """(visit, ordinal, start, end, target) rows, for loading into the warehouse."""
        return [(v.name, i, v.start, v.end, v.target) for i, v in enumerate(self.visits)]


def load_study(path: Path = DEFAULT_STUDY_FILE) -> Study:
    raw = path.read_bytes()
    cfg = tomllib.loads(raw.decode("utf-8"))
    visits = tuple(Visit(v["name"], int(v["start"]), int(v["end"]), int(v["target"])) for v in cfg["visits"])
    _check_windows(visits)
    return Study(
        treatment=cfg["arms"]["treatment"],
        comparator=cfg["arms"]["comparator"],
        horizon_days=int(cfg["horizon"]["days"]),
        visits=visits,
        suppression_threshold=int(cfg["disclosure"]["suppression_threshold"]),
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def _check_windows(visits: tuple[Visit, ...]) -> None:
    for v in visits:
        if not v.start <= v.target <= v.end:
            raise ValueError(f"visit {v.name}: target {v.target} outside its window {v.start}..{v.end}")
    for a, b in zip(visits, visits[1:], strict=False):
        if b.start <= a.end:
            raise ValueError(f"visit windows {a.name} and {b.name} overlap")
