"""The subgroup forest rows of the report and results.json `subgroups` (SAP 6), one function so that the page
and the file agree: estimate and CI withheld when an arm of the level is small (or, for the HR, an arm's events
are); the interaction p-value of a pair of levels withheld unless both of its levels are shown (it is
computed from both estimates). Subgroups are exploratory: no multiplicity adjustment."""

import duckdb
import pandas as pd

from pipeline.reporting.common import interval, number, read
from pipeline.reporting.suppression import Suppressor

EXPLORATORY = "Exploratory, no multiplicity adjustment"


def subgroup_rows(con: duckdb.DuckDBPyConnection, s: Suppressor) -> list[dict]:
    t = read(con, "comparison.subgroups")
    out = []
    for r in t.itertuples() if len(t) else []:
        ok = not s.small(r.n_treatment) and not s.small(r.n_comparator)
        if r.measure == "hazard_ratio":  # as in the differences table: few events in an arm withhold the HR
            ok = ok and all(not pd.isna(e) and not s.small(e) for e in (r.events_treatment, r.events_comparator))
        out.append({"label": f"{r.subgroup}: {r.level}", "subgroup": r.subgroup, "level": r.level,
                    "outcome": r.outcome, "measure": r.measure, "estimate": number(r.estimate) if ok else None,
                    "ci": interval(r.ci_lower, r.ci_upper) if ok else None, "n_treatment": s.count(r.n_treatment),
                    "n_comparator": s.count(r.n_comparator), "balance_achieved": r.balance_achieved,
                    "note": r.note if isinstance(r.note, str) else "",
                    "interaction_p": number(getattr(r, "interaction_p", None))})
    # The pair's p only when both levels are shown.
    shown: dict[tuple[str, str], bool] = {}
    for row in out:
        key = (row["subgroup"], row["outcome"])
        shown[key] = shown.get(key, True) and row["estimate"] is not None
    for row in out:
        if not shown[(row["subgroup"], row["outcome"])]:
            row["interaction_p"] = None
    return out


def subgroups_member(con: duckdb.DuckDBPyConnection, s: Suppressor) -> list[dict]:
    """results.json `subgroups`: [{outcome, subgroup, level, estimate, ci, interaction_p}] (results contract,
    SAP 6 version 2), plus measure and balance_achieved."""
    return [{"outcome": r["outcome"], "measure": r["measure"], "subgroup": r["subgroup"], "level": r["level"],
             "estimate": r["estimate"], "ci": r["ci"], "interaction_p": r["interaction_p"],
             "balance_achieved": None if pd.isna(r["balance_achieved"]) else bool(r["balance_achieved"])}
            for r in subgroup_rows(con, s)]
