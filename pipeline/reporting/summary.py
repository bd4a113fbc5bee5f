"""The comparative report's summary: key findings in plain sentences with their numbers and CIs, and one
sentence per claim saying plainly whether the data support it, do not support it, or leave it open."""

from typing import Any

from pipeline.reporting.common import fmt, fmt_ci, pct, pct_ci
from pipeline.study import Study


def _find(rows: list[dict], **match: Any) -> dict:
    return next((r for r in rows if all(r.get(k) == v for k, v in match.items())), {})


def _ci_text(ci, digits=1, percent=False) -> str:
    if not ci:
        return "CI withheld"
    return f"95% CI {(pct_ci if percent else fmt_ci)(ci, digits)}"


def summary_sentences(results: dict, study: Study) -> list[str]:
    """Key findings in plain sentences, each with its number and CI (or why it is withheld)."""
    t, c, pv = study.treatment, study.comparator, study.primary_visit
    out = []
    pop = results["population"]
    out.append(f"The analysis includes {pop[t]['patients']} {t} and {pop[c]['patients']} {c} patients.")
    present = [arm for arm in (t, c) if pop[arm]["patients"] != 0]
    if len(present) == 1:
        out.append(f"This landing holds no {c if present == [t] else t} patients: the report describes "
                   f"{present[0]} alone, and every between-arm comparison is not estimable.")
    elif not present:
        out.append("This landing holds no analysable patient: no number can be estimated (see the data-quality "
                   "report for what happened to the delivered rows).")
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
    hazard = []
    if r.get("cox_hr"):
        hazard.append(f"Unadjusted hazard ratio of reintervention {t} vs {c}: {fmt(r['cox_hr']['estimate'], 2)} "
                      f"({_ci_text(r['cox_hr']['ci'], 2)}).")
    if r.get("adjusted_cox_hr"):
        e = r.get("e_value") or {}
        hazard.append(f"Adjusted hazard ratio: {fmt(r['adjusted_cox_hr']['estimate'], 2)} "
                      f"({_ci_text(r['adjusted_cox_hr']['ci'], 2)}); E-value {fmt(e.get('estimate'), 2)} "
                      f"(CI limit {fmt(e.get('ci_limit'), 2)}).")
    rmst = adjusted_rmst_sentences(results, study)
    out.extend(rmst + hazard if rmst_leads(results, study) else hazard + rmst)
    for row in results["return_to_activity"]:
        if row.get("median_days") is not None:
            out.append(f"{row['arm']}: median {fmt(row['median_days'], 0)} days to return to normal activity "
                       f"({_ci_text(row['ci'], 0)}).")
    out.extend(claim_sentences(results["claims"]))
    return out


def rmst_leads(results: dict, study: Study) -> bool:
    """SAP 6 v2: when the PH test of the adjusted (weighted) Cox model rejects (p < survival.ph_alpha) and the
    adjusted RMST difference is published, the reintervention comparison leads with the RMST difference."""
    r = results["reintervention"]
    p = r.get("adjusted_ph_test_p")
    return p is not None and p < study.ph_alpha and bool(r.get("adjusted_rmst_difference"))


def adjusted_rmst_sentences(results: dict, study: Study) -> list[str]:
    """The adjusted RMST difference in plain words; led by why, when proportional hazards fail."""
    r = results["reintervention"]
    d = r.get("adjusted_rmst_difference")
    if not d or d.get("estimate") is None:
        return []
    t, c, tau = study.treatment, study.comparator, study.horizon_days
    more = "more" if d["estimate"] >= 0 else "fewer"
    out = [f"Adjusted for confounding, over the first {tau} days {t} patients spent on average "
           f"{fmt(abs(d['estimate']))} {more} days free of reintervention than {c} patients (restricted mean "
           f"survival time difference {fmt(d['estimate'])} days; {_ci_text(d['ci'])})."]
    if rmst_leads(results, study):
        out.insert(0, "The risk of reintervention in one arm relative to the other changes over time (adjusted "
                      f"proportional-hazards test p = {fmt(r['adjusted_ph_test_p'], 4)}), so a single hazard "
                      "ratio only averages a changing ratio; the comparison therefore leads with the difference "
                      "in time free of reintervention.")
    return out


def _evidence(cond: dict) -> str:
    """'<metric> <value> (<CI>)' of one claim condition, or why the number is missing."""
    if cond.get("withheld"):
        return f"{cond['metric']} is withheld by disclosure control (the verdict was decided on it)"
    if cond.get("value") is None:
        return f"{cond['metric']} is not available"
    percent = bool(cond.get("proportion"))
    value = pct(cond["value"]) if percent else fmt(cond["value"], 2)
    parts = [_ci_text(cond["ci"], 2 if not percent else 1, percent=percent)] if cond.get("ci") else []
    medians = cond.get("medians") or {}
    if "median_treatment" in medians:
        parts.append(f"weighted KM medians {fmt(medians['median_treatment'], 1)} vs "
                     f"{fmt(medians['median_comparator'], 1)} days")
    return f"{cond['metric']} {value}" + (f" ({'; '.join(parts)})" if parts else "")


def _why_open(cond: dict) -> str:
    if cond.get("note"):
        return cond["note"]
    if not cond.get("n_ok", True):
        return "fewer patients than the scorecard's minimum stand behind it"
    return cond.get("reason") or "its 95% CI straddles the threshold"


def claim_sentences(claims: list[dict]) -> list[str]:
    """One plain sentence per claim: whether the data support it, with the numbers and the rule behind it."""
    out = []
    for c in claims:
        conds, name = c["conditions"], f"“{c['claim']}”"
        if c["verdict"] == "supported":
            out.append(f"The data support {name}: " + "; ".join(f"{_evidence(x)}, which meets the rule "
                                                                  f"({x['rule']})" for x in conds) + ".")
        elif c["verdict"] == "not supported":
            failing = [x for x in conds if x["verdict"] == "not supported"]
            out.append(f"The data do not support {name}: " + "; ".join(
                f"{_evidence(x)}, which fails the rule ({x['rule']})" for x in failing) + ".")
        elif c["verdict"] == "inconclusive":
            open_ = [x for x in conds if x["verdict"] == "inconclusive"]
            out.append(f"The data can neither confirm nor refute {name}: " + "; ".join(
                f"{x['metric']}: {x.get('reason') or 'not available'} (rule: {x['rule']})"
                if x.get("value") is None and not x.get("withheld")
                else f"{_evidence(x)}, and {_why_open(x)} (rule: {x['rule']})"
                for x in open_) + ".")
        else:
            out.append(f"{name} is reported without a verdict: " + "; ".join(_evidence(x) for x in conds) + ".")
    return out
