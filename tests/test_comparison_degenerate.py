"""The comparison stage on degenerate but contract-valid data (SAP 9): the 300-patient warehouse of
test_comparison_assets, altered in staging or durability, then the real comparison assets and checks. Every
asset materializes, every table keeps its columns, gaps are recorded with plain reasons, and what is
estimated is checked against an independent route (statsmodels GLM, hand formulas)."""

import math
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pytest
import statsmodels.api as sm

from assets.comparison import COMPARISON_ASSETS
from pipeline.comparison import reasons
from pipeline.comparison.adjusted_tables import TYPES
from pipeline.comparison.cohort import load_cohort
from pipeline.comparison.estimates import hazard_ratio
from pipeline.comparison.heterogeneity import FEWER_THAN_TWO
from pipeline.comparison.logistic import logistic_mle
from pipeline.comparison.propensity import build_design
from pipeline.study import load_study
from tests.dagster_resources import dagster_resources
from tests.test_comparison_assets import warehouse as comparison_warehouse  # noqa: F401  (fixture)
from tests.test_survival_assets import query
from tests.test_survival_assets import warehouse as staged_warehouse  # noqa: F401  (fixture)

SEPARATION = reasons.SEPARATION
# A handful in an arm: every comparator patient but three leaves the analysis population.
THREE_COMPARATORS_LEFT = (
    "UPDATE staging.patients SET in_analysis = false WHERE arm = 'comparator' AND patient_id NOT IN ("
    "SELECT patient_id FROM staging.patients WHERE arm = 'comparator' AND in_analysis ORDER BY patient_id LIMIT 3)")


def refresh(source: Path, tmp_path: Path, *statements: str,
            overrides: str = "") -> tuple[Path, dg.ExecuteInProcessResult]:
    copy = tmp_path / "degenerate.duckdb"
    copy.write_bytes(source.read_bytes())
    with duckdb.connect(str(copy)) as con:
        for statement in statements:
            con.execute(statement)
    result = dg.materialize(COMPARISON_ASSETS,
                            resources=dagster_resources(copy, overrides=overrides), raise_on_error=False)
    assert result.success
    return copy, result


COMPARISON_KEYS = {key.path[-1] for a in COMPARISON_ASSETS for key in a.keys}


def gaps(database: Path) -> dict[str, str]:
    """The gaps the comparison stage recorded (those of the upstream stages, e.g. a durable-response CI of this
    small world, are not what these tests change), without the SAP 3.1 tipping points: a data set whose CI
    already holds the null (or points the unfavourable way) has none, by design, whatever the degeneracy tested
    here (tests/test_comparison_mar.py)."""
    rows = query(database, "SELECT asset, what, reason FROM meta.not_estimable")
    return {what: reason for asset, what, reason in rows
            if asset in COMPARISON_KEYS and not what.startswith("tipping_point[")}


def checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def assert_shapes(database: Path) -> None:
    for table, types in TYPES.items():
        columns = [r[0] for r in query(database, f"DESCRIBE comparison.{table}")]
        assert columns == list(types), table


def fitted_by_statsmodels(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return sm.GLM(y, np.column_stack([np.ones(len(y)), x]), family=sm.families.Binomial()).fit(tol=1e-12).fittedvalues


ADJUSTED = ("adjusted.pro_change_difference", "complications.difference.adjusted", "reintervention.adjusted_cox_hr")
NOT_ESTIMABLE = ("balance", *ADJUSTED, "reintervention.e_value", "subgroups", "site_heterogeneity")


def test_empty_population_materializes_every_table_and_holds_the_checks(comparison_warehouse, tmp_path):  # noqa: F811
    db, result = refresh(comparison_warehouse, tmp_path, "UPDATE staging.patients SET in_analysis = false")
    assert_shapes(db)
    assert {w: gaps(db)[w] for w in NOT_ESTIMABLE} == dict.fromkeys(NOT_ESTIMABLE, reasons.NO_PATIENTS)
    assert query(db, "SELECT count(*) FROM comparison.adjusted_estimates")[0][0] == 0
    for check in checks(result).values():
        assert check.passed and reasons.NO_PATIENTS in check.description


def test_one_arm_only_keeps_its_own_curves(comparison_warehouse, tmp_path):  # noqa: F811
    db, result = refresh(comparison_warehouse, tmp_path,
                         "UPDATE staging.patients SET in_analysis = false WHERE arm = 'comparator'")
    assert_shapes(db)
    assert {w: gaps(db)[w] for w in NOT_ESTIMABLE} == dict.fromkeys(NOT_ESTIMABLE, "no LAMINECTOMY patients")
    km = query(db, "SELECT DISTINCT arm, adjustment FROM comparison.adjusted_km")
    assert km == [("MILD", "unadjusted")]
    assert all(c.passed for c in checks(result).values())


def test_handful_in_an_arm_gives_unadjusted_rows_only(comparison_warehouse, tmp_path):  # noqa: F811
    db, _ = refresh(comparison_warehouse, tmp_path, THREE_COMPARATORS_LEFT)
    assert gaps(db)["reintervention.adjusted_cox_hr"] == "fewer than 11 patients in an arm"
    assert query(db, "SELECT DISTINCT adjustment FROM comparison.adjusted_estimates") == [("unadjusted",)]
    # The unadjusted complication risk difference is the plain difference of proportions.
    estimate, n_t, n_c = query(db, "SELECT estimate, n_treatment, n_comparator FROM comparison.adjusted_estimates "
                                   "WHERE outcome = 'complication'")[0]
    rates = dict(query(db, "SELECT treated, avg(complication) FROM comparison.cohort GROUP BY treated"))
    assert (n_c, estimate) == (3, pytest.approx(rates[True] - rates[False], abs=1e-12))


def test_complete_separation_is_not_estimable_and_says_so(comparison_warehouse, tmp_path):  # noqa: F811
    db, result = refresh(comparison_warehouse, tmp_path,
                         "UPDATE staging.patients SET smoker = (arm = 'treatment')::INTEGER")
    assert_shapes(db)
    assert {w: gaps(db)[w] for w in NOT_ESTIMABLE} == dict.fromkeys(NOT_ESTIMABLE, SEPARATION)
    assert query(db, "SELECT count(*) FROM comparison.propensity WHERE propensity_score IS NOT NULL "
                     "AND NOT isnan(propensity_score)")[0][0] == 0
    assert checks(result)["balance"].passed  # nothing to check, not a failed gate
    # Unadjusted twins are still there.
    assert query(db, "SELECT count(*) FROM comparison.adjusted_estimates WHERE adjustment = 'unadjusted'")[0][0] > 0


def test_logistic_fit_reports_separation_instead_of_coefficients():
    x = np.arange(20.0)
    y = (x >= 10).astype(float)
    fit = logistic_mle(np.column_stack([np.ones(20), x]), y)
    assert fit.separated and not fit.converged and np.isnan(fit.coef).all()
    one_value = logistic_mle(np.ones((5, 1)), np.ones(5))
    assert one_value.separated and not one_value.converged
    empty = logistic_mle(np.empty((0, 3)), np.empty(0))  # no BLAS call on an empty design
    assert not empty.converged and not empty.separated and empty.fitted.size == 0


def test_quasi_separation_gives_the_limit_fit_equal_to_statsmodels_on_the_rest():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(400, 2))
    y = (rng.random(400) < 1 / (1 + np.exp(-(0.5 + x[:, 0])))).astype(float)
    flag = np.zeros(400)
    flag[np.flatnonzero(y == 0)[:15]] = 1.0  # a rare indicator present in one outcome only
    X = np.column_stack([np.ones(400), x, flag])
    fit = logistic_mle(X, y)
    assert fit.separated and fit.converged and fit.boundary.sum() == 15 and list(fit.separating) == [0, 0, 0, 1]
    assert np.all(fit.fitted[flag == 1] == 0.0)
    rest = flag == 0
    assert fit.fitted[rest] == pytest.approx(fitted_by_statsmodels(x[rest], y[rest]), rel=1e-8)


def test_quasi_separation_in_the_population_is_weighted_and_a_level_without_comparators_is_noted(
        comparison_warehouse, tmp_path):  # noqa: F811
    # No comparator has diabetes: diabetics are MILD for certain (score 1, overlap weight 0).
    db, result = refresh(comparison_warehouse, tmp_path,
                         "UPDATE staging.patients SET diabetes = 0 WHERE arm = 'comparator'")
    assert not gaps(db)
    assert checks(result)["balance"].passed  # the rest balances exactly
    separated = query(db, "SELECT count(*), max(weight) FROM comparison.cohort WHERE diabetes = 1")[0]
    assert separated[0] > 0 and separated[1] == 0.0
    notes = dict(query(db, "SELECT level, note FROM comparison.subgroups WHERE subgroup = 'diabetes' "
                           "AND measure = 'mean_change_difference'"))
    assert notes == {"yes": "no LAMINECTOMY patients", "no": None}
    assert query(db, "SELECT status FROM comparison.propensity_model WHERE term = 'diabetes'") == [("separating",)]
    # ATE would weight patients who have no counterpart: not estimable.
    db, _ = refresh(comparison_warehouse, tmp_path, "UPDATE staging.patients SET diabetes = 0 WHERE arm = 'comparator'",
                    overrides="[comparison]\nweights = 'ate'")
    assert gaps(db)["balance"] == SEPARATION


@pytest.mark.parametrize("value", ["27.0", "NULL"], ids=["constant", "all_missing"])
def test_constant_or_all_missing_covariate_is_dropped_and_the_fit_equals_statsmodels(
        comparison_warehouse, tmp_path, value):  # noqa: F811
    db, _ = refresh(comparison_warehouse, tmp_path, f"UPDATE staging.patients SET bmi = {value}")
    assert not gaps(db)
    dropped = {r[0] for r in query(db, "SELECT term FROM comparison.propensity_model "
                                       "WHERE status = 'dropped_constant'")}
    assert "bmi" in dropped and ("bmi_missing" in dropped) == (value == "NULL")
    with duckdb.connect(str(db), read_only=True) as con:
        cohort = load_cohort(con)
    design = build_design(cohort, site_minimum=load_study().suppression_threshold)
    assert "bmi" not in design.names and not np.isnan(design.x.to_numpy()).any()
    expected = fitted_by_statsmodels(design.x.to_numpy(), cohort["treated"].to_numpy(dtype=float))
    assert cohort["propensity_score"].to_numpy() == pytest.approx(expected, rel=1e-7)


def test_equal_weights_make_adjusted_equal_unadjusted(comparison_warehouse, tmp_path):  # noqa: F811
    db, result = refresh(
        comparison_warehouse, tmp_path,
        "UPDATE staging.patients SET age_at_index = 70, bmi = 27, diabetes = 0, smoker = 0, prior_esi = 0, "
        "symptom_months = 12, levels_treated = 1, asa_class = 2, female = 0, sex = 'M'",
        "DELETE FROM staging.pro_assessments WHERE visit = 'BASELINE'",
        # One site (SAP 6 v2: no site term), so that no covariate of the model varies.
        "UPDATE staging.patients SET in_analysis = false WHERE site_id <> (SELECT site_id FROM staging.patients "
        "WHERE in_analysis GROUP BY site_id ORDER BY count(*) DESC, site_id LIMIT 1)")
    # One site: site heterogeneity (SAP 6 v2) has nothing to pool, by construction of this world.
    assert gaps(db) == {"balance": reasons.ALL_CONSTANT, "site_heterogeneity": FEWER_THAN_TWO}
    assert query(db, "SELECT count(DISTINCT weight) FROM comparison.cohort GROUP BY treated") == [(1,), (1,)]
    assert checks(result)["balance"].passed
    pairs = query(db, "SELECT a.estimate, u.estimate, a.se, u.se FROM comparison.adjusted_estimates a "
                      "JOIN comparison.adjusted_estimates u USING (outcome, instrument, visit, measure) "
                      "WHERE a.adjustment = 'adjusted' AND u.adjustment = 'unadjusted' AND a.measure <> 'hazard_ratio'"
                      " AND a.estimate IS NOT NULL AND NOT isnan(a.estimate)")
    assert pairs and all(a == pytest.approx(u, rel=1e-9) and (sa is su is None or sa == pytest.approx(su, rel=1e-9))
                         for a, u, sa, su in pairs)


def test_no_events_leave_the_hazard_ratio_e_value_and_complication_difference_as_gaps(
        comparison_warehouse, tmp_path):  # noqa: F811
    db, _ = refresh(comparison_warehouse, tmp_path,
                    "UPDATE durability.reintervention_dataset SET event = 0",
                    "UPDATE durability.return_to_activity_dataset SET event = 0",
                    "DELETE FROM staging.events WHERE event = 'COMPLICATION'")
    found = gaps(db)
    assert found["reintervention.adjusted_cox_hr"] == found["reintervention.e_value"] == reasons.NO_REINTERVENTION
    assert found["complications.difference.adjusted"] == reasons.NO_COMPLICATIONS
    assert "adjusted.pro_change_difference" not in found and "balance" not in found
    estimate, lower = query(db, "SELECT estimate, ci_lower FROM comparison.adjusted_estimates "
                                "WHERE outcome = 'complication' AND adjustment = 'adjusted'")[0]
    assert estimate == 0.0 and (lower is None or np.isnan(lower))  # no CI of [0, 0]
    assert query(db, "SELECT min(survival) FROM comparison.adjusted_km_curve "
                     "WHERE outcome = 'return_to_activity'")[0][0] == 1.0
    notes = {r[0] for r in query(db, "SELECT note FROM comparison.subgroups WHERE measure = 'hazard_ratio'")}
    assert notes == {reasons.NO_REINTERVENTION}


def test_a_hazard_ratio_without_a_finite_estimate_is_not_estimable_instead_of_raising():
    # Every treated patient fails before any comparator: the Cox likelihood grows without bound (R's coxph
    # warns "coefficient may be infinite"); Newton's information matrix goes singular on the way.
    time, event = np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4)
    treated = np.array([True, True, False, False])
    for robust in (False, True):
        hr = hazard_ratio(time, event, treated, None, robust)
        assert math.isnan(hr.estimate) and math.isnan(hr.lower) and (hr.n_treatment, hr.n_comparator) == (2, 2)
    # The same arms with interleaved failures have a finite estimate.
    assert math.isfinite(hazard_ratio(np.array([1.0, 3.0, 2.0, 4.0]), event, treated, None, False).estimate)
