"""Per-site adjusted ODI change differences and their random-effects pooling on the comparison warehouse of
test_comparison_assets (300 patients, seed 7), checked against an independent route: statsmodels' logistic
GLM fitted on the site's patients (design rebuilt by hand: median / 0 imputation, missing indicators, constants
dropped) and statsmodels' WLS with HC1 on the site's complete pairs (the weights-fixed component), and the SE
accounting for the estimated model by the stacked estimating equations with numerical derivatives
(tests/stacked_sandwich.py). The pooling itself is checked against metafor in test_comparison_heterogeneity.py."""

import math
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from assets.comparison import COMPARISON_ASSETS
from pipeline.comparison.heterogeneity import FEWER_THAN_TWO, random_effects
from pipeline.comparison.propensity import BINARY, COVARIATES
from pipeline.comparison.sites import NOT_ESTIMABLE, POOLED, UNDER_THRESHOLD, site_estimates, too_few_pairs
from tests.dagster_resources import dagster_resources
from tests.stacked_sandwich import stacked_variance
from tests.test_comparison_assets import warehouse as comparison_warehouse  # noqa: F401  (fixture)
from tests.test_survival_assets import query
from tests.test_survival_assets import warehouse as staged_warehouse  # noqa: F401  (fixture)


@pytest.fixture(scope="module")
def materialized(comparison_warehouse: Path, tmp_path_factory) -> tuple[Path, dg.ExecuteInProcessResult]:  # noqa: F811
    copy = tmp_path_factory.mktemp("sites") / "sites.duckdb"
    copy.write_bytes(comparison_warehouse.read_bytes())
    result = dg.materialize(COMPARISON_ASSETS, resources=dagster_resources(copy),
                            selection=dg.AssetSelection.groups("comparison"))
    assert result.success
    return copy, result


@pytest.fixture(scope="module")
def built(materialized) -> Path:
    return materialized[0]


def test_the_asset_publishes_its_column_schema_site_table_and_headline(materialized):
    database, result = materialized
    meta = {k: v.value for k, v in result.asset_materializations_for_node("site_heterogeneity")[0].metadata.items()}
    columns = {c.name: c.type for c in meta["dagster/column_schema"].columns}
    assert (columns["site"], columns["estimate"], columns["status"]) == ("VARCHAR", "DOUBLE", "VARCHAR")
    records = meta["site_table"].records
    pooled = query(database, "SELECT site, estimate FROM comparison.site_estimates WHERE status = 'pooled' "
                             "ORDER BY site")
    assert [(r.data["site"], r.data["estimate"]) for r in records] == [(s, round(e, 4)) for s, e in pooled]
    assert "n_treatment" not in {c.name for c in meta["site_table"].schema.columns}
    row = query(database, "SELECT estimate, tau2 FROM comparison.site_heterogeneity")[0]
    assert meta["pooled estimate"] == pytest.approx(row[0]) and meta["tau2"] == pytest.approx(row[1])


def _frame(database: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.sql(sql).df()


def _by_hand(cohort: pd.DataFrame, changes: pd.DataFrame) -> tuple[float, float]:
    """The site's overlap-weighted difference and its SE accounting for the estimated propensity model (HC1
    factor), from statsmodels (model, weights-fixed HC1 component) and the stacked estimating equations by
    numerical derivatives (tests/stacked_sandwich.py), not from the pipeline's code."""
    columns = {}
    for name in COVARIATES:
        v = cohort[name].astype(float)
        if v.isna().any():
            fill = 0.0 if name in BINARY or v.notna().sum() == 0 else float(v.median())
            columns[f"{name}_missing"] = v.isna().astype(float)
            v = v.fillna(fill)
        columns[name] = v
    x = pd.DataFrame(columns)
    x = x.loc[:, x.max() > x.min()]
    treated = cohort["treated"].to_numpy(dtype=float)
    glm = sm.GLM(treated, sm.add_constant(x.to_numpy()), family=sm.families.Binomial()).fit(tol=1e-12)
    e = pd.Series(glm.fittedvalues, index=cohort["patient_id"])
    merged = changes.merge(cohort[["patient_id", "treated"]], on="patient_id")
    score = e.loc[merged["patient_id"]].to_numpy()
    t = merged["treated"].to_numpy(dtype=float)
    w = np.where(t == 1, 1 - score, score)
    # Patients of weight 0 are left out of the fit (SAP 6 v2), as R's subset = w > 0; a patient whose covariates
    # separate the arms has a score of 0 or 1 to machine precision: the pipeline gives it weight exactly 0 (its
    # separation rule), statsmodels a weight of order 1e-12.
    keep = w > 1e-9
    wls = sm.WLS(merged["change"].to_numpy()[keep], sm.add_constant(t[keep]), weights=w[keep]).fit(cov_type="HC1")
    # Quasi-complete separation within a site: the separated patients (score 0 or 1) add nothing to any
    # equation, so the stacked equations are those of the other patients, with the model re-fitted on them
    # (columns constant among them dropped): the limit fit.
    inside = (glm.fittedvalues > 1e-9) & (glm.fittedvalues < 1 - 1e-9)
    xs = x.loc[inside]
    xs = xs.loc[:, xs.max() > xs.min()]
    full_rank = []  # columns aliased among these patients (e.g. a missing indicator = a site's) carry nothing
    for column in xs.columns:
        candidate = np.column_stack([np.ones(len(xs)), xs[[*full_rank, column]].to_numpy()])
        if np.linalg.matrix_rank(candidate) == candidate.shape[1]:
            full_rank.append(column)
    xs = xs[full_rank]
    fit = sm.GLM(treated[inside], sm.add_constant(xs.to_numpy()), family=sm.families.Binomial()).fit(tol=1e-12)
    position = pd.Series(np.arange(int(inside.sum())), index=cohort.loc[inside, "patient_id"])
    rows = position.loc[merged["patient_id"][keep]].to_numpy()
    estimate, variance, hc0 = stacked_variance(xs.to_numpy(), treated[inside] == 1, fit.params, rows,
                                               merged["change"].to_numpy()[keep])
    n = int(keep.sum())
    assert estimate == pytest.approx(float(wls.params[1]), abs=1e-9)
    assert float(wls.bse[1]) ** 2 == pytest.approx(hc0 * n / (n - 2), rel=1e-9)  # the weights-fixed component
    return float(wls.params[1]), math.sqrt(variance * n / (n - 2))


def test_site_estimates_equal_statsmodels_refitted_within_the_site(built):
    sites = _frame(built, "SELECT * FROM comparison.site_estimates ORDER BY site")
    cohort = _frame(built, "SELECT * FROM comparison.cohort")
    changes = _frame(built, "SELECT c.site_id, c.patient_id, c.change FROM outcomes.pro_changes c "
                            "JOIN comparison.cohort USING (site_id, patient_id) "
                            "WHERE c.instrument = 'ODI' AND c.visit = 'M12'")
    assert set(sites["site"]) == set(cohort["site_id"])
    pooled = sites[sites["status"] == POOLED]
    assert len(pooled) >= 2  # the fixture must exercise the pooling
    for r in pooled.itertuples():
        site_cohort = cohort[cohort["site_id"] == r.site].reset_index(drop=True)
        estimate, se = _by_hand(site_cohort, changes[changes["site_id"] == r.site])
        assert r.estimate == pytest.approx(estimate, abs=1e-6)
        assert r.se == pytest.approx(se, abs=1e-6)
        assert (r.ci_lower, r.ci_upper) == pytest.approx((estimate - 1.959964 * se, estimate + 1.959964 * se),
                                                         abs=1e-5)
        assert r.balance_achieved and r.max_abs_smd_after < 1e-6  # overlap weights balance within the site
    # Complete pairs per arm: the site's analysis patients with an M12 ODI change.
    pairs = changes.merge(cohort[["patient_id", "treated"]], on="patient_id").groupby(["site_id", "treated"]).size()
    for r in sites.itertuples():
        assert (r.n_treatment, r.n_comparator) == (pairs.get((r.site, True), 0), pairs.get((r.site, False), 0))


def test_the_pooled_row_is_the_random_effects_fit_of_the_site_rows(built):
    sites = _frame(built, "SELECT * FROM comparison.site_estimates WHERE status = 'pooled' ORDER BY site")
    row = _frame(built, "SELECT * FROM comparison.site_heterogeneity").iloc[0]
    fit = random_effects(sites["estimate"], sites["se"] ** 2)
    assert row["sites_pooled"] == len(sites) and row["df"] == len(sites) - 1
    assert (row["estimate"], row["ci_lower"], row["ci_upper"], row["tau2"], row["i2"], row["pi_lower"],
            row["pi_upper"]) == pytest.approx((fit.estimate, fit.lower, fit.upper, fit.tau2, fit.i2, fit.pi_lower,
                                               fit.pi_upper), abs=1e-12)


def _toy(n_sites: int, per_arm: list[tuple[int, int]], seed: int = 3) -> tuple:
    rng = np.random.default_rng(seed)
    rows, site = [], []
    for s, (nt, nc) in enumerate(per_arm[:n_sites]):
        for treated, n in ((True, nt), (False, nc)):
            for _ in range(n):
                rows.append({c: rng.normal(50, 10) for c in COVARIATES} | {"treated": treated})
                site.append(f"S{s}")
    patients = pd.DataFrame(rows)
    for b in BINARY:
        patients[b] = rng.integers(0, 2, len(patients)).astype(float)
    change = rng.normal(-15, 10, len(patients))
    return patients, np.array(site, dtype=object), np.arange(len(patients)), change


def test_sites_under_the_threshold_are_left_out_and_counted():
    patients, site, row, change = _toy(3, [(40, 40), (40, 5), (30, 35)])
    frame = site_estimates(patients, site, row, change, "overlap", (1.0, 99.0), minimum=11)
    status = dict(zip(frame["site"], frame["status"], strict=True))
    assert status == {"S0": POOLED, "S1": UNDER_THRESHOLD, "S2": POOLED}
    assert frame.loc[frame["site"] == "S1", "note"].item() == too_few_pairs(11)
    assert frame.loc[frame["site"] == "S1", "estimate"].isna().all()


def test_separation_within_a_site_leaves_that_site_out_with_the_reason():
    patients, site, row, change = _toy(2, [(40, 40), (30, 30)])
    inside = site == "S1"
    patients.loc[inside, "smoker"] = patients.loc[inside, "treated"].astype(float)  # smoker decides the arm
    frame = site_estimates(patients, site, row, change, "overlap", (1.0, 99.0), minimum=11)
    s1 = frame[frame["site"] == "S1"].iloc[0]
    assert s1["status"] == NOT_ESTIMABLE and "separate" in s1["note"]
    assert frame.loc[frame["site"] == "S0", "status"].item() == POOLED


def test_one_site_only_is_not_estimable_and_records_the_gap(comparison_warehouse, tmp_path):  # noqa: F811
    copy = tmp_path / "one_site.duckdb"
    copy.write_bytes(comparison_warehouse.read_bytes())
    with duckdb.connect(str(copy)) as con:
        first = con.execute("SELECT min(site_id) FROM staging.patients").fetchone()[0]
        con.execute("UPDATE staging.patients SET in_analysis = false WHERE site_id <> $1", [first])
    result = dg.materialize(COMPARISON_ASSETS, resources=dagster_resources(copy),
                            selection=dg.AssetSelection.groups("comparison"))
    assert result.success
    row = query(copy, "SELECT sites_pooled, estimate, not_estimable FROM comparison.site_heterogeneity")[0]
    assert row[0] <= 1 and row[1] is None and row[2] == FEWER_THAN_TWO
    assert dict(query(copy, "SELECT what, reason FROM meta.not_estimable"))["site_heterogeneity"] == FEWER_THAN_TWO
