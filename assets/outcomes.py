"""Outcome metrics (SAP sections 2, 3, 5): thin assets over pipeline/outcomes, tables in schema `outcomes`.

Every asset reads the study of the run from `paths.study()` (pipeline/study.toml with the run config's
`study_overrides`), refuses to run when staging was built with other visit windows or arms, writes its table
together with the parameters it used (outcomes.study_parameters) and the numbers it could not estimate
(meta.not_estimable, SAP 9: an arm without patients, an instrument never recorded, ...), and returns the row
count, the study hash, headline numbers (floats, so the UI plots them over time) and `not_estimable` (how many
numbers could not be estimated, with their reasons) as metadata. Degenerate data never fails an asset.
"""

from collections.abc import Callable

import duckdb

from assets.table_assets import TableAsset, table_asset
from pipeline.outcomes import BUILDERS, check_staging_matches
from pipeline.study import Study
from pipeline.warehouse import Built

KINDS = frozenset({"duckdb", "sql", "python"})


def _checked_build(name: str) -> Callable[[duckdb.DuckDBPyConnection, Study], Built]:
    """The outcomes table's build, refused when staging was built with another study."""
    def _build(con: duckdb.DuckDBPyConnection, study: Study) -> Built:
        check_staging_matches(con, study)
        return BUILDERS[name](con, study)

    return _build


def _outcome(name: str, description: str, deps: tuple[str, ...], kinds: frozenset[str] = KINDS) -> TableAsset:
    return TableAsset(name, "outcomes", description, deps, kinds, _checked_build(name))


OUTCOME_SPECS = (
    _outcome(
        "pro_changes",
        "Per patient, instrument and post-baseline visit of the analysis population: baseline and visit value, "
        "change, improvement, percent change and responder flags for every MCID rule (SAP section 3). "
        "Complete pairs only. Also rebuilds the config table outcomes.responder_rules.",
        ("patients", "pro_visits"), frozenset({"duckdb", "sql"}),
    ),
    _outcome(
        "pro_change_summary",
        "Per arm, instrument and visit: n, mean (SD) at baseline and visit, mean change with t-based 95% CI, "
        "median change (IQR), Wilcoxon signed-rank p and median percent change for the skewed instruments, "
        "responder rate (selected rule) with Wilson 95% CI (SAP section 3).",
        ("pro_changes",),
    ),
    _outcome(
        "responder_rates",
        "Per arm, instrument, visit and MCID rule: responders / complete pairs with Wilson 95% CI; `selected` "
        "marks the rule that defines a responder (SAP section 3).",
        ("pro_changes",),
    ),
    _outcome(
        "satisfaction_rates",
        "Per arm, definition (NASS 1-2 primary, ZCQ satisfaction <= 2.5) and visit: satisfied / respondents "
        "with Wilson 95% CI; primary visit M12 (SAP section 3).",
        ("patients", "pro_visits"),
    ),
    _outcome(
        "complication_rates",
        "Per arm: patients with a complication within 90 days / all patients, Wilson 95% CI; and in "
        "outcomes.complication_difference the treatment - comparator difference with Newcombe's hybrid score "
        "95% CI (SAP section 5).",
        ("patients", "events"),
    ),
    _outcome(
        "discharge_summary",
        "Per arm: same-day discharge share among patients with a length of stay (Wilson 95% CI), mean, SD, "
        "median and quartiles of the length of stay (SAP section 5).",
        ("patients",),
    ),
    _outcome(
        "follow_up_completeness",
        "Per arm, visit and instrument (and ANY): patients with an assessment in the window / patients whose "
        "follow-up reached the window's start, Wilson 95% CI (SAP section 2).",
        ("patients", "pro_visits", "follow_up"),
    ),
    _outcome(
        "attendance_weights",
        "Missing follow-up (SAP 3.1): per analysis patient, instrument (the change instruments and the primary "
        "satisfaction instrument) and post-baseline visit, whether the patient is eligible (baseline value, due "
        "by follow-up or data cut, not dead or withdrawn before the window) and assessed, and the stabilized, "
        "truncated inverse probability of attendance weight from one logistic model per instrument and visit "
        "(arm, propensity covariates, site, most recent earlier value). method: ipaw, or complete_case when a "
        "model cannot be fitted (outcomes.attendance_models says why). Patient-level, never published.",
        ("patients", "pro_visits", "follow_up"),
    ),
    _outcome(
        "pro_change_mar",
        "Missing at random (SAP 3.1), beside the complete-case tables: per arm, instrument and visit the "
        "attendance-weighted mean change and responder rate (outcomes.pro_change_mar), per arm and visit the "
        "weighted satisfaction rate, primary definition (outcomes.satisfaction_mar), each with eligible and "
        "assessed patients, a 95% CI from the HC1 sandwich and the method (ipaw or complete_case); and the "
        "tipping points of the primary-visit and M60 mean ODI change per arm (outcomes.tipping_points).",
        ("attendance_weights", "pro_changes", "pro_visits", "patients"),
    ),
)


OUTCOME_ASSETS = [table_asset(spec) for spec in OUTCOME_SPECS]
