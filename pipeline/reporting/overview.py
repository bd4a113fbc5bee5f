"""The first published page: who is in the warehouse (per arm, site and visit) and how ingest went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pandas as pd

from pipeline.contract import REASON_CODES, public_drop_id
from pipeline.reporting.common import environment
from pipeline.reporting.disclosure import suppress_counts, suppress_table
from pipeline.sql import query
from pipeline.study import Study


@dataclass(frozen=True)
class Overview:
    html: str
    patients_per_arm: dict[str, int]  # unsuppressed: for Dagster metadata about the run, not published


def build_overview(con: duckdb.DuckDBPyConnection, study: Study, provenance: dict[str, str]) -> Overview:
    threshold = study.suppression_threshold
    by_site = query(con, "reporting/patients_by_site_arm")
    site_table = by_site.pivot_table(
        index="site_id", columns="procedure", values="patients", aggfunc="sum", fill_value=0
    ).reindex(columns=list(study.arms), fill_value=0)
    by_visit = query(con, "reporting/patients_by_visit_arm")
    visit_table = by_visit.pivot_table(
        index=["ordinal", "visit"], columns="procedure", values="patients", aggfunc="sum", fill_value=0
    ).reindex(columns=list(study.arms), fill_value=0)
    visit_table.index = visit_table.index.get_level_values("visit")
    recon = query(con, "reporting/reconciliation")
    recon["drop_id"] = recon["drop_id"].map(public_drop_id)
    reasons = query(con, "reporting/quarantine_reasons")
    reasons["meaning"] = reasons["reason_code"].map(REASON_CODES)

    html = environment().get_template("overview.html.j2").render(
        title="Spine outcomes: data overview",
        study=study,
        provenance=provenance,
        sites=_rows(suppress_table(site_table, threshold) if len(site_table) else site_table),
        arms=list(study.arms),
        visits=_rows(visit_table.apply(lambda c: suppress_counts(c, threshold))),
        reconciliation=recon.astype(object).where(recon.notna(), None).to_dict("records"),
        reasons=reasons.to_dict("records"),
        threshold=threshold,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    per_arm = {arm: int(site_table[arm].sum()) if arm in site_table else 0 for arm in study.arms}
    return Overview(html=html, patients_per_arm=per_arm)


def _rows(table: pd.DataFrame) -> list[tuple[str, list]]:
    return [(str(label), list(row)) for label, row in table.iterrows()]
