"""The comparative effectiveness report (MILD vs laminectomy): context assembled from results.json (so the page
and the file always agree and share the disclosure control) plus curves and tables for the figures."""

import duckdb
import pandas as pd

from pipeline.reporting import figures
from pipeline.reporting.attrition import attrition, attrition_by_site
from pipeline.reporting.common import environment, fmt, interval, number, pct, read, table_exists
from pipeline.reporting.methods import methods
from pipeline.reporting.missing_followup import missing_followup
from pipeline.reporting.site_heterogeneity import plain_words
from pipeline.reporting.subgroup_rows import EXPLORATORY, subgroup_rows
from pipeline.reporting.summary import adjusted_rmst_sentences, rmst_leads, summary_sentences
from pipeline.reporting.suppression import Suppressor
from pipeline.sql import query
from pipeline.study import Study

NOT_AVAILABLE = "Not available in this refresh."
PS_BINS = 20  # propensity-score overlap histogram


def table1(con: duckdb.DuckDBPyConnection, study: Study, s: Suppressor) -> dict:
    t = query(con, "reporting/table1").set_index("arm")
    bal = read(con, "comparison.balance")
    smd = {r.covariate: (number(r.smd_before), number(r.smd_after)) for r in bal.itertuples()} if len(bal) else {}
    rows = []

    def cell_mean(arm, col):
        if arm not in t.index or s.small(t.loc[arm, "patients"]):
            return "–"
        m, sd = t.loc[arm, f"{col}_mean"], t.loc[arm, f"{col}_sd"]
        return f"{fmt(m)} ({fmt(sd)})"

    def cell_count(arm, col):
        if arm not in t.index:
            return "–"
        n, k, ok = s.proportion(t.loc[arm, "patients"], t.loc[arm, col])
        return f"{k} ({pct(t.loc[arm, col] / t.loc[arm, 'patients'])})" if ok else f"{k}"

    spec = [("Age, years, mean (SD)", "age", "mean", "age_at_index"), ("Female, n (%)", "female", "count", "female"),
            ("BMI, mean (SD)", "bmi", "mean", "bmi"), ("Diabetes, n (%)", "diabetes", "count", "diabetes"),
            ("Smoker, n (%)", "smoker", "count", "smoker"), ("Prior ESI, n (%)", "prior_esi", "count", "prior_esi"),
            ("Symptom months, mean (SD)", "symptom_months", "mean", "symptom_months"),
            ("Levels treated, mean (SD)", "levels", "mean", "levels_treated"),
            ("ASA class, mean (SD)", "asa", "mean", "asa_class")]
    for label, col, kind, cov in spec:
        cells = [cell_mean(a, col) if kind == "mean" else cell_count(a, col) for a in study.arms]
        before, after = smd.get(cov, (None, None))
        rows.append({"label": label, "cells": cells, "smd_before": before, "smd_after": after})
    patients = [s.count(t.loc[a, "patients"]) if a in t.index else 0 for a in study.arms]
    extra = [{"label": c, "smd_before": b, "smd_after": a} for c, (b, a) in smd.items()
             if c not in {x[3] for x in spec}]
    return {"patients": patients, "rows": rows, "other_covariates": extra}


def differences(con: duckdb.DuckDBPyConnection, study: Study, s: Suppressor) -> list[dict]:
    """Unadjusted and adjusted between-arm differences at the primary visit and overall (comparison tables)."""
    t = read(con, "comparison.adjusted_estimates")
    if t.empty:
        return []
    keep = t[(t["visit"].isna()) | (t["visit"] == study.primary_visit)].sort_values(
        ["outcome", "instrument", "visit", "adjustment"], ascending=[True, True, True, False], na_position="first")
    counts_ok = _publishable_counts(t, s)
    out = []
    for r in keep.itertuples():
        ok = counts_ok.get(_key(r.outcome, r.instrument, r.visit, r.measure), False)
        name = " ".join(str(x) for x in (r.outcome, r.instrument if isinstance(r.instrument, str) else "",
                                         r.visit if isinstance(r.visit, str) else "") if x)
        out.append({"name": name, "measure": r.measure, "adjustment": r.adjustment,
                    "estimate": number(r.estimate) if ok else None,
                    "ci": interval(r.ci_lower, r.ci_upper) if ok else None,
                    "p": number(r.p_value) if ok else None, "ci_method": r.ci_method,
                    "balance_achieved": None if pd.isna(r.balance_achieved) else bool(r.balance_achieved)})
    return out


def _key(outcome: object, instrument: object, visit: object, measure: object) -> tuple:
    return (outcome, instrument if isinstance(instrument, str) else None, visit if isinstance(visit, str) else None,
            measure)


def _publishable_counts(t: pd.DataFrame, s: Suppressor) -> dict[tuple, bool]:
    """Per estimate: may its adjusted and unadjusted values be published (SAP 8)? Both arms need a publishable
    n; a risk difference also needs publishable events and non-events per arm, and a hazard ratio publishable
    events per arm — otherwise the small count is recoverable from the difference and the other arm's rate.
    The counts come from the unadjusted twin (its values are the plain proportions or event counts)."""
    out: dict[tuple, bool] = {}
    for r in t[t["adjustment"] == "unadjusted"].itertuples():
        ok = not s.small(r.n_treatment) and not s.small(r.n_comparator)
        if r.measure == "risk_difference":
            for n, rate in ((r.n_treatment, r.value_treatment), (r.n_comparator, r.value_comparator)):
                events = None if pd.isna(rate) or pd.isna(n) else round(float(rate) * int(n))
                ok = ok and not s.proportion_hidden(n, events)
        elif r.measure == "hazard_ratio":
            ok = ok and all(not pd.isna(e) and not s.small(round(float(e)))
                            for e in (r.value_treatment, r.value_comparator))
        out[_key(r.outcome, r.instrument, r.visit, r.measure)] = ok
    return out


def limitations(results: dict, study: Study, completeness: list[dict]) -> list[str]:
    out = ["The data are observational: treatment was not randomized, and MILD patients differ from laminectomy "
           "patients (older, more often female, sicker). Weighting balances the measured covariates only; "
           "unmeasured confounding can remain (see the E-value)."]
    b = results.get("balance")
    if b is None:
        out.append("The confounding-adjusted comparison is not available in this refresh: every between-arm "
                   "difference shown is unadjusted.")
    elif not b["passed"]:
        out.append(f"Balance not achieved: the largest |SMD| after weighting is {fmt(b['max_abs_smd_after'], 3)} "
                   f"(> {study.smd_limit:g}); every adjusted estimate is marked accordingly.")
    else:
        out.append(f"Balance achieved: every |SMD| after weighting ≤ {study.smd_limit:g} "
                   f"(max {fmt(b['max_abs_smd_after'], 3)}).")
    ph = results["reintervention"].get("ph_test_p")
    if ph is not None and ph < study.ph_alpha:
        out.append(f"The proportional-hazards assumption is doubtful for reintervention (p = {fmt(ph, 3)}): the "
                   "hazard ratio is an average over time; read the curves and the RMST difference.")
    low = [c for c in completeness if c["visit"] == study.primary_visit and c["rate"] is not None
           and c["rate"] < study.completeness_minimum]
    for c in low:
        out.append(f"Loss to follow-up: {c['arm']} completeness at {c['visit']} is {pct(c['rate'])} "
                   f"(target {pct(study.completeness_minimum, 0)}).")
    out.append("Follow-up thins out with time: estimates at later visits and after several years rest on fewer "
               "patients (see the n and numbers at risk).")
    out.append(f"Disclosure control hides counts from 1 to {study.suppression_threshold - 1} and numbers derived "
               "from them; some cells read as withheld.")
    return out


def comparison_empty_reason(results: dict, study: Study) -> str | None:
    """Why the between-arm sections are empty (SAP 9: a single-arm landing), or None when both arms have patients."""
    missing = [arm for arm in study.arms if results["population"][arm]["patients"] == 0]
    if not missing:
        return None
    if len(missing) == len(study.arms):
        return "This landing holds no analysable patient in either arm: nothing can be compared."
    return (f"This landing holds no {missing[0]} patients: the comparison of {study.treatment} with "
            f"{study.comparator} is not estimable, and every between-arm number below is empty. The sections on "
            f"{[a for a in study.arms if a not in missing][0]} alone are complete.")


def render_comparative(con: duckdb.DuckDBPyConnection, study: Study, results: dict, completeness: list[dict]) -> str:
    s = Suppressor(study.suppression_threshold)
    arms = study.arms
    visits = [v.name for v in study.visits if v.name != study.baseline_visit]
    fs = figures.FigureSet()
    figs: dict[str, str | None] = {}
    figs["pro"] = fs.html(figures.pro_trajectories(results["pro_change"], arms, study.change_instruments, visits),
                          "fig-pro", height=260 * ((len(study.change_instruments) + 1) // 2))
    odi = [r for r in results["pro_change"] if r["instrument"] == "ODI"]
    figs["responders"] = fs.html(figures.rate_bars(odi, arms, visits, "responder_rate", "responder_ci",
                                                   "ODI responders (MCID) per visit"), "fig-responders")
    figs["satisfaction"] = fs.html(figures.rate_bars(results["satisfaction"], arms, visits, "rate", "ci",
                                                     "Satisfied respondents per visit"), "fig-satisfaction")
    curve = read(con, "durability.reintervention_km_curve")
    figs["km"] = fs.html(figures.km_curves(curve, arms, study.suppression_threshold,
                                           "Freedom from reintervention (Kaplan–Meier, 95% CI)",
                                           "free from reintervention"), "fig-km") if len(curve) else None
    # Full curves (one row per distinct time), cut where fewer than the threshold remain at risk (SAP 8).
    cif = read(con, "durability.reintervention_cif_curve")
    figs["cif"] = fs.html(figures.km_curves(cif, arms, study.suppression_threshold,
                                            "Cumulative incidence of reintervention (Aalen–Johansen, death "
                                            "competing; 95% CI)", "cumulative incidence",
                                            value="cumulative_incidence", full_range=False),
                          "fig-cif") if len(cif) else None
    dr = read(con, "durability.durable_response_curve")
    figs["durable"] = fs.html(figures.km_curves(dr, arms, study.suppression_threshold,
                                                "Durable ODI response (Turnbull NPMLE; CIs at the days below)",
                                                "probability of durable response", value="probability"),
                              "fig-durable") if len(dr) else None
    rcurve = read(con, "durability.return_to_activity_km_curve")
    wcurve = read(con, "comparison.adjusted_km_curve")
    wret = wcurve[wcurve["outcome"] == "return_to_activity"] if len(wcurve) else None
    figs["return"] = fs.html(figures.km_curves(rcurve, arms, study.suppression_threshold,
                                               "Return to normal activity (1 − KM; dashed: weighted)",
                                               "returned to activity", failure=True, weighted=wret),
                             "fig-return") if len(rcurve) else None
    b = results.get("balance")
    figs["love"] = fs.html(figures.love_plot(b["covariates"]), "fig-love", height=520) if b else None
    ps = query(con, "reporting/propensity_bins", bins=PS_BINS) \
        if table_exists(con, "comparison.propensity") else pd.DataFrame()
    figs["overlap"] = fs.html(figures.ps_overlap(ps, arms, study.suppression_threshold, PS_BINS),
                              "fig-overlap") if len(ps) else None
    missing = missing_followup(results, study, completeness)
    figs["missing"] = fs.html(figures.cc_vs_mar(missing["estimates"], arms, visits), "fig-missing") \
        if missing["mar_available"] else None
    subs = subgroup_rows(con, s)
    sites = attrition_by_site(con, study, s)
    figs["forest"] = fs.html(figures.forest(subs), "fig-forest", height=480) if subs else None
    het = results.get("site_heterogeneity")
    figs["site_forest"] = fs.html(figures.site_forest(het), "fig-site-forest", height=200 + 40 * len(het["sites"])) \
        if het and het["sites"] else None
    context = {
        "comparison_empty": comparison_empty_reason(results, study),
        "gaps": {g["what"]: g["reason"] for g in results.get("not_estimable", [])},
        "study": study, "arms": arms, "results": results, "prov": results["provenance"],
        "summary": summary_sentences(results, study),
        "rmst_leads": rmst_leads(results, study), "rmst_lead": adjusted_rmst_sentences(results, study),
        "attrition": attrition(con, study, s, sites), "attrition_sites": sites,
        "table1": table1(con, study, s),
        "differences": differences(con, study, s), "subgroups": subs, "subgroups_note": EXPLORATORY,
        "figs": figs,
        "site_heterogeneity": het, "site_words": plain_words(het, study.suppression_threshold),
        "methods": methods(study), "limitations": limitations(results, study, completeness),
        "completeness": completeness, "not_available": NOT_AVAILABLE, "primary_visit": study.primary_visit,
        "missing_followup": missing,
        "plotlyjs": fs.script,
        "pro_primary": [r for r in results["pro_change"] if r["visit"] == study.primary_visit],
        "km_days": sorted({r["day"] for r in results["reintervention"]["km"]}),
        "title": f"Comparative effectiveness: {study.treatment} vs {study.comparator}",
    }
    return environment().get_template("comparative.html.j2").render(**context)
