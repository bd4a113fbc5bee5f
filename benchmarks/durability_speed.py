"""Time the durability estimators and the durability stage on a synthetic 1,000,000-patient cohort.

Usage: .venv/bin/python -m benchmarks.durability_speed [--patients 1000000]
Part 1 fits every estimator on numpy arrays (two arms, integer days, ties, competing deaths, interval-censored
durable-response rows). Part 2 writes synthetic staging tables into a temporary DuckDB file and runs the
durability data sets and fits as the assets do. Prints wall times; results go in docs/durability.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline.survival import (
    aalen_johansen,
    cox_efron,
    cox_zph,
    durability_tables,
    kaplan_meier,
    logrank,
    rmst,
    turnbull,
)
from pipeline.survival.datasets import (
    build_durable_response_dataset,
    build_reintervention_dataset,
    build_return_to_activity_dataset,
)

VISITS = (("BASELINE", 0, -90, 0, 0), ("W6", 1, 14, 63, 42), ("M3", 2, 64, 135, 91), ("M6", 3, 136, 270, 182),
          ("M12", 4, 271, 547, 365), ("M24", 5, 548, 912, 730), ("M36", 6, 913, 1277, 1095),
          ("M48", 7, 1278, 1642, 1461), ("M60", 8, 1643, 2008, 1826))


def timed(label: str, fn: Callable[[], object]) -> object:
    t0 = time.perf_counter()
    out = fn()
    print(f"{label:<58} {time.perf_counter() - t0:7.2f} s", flush=True)
    return out


def estimators(n: int, rng: np.random.Generator) -> None:
    arm = rng.integers(0, 2, n)
    reint = np.ceil(rng.exponential(np.where(arm == 1, 9000.0, 12000.0)))
    death = np.ceil(rng.exponential(15000.0, n))
    censor = rng.integers(0, 2400, n)
    time_ = np.minimum(np.minimum(reint, death), np.minimum(censor, 1826)).astype(float)
    status = np.where(reint == time_, 1, np.where(death == time_, 2, 0))
    event = (status == 1).astype(int)
    print(f"{n:,} patients, {np.unique(time_).size} distinct days, {event.sum():,} events")
    t_all = time.perf_counter()
    for a in (0, 1):
        sel = arm == a
        km = timed(f"KM arm {a} (aggregate + Greenwood + log-log CI)", lambda sel=sel: kaplan_meier(time_[sel],
                                                                                                 event[sel]))
        timed(f"RMST arm {a}", lambda km=km: rmst(km, 1826))
        timed(f"Aalen-Johansen arm {a}", lambda sel=sel: aalen_johansen(time_[sel], status[sel]))
    timed("log-rank (lifelines on aggregated counts)", lambda: logrank(time_, event, arm))
    print(f"{'  KM + RMST + AJ + log-rank, both arms':<58} {time.perf_counter() - t_all:7.2f} s")
    w = rng.uniform(0.1, 1.9, n)
    timed("weighted KM, robust (IJ) variance, one arm", lambda: kaplan_meier(time_[arm == 1], event[arm == 1],
                                                                             w[arm == 1]))
    fit = timed("Cox PH, Efron, aggregated risk sets (this package)", lambda: cox_efron(time_, event, arm))
    timed("cox.zph test", lambda: cox_zph(time_, event, arm, fit))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifelines import CoxPHFitter

        frame = pd.DataFrame({"T": time_, "E": event, "x": arm})
        timed("Cox PH, lifelines CoxPHFitter (for comparison)", lambda: CoxPHFitter().fit(frame, "T", "E"))
    visits = np.array([42, 91, 182, 365, 730, 1095, 1461, 1826])
    seen = visits[None, :] + rng.integers(-20, 21, (n, visits.size))
    fail = rng.exponential(1500.0, n)
    k = (seen < fail[:, None]).sum(axis=1)
    left = np.where(k == 0, 0.0, seen[np.arange(n), np.maximum(k - 1, 0)])
    right = np.where(k == visits.size, np.nan, seen[np.arange(n), np.minimum(k, visits.size - 1)])
    timed("Turnbull NPMLE (interval-censored, one arm)", lambda: turnbull(left[arm == 1], right[arm == 1]))


def staging(con: duckdb.DuckDBPyConnection, n: int) -> None:
    """Synthetic staging tables with the columns the durability SQL reads."""
    con.execute("CREATE SCHEMA staging")
    con.execute("CREATE TABLE staging.visit_windows AS SELECT * FROM (VALUES " + ", ".join(
        f"('{v}', {o}, {s}, {e}, {t})" for v, o, s, e, t in VISITS) + ") t(visit, ordinal, start_day, end_day, "
                "target_day)")
    con.execute("""
        CREATE TABLE staging.patients AS
        SELECT 'S' || (i % 10) AS site_id, 'P' || i AS patient_id,
               CASE WHEN i % 5 < 2 THEN 'MILD' ELSE 'LAMINECTOMY' END AS procedure,
               CASE WHEN i % 5 < 2 THEN 'treatment' ELSE 'comparator' END AS arm, true AS in_analysis
        FROM range(?) r(i)""", [n])
    con.execute("""
        CREATE TABLE staging.events AS
        SELECT site_id, patient_id, day AS days_from_index, event FROM (
            SELECT site_id, patient_id, (random() * 3000)::INTEGER AS day, 'REINTERVENTION_SURGERY' AS event
            FROM staging.patients WHERE random() < 0.15
            UNION ALL SELECT site_id, patient_id, (random() * 4000)::INTEGER, 'DEATH'
            FROM staging.patients WHERE random() < 0.1
            UNION ALL SELECT site_id, patient_id, (random() * 60)::INTEGER, 'RETURN_TO_ACTIVITY'
            FROM staging.patients WHERE random() < 0.95
            UNION ALL SELECT site_id, patient_id, (random() * 2200)::INTEGER, 'LAST_CONTACT' FROM staging.patients)""")
    con.execute("""
        CREATE TABLE staging.follow_up AS
        SELECT p.site_id, p.patient_id, coalesce(max(e.days_from_index), 0) AS follow_up_end_day,
               min(e.days_from_index) FILTER (WHERE e.event = 'DEATH') AS death_day
        FROM staging.patients p LEFT JOIN staging.events e USING (site_id, patient_id) GROUP BY ALL""")
    con.execute("""
        CREATE TABLE staging.pro_visits AS
        SELECT p.site_id, p.patient_id, 'ODI' AS instrument, w.visit, w.ordinal AS visit_ordinal,
               w.target_day + (random() * 30)::INTEGER - 15 AS days_from_index,
               CASE WHEN w.ordinal = 0 THEN 45 ELSE 45 - (random() * 30)::INTEGER END AS value
        FROM staging.patients p CROSS JOIN staging.visit_windows w WHERE random() < 0.8""")


def stage(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
        timed("synthetic staging tables (setup, not part of the stage)", lambda: staging(con, n))
        t0 = time.perf_counter()
        timed("reintervention_dataset (SQL)", lambda: build_reintervention_dataset(con, 1826))
        timed("return_to_activity_dataset (SQL)", lambda: build_return_to_activity_dataset(con, 1826))
        timed("durable_response_dataset (SQL)", lambda: build_durable_response_dataset(con))
        timed("reintervention_km (load, fit, write)", lambda: durability_tables.reintervention_km(con))
        timed("reintervention_comparison", lambda: durability_tables.reintervention_comparison(con, 1826))
        timed("reintervention_cif", lambda: durability_tables.reintervention_cif(con))
        timed("durable_response_turnbull", lambda: durability_tables.durable_response_turnbull(con))
        timed("return_to_activity_km", lambda: durability_tables.return_to_activity_km(con))
        print(f"{'  durability stage in total':<58} {time.perf_counter() - t0:7.2f} s")
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = np.random.default_rng(20261123)
    estimators(args.patients, rng)
    stage(args.patients)


if __name__ == "__main__":
    main()
