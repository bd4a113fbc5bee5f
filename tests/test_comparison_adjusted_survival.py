"""Adjusted freedom from reintervention beyond the HR (SAP 6 v2) on the 300-patient warehouse of
test_comparison_assets: the adjusted_reintervention asset writes the weighted RMST per arm and its difference,
the PH test of the weighted Cox model and the weighted cumulative incidence per reporting day; the estimates
agree with lifelines (weighted KM point estimate and its RMST) and a slow per-patient Aalen–Johansen written
here; degenerate landings give gaps with plain reasons, never a failed refresh. The estimators themselves
are checked against R in tests/test_survival_adjusted.py."""

import warnings
from pathlib import Path

import dagster as dg
import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time

from assets.comparison import COMPARISON_ASSETS
from pipeline.comparison import reasons
from pipeline.comparison.adjusted_survival import CIF, PH_TEST, RMST, RMST_DIFFERENCE, TYPES
from tests.dagster_resources import dagster_resources
from tests.test_comparison_assets import warehouse as comparison_warehouse  # noqa: F401  (fixture)
from tests.test_comparison_degenerate import THREE_COMPARATORS_LEFT, gaps, refresh
from tests.test_survival_assets import query
from tests.test_survival_assets import warehouse as staged_warehouse  # noqa: F401  (fixture)

DAYS = (365, 730, 1095, 1461, 1826)


@pytest.fixture(scope="module")
def built(comparison_warehouse: Path) -> Path:  # noqa: F811
    result = dg.materialize(COMPARISON_ASSETS,
                            resources=dagster_resources(comparison_warehouse))
    assert result.success
    return comparison_warehouse


def cohort(db: Path) -> dict[str, np.ndarray]:
    rows = query(db, "SELECT treated, reintervention_time, reintervention_event, reintervention_competing, weight "
                     "FROM comparison.cohort WHERE reintervention_time IS NOT NULL AND weight > 0 ORDER BY row")
    cols = list(zip(*rows, strict=True))
    return {"treated": np.array(cols[0], bool), "time": np.array(cols[1], float), "event": np.array(cols[2], float),
            "competing": np.array(cols[3], float), "weight": np.array(cols[4], float)}


def slow_weighted_cif(time: np.ndarray, status: np.ndarray, w: np.ndarray, day: float) -> float:
    """Aalen–Johansen written patient by patient over the distinct times (the textbook definition)."""
    surv, f = 1.0, 0.0
    for t in np.unique(time[time <= day]):
        at_risk = w[time >= t].sum()
        d1 = w[(time == t) & (status == 1)].sum()
        d = w[(time == t) & (status > 0)].sum()
        f += surv * d1 / at_risk
        surv *= 1 - d / at_risk
    return f


def test_tables_have_their_columns_and_both_arms(built):
    for table, types in TYPES.items():
        assert [r[0] for r in query(built, f"DESCRIBE comparison.{table}")] == list(types), table
    measures = query(built, "SELECT measure, arm_role FROM comparison.adjusted_reintervention "
                            "ORDER BY measure, arm_role")
    assert measures == [("ph_test", None), ("rmst", "comparator"), ("rmst", "treatment"), ("rmst_difference", None)]
    assert query(built, "SELECT count(*), count(DISTINCT day) FROM comparison.adjusted_cif")[0] == (10, 5)
    assert not {w for w in gaps(built) if w.startswith("reintervention.adjusted_")}


def test_rmst_agrees_with_lifelines_weighted_km_and_the_difference_with_its_arms(built):
    c = cohort(built)
    rows = {r[0]: r[1:] for r in query(built, "SELECT arm_role, estimate, se, ci_lower, ci_upper, tau "
                                              "FROM comparison.adjusted_reintervention WHERE measure = 'rmst'")}
    for role, sel in (("treatment", c["treated"]), ("comparator", ~c["treated"])):
        with warnings.catch_warnings():  # lifelines warns that its variance is wrong for such weights: unused
            warnings.simplefilter("ignore")
            kmf = KaplanMeierFitter().fit(c["time"][sel], c["event"][sel], weights=c["weight"][sel])
        estimate, se, lower, upper, tau = rows[role]
        assert estimate == pytest.approx(restricted_mean_survival_time(kmf, t=tau), rel=1e-9)
        assert (lower, upper) == pytest.approx((estimate - 1.959964 * se, estimate + 1.959964 * se), rel=1e-6)
        assert se > 0
    diff, se_d = query(built, "SELECT estimate, se FROM comparison.adjusted_reintervention "
                              "WHERE measure = 'rmst_difference'")[0]
    assert diff == pytest.approx(rows["treatment"][0] - rows["comparator"][0], rel=1e-12)
    assert se_d == pytest.approx(np.hypot(rows["treatment"][1], rows["comparator"][1]), rel=1e-12)


def test_cumulative_incidence_agrees_with_a_slow_aalen_johansen(built):
    c = cohort(built)
    status = np.where(c["event"] > 0, 1, np.where(c["competing"] > 0, 2, 0))
    rows = query(built, "SELECT arm_role, day, cumulative_incidence, ci_lower, ci_upper "
                        "FROM comparison.adjusted_cif ORDER BY arm_role, day")
    for role, day, f, lower, upper in rows:
        sel = c["treated"] if role == "treatment" else ~c["treated"]
        assert f == pytest.approx(slow_weighted_cif(c["time"][sel], status[sel], c["weight"][sel], day), abs=1e-12)
        assert f == 0 or lower < f < upper


def test_empty_population_and_one_arm_are_gaps(comparison_warehouse, tmp_path):  # noqa: F811
    db, _ = refresh(comparison_warehouse, tmp_path, "UPDATE staging.patients SET in_analysis = false")
    found = gaps(db)
    assert {w: found[w] for w in (RMST, RMST_DIFFERENCE, CIF, PH_TEST)} == dict.fromkeys(
        (RMST, RMST_DIFFERENCE, CIF, PH_TEST), reasons.NO_PATIENTS)
    assert query(db, "SELECT count(*) FROM comparison.adjusted_reintervention")[0][0] == 0


def test_too_few_in_an_arm_is_a_gap(comparison_warehouse, tmp_path):  # noqa: F811
    db, _ = refresh(comparison_warehouse, tmp_path, THREE_COMPARATORS_LEFT)
    assert gaps(db)[RMST_DIFFERENCE] == gaps(db)[PH_TEST] == "fewer than 11 patients in an arm"


def test_no_events_give_flat_curves_and_no_difference(comparison_warehouse, tmp_path):  # noqa: F811
    db, _ = refresh(comparison_warehouse, tmp_path, "UPDATE durability.reintervention_dataset SET event = 0")
    found = gaps(db)
    assert found[RMST_DIFFERENCE] == found[PH_TEST] == reasons.NO_REINTERVENTION
    rmst = query(db, "SELECT estimate, se, tau FROM comparison.adjusted_reintervention WHERE measure = 'rmst'")
    assert len(rmst) == 2 and all(e == tau and se == 0 for e, se, tau in rmst)
    assert query(db, "SELECT max(cumulative_incidence) FROM comparison.adjusted_cif")[0][0] == 0.0


def test_events_in_one_arm_leave_the_ph_test_a_gap_but_not_the_rmst_difference(comparison_warehouse, tmp_path):  # noqa: F811
    db, _ = refresh(comparison_warehouse, tmp_path,
                    "UPDATE durability.reintervention_dataset SET event = 0 WHERE arm = 'comparator'")
    found = gaps(db)
    assert found[PH_TEST] == reasons.NO_REINTERVENTION_ARM and RMST_DIFFERENCE not in found


def test_degenerate_curves_leave_the_rmst_difference_a_gap_not_a_zero_width_interval(comparison_warehouse, tmp_path):  # noqa: F811
    # Every patient has the event on the same day in both arms: both curves drop from 1 to 0 at once, the
    # influence of every patient is 0 and the difference would be published with SE 0.
    db, _ = refresh(comparison_warehouse, tmp_path,
                    "UPDATE durability.reintervention_dataset SET event = 1, time = 100")
    assert gaps(db)[RMST_DIFFERENCE] == reasons.NO_RMST_VARIANCE
    assert query(db, "SELECT count(*) FROM comparison.adjusted_reintervention WHERE measure = 'rmst_difference'"
                 ) == [(0,)]
