"""results.json `site_heterogeneity` (SAP 6; results contract, added with SAP version 2) and its report section: the
per-site adjusted ODI change differences at the primary visit and their random-effects pooling, read from
comparison.site_estimates and comparison.site_heterogeneity.

{instrument, visit, estimate, ci, tau2, i2, prediction_interval, sites: [{site, estimate, ci}]} as the contract
names them, plus (additive) `left_out: [{site, reason}]`. i2 is a proportion (0 to 1) like every rate of the file.
A site is in `sites` only when both its arms hold at least the suppression threshold of complete pairs, so its
estimate rests on no small count (SAP 8); patient counts per site are not published (with the attrition per site
they would reveal the number of patients without a primary-visit change, which may be small). Site labels are site
identifiers, not patient identifiers, and are published as in the attrition per site. The numbers of sites left out
are not published as counts (no count from 1 to 10 in a published file, whatever it counts): the list of left-out
sites with their reasons says which.
"""

from typing import Any

import duckdb
import pandas as pd

from pipeline.reporting.common import interval, number, read
from pipeline.reporting.suppression import Suppressor
from pipeline.study import Study

MEMBER = "site_heterogeneity"
MEMBERS = ("instrument", "visit", "estimate", "ci", "tau2", "i2", "prediction_interval", "sites")
SITE_MEMBERS = ("site", "estimate", "ci")


def site_heterogeneity(con: duckdb.DuckDBPyConnection, study: Study, s: Suppressor) -> dict[str, Any] | None:
    """The member, or None when the comparison stage did not run (its tables are absent)."""
    summary = read(con, "comparison.site_heterogeneity")
    if summary.empty:
        return None
    row = summary.iloc[0]
    sites = read(con, "comparison.site_estimates")
    sites = sites.sort_values("site") if len(sites) else pd.DataFrame(columns=["site", "status", "note"])
    pooled = []
    for r in sites[sites["status"] == "pooled"].itertuples():
        # Both counts are at least the threshold by construction; checked again so no change elsewhere can leak.
        ok = s.derived(True, r.n_treatment, r.n_comparator)
        pooled.append({"site": str(r.site), "estimate": number(r.estimate) if ok else None,
                       "ci": interval(r.ci_lower, r.ci_upper) if ok else None})
    left = sites[sites["status"] != "pooled"]
    return {
        "instrument": row["instrument"], "visit": row["visit"], "estimate": number(row["estimate"]),
        "ci": interval(row["ci_lower"], row["ci_upper"]), "tau2": number(row["tau2"]), "i2": number(row["i2"]),
        "prediction_interval": interval(row["pi_lower"], row["pi_upper"]), "sites": pooled,
        "left_out": [{"site": str(r.site), "reason": r.note} for r in left.itertuples()],
    }


def validate_member(doc: dict) -> list[str]:
    """Problems of doc["site_heterogeneity"] against the contract (None is allowed: no comparison)."""
    member = doc.get(MEMBER, "absent")
    if member == "absent":
        return [f"missing member {MEMBER}"]
    if member is None:
        return []
    problems = [f"{MEMBER}.{m} missing" for m in MEMBERS if m not in member]
    for i, site in enumerate(member.get("sites") or []):
        problems += [f"{MEMBER}.sites[{i}].{m} missing" for m in SITE_MEMBERS if m not in site]
    return problems


def plain_words(member: dict[str, Any] | None, threshold: int) -> list[str]:
    """What the pooled numbers mean, in words, for the report."""
    if not member or member["estimate"] is None:
        return []
    k = len(member["sites"])
    out = ["The sites' adjusted differences are pooled by a random-effects model: each site may have its own "
           "true effect, and the pooled estimate is their average. Its 95% CI (Hartung–Knapp–Sidik–Jonkman: t with "
           "one degree of freedom fewer than the sites pooled) describes that average only.",
           "τ² is the variance of the true site effects (in squared ODI points); I² is the share of the spread of "
           "the site estimates that reflects real differences between sites rather than chance (0% = the sites "
           "differ no more than sampling error explains).",
           "The 95% prediction interval is where the adjusted difference at a new, similar site would be expected "
           "to lie: it adds the between-site variance to the uncertainty of the average, so it is wider than the CI."]
    if k == 2:
        out.append("With only two sites the between-site variance is barely estimable and t has 1 degree of "
                   "freedom (12.7 instead of about 2): the CI and the prediction interval are very wide by "
                   "construction; read them as 'not determined', not as evidence of no effect.")
    if member.get("left_out"):
        out.append(f"Sites with fewer than {threshold} patients with a primary-visit ODI change in an arm are left out "
                   "(their estimate would be withheld, SAP 8), as are sites whose model cannot be fitted; they are "
                   "listed below with the reason.")
    return out
