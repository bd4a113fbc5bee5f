"""Change from baseline (SAP section 3).

`build_pro_changes` pairs every post-baseline value with the patient's baseline value of the same instrument
in SQL (sql/outcomes/pro_changes.sql), with the responder flags of every MCID rule. `build_pro_change_summary`
aggregates the pairs per arm, instrument and visit in SQL and adds, per group, the t-based 95% CI of the mean
change, the Wilson CI of the responder rate and, for the skewed instruments, the Wilcoxon signed-rank p-value.
A group exists only where there are complete pairs; an arm or instrument without any records a gap
(`pro_change[ARM]`, `pro_change[ARM][INSTRUMENT]`, SAP 9; pipeline/outcomes/gaps.py). Within a group, numbers
that need two pairs (SD, t interval) are NULL for a single pair.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from pipeline import incremental
from pipeline.estimable import Gap, record_gaps
from pipeline.incremental import PatientTable, fingerprint
from pipeline.outcomes import gaps as g
from pipeline.outcomes.built import estimate_with_ci, rows_where, with_rates
from pipeline.outcomes.intervals import t_interval
from pipeline.outcomes.responders import rule_params
from pipeline.outcomes.signed_rank import wilcoxon_p
from pipeline.outcomes.store import ensure_schema, record_parameters, transaction
from pipeline.sql import load_sql, query, run
from pipeline.study import Study
from pipeline.warehouse import Built, write_table

CHANGES = "pro_changes"
SUMMARY = "pro_change_summary"

SUMMARY_COLUMNS = [
    "arm", "arm_role", "instrument", "visit", "visit_ordinal", "n",
    "baseline_mean", "baseline_sd", "visit_mean", "visit_sd",
    "mean_change", "sd_change", "ci_lower", "ci_upper", "median_change", "q1_change", "q3_change",
    "wilcoxon_p", "n_percent_change", "median_percent_change",
    "responder_rule", "responders", "responder_rate", "responder_ci_lower", "responder_ci_upper",
]


# Patient-level: rebuilt only for the patients whose staging rows changed, when that is safe
# (pipeline/incremental.py); it follows the ingest state that staging.patients and pro_assessments hold.
CHANGES_TABLE = PatientTable(
    "outcomes.pro_changes", "outcomes/pro_changes",
    {"scoped_patients": "staging.patients", "scoped_pro_visits": "staging.pro_visits"},
    upstream=("staging.patients", "staging.pro_assessments"),
)


def build_pro_changes(con: duckdb.DuckDBPyConnection, study: Study, *, full: bool = False) -> Built:
    """Bring outcomes.responder_rules and outcomes.pro_changes (complete pairs with responder flags) up to
    date; `full` forces a rebuild from scratch."""
    ensure_schema(con)
    rules = rule_params(study)
    params = {"baseline_visit": study.baseline_visit}
    fp = fingerprint(CHANGES, load_sql("outcomes/pro_changes"), params, load_sql("outcomes/responder_rules"),
                     rules, load_sql("staging/pro_visits"), study.sha256)
    result = incremental.build(con, CHANGES_TABLE, params, fp, config=[("outcomes/responder_rules", rules)],
                               force_full=full, finish=lambda c: record_parameters(c, CHANGES, study))
    patients, pairs_primary = run(con, "outcomes/pro_changes_headline", primary_visit=study.primary_visit).fetchone()
    headline = {"patients": float(patients), f"pairs at {study.primary_visit}": float(pairs_primary)}
    return Built(CHANGES, result.tables, headline, result.build)


def summarise(moments: pd.DataFrame, skewed_p: dict[tuple[str, str, str], float | None],
              skewed: tuple[str, ...]) -> pd.DataFrame:
    """The summary table from the per-group moments (sql/outcomes/pro_change_moments.sql) and the Wilcoxon
    p-values of the skewed groups, keyed by (arm, instrument, visit)."""
    out = moments.copy()
    out["ci_lower"], out["ci_upper"] = t_interval(out["mean_change"], out["sd_change"], out["n"])
    keys = zip(out["arm"], out["instrument"], out["visit"], strict=True)
    out["wilcoxon_p"] = [skewed_p.get(k) for k in keys]
    out["wilcoxon_p"] = out["wilcoxon_p"].astype(float)
    # The SAP asks for the median percent change of the skewed instruments only; for the bounded scores a
    # percentage of the baseline is not a quantity anyone reports.
    is_skewed = out["instrument"].isin(skewed)
    out["n_percent_change"] = out["n_percent_change"].astype("Int64").where(is_skewed, pd.NA)
    out["median_percent_change"] = out["median_percent_change"].where(is_skewed)
    rates = with_rates(out[["responders", "n"]], "responders")
    out["responder_rate"] = rates["rate"]
    out["responder_ci_lower"], out["responder_ci_upper"] = rates["ci_lower"], rates["ci_upper"]
    return out[SUMMARY_COLUMNS]


def skewed_group_p_values(con: duckdb.DuckDBPyConnection, skewed: tuple[str, ...]
                          ) -> dict[tuple[str, str, str], float | None]:
    """Wilcoxon signed-rank p per (arm, instrument, visit) of the skewed instruments.

    The changes come out of DuckDB as one sorted numeric array with a group number (no Python object per
    row) and are cut into groups at the points where the number changes.
    """
    if not skewed:
        return {}
    groups = query(con, "outcomes/skewed_groups", skewed_instruments=list(skewed))
    data = run(con, "outcomes/skewed_changes", skewed_instruments=list(skewed)).fetchnumpy()
    group_id, change = np.asarray(data["group_id"]), np.asarray(data["change"], dtype=float)
    bounds = np.searchsorted(group_id, np.arange(len(groups) + 1))
    return {
        (g.arm, g.instrument, g.visit): wilcoxon_p(change[bounds[i]:bounds[i + 1]])
        for i, g in enumerate(groups.itertuples())
    }


def build_pro_change_summary(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    """outcomes.pro_change_summary: per arm, instrument and visit, SAP section 3's descriptive statistics."""
    moments = query(con, "outcomes/pro_change_moments")
    frame = summarise(moments, skewed_group_p_values(con, study.skewed_instruments), study.skewed_instruments)
    gaps = change_gaps(con, frame, study)
    with transaction(con):
        rows = write_table(con, f"outcomes.{SUMMARY}", frame)
        record_parameters(con, SUMMARY, study)
        record_gaps(con, SUMMARY, gaps)
    return Built(SUMMARY, {f"outcomes.{SUMMARY}": rows}, change_headline(frame, study), gaps=tuple(gaps))


def change_gaps(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, study: Study) -> list[Gap]:
    """`pro_change[ARM]` for an arm without patients or without any complete pair; otherwise
    `pro_change[ARM][INSTRUMENT]` for each change instrument without a complete pair in the arm."""
    patients = g.arm_patients(con, study)
    instruments = list(study.change_instruments)
    paired = set(zip(frame["arm"], frame["instrument"], strict=True))
    lacking = {arm: [i for i in instruments if (arm, i) not in paired] for arm in study.arms if patients.get(arm)}
    # Only when something lacks pairs: which instruments were answered at all (one scan of pro_visits).
    answered = g.answered(con, instruments) if any(lacking.values()) else set()
    out = []
    for arm in study.arms:
        if arm not in lacking:
            out.append(Gap(g.member("pro_change", arm), g.no_patients(arm)))
        elif lacking[arm] and len(lacking[arm]) == len(instruments):
            any_answer = any((arm, i) in answered for i in instruments)
            out.append(Gap(g.member("pro_change", arm), g.NO_PAIRS if any_answer else g.NO_CHANGE_ANSWERS))
        else:
            out += [Gap(g.member("pro_change", arm, i), g.no_pairs(i) if (arm, i) in answered else g.not_answered(i))
                    for i in lacking[arm]]
    return out


def change_headline(frame: pd.DataFrame, study: Study) -> dict[str, float]:
    """Mean change with its CI at the primary visit, per arm and instrument."""
    out: dict[str, float] = {}
    for r in rows_where(frame, visit=study.primary_visit).itertuples():
        out |= estimate_with_ci(f"{r.arm} {r.instrument} mean change {r.visit}", r.mean_change, r.ci_lower,
                                r.ci_upper)
    return out
