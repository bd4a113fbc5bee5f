"""SAP 6 site heterogeneity on the warehouse: per-site adjusted ODI change differences at the primary visit
(sites.py) pooled by REML random effects with the Hartung–Knapp–Sidik–Jonkman CI (heterogeneity.py).

Tables (rebuilt in full each time; their column types are in adjusted_tables.TYPES):
    site_estimates       one row per site: status pooled / under_threshold / not_estimable, complete pairs
                         per arm, the site's estimate, SE and CI, its balance, the reason when left out
    site_heterogeneity   one row: pooled estimate, HKSJ CI, τ², I², prediction interval, sites pooled and
                         left out, or the reason it is not estimable
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from pipeline.comparison.adjusted_tables import balance_gate, typed
from pipeline.comparison.cohort import check_inputs, load_changes_of, load_cohort, model_terms
from pipeline.comparison.heterogeneity import random_effects
from pipeline.comparison.sites import NOT_ESTIMABLE, POOLED, UNDER_THRESHOLD, site_estimates
from pipeline.estimable import Gap, NotEstimable
from pipeline.study import Study
from pipeline.warehouse import Built, write_table

INSTRUMENT = "ODI"
METHOD = "REML tau2, Hartung-Knapp-Sidik-Jonkman CI (t, k-1 df), prediction interval t(k-1)"
MEMBER = "site_heterogeneity"
# The site label of every analysis patient in row order: the per-site estimates re-fit the propensity model
# within each site. Site labels, not patient identifiers.
SITE_OF_ROW = "SELECT row, site_id FROM comparison.cohort ORDER BY row"


def pooled_sites(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The pooled sites' labels, estimates and CIs (no patient counts)."""
    return con.execute("SELECT site, estimate, ci_lower, ci_upper FROM comparison.site_estimates "
                       "WHERE status = 'pooled' ORDER BY site").df()


def _pooled_row(frame: pd.DataFrame, study: Study, reason: str | None) -> dict:
    status = frame["status"]
    row = {"instrument": INSTRUMENT, "visit": study.primary_visit, "method": METHOD,
           "sites_pooled": int((status == POOLED).sum()),
           "sites_under_threshold": int((status == UNDER_THRESHOLD).sum()),
           "sites_not_estimable": int((status == NOT_ESTIMABLE).sum()), "not_estimable": reason}
    if reason is not None:
        return row
    pooled = frame[status == POOLED]
    try:
        fit = random_effects(pooled["estimate"].to_numpy(dtype=float), pooled["se"].to_numpy(dtype=float) ** 2)
    except NotEstimable as exc:
        return row | {"not_estimable": exc.reason}
    return row | {"estimate": fit.estimate, "se": fit.se, "ci_lower": fit.lower, "ci_upper": fit.upper,
                  "tau2": fit.tau2, "i2": fit.i2, "typical_variance": fit.typical_variance,
                  "pi_lower": fit.pi_lower, "pi_upper": fit.pi_upper, "df": fit.df}


def build_site_heterogeneity(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    reason = check_inputs(con, study)
    frame = typed("site_estimates")
    if reason is None:
        patients = load_cohort(con)
        site = np.asarray(con.execute(SITE_OF_ROW).fetchnumpy()["site_id"], dtype=object)
        change_row, change = load_changes_of(con, INSTRUMENT, study.primary_visit)
        frame = typed("site_estimates", site_estimates(
            patients, site, change_row, change, study.comparison_weights, study.truncation_percentiles,
            model_terms(con), minimum=study.suppression_threshold, gate=balance_gate(study)))
    summary = typed("site_heterogeneity", [_pooled_row(frame, study, reason)])
    rows = write_table(con, "comparison.site_estimates", frame)
    write_table(con, "comparison.site_heterogeneity", summary)
    s = summary.iloc[0]
    numbers = {"sites_pooled": float(s["sites_pooled"]), "sites_under_threshold": float(s["sites_under_threshold"]),
               "sites_not_estimable": float(s["sites_not_estimable"])}
    gaps: tuple[Gap, ...] = ()
    if isinstance(s["not_estimable"], str):
        gaps = (Gap(MEMBER, s["not_estimable"]),)
    else:
        numbers |= {"pooled estimate": float(s["estimate"]), "pooled lower 95%": float(s["ci_lower"]),
                    "pooled upper 95%": float(s["ci_upper"]), "tau2": float(s["tau2"]), "i2": float(s["i2"])}
    return Built(MEMBER, {"comparison.site_estimates": rows, "comparison.site_heterogeneity": 1}, numbers,
                 gaps=gaps)

