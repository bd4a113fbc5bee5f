"""The comparative report's section "Missing follow-up" (SAP 3.1), for a clinician: how complete follow-up is per
visit and arm, the complete-case and MAR (IPAW) estimates side by side, and the tipping points in plain words.

Everything is read from the results document (already disclosure-controlled, SAP 8) and from the completeness
rows the data-quality report publishes, so the section cannot show a number that results.json withholds.
"""

from __future__ import annotations

from typing import Any

from pipeline.reporting.common import fmt, fmt_ci, pct
from pipeline.study import Study

INSTRUMENT = "ODI"  # SAP 3.1: the tipping points concern the mean ODI change; lower is better


class _Row(dict):
    """A published row whose absent members read as None: an arm without patients, or a landing without the
    instrument, has no row (or a row of nulls), and the template shows "–" for it instead of failing."""

    def __missing__(self, key: str) -> None:
        return None


def _find(rows: list[dict] | None, **match: Any) -> dict:
    return _Row(next((r for r in rows or [] if all(r.get(k) == v for k, v in match.items())), {}))


def _ci(ci: Any, digits: int = 1) -> str:
    return f"95% CI {fmt_ci(ci, digits)}" if ci else "CI withheld"


def completeness_rows(completeness: list[dict], arms: tuple[str, ...], visits: list[str]) -> list[dict]:
    """One row per visit: per arm, patients assessed of those whose follow-up reached the window (SAP 2)."""
    out = []
    for visit in visits:
        cells = []
        for arm in arms:
            c = _find(completeness, arm=arm, visit=visit)
            cells.append({"assessed": c.get("assessed"), "n": c.get("n"), "rate": c.get("rate")} if c else None)
        if any(cells):
            out.append({"visit": visit, "cells": cells})
    return out


def estimate_rows(results: dict, arms: tuple[str, ...], visits: list[str]) -> list[dict]:
    """Per visit and arm, the mean ODI change complete case (n, mean, CI) beside the MAR estimate (eligible,
    assessed, mean, CI, method)."""
    out = []
    for visit in visits:
        for arm in arms:
            cc = _find(results.get("pro_change"), arm=arm, instrument=INSTRUMENT, visit=visit)
            mar = _find(results.get("pro_change_mar"), arm=arm, instrument=INSTRUMENT, visit=visit)
            if cc or mar:
                out.append({"visit": visit, "arm": arm, "cc": cc, "mar": mar})
    return out


def difference_rows(results: dict, visits: list[str]) -> list[dict]:
    """Per visit, the adjusted ODI change difference complete case beside its MAR twin."""
    adjusted = results.get("adjusted") or {}
    out = []
    for visit in visits:
        cc = _find(adjusted.get("pro_change_difference"), instrument=INSTRUMENT, visit=visit)
        mar = _find(adjusted.get("pro_change_difference_mar"), instrument=INSTRUMENT, visit=visit)
        if cc or mar:
            out.append({"visit": visit, "cc": cc, "mar": mar})
    return out


def _holds(ci: list[float], threshold: float) -> bool:
    return ci[0] <= threshold <= ci[1]


def tipping_sentence(row: dict, estimate: Any, ci: Any, study: Study) -> str:
    """One plain sentence for a tipping-point row (results.json tipping_point) and the estimate it concerns. δ* is
    a shift in the unfavourable direction (ODI: worse, SAP 3.1); the cases without one are told apart by the
    numbers themselves: nobody missing, no estimate, a CI holding the null, an estimate already unfavourable."""
    arm, visit, delta, share = row.get("arm"), row.get("visit"), row.get("delta"), row.get("share_unassessed")
    threshold = row.get("threshold") or 0.0
    difference = "difference" in str(row.get("what", ""))
    if difference:
        subject = f"the adjusted {INSTRUMENT} change difference {study.treatment} − {study.comparator}"
    else:
        subject = f"the mean {INSTRUMENT} change of {arm}"
    head = f"{visit}, {subject} (MAR)"
    if share == 0:
        return f"{head}: every eligible patient answered, so missing answers cannot change it (no tipping point)."
    if estimate is None or not ci or (delta is None and share is None):
        return (f"{head}: the tipping point is not available (not estimable, or withheld because it rests on small "
                "numbers).")
    digits = 2 if difference else 1  # differences are often near 0: "-0.0" would read oddly
    number = f"{fmt(estimate, digits)} points, {_ci(ci, digits)}"
    if delta is None and _holds(ci, threshold):
        null = "no difference" if difference else "no change"
        return (f"{head} is {number}: the CI already includes {null}, so there is no conclusion for the missing "
                "answers to overturn.")
    if delta is None:
        worse = f"{arm} doing worse" if difference else "a worsening"
        return (f"{head} is {number}: it already points to {worse}; had the patients who did not answer done worse "
                "still, that would only strengthen it (no tipping point).")
    tail = (f" ({study.comparator} patients who did not answer taken as similar to those who did)" if difference
            else "")
    # A tipping point exists only when the CI lies on the favourable side (ODI: below 0): say what that means.
    conclusion = (f"that {study.treatment} patients did better than {study.comparator} patients" if difference
                  else f"that {arm} patients improved")
    return (f"The {visit} conclusion {conclusion} ({subject} {number}, MAR) would change only if the "
            f"{pct(share, 0)} of eligible {arm} patients who did not answer had done {fmt(abs(delta))} "
            f"{INSTRUMENT} points worse than similar {arm} patients who did{tail}.")


def tipping_sentences(results: dict, study: Study) -> list[str]:
    """A sentence per tipping point of the mean ODI change (per arm) and of the adjusted difference."""
    out = []
    adjusted = results.get("adjusted") or {}
    for row in results.get("tipping_point") or []:
        if "difference" in str(row.get("what", "")):
            d = _find(adjusted.get("pro_change_difference_mar"), instrument=row.get("instrument", INSTRUMENT),
                      visit=row.get("visit"))
            out.append(tipping_sentence(row, d.get("estimate"), d.get("ci"), study))
        else:
            m = _find(results.get("pro_change_mar"), arm=row.get("arm"), instrument=row.get("instrument", INSTRUMENT),
                      visit=row.get("visit"))
            out.append(tipping_sentence(row, m.get("mean_change"), m.get("ci"), study))
    return out


def missing_followup(results: dict, study: Study, completeness: list[dict]) -> dict:
    """The section's context: completeness, CC vs MAR tables, tipping-point sentences."""
    visits = [v.name for v in study.visits if v.name != study.baseline_visit]
    return {
        "completeness": completeness_rows(completeness, study.arms, visits),
        "estimates": estimate_rows(results, study.arms, visits),
        "differences": difference_rows(results, visits),
        "satisfaction": [{"arm": arm, "cc": _find(results.get("satisfaction"), arm=arm, visit=study.primary_visit),
                          "mar": _find(results.get("satisfaction_mar"), arm=arm, visit=study.primary_visit)}
                         for arm in study.arms],
        "tipping": tipping_sentences(results, study),
        "mar_available": bool(results.get("pro_change_mar")),
    }
