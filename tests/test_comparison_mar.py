"""The MAR twin of the adjusted PRO differences (SAP 3.1): the one sums model on the eligible, assessed complete
pairs weighted by attendance × confounding weights equals statsmodels WLS with HC1, patients matched by site and
id (ids repeat across sites); the complete-case path is unchanged; the tipping point of the difference shifts
the treatment arm's unassessed patients, with their confounding-weighted share."""

import duckdb
import numpy as np
import pytest
import statsmodels.api as sm

from pipeline.check_registry import check_named
from pipeline.checks import run_check
from pipeline.comparison.cohort import change_differences
from pipeline.comparison.mar_differences import COLUMNS, TIPPING_COLUMNS, mar_difference_rows, tipping_rows
from pipeline.sql import run
from pipeline.study import load_study
from pipeline.warehouse import write_table

STUDY = load_study()

N = 400


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(11)
    site = np.where(np.arange(N) < N // 2, "S1", "S2")
    pid = np.array([f"P{i % (N // 2):04d}" for i in range(N)])  # the same ids at both sites
    treated = rng.random(N) < 0.45
    weight = rng.uniform(0.2, 0.8, N)
    con = duckdb.connect()
    con.execute("CREATE SCHEMA outcomes; CREATE SCHEMA comparison")
    # `row`: the patient's position in (site_id, patient_id) order, as comparison.cohort numbers it.
    con.execute("CREATE TABLE comparison.cohort AS SELECT * FROM (SELECT unnest($1) AS site_id, "
                "unnest($2) AS patient_id, unnest($3) AS treated, unnest($4) AS weight, unnest($5) AS row)",
                [site.tolist(), pid.tolist(), treated.tolist(), weight.tolist(), list(range(N))])
    changes, attendance = [], []
    for visit, ordinal in (("M12", 5), ("M60", 9)):
        eligible = rng.random(N) < 0.9
        assessed = eligible & (rng.random(N) < 0.7)
        w_att = np.where(assessed, rng.uniform(1.0, 2.5, N), np.nan)
        method = "ipaw" if visit == "M12" else "complete_case"
        if method == "complete_case":
            w_att = np.where(assessed, 1.0, np.nan)
        change = -10 * treated - 8 + rng.normal(0, 12, N)
        # A change also for some patients who are not eligible (died before the window, say): they stay out.
        has_change = assessed | (~eligible & (rng.random(N) < 0.5))
        for i in np.flatnonzero(has_change):
            changes.append((site[i], pid[i], "ODI", visit, ordinal, change[i], bool(change[i] <= -10)))
        for i in range(N):
            attendance.append((site[i], pid[i], "ODI", visit, "MILD" if treated[i] else "LAMINECTOMY",
                               bool(eligible[i]), bool(assessed[i]),
                               None if np.isnan(w_att[i]) else float(w_att[i]), method))
    con.execute("CREATE TABLE outcomes.pro_changes (site_id VARCHAR, patient_id VARCHAR, instrument VARCHAR, "
                "visit VARCHAR, visit_ordinal INTEGER, change DOUBLE, responder BOOLEAN)")
    con.executemany("INSERT INTO outcomes.pro_changes VALUES (?, ?, ?, ?, ?, ?, ?)", changes)
    _store_attendance(con, attendance)
    yield con
    con.close()


def _store_attendance(con, attendance: list[tuple]) -> None:
    """outcomes.attendance_weights as the outcomes stage stores it: rows keyed by model and patient number, the
    identifiers and arm, the models' instrument, visit and method, and the view that joins them back."""
    patients = {key: i for i, key in enumerate(sorted({(r[0], r[1], r[4]) for r in attendance}))}
    models = {key: i for i, key in enumerate(sorted({(r[2], r[3], r[8]) for r in attendance}))}
    con.execute("CREATE TABLE outcomes.attendance_patients (patient INTEGER, site_id VARCHAR, patient_id VARCHAR, "
                "arm VARCHAR)")
    con.executemany("INSERT INTO outcomes.attendance_patients VALUES (?, ?, ?, ?)",
                    [(i, *key) for key, i in patients.items()])
    con.execute("CREATE TABLE outcomes.attendance_models (model INTEGER, instrument VARCHAR, visit VARCHAR, "
                "method VARCHAR)")
    con.executemany("INSERT INTO outcomes.attendance_models VALUES (?, ?, ?, ?)",
                    [(i, *key) for key, i in models.items()])
    con.execute("CREATE TABLE outcomes.attendance_rows (model INTEGER, patient INTEGER, eligible BOOLEAN, "
                "assessed BOOLEAN, weight DOUBLE)")
    con.executemany("INSERT INTO outcomes.attendance_rows VALUES (?, ?, ?, ?, ?)",
                    [(models[(r[2], r[3], r[8])], patients[(r[0], r[1], r[4])], r[5], r[6], r[7])
                     for r in attendance])
    run(con, "outcomes/attendance_weights_view")


def _wls(con, visit: str, column: str, attendance: bool):
    """statsmodels WLS of the outcome on 1 + treated with HC1, on rows assembled by pandas merges."""
    cohort = con.execute("SELECT * FROM comparison.cohort").df()
    rows = con.execute("SELECT * FROM outcomes.pro_changes WHERE visit = ?", [visit]).df()
    rows = rows.merge(cohort, on=["site_id", "patient_id"])
    w = rows["weight"].to_numpy()
    if attendance:
        att = con.execute("SELECT * FROM outcomes.attendance_weights WHERE visit = ? AND eligible AND assessed",
                          [visit]).df()
        rows = rows.merge(att, on=["site_id", "patient_id", "instrument", "visit"], suffixes=("", "_att"))
        w = rows["weight"].to_numpy() * rows["weight_att"].to_numpy()
    y = rows[column].to_numpy(dtype=float)
    return sm.WLS(y, sm.add_constant(rows["treated"].to_numpy(dtype=float)), weights=w).fit(cov_type="HC1")


def _ours(con, visit: str, outcome: str, attendance: bool):
    found = [d for (o, _, v, _), _, d in change_differences(con, attendance=attendance)["adjusted"]
             if o == outcome and v == visit]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("visit", ["M12", "M60"])
@pytest.mark.parametrize(("outcome", "column"), [("pro_change", "change"), ("responder", "responder")])
@pytest.mark.parametrize("attendance", [True, False])
def test_weighted_difference_equals_statsmodels_wls_hc1(world, visit, outcome, column, attendance):
    fit, ours = _wls(world, visit, column, attendance), _ours(world, visit, outcome, attendance)
    assert ours.estimate == pytest.approx(fit.params[1], abs=1e-10)
    assert ours.se == pytest.approx(fit.bse[1], rel=1e-9)
    assert ours.n_treatment + ours.n_comparator == fit.nobs


def test_the_mar_twin_leaves_out_changes_of_patients_not_eligible(world):
    cc, mar = _ours(world, "M12", "pro_change", False), _ours(world, "M12", "pro_change", True)
    eligible_assessed = world.execute("SELECT count(*) FROM outcomes.attendance_weights "
                                      "WHERE visit = 'M12' AND eligible AND assessed").fetchone()[0]
    assert mar.n_treatment + mar.n_comparator == eligible_assessed < cc.n_treatment + cc.n_comparator


def test_the_difference_tipping_point_uses_the_treatment_arms_weighted_share_not_assessed(world):
    frame = mar_difference_rows(world, "overlap")
    tipping, gaps = tipping_rows(world, STUDY, frame)
    assert gaps == () and len(tipping) == 1
    row = tipping.iloc[0]
    # The share, by pandas: confounding weight of the eligible MILD patients not assessed / of all eligible.
    att = world.execute("SELECT * FROM outcomes.attendance_weights WHERE visit = ? AND eligible",
                        [STUDY.primary_visit]).df()
    both = att.merge(world.execute("SELECT * FROM comparison.cohort").df(), on=["site_id", "patient_id"])
    mild = both[both["treated"]]
    share = mild.loc[~mild["assessed"], "weight_y"].sum() / mild["weight_y"].sum()
    assert row["share_unassessed"] == pytest.approx(share, rel=1e-12)
    assert (row["eligible"], row["assessed"]) == (len(mild), int(mild["assessed"].sum()))
    diff = frame[(frame["outcome"] == "pro_change") & (frame["visit"] == STUDY.primary_visit)].iloc[0]
    assert diff["ci_upper"] < 0  # MILD better: a worse MILD result among the unassessed moves it towards 0
    # At δ*, the upper limit of the shifted difference reaches the null.
    assert diff["ci_upper"] + row["delta"] * share == pytest.approx(0.0, abs=1e-9)
    assert row["what"] == "adjusted.pro_change_difference_mar" and row["arm"] == STUDY.treatment


def test_the_check_holds_on_the_twin_and_fails_on_an_estimate_outside_its_ci(world):
    frame = mar_difference_rows(world, "overlap")
    tipping, _ = tipping_rows(world, STUDY, frame)
    world.execute("CREATE SCHEMA IF NOT EXISTS comparison")
    write_table(world, "comparison.pro_change_difference_mar", frame, COLUMNS)
    write_table(world, "comparison.tipping_point_difference", tipping, TIPPING_COLUMNS)
    spec = check_named("adjusted_estimates_mar", "differences_valid")
    held = run_check(world, spec, STUDY)
    assert (held.failures, held.checked) == (0, len(frame) + len(tipping))
    world.execute("UPDATE comparison.pro_change_difference_mar SET estimate = ci_upper + 1 "
                  "WHERE outcome = 'pro_change' AND visit = 'M60'")
    assert run_check(world, spec, STUDY).failures == 1
