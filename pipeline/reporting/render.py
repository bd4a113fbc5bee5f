"""All files of a refresh: the comparative report with results.json, the data-quality report with
data_quality.json, and the index. Reports are rendered into a pending folder per run and published together
(pipeline/reporting/publish.py: one atomic rename), so a refresh is whole or absent."""

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipeline.reporting import claims as claims_mod
from pipeline.reporting import figures
from pipeline.reporting.common import environment
from pipeline.reporting.comparative import render_comparative
from pipeline.reporting.data_quality import assemble_data_quality, completeness, reason_meanings, site_table
from pipeline.reporting.publish import LATEST, REFRESHES, Published, PublishError, publish
from pipeline.reporting.results_json import assemble_results
from pipeline.reporting.suppression import Suppressor
from pipeline.study import Study

PENDING = ".pending"
REPORT_FILES = ("comparative.html", "results.json", "data_quality.html", "data_quality.json", "overview.html")


@dataclass(frozen=True)
class Rendered:
    files: dict[str, str]
    document: dict[str, Any]


def to_json(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def build_results(con: duckdb.DuckDBPyConnection, study: Study, provenance: dict,
                  claims_file: Path = claims_mod.CLAIMS_FILE) -> dict:
    doc = assemble_results(con, study, provenance)
    # SAP 7: verdicts on the unsuppressed numbers (that document stays in memory), values as published.
    raw = assemble_results(con, study, provenance, suppressor=claims_mod.UNSUPPRESSED)
    doc["claims"] = claims_mod.evaluate(doc, study, claims_mod.return_extras(con, study), claims_file, raw=raw)
    return doc


def render_comparative_files(con: duckdb.DuckDBPyConnection, study: Study, provenance: dict,
                             claims_file: Path = claims_mod.CLAIMS_FILE) -> Rendered:
    doc = build_results(con, study, provenance, claims_file)
    html = render_comparative(con, study, doc, completeness(con, study, Suppressor(study.suppression_threshold)))
    return Rendered({"comparative.html": html, "results.json": to_json(doc)}, doc)


@dataclass(frozen=True)
class StageFailure:
    """A step of the refresh that failed: its stage (asset group) and step, and what that means, in plain words.
    Never the exception's message (it may quote data): at most the exception's type."""

    stage: str
    step: str
    what: str

    def as_dict(self) -> dict[str, str]:
        return {"stage": self.stage, "step": self.step, "what": self.what}


def render_data_quality_files(con: duckdb.DuckDBPyConnection, study: Study, provenance: dict,
                              failures: list[StageFailure] | None = None) -> Rendered:
    dq = assemble_data_quality(con, study, provenance)
    dq["stage_failures"] = [f.as_dict() for f in failures or []]
    s = Suppressor(study.suppression_threshold)
    totals: dict[str, int] = {}
    for d in dq["drops"]:
        for f in d["files"]:
            for code, n in f["quarantine_reasons"].items():
                totals[code] = totals.get(code, 0) + n
    fs = figures.FigureSet()
    visits = [v.name for v in study.visits]
    comp = dq["completeness"]["visits"]
    fig_completeness = fs.html(figures.completeness_lines(comp, study.arms, visits, study.completeness_minimum),
                               "fig-completeness") if comp else None
    fig_trend = fs.html(figures.drop_trend(dq["drops"]), "fig-trend") \
        if any(d["status"] == "ingested" for d in dq["drops"]) else None
    by_cut = dq["completeness_by_cut"]
    fig_cut = fs.html(figures.completeness_by_cut(by_cut, study.arms, visits, study.completeness_minimum),
                      "fig-completeness-cut", height=380) if by_cut else None
    html = environment().get_template("data_quality.html.j2").render(
        title="Spine outcomes: data quality", dq=dq, summary=data_quality_summary(dq), prov=provenance, arms=study.arms,
        sites=site_table(con, study, s), reason_totals=sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])),
        meanings=reason_meanings(), fig_completeness=fig_completeness, fig_trend=fig_trend, fig_cut=fig_cut,
        cut_table=cut_table(by_cut, study.arms, visits), plotlyjs=fs.script)
    return Rendered({"data_quality.html": html, "data_quality.json": to_json(dq)}, dq)


def data_quality_summary(dq: dict) -> list[str]:
    """The first lines a data manager reads: what this refresh did with the delivered rows, and what failed."""
    drops = dq["drops"]
    files = [f for d in drops for f in d["files"]]
    read_, accepted = sum(f["rows_read"] for f in files), sum(f["accepted"] for f in files)
    by_status: dict[str, int] = {}
    for d in drops:
        by_status[d["status"]] = by_status.get(d["status"], 0) + 1
    out = []
    if not drops:
        out.append("No drop was found in the landing folder.")
    else:
        out.append("Drops: " + ", ".join(f"{n} {status}" for status, n in sorted(by_status.items())) + ".")
    if read_ and not accepted:
        out.append(f"Every delivered row was quarantined ({read_} rows read, none accepted): no patient can be "
                   "analysed. The reasons are listed below, per file.")
    elif read_:
        out.append(f"{read_} rows read, {accepted} accepted, {read_ - accepted} quarantined or duplicates.")
    for f in dq.get("stage_failures", []):
        out.append(f"The {f['stage']} stage failed ({f['what']}): the comparative report was not published in "
                   "this refresh; earlier refreshes stay available from the index.")
    return out


def cut_table(rows: list[dict], arms: tuple[str, str], visits: list[str]) -> dict:
    """Completeness after each drop as a table: one column per cut, one row per arm and visit."""
    cuts = sorted({(r["cut"], r["drop_id"]) for r in rows})
    cells = {(r["arm"], r["visit"], r["cut"]): r for r in rows}
    body = []
    for arm in arms:
        for visit in visits:
            line = [cells.get((arm, visit, c)) for c, _ in cuts]
            if any(line):
                body.append({"arm": arm, "visit": visit, "cells": line})
    return {"cuts": [f"{c}: {d}" for c, d in cuts], "rows": body}


def render_index(reports: Path, refresh_ids: list[str]) -> str:
    """index.html: every published refresh, newest first, with the files it holds."""
    rows = []
    for rid in refresh_ids:
        folder = reports / REFRESHES / rid
        present = [f for f in REPORT_FILES if (folder / f).exists()]
        rows.append({"id": rid, "files": present})
    return environment().get_template("index.html.j2").render(refreshes=rows)


def pending_dir(reports: Path, run_id: str) -> Path:
    return reports / PENDING / run_id


def stage(reports: Path, run_id: str, files: dict[str, str]) -> list[Path]:
    """Write rendered files into the run's pending folder (not visible to readers)."""
    folder = pending_dir(reports, run_id)
    out = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            target = folder / name
            tmp = target.with_name(f".{name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
            out.append(target)
    except OSError as exc:
        raise PublishError(
            exc.errno, f"cannot write the reports of run {run_id} under {reports}: {exc.strerror or exc}; "
            "the previous report is unchanged"
        ) from exc
    return out


def publish_pending(reports: Path, run_id: str, refresh_id: str, *, replace: bool = False) -> Published:
    """Publish every file staged by this run as one refresh (atomic), then drop the pending folder."""
    folder = pending_dir(reports, run_id)
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())
             if p.is_file() and not p.name.startswith(".")} if folder.is_dir() else {}
    if not files:
        raise FileNotFoundError(f"no report was rendered by run {run_id}")
    published = publish(reports, refresh_id, files, lambda ids: render_index(reports, ids), replace=replace)
    shutil.rmtree(folder, ignore_errors=True)
    try:
        folder.parent.rmdir()  # the .pending folder, when no other run is rendering
    except OSError:
        pass
    return published


def publish_after_failure(con: duckdb.DuckDBPyConnection, study: Study, provenance: dict, reports: Path,
                          run_id: str, refresh_id: str, failures: list[StageFailure]) -> Published:
    """SAP 9: the data-quality report is published after every refresh, including one whose analyses failed.

    Renders the data-quality report with the failed stages and publishes it, with whatever else the run had
    rendered (the overview; never a comparative report of this run, whose numbers would be incomplete), as the
    run's refresh. A second failure in the same run republishes the refresh with both failures."""
    folder = pending_dir(reports, run_id)
    for name in ("comparative.html", "results.json"):
        (folder / name).unlink(missing_ok=True)
    stage(reports, run_id, render_data_quality_files(con, study, provenance, failures).files)
    return publish_pending(reports, run_id, refresh_id, replace=True)


__all__ = ["LATEST", "Rendered", "StageFailure", "build_results", "publish_after_failure", "publish_pending",
           "render_comparative_files", "render_data_quality_files", "render_index", "stage"]
