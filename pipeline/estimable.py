"""Numbers the data cannot give (SAP 9): the reason travels from the analysis that met it to the report.

An analysis that cannot estimate a number (no comparator patients, no events, a model that cannot be fitted)
does not raise out of its asset: it stores what it can, and records the rest here as a `Gap`, with a reason
a researcher understands. The reporting stage turns every gap into `null` plus a `not_estimable` entry of
results.json and a "not estimable: reason" cell of the report. Reasons are fixed phrases chosen by our code;
they never quote data values or library messages (numpy, LAPACK and pandas texts never reach the user).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import duckdb

from pipeline.sql import run

# Phrases every stage uses in the same sense, so a reader meets one wording for one situation.
NO_PATIENTS = "no patients in the analysis population"
NO_REINTERVENTION = "no reintervention events"


def no_patients(arm: str) -> str:
    """The arm is named, as in every stage: "no LAMINECTOMY patients"."""
    return f"no {arm} patients"


def too_few(minimum: int) -> str:
    return f"fewer than {minimum} patients in an arm"


def member(name: str, *keys: str) -> str:
    """Member path of a per-arm (and per-instrument) number: member("pro_change", "MILD") = "pro_change[MILD]"."""
    return name + "".join(f"[{k}]" for k in keys)


def missing_arm(patients: Mapping[str, int], none: str = NO_PATIENTS) -> str | None:
    """Why arms of these sizes ({arm: patients}) lack a side: `none` when no arm has a patient, the first empty
    arm named when one has none, None when every arm has some."""
    empty = [arm for arm, n in patients.items() if n == 0]
    if len(empty) == len(patients):
        return none
    return no_patients(empty[0]) if empty else None


def arms_reason(patients: Mapping[str, int], minimum: int) -> str | None:
    """Why arms of these sizes ({arm: patients}) cannot be compared, or None when they can: every arm must hold
    at least `minimum` patients (the suppression threshold: below it every between-arm number would be
    withheld anyway, SAP 8)."""
    missing = missing_arm(patients)
    if missing is not None:
        return missing
    return too_few(minimum) if min(patients.values()) < minimum else None


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
    for what, reason in con.execute("SELECT what, reason FROM meta.not_estimable ORDER BY asset, what").fetchall():
        seen.setdefault(what, reason)
    return [Gap(w, r) for w, r in seen.items()]
