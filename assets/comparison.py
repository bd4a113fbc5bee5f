"""Confounding-adjusted comparison (SAP section 6): thin specs over pipeline/comparison, tables in schema
`comparison`, group `comparison`.

The checks `balance` (ERROR when any |SMD| after weighting > comparison.smd_limit, SAP 0.1) and `equipoise` (WARN
below comparison.equipoise_minimum, SAP 20%) are not
blocking: SAP 6 says a failed gate must not hide results. Instead every adjusted estimate row carries
`balance_achieved`, which the report shows.

Numbers the data cannot give (SAP 9: no patients in an arm, separation, no events) never fail an asset: each
asset stores what it can and records its gaps (`pipeline.estimable.record_gaps`, replaced every run). The
checks tell wrong numbers (fail) from no numbers (pass: nothing to check, the reason in the description).
"""

from collections.abc import Callable, Mapping

import dagster as dg
import duckdb

from assets.table_assets import TableAsset, table_asset
from pipeline.comparison import adjusted_survival, adjusted_tables, mar_differences, site_tables
from pipeline.estimable import record_gaps
from pipeline.study import Study
from pipeline.warehouse import Built

GROUP = "comparison"
KINDS = frozenset({"duckdb", "python"})


def _recording_gaps(asset: str, build: Callable[[duckdb.DuckDBPyConnection, Study], Built]
                    ) -> Callable[[duckdb.DuckDBPyConnection, Study], Built]:
    """The step's build, then its gaps recorded under the asset's name."""
    def _build(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
        built = build(con, study)
        record_gaps(con, asset, built.gaps)
        return built

    return _build


def _weights(con: duckdb.DuckDBPyConnection, study: Study) -> Mapping[str, object]:
    return {"weights": study.comparison_weights}


_BALANCE_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("covariate", "string"), dg.TableColumn("smd_before", "float"),
    dg.TableColumn("smd_after", "float"), dg.TableColumn("mean_treatment_after", "float"),
    dg.TableColumn("mean_comparator_after", "float"),
])


def _balance_table(con: duckdb.DuckDBPyConnection, study: Study) -> Mapping[str, object]:
    """The balance table as written, for the UI, and the weights."""
    records = [dg.TableRecord({"covariate": r.covariate, "smd_before": round(float(r.smd_before), 4),
                               "smd_after": round(float(r.smd_after), 4),
                               "mean_treatment_after": round(float(r.mean_treatment_after), 4),
                               "mean_comparator_after": round(float(r.mean_comparator_after), 4)})
               for r in con.table("comparison.balance").df().itertuples()]
    return {"balance_table": dg.MetadataValue.table(records, _BALANCE_SCHEMA), "weights": study.comparison_weights}


_SITE_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("site", "string"), dg.TableColumn("estimate", "float"), dg.TableColumn("ci_lower", "float"),
    dg.TableColumn("ci_upper", "float"),
])


def _site_table(con: duckdb.DuckDBPyConnection, study: Study) -> Mapping[str, object]:
    """The pooled sites' estimates for the UI: site labels and differences, no patient counts (a site left out
    may hold fewer patients than the suppression threshold)."""
    records = [dg.TableRecord({"site": str(r.site), "estimate": round(float(r.estimate), 4),
                               "ci_lower": round(float(r.ci_lower), 4), "ci_upper": round(float(r.ci_upper), 4)})
               for r in site_tables.pooled_sites(con).itertuples()]
    return {"site_table": dg.MetadataValue.table(records, _SITE_SCHEMA)}


def _spec(name: str, description: str, deps: tuple[str, ...],
          build: Callable[[duckdb.DuckDBPyConnection, Study], Built],
          extra: Callable[[duckdb.DuckDBPyConnection, Study], Mapping[str, object]] | None = None) -> TableAsset:
    return TableAsset(name, GROUP, description, deps, KINDS, _recording_gaps(name, build), extra)


COMPARISON_SPECS = (
    # The cohort (comparison.cohort) snapshots the complication flag and both time-to-event data sets, so the
    # model step must follow every table it copies; later steps read the snapshot, never those tables.
    _spec("propensity_weights",
          """Propensity score per analysis patient from an unpenalized logistic regression on the SAP 6 covariates
          (median / 0 imputation with `<name>_missing` indicators, constant covariates dropped and listed in
          comparison.propensity_model), and the weight of the study's scheme (overlap by default). Fitted once per run:
          the population with its score and weight is stored as comparison.cohort, which the later steps read.""",
          ("patients", "pro_visits", "events", "reintervention_dataset", "return_to_activity_dataset"),
          adjusted_tables.build_propensity, _weights),
    _spec("covariate_balance",
          """SMD before and after weighting for every covariate as entered in the propensity model (pooled SD of
          the unweighted arms), effective sample size per arm and preference-score equipoise
          (comparison.balance, comparison.balance_summary).""",
          ("propensity_weights",), adjusted_tables.build_balance, _balance_table),
    _spec("adjusted_estimates",
          """Every between-arm estimate adjusted (weighted) beside its unadjusted twin: mean change difference per
          instrument and visit, responder, satisfaction (primary visit) and 90-day complication risk differences,
          reintervention Cox HR (Lin–Wei robust SE), Cox HR of returning to activity (robust SE; the "faster
          recovery" claim). CIs: robust sandwich, or the seeded bootstrap that re-fits the
          propensity model (study comparison.ci). Each adjusted row carries balance_achieved.""",
          ("covariate_balance", "pro_changes", "pro_visits"), adjusted_tables.build_adjusted_estimates,
          lambda con, study: {"ci": study.comparison_ci}),
    _spec("adjusted_km",
          """Weighted KM curves per arm (robust infinitesimal-jackknife variance, log(−log) CIs) beside the
          unweighted ones, for freedom from reintervention and return to activity (comparison.adjusted_km,
          comparison.adjusted_km_curve).""",
          ("covariate_balance",), adjusted_tables.build_adjusted_km),
    _spec("reintervention_e_value",
          """E-value (VanderWeele & Ding 2017) of the adjusted reintervention HR and of its CI limit nearest 1; the
          HR is converted to a risk ratio by the square-root rule when the outcome is common (> 15% at the horizon)
          (comparison.e_value).""",
          ("adjusted_estimates",), adjusted_tables.build_e_value),
    _spec("subgroup_estimates",
          """Forest plot rows: adjusted ODI change difference at the primary visit and adjusted reintervention HR
          within age < 75 / ≥ 75, sex, baseline ODI < 40 / ≥ 40 and diabetes, the propensity model re-fitted within
          each subgroup (comparison.subgroups).""",
          ("covariate_balance", "pro_changes"), adjusted_tables.build_subgroups),
    _spec("adjusted_reintervention",
          """Freedom from reintervention when hazards need not be proportional (SAP 6 v2): RMST to the horizon per
          arm from the weighted KM curve with the infinitesimal-jackknife SE and its difference (normal 95% CI), the
          proportional-hazards test of the weighted Cox model (comparison.adjusted_reintervention), and the weighted
          Aalen–Johansen cumulative incidence (death competing) per reporting day with an IJ 95% CI
          (comparison.adjusted_cif).""",
          ("covariate_balance",), adjusted_survival.build_adjusted_reintervention),
    _spec("site_heterogeneity",
          """Adjusted ODI change difference at the primary visit per site (sites with at least the suppression
          threshold of complete pairs in each arm; propensity model re-fitted within the site, no site terms),
          pooled by REML random effects with the Hartung–Knapp–Sidik–Jonkman CI, τ², I² and the 95% prediction
          interval, as metafor::rma(method = "REML", test = "knha") (comparison.site_estimates,
          comparison.site_heterogeneity).""",
          ("covariate_balance", "pro_changes"), site_tables.build_site_heterogeneity, _site_table),
)

COMPARISON_SPECS += (
    _spec("adjusted_estimates_mar",
          """MAR twin of the adjusted PRO differences (SAP 3.1): mean change and responder differences per instrument
          and visit on the eligible, assessed complete pairs, weighted by the attendance weight × the confounding
          weight, robust sandwich (HC1) CIs, `method` ipaw or complete_case (attendance model fell back); and the
          tipping point of the adjusted primary-visit ODI change difference (comparison.pro_change_difference_mar,
          comparison.tipping_point_difference).""",
          ("covariate_balance", "pro_changes", "attendance_weights"), mar_differences.build_adjusted_mar),
)

COMPARISON_ASSETS = [table_asset(spec) for spec in COMPARISON_SPECS]
