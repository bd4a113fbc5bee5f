"""Methods section generated from the study configuration actually used (with the run's overrides)."""

import platform
from importlib.metadata import PackageNotFoundError, version

from pipeline.study import Study

PACKAGES = ("duckdb", "pandas", "numpy", "scipy", "statsmodels", "lifelines", "plotly", "jinja2", "dagster")
WEIGHTS_TEXT = {
    "overlap": "overlap weights (1 − e for treated, e for comparator patients)",
    "ate": "stabilized inverse probability weights (ATE), truncated at the {lo:g}th and {hi:g}th percentiles",
    "att": "ATT weights (1 for treated, e / (1 − e) for comparator patients)",
}


def software_versions() -> list[tuple[str, str]]:
    rows = [("python", platform.python_version())]
    for name in PACKAGES:
        try:
            rows.append((name, version(name)))
        except PackageNotFoundError:
            continue
    return rows


def methods(study: Study) -> dict:
    lo, hi = study.truncation_percentiles
    return {
        "arms": {"treatment": study.treatment, "comparator": study.comparator},
        "visits": [{"name": v.name, "start": v.start, "end": v.end, "target": v.target} for v in study.visits],
        "baseline_visit": study.baseline_visit,
        "primary_visit": study.primary_visit,
        "horizon_days": study.horizon_days,
        "mcid": [{"instrument": m.instrument, "rule": m.rule,
                  "thresholds": ", ".join(f"{k} {v:g}" for k, v in m.thresholds().items())} for m in study.mcid],
        "satisfaction": [{"name": d.name, "instrument": d.instrument, "satisfied_max": d.satisfied_max,
                          "primary": d.name == study.primary_satisfaction} for d in study.satisfaction],
        "completeness": {"instrument": study.completeness_instrument, "minimum": study.completeness_minimum},
        "complication_window_days": study.complication_window_days,
        "km_days": list(study.km_days),
        "durable_response_days": list(study.durable_response_days),
        "return_to_activity_days": list(study.return_to_activity_days),
        "ph_alpha": study.ph_alpha,
        "smd_limit": study.smd_limit,
        "equipoise_band": list(study.equipoise_band),
        "equipoise_minimum": study.equipoise_minimum,
        "events": {"reintervention": " or ".join(study.events.reintervention),
                   "complication": study.events.complication, "return_to_activity": study.events.return_to_activity,
                   "death": study.events.death, "withdrawal": study.events.withdrawal,
                   "last_contact": study.events.last_contact},
        "weights": WEIGHTS_TEXT.get(study.comparison_weights, study.comparison_weights).format(lo=lo, hi=hi),
        "ci": ("robust sandwich standard errors" if study.comparison_ci == "robust" else
               f"a seeded bootstrap ({study.bootstrap_replicates} replicates, seed {study.bootstrap_seed}) "
               "re-fitting the propensity model (normal intervals: estimate ± 1.96 bootstrap SD, log scale for "
               "the hazard ratio)"),
        "suppression_threshold": study.suppression_threshold,
        "study_version": study.version,
        "study_sha256": study.sha256,
        "overrides": study.overrides,
        "software": software_versions(),
    }
