"""Responders (SAP section 3): the MCID rules as a config table, and responder rates with Wilson CIs.

The per-patient flags are computed in SQL (sql/outcomes/pro_changes.sql); here are only the rules as
parameters and the per-group rates.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline import contract
from pipeline.outcomes.built import estimate_with_ci, rows_where, with_rates
from pipeline.outcomes.store import record_parameters, transaction
from pipeline.sql import query
from pipeline.study import Study
from pipeline.warehouse import Built, write_table

ASSET = "responder_rates"


def rule_rows(study: Study) -> list[tuple[str, str, float, bool, int]]:
    """(instrument, rule, threshold, selected, improvement sign) for every MCID rule with a threshold."""
    rows = []
    for m in study.mcid:
        sign = -1 if contract.INSTRUMENTS[m.instrument].lower_is_better else 1
        rows += [(m.instrument, rule, t, rule == m.rule, sign) for rule, t in m.thresholds().items()]
    return rows


def rule_params(study: Study) -> dict[str, list]:
    """rule_rows as the parallel lists sql/outcomes/responder_rules.sql takes."""
    rows = rule_rows(study)
    names = ("instruments", "rules", "thresholds", "selected", "improvement_signs")
    return {name: [r[i] for r in rows] for i, name in enumerate(names)}


def build_responder_rates(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    """outcomes.responder_rates: per arm, instrument, visit and MCID rule, responders / complete pairs."""
    frame = with_rates(query(con, "outcomes/responder_counts"), "responders")
    with transaction(con):
        rows = write_table(con, f"outcomes.{ASSET}", frame)
        record_parameters(con, ASSET, study)
    return Built(ASSET, {f"outcomes.{ASSET}": rows}, responder_headline(frame, study))


def responder_headline(frame: pd.DataFrame, study: Study) -> dict[str, float]:
    """Responder rate and CI of the selected rule at the primary visit, per arm and instrument."""
    out: dict[str, float] = {}
    for r in rows_where(frame, visit=study.primary_visit, selected=True).itertuples():
        out |= estimate_with_ci(f"{r.arm} {r.instrument} responders {r.visit}", r.rate, r.ci_lower, r.ci_upper)
    return out
