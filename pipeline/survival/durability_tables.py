"""The durability analyses of SAP section 4: read an analysis data set, fit per arm, write result tables.

No Dagster here: each function takes a DuckDB connection, writes its durability.* tables (typed by the column
declarations below) and returns what it built (pipeline.warehouse.Built) with the key numbers.

Numbers the data cannot give (SAP 9) are not written: the analysis records them as gaps (pipeline/estimable.py,
reasons in pipeline/survival/gaps.py) in the same transaction as its tables, and never raises for data that
is valid but degenerate (no patient, one arm, a handful of patients, no events, no follow-up). Per-arm numbers
are written for every arm that has patients; between-arm numbers need both arms. A curve table keeps the rows
of every arm with patients (the at-risk check counts each patient once), even when its summary is a gap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import duckdb
import numpy as np
import pandas as pd

from pipeline.estimable import Gap, record_gaps
from pipeline.study import Study, load_study
from pipeline.survival import gaps as g
from pipeline.survival.cif import CumulativeIncidence, aalen_johansen
from pipeline.survival.cox import cox_efron
from pipeline.survival.datasets import load
from pipeline.survival.km import KaplanMeier, kaplan_meier
from pipeline.survival.logrank import logrank
from pipeline.survival.rmst import rmst, rmst_difference
from pipeline.survival.turnbull import turnbull
from pipeline.survival.turnbull_bootstrap import (
    arm_rng,
    bootstrap_survival,
    difference_interval,
    loglog_interval,
    patterns,
)
from pipeline.survival.zph import cox_zph
from pipeline.warehouse import Built, transaction, write_table

ARMS = ("treatment", "comparator")

# The result tables, column -> type (the tables keep these columns and types whatever the data, empty too).
_S, _D, _I, _B, _L = "VARCHAR", "DOUBLE", "INTEGER", "BIGINT", "BOOLEAN"
# durability.reintervention_km: freedom from reintervention per arm at the SAP days (SAP 4.1): KM estimate
# (events on the day included), its standard error and 95% CI on the log(-log) scale (NULL where the curve is 0
# or 1, as R), patients at risk (time >= day), and events and censorings in (previous day, day]: the numbers of
# R's summary(fit, times = days).
KM_COLUMNS = {"arm": _S, "procedure": _S, "day": _I, "survival": _D, "se": _D, "ci_lower": _D, "ci_upper": _D,
              "at_risk": _B, "events": _B, "censored": _B}
# durability.reintervention_km_curve and return_to_activity_km_curve: the whole KM curve per arm, one row per
# distinct time (events and censorings), as R's summary(survfit(..., conf.type = "log-log"), censored = TRUE).
CURVE_COLUMNS = {"arm": _S, "procedure": _S, "time": _I, "at_risk": _B, "events": _B, "censored": _B,
                 "survival": _D, "se": _D, "ci_lower": _D, "ci_upper": _D}
# durability.reintervention_cif: cumulative incidence of reintervention, with death as competing risk, per arm
# at the SAP days (deterministic Aalen-Johansen, SAP 4.1), the cumulative incidence of death before
# reintervention, and patients at risk (time >= day).
CIF_COLUMNS = {"arm": _S, "procedure": _S, "day": _I, "cumulative_incidence": _D, "death_cumulative_incidence": _D,
               "at_risk": _B}
# durability.reintervention_cif_curve: the whole cumulative incidence per arm, one row per distinct time (events
# of either cause or censorings): patients at risk (time >= t), reinterventions, deaths and censorings at t, the
# estimate with its delta-method SE and log(-log) 95% CI (NULL where undefined), and the incidence of death.
CIF_CURVE_COLUMNS = {"arm": _S, "procedure": _S, "time": _I, "at_risk": _B, "events": _B, "competing": _B,
                     "censored": _B, "cumulative_incidence": _D, "se": _D, "ci_lower": _D, "ci_upper": _D,
                     "death_cumulative_incidence": _D}
# durability.durable_response_curve: the whole Turnbull curve per arm, one row per support point (exact failure
# times and midpoints of innermost intervals, where R places the mass): the probability of durable response
# after it, patients still observed responding (left bound >= t) and the arm's patients. No pointwise CI: the
# NPMLE has no standard pointwise variance (a bootstrap whose EM runs to convergence costs seconds per replicate).
DURABLE_CURVE_COLUMNS = {"arm": _S, "procedure": _S, "time": _D, "probability": _D, "at_risk": _B, "patients": _B}
# durability.durable_response_turnbull: probability of durable ODI response per arm at the SAP days (Turnbull
# NPMLE, SAP 4.2), with the patients behind it by kind of observation and the EM's convergence; version 2: the
# 95% CI from the seeded bootstrap of patients (normal on the log(-log) scale; NULL where degenerate), the
# bootstrap SD of log(-log S*) and the number of resamples.
TURNBULL_COLUMNS = {"arm": _S, "procedure": _S, "day": _I, "probability": _D, "patients": _B, "exact": _B,
                    "interval_censored": _B, "right_censored": _B, "iterations": _I, "converged": _L,
                    "ci_lower": _D, "ci_upper": _D, "loglog_sd": _D, "resamples": _I}
# durability.durable_response_difference: treatment - comparator probability of durable response at the last
# durable-response day (1826), with the bootstrap SD of the difference and the normal 95% CI (SAP 4.2 v2).
DURABLE_DIFFERENCE_COLUMNS = {"day": _I, "estimate": _D, "se": _D, "ci_lower": _D, "ci_upper": _D,
                              "resamples": _I}
# durability.return_to_activity_km: recovery per arm (SAP 4.3). measure 'median_days': KM median with the 95% CI
# read off the log(-log) confidence curves (as R's print(survfit)); measure 'share_back': 1 - KM at `day`
# (events on the day included) with its 95% CI (1 - the curve's log(-log) limits) and the patients at risk.
RECOVERY_COLUMNS = {"arm": _S, "procedure": _S, "measure": _S, "day": _I, "estimate": _D, "ci_lower": _D,
                    "ci_upper": _D, "patients": _B, "events": _B, "at_risk": _B}
# durability.reintervention_comparison: the between-arm statistics of SAP 4.1, one row per measure:
#   logrank          statistic = chi-square (1 df), p_value
#   cox_hr           estimate = hazard ratio treatment vs comparator (Efron ties), se = SE of log HR, 95% Wald CI,
#                    statistic = z, p_value
#   ph_test          statistic = chi-square of R's cox.zph (transform "km"), df, p_value
#   rmst             per arm (arm, procedure set): RMST to tau, SE (R's survmean), 95% CI
#   rmst_difference  treatment - comparator: estimate, SE, 95% CI, p_value
COMPARISON_COLUMNS = {"measure": _S, "arm": _S, "procedure": _S, "estimate": _D, "se": _D, "ci_lower": _D,
                      "ci_upper": _D, "statistic": _D, "df": _I, "p_value": _D, "tau": _D}
# A numerical fit that fails on degenerate data (a singular information matrix): a gap, not an error.
NUMERICAL_ERRORS = (ValueError, ArithmeticError, np.linalg.LinAlgError)
_Fit = TypeVar("_Fit")


@dataclass(frozen=True)
class Arm:
    """One arm of the study: role (treatment / comparator), procedure code, and its rows of a data set."""

    role: str
    code: str
    sel: np.ndarray

    @property
    def patients(self) -> int:
        return int(self.sel.sum())


def reintervention_km(con: duckdb.DuckDBPyConnection, days: Sequence[int] | None = None,
                      level: float = 0.95, study: Study | None = None) -> Built:
    """KM per arm at `days` (default: the study's survival.km_days) and the whole curve."""
    study = load_study() if study is None else study
    days = study.km_days if days is None else days
    data = load(con, "reintervention_dataset", ["arm", "procedure", "time", "event"])
    summary, curves, numbers, gaps = [], [], {}, []
    for arm, what in _arms_with_patients(data, study, "reintervention.km", gaps):
        time, event = data["time"][arm.sel], data["event"][arm.sel]
        km = kaplan_meier(time, event)
        curves.append(_curve_frame(arm.role, arm.code, km, level))
        if _no_follow_up(time, event):
            gaps.append(Gap(what, g.NO_FOLLOW_UP))
            continue
        at = km.at(days, level)
        summary.append(pd.DataFrame({
            "arm": arm.role, "procedure": arm.code, "day": at.day, "survival": at.surv, "se": at.se,
            "ci_lower": at.lower, "ci_upper": at.upper, "at_risk": at.at_risk, "events": at.events,
            "censored": at.censored}))
        numbers |= {f"freedom_{int(days[-1])}_{arm.code}": at.surv[-1],
                    f"freedom_{int(days[-1])}_{arm.code}_ci_lower": at.lower[-1],
                    f"freedom_{int(days[-1])}_{arm.code}_ci_upper": at.upper[-1]}
    return _write_analysis(con, "reintervention_km", {"reintervention_km": _concat(summary, KM_COLUMNS),
                                                      "reintervention_km_curve": _concat(curves, CURVE_COLUMNS)},
                           numbers, gaps)


def reintervention_comparison(con: duckdb.DuckDBPyConnection, tau: float, level: float = 0.95,
                              study: Study | None = None) -> Built:
    """Log-rank, Cox HR (treatment vs comparator) with the PH test, RMST to tau per arm and difference."""
    study = load_study() if study is None else study
    data = load(con, "reintervention_dataset", ["arm", "procedure", "time", "event"])
    arms = _arms(data, study)
    time, event = data["time"], data["event"]
    rows, numbers, gaps = [], {}, []
    by_arm = {}
    for arm in arms:
        what = g.member("reintervention.rmst", arm.code)
        if not arm.patients:
            gaps.append(Gap(what, g.no_patients(arm.code)))
        elif _no_follow_up(time[arm.sel], event[arm.sel]):
            gaps.append(Gap(what, g.NO_FOLLOW_UP))
        else:
            by_arm[arm.role] = fit = rmst(kaplan_meier(time[arm.sel], event[arm.sel]), tau)
            lo, hi = fit.ci(level)
            rows.append(_row("rmst", arm=arm.role, procedure=arm.code, estimate=fit.estimate, se=fit.se,
                             ci_lower=lo, ci_upper=hi, tau=tau))
    reason = _between_arms_reason(arms, time, event, study.suppression_threshold)
    if reason is not None:
        gaps += [Gap(what, reason) for what in g.BETWEEN_ARMS]
    else:
        tests, numbers, test_gaps = _between_arm_tests(arms, time, event, level)
        rows = tests + rows
        gaps += test_gaps
        if event.any():
            diff = rmst_difference(by_arm["treatment"], by_arm["comparator"], level)
            rows.append(_row("rmst_difference", estimate=diff.estimate, se=diff.se, ci_lower=diff.lower,
                             ci_upper=diff.upper, p_value=diff.p_value, tau=tau))
            numbers |= {"rmst_difference_days": diff.estimate, "rmst_difference_ci_lower": diff.lower,
                        "rmst_difference_ci_upper": diff.upper}
        else:  # both curves flat at 1: a difference of 0 with a zero-width interval is no estimate
            gaps.append(Gap(g.RMST_DIFFERENCE, g.NO_REINTERVENTION))
    comparison = pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
    return _write_analysis(con, "reintervention_comparison", {"reintervention_comparison": comparison}, numbers,
                           gaps)


def _between_arms_reason(arms: list[Arm], time: np.ndarray, event: np.ndarray, minimum: int) -> str | None:
    """Why the two arms cannot be compared at all, or None when they can."""
    too_small = g.arms_reason({a.code: a.patients for a in arms}, minimum)
    if too_small is not None:
        return too_small
    unfollowed = [a.code for a in arms if _no_follow_up(time[a.sel], event[a.sel])]
    if unfollowed:
        return g.NO_FOLLOW_UP if len(unfollowed) == len(arms) else g.no_follow_up(unfollowed[0])
    return None


def _between_arm_tests(arms: list[Arm], time: np.ndarray, event: np.ndarray,
                       level: float) -> tuple[list[dict], dict[str, float], list[Gap]]:
    """Log-rank, Cox HR and PH test of two arms that both have followed patients: stored rows, key numbers and
    the gaps of whatever the events do not support."""
    if not event.any():
        return [], {}, [Gap(what, g.NO_REINTERVENTION) for what in (g.LOGRANK, g.COX_HR, g.PH_TEST)]
    rows, numbers, gaps = [], {}, []
    role = np.where(arms[0].sel, arms[0].role, arms[1].role)
    test = _unless_numerical_error(lambda: logrank(time, event, role))
    if test is not None and np.isfinite(test.chisq) and np.isfinite(test.p_value):
        rows.append(_row("logrank", statistic=test.chisq, df=test.df, p_value=test.p_value))
        numbers["logrank_p"] = test.p_value
    else:
        gaps.append(Gap(g.LOGRANK, g.NO_SHARED_RISK))
    without = [a.code for a in arms if not event[a.sel].any()]
    if without:
        return rows, numbers, [*gaps, Gap(g.COX_HR, g.no_events_in(without[0])), Gap(g.PH_TEST, g.PH_NEEDS_EVENTS)]
    x = arms[0].sel.astype(float)  # 1 = treatment
    try:
        with np.errstate(all="ignore"):  # a fit that overflows shows as non-finite numbers, checked below
            cox = cox_efron(time, event, x)
            lower, upper = cox.ci(level)
            z = cox.coef[0] / cox.se[0]
        fitted = cox.converged and bool(np.all(np.isfinite([cox.coef[0], cox.se[0], lower[0], upper[0]])))
    except NUMERICAL_ERRORS:
        fitted = False
    if not fitted:
        return rows, numbers, [*gaps, Gap(g.COX_HR, g.COX_NOT_FITTED), Gap(g.PH_TEST, g.COX_NOT_FITTED)]
    rows.append(_row("cox_hr", estimate=cox.hazard_ratio[0], se=cox.se[0], ci_lower=lower[0], ci_upper=upper[0],
                     statistic=z, p_value=cox.p_value[0]))
    numbers |= {"hazard_ratio": cox.hazard_ratio[0], "hazard_ratio_ci_lower": lower[0],
                "hazard_ratio_ci_upper": upper[0], "cox_p": cox.p_value[0]}
    zph = _unless_numerical_error(lambda: cox_zph(time, event, x, cox))
    if zph is not None and np.isfinite(zph.global_chisq) and np.isfinite(zph.global_p):
        rows.append(_row("ph_test", statistic=zph.global_chisq, df=zph.global_df, p_value=zph.global_p))
        numbers["ph_test_p"] = zph.global_p
    else:
        gaps.append(Gap(g.PH_TEST, g.PH_NOT_COMPUTED))
    return rows, numbers, gaps


def _unless_numerical_error(fit: Callable[[], _Fit]) -> _Fit | None:
    """The fit, or None where it fails on degenerate data (a gap, not an error); numpy's warnings are silenced
    because a fit that overflows shows as non-finite numbers, which the caller checks."""
    try:
        with np.errstate(all="ignore"):
            return fit()
    except NUMERICAL_ERRORS:
        return None


def reintervention_cif(con: duckdb.DuckDBPyConnection, days: Sequence[int] | None = None,
                       level: float = 0.95, study: Study | None = None) -> Built:
    """Aalen-Johansen per arm at `days` (default: the study's survival.km_days) and the whole curve."""
    study = load_study() if study is None else study
    days = study.km_days if days is None else days
    data = load(con, "reintervention_dataset", ["arm", "procedure", "time", "event", "competing_event"])
    status = data["event"] + 2 * data["competing_event"]
    frames, curves, numbers, gaps = [], [], {}, []
    for arm, what in _arms_with_patients(data, study, "reintervention.cif", gaps):
        fit = aalen_johansen(data["time"][arm.sel], status[arm.sel], causes=2)
        curves.append(_cif_curve_frame(arm.role, arm.code, fit, level))
        if _no_follow_up(data["time"][arm.sel], status[arm.sel]):
            gaps.append(Gap(what, g.NO_FOLLOW_UP))
            continue
        incidence, at_risk = fit.at(days)
        frames.append(pd.DataFrame({
            "arm": arm.role, "procedure": arm.code, "day": list(days), "cumulative_incidence": incidence[:, 0],
            "death_cumulative_incidence": incidence[:, 1], "at_risk": at_risk}))
        numbers[f"cumulative_incidence_{int(days[-1])}_{arm.code}"] = incidence[-1, 0]
    return _write_analysis(con, "reintervention_cif", {"reintervention_cif": _concat(frames, CIF_COLUMNS),
                                                       "reintervention_cif_curve": _concat(curves, CIF_CURVE_COLUMNS)},
                           numbers, gaps)


def durable_response_turnbull(con: duckdb.DuckDBPyConnection, days: Sequence[int] | None = None,
                              study: Study | None = None, level: float = 0.95) -> Built:
    """Turnbull per arm at `days` (default: the study's survival.durable_response_days) with bootstrap CIs,
    the whole curve, and the difference treatment - comparator at the last day."""
    study = load_study() if study is None else study
    days = study.durable_response_days if days is None else days
    resamples = study.durable_response_bootstrap_resamples
    fitted: dict[str, tuple[float, np.ndarray | None, int]] = {}  # role -> (S at last day, resamples, patients)
    data = load(con, "durable_response_dataset",
                ["arm", "procedure", "included", "exclusion", "left_day", "right_day"])
    included = np.asarray(data["included"], dtype=bool)
    frames, curves, numbers, gaps = [], [], {}, []
    for arm, what in _arms_with_patients(data, study, "durable_response", gaps):
        use = arm.sel & included
        if not use.any():
            no_baseline = np.all(np.ma.getdata(data["exclusion"])[arm.sel] == "no_baseline_odi")
            gaps.append(Gap(what, g.NO_BASELINE_ODI if no_baseline else g.NO_ODI_SIGNAL))
            continue
        left = _floats(data["left_day"])[use]
        right = _floats(data["right_day"])[use]
        fit = turnbull(left, right)
        probability = fit.surv_at(days)
        replicates, (lower, upper, sd) = _bootstrap(left, right, probability, days, study, arm, level, gaps)
        fitted[arm.role] = (float(probability[-1]), None if replicates is None else replicates[:, -1], left.size)
        exact, censored = int(np.sum(left == right)), int(np.sum(np.isnan(right)))
        frames.append(pd.DataFrame({
            "arm": arm.role, "procedure": arm.code, "day": list(days), "probability": probability,
            "patients": left.size, "exact": exact, "interval_censored": left.size - exact - censored,
            "right_censored": censored, "iterations": fit.iterations, "converged": fit.converged,
            "ci_lower": lower, "ci_upper": upper, "loglog_sd": sd, "resamples": resamples}))
        # Still observed in durable response at t: left bound ≥ t (exact failures, intervals and censorings).
        still = left.size - np.searchsorted(np.sort(left), fit.time, side="left")
        curves.append(pd.DataFrame({
            "arm": arm.role, "procedure": arm.code, "time": fit.time, "probability": fit.surv, "at_risk": still,
            "patients": left.size}))
        numbers[f"durable_response_{int(days[-1])}_{arm.code}"] = probability[-1]
    difference = _durable_difference(fitted, int(days[-1]), study, level, gaps)
    if not difference.empty:
        numbers[f"durable_response_difference_{int(days[-1])}"] = float(difference["estimate"].iloc[0])
    return _write_analysis(con, "durable_response_turnbull",
                           {"durable_response_turnbull": _concat(frames, TURNBULL_COLUMNS),
                            "durable_response_curve": _concat(curves, DURABLE_CURVE_COLUMNS),
                            "durable_response_difference": difference}, numbers, gaps)


def _bootstrap(left: np.ndarray, right: np.ndarray, probability: np.ndarray, days: Sequence[int], study: Study,
               arm: Arm, level: float, gaps: list[Gap]) -> tuple[np.ndarray | None, tuple[np.ndarray, ...]]:
    """Bootstrap resamples of the arm's patients (None when there are none) and the log(-log) CI per day;
    gaps for the CIs that cannot be given (too few patients, no resamples, degenerate days)."""
    nan = np.full(len(days), np.nan)
    resamples, what = study.durable_response_bootstrap_resamples, g.member("durable_response", arm.code)
    if resamples == 0:
        gaps.append(Gap(f"{what}.ci", g.BOOTSTRAP_OFF))
        return None, (nan, nan, nan)
    if left.size < study.suppression_threshold:
        gaps.append(Gap(f"{what}.ci", g.too_few(study.suppression_threshold)))
        return None, (nan, nan, nan)
    rng = arm_rng(study.durable_response_bootstrap_seed, ARMS.index(arm.role))
    replicates = bootstrap_survival(patterns(left, right), days, resamples, rng)
    lower, upper, sd = loglog_interval(probability, replicates, level)
    gaps.extend(Gap(g.member("durable_response", arm.code, str(int(d))) + ".ci", g.BOOTSTRAP_DEGENERATE)
                for d, lo in zip(days, lower, strict=True) if np.isnan(lo))
    return replicates, (lower, upper, sd)


def _durable_difference(fitted: dict[str, tuple[float, np.ndarray | None, int]], day: int, study: Study,
                        level: float, gaps: list[Gap]) -> pd.DataFrame:
    """Treatment - comparator at `day` with the normal bootstrap CI; no row (a gap) without both arms."""
    patients = {code: fitted[role][2] if role in fitted else 0 for role, code in zip(ARMS, study.arms, strict=True)}
    reason = g.arms_reason(patients, study.suppression_threshold)
    if reason is not None:
        gaps.append(Gap(g.DURABLE_DIFFERENCE, reason))
        return pd.DataFrame(columns=list(DURABLE_DIFFERENCE_COLUMNS))
    (s_t, reps_t, _), (s_c, reps_c, _) = fitted["treatment"], fitted["comparator"]
    estimate = s_t - s_c
    lower = upper = se = np.nan
    if reps_t is None or reps_c is None:
        gaps.append(Gap(f"{g.DURABLE_DIFFERENCE}.ci", g.BOOTSTRAP_OFF))
    else:
        lower, upper, se = difference_interval(estimate, reps_t, reps_c, level)
        if np.isnan(lower):
            gaps.append(Gap(f"{g.DURABLE_DIFFERENCE}.ci", g.BOOTSTRAP_DEGENERATE))
    return pd.DataFrame([{"day": day, "estimate": estimate, "se": se, "ci_lower": lower, "ci_upper": upper,
                          "resamples": study.durable_response_bootstrap_resamples}])


def return_to_activity_km(con: duckdb.DuckDBPyConnection, days: Sequence[int] | None = None,
                          level: float = 0.95, study: Study | None = None) -> Built:
    """KM median per arm and the share back by `days` (default: the study's survival.return_to_activity_days)."""
    study = load_study() if study is None else study
    days = study.return_to_activity_days if days is None else days
    data = load(con, "return_to_activity_dataset", ["arm", "procedure", "time", "event"])
    recorded = bool(np.any(data["event"]))  # some patient of either arm returned: the event type is recorded
    rows, curves, numbers, gaps = [], [], {}, []
    for arm, what in _arms_with_patients(data, study, "return_to_activity", gaps):
        time, event = data["time"][arm.sel], data["event"][arm.sel]
        if _no_follow_up(time, event):
            gaps.append(Gap(what, g.NO_FOLLOW_UP))
            continue
        if not recorded:
            gaps.append(Gap(what, g.no_events_of(study.events.return_to_activity)))
            continue
        km = kaplan_meier(time, event)
        patients, events = arm.patients, int(event.sum())
        median, lo, hi = km.median(level)
        rows.append({"arm": arm.role, "procedure": arm.code, "measure": "median_days", "day": None,
                     "estimate": median, "ci_lower": lo, "ci_upper": hi, "patients": patients, "events": events,
                     "at_risk": None})
        at = km.at(days, level)
        for i, day in enumerate(at.day):
            # Share back = 1 − KM; its CI is 1 − the curve's CI limits (upper limit ↔ lower share).
            rows.append({"arm": arm.role, "procedure": arm.code, "measure": "share_back", "day": int(day),
                         "estimate": 1.0 - at.surv[i], "ci_lower": 1.0 - at.upper[i], "ci_upper": 1.0 - at.lower[i],
                         "patients": patients, "events": events, "at_risk": int(at.at_risk[i])})
            numbers[f"back_by_day_{int(day)}_{arm.code}"] = 1.0 - at.surv[i]
        numbers[f"median_days_{arm.code}"] = median
        curves.append(_curve_frame(arm.role, arm.code, km, level))
    return _write_analysis(con, "return_to_activity_km",
                           {"return_to_activity_km": pd.DataFrame(rows, columns=list(RECOVERY_COLUMNS)),
                            "return_to_activity_km_curve": _concat(curves, CURVE_COLUMNS)}, numbers, gaps)


def _arms(data: dict[str, np.ndarray], study: Study | None) -> list[Arm]:
    """Both arms of the study, treatment first, each with its rows of the data set (none when it has no
    patients): the procedure codes come from the study, so an arm without patients can still be named."""
    study = load_study() if study is None else study
    return [Arm(role, code, np.asarray(data["arm"] == role, dtype=bool)) for role, code in zip(ARMS, study.arms,
                                                                                                strict=True)]


def _arms_with_patients(data: dict[str, np.ndarray], study: Study | None, analysis: str,
                        gaps: list[Gap]) -> Iterator[tuple[Arm, str]]:
    """The arms that have patients, each with the name of its per-arm numbers (analysis.<code>); an arm
    without patients has none to estimate, so it is added to `gaps` instead and skipped."""
    for arm in _arms(data, study):
        what = g.member(analysis, arm.code)
        if arm.patients:
            yield arm, what
        else:
            gaps.append(Gap(what, g.no_patients(arm.code)))


def _no_follow_up(time: np.ndarray, status: np.ndarray) -> bool:
    """Every patient censored on day 0: no event of any kind and no time after the index day."""
    return not np.any(np.asarray(time) > 0) and not np.any(status)


def _curve_frame(arm: str, procedure: str, km: KaplanMeier, level: float) -> pd.DataFrame:
    lower, upper = km.confidence_interval(level)
    t = km.table
    return pd.DataFrame({"arm": arm, "procedure": procedure, "time": t.time, "at_risk": t.n_at_risk,
                         "events": t.n_events.sum(axis=1), "censored": t.n_censored, "survival": km.surv,
                         "se": km.se, "ci_lower": lower, "ci_upper": upper})


def _cif_curve_frame(arm: str, procedure: str, fit: CumulativeIncidence, level: float) -> pd.DataFrame:
    """The whole cumulative-incidence curve of reintervention: one row per distinct time (events of either
    cause or censorings), with its delta-method SE and log(−log) CI."""
    lower, upper = fit.confidence_interval(1, level)
    t = fit.table
    return pd.DataFrame({"arm": arm, "procedure": procedure, "time": t.time, "at_risk": t.n_at_risk,
                         "events": t.n_events[:, 0], "competing": t.n_events[:, 1], "censored": t.n_censored,
                         "cumulative_incidence": fit.incidence[:, 0], "se": np.sqrt(fit.variance(1)),
                         "ci_lower": lower, "ci_upper": upper, "death_cumulative_incidence": fit.incidence[:, 1]})


def _row(measure: str, **values: object) -> dict[str, object]:
    keys = ("arm", "procedure", "estimate", "se", "ci_lower", "ci_upper", "statistic", "df", "p_value", "tau")
    return {"measure": measure, **{k: values.get(k) for k in keys}}


def _floats(values: np.ndarray) -> np.ndarray:
    """A column with NULLs (a masked array from DuckDB) as floats with NaN."""
    return np.ma.filled(np.ma.asarray(values).astype(float), np.nan)


def _concat(frames: list[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """The frames stacked; with none (no patient in either arm) an empty table of the right columns."""
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(columns))


def _write(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> int:
    """Replace durability.<name> by `frame`, typed by its columns above; returns the row count."""
    return write_table(con, f"durability.{name}", frame, _TYPES[name])


def _write_analysis(con: duckdb.DuckDBPyConnection, analysis: str, frames: dict[str, pd.DataFrame],
                    numbers: dict[str, float], gaps: list[Gap]) -> Built:
    """Write an analysis's tables (name -> frame, in order) and record its gaps in one transaction; what it
    built, with the row count of each table."""
    with _transaction(con):
        tables = {f"durability.{name}": _write(con, name, frame) for name, frame in frames.items()}
        record_gaps(con, analysis, gaps)
    return Built(analysis, tables, numbers, gaps=tuple(gaps))


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Tables written together (a summary and its curve) are replaced together or not at all."""
    with transaction(con):
        yield


_TYPES = {"reintervention_km": KM_COLUMNS, "reintervention_km_curve": CURVE_COLUMNS,
          "reintervention_comparison": COMPARISON_COLUMNS, "reintervention_cif": CIF_COLUMNS,
          "reintervention_cif_curve": CIF_CURVE_COLUMNS, "durable_response_turnbull": TURNBULL_COLUMNS,
          "durable_response_curve": DURABLE_CURVE_COLUMNS, "durable_response_difference": DURABLE_DIFFERENCE_COLUMNS,
          "return_to_activity_km": RECOVERY_COLUMNS,
          "return_to_activity_km_curve": CURVE_COLUMNS}
