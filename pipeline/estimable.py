"""Numbers the data cannot give (SAP 9): the reason travels from the analysis that met it to the report.

An analysis that cannot estimate a number (no comparator patients, no events, a model that cannot be fitted)
does not raise out of its asset: it stores what it can, and records the rest here as a `Gap`, with a reason
a researcher understands. The reporting stage turns every gap into `null` plus a `not_estimable` entry of
results.json and a "not estimable: reason" cell of the report. Reasons are fixed phrases chosen by our code;
they never quote data values or library messages (numpy, LAPACK and pandas texts never reach the user).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from pipeline.sql import run


class NotEstimable(Exception):
    """Raised inside an analysis when its number cannot be estimated; `reason` is plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Gap:
    """One number that could not be estimated. `what` is its results.json member path
    (e.g. "reintervention.cox_hr"; a per-arm member adds the arm: "reintervention.km[LAMINECTOMY]")."""

    what: str
    reason: str


def record_gaps(con: duckdb.DuckDBPyConnection, asset: str, gaps: Iterable[Gap]) -> None:
    """Replace the gaps recorded by `asset` with `gaps` (an asset that estimates everything records none)."""
    run(con, "meta/not_estimable_schema")
    run(con, "meta/not_estimable_clear", asset=asset)
    rows = sorted({(g.what, g.reason) for g in gaps})
    if rows:
        run(con, "meta/not_estimable_insert", asset=asset, whats=[w for w, _ in rows], reasons=[r for _, r in rows])


def read_gaps(con: duckdb.DuckDBPyConnection) -> list[Gap]:
    """Every recorded gap, one per member path (the first reason, in asset order, when two assets agree)."""
    run(con, "meta/not_estimable_schema")
    seen: dict[str, str] = {}
    for what, reason in run(con, "meta/not_estimable_read").fetchall():
        seen.setdefault(what, reason)
    return [Gap(w, r) for w, r in seen.items()]
