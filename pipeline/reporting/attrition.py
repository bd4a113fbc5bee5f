"""Attrition (SAP section 1) for the comparative report: the flow and the same per site, with disclosure
control (small cells, complementary suppression through the tables' totals)."""

from typing import Any

import duckdb
import pandas as pd

from pipeline.reporting.common import table_exists
from pipeline.reporting.suppression import Suppressor
from pipeline.sql import query
from pipeline.study import Study


def attrition(con: duckdb.DuckDBPyConnection, study: Study, s: Suppressor, by_site: dict | None = None) -> dict:
    """The flow. Other procedure and analysed per arm are the totals row of the per-site table (`by_site`), so
    they share its suppression; patients accepted = other + analysed, so it is withheld when "other" is."""
    rows = query(con, "reporting/attrition") if table_exists(con, "ingest.drop_files") else pd.DataFrame()
    out: dict[str, Any] = {"read": None, "quarantined": [], "accepted": None, "other": None, "analysed": {}}
    for r in rows.itertuples():
        if r.step == "patient_rows_read":
            out["read"] = s.count(r.n)
        elif r.step == "patient_rows_quarantined":
            out["quarantined"].append((r.detail, s.count(r.n)))
        elif r.step == "patients_accepted":
            out["accepted"] = s.count(r.n)
        elif r.step == "patients_other_procedure":
            out["other"] = s.count(r.n)
        elif r.step == "patients_analysed":
            out["analysed"][r.detail] = s.count(r.n)
    # UNION ALL has no order: fix it here so that a rerun publishes the same page.
    out["quarantined"].sort()
    out["analysed"] = {arm: out["analysed"].get(arm, 0) for arm in study.arms}
    totals = next((r["cells"] for r in (by_site or {}).get("rows", []) if r["site"] == "Total"), None)
    if totals is not None:  # cells: read, quarantined, other, one per arm, analysed
        out["other"] = totals[2]
        out["analysed"] = dict(zip(study.arms, totals[3:3 + len(study.arms)], strict=True))
    if out["other"] == s.mark:  # accepted = other + analysed would reveal the hidden "other"
        out["accepted"] = s.mark
    ex = query(con, "reporting/durable_exclusions") \
        if table_exists(con, "durability.durable_response_dataset") else pd.DataFrame()
    out["durable_excluded"] = [(r.arm, r.exclusion, s.count(r.patients)) for r in ex.itertuples()]
    return out


def attrition_by_site(con: duckdb.DuckDBPyConnection, study: Study, s: Suppressor) -> dict:
    """Attrition per site (SAP 1) with disclosure control. Analysed patients per arm form one table with its
    totals (the same cells as the data-quality report's site table), through complementary suppression;
    patients with another procedure, records read and records quarantined are each a column with its total,
    suppressed on their own. Patients accepted per site (= other + analysed) is not shown: with the other
    cells published it would reveal a hidden "other" count (the flow shows the overall number)."""
    if not (table_exists(con, "ingest.drop_file_sites") and table_exists(con, "staging.patients")):
        return {"columns": [], "rows": []}
    t = query(con, "reporting/attrition_by_site")
    sites = sorted(t["site"].unique())

    def matrix(step: str, columns: list[str]) -> pd.DataFrame:
        part = t[t["step"] == step].assign(detail=lambda x: x["detail"].fillna("n"))
        wide = part.pivot_table(index="site", columns="detail", values="n", aggfunc="sum", fill_value=0)
        return wide.reindex(index=sites, columns=columns, fill_value=0).astype(int)

    read_ = s.table(matrix("patient_rows_read", ["n"]))
    quarantined = s.table(matrix("patient_rows_quarantined", ["n"]))
    other = s.table(matrix("patients", ["other"]))
    analysed = s.table(matrix("patients", list(study.arms)))
    rows = [{"site": site, "cells": [read_.loc[site, "n"], quarantined.loc[site, "n"], other.loc[site, "other"],
                                     *[analysed.loc[site, arm] for arm in study.arms], analysed.loc[site, "Total"]]}
            for site in [*sites, "Total"]]
    columns = ["Patient records read", "Records quarantined", "Other procedure (excluded)",
               *[f"Analysed {arm}" for arm in study.arms], "Analysed"]
    return {"columns": columns, "rows": rows}
