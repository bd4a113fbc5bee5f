"""Claims scorecard (SAP section 7), read from pipeline/claims.toml so that new claims need no code.

Metrics are read from the results document (already disclosure-controlled), plus two return-to-activity numbers
the contract does not carry (weighted KM medians and the log-rank p), passed in as `extras`.
"""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from pipeline.reporting.common import read
from pipeline.study import Study
from pipeline.survival.logrank import logrank_from_counts

CLAIMS_FILE = Path(__file__).resolve().parent.parent / "claims.toml"
SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE, REPORTED = "supported", "not supported", "inconclusive", "reported"
RULES = ("ci_contains_or_above", "ci_lower_at_least", "ci_lower_above", "ci_upper_below", "estimate_at_least",
         "shorter_and_significant", "report")
METRICS = ("satisfaction_rate", "responder_rate", "mean_change", "reintervention_free", "reintervention_cif",
           "same_day_discharge", "returned_by_day", "return_median_faster", "complication_difference",
           "satisfaction_rate_mar", "responder_rate_mar", "mean_change_mar")


@dataclass(frozen=True)
class Metric:
    label: str
    value: float | None
    ci: list[float] | None = None
    n: int | None = None  # patients behind the metric (None: unknown or withheld)
    p: float | None = None
    note: str = ""
    what: tuple[str, ...] = ()  # the results.json member paths behind the metric (for not-estimable reasons)


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
            if rule not in ("report", "shorter_and_significant") and threshold is None:
                raise ValueError(f"claim {c['id']!r}: rule {rule!r} needs a threshold")
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
    if m == "return_median_faster":
        med = extras.get("return_weighted_median") or {}
        t, c = med.get(study.treatment), med.get(study.comparator)
        diff = None if t is None or c is None else float(t - c)
        ns = [_n((results["population"].get(a) or {}).get("patients")) for a in study.arms]
        n = min(ns) if all(x is not None for x in ns) else None
        note = "" if med else "weighted curves not available in this refresh"
        return Metric(f"weighted KM median days to return, {study.treatment} − {study.comparator}", diff, None, n,
                      extras.get("return_logrank_p"), note,
                      what=tuple(f"return_to_activity[{a}]" for a in study.arms))
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
    """SAP 7: supported / not supported / inconclusive (n < minimum_n, withheld, or CI straddling)."""
    if cond.rule == "report":
        return REPORTED
    if metric.value is None or metric.n is None or metric.n < minimum_n:
        return INCONCLUSIVE
    t, ci, v = cond.threshold, metric.ci, metric.value
    if cond.rule == "estimate_at_least":
        return SUPPORTED if v >= t else NOT_SUPPORTED
    if cond.rule == "shorter_and_significant":
        if metric.p is None or metric.p >= cond.alpha:
            return INCONCLUSIVE
        return SUPPORTED if v < 0 else NOT_SUPPORTED
    if ci is None:
        return INCONCLUSIVE
    lo, hi = ci
    if cond.rule == "ci_contains_or_above":
        return SUPPORTED if hi >= t else NOT_SUPPORTED
    if cond.rule == "ci_lower_at_least":
        return SUPPORTED if lo >= t else (NOT_SUPPORTED if hi < t else INCONCLUSIVE)
    if cond.rule == "ci_lower_above":
        return SUPPORTED if lo > t else (NOT_SUPPORTED if hi <= t else INCONCLUSIVE)
    if cond.rule == "ci_upper_below":
        return SUPPORTED if hi < t else (NOT_SUPPORTED if lo >= t else INCONCLUSIVE)
    raise ValueError(f"unknown rule {cond.rule!r}")


def inconclusive_reason(cond: Condition, metric: Metric, minimum_n: int, gaps: dict[str, str]) -> str:
    """Why a condition is inconclusive, in plain words (SAP 7 and 9): the metric could not be estimated (the
    analysis's own reason), too few patients, a withheld number, or a CI that straddles the threshold."""
    for what in metric.what:
        if what in gaps:
            return f"not estimable: {gaps[what]}"
    if metric.n is not None and metric.n < minimum_n:
        return f"fewer than {minimum_n} patients behind the metric"
    if metric.value is None or metric.n is None:
        return "the number is withheld or not available in this refresh"
    if cond.rule == "shorter_and_significant":
        return f"the log-rank test is not significant (p ≥ {cond.alpha}) or not available"
    if metric.ci is None:
        return "no confidence interval is available"
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
    "shorter_and_significant": "shorter (negative difference) and log-rank p < {a}",
    "report": "reported, no verdict",
}


def evaluate(results: dict, study: Study, extras: dict | None = None, path: Path = CLAIMS_FILE) -> list[dict]:
    """results.json `claims`: [{id, claim, metric, value, ci, verdict}] plus `conditions` with the detail."""
    minimum_n, claims = load_claims(path)
    gaps = {g["what"]: g["reason"] for g in results.get("not_estimable", [])}
    out = []
    for claim in claims:
        parts = []
        for cond in claim.conditions:
            m = metric_value(results, extras or {}, cond, study)
            v = verdict(cond, m, minimum_n)
            reason = inconclusive_reason(cond, m, minimum_n, gaps) if v == INCONCLUSIVE else None
            parts.append({"metric": m.label, "value": m.value, "ci": m.ci, "p": m.p, "n_ok": m.n is not None
                          and m.n >= minimum_n, "rule": RULE_TEXT[cond.rule].format(t=cond.threshold, a=cond.alpha),
                          "verdict": v, "reason": reason, "note": m.note,
                          "proportion": cond.metric in PROPORTION_METRICS})
        first = parts[0]
        verdict_ = combine([p["verdict"] for p in parts])
        reasons = [p["reason"] for p in parts if p["reason"]]
        out.append({"id": claim.id, "claim": claim.claim, "metric": "; ".join(p["metric"] for p in parts),
                    "value": first["value"], "ci": first["ci"], "verdict": verdict_,
                    "reason": "; ".join(dict.fromkeys(reasons)) if verdict_ == INCONCLUSIVE else None,
                    "conditions": parts})
    return out


def weighted_median(curve_time: np.ndarray, curve_surv: np.ndarray) -> float | None:
    """First time the curve is ≤ 0.5 (None when it never gets there)."""
    below = np.nonzero(curve_surv <= 0.5)[0]
    return float(curve_time[below[0]]) if below.size else None


def return_extras(con: duckdb.DuckDBPyConnection, study: Study) -> dict:
    """Weighted KM medians of return to activity (comparison.adjusted_km_curve) and the unweighted log-rank p
    (from durability.return_to_activity_km_curve)."""
    out: dict[str, Any] = {}
    curve = read(con, "comparison.adjusted_km_curve")
    if not curve.empty:
        c = curve[curve["outcome"] == "return_to_activity"]
        med = {}
        for arm in study.arms:
            a = c[c["arm"] == arm].sort_values("time")
            if len(a):
                med[arm] = weighted_median(a["time"].to_numpy(float), a["survival"].to_numpy(float))
        if len(med) == 2 and None not in med.values():
            out["return_weighted_median"] = med
    # From the curve table (one row per arm and distinct time), not the patient-level data set.
    km = read(con, "durability.return_to_activity_km_curve")
    if not km.empty and km["procedure"].nunique() == 2:
        groups = [(a["time"], a["events"], a["censored"]) for _, a in km.groupby("procedure")]
        out["return_logrank_p"] = logrank_from_counts(groups).p_value
    return out
