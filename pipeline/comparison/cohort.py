"""The analysis population of SAP section 6 in the warehouse, read as numpy arrays aligned in DuckDB.

propensity_weights derives the population once (sql/comparison/input.sql, a temporary table numbered by
`row`, the position of the patient in (site_id, patient_id) order), fits the model and stores population,
score and weight together as comparison.cohort. Every later step reads comparison.cohort (one scan, only
numbers, no identifiers into Python), so its data and its weights always come from the same fit; long tables
(changes, satisfaction) get `row` by a join in SQL, and the changes are aggregated there unless a bootstrap
needs them row by row.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from pipeline.comparison.estimates import ComparisonData, Key
from pipeline.comparison.ps_variance import PropensityTerms, variance_corrections, with_estimated_weights
from pipeline.comparison.robust import Difference, difference_from_sums
from pipeline.sql import run
from pipeline.study import Study


class StaleWeightsError(ValueError):
    """comparison.cohort was weighted under other settings than the study's, or is missing. (Its data are kept
    current by the asset graph: propensity_weights follows every table the cohort copies.)"""


def _array(values: np.ndarray, dtype: type = float) -> np.ndarray:
    """A fetched column as a plain array; NULLs (a masked array) become NaN."""
    if np.ma.isMaskedArray(values):
        return np.ma.filled(values.astype(dtype), np.nan)
    return np.asarray(values, dtype=dtype)


def _frame(fetched: dict, sites: list[str] | None = None) -> pd.DataFrame:
    """The fetched columns as a frame; `site_code` (with the site labels `sites`) becomes the categorical
    column `site` (the site label, a propensity covariate; no patient identifier)."""
    columns = {name: _array(v) for name, v in fetched.items() if name not in ("procedure", "treated", "site_code")}
    site = {}
    if "site_code" in fetched:
        site["site"] = pd.Categorical.from_codes(np.asarray(fetched["site_code"], dtype=np.int64),
                                                 categories=sites or [])
    return pd.DataFrame({"procedure": np.asarray(fetched["procedure"], dtype=object), **site,
                         "treated": np.asarray(fetched["treated"], dtype=bool), **columns})


# The site labels of input_fetch's and cohort_fetch's site_code: the sites in site_id order.
INPUT_SITES = "SELECT DISTINCT site_id FROM comparison_input ORDER BY site_id"
COHORT_SITES = "SELECT DISTINCT site_id FROM comparison.cohort ORDER BY site_id"
# Every patient of the reintervention data set (the pooled KM of the E-value's common-outcome rule).
REINTERVENTION_TIMES = ("SELECT reintervention_time, reintervention_event FROM comparison.cohort "
                        "WHERE reintervention_time IS NOT NULL")


def _sites(cursor: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in cursor.fetchall()]


def load_input(con: duckdb.DuckDBPyConnection, study: Study) -> pd.DataFrame:
    """Derive the analysis population (temporary table comparison_input) and read it, one row per patient."""
    run(con, "comparison/input", baseline_visit=study.baseline_visit, window_days=study.complication_window_days,
        complication_event=study.events.complication)
    return _frame(run(con, "comparison/input_fetch").fetchnumpy(), _sites(con.execute(INPUT_SITES)))


def write_cohort(con: duckdb.DuckDBPyConnection, score: np.ndarray, preference: np.ndarray, weights: np.ndarray,
                 scheme: str) -> int:
    """comparison.cohort and comparison.propensity from comparison_input and the fitted scores (the
    identifiers are joined back in SQL), then drop comparison_input."""
    scores = pd.DataFrame({"row": np.arange(score.size, dtype=np.int64), "propensity_score": score,
                           "preference_score": preference, "weight": weights})
    con.execute("CREATE SCHEMA IF NOT EXISTS comparison")
    con.register("_comparison_scores", scores)
    try:
        run(con, "comparison/cohort_write")
        run(con, "comparison/propensity_write", weighting_scheme=scheme)
    finally:
        con.unregister("_comparison_scores")
        con.execute("DROP TABLE IF EXISTS temp.comparison_input")
    return score.size


def check_inputs(con: duckdb.DuckDBPyConnection, study: Study) -> str | None:
    """Refuse comparison.cohort weighted under other settings than the study's (or missing). Returns why the
    cohort has no weights (a plain reason: no patients in an arm, separation, ...), None when it has them."""
    try:
        inputs = run(con, "comparison/propensity_inputs").fetchall()
    except (duckdb.CatalogException, duckdb.BinderException):  # missing, or written by an older version
        inputs = []
    expected = (study.comparison_weights, truncation_label(study.truncation_percentiles))
    if len(inputs) != 1 or inputs[0][:2] != expected or inputs[0][2] != inputs[0][3]:
        raise StaleWeightsError("comparison.cohort was weighted under other settings (or is missing): "
                                "materialize propensity_weights first")
    return inputs[0][4]


def truncation_label(percentiles: tuple[float, ...]) -> str:
    return ",".join(str(float(p)) for p in percentiles)


def load_cohort(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """comparison.cohort, one row per patient in row order, with propensity_score and weight."""
    return _frame(run(con, "comparison/cohort_fetch").fetchnumpy(), _sites(con.execute(COHORT_SITES)))


def _row_order(group: np.ndarray, row: np.ndarray, n_groups: int, n: int) -> np.ndarray:
    """The permutation sorting rows by (group, row), without a sort of the whole table: a counting sort by
    group, then within each group a scatter by row (a patient has one row per group, so rows are unique)."""
    by_group = np.argsort(group, kind="stable")  # radix sort for 16-bit keys: linear
    bounds = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=n_groups))])
    slot = np.full(n, -1, dtype=np.int64)
    parts = []
    for k in range(n_groups):
        members = by_group[bounds[k]:bounds[k + 1]]
        slot[row[members]] = members
        ordered = slot[slot >= 0]
        if ordered.size != members.size:  # duplicate rows in a group: fall back to a sort
            ordered = members[np.lexsort((row[members],))]
        slot[row[members]] = -1
        parts.append(ordered)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def load_changes(con: duckdb.DuckDBPyConnection, n: int
                 ) -> tuple[pd.DataFrame, dict[tuple[str, str, int], np.ndarray]]:
    """outcomes.pro_changes of the analysis patients (n of them) and its (instrument, visit, ordinal) groups,
    each a contiguous block of rows sorted by row (the old ORDER BY, hence the same sums to the last bit)."""
    groups = run(con, "comparison/change_groups").fetchall()  # grp, instrument, visit, ordinal, n
    fetched = run(con, "comparison/changes").fetchnumpy()
    group = np.asarray(fetched.pop("grp"), dtype=np.int16)
    row = np.asarray(fetched.pop("row"), dtype=np.int64)
    order = _row_order(group, row, len(groups), n)
    group = group[order]
    instruments, visits = sorted({g[1] for g in groups}), sorted({g[2] for g in groups})
    changes = pd.DataFrame({
        "row": row[order],
        "instrument": pd.Categorical.from_codes(
            np.array([instruments.index(g[1]) for g in groups], dtype=np.int16)[group], instruments),
        "visit": pd.Categorical.from_codes(np.array([visits.index(g[2]) for g in groups], dtype=np.int16)[group],
                                           visits),
        "visit_ordinal": np.array([g[3] for g in groups], dtype=np.int32)[group],
        "change": _array(fetched.pop("change"))[order], "responder": _array(fetched.pop("responder"))[order],
    }, copy=False)
    starts = np.concatenate([[0], np.cumsum([g[4] for g in groups])]).astype(np.int64)
    # Python's order of the keys (pandas' groupby order), whatever DuckDB's collation.
    index = {(g[1], g[2], int(g[3])): np.arange(starts[k], starts[k + 1]) for k, g in enumerate(groups) if g[4]}
    return changes, {key: index[key] for key in sorted(index)}


def load_changes_of(con: duckdb.DuckDBPyConnection, instrument: str, visit: str) -> tuple[np.ndarray, np.ndarray]:
    """(row, change) of one instrument at one visit, in row order."""
    fetched = run(con, "comparison/changes_of", instrument=instrument, visit=visit).fetchnumpy()
    return np.asarray(fetched["row"], dtype=np.int64), _array(fetched["change"])


def model_terms(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """The stored whole-population coefficients (only a starting value for the subgroup fits), or none."""
    try:
        fitted = con.execute("SELECT term, coef FROM comparison.propensity_model WHERE status = 'fitted'")
        return {term: float(coef) for term, coef in fitted.fetchall()}
    except duckdb.CatalogException:
        return {}


def load_satisfaction(con: duckdb.DuckDBPyConnection, study: Study) -> pd.DataFrame:
    definition = next(d for d in study.satisfaction if d.name == study.primary_satisfaction)
    fetched = run(con, "comparison/satisfaction", instrument=definition.instrument,
                  satisfied_max=definition.satisfied_max, visit=study.primary_visit).fetchnumpy()
    return pd.DataFrame({"row": np.asarray(fetched["row"], dtype=np.int64), "satisfied": _array(fetched["satisfied"])})


def load_data(con: duckdb.DuckDBPyConnection, study: Study, patients: pd.DataFrame,
              with_changes: bool = True) -> ComparisonData:
    """Everything the estimates need; without the change rows (aggregated in SQL instead, change_differences)
    unless with_changes."""
    if with_changes:
        changes, groups = load_changes(con, len(patients))
    else:
        changes, groups = pd.DataFrame(columns=["row", "instrument", "visit", "visit_ordinal", "change",
                                                "responder"]), {}
    return ComparisonData(patients, changes, load_satisfaction(con, study), study.primary_visit, _groups=groups)


# The group number of sql/comparison/change_rows.sql (passed to it as parameters, decoded by _group_of).
_KEY_SHIFT, _ORDINAL_OFFSET, _VISIT_SLOTS = 4294967296, 2147483648, 4096


def _group_of(key: int, instruments: list[str], visits: list[str]) -> tuple[str, str, int]:
    """(instrument, visit, visit_ordinal) of a group number of sql/comparison/change_rows.sql."""
    code, low = divmod(int(key), _KEY_SHIFT)
    return instruments[code // _VISIT_SLOTS - 1], visits[code % _VISIT_SLOTS - 1], low - _ORDINAL_OFFSET


def _key_of(group: tuple[str, str, int], instruments: list[str], visits: list[str]) -> int:
    return ((instruments.index(group[0]) + 1) * _VISIT_SLOTS + visits.index(group[1]) + 1) * _KEY_SHIFT \
        + int(group[2]) + _ORDINAL_OFFSET


def change_differences(con: duckdb.DuckDBPyConnection, attendance: bool = False,
                       terms: PropensityTerms | None = None) -> dict[str, list[tuple[Key, int, Difference]]]:
    """The change and responder differences of every instrument and visit, unadjusted and adjusted by the
    stored weights, from the sums of sql/comparison/change_sums.sql (what _differences computes from rows).
    attendance (SAP 3.1, the MAR twin): only the rows of eligible, assessed patients, and "adjusted" weighted by
    the attendance weight × the stored confounding weight ("unadjusted" is then the plain difference of those
    rows). The one estimator either way: only the rows and their weight change. `terms`: the propensity model
    of the stored weights (cohort row order); given, the adjusted SEs account for its estimation
    (ps_variance.py; the attendance weights stay fixed), from the same rows fetched as arrays.

    The view's rows are stored once (sql/comparison/change_rows.sql, a temporary table in patient order,
    built on every thread and dropped at the end, also on error): the sums read it on one thread, in that order,
    and the variance fetches it; evaluating the view's joins twice, once of them on one thread, cost most of the
    MAR twin's time at 1,000,000 patients."""
    run(con, "comparison/weighted_changes_mar" if attendance else "comparison/weighted_changes")
    instruments, visits = (sorted(v) for v in run(con, "comparison/change_keys").fetchone())
    out: dict[str, list[tuple[Key, int, Difference]]] = {"unadjusted": [], "adjusted": []}
    if not instruments:
        return out  # no change rows at all
    try:
        run(con, "comparison/change_rows", instruments=instruments, visits=visits, visit_slots=_VISIT_SLOTS,
            key_shift=_KEY_SHIFT, ordinal_offset=_ORDINAL_OFFSET)
        con.execute("SET threads = 1")  # the same sums on every refresh (why: docs/comparison.md, "One thread")
        try:
            sums = run(con, "comparison/change_sums").fetchall()
        finally:
            con.execute("RESET threads")
        by_group: dict[tuple[str, str, int], dict[bool, tuple]] = {}
        for r in sums:
            by_group.setdefault(_group_of(r[0], instruments, visits), {})[bool(r[1])] = tuple(
                0.0 if v is None else v for v in r[2:])
        empty = (0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0)  # an arm without rows
        for (instrument, visit, ordinal) in sorted(by_group):
            arms = [by_group[(instrument, visit, ordinal)].get(flag, empty) for flag in (True, False)]
            # n, Σy, Σy², Σw, Σwy, Σw², Σw²y, Σw²y²; responder: n, Σy, Σw, Σwy, Σw², Σw²y (y² = y for 0/1)
            unweighted = [(a[0], a[0], a[1], a[0], a[1], a[2]) for a in arms]
            weighted = [(a[0], a[3], a[4], a[5], a[6], a[7]) for a in arms]
            responder_u = [(a[8], a[8], a[9], a[8], a[9], a[9]) for a in arms]
            responder_w = [(a[8], a[10], a[11], a[12], a[13], a[13]) for a in arms]
            # Rows of positive weight (the n of HC1: a weight-0 patient is not in the fit); all rows unweighted.
            positive = {"unadjusted": (None, None), "adjusted": (int(arms[0][14] + arms[1][14]),
                                                                 int(arms[0][15] + arms[1][15]))}
            for adjustment, change, responder in (("unadjusted", unweighted, responder_u),
                                                  ("adjusted", weighted, responder_w)):
                n_change, n_responder = positive[adjustment]
                out[adjustment].append((("pro_change", instrument, visit, "mean_change_difference"), ordinal,
                                        difference_from_sums(*change, positive=n_change)))
                out[adjustment].append((("responder", instrument, visit, "risk_difference"), ordinal,
                                        difference_from_sums(*responder, positive=n_responder)))
        if terms is not None and out["adjusted"]:
            out["adjusted"] = _with_estimated_weights(con, terms, out["adjusted"], instruments, visits)
    finally:
        con.execute("DROP TABLE IF EXISTS temp.comparison_change_rows")
    return out


def _with_estimated_weights(con: duckdb.DuckDBPyConnection, terms: PropensityTerms,
                            adjusted: list[tuple[Key, int, Difference]], instruments: list[str], visits: list[str]
                            ) -> list[tuple[Key, int, Difference]]:
    """The adjusted change and responder differences (from the SQL sums) with the variance correction for the
    estimated propensity model: its sums over the rows of comparison_change_rows, fetched once as arrays
    (group number, row, change, responder, row factor) in the table's patient order. variance_corrections
    sums in that order whatever the order of the rows, so the SEs are the same to the last bit on every
    refresh of the same data."""
    keys = sorted({(key[1], key[2], int(ordinal)) for key, ordinal, _ in adjusted})  # every group of the table
    fetched = run(con, "comparison/weighted_change_rows").fetchnumpy()
    # The position of each row's group in `keys`: a table indexed by the instrument-and-visit part of the number
    # (one visit ordinal per visit; otherwise a binary search), checked against the whole number.
    key_of = np.array([_key_of(k, instruments, visits) for k in keys], dtype=np.int64)
    fetched_key = np.asarray(fetched.pop("grp_key"), dtype=np.int64)
    code = key_of // _KEY_SHIFT
    if np.unique(code).size == code.size:
        lookup = np.zeros(int(code.max()) + 1, dtype=np.int64)
        lookup[code] = np.arange(len(keys))
        group = lookup[np.minimum(fetched_key // _KEY_SHIFT, code.max())]
    else:
        group = np.minimum(np.searchsorted(key_of, fetched_key), len(keys) - 1)
    if not np.array_equal(key_of[group], fetched_key):
        raise ValueError("a change row of a group without sums")  # cannot happen: sums and rows of one table
    del fetched_key
    number = {k: j for j, k in enumerate(keys)}
    row = np.asarray(fetched.pop("row"), dtype=np.int64)
    factor = _array(fetched.pop("factor"))
    outcomes = [_array(fetched.pop("change")), _array(fetched.pop("responder"))]
    delta, positive = variance_corrections(terms, row, group, outcomes, len(keys), factor)
    out = []
    for key, ordinal, d in adjusted:
        j, k = (0 if key[0] == "pro_change" else 1), number[(key[1], key[2], ordinal)]
        out.append((key, ordinal, with_estimated_weights(d, float(delta[j, k]), int(positive[j, k]))))
    return out


def reintervention_times(con: duckdb.DuckDBPyConnection) -> tuple[np.ndarray, np.ndarray]:
    fetched = con.execute(REINTERVENTION_TIMES).fetchnumpy()
    return _array(fetched["reintervention_time"]), _array(fetched["reintervention_event"])
