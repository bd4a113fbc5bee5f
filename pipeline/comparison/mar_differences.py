"""The MAR twin of the adjusted between-arm PRO differences (SAP 3.1 and 6), and the tipping point of the adjusted
primary-visit ODI change difference.

The twin is the estimator of the complete-case adjusted differences (pipeline/comparison/robust.py, from the sums
of sql/comparison/change_sums.sql) on other rows and another weight: the complete pairs of patients eligible and
assessed at the visit (outcomes.attendance_weights), weighted by the attendance weight × the stored confounding
weight (overlap by default). Its CI is the sandwich of the complete-case twin: it accounts for the estimation of
the propensity model (ps_variance.py; the attendance weight is a fixed factor of each row's weight) and treats
the attendance weights as fixed (their models' estimation is not propagated), HC1 factor, whatever the study's
comparison CI (a bootstrap would have to re-fit the attendance models too). `method` is "ipaw", or
"complete_case" where the attendance model of that instrument and visit fell back (its weight is then 1, so the
row equals the complete-case adjusted difference).

Tipping point (SAP 3.1, delta adjustment): the unobserved changes of the eligible, unassessed patients of the
treatment arm are shifted by δ in the unfavourable direction (for ODI: worse); the comparator stays MAR (a shift of
both arms alike would cancel in the difference). The weighted mean then moves by δ × share,
share = Σ w (eligible, unassessed) / Σ w (eligible) over the treatment arm with the confounding weights w, the
population the overlap-weighted mean describes. δ* (the closed form of pipeline/outcomes/mar.py, threshold 0) is
the δ at which the 95% CI's limit nearest the null reaches it; none, with the reason, when the CI already holds
0, when the difference already points the unfavourable way, or when nothing is missing (docs/comparison.md).
"""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd

from pipeline import contract
from pipeline.comparison import reasons
from pipeline.comparison.cohort import change_differences, check_inputs, load_cohort
from pipeline.comparison.propensity import build_design
from pipeline.comparison.ps_variance import CI_METHOD, PropensityTerms, propensity_terms
from pipeline.estimable import Gap, member
from pipeline.outcomes.mar import tipping_point, why_no_tipping_point
from pipeline.sql import query
from pipeline.study import Study
from pipeline.warehouse import Built, write_table

MEMBER = "adjusted.pro_change_difference_mar"
TIPPING_WHAT = "adjusted.pro_change_difference_mar"  # the member whose row the tipping point concerns
NO_ATTENDANCE = "no attendance weights in this refresh"
NO_DIFFERENCE = "the adjusted MAR ODI change difference at the primary visit is not estimable"
_S, _F, _I = "VARCHAR", "DOUBLE", "BIGINT"
COLUMNS: dict[str, str] = {
    "outcome": _S, "instrument": _S, "visit": _S, "visit_ordinal": _I, "measure": _S, "estimate": _F, "se": _F,
    "ci_lower": _F, "ci_upper": _F, "p_value": _F, "n_treatment": _I, "n_comparator": _I, "value_treatment": _F,
    "value_comparator": _F, "method": _S, "weights": _S, "ci_method": _S,
}
TIPPING_COLUMNS: dict[str, str] = {
    "what": _S, "arm": _S, "instrument": _S, "visit": _S, "estimate": _F, "ci_lower": _F, "ci_upper": _F,
    "share_unassessed": _F, "eligible": _I, "assessed": _I, "threshold": _F, "unfavourable": _I, "delta": _F,
    "method": _S, "reason": _S,
}


def _frame(rows: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


def stored_terms(con: duckdb.DuckDBPyConnection, study: Study) -> PropensityTerms:
    """The propensity model behind the stored confounding weights (comparison.cohort), for the SEs."""
    patients = load_cohort(con)
    treated = patients["treated"].to_numpy(dtype=bool)
    design = build_design(patients, site_minimum=study.suppression_threshold)
    return propensity_terms(design.x, treated, patients["propensity_score"].to_numpy(dtype=float),
                            patients["weight"].to_numpy(dtype=float), study.comparison_weights)


def mar_difference_rows(con: duckdb.DuckDBPyConnection, scheme: str, terms: PropensityTerms | None = None
                        ) -> pd.DataFrame:
    """comparison.pro_change_difference_mar: the mean change and responder differences of every instrument and
    visit, weighted by attendance × confounding weights, with the method of the attendance model behind them.
    `terms` (stored_terms): the SEs account for the propensity model's estimation, the attendance weights
    treated as fixed; without, both weights are treated as fixed."""
    methods = {(r.instrument, r.visit): r.method for r in query(con, "comparison/attendance_methods").itertuples()}
    ci_method = "robust_sandwich_hc1" if terms is None else CI_METHOD
    rows = []
    for key, ordinal, d in change_differences(con, attendance=True, terms=terms)["adjusted"]:
        outcome, instrument, visit, measure = key
        rows.append({"outcome": outcome, "instrument": instrument, "visit": visit, "visit_ordinal": ordinal,
                     "measure": measure, "estimate": d.estimate, "se": d.se, "ci_lower": d.lower,
                     "ci_upper": d.upper, "p_value": d.p_value, "n_treatment": d.n_treatment,
                     "n_comparator": d.n_comparator, "value_treatment": d.mean_treatment,
                     "value_comparator": d.mean_comparator,
                     "method": methods.get((instrument, visit), "complete_case"), "weights": scheme,
                     "ci_method": ci_method})
    return _frame(rows, COLUMNS)


def tipping_rows(con: duckdb.DuckDBPyConnection, study: Study, differences: pd.DataFrame,
                 instrument: str = "ODI") -> tuple[pd.DataFrame, tuple[Gap, ...]]:
    """The tipping point of the adjusted MAR change difference of `instrument` at the primary visit, by the
    outcomes stage's closed form (pipeline/outcomes/mar.py) with the treatment arm's weighted share."""
    visit = study.primary_visit
    what = member("tipping_point", TIPPING_WHAT, visit)
    row = differences[(differences["outcome"] == "pro_change") & (differences["instrument"] == instrument)
                      & (differences["visit"] == visit)]
    shares = query(con, "comparison/attendance_share", instrument=instrument, visit=visit)
    treated = shares[shares["treated"].astype(bool)]
    if row.empty or treated.empty:
        return _frame([], TIPPING_COLUMNS), (Gap(what, NO_DIFFERENCE),)
    d, t = row.iloc[0], treated.iloc[0]
    share, ci = float(t["share_unassessed"]), (float(d["ci_lower"]), float(d["ci_upper"]))
    # A treatment − comparator difference of changes: worse for the treatment in the instrument's bad direction.
    unfavourable = 1 if contract.INSTRUMENTS[instrument].lower_is_better else -1
    reason = why_no_tipping_point(float(d["estimate"]), ci, share, 0.0, unfavourable)
    delta = tipping_point(float(d["estimate"]), ci, share, 0.0, unfavourable)
    frame = _frame([{"what": TIPPING_WHAT, "arm": study.treatment, "instrument": instrument, "visit": visit,
                     "estimate": d["estimate"], "ci_lower": ci[0], "ci_upper": ci[1], "share_unassessed": share,
                     "eligible": int(t["eligible"]), "assessed": int(t["assessed"]), "threshold": 0.0,
                     "unfavourable": unfavourable, "delta": delta, "method": d["method"], "reason": reason}],
                   TIPPING_COLUMNS)
    return frame, (() if reason is None else (Gap(what, reason),))


def _has_attendance(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        return not query(con, "comparison/attendance_methods").empty
    except duckdb.CatalogException:  # the outcomes stage has not written the attendance weights
        return False


def build_adjusted_mar(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    """comparison.pro_change_difference_mar and comparison.tipping_point_difference. Without confounding weights
    (the reason of propensity_weights) or attendance weights, both are empty and their members are gaps."""
    reason = check_inputs(con, study)
    if reason is None and not _has_attendance(con):
        reason = NO_ATTENDANCE
    if reason is not None:
        write_table(con, "comparison.pro_change_difference_mar", _frame([], COLUMNS), COLUMNS)
        write_table(con, "comparison.tipping_point_difference", _frame([], TIPPING_COLUMNS), TIPPING_COLUMNS)
        return Built("adjusted_estimates_mar", {"comparison.pro_change_difference_mar": 0,
                                                "comparison.tipping_point_difference": 0},
                     gaps=(Gap(MEMBER, reason), Gap(member("tipping_point", TIPPING_WHAT, study.primary_visit),
                                                    reason)))
    frame = mar_difference_rows(con, study.comparison_weights, stored_terms(con, study))
    tipping, gaps = tipping_rows(con, study, frame)
    rows = write_table(con, "comparison.pro_change_difference_mar", frame, COLUMNS)
    tipping_written = write_table(con, "comparison.tipping_point_difference", tipping, TIPPING_COLUMNS)
    changes = frame[frame["outcome"] == "pro_change"]
    if not np.isfinite(changes[["estimate", "ci_lower", "ci_upper"]].to_numpy(dtype=float)).all(axis=1).any():
        gaps += (Gap(MEMBER, reasons.NO_CHANGES),)
    numbers: dict[str, float] = {}
    for r in changes[(changes["instrument"] == "ODI") & (changes["visit"] == study.primary_visit)].itertuples():
        label = f"MAR adjusted ODI change difference {r.visit}"
        numbers |= {label: r.estimate, f"{label} lower 95%": r.ci_lower, f"{label} upper 95%": r.ci_upper}
    for r in tipping.itertuples():
        numbers |= {f"tipping point {r.instrument} {r.visit} difference": r.delta if r.delta is not None else math.nan,
                    f"share unassessed {r.arm} {r.instrument} {r.visit}": r.share_unassessed}
    return Built("adjusted_estimates_mar", {"comparison.pro_change_difference_mar": rows,
                                            "comparison.tipping_point_difference": tipping_written},
                 numbers, gaps=gaps)
