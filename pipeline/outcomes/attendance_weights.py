"""outcomes.attendance_weights (SAP 3.1): per analysis patient, instrument and post-baseline visit, whether the
patient is eligible and assessed, and the attendance weight of the eligible assessed patients; and
outcomes.attendance_models, one row per model (instrument × visit) with its method and why it fell back.

Eligible at visit v (SAP 3.1): a baseline value of the instrument (satisfaction: every patient), *due* at v
(the follow-up end reached the window's start, or index_year + 0.5 + start / 365.25 <= data_cut_year + 1)
and not known dead or withdrawn before the window's start (sql/outcomes/attendance_due.sql). Assessed: an
assessment of the instrument in the window (staging.pro_visits). The satisfaction models use the primary
definition's instrument (SATISFACTION by default) and the most recent ODI as the earlier value.

The rows: every (patient, instrument, visit) that is eligible or assessed (an assessed patient who is not
eligible, e.g. without a baseline value, has eligible false and no weight). `weight` is NULL unless eligible
and assessed; `method` is the model's ("ipaw", or "complete_case" with weight 1). Patient-level, never
published; the identifiers are joined back in SQL, only numbers reach Python.

Cost: one pass over staging.pro_visits per instrument (numeric columns only), one logistic fit per model on
numpy arrays, the rows written by one INSERT per instrument.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from pipeline.comparison.propensity import COVARIATES, build_design
from pipeline.outcomes.attendance import METHODS, fit_attendance
from pipeline.outcomes.attendance import attendance_design as design_of
from pipeline.outcomes.store import record_parameters, transaction
from pipeline.sql import run, scalar
from pipeline.study import Study
from pipeline.warehouse import Built, write_table

ASSET = "attendance_weights"
SATISFACTION_EARLIER = "ODI"  # the satisfaction models' earlier value (SAP 3.1: "the most recent ODI")


def data_cut_year(con: duckdb.DuckDBPyConnection, study: Study, latest_index_year: int | None) -> int | None:
    """The study's data_cut_year, or by default the year the latest drop id begins with, else the latest
    index_year + 1 (None when there is no patient either: then only the follow-up end makes a patient due)."""
    if study.data_cut_year is not None:
        return study.data_cut_year
    if scalar(con, "staging/table_exists", schema="ingest", table="drop_versions"):
        year = scalar(con, "outcomes/data_cut_year")
        if year is not None:
            return int(year)
    return None if latest_index_year is None else int(latest_index_year) + 1


def attendance_instruments(study: Study) -> tuple[str, ...]:
    """The instruments with attendance models: the change instruments, then the primary satisfaction one."""
    return (*study.change_instruments, satisfaction_instrument(study))


def satisfaction_instrument(study: Study) -> str:
    return next(d.instrument for d in study.satisfaction if d.name == study.primary_satisfaction)


def _array(values: np.ndarray) -> np.ndarray:
    """A fetched numeric column as floats; NULLs (a masked array) become NaN."""
    if np.ma.isMaskedArray(values):
        return np.ma.filled(values.astype(float), np.nan)
    return np.asarray(values, dtype=float)


class _Patients:
    """The attendance patients as arrays in row order (sql/outcomes/attendance_patients.sql)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, study: Study) -> None:
        fetched = run(con, "outcomes/attendance_patients_fetch").fetchnumpy()
        self.n = len(fetched["treated"])
        self.treated = np.asarray(fetched["treated"], dtype=bool)
        self.site = np.asarray(fetched["site"], dtype=np.int64)
        # The comparison stage's imputation over the whole analysis population (medians, 0 for 0/1 columns,
        # missing indicators), so the attendance and propensity models see the same covariates.
        design = build_design(pd.DataFrame({c: _array(fetched[c]) for c in COVARIATES}))
        self.covariates = np.asfortranarray(design.x.to_numpy(dtype=float))
        self.covariate_names = tuple(design.names)
        index_years = _array(fetched["index_year"])
        self.latest_index_year = None if self.n == 0 else int(np.nanmax(index_years))


def _values(con: duckdb.DuckDBPyConnection, instrument: str, n: int, visits: int) -> np.ndarray:
    """n × visits matrix of the instrument's values by visit ordinal (NaN: not assessed in that window)."""
    fetched = run(con, "outcomes/attendance_values", instrument=instrument).fetchnumpy()
    out = np.full((n, visits), np.nan)
    out[np.asarray(fetched["row"], dtype=np.int64), np.asarray(fetched["visit_ordinal"], dtype=np.int64)] = \
        _array(fetched["value"])
    return out


def _due(con: duckdb.DuckDBPyConnection, study: Study, cut: int | None, n: int, visits: int) -> np.ndarray:
    fetched = run(con, "outcomes/attendance_due", baseline_visit=study.baseline_visit, data_cut_year=cut
                  ).fetchnumpy()
    due = np.zeros((n, visits), dtype=bool)
    due[np.asarray(fetched["row"], dtype=np.int64), np.asarray(fetched["visit_ordinal"], dtype=np.int64)] = True
    return due


def build_attendance_weights(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    """outcomes.attendance_weights and outcomes.attendance_models, from staging (patients, follow_up,
    pro_visits)."""
    run(con, "outcomes/attendance_patients", baseline_visit=study.baseline_visit)
    try:
        return _build(con, study)
    finally:
        run(con, "outcomes/attendance_drop")


def _build(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    patients = _Patients(con, study)
    cut = data_cut_year(con, study, patients.latest_index_year)
    names = [v.name for v in study.visits]
    base = names.index(study.baseline_visit)
    post = range(base + 1, len(names))
    due = _due(con, study, cut, patients.n, len(names))
    run(con, "outcomes/attendance_values_stage",
        instruments=sorted({*attendance_instruments(study), SATISFACTION_EARLIER}))
    earlier_cache: dict[str, np.ndarray] = {}
    satisfaction = satisfaction_instrument(study)
    models: list[dict] = []
    starts: dict[int, dict[str, float]] = {}  # visit ordinal -> coefficients of the last model at that visit
    rows = 0
    with transaction(con):
        run(con, "outcomes/attendance_weights_table")
        for instrument in attendance_instruments(study):
            values = _values(con, instrument, patients.n, len(names))
            if instrument == satisfaction:
                if SATISFACTION_EARLIER not in earlier_cache:
                    earlier_cache[SATISFACTION_EARLIER] = _values(con, SATISFACTION_EARLIER, patients.n, len(names))
                earlier = earlier_cache[SATISFACTION_EARLIER]
                has_baseline = np.ones(patients.n, dtype=bool)
            else:
                earlier = values
                has_baseline = ~np.isnan(values[:, base])
                if instrument == SATISFACTION_EARLIER:
                    earlier_cache[instrument] = values
            frame, described = _instrument_rows(patients, study, instrument, names, post, base, values, earlier,
                                                has_baseline, due, starts, cut)
            models += described
            rows += _insert(con, frame, instrument, names)
        model_table = pd.DataFrame(models, columns=["instrument", "visit", "visit_ordinal", "eligible", "assessed",
                                                    "method", "reason", "terms", "max_weight", "data_cut_year"])
        write_table(con, "outcomes.attendance_models", model_table,
                    column_types={"instrument": "VARCHAR", "visit": "VARCHAR", "visit_ordinal": "INTEGER",
                                  "eligible": "BIGINT", "assessed": "BIGINT", "method": "VARCHAR",
                                  "reason": "VARCHAR", "terms": "INTEGER", "max_weight": "DOUBLE",
                                  "data_cut_year": "INTEGER"})
        record_parameters(con, ASSET, study)
    headline = {
        "data_cut_year": float(cut) if cut is not None else float("nan"),
        "models ipaw": float(sum(m["method"] == "ipaw" for m in models)),
        "models complete_case": float(sum(m["method"] == "complete_case" for m in models)),
        "largest weight": float(np.nanmax([m["max_weight"] for m in models] + [np.nan]))
        if any(np.isfinite(m["max_weight"]) for m in models) else float("nan"),
    }
    return Built(ASSET, {f"outcomes.{ASSET}": rows, "outcomes.attendance_models": len(model_table)}, headline)


def _instrument_rows(patients: _Patients, study: Study, instrument: str, names: list[str], post: range, base: int,
                     values: np.ndarray, earlier: np.ndarray, has_baseline: np.ndarray, due: np.ndarray,
                     starts: dict[int, dict[str, float]], cut: int | None) -> tuple[pd.DataFrame, list[dict]]:
    """The rows of one instrument at every post-baseline visit, and one description per model."""
    last = earlier[:, base].copy()  # the most recent earlier value: the baseline until a later one is seen
    parts, described = [], []
    previous: dict[str, float] = {}
    for k in post:
        eligible = due[:, k] & has_baseline
        assessed = ~np.isnan(values[:, k])
        idx = np.flatnonzero(eligible)
        x, terms = design_of(patients.treated[idx], _rows_of(patients.covariates, idx), patients.covariate_names,
                             patients.site[idx], last[idx], study.suppression_threshold)
        # Starting values (they only save Newton iterations): this instrument's model at the visit before,
        # else another instrument's at this visit (without its earlier-value terms: another scale).
        start = previous or starts.get(k)
        att = fit_attendance(x, terms, assessed[idx], patients.treated[idx], study.attendance_truncation_percentile,
                             study.attendance_min_patients, start=start)
        previous = att.coef
        if att.coef:
            starts[k] = {term: c for term, c in att.coef.items() if not term.startswith("last_value")}
        weight = np.full(patients.n, np.nan)
        weight[idx] = att.weights
        out = np.flatnonzero(eligible | assessed)
        parts.append(pd.DataFrame({
            "row": out, "visit": np.full(out.size, k, dtype=np.int64), "eligible": eligible[out],
            "assessed": assessed[out], "weight": weight[out],
            "method": np.full(out.size, METHODS.index(att.method), dtype=np.int64)}))
        w = att.weights[~np.isnan(att.weights)]
        described.append({
            "instrument": instrument, "visit": names[k], "visit_ordinal": k, "eligible": int(idx.size),
            "assessed": int(assessed[idx].sum()), "method": att.method, "reason": att.reason,
            "terms": len(terms), "max_weight": float(w.max()) if w.size else float("nan"),
            "data_cut_year": cut})
        seen = ~np.isnan(earlier[:, k])
        last[seen] = earlier[seen, k]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {c: np.zeros(0, dtype=t) for c, t in (("row", np.int64), ("visit", np.int64), ("eligible", bool),
                                              ("assessed", bool), ("weight", float), ("method", np.int64))})
    return frame, described


def _rows_of(columns: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """columns[idx] kept column-ordered: one contiguous gather per column (a fancy row index of a column-ordered
    array would copy row by row), what the design's block copy and the fitter read fastest."""
    out = np.empty((idx.size, columns.shape[1]), order="F")
    for j in range(columns.shape[1]):
        np.take(columns[:, j], idx, out=out[:, j])
    return out


def _insert(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, instrument: str, visits: list[str]) -> int:
    """Append one instrument's rows; visit and method travel as codes (plain integer columns scan fastest) and
    are named in SQL from the parameter lists."""
    con.register("_attendance_rows", frame)
    try:
        run(con, "outcomes/attendance_weights_write", instrument=instrument, visit_names=visits,
            methods=list(METHODS))
    finally:
        con.unregister("_attendance_rows")
    return len(frame)
