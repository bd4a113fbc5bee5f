"""The comparison group on a small generated landing (300 patients, seed 7) taken through ingest, staging,
outcomes and durability by the real assets: every table is materialized, the balance table is shown as
table metadata, the checks run (non-blocking), and every adjusted row carries balance_achieved."""

from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from assets.comparison import COMPARISON_ASSETS
from assets.durability import DURABILITY_ASSETS
from assets.outcomes import OUTCOME_ASSETS
from pipeline.comparison import adjusted_tables
from pipeline.comparison.cohort import StaleWeightsError, load_cohort, load_data
from pipeline.comparison.estimates import estimates_table
from pipeline.comparison.model import weigh
from pipeline.comparison.ps_variance import CI_METHOD, weighting_terms
from pipeline.study import DEFAULT_STUDY_FILE, load_study
from tests.dagster_resources import dagster_resources
from tests.test_survival_assets import query
from tests.test_survival_assets import warehouse as staged_warehouse  # noqa: F401  (fixture)

TABLES = ("cohort", "propensity", "propensity_inputs", "propensity_model", "balance", "balance_summary",
          "adjusted_estimates", "adjusted_km", "adjusted_km_curve", "e_value", "subgroups", "adjusted_reintervention",
          "adjusted_cif", "site_estimates", "site_heterogeneity")


@pytest.fixture(scope="module")
def warehouse(staged_warehouse: Path) -> Path:  # noqa: F811
    upstream = dg.materialize([*OUTCOME_ASSETS, *DURABILITY_ASSETS], resources=dagster_resources(staged_warehouse))
    assert upstream.success
    return staged_warehouse


@pytest.fixture(scope="module")
def run(warehouse: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(COMPARISON_ASSETS, resources=dagster_resources(warehouse),
                          selection=dg.AssetSelection.groups("comparison"))


def metadata(run: dg.ExecuteInProcessResult, asset: str) -> dict:
    return {k: v.value for k, v in run.asset_materializations_for_node(asset)[0].metadata.items()}


def test_every_comparison_table_is_materialized(run, warehouse):
    assert run.success
    for table in TABLES:
        assert query(warehouse, f"SELECT count(*) FROM comparison.{table}")[0][0] > 0, table
    patients = query(warehouse, "SELECT count(*) FROM staging.patients WHERE in_analysis")[0][0]
    assert query(warehouse, "SELECT count(*) FROM comparison.propensity")[0][0] == patients


def test_balance_table_is_table_metadata_and_overlap_balances_exactly(run, warehouse):
    meta = metadata(run, "covariate_balance")
    table = meta["balance_table"]
    assert {c.name for c in table.schema.columns} >= {"covariate", "smd_before", "smd_after"}
    assert len(table.records) == query(warehouse, "SELECT count(*) FROM comparison.balance")[0][0]
    assert meta["max_abs_smd_after"] < 1e-6  # overlap weights: exact balance on the model's covariates
    assert meta["ess_treatment"] > 0 and meta["ess_comparator"] > 0


def test_every_comparison_asset_publishes_its_column_schema(run):
    for asset in (a.key.path[0] for a in COMPARISON_ASSETS):
        columns = {c.name: c.type for c in metadata(run, asset)["dagster/column_schema"].columns}
        assert columns, asset
    balance = {c.name: c.type for c in metadata(run, "covariate_balance")["dagster/column_schema"].columns}
    assert (balance["covariate"], balance["smd_after"], balance["abs_smd_after_ok"]) == ("VARCHAR", "DOUBLE", "BOOLEAN")


def test_checks_run_and_do_not_block(run):
    results = {e.check_name: e for e in run.get_asset_check_evaluations()}
    # differences_valid (the MAR twin, SAP 3.1) blocks a wrong number, not the gate: it holds on valid data.
    assert set(results) == {"balance", "equipoise", "differences_valid"}
    assert results["balance"].passed and results["differences_valid"].passed
    assert results["equipoise"].severity == dg.AssetCheckSeverity.WARN


def test_adjusted_rows_carry_the_gate_and_have_unadjusted_twins(run, warehouse):
    rows = query(warehouse, "SELECT adjustment, count(*), count(*) FILTER (WHERE balance_achieved)"
                            " FROM comparison.adjusted_estimates GROUP BY adjustment ORDER BY adjustment")
    (adj, n_adj, n_ok), (unadj, n_unadj, _) = rows
    assert (adj, unadj) == ("adjusted", "unadjusted") and n_adj == n_unadj == n_ok
    outcomes = {r[0] for r in query(warehouse, "SELECT DISTINCT outcome FROM comparison.adjusted_estimates")}
    assert outcomes == {"pro_change", "responder", "satisfaction", "complication", "reintervention",
                        "return_to_activity"}
    meta = metadata(run, "adjusted_estimates")
    assert "adjusted reintervention hazard_ratio" in meta
    assert "adjusted return_to_activity hazard_ratio lower 95%" in meta


def test_e_value_and_subgroups(run, warehouse):
    hr, e_value, limit = query(warehouse, "SELECT hazard_ratio, e_value, e_value_ci_limit FROM comparison.e_value")[0]
    assert hr > 0 and e_value >= 1 and 1 <= limit <= e_value
    levels = query(warehouse, "SELECT count(DISTINCT subgroup || level) FROM comparison.subgroups")[0][0]
    assert levels == 8


def test_failed_gate_marks_results_but_hides_nothing(warehouse, tmp_path):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    # ATE weights truncated hard (40th-60th percentile) cannot balance: the gate fails, results still written.
    result = dg.materialize(COMPARISON_ASSETS,
                            resources=dagster_resources(copy, overrides="[comparison]\nweights = 'ate'\n"
                                                                        "truncation_percentiles = [40.0, 60.0]"),
                            raise_on_error=False)
    assert result.success
    gate = next(e for e in result.get_asset_check_evaluations() if e.check_name == "balance")
    assert not gate.passed and gate.severity == dg.AssetCheckSeverity.ERROR
    flags = query(copy, "SELECT DISTINCT balance_achieved FROM comparison.adjusted_estimates"
                        " WHERE adjustment = 'adjusted'")
    assert flags == [(False,)]


def test_the_study_smd_limit_decides_the_gate_per_covariate_and_overall(warehouse, tmp_path):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    unbalancing = "[comparison]\nweights = 'ate'\ntruncation_percentiles = [40.0, 60.0]\n"
    balance_assets = [a for a in COMPARISON_ASSETS if a.key.path[-1] in ("propensity_weights", "covariate_balance")]
    assert dg.materialize(balance_assets, resources=dagster_resources(copy, overrides=unbalancing)).success
    smd = sorted(abs(v) for (v,) in query(copy, "SELECT smd_after FROM comparison.balance"))
    # A limit between the covariates' |SMD|s: those above it fail, the rest pass, and so does the gate.
    limit = (smd[len(smd) // 2] + smd[len(smd) // 2 + 1]) / 2
    assert smd[len(smd) // 2] < smd[len(smd) // 2 + 1]
    assert dg.materialize(balance_assets[1:], resources=dagster_resources(
        copy, overrides=f"{unbalancing}smd_limit = {limit!r}")).success
    rows = query(copy, "SELECT abs(smd_after), abs_smd_after_ok FROM comparison.balance")
    assert all(ok == (value <= limit) for value, ok in rows)
    assert query(copy, "SELECT balance_passed FROM comparison.balance_summary") == [(False,)]
    assert dg.materialize(balance_assets[1:], resources=dagster_resources(
        copy, overrides=f"{unbalancing}smd_limit = {smd[-1] * 1.01!r}")).success
    assert query(copy, "SELECT DISTINCT abs_smd_after_ok FROM comparison.balance") == [(True,)]
    assert query(copy, "SELECT balance_passed FROM comparison.balance_summary") == [(True,)]


def test_the_adjusted_km_is_reported_at_the_study_days(warehouse, tmp_path):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    km = [a for a in COMPARISON_ASSETS if a.key.path[-1] in ("propensity_weights", "covariate_balance", "adjusted_km")]
    overrides = "survival.km_days = [500, 1000]\ncomparison.return_to_activity_km_days = [7, 30]"
    assert dg.materialize(km, resources=dagster_resources(copy, overrides=overrides)).success
    days = query(copy, "SELECT DISTINCT outcome, day::INTEGER FROM comparison.adjusted_km ORDER BY ALL")
    assert days == [("reintervention", 500), ("reintervention", 1000), ("return_to_activity", 7),
                    ("return_to_activity", 30)]


def test_stored_weights_and_sql_sums_equal_refitting_and_the_row_path(run, warehouse):
    """The later steps read the weights stored by propensity_weights and aggregate the change rows in SQL; the
    same numbers come from re-fitting the model and computing every estimate from patient rows."""
    study = load_study(DEFAULT_STUDY_FILE)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        patients = load_cohort(con)
        data = load_data(con, study, patients)  # every change row, as the bootstrap reads them
        stored = con.execute("SELECT * FROM comparison.adjusted_estimates").df()
        balance = con.execute("SELECT * FROM comparison.balance").df()
        propensity = con.execute("SELECT propensity_score, weight FROM comparison.propensity "
                                 "ORDER BY site_id, patient_id").df()
    refit = weigh(patients.drop(columns=["propensity_score", "preference_score", "weight"]),
                  study.comparison_weights, study.truncation_percentiles,
                  site_minimum=study.suppression_threshold)
    assert refit.weights == pytest.approx(propensity["weight"].to_numpy(), rel=1e-12)
    assert refit.score == pytest.approx(propensity["propensity_score"].to_numpy(), rel=1e-12)
    for column in ("smd_before", "mean_treatment_after", "mean_comparator_after"):
        assert balance[column].to_numpy() == pytest.approx(refit.balance.table[column].to_numpy(), rel=1e-9,
                                                           abs=1e-12)
    in_analysis = query(warehouse, "SELECT count(*) FROM outcomes.pro_changes c JOIN staging.patients p "
                                   "USING (site_id, patient_id) WHERE p.in_analysis")[0][0]
    assert len(data.changes) == in_analysis
    # The row path, its SEs accounting for the re-fitted model (ps_variance.py), as the stored SQL-sums path does.
    terms = weighting_terms(refit, patients["treated"].to_numpy(dtype=bool))
    rows = estimates_table(data, refit.weights, scheme=refit.scheme, balance_achieved=refit.balance.passed,
                           terms=terms)
    pd.testing.assert_frame_equal(rows[["outcome", "instrument", "visit", "measure", "adjustment", "n_treatment",
                                        "n_comparator", "ci_method"]],
                                  stored[["outcome", "instrument", "visit", "measure", "adjustment", "n_treatment",
                                          "n_comparator", "ci_method"]], check_dtype=False)
    assert (stored.loc[stored["adjustment"] == "adjusted", "ci_method"].isin([CI_METHOD, "robust_lin_wei"])).all()
    # The weights-fixed HC1 sandwich is still the component: without the terms, only the adjusted SEs differ.
    fixed = estimates_table(data, refit.weights, scheme=refit.scheme, balance_achieved=refit.balance.passed)
    differences = (fixed["measure"] != "hazard_ratio").to_numpy()
    assert np.allclose(fixed["estimate"], rows["estimate"], rtol=1e-12, equal_nan=True)
    changed = ~np.isclose(fixed["se"], rows["se"], rtol=1e-6, equal_nan=True)
    assert changed[differences & (fixed["adjustment"] == "adjusted").to_numpy()].mean() > 0.5
    assert not changed[(fixed["adjustment"] == "unadjusted").to_numpy() | ~differences].any()
    for column in ("estimate", "se", "ci_lower", "ci_upper", "p_value", "value_treatment", "value_comparator"):
        assert np.allclose(rows[column], stored[column], rtol=1e-9, atol=1e-12, equal_nan=True), column


def test_bootstrap_path_refits_and_is_seeded(warehouse, tmp_path):
    copy = tmp_path / "boot.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    overrides = "[comparison]\nci = 'bootstrap'\nbootstrap_replicates = 20\nbootstrap_seed = 3"
    study = load_study(DEFAULT_STUDY_FILE, overrides)
    with duckdb.connect(str(copy)) as con:
        adjusted_tables.build_propensity(con, study)
        adjusted_tables.build_adjusted_estimates(con, study)
        first = con.table("comparison.adjusted_estimates").df()
        adjusted_tables.build_adjusted_estimates(con, study)
        again = con.table("comparison.adjusted_estimates").df()
    adjusted = first[first["adjustment"] == "adjusted"]
    # The return-to-activity HR keeps its robust CI: SAP 7 states the "faster recovery" rule on it.
    returning = adjusted["outcome"] == "return_to_activity"
    assert set(adjusted.loc[~returning, "ci_method"]) == {"bootstrap_normal"}
    assert set(adjusted.loc[returning, "ci_method"]) == {"robust_lin_wei"}
    assert np.isfinite(adjusted["ci_lower"]).mean() > 0.5
    pd.testing.assert_frame_equal(first, again)


def test_steps_refuse_weights_stored_under_other_settings(warehouse, tmp_path):
    copy = tmp_path / "stale.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    ate = load_study(DEFAULT_STUDY_FILE, "[comparison]\nweights = 'ate'")
    with duckdb.connect(str(copy)) as con:
        adjusted_tables.build_propensity(con, load_study(DEFAULT_STUDY_FILE))
        for build in (adjusted_tables.build_balance, adjusted_tables.build_adjusted_estimates,
                      adjusted_tables.build_adjusted_km, adjusted_tables.build_subgroups):
            with pytest.raises(StaleWeightsError):
                build(con, ate)
        adjusted_tables.build_propensity(con, ate)
        assert adjusted_tables.build_balance(con, ate).rows > 0
