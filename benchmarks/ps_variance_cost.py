"""Added cost of the SE that accounts for the estimated propensity model (issue 15; pipeline/comparison/ps_variance.py)
on the change and responder differences, complete case and MAR twin.

    .venv/bin/python -m benchmarks.ps_variance_cost [--patients 100000]

A synthetic in-memory warehouse: `patients` in comparison.cohort (8 sites), 28 instrument × visit groups in
outcomes.pro_changes (each patient present in a group with probability 0.9: ~25 rows per patient) and the
attendance weights in their stored form (outcomes.attendance_rows, 95% eligible, with attendance_patients and
attendance_models), a 20-column design. Times cohort.change_differences with and without the propensity terms
(best of 3) and propensity_terms itself.
"""

import argparse
import time

import duckdb
import numpy as np
import pandas as pd

from pipeline.comparison.cohort import change_differences
from pipeline.comparison.ps_variance import propensity_terms
from pipeline.sql import load_sql

INSTRUMENTS = ("ODI", "NRS_BACK", "NRS_LEG", "EQ5D")
VISITS = ("W2", "M1", "M3", "M6", "M12", "M24", "M60")


def warehouse(n: int, seed: int = 1) -> tuple[duckdb.DuckDBPyConnection, np.ndarray, np.ndarray, np.ndarray,
                                              np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.asfortranarray(rng.normal(size=(n, 20)))
    e = 1 / (1 + np.exp(-(x[:, :4] @ np.array([0.5, -0.3, 0.2, 0.1]))))
    t = rng.random(n) < e
    w = np.where(t, 1 - e, e)
    con = duckdb.connect()
    con.execute("CREATE SCHEMA outcomes; CREATE SCHEMA comparison")
    site = np.array([f"S{i % 8}" for i in range(n)])
    pid = np.array([f"P{i:07d}" for i in range(n)])
    order = np.lexsort((pid, site))
    cohort = pd.DataFrame({"site_id": site[order], "patient_id": pid[order], "treated": t, "weight": w,
                           "row": np.arange(n)})
    con.register("c", cohort)
    con.execute("CREATE TABLE comparison.cohort AS SELECT * FROM c")
    con.unregister("c")
    parts = []
    for instrument in INSTRUMENTS:
        for ordinal, visit in enumerate(VISITS):
            idx = np.flatnonzero(rng.random(n) < 0.9)
            change = rng.normal(-10, 12, idx.size)
            parts.append(pd.DataFrame({"site_id": cohort["site_id"].to_numpy()[idx],
                                       "patient_id": cohort["patient_id"].to_numpy()[idx], "instrument": instrument,
                                       "visit": visit, "visit_ordinal": ordinal, "change": change,
                                       "responder": change < -10}))
    changes = pd.concat(parts)
    con.register("p", changes)
    con.execute("CREATE TABLE outcomes.pro_changes AS SELECT * FROM p")
    con.unregister("p")
    # The attendance weights in their stored form (pipeline/outcomes/attendance_weights.py: integer keys, the
    # identifiers and the models in their own tables), which sql/comparison/weighted_changes_mar.sql reads.
    con.execute("CREATE TABLE outcomes.attendance_patients AS SELECT row::INTEGER AS patient, site_id, patient_id, "
                "'X' AS arm FROM comparison.cohort")
    con.execute("CREATE TABLE outcomes.attendance_models AS SELECT (row_number() OVER (ORDER BY instrument, visit) "
                "- 1)::INTEGER AS model, instrument, visit, 'ipaw' AS method FROM (SELECT DISTINCT instrument, visit "
                "FROM outcomes.pro_changes)")
    con.execute(load_sql("outcomes/attendance_rows_table"))
    con.execute("INSERT INTO outcomes.attendance_rows SELECT m.model, p.patient, random() < 0.95, TRUE, 1 + random() "
                "FROM outcomes.pro_changes c JOIN outcomes.attendance_patients p USING (site_id, patient_id) "
                "JOIN outcomes.attendance_models m USING (instrument, visit)")
    return con, x, t, e, w


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    args = parser.parse_args()
    con, x, t, e, w = warehouse(args.patients)
    rows = con.execute("SELECT count(*) FROM outcomes.pro_changes").fetchone()[0]
    best: dict[str, float] = {}

    def timed(label: str, call) -> object:
        start = time.perf_counter()
        out = call()
        best[label] = min(best.get(label, np.inf), time.perf_counter() - start)
        return out

    for _ in range(3):
        terms = timed("propensity_terms", lambda: propensity_terms(x, t, e, w, "overlap"))
        for label, attendance in (("complete case", False), ("MAR twin", True)):
            timed(f"{label}, weights fixed", lambda a=attendance: change_differences(con, attendance=a))
            timed(f"{label}, estimation accounted for",
                  lambda a=attendance, s=terms: change_differences(con, attendance=a, terms=s))
    print(f"{args.patients} patients, {rows} change rows; best of 3 (s):")
    for label, seconds in best.items():
        print(f"  {label}: {seconds:.3f}")


if __name__ == "__main__":
    main()
