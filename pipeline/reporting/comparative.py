"""The comparative effectiveness report (MILD vs laminectomy): context assembled from results.json (so the page
and the file always agree and share the disclosure control) plus curves and tables for the figures."""

from typing import Any

import duckdb
import pandas as pd

from pipeline.reporting import figures
from pipeline.reporting.common import environment, fmt, interval, number, pct, read, table_exists
from pipeline.reporting.methods import methods
from pipeline.reporting.suppression import Suppressor
from pipeline.sql import load_sql
from pipeline.study import Study

NOT_AVAILABLE = "Not available in this refresh."


def _find(rows: list[dict], **match: Any) -> dict:
    return next((r for r in rows if all(r.get(k) == v for k, v in match.items())), {})


def _ci_text(ci, digits=1, percent=False) -> str:
    if not ci:
        return "CI withheld"
    f = (lambda v: pct(v, digits)) if percent else (lambda v: fmt(v, digits))
    return f"95% CI {f(ci[0])} to {f(ci[1])}"


def summary_sentences(results: dict, study: Study) -> list[str]:
    """Key findings in plain sentences, each with its number and CI (or why it is withheld)."""
    t, c, pv = study.treatment, study.comparator, study.primary_visit
    out = []
    pop = results["population"]
    out.append(f"The analysis includes {pop[t]['patients']} {t} and {pop[c]['patients']} {c} patients.")
    for arm in (t, c):
        s = _find(results["satisfaction"], arm=arm, visit=pv)
        if s.get("rate") is not None:
            out.append(f"At {pv}, {pct(s['rate'])} of {arm} respondents were satisfied "
                       f"({_ci_text(s['ci'], percent=True)}; n = {s['n']}).")
    for arm in (t, c):
        o = _find(results["pro_change"], arm=arm, instrument="ODI", visit=pv)
        if o.get("mean_change") is not None:
            out.append(f"{arm}: mean ODI change at {pv} {fmt(o['mean_change'])} points ({_ci_text(o['ci'])}); "
                       f"{pct(o['responder_rate'])} reached the MCID ({_ci_text(o['responder_ci'], percent=True)}).")
    adj = results.get("adjusted")
    if adj:
        d = _find(adj["pro_change_difference"], instrument="ODI", visit=pv)
        if d.get("estimate") is not None:
            out.append(f"Adjusted for confounding, the ODI change at {pv} differed by {fmt(d['estimate'])} points "
                       f"({t} − {c}; {_ci_text(d['ci'])}).")
    r = results["reintervention"]
    for arm in (t, c):
        k = _find(r["km"], arm=arm, day=study.horizon_days)
        if k.get("survival") is not None:
            out.append(f"Freedom from reintervention at {study.horizon_days} days: {arm} {pct(k['survival'])} "
                       f"({_ci_text(k['ci'], percent=True)}).")
    if r.get("cox_hr"):
        out.append(f"Unadjusted hazard ratio of reintervention {t} vs {c}: {fmt(r['cox_hr']['estimate'], 2)} "
                   f"({_ci_text(r['cox_hr']['ci'], 2)}).")
    if r.get("adjusted_cox_hr"):
        e = r.get("e_value") or {}
        out.append(f"Adjusted hazard ratio: {fmt(r['adjusted_cox_hr']['estimate'], 2)} "
                   f"({_ci_text(r['adjusted_cox_hr']['ci'], 2)}); E-value {fmt(e.get('estimate'), 2)} "
                   f"(CI limit {fmt(e.get('ci_limit'), 2)}).")
    for row in results["return_to_activity"]:
        if row.get("median_days") is not None:
            out.append(f"{row['arm']}: median {fmt(row['median_days'], 0)} days to return to normal activity "
                       f"({_ci_text(row['ci'], 0)}).")
    supported = [x["claim"] for x in results["claims"] if x["verdict"] == "supported"]
    not_supported = [x["claim"] for x in results["claims"] if x["verdict"] == "not supported"]
    inconclusive = [x["claim"] for x in results["claims"] if x["verdict"] == "inconclusive"]
    if supported:
        out.append("The data support: " + "; ".join(supported) + ".")
    if not_supported:
        out.append("The data do not support: " + "; ".join(not_supported) + ".")
    if inconclusive:
        out.append("Inconclusive: " + "; ".join(inconclusive) + ".")
    return out


def attrition(con: duckdb.DuckDBPyConnection, study: Study, s: Suppressor) -> dict:
    rows = con.execute(load_sql("report_attrition")).df() if table_exists(con, "ingest.drop_files") else pd.DataFrame()
    out: dict[str, Any] = {"read": None, "quarantined": [], "accepted": None, "other": None, "analysed": {}}
    for r in rows.itertuples():
        if r.step == "patient_rows_read":
            out["read"] = s.count(r.n)
        elif r.step == "patient_rows_quarantined":
            out["quarantined"].append((r.detail, s.count(r.n)))
        elif r.step == "patients_accepted":
            out["accepted"] = s.count(r.n)
        elif r.step == "patients_other_procedure":
            out["other"] = s.count(r.n)
        elif r.step == "patients_analysed":
            out["analysed"][r.detail] = s.count(r.n)
    # UNION ALL has no order: fix it here so that a rerun publishes the same page.
    out["quarantined"].sort()
    out["analysed"] = {arm: out["analysed"].get(arm, 0) for arm in study.arms}
    ex = con.execute(load_sql("report_durable_exclusions")).df() \
        if table_exists(con, "durability.durable_response_dataset") else pd.DataFrame()
    out["durable_excluded"] = [(r.arm, r.exclusion, s.count(r.patients)) for r in ex.itertuples()]
    return out


def table1(con: duckdb.DuckDBPyConnection, study: Study, s: Suppressor) -> dict:
    t = con.execute(load_sql("report_table1")).df().set_index("arm")
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


def subgroup_rows(con: duckdb.DuckDBPyConnection, s: Suppressor) -> list[dict]:
    t = read(con, "comparison.subgroups")
    out = []
    for r in t.itertuples() if len(t) else []:
        ok = not s.small(r.n_treatment) and not s.small(r.n_comparator)
        out.append({"label": f"{r.subgroup}: {r.level}", "subgroup": r.subgroup, "level": r.level,
                    "outcome": r.outcome, "measure": r.measure, "estimate": number(r.estimate) if ok else None,
                    "ci": interval(r.ci_lower, r.ci_upper) if ok else None, "n_treatment": s.count(r.n_treatment),
                    "n_comparator": s.count(r.n_comparator), "balance_achieved": r.balance_achieved,
                    "note": r.note if isinstance(r.note, str) else ""})
    return out


def differences(con: duckdb.DuckDBPyConnection, study: Study, s: Suppressor) -> list[dict]:
    """Unadjusted and adjusted between-arm differences at the primary visit and overall (comparison tables)."""
    t = read(con, "comparison.adjusted_estimates")
    if t.empty:
        return []
    keep = t[(t["visit"].isna()) | (t["visit"] == study.primary_visit)].sort_values(
        ["outcome", "instrument", "visit", "adjustment"], ascending=[True, True, True, False], na_position="first")
    out = []
    for r in keep.itertuples():
        ok = not s.small(r.n_treatment) and not s.small(r.n_comparator)
        name = " ".join(str(x) for x in (r.outcome, r.instrument if isinstance(r.instrument, str) else "",
                                         r.visit if isinstance(r.visit, str) else "") if x)
        out.append({"name": name, "measure": r.measure, "adjustment": r.adjustment,
                    "estimate": number(r.estimate) if ok else None,
                    "ci": interval(r.ci_lower, r.ci_upper) if ok else None,
                    "p": number(r.p_value) if ok else None, "ci_method": r.ci_method,
                    "balance_achieved": None if pd.isna(r.balance_achieved) else bool(r.balance_achieved)})
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
                   "(> 0.1); every adjusted estimate is marked accordingly.")
    else:
        out.append(f"Balance achieved: every |SMD| after weighting ≤ 0.1 (max {fmt(b['max_abs_smd_after'], 3)}).")
    ph = results["reintervention"].get("ph_test_p")
    if ph is not None and ph < 0.05:
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
    cif = results["reintervention"]["cif"]
    figs["cif"] = fs.html(figures.points_by_day(cif, arms, "cumulative_incidence",
                                                "Cumulative incidence of reintervention (death competing)",
                                                "cumulative incidence", start=0.0), "fig-cif") if cif else None
    dr = results["durable_response"]
    figs["durable"] = fs.html(figures.points_by_day(dr, arms, "probability", "Durable ODI response (Turnbull)",
                                                    "probability of durable response"), "fig-durable") if dr else None
    rcurve = read(con, "durability.return_to_activity_km_curve")
    wcurve = read(con, "comparison.adjusted_km_curve")
    wret = wcurve[wcurve["outcome"] == "return_to_activity"] if len(wcurve) else None
    figs["return"] = fs.html(figures.km_curves(rcurve, arms, study.suppression_threshold,
                                               "Return to normal activity (1 − KM; dashed: weighted)",
                                               "returned to activity", failure=True, weighted=wret),
                             "fig-return") if len(rcurve) else None
    b = results.get("balance")
    figs["love"] = fs.html(figures.love_plot(b["covariates"]), "fig-love", height=520) if b else None
    ps = read(con, "comparison.propensity")
    figs["overlap"] = fs.html(figures.ps_overlap(ps[["arm", "propensity_score"]], arms, study.suppression_threshold),
                              "fig-overlap") if len(ps) else None
    del ps  # patient-level: only the binned, suppressed shares leave this function
    subs = subgroup_rows(con, s)
    figs["forest"] = fs.html(figures.forest(subs), "fig-forest", height=480) if subs else None
    context = {
        "title": f"Comparative effectiveness: {study.treatment} vs {study.comparator}",
        "study": study, "arms": arms, "results": results, "prov": results["provenance"],
        "summary": summary_sentences(results, study),
        "attrition": attrition(con, study, s), "table1": table1(con, study, s),
        "differences": differences(con, study, s), "subgroups": subs, "figs": figs,
        "methods": methods(study), "limitations": limitations(results, study, completeness),
        "completeness": completeness, "not_available": NOT_AVAILABLE, "primary_visit": study.primary_visit,
        "plotlyjs": fs.script,
        "pro_primary": [r for r in results["pro_change"] if r["visit"] == study.primary_visit],
        "km_days": sorted({r["day"] for r in results["reintervention"]["km"]}),
    }
    return environment().get_template("comparative.html.j2").render(**context)
