"""Claims scorecard (SAP section 7), read from pipeline/claims.toml so that new claims need no code.

Metrics are read from the results document, plus the return-to-activity numbers the contract does not carry
(weighted KM medians and the adjusted HR of returning), passed in as `extras`. SAP 7 version 2: a verdict is
decided on the unsuppressed numbers (the same document built without disclosure control, `raw`), and
published with the disclosure-controlled value (None when withheld); a withheld number no longer makes its
claim inconclusive. A metric that cannot be estimated still does, with the reason.
"""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from pipeline.reporting.common import number, read
from pipeline.reporting.suppression import Suppressor
from pipeline.study import Study
from pipeline.survival.km import curve_median

CLAIMS_FILE = Path(__file__).resolve().parent.parent / "claims.toml"
SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE, REPORTED = "supported", "not supported", "inconclusive", "reported"
RULES = ("ci_contains_or_above", "ci_lower_at_least", "ci_lower_above", "ci_upper_below", "estimate_at_least",
         "non_inferior", "median_shorter_and_hr_above", "report")
METRICS = ("satisfaction_rate", "responder_rate", "mean_change", "reintervention_free", "reintervention_cif",
           "same_day_discharge", "returned_by_day", "return_faster", "complication_difference",
           "satisfaction_rate_mar", "responder_rate_mar", "mean_change_mar")
# Disclosure control switched off (threshold 1: no count is small): for the document verdicts are decided on.
UNSUPPRESSED = Suppressor(1)
# The return-to-activity HR's gap (pipeline/comparison/adjusted_tables.RETURN_HR_MEMBER).
RETURN_HR_MEMBER = "return_to_activity.adjusted_hr"


@dataclass(frozen=True)
class Metric:
    label: str
    value: float | None
    ci: list[float] | None = None
    n: int | None = None  # patients behind the metric (None: unknown or withheld)
    note: str = ""
    what: tuple[str, ...] = ()  # the results.json member paths behind the metric (for not-estimable reasons)
    # return_faster: weighted KM medians per arm (None: the curve does not reach 0.5), their difference, and
    # whether the treatment median is shorter (None: cannot be told, see _shorter).
    medians: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Condition:
    metric: str
    rule: str
    params: dict[str, Any] = field(default_factory=dict)
    threshold: float | None = None
    alpha: float = 0.05


@dataclass(frozen=True)
class Claim:
    id: str
    claim: str
    conditions: tuple[Condition, ...]


def load_claims(path: Path = CLAIMS_FILE) -> tuple[int, list[Claim]]:
    """(minimum_n, claims); refuses unknown metrics, rules and keys so that a typo cannot pass silently."""
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(doc) - {"minimum_n", "claims"}
    if unknown:
        raise ValueError(f"claims file: unknown keys {sorted(unknown)}")
    claims = []
    for c in doc.get("claims", []):
        if set(c) - {"id", "claim", "conditions"} or not c.get("conditions"):
            raise ValueError(f"claim {c.get('id')!r}: needs id, claim and at least one [[claims.conditions]]")
        conds = []
        for k in c["conditions"]:
            k = dict(k)
            metric, rule = k.pop("metric"), k.pop("rule")
            if metric not in METRICS:
                raise ValueError(f"claim {c['id']!r}: unknown metric {metric!r}")
            if rule not in RULES:
                raise ValueError(f"claim {c['id']!r}: unknown rule {rule!r}")
            threshold = k.pop("threshold", None)
            alpha = float(k.pop("alpha", 0.05))
            if rule != "report" and threshold is None:
                raise ValueError(f"claim {c['id']!r}: rule {rule!r} needs a threshold")
            if rule == "median_shorter_and_hr_above" and metric != "return_faster":
                raise ValueError(f"claim {c['id']!r}: rule {rule!r} reads the medians of metric 'return_faster'")
            if rule == "non_inferior":
                margin = k.get("margin")
                if not isinstance(margin, int | float) or isinstance(margin, bool) or not margin >= 0:
                    raise ValueError(f"claim {c['id']!r}: rule 'non_inferior' needs a margin ≥ 0")
                k["margin"] = float(margin)
            elif "margin" in k:
                raise ValueError(f"claim {c['id']!r}: margin belongs to rule 'non_inferior' only")
            conds.append(Condition(metric, rule, k, None if threshold is None else float(threshold), alpha))
        claims.append(Claim(str(c["id"]), str(c["claim"]), tuple(conds)))
    return int(doc.get("minimum_n", 30)), claims


def _n(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _find(rows: list[dict], **match: Any) -> dict | None:
    return next((r for r in rows if all(r.get(k) == v for k, v in match.items())), None)


def metric_value(results: dict, extras: dict, cond: Condition, study: Study) -> Metric:
    p = cond.params
    arm = study.treatment if p.get("arm", "treatment") == "treatment" else study.comparator
    patients = _n((results["population"].get(arm) or {}).get("patients"))
    m = cond.metric
    if m == "satisfaction_rate":
        r = _find(results["satisfaction"], arm=arm, visit=p["visit"]) or {}
        return Metric(f"{arm} satisfaction rate at {p['visit']}", r.get("rate"), r.get("ci"), _n(r.get("n")),
                      what=(f"satisfaction[{arm}]",))
    if m == "responder_rate":
        r = _find(results["pro_change"], arm=arm, instrument=p["instrument"], visit=p["visit"]) or {}
        return Metric(f"{arm} {p['instrument']} responder rate at {p['visit']}", r.get("responder_rate"),
                      r.get("responder_ci"), _n(r.get("n")),
                      what=(f"pro_change[{arm}][{p['instrument']}]", f"pro_change[{arm}]"))
    if m == "mean_change":
        r = _find(results["pro_change"], arm=arm, instrument=p["instrument"], visit=p["visit"]) or {}
        return Metric(f"{arm} mean {p['instrument']} change at {p['visit']}", r.get("mean_change"), r.get("ci"),
                      _n(r.get("n")), what=(f"pro_change[{arm}][{p['instrument']}]", f"pro_change[{arm}]"))
    if m == "reintervention_free":
        r = _find(results["reintervention"]["km"], arm=arm, day=int(p["day"])) or {}
        return Metric(f"{arm} freedom from reintervention at day {p['day']} (KM)", r.get("survival"), r.get("ci"),
                      patients, what=(f"reintervention.km[{arm}]",))
    if m == "reintervention_cif":
        r = _find(results["reintervention"]["cif"], arm=arm, day=int(p["day"])) or {}
        return Metric(f"{arm} cumulative incidence of reintervention at day {p['day']}", r.get("cumulative_incidence"),
                      None, patients, what=(f"reintervention.cif[{arm}]",))
    if m == "same_day_discharge":
        r = _find(results["discharge"], arm=arm) or {}
        return Metric(f"{arm} same-day discharge share", r.get("rate"), r.get("ci"), _n(r.get("n")),
                      what=(f"discharge[{arm}]",))
    if m == "returned_by_day":
        r = _find(results["return_to_activity"], arm=arm) or {}
        return Metric(f"{arm} share back to normal activity by day {p['day']} (1 − KM)", r.get(f"by_day_{p['day']}"),
                      None, patients, what=(f"return_to_activity[{arm}]",))
    if m == "return_faster":
        ns = [_n((results["population"].get(a) or {}).get("patients")) for a in study.arms]
        n = min(ns) if all(x is not None for x in ns) else None
        hr = extras.get("return_adjusted_hr") or {}
        per_arm = extras.get("return_weighted_median") or {}
        t, c = per_arm.get(study.treatment), per_arm.get(study.comparator)
        medians = {"median_treatment": t, "median_comparator": c,
                   "median_difference": None if t is None or c is None else number(t - c),
                   "median_shorter": _shorter(extras, study)} if "return_weighted_median" in extras else {}
        return Metric(f"adjusted HR of returning to activity, {study.treatment} vs {study.comparator} "
                      "(weighted Cox, robust CI; > 1: sooner), with the weighted KM medians",
                      hr.get("estimate"), hr.get("ci"), n,
                      what=(RETURN_HR_MEMBER, *(f"return_to_activity[{a}]" for a in study.arms)), medians=medians)
    if m == "complication_difference":
        d = ((results["complications"].get("difference") or {}).get(p.get("adjustment", "adjusted"))) or {}
        ns = [_n(r.get("n")) for r in results["complications"]["rates"]]
        n = min(ns) if ns and all(x is not None for x in ns) else None
        return Metric(f"{p.get('adjustment', 'adjusted')} 90-day complication risk difference, "
                      f"{study.treatment} − {study.comparator}", d.get("estimate"), d.get("ci"), n,
                      what=(f"complications.difference.{p.get('adjustment', 'adjusted')}",))
    if m in MAR_METRICS:
        return mar_metric(results, cond, arm)
    raise ValueError(f"unknown metric {m!r}")


# The MAR (IPAW) twins of the PRO metrics (SAP 3.1 and 7, version 2): results.json satisfaction_mar and
# pro_change_mar. The patients behind the number are those assessed (their answers carry it); a fall-back of
# the attendance model to complete case is said in the note. A MAR number cannot exist where its complete-case
# twin could not be estimated, so the twin's recorded reason (e.g. an instrument nobody answered) is read too.
MAR_METRICS = frozenset({"satisfaction_rate_mar", "responder_rate_mar", "mean_change_mar"})
FELL_BACK = "attendance model not fitted: complete-case estimate"


def mar_metric(results: dict, cond: Condition, arm: str) -> Metric:
    p, m = cond.params, cond.metric
    if m == "satisfaction_rate_mar":
        r = _find(results.get("satisfaction_mar") or [], arm=arm, visit=p["visit"]) or {}
        label, value, ci = f"{arm} satisfaction rate at {p['visit']} (MAR)", r.get("rate"), r.get("ci")
        what: tuple[str, ...] = (f"satisfaction_mar[{arm}]", "satisfaction_mar", f"satisfaction[{arm}]")
    else:
        r = _find(results.get("pro_change_mar") or [], arm=arm, instrument=p["instrument"], visit=p["visit"]) or {}
        kind = "responder rate" if m == "responder_rate_mar" else "mean change"
        label = f"{arm} {p['instrument']} {kind} at {p['visit']} (MAR)"
        value, ci = ((r.get("responder_rate"), r.get("responder_ci")) if m == "responder_rate_mar"
                     else (r.get("mean_change"), r.get("ci")))
        what = (f"pro_change_mar[{arm}][{p['instrument']}]", f"pro_change_mar[{arm}]", "pro_change_mar",
                f"pro_change[{arm}][{p['instrument']}]", f"pro_change[{arm}]")
    note = FELL_BACK if r.get("method") == "complete_case" else ""
    return Metric(label, value, ci, _n(r.get("assessed")), note=note, what=what)


def verdict(cond: Condition, metric: Metric, minimum_n: int) -> str:
    """SAP 7: supported / not supported / inconclusive, on the unsuppressed metric. Inconclusive: fewer than
    minimum_n patients, no number (not estimable), or a CI that straddles where the rule needs it not to."""
    if cond.rule == "report":
        return REPORTED
    if metric.value is None or metric.n is None or metric.n < minimum_n:
        return INCONCLUSIVE
    t, ci, v = cond.threshold, metric.ci, metric.value
    if cond.rule == "estimate_at_least":
        return SUPPORTED if v >= t else NOT_SUPPORTED
    if ci is None:
        return INCONCLUSIVE
    lo, hi = ci
    if cond.rule == "non_inferior":
        # Non-inferiority margin: the claimed value less the margin must be excluded from below; a CI wholly
        # under the claimed value refutes it; a wide CI (a small sample) decides nothing.
        return SUPPORTED if lo >= _margin_bound(t, cond.params["margin"]) else (
            NOT_SUPPORTED if hi < t else INCONCLUSIVE)
    if cond.rule == "median_shorter_and_hr_above":
        if hi < t:
            return NOT_SUPPORTED  # the treated return more slowly
        if lo > t:
            shorter = metric.medians.get("median_shorter")
            return INCONCLUSIVE if shorter is None else (SUPPORTED if shorter else NOT_SUPPORTED)
        return INCONCLUSIVE
    if cond.rule == "ci_contains_or_above":
        return SUPPORTED if hi >= t else NOT_SUPPORTED
    if cond.rule == "ci_lower_at_least":
        return SUPPORTED if lo >= t else (NOT_SUPPORTED if hi < t else INCONCLUSIVE)
    if cond.rule == "ci_lower_above":
        return SUPPORTED if lo > t else (NOT_SUPPORTED if hi <= t else INCONCLUSIVE)
    if cond.rule == "ci_upper_below":
        return SUPPORTED if hi < t else (NOT_SUPPORTED if lo >= t else INCONCLUSIVE)
    raise ValueError(f"unknown rule {cond.rule!r}")


def _margin_bound(threshold: float, margin: float) -> float:
    """threshold − margin without the binary-fraction residue (0.85 − 0.05 = 0.7999999999999999 in floats)."""
    return round(threshold - margin, 12)


def _shorter(extras: dict, study: Study) -> bool | None:
    """Is the treatment's weighted KM median shorter than the comparator's? A curve that does not reach 0.5
    has a median beyond its last time: the comparison is still decided when the other median lies at or before
    that time; None when it cannot be told (neither reaches 0.5, or the other median lies beyond it)."""
    medians = extras.get("return_weighted_median") or {}
    ends = extras.get("return_curve_end") or {}
    t, c = medians.get(study.treatment), medians.get(study.comparator)
    if study.treatment not in ends or study.comparator not in ends:
        return None  # no weighted curve for an arm
    if t is not None and c is not None:
        return t < c
    if t is not None and c is None:
        return True if t <= ends[study.comparator] else None
    if t is None and c is not None:
        return False if c <= ends[study.treatment] else None
    return None


def inconclusive_reason(cond: Condition, metric: Metric, minimum_n: int, gaps: dict[str, str]) -> str:
    """Why a condition is inconclusive, in plain words (SAP 7 and 9): the metric could not be estimated (the
    analysis's own reason), too few patients, or a CI that straddles the threshold."""
    for what in metric.what:
        if what in gaps:
            return f"not estimable: {gaps[what]}"
    if metric.n is not None and metric.n < minimum_n:
        return f"fewer than {minimum_n} patients behind the metric"
    if metric.value is None or metric.n is None:
        return "not estimable in this refresh"
    if metric.ci is None:
        return "no confidence interval is available"
    if cond.rule == "median_shorter_and_hr_above" and metric.ci[0] > cond.threshold:
        return ("the weighted KM medians cannot be compared: a curve does not reach 50% within follow-up, or "
                "no weighted curve is available")
    if cond.rule == "median_shorter_and_hr_above":
        return f"the 95% CI of the adjusted HR contains {cond.threshold:g}"
    if cond.rule == "non_inferior":
        return (f"the 95% CI reaches below {_margin_bound(cond.threshold, cond.params['margin']):g} and above "
                f"{cond.threshold:g}: too wide to decide")
    return "the 95% CI straddles the threshold"


def combine(verdicts: list[str]) -> str:
    if all(v == REPORTED for v in verdicts):
        return REPORTED
    relevant = [v for v in verdicts if v != REPORTED]
    if NOT_SUPPORTED in relevant:
        return NOT_SUPPORTED
    return SUPPORTED if all(v == SUPPORTED for v in relevant) else INCONCLUSIVE


# Metrics whose value is a proportion (or a difference of proportions): the report prints them as percentages.
PROPORTION_METRICS = frozenset({"satisfaction_rate", "responder_rate", "reintervention_free", "reintervention_cif",
                                "same_day_discharge", "returned_by_day", "complication_difference",
                                "satisfaction_rate_mar", "responder_rate_mar"})

RULE_TEXT = {
    "ci_contains_or_above": "95% CI contains {t} or lies above it",
    "ci_lower_at_least": "95% CI lower limit ≥ {t}",
    "ci_lower_above": "95% CI lower limit > {t}",
    "ci_upper_below": "95% CI upper limit < {t}",
    "estimate_at_least": "estimate ≥ {t}",
    "non_inferior": "95% CI lower limit ≥ {lo} (non-inferiority margin {m}); not supported when the upper limit "
                    "< {t}",
    "median_shorter_and_hr_above": "weighted KM median shorter and adjusted HR 95% CI lower limit > {t}; not "
                                   "supported when the HR's upper limit < {t}, or the median is not shorter",
    "report": "reported, no verdict",
}


def rule_text(cond: Condition) -> str:
    margin = cond.params.get("margin")
    lower = None if margin is None else _margin_bound(cond.threshold, margin)
    return RULE_TEXT[cond.rule].format(t=_g(cond.threshold), a=cond.alpha, lo=_g(lower), m=_g(margin))


def _g(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def evaluate(results: dict, study: Study, extras: dict | None = None, path: Path = CLAIMS_FILE,
             raw: dict | None = None) -> list[dict]:
    """results.json `claims`: [{id, claim, metric, value, ci, verdict}] plus `conditions` with the detail.

    `results` is the published (disclosure-controlled) document, `raw` the same document without disclosure
    control (default: `results`). Verdicts are decided on `raw` and `extras`; values are published from
    `results` and `published_extras(extras)`, so a withheld number is None (`withheld` true) beside its
    verdict. A claim whose number cannot be estimated is inconclusive with the reason."""
    minimum_n, claims = load_claims(path)
    raw = results if raw is None else raw
    extras = extras or {}
    shown_extras = published_extras(extras)
    gaps = {g["what"]: g["reason"] for g in raw.get("not_estimable", [])}
    out = []
    for claim in claims:
        parts = []
        for cond in claim.conditions:
            m = metric_value(raw, extras, cond, study)
            shown = metric_value(results, shown_extras, cond, study)
            v = verdict(cond, m, minimum_n)
            reason = inconclusive_reason(cond, m, minimum_n, gaps) if v == INCONCLUSIVE else None
            withheld = m.value is not None and shown.value is None
            part = {"metric": m.label, "value": shown.value, "ci": shown.ci if shown.value is not None else None,
                    "withheld": withheld, "n_ok": m.n is not None and m.n >= minimum_n, "rule": rule_text(cond),
                    "verdict": v, "reason": reason, "note": m.note, "proportion": cond.metric in PROPORTION_METRICS}
            if shown.medians:
                part["medians"] = shown.medians
            parts.append(part)
        first = parts[0]
        verdict_ = combine([p["verdict"] for p in parts])
        reasons = [p["reason"] for p in parts if p["reason"]]
        out.append({"id": claim.id, "claim": claim.claim, "metric": "; ".join(p["metric"] for p in parts),
                    "value": first["value"], "ci": first["ci"], "verdict": verdict_,
                    "withheld": any(p["withheld"] for p in parts),
                    "reason": "; ".join(dict.fromkeys(reasons)) if verdict_ == INCONCLUSIVE else None,
                    "conditions": parts})
    return out


def weighted_median(curve_time: np.ndarray, curve_surv: np.ndarray) -> float | None:
    """Median of a weighted KM curve read from comparison.adjusted_km_curve, by the rule of `km.median` (R's:
    a curve sitting exactly at 0.5 gives the midpoint to its next drop); None when it never gets to 0.5."""
    median = curve_median(curve_time, curve_surv)
    return None if np.isnan(median) else median


def published_extras(extras: dict) -> dict:
    """The extras a published document may show: none of the return-to-activity numbers when an arm's patients
    or returns are a small count (the rule of results.json `return_to_activity`, SAP 8)."""
    return {} if extras.get("return_withheld", True) else extras


def return_extras(con: duckdb.DuckDBPyConnection, study: Study) -> dict:
    """Unsuppressed return-to-activity numbers of the "faster recovery" claim: the weighted KM median and last
    time per arm (comparison.adjusted_km_curve), the adjusted HR of returning with its robust CI
    (comparison.adjusted_estimates), and `return_withheld`: whether disclosure control withholds them."""
    out: dict[str, Any] = {}
    curve = read(con, "comparison.adjusted_km_curve")
    if not curve.empty:
        c = curve[curve["outcome"] == "return_to_activity"]
        med, ends = {}, {}
        for arm in study.arms:
            a = c[c["arm"] == arm].sort_values("time")
            if len(a):
                med[arm] = weighted_median(a["time"].to_numpy(float), a["survival"].to_numpy(float))
                ends[arm] = float(a["time"].iloc[-1])
        out["return_weighted_median"], out["return_curve_end"] = med, ends
    est = read(con, "comparison.adjusted_estimates")
    if not est.empty:
        r = est[(est["outcome"] == "return_to_activity") & (est["adjustment"] == "adjusted")]
        if len(r) and number(r["estimate"].iloc[0]) is not None:
            lo, hi = number(r["ci_lower"].iloc[0]), number(r["ci_upper"].iloc[0])
            out["return_adjusted_hr"] = {"estimate": number(r["estimate"].iloc[0]),
                                         "ci": None if lo is None or hi is None else [lo, hi]}
    km = read(con, "durability.return_to_activity_km")
    s = Suppressor(study.suppression_threshold)
    counts = [km[km["procedure"] == arm] for arm in study.arms] if not km.empty else []
    out["return_withheld"] = len(counts) != 2 or any(
        a.empty or s.small(a["patients"].iloc[0]) or s.small(a["events"].iloc[0]) for a in counts)
    return out
