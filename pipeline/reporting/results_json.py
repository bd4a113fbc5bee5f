"""results.json, exactly per ../shared/results-contract.md (version 1), with disclosure control (SAP 8).

`complications` is an object: the contract gives it per-arm rows and a named member `difference`; a JSON list
cannot carry a member, so the rows are `complications.rates` and the difference `complications.difference`
(decision and reasons: docs/reports.md, "results.json notes").

Every count goes through `Suppressor`; every number derived from a suppressed count is None. Members of the
adjusted comparison (SAP 6) are None when the `comparison` tables are absent from the warehouse.
"""

from typing import Any

import duckdb
import pandas as pd

from pipeline.estimable import read_gaps
from pipeline.reporting.common import clean, count, interval, number, read, table_exists
from pipeline.reporting.mar_results import MEMBERS as MAR_MEMBERS
from pipeline.reporting.mar_results import ROWS as MAR_ROWS
from pipeline.reporting.mar_results import mar_members, not_eligible_small
from pipeline.reporting.site_heterogeneity import site_heterogeneity, validate_member
from pipeline.reporting.subgroup_rows import subgroups_member
from pipeline.reporting.suppression import Suppressor
from pipeline.sql import run
from pipeline.study import Study

CONTRACT_VERSION = "1"
TOP_LEVEL = ("contract_version", "provenance", "arms", "population", "satisfaction", "pro_change", "reintervention",
             "durable_response", "return_to_activity", "complications", "discharge", "balance", "adjusted", "claims",
             "not_estimable", "site_heterogeneity", "subgroups", "durable_response_difference", *MAR_MEMBERS)
# Members published per arm: an arm without patients has none of them (SAP 9: "not estimable: no X patients").
PER_ARM_MEMBERS = ("satisfaction", "pro_change", "reintervention.km", "reintervention.cif", "reintervention.rmst",
                   "durable_response", "return_to_activity", "complications.rates", "discharge",
                   "reintervention.adjusted_rmst", "reintervention.adjusted_cif")
# Members that compare the arms: they need patients in both.
BETWEEN_ARM_MEMBERS = ("reintervention.logrank_p", "reintervention.cox_hr", "reintervention.ph_test_p",
                       "reintervention.rmst_difference", "reintervention.adjusted_cox_hr", "reintervention.e_value",
                       "complications.difference.unadjusted", "complications.difference.adjusted", "balance",
                       "adjusted.pro_change_difference", "reintervention.adjusted_rmst_difference",
                       "reintervention.adjusted_ph_test_p", "site_heterogeneity", "durable_response_difference",
                       "adjusted.pro_change_difference_mar")
PROVENANCE = ("generated_at", "run_id", "code_version", "data_sha256", "study_config_sha256",
              "suppression_threshold")


def population_counts(con: duckdb.DuckDBPyConnection, study: Study) -> dict[str, int]:
    if not table_exists(con, "staging.patients"):
        return {arm: 0 for arm in study.arms}
    rows = dict(run(con, "reporting/population_counts").fetchall())
    return {arm: int(rows.get(arm, 0)) for arm in study.arms}


def _satisfaction(t: pd.DataFrame, s: Suppressor) -> list[dict]:
    out = []
    if t.empty:
        return out
    t = t[t["primary_definition"].astype(bool)].sort_values(["arm_role", "visit_ordinal"], ascending=[False, True])
    for r in t.itertuples():
        n, k, ok = s.proportion(r.n, r.satisfied)
        out.append({"arm": r.arm, "visit": r.visit, "n": n, "satisfied": k,
                    "rate": number(r.rate) if ok else None, "ci": interval(r.ci_lower, r.ci_upper) if ok else None})
    return out


def _pro_change(t: pd.DataFrame, s: Suppressor) -> list[dict]:
    out = []
    if t.empty:
        return out
    t = t.sort_values(["arm_role", "instrument", "visit_ordinal"], ascending=[False, True, True])
    for r in t.itertuples():
        shown = not s.small(r.n) and count(r.n) is not None
        resp_ok = not s.proportion_hidden(r.n, r.responders)
        out.append({
            "arm": r.arm, "instrument": r.instrument, "visit": r.visit, "n": s.count(r.n),
            "baseline_mean": number(r.baseline_mean) if shown else None,
            "mean_change": number(r.mean_change) if shown else None,
            "ci": interval(r.ci_lower, r.ci_upper) if shown else None,
            "median_change": number(r.median_change) if shown else None,
            "responder_rate": number(r.responder_rate) if resp_ok else None,
            "responder_ci": interval(r.responder_ci_lower, r.responder_ci_upper) if resp_ok else None,
        })
    return out


def _cumulative_events(km: pd.DataFrame) -> pd.DataFrame:
    km = km.sort_values(["procedure", "day"]).copy()
    km["cumulative_events"] = km.groupby("procedure")["events"].cumsum()
    return km


def _reintervention(con, study: Study, s: Suppressor, population: dict[str, int]) -> dict[str, Any]:
    km = read(con, "durability.reintervention_km")
    cif = read(con, "durability.reintervention_cif")
    comp = read(con, "durability.reintervention_comparison")
    order = {arm: i for i, arm in enumerate(study.arms)}
    km_rows, cif_rows, events_total = [], [], {}
    if not km.empty:
        km = _cumulative_events(km)
        km = km.sort_values(by=["procedure", "day"], key=lambda c: c.map(order) if c.name == "procedure" else c)
        for r in km.itertuples():
            ok = not (s.small(r.cumulative_events) or s.small(r.at_risk) or s.small(population.get(r.procedure)))
            km_rows.append({"arm": r.procedure, "day": int(r.day), "survival": number(r.survival) if ok else None,
                            "ci": interval(r.ci_lower, r.ci_upper) if ok else None, "at_risk": s.count(r.at_risk)})
            events_total[r.procedure] = int(r.cumulative_events)
        cum = {(r.procedure, int(r.day)): int(r.cumulative_events) for r in km.itertuples()}
    else:
        cum = {}
    if not cif.empty:
        cif = cif.sort_values(by=["procedure", "day"], key=lambda c: c.map(order) if c.name == "procedure" else c)
        for r in cif.itertuples():
            ev = cum.get((r.procedure, int(r.day)))
            ok = ev is not None and not s.small(ev) and not s.small(population.get(r.procedure))
            cif_rows.append({"arm": r.procedure, "day": int(r.day),
                             "cumulative_incidence": number(r.cumulative_incidence) if ok else None})
    # Between-arm statistics need both arms with a publishable number of events and patients.
    both_ok = bool(events_total) and all(
        not s.small(events_total.get(a, 0)) and not s.small(population.get(a, 0)) for a in study.arms)

    def measure(name: str) -> pd.DataFrame:
        return comp[comp["measure"] == name] if not comp.empty else comp

    def p_of(name: str) -> float | None:
        m = measure(name)
        return number(m["p_value"].iloc[0]) if both_ok and len(m) else None

    cox = measure("cox_hr")
    rmst = measure("rmst")
    diff = measure("rmst_difference")
    adjusted = _adjusted_hr(con) if both_ok else None
    return {
        "km": km_rows,
        "cif": cif_rows,
        "logrank_p": p_of("logrank"),
        "cox_hr": {"estimate": number(cox["estimate"].iloc[0]), "ci": interval(cox["ci_lower"].iloc[0],
                   cox["ci_upper"].iloc[0]), "p": number(cox["p_value"].iloc[0])} if both_ok and len(cox) else None,
        "ph_test_p": p_of("ph_test"),
        "rmst": [{"arm": r.procedure, "tau": number(r.tau),
                  "rmst": s.derived(number(r.estimate), population.get(r.procedure)),
                  "se": s.derived(number(r.se), population.get(r.procedure))}
                 for r in rmst.sort_values("procedure", key=lambda c: c.map(order)).itertuples()] if len(rmst) else [],
        "rmst_difference": {"estimate": number(diff["estimate"].iloc[0]),
                            "ci": interval(diff["ci_lower"].iloc[0], diff["ci_upper"].iloc[0])}
        if both_ok and len(diff) else None,
        "adjusted_cox_hr": adjusted,
        "e_value": _e_value(con) if adjusted else None,
        **_adjusted_survival(con, study, s, population),
    }


def _adjusted(con) -> pd.DataFrame:
    return read(con, "comparison.adjusted_estimates")


def _adjusted_hr(con) -> dict | None:
    t = _adjusted(con)
    if t.empty:
        return None
    m = t[(t["outcome"] == "reintervention") & (t["adjustment"] == "adjusted")]
    if m.empty or number(m["estimate"].iloc[0]) is None:
        return None
    r = m.iloc[0]
    return {"estimate": number(r["estimate"]), "ci": interval(r["ci_lower"], r["ci_upper"]),
            "balance_achieved": clean(r.get("balance_achieved"))}


def _e_value(con) -> dict | None:
    t = read(con, "comparison.e_value")
    if t.empty or number(t["e_value"].iloc[0]) is None:
        return None
    return {"estimate": number(t["e_value"].iloc[0]), "ci_limit": number(t["e_value_ci_limit"].iloc[0])}


def _adjusted_survival(con, study: Study, s: Suppressor, population: dict[str, int]) -> dict[str, Any]:
    """SAP 6 v2 (comparison.adjusted_reintervention, comparison.adjusted_cif): the weighted RMST per arm (shown
    when the arm's patients are not small), its difference and the weighted PH test (when both arms' patients
    and events are not small), the weighted cumulative incidence per day (when the arm's patients and its
    reinterventions by that day are not small), as the unweighted members."""
    main = read(con, "comparison.adjusted_reintervention")
    cif = read(con, "comparison.adjusted_cif")
    order = {arm: i for i, arm in enumerate(study.arms)}

    def rows(measure: str) -> pd.DataFrame:
        return main[main["measure"] == measure] if not main.empty else main

    rmst = rows("rmst")
    if len(rmst):
        rmst = rmst.sort_values("arm", key=lambda c: c.map(order))
    diff, ph = rows("rmst_difference"), rows("ph_test")
    # Between the arms: both arms' patients and the smaller arm's events (the `events` column) not small.
    diff_ok = bool(len(diff)) and not s.small(diff["events"].iloc[0]) and all(
        population.get(a) and not s.small(population.get(a)) for a in study.arms)
    cif_rows = []
    if not cif.empty:
        cif = cif.sort_values(by=["arm", "day"], key=lambda c: c.map(order) if c.name == "arm" else c)
        for r in cif.itertuples():
            ok = not (s.small(r.events) or s.small(population.get(r.arm)))
            cif_rows.append({"arm": r.arm, "day": int(r.day),
                             "cumulative_incidence": number(r.cumulative_incidence) if ok else None,
                             "ci": interval(r.ci_lower, r.ci_upper) if ok else None})
    return {
        "adjusted_rmst": [{"arm": r.arm, "tau": number(r.tau),
                           "rmst": s.derived(number(r.estimate), r.n, population.get(r.arm)),
                           "se": s.derived(number(r.se), r.n, population.get(r.arm))} for r in rmst.itertuples()],
        "adjusted_rmst_difference": {"estimate": number(diff["estimate"].iloc[0]),
                                     "ci": interval(diff["ci_lower"].iloc[0], diff["ci_upper"].iloc[0])}
        if diff_ok else None,
        "adjusted_cif": cif_rows,
        "adjusted_ph_test_p": number(ph["p_value"].iloc[0]) if len(ph) and diff_ok else None,
    }


def _durable(con, study: Study, s: Suppressor, population: dict[str, int]) -> list[dict]:
    t = read(con, "durability.durable_response_turnbull")
    order = {arm: i for i, arm in enumerate(study.arms)}
    if t.empty:
        return []
    t = t.sort_values(by=["procedure", "day"], key=lambda c: c.map(order) if c.name == "procedure" else c)
    rows = []
    for r in t.itertuples():
        if int(r.day) not in study.durable_response_days:
            continue
        shown = s.derived(True, r.patients, population.get(r.procedure))  # withheld together with its CI
        ci = interval(getattr(r, "ci_lower", None), getattr(r, "ci_upper", None))
        rows.append({"arm": r.procedure, "day": int(r.day), "probability": number(r.probability) if shown else None,
                     "ci": ci if shown else None})
    return rows


def _durable_difference(con, study: Study, s: Suppressor, population: dict[str, int]) -> dict | None:
    """SAP 4.2 v2: treatment - comparator probability of durable response at the last day, normal bootstrap CI;
    None when not estimated (a gap says why) or when either arm's patients are too few to show (SAP 8)."""
    if not table_exists(con, "durability.durable_response_difference"):
        return None
    t = read(con, "durability.durable_response_difference")
    if t.empty or number(t["estimate"].iloc[0]) is None:
        return None
    arms = read(con, "durability.durable_response_turnbull")
    patients = [arms.loc[arms["procedure"] == a, "patients"].max() if not arms.empty else None for a in study.arms]
    if s.derived(True, *patients, *(population.get(a) for a in study.arms)) is None:
        return None
    r = t.iloc[0]
    return {"day": int(r["day"]), "estimate": number(r["estimate"]), "ci": interval(r["ci_lower"], r["ci_upper"])}


def _return_to_activity(con, study: Study, s: Suppressor) -> list[dict]:
    t = read(con, "durability.return_to_activity_km")
    if t.empty:
        return []
    out = []
    for arm in study.arms:
        a = t[t["procedure"] == arm]
        if a.empty:
            continue
        patients, events = a["patients"].iloc[0], a["events"].iloc[0]
        arm_ok = not s.small(patients) and not s.small(events)
        med = a[a["measure"] == "median_days"]
        row: dict[str, Any] = {"arm": arm, "median_days": None, "ci": None, "by_day_14": None, "by_day_28": None}
        if arm_ok and len(med):
            row["median_days"] = number(med["estimate"].iloc[0])
            row["ci"] = [number(med["ci_lower"].iloc[0]), number(med["ci_upper"].iloc[0])]
        for day in (14, 28):
            b = a[(a["measure"] == "share_back") & (a["day"] == day)]
            if arm_ok and len(b) and not s.small(b["at_risk"].iloc[0]):
                row[f"by_day_{day}"] = number(b["estimate"].iloc[0])
        out.append(row)
    return out


def _complications(con, s: Suppressor) -> list[dict] | dict:
    t = read(con, "outcomes.complication_rates")
    d = read(con, "outcomes.complication_difference")
    rows, all_ok = [], not t.empty
    for r in t.sort_values("arm_role", ascending=False).itertuples() if not t.empty else []:
        n, k, ok = s.proportion(r.n, r.events)
        all_ok = all_ok and ok
        rows.append({"arm": r.arm, "n": n, "events": k, "rate": number(r.rate) if ok else None,
                     "ci": interval(r.ci_lower, r.ci_upper) if ok else None})
    unadjusted = None
    if all_ok and not d.empty:
        unadjusted = {"estimate": number(d["estimate"].iloc[0]), "ci": interval(d["ci_lower"].iloc[0],
                                                                                 d["ci_upper"].iloc[0])}
    adjusted = None
    a = _adjusted(con)
    if all_ok and not a.empty:
        m = a[(a["outcome"] == "complication") & (a["adjustment"] == "adjusted")]
        if len(m) and number(m["estimate"].iloc[0]) is not None:
            adjusted = {"estimate": number(m["estimate"].iloc[0]),
                        "ci": interval(m["ci_lower"].iloc[0], m["ci_upper"].iloc[0]),
                        "balance_achieved": clean(m["balance_achieved"].iloc[0])}
    return {"rows": rows, "difference": {"unadjusted": unadjusted, "adjusted": adjusted}}


def _discharge(con, s: Suppressor) -> list[dict]:
    t = read(con, "outcomes.discharge_summary")
    out = []
    for r in t.sort_values("arm_role", ascending=False).itertuples() if not t.empty else []:
        n, k, ok = s.proportion(r.n, r.same_day)
        n_ok = not s.small(r.n)
        out.append({"arm": r.arm, "n": n, "same_day": k, "rate": number(r.rate) if ok else None,
                    "ci": interval(r.ci_lower, r.ci_upper) if ok else None,
                    "mean_los": number(r.mean_los) if n_ok else None,
                    "median_los": number(r.median_los) if n_ok else None})
    return out


def _balance(con, study: Study, s: Suppressor) -> dict | None:
    summary = read(con, "comparison.balance_summary")
    table = read(con, "comparison.balance")
    if summary.empty or table.empty:
        return None
    r = summary.iloc[0]
    ok = not s.small(r["n_treatment"]) and not s.small(r["n_comparator"])
    return {
        "weights": clean(r["weights"]),
        "covariates": [{"name": c.covariate, "smd_before": number(c.smd_before), "smd_after": number(c.smd_after)}
                       for c in table.itertuples()],
        "max_abs_smd_after": number(r["max_abs_smd_after"]),
        "passed": bool(r["balance_passed"]),
        "equipoise": number(r["equipoise"]),
        "equipoise_passed": clean(r.get("equipoise_passed")),
        "ess": {study.treatment: number(r["ess_treatment"]) if ok else None,
                study.comparator: number(r["ess_comparator"]) if ok else None},
        "dropped_covariates": [c for c in str(clean(r.get("dropped_covariates")) or "").split(",") if c],
    }


def _adjusted_section(con, s: Suppressor) -> dict | None:
    t = _adjusted(con)
    if t.empty:
        return None
    rows = []
    m = t[(t["outcome"] == "pro_change") & (t["adjustment"] == "adjusted")].sort_values(["instrument", "visit_ordinal"])
    for r in m.itertuples():
        ok = not s.small(r.n_treatment) and not s.small(r.n_comparator)
        rows.append({"instrument": r.instrument, "visit": r.visit, "estimate": number(r.estimate) if ok else None,
                     "ci": interval(r.ci_lower, r.ci_upper) if ok else None,
                     "balance_achieved": clean(r.balance_achieved)})
    return {"pro_change_difference": rows, "pro_change_difference_mar": _difference_mar(con, s)}


def _difference_mar(con, s: Suppressor) -> list[dict]:
    """adjusted.pro_change_difference_mar (SAP 3.1): the MAR twin, withheld as its complete-case twin is."""
    t = read(con, "comparison.pro_change_difference_mar")
    if t.empty:
        return []
    rows = []
    for r in t[t["outcome"] == "pro_change"].sort_values(["instrument", "visit_ordinal"]).itertuples():
        ok = not s.small(r.n_treatment) and not s.small(r.n_comparator)
        rows.append({"instrument": r.instrument, "visit": r.visit, "estimate": number(r.estimate) if ok else None,
                     "ci": interval(r.ci_lower, r.ci_upper) if ok else None, "method": r.method})
    return rows


def difference_tipping_points(con: duckdb.DuckDBPyConnection, s: Suppressor,
                              population: dict[str, int] | None = None) -> list[dict]:
    """tipping_point rows of the adjusted difference (SAP 3.1; the per-arm rows come from the outcomes stage):
    withheld when the treatment arm's eligible, unassessed or not-eligible count is small (the share is derived
    from them) or when the difference itself is."""
    t = read(con, "comparison.tipping_point_difference")
    d = read(con, "comparison.pro_change_difference_mar")
    out = []
    for r in t.itertuples() if not t.empty else []:
        diff = d[(d["outcome"] == "pro_change") & (d["instrument"] == r.instrument) & (d["visit"] == r.visit)]
        ok = not (s.proportion_hidden(r.eligible, r.assessed)
                  or not_eligible_small(s, population, r.arm, int(r.eligible))) and len(diff) > 0 and not (
            s.small(diff["n_treatment"].iloc[0]) or s.small(diff["n_comparator"].iloc[0]))
        out.append({"what": r.what, "arm": r.arm, "visit": r.visit, "delta": number(r.delta) if ok else None,
                    "share_unassessed": number(r.share_unassessed) if ok else None,
                    "threshold": number(r.threshold), "instrument": r.instrument, "method": r.method})
    return out


def assemble_results(con: duckdb.DuckDBPyConnection, study: Study, provenance: dict[str, object],
                     claims: list[dict] | None = None, suppressor: Suppressor | None = None) -> dict[str, Any]:
    """The results.json document. `claims` come from pipeline.reporting.claims (evaluated on this document).
    `suppressor` replaces the study's disclosure control: the claims decide their verdicts on the document
    built with none (SAP 7); that document is never published."""
    s = suppressor or Suppressor(study.suppression_threshold)
    population = population_counts(con, study)
    compl = _complications(con, s)
    doc: dict[str, Any] = {
        "contract_version": CONTRACT_VERSION,
        "provenance": dict(provenance),
        "arms": {"treatment": study.treatment, "comparator": study.comparator},
        "population": {arm: {"patients": s.count(n)} for arm, n in population.items()},
        "satisfaction": _satisfaction(read(con, "outcomes.satisfaction_rates"), s),
        "pro_change": _pro_change(read(con, "outcomes.pro_change_summary"), s),
        "reintervention": _reintervention(con, study, s, population),
        "durable_response": _durable(con, study, s, population),
        "durable_response_difference": _durable_difference(con, study, s, population),
        "return_to_activity": _return_to_activity(con, study, s),
        "complications": {"rates": compl["rows"], "difference": compl["difference"]},
        "discharge": _discharge(con, s),
        "balance": _balance(con, study, s),
        "adjusted": _adjusted_section(con, s),
        "claims": claims or [],
        "site_heterogeneity": site_heterogeneity(con, study, s),
        "subgroups": subgroups_member(con, s),
        **mar_members(con, s, population),  # SAP 3.1: pro_change_mar, satisfaction_mar, tipping_point
    }
    # The adjusted difference's tipping point joins the per-arm ones (results-contract tipping_point, SAP 3.1).
    doc.setdefault("tipping_point", []).extend(difference_tipping_points(con, s, population))
    doc["not_estimable"] = not_estimable(con, study, population)
    return doc


def not_estimable(con: duckdb.DuckDBPyConnection, study: Study, population: dict[str, int]) -> list[dict]:
    """results.json `not_estimable` (SAP 9): [{what, reason}], one per member path.

    The analyses record their own gaps with the reason they met (pipeline/estimable.py); an arm without patients
    adds the generic ones here: its per-arm members, and every between-arm member. A number withheld by
    disclosure control is not listed: it was estimated, and is only not shown."""
    gaps = {g.what: g.reason for g in read_gaps(con)}
    empty = [arm for arm in study.arms if not population.get(arm)]
    for arm in empty:
        for member in PER_ARM_MEMBERS:
            gaps.setdefault(f"{member}[{arm}]", f"no {arm} patients")
    if empty:
        reason = ("no patients in either arm" if len(empty) == len(study.arms)
                  else f"no {empty[0]} patients: a comparison needs both arms")
        for member in BETWEEN_ARM_MEMBERS:
            gaps.setdefault(member, reason)
    return [{"what": what, "reason": reason} for what, reason in sorted(gaps.items())]


# The contract's members, for validation: top-level keys, nested object keys, and the keys of list rows.
CONTRACT_OBJECTS = {
    "provenance": PROVENANCE,
    "arms": ("treatment", "comparator"),
    "reintervention": ("km", "cif", "logrank_p", "cox_hr", "ph_test_p", "rmst", "rmst_difference", "adjusted_cox_hr",
                       "e_value", "adjusted_rmst", "adjusted_rmst_difference", "adjusted_cif", "adjusted_ph_test_p"),
    "complications": ("rates", "difference"),
    "balance": ("weights", "covariates", "max_abs_smd_after", "passed", "equipoise", "ess"),
    "adjusted": ("pro_change_difference", "pro_change_difference_mar"),
}
CONTRACT_ROWS = {
    ("satisfaction",): ("arm", "visit", "n", "satisfied", "rate", "ci"),
    ("pro_change",): ("arm", "instrument", "visit", "n", "baseline_mean", "mean_change", "ci", "median_change",
                      "responder_rate", "responder_ci"),
    ("reintervention", "km"): ("arm", "day", "survival", "ci", "at_risk"),
    ("reintervention", "cif"): ("arm", "day", "cumulative_incidence"),
    ("reintervention", "rmst"): ("arm", "tau", "rmst", "se"),
    ("reintervention", "adjusted_rmst"): ("arm", "tau", "rmst", "se"),
    ("reintervention", "adjusted_cif"): ("arm", "day", "cumulative_incidence", "ci"),
    ("durable_response",): ("arm", "day", "probability", "ci"),
    ("return_to_activity",): ("arm", "median_days", "ci", "by_day_14", "by_day_28"),
    ("complications", "rates"): ("arm", "n", "events", "rate", "ci"),
    ("discharge",): ("arm", "n", "same_day", "rate", "mean_los", "median_los"),
    ("balance", "covariates"): ("name", "smd_before", "smd_after"),
    ("adjusted", "pro_change_difference"): ("instrument", "visit", "estimate", "ci"),
    ("adjusted", "pro_change_difference_mar"): ("instrument", "visit", "estimate", "ci", "method"),
    ("claims",): ("id", "claim", "metric", "value", "ci", "verdict"),
    ("not_estimable",): ("what", "reason"),
    ("subgroups",): ("outcome", "subgroup", "level", "estimate", "ci", "interaction_p"),
    **MAR_ROWS,
}
CONTRACT_NESTED = {
    ("reintervention", "cox_hr"): ("estimate", "ci", "p"),
    ("reintervention", "rmst_difference"): ("estimate", "ci"),
    ("reintervention", "adjusted_rmst_difference"): ("estimate", "ci"),
    ("reintervention", "adjusted_cox_hr"): ("estimate", "ci"),
    ("reintervention", "e_value"): ("estimate", "ci_limit"),
    ("complications", "difference"): ("unadjusted", "adjusted"),
    ("complications", "difference", "unadjusted"): ("estimate", "ci"),
    ("complications", "difference", "adjusted"): ("estimate", "ci"),
    ("durable_response_difference",): ("day", "estimate", "ci"),
}


def validate(doc: dict) -> list[str]:
    """Problems of `doc` against the contract member list (empty when it conforms). Nullable objects (the
    adjusted comparison, statistics withheld by disclosure control) may be None."""
    problems = [f"missing member {k}" for k in TOP_LEVEL if k not in doc]
    if doc.get("contract_version") != CONTRACT_VERSION:
        problems.append("contract_version is not '1'")
    for key, members in CONTRACT_OBJECTS.items():
        obj = doc.get(key)
        if obj is None and key in ("balance", "adjusted"):
            continue
        if not isinstance(obj, dict):
            problems.append(f"{key} is not an object")
            continue
        problems += [f"{key}.{m} missing" for m in members if m not in obj]

    def at(path):
        obj = doc
        for p in path:
            obj = obj.get(p) if isinstance(obj, dict) else None
        return obj

    for path, members in CONTRACT_ROWS.items():
        rows = at(path)
        if rows is None and path[0] in ("balance", "adjusted"):
            continue
        if not isinstance(rows, list):
            problems.append(f"{'.'.join(path)} is not a list")
            continue
        for i, row in enumerate(rows):
            problems += [f"{'.'.join(path)}[{i}].{m} missing" for m in members if m not in row]
    for path, members in CONTRACT_NESTED.items():
        obj = at(path)
        if obj is not None:
            problems += [f"{'.'.join(path)}.{m} missing" for m in members if m not in obj]
    problems += [p for p in validate_member(doc) if not p.startswith("missing member")]
    return problems
