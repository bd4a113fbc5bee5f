"""results.json members of SAP 3.1 (missing follow-up): `pro_change_mar`, `satisfaction_mar` and
`tipping_point`, from outcomes.pro_change_mar, outcomes.satisfaction_mar and outcomes.tipping_points, through
the Suppressor (SAP 8).

eligible and assessed are counts: each is published unless it is 1–10, and eligible is also withheld when a
reader could compute a count of 1–10 from it: the patients not assessed (eligible − assessed, the assessed
being the complete-case n published beside the row) or the arm's patients not eligible (population −
eligible: dead, withdrawn or not yet due at the visit; the population is published). An estimate is derived
from the assessed patients: withheld (null) when they are 1–10; a rate also when its successes or failures
are (as the complete-case rates). A tipping point is derived from the share not assessed, which with the
assessed count gives eligible: withheld when eligible, assessed, not assessed or not eligible is 1–10.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import duckdb
import pandas as pd

from pipeline.reporting.common import interval, number, read
from pipeline.reporting.suppression import Suppressor

MEMBERS = ("pro_change_mar", "satisfaction_mar", "tipping_point")
ROWS = {
    ("pro_change_mar",): ("arm", "instrument", "visit", "eligible", "assessed", "mean_change", "ci", "responder_rate",
                          "responder_ci", "method"),
    ("satisfaction_mar",): ("arm", "visit", "eligible", "assessed", "rate", "ci", "method"),
    ("tipping_point",): ("what", "arm", "visit", "delta", "share_unassessed", "threshold"),
}


def not_eligible_small(s: Suppressor, population: Mapping[str, int] | None, arm: str, eligible: int) -> bool:
    """Whether the arm's patients not eligible at the visit (population − eligible) are 1–10."""
    return population is not None and arm in population and s.small(int(population[arm]) - eligible)


def _published_rows(t: pd.DataFrame, order: list[str], s: Suppressor, population: Mapping[str, int] | None
                    ) -> Iterator[tuple[Any, object, object, bool]]:
    """Per row of t (arms treatment first, then `order` ascending): (row, published eligible, published assessed,
    whether estimates from the assessed patients may be shown). The assessed patients are the complete-case n
    published beside the row (pro_change / satisfaction `n`), so when few eligible patients were not assessed it
    is `eligible` that is withheld (SAP 8, complementary suppression: eligible − the complete-case n would reveal
    them); likewise when few of the arm's patients were not eligible (the published population − eligible)."""
    if t.empty:
        return
    for r in t.sort_values(["arm_role", *order], ascending=[False] + [True] * len(order)).itertuples():
        eligible, assessed = int(r.eligible), int(r.assessed)
        shown = assessed > 0 and not s.small(assessed)
        if s.small(eligible - assessed) or not_eligible_small(s, population, r.arm, eligible):
            yield r, s.mark, s.count(assessed), shown
        else:
            n, k, _ = s.proportion(eligible, assessed)
            yield r, n, k, shown


def pro_change_mar(t: pd.DataFrame, s: Suppressor, population: Mapping[str, int] | None = None) -> list[dict]:
    out: list[dict] = []
    for r, eligible, assessed, shown in _published_rows(t, ["instrument", "visit_ordinal"], s, population):
        responders = shown and not s.proportion_hidden(int(r.assessed), int(r.responders))
        out.append({
            "arm": r.arm, "instrument": r.instrument, "visit": r.visit, "eligible": eligible, "assessed": assessed,
            "mean_change": number(r.mean_change) if shown else None,
            "ci": interval(r.ci_low, r.ci_high) if shown else None,
            "responder_rate": number(r.responder_rate) if responders else None,
            "responder_ci": interval(r.responder_ci_low, r.responder_ci_high) if responders else None,
            "method": r.method,
        })
    return out


def satisfaction_mar(t: pd.DataFrame, s: Suppressor, population: Mapping[str, int] | None = None) -> list[dict]:
    out: list[dict] = []
    for r, eligible, assessed, shown in _published_rows(t, ["visit_ordinal"], s, population):
        shown = shown and not s.proportion_hidden(int(r.assessed), int(r.satisfied))
        out.append({"arm": r.arm, "visit": r.visit, "eligible": eligible, "assessed": assessed,
                    "rate": number(r.rate) if shown else None, "ci": interval(r.ci_low, r.ci_high) if shown else None,
                    "method": r.method})
    return out


def tipping_point(t: pd.DataFrame, s: Suppressor, population: Mapping[str, int] | None = None) -> list[dict]:
    out: list[dict] = []
    if t.empty:
        return out
    for r in t.sort_values(["arm_role", "visit_ordinal"], ascending=[False, True]).itertuples():
        shown = not (s.proportion_hidden(int(r.eligible), int(r.assessed))
                     or not_eligible_small(s, population, r.arm, int(r.eligible)))
        out.append({"what": r.what, "arm": r.arm, "visit": r.visit,
                    "delta": number(r.delta) if shown else None,
                    "share_unassessed": number(r.share_unassessed) if shown else None,
                    "threshold": number(r.threshold)})
    return out


def mar_members(con: duckdb.DuckDBPyConnection, s: Suppressor,
                population: Mapping[str, int] | None = None) -> dict[str, list[dict]]:
    """The three members (empty lists when the tables are absent); population: patients per arm as published."""
    return {
        "pro_change_mar": pro_change_mar(read(con, "outcomes.pro_change_mar"), s, population),
        "satisfaction_mar": satisfaction_mar(read(con, "outcomes.satisfaction_mar"), s, population),
        "tipping_point": tipping_point(read(con, "outcomes.tipping_points"), s, population),
    }
