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
published. Stored with integer keys (outcomes.attendance_rows: model, patient; the identifiers in
outcomes.attendance_patients, instrument, visit and method in outcomes.attendance_models) and read through the
view outcomes.attendance_weights, which joins them back: only numbers travel between DuckDB and Python.

Cost (docs/outcomes.md, "Speed"): one fetch of the patients, one of their due visits and one of every value
of the instruments (each value with its position in a visit-major array); the models visit by visit, each
started from the coefficients of the model fitted just before it at the same visit (the instruments'
attendance is nearly the same, so Newton needs few iterations), every design built in one reused buffer;
the rows written by one statement per visit, on the main thread while a worker thread fits the next visit.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from pipeline.comparison.propensity import COVARIATES, build_design
from pipeline.outcomes.attendance import design_of_rows, fit_attendance
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
    """The attendance patients as arrays in row order (sql/outcomes/attendance_input.sql)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, study: Study) -> None:
        fetched = con.execute("SELECT * EXCLUDE (row, site_id, patient_id, arm) FROM attendance_input "
                              "ORDER BY row").fetchnumpy()
        self.n = len(fetched["treated"])
        self.treated = np.asarray(fetched["treated"], dtype=bool)
        self.site = np.asarray(fetched["site"], dtype=np.int64)
        # The comparison stage's imputation over the whole analysis population (medians, 0 for 0/1 columns,
        # missing indicators), so the attendance and propensity models see the same covariates.
        design = build_design(pd.DataFrame({c: _array(fetched[c]) for c in COVARIATES}))
        # The arm and the covariates as one column-ordered matrix, from which each model gathers its rows.
        self.base = np.empty((self.n, 1 + len(design.names)), order="F")
        self.base[:, 0] = self.treated
        self.base[:, 1:] = design.x.to_numpy(dtype=float)
        self.base_names = ("treatment", *design.names)
        # Every model's matrix is built in this one buffer (the largest possible: intercept, arm, covariates,
        # a column per site, the earlier value and its missing indicator); no model keeps its matrix.
        sites = int(self.site.max()) + 1 if self.n else 0
        self.design = np.empty(self.n * (len(self.base_names) + sites + 3))
        index_years = _array(fetched["index_year"])
        self.latest_index_year = None if self.n == 0 else int(np.nanmax(index_years))


def _values(con: duckdb.DuckDBPyConnection, instruments: list[str], n: int, visits: int) -> dict[str, np.ndarray]:
    """Per instrument, the visits × n matrix of its values by visit ordinal (NaN: not assessed in that window),
    from one fetch. Visit-major, so that a model reads its visit's values as one contiguous row; the query
    gives each value's position in the array (at 1,000,000 patients ~40 million values: three index columns
    widened to 64 bits cost more than the scatter)."""
    fetched = run(con, "outcomes/attendance_values", instruments=instruments, visits=visits, patients=n
                  ).fetchnumpy()
    out = np.full((len(instruments), visits, n), np.nan)
    out.reshape(-1)[np.asarray(fetched["cell"], dtype=np.int64)] = _array(fetched["value"])
    return {instrument: out[i] for i, instrument in enumerate(instruments)}


def _due(con: duckdb.DuckDBPyConnection, study: Study, cut: int | None, n: int, visits: int) -> np.ndarray:
    fetched = run(con, "outcomes/attendance_due", baseline_visit=study.baseline_visit, data_cut_year=cut
                  ).fetchnumpy()
    due = np.zeros((visits, n), dtype=bool)  # visit-major: a model reads its visit's row contiguously
    due[np.asarray(fetched["visit_ordinal"], dtype=np.int64), np.asarray(fetched["row"], dtype=np.int64)] = True
    return due


def build_attendance_weights(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    """outcomes.attendance_weights (with attendance_rows and attendance_patients) and
    outcomes.attendance_models, from staging (patients, follow_up, pro_visits)."""
    run(con, "outcomes/attendance_input", baseline_visit=study.baseline_visit)
    try:
        return _build(con, study)
    finally:
        con.execute("DROP TABLE IF EXISTS attendance_input")


@dataclass
class _Instrument:
    """What the models of one instrument carry from visit to visit."""

    values: np.ndarray  # visits × n: the instrument's values (NaN: not assessed)
    earlier: np.ndarray  # visits × n: the values whose most recent one is the model's last value
    has_baseline: np.ndarray  # n: may be eligible at all
    last: np.ndarray  # n: the most recent earlier value before the current visit (the baseline to start)
    coef: dict[str, float] = field(default_factory=dict)  # the model at the visit before


@dataclass
class _Model:
    instrument: str
    visit: int
    rows: np.ndarray  # patient rows that are eligible or assessed (int32: 1,000,000 patients hold 50 million)
    eligible: np.ndarray
    assessed: np.ndarray
    weight: np.ndarray
    method: str
    description: dict


def _build(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
    patients = _Patients(con, study)
    cut = data_cut_year(con, study, patients.latest_index_year)
    names = [v.name for v in study.visits]
    base = names.index(study.baseline_visit)
    post = range(base + 1, len(names))
    due = _due(con, study, cut, patients.n, len(names))
    instruments = attendance_instruments(study)
    fetched = sorted({*instruments, SATISFACTION_EARLIER})
    values = _values(con, fetched, patients.n, len(names))
    satisfaction = satisfaction_instrument(study)
    state = {}
    for instrument in instruments:
        earlier = values[SATISFACTION_EARLIER] if instrument == satisfaction else values[instrument]
        has_baseline = (np.ones(patients.n, dtype=bool) if instrument == satisfaction
                        else ~np.isnan(values[instrument][base]))
        state[instrument] = _Instrument(values[instrument], earlier, has_baseline, earlier[base].copy())
    descriptions: dict[int, dict] = {}

    def fit_visit(k: int) -> list[tuple[int, _Model]]:
        """The models of visit k, in instrument order (each visit's models start from the visit before's)."""
        shared: dict[str, float] = {}  # the model fitted last at this visit, without its earlier-value terms
        fitted = []
        for i, instrument in enumerate(instruments):
            model = _fit(patients, study, state[instrument], instrument, names, k, due[k], shared, cut)
            # Model numbers in (instrument, visit) order, the order of outcomes.attendance_models.
            number = i * len(post) + (k - post.start)
            descriptions[number] = {**model.description, "model": number}
            fitted.append((number, model))
            seen = ~np.isnan(state[instrument].earlier[k])
            state[instrument].last[seen] = state[instrument].earlier[k][seen]
        return fitted

    rows = 0
    with transaction(con):
        run(con, "outcomes/attendance_patients_write")
        run(con, "outcomes/attendance_rows_table")
        # The visits are fitted one after another on one worker thread, while this thread writes the rows of
        # the visit before (DuckDB's insert and numpy both run without the GIL): the fits are the same chain
        # as one thread would run, the writes keep their order, and only this thread touches the connection.
        # At most two visits' rows are held (~0.1 GB each at 1,000,000 patients).
        with ThreadPoolExecutor(max_workers=1) as worker:
            pending = [worker.submit(fit_visit, k) for k in post[:1]]
            for k in post:
                fitted = pending.pop().result()
                if k + 1 in post:
                    pending.append(worker.submit(fit_visit, k + 1))
                rows += _write_rows(con, fitted)
        model_table = pd.DataFrame([descriptions[m] for m in sorted(descriptions)], columns=[*MODEL_COLUMNS])
        write_table(con, "outcomes.attendance_models", model_table, column_types=MODEL_COLUMNS)
        if scalar(con, "staging/table_exists", schema="outcomes", table="attendance_weights"):
            con.execute("DROP TABLE IF EXISTS outcomes.attendance_weights")  # older warehouses: a table
        run(con, "outcomes/attendance_weights_view")
        record_parameters(con, ASSET, study)
    models = [descriptions[m] for m in sorted(descriptions)]
    headline = {
        "data_cut_year": float(cut) if cut is not None else float("nan"),
        "models ipaw": float(sum(m["method"] == "ipaw" for m in models)),
        "models complete_case": float(sum(m["method"] == "complete_case" for m in models)),
        "largest weight": float(np.nanmax([m["max_weight"] for m in models] + [np.nan]))
        if any(np.isfinite(m["max_weight"]) for m in models) else float("nan"),
    }
    return Built(ASSET, {f"outcomes.{ASSET}": rows, "outcomes.attendance_models": len(model_table),
                         "outcomes.attendance_rows": rows, "outcomes.attendance_patients": patients.n}, headline)


MODEL_COLUMNS = {"instrument": "VARCHAR", "visit": "VARCHAR", "visit_ordinal": "INTEGER", "eligible": "BIGINT",
                 "assessed": "BIGINT", "method": "VARCHAR", "reason": "VARCHAR", "terms": "INTEGER",
                 "max_weight": "DOUBLE", "data_cut_year": "INTEGER", "model": "INTEGER"}


def _fit(patients: _Patients, study: Study, state: _Instrument, instrument: str, names: list[str], k: int,
         due_k: np.ndarray, shared: dict[str, float], cut: int | None) -> _Model:
    """The attendance model of one instrument at visit k and its rows. Starting values (they only save Newton
    iterations): the coefficients of the model fitted just before at the same visit (another instrument; its
    attendance is nearly the same), with this instrument's earlier-value terms from its model at the visit
    before; at the first model of a visit, this instrument's model at the visit before. `shared` is updated."""
    eligible = due_k & state.has_baseline
    assessed = ~np.isnan(state.values[k])
    idx = np.flatnonzero(eligible)
    x, terms = design_of_rows(patients.base, patients.base_names, idx, patients.site[idx], state.last[idx],
                              study.suppression_threshold, patients.design)
    own_last = {t: c for t, c in state.coef.items() if t.startswith("last_value")}
    start = {**own_last, **shared} if shared else state.coef
    att = fit_attendance(x, terms, assessed[idx], patients.treated[idx], study.attendance_truncation_percentile,
                         study.attendance_min_patients, start=start)
    state.coef = att.coef
    if att.coef:
        shared.clear()
        shared.update({t: c for t, c in att.coef.items() if not t.startswith("last_value")})
    out = np.flatnonzero(eligible | assessed).astype(np.int32)
    weight = np.full(patients.n, np.nan)
    weight[idx] = att.weights
    w = att.weights[~np.isnan(att.weights)]
    description = {
        "instrument": instrument, "visit": names[k], "visit_ordinal": k, "eligible": int(idx.size),
        "assessed": int(assessed[idx].sum()), "method": att.method, "reason": att.reason, "terms": len(terms),
        "max_weight": float(w.max()) if w.size else float("nan"), "data_cut_year": cut}
    return _Model(instrument, k, out, eligible[out], assessed[out], weight[out], att.method, description)


def _write_rows(con: duckdb.DuckDBPyConnection, models: list[tuple[int, _Model]]) -> int:
    """Append the rows of some models (number, model) to outcomes.attendance_rows by one statement. The columns
    are registered as numpy arrays (DuckDB scans them in place; a DataFrame of ~6 million rows per visit at
    1,000,000 patients cost a copy), the weight as a masked array: NaN (no weight) becomes NULL."""
    sizes = [m.rows.size for _, m in models]
    weight = np.concatenate([m.weight for _, m in models])
    columns = {
        "model": np.repeat(np.array([number for number, _ in models], dtype=np.int32), sizes),
        "patient": np.concatenate([m.rows for _, m in models]).astype(np.int32, copy=False),
        "eligible": np.concatenate([m.eligible for _, m in models]),
        "assessed": np.concatenate([m.assessed for _, m in models]),
        "weight": np.ma.masked_array(weight, mask=np.isnan(weight))}
    con.register("_attendance_rows", columns)
    try:
        run(con, "outcomes/attendance_rows_write")
    finally:
        con.unregister("_attendance_rows")
    return int(weight.size)
