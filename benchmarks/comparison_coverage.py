"""Coverage of the adjusted 95% CIs of SAP section 6 over many simulated studies with known truth.

    .venv/bin/python -m benchmarks.comparison_coverage [--studies 200] [--patients 1500] [--seed 20240617]
                                                      [--scenario sites] [--bootstrap 100]

Each study draws the twelve propensity covariates (with ~5% of BMI and baseline ODI missing), assigns MILD with
a strong logistic dependence on age, ASA class, diabetes and baseline ODI (older, sicker patients get MILD),
and draws outcomes that depend on the same covariates: ODI change with a CONSTANT treatment effect of −4
points (so every weighted estimand, overlap included, equals −4), a responder flag, a 90-day complication
and a time to reintervention with NO treatment effect (risk difference 0, HR 1; the HR is non-collapsible,
so only the null has the same value under every weighting). The naive estimates are confounded.
Reported: share of studies whose adjusted (overlap weights; differences: the sandwich that accounts for the
estimated propensity model, pipeline/comparison/ps_variance.py; HR: Lin–Wei) 95% CI covers the truth, the same
for the weights-fixed HC1 sandwich of the differences ("adjusted, weights fixed (HC1)") and for the unadjusted CI.

    .venv/bin/python -m benchmarks.comparison_coverage --rmst [--studies 200] [--patients 1500]

The adjusted RMST difference to 1826 days (SAP 6 v2; weighted KM, infinitesimal-jackknife SE with the weights
fixed): a separate, self-contained simulation (`simulate_rmst`) with the same confounding and two scenarios,
"null" (no treatment effect: truth 0) and "crossing" (treatment doubles the hazard in the first year and cuts it
to 0.6× afterwards: proportional hazards fail, the HR is no summary), whose truth is the overlap-weighted mean
of the conditional RMST differences, E[e(1−e)(μ1(X) − μ0(X))] / E[e(1−e)], by Monte Carlo over 2,000,000 draws.

Scenario `sites` (SAP 6 version 2, issue 15): the patients are nested in eight sites (one of them under the
suppression threshold, so it is pooled) that differ in case mix (age, diabetes), in procedure preference
(a site offset on the log odds of MILD) and in outcome (a site offset on the ODI change, larger where MILD is
preferred): site confounds the comparison beyond the measured covariates. The adjusted estimates are
computed twice, with site in the propensity model (the pipeline's model) and without it (the version 1
model); the mean bias of the ODI difference is reported beside the coverage. `--bootstrap R` adds the ODI
difference's normal bootstrap CI (R replicates re-fitting the propensity model with site, SAP 6 v2), which
accounts for the estimation of the weights that the sandwich treats as fixed.
"""

import argparse
import platform
import time

import numpy as np
import pandas as pd

from benchmarks.simulated_covariates import blank_bmi_and_odi, draw_covariates, other_covariates
from pipeline.comparison.bootstrap import bootstrap_intervals
from pipeline.comparison.estimates import ComparisonData, estimates_table
from pipeline.comparison.model import refit_weights, weigh
from pipeline.comparison.ps_variance import weighting_terms
from pipeline.comparison.robust import weighted_difference
from pipeline.survival import kaplan_meier, rmst_difference, rmst_ij

TRUTH = {("pro_change", "mean_change_difference"): -4.0, ("responder", "risk_difference"): 0.0,
         ("complication", "risk_difference"): 0.0, ("reintervention", "hazard_ratio"): 1.0}


def _covariates(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The twelve covariates, the true propensity score and the log-hazard shift (scenarios `covariates` and
    the RMST ones)."""
    frame, age, asa, diabetes, odi = draw_covariates(rng, n)
    lin = -0.4 + 0.10 * (age - 73) + 0.5 * (asa - 2.5) + 0.6 * diabetes + 0.03 * (odi - 45)
    return frame, 1 / (1 + np.exp(-lin)), 0.08 * (age - 73) + 0.6 * diabetes + 0.3 * (asa - 2.5)


def _study(rng: np.random.Generator, frame: pd.DataFrame, treated: np.ndarray, change: np.ndarray,
           risk: np.ndarray, effect: float, **columns: np.ndarray) -> ComparisonData:
    """The outcomes other than the ODI change (no treatment effect), ~5% of BMI and baseline ODI missing, and
    the study as the comparison stage reads it; `columns` are added to the patients (e.g. their site)."""
    n = len(frame)
    # Responder from the change without the treatment effect: the null holds for the risk difference.
    responder = (-(change - effect * treated) >= 10).astype(float)
    complication = (rng.random(n) < 1 / (1 + np.exp(-(-2.5 + risk)))).astype(float)
    event_time = rng.exponential(2500 * np.exp(-risk))
    censor = rng.uniform(300, 1826, n)
    blank_bmi_and_odi(rng, frame)
    patients = frame.assign(**columns, treated=treated, complication=complication,
                            reintervention_time=np.minimum(event_time, censor).round(),
                            reintervention_event=(event_time <= censor).astype(float))
    rows = np.arange(n)
    changes = pd.DataFrame({"row": rows, "instrument": "ODI", "visit": "M12", "visit_ordinal": 4,
                            "change": change, "responder": responder})
    satisfaction = pd.DataFrame({"row": rows, "satisfied": responder})
    return ComparisonData(patients, changes, satisfaction, "M12")


def simulate(seed: int, n: int = 1500, effect: float = -4.0) -> ComparisonData:
    """One study with confounded treatment and known effects (see the module docstring)."""
    rng = np.random.default_rng(seed)
    frame, e, risk = _covariates(rng, n)
    treated = rng.random(n) < e
    age, diabetes, odi = (frame[c].to_numpy() for c in ("age_at_index", "diabetes", "baseline_odi"))
    change = -15 + effect * treated + 0.5 * (age - 73) + 4 * diabetes - 0.3 * (odi - 45) + rng.normal(0, 10, n)
    return _study(rng, frame, treated, change, risk, effect)


# Eight sites: share of patients, age shift (years), diabetes log-odds shift, MILD preference (log-odds
# offset) and ODI change offset (points; positive = less improvement). Fixed, so that the bias of leaving site
# out is a property of the design; the 0.5% site has ~7 of 1500 patients (pooled, SAP 6 v2).
SITES = pd.DataFrame({
    "share": [0.25, 0.20, 0.15, 0.13, 0.12, 0.08, 0.065, 0.005],
    "age": [-3.0, 2.0, 0.0, 4.0, -2.0, 1.0, -1.0, 0.0],
    "diabetes": [-0.3, 0.2, 0.0, 0.4, -0.2, 0.0, 0.3, 0.0],
    "preference": [-1.0, 0.8, 0.0, 1.2, -0.6, 0.4, -0.3, 0.0],
    "outcome": [-2.0, 2.0, 0.0, 3.0, -1.5, 1.0, -0.5, 0.0],
}, index=[f"S{k}" for k in range(1, 9)])
SITE_MINIMUM = 11  # the suppression threshold of study.toml: sites with fewer patients are pooled


def simulate_sites(seed: int, n: int = 1500, effect: float = -4.0) -> ComparisonData:
    """One study of the `sites` scenario (module docstring): confounding by the measured covariates as in
    simulate(), plus site case mix, site preference and a site effect on the ODI change."""
    rng = np.random.default_rng(seed)
    site = rng.choice(SITES.index.to_numpy(), n, p=SITES["share"].to_numpy())
    s = SITES.loc[site]
    age = rng.normal(73, 7, n) + s["age"].to_numpy()
    asa = rng.integers(1, 5, n).astype(float)
    diabetes = (rng.random(n) < 1 / (1 + np.exp(-(np.log(0.25 / 0.75) + s["diabetes"].to_numpy())))).astype(float)
    odi = np.clip(rng.normal(45, 12, n), 0, 100)
    frame = other_covariates(rng, n, age, asa, diabetes, odi)
    lin = (-0.4 + 0.10 * (age - 73) + 0.5 * (asa - 2.5) + 0.6 * diabetes + 0.03 * (odi - 45)
           + s["preference"].to_numpy())
    treated = rng.random(n) < 1 / (1 + np.exp(-lin))
    risk = 0.08 * (age - 73) + 0.6 * diabetes + 0.3 * (asa - 2.5)
    change = (-15 + effect * treated + 0.5 * (age - 73) + 4 * diabetes - 0.3 * (odi - 45) + s["outcome"].to_numpy()
              + rng.normal(0, 10, n))
    return _study(rng, frame, treated, change, risk, effect, site=site.astype(object))


def covered(frame: pd.DataFrame) -> dict[tuple[str, str, str], bool]:
    out = {}
    for r in frame.itertuples():
        truth = TRUTH.get((r.outcome, r.measure))
        if truth is not None:
            out[(r.outcome, r.measure, r.adjustment)] = bool(r.ci_lower <= truth <= r.ci_upper)
    return out


def bootstrap_covers(data: ComparisonData, wt, replicates: int, seed: int) -> bool:
    """Whether the normal bootstrap CI of the ODI difference (re-fitting the model) covers the truth."""
    change, treated = data.changes["change"].to_numpy(), data.treated
    key = ("pro_change", "mean_change_difference")

    def estimate(w: np.ndarray) -> dict:
        return {key: weighted_difference(change, treated, w).estimate}

    lower, upper = bootstrap_intervals(
        len(treated), lambda counts: refit_weights(wt.design, treated, counts, wt.scheme, (1.0, 99.0)), estimate,
        replicates, seed, point=estimate(wt.weights))[key]
    return bool(lower <= TRUTH[key] <= upper)


def run(studies: int, patients: int, seed: int, scenario: str = "covariates", bootstrap: int = 0) -> pd.DataFrame:
    """Coverage (and mean bias of the estimate against the truth) per estimate and adjustment. Scenario
    `sites`: "adjusted" has site in the propensity model, "adjusted without site" the version 1 model."""
    hits: dict[tuple[str, str, str], list[bool]] = {}
    errors: dict[tuple[str, str, str], list[float]] = {}
    for i in range(studies):
        if scenario == "sites":
            data = simulate_sites(seed + i, patients)
            fits = {"adjusted": weigh(data.patients, site_minimum=SITE_MINIMUM),
                    "adjusted without site": weigh(data.patients.drop(columns="site"))}
        else:
            data = simulate(seed + i, patients)
            fits = {"adjusted": weigh(data.patients)}
        for label, wt in fits.items():
            terms = weighting_terms(wt, data.treated)  # the pipeline's SE: the model's estimation accounted for
            frame = estimates_table(data, wt.weights, scheme=wt.scheme, balance_achieved=wt.balance.passed,
                                    terms=terms)
            if label != "adjusted":  # only the adjusted rows are of this fit; the unadjusted ones are shared
                frame = frame[frame["adjustment"] == "adjusted"].assign(adjustment=label)
            else:  # beside it, the weights-fixed HC1 sandwich (the pipeline's SE before issue 15's correction)
                fixed = estimates_table(data, wt.weights, scheme=wt.scheme, balance_achieved=wt.balance.passed)
                fixed = fixed[(fixed["adjustment"] == "adjusted") & (fixed["measure"] != "hazard_ratio")]
                frame = pd.concat([frame, fixed.assign(adjustment="adjusted, weights fixed (HC1)")])
            for key, ok in covered(frame).items():
                hits.setdefault(key, []).append(ok)
            if bootstrap and label == "adjusted":
                hits.setdefault(("pro_change", "mean_change_difference", "adjusted, bootstrap normal"), []).append(
                    bootstrap_covers(data, wt, bootstrap, seed + i))
            for r in frame.itertuples():
                if r.outcome == "pro_change":
                    errors.setdefault((r.outcome, r.measure, r.adjustment), []).append(r.estimate - TRUTH[
                        (r.outcome, r.measure)])
    rows = [{"outcome": k[0], "measure": k[1], "adjustment": k[2], "coverage": float(np.mean(v)), "studies": len(v),
             "mean_bias": float(np.mean(errors[k])) if k in errors else np.nan}
            for k, v in sorted(hits.items())]
    return pd.DataFrame(rows)


# --- adjusted RMST difference (SAP 6 v2) --------------------------------------------------------------------
# The covariates are those of `simulate` (`_covariates`); the truth below is computed from the same formulas as
# the draw, so the draw must not take the other scenarios' changes (e.g. the site effects of `simulate_sites`).
TAU = 1826.0
EARLY = 365.0  # "crossing": hazard × 2 before day 365, × 0.6 after, for treated patients
RMST_SCENARIOS = {"null": (1.0, 1.0), "crossing": (2.0, 0.6)}


def _piecewise_rmst(rate: np.ndarray, early: float, late: float) -> np.ndarray:
    """∫_0^TAU S(t) dt for hazard rate·early on [0, EARLY) and rate·late after."""
    r1, r2 = rate * early, rate * late
    return (1 - np.exp(-r1 * EARLY)) / r1 + np.exp(-r1 * EARLY) * (1 - np.exp(-r2 * (TAU - EARLY))) / r2


def _piecewise_draw(rng: np.random.Generator, rate: np.ndarray, early: float, late: float) -> np.ndarray:
    """Event times of the piecewise-exponential hazard (inversion of the cumulative hazard)."""
    h = rng.exponential(1.0, rate.size)
    first = h / (rate * early)
    return np.where(first < EARLY, first, EARLY + (h - rate * early * EARLY) / (rate * late))


def rmst_truth(scenario: str, draws: int = 2_000_000, seed: int = 1) -> float:
    """The overlap-weighted RMST difference treatment − comparator to TAU (Monte Carlo over the covariates)."""
    _, e, risk = _covariates(np.random.default_rng(seed), draws)
    rate = np.exp(risk) / 2500
    tilt = e * (1 - e)
    gain = _piecewise_rmst(rate, *RMST_SCENARIOS[scenario]) - _piecewise_rmst(rate, 1.0, 1.0)
    return float(np.sum(tilt * gain) / np.sum(tilt))


def simulate_rmst(seed: int, n: int, scenario: str) -> pd.DataFrame:
    """One study: confounded treatment, reintervention times of the scenario, uniform censoring in [300, TAU]
    (administrative at TAU), 5% of BMI and baseline ODI missing."""
    rng = np.random.default_rng(seed)
    frame, e, risk = _covariates(rng, n)
    treated = rng.random(n) < e
    rate = np.exp(risk) / 2500
    early, late = RMST_SCENARIOS[scenario]
    event_time = np.where(treated, _piecewise_draw(rng, rate, early, late), rng.exponential(1 / rate))
    censor = rng.uniform(300, TAU, n)
    blank_bmi_and_odi(rng, frame)
    return frame.assign(treated=treated, time=np.minimum(event_time, censor).round(),
                        event=(event_time <= censor).astype(int))


def run_rmst(studies: int, patients: int, seed: int) -> pd.DataFrame:
    """Coverage of the adjusted (overlap) RMST difference's normal 95% CI, and its bias, per scenario."""
    rows = []
    for scenario in RMST_SCENARIOS:
        truth = rmst_truth(scenario)
        hits, estimates, ses = [], [], []
        for i in range(studies):
            study = simulate_rmst(seed + i, patients, scenario)
            w = weigh(study).weights
            t, e, treated = study["time"].to_numpy(), study["event"].to_numpy(), study["treated"].to_numpy()
            arms = [rmst_ij(kaplan_meier(t[sel], e[sel], w[sel]), TAU) for sel in (treated, ~treated)]
            diff = rmst_difference(*arms)
            hits.append(diff.lower <= truth <= diff.upper)
            estimates.append(diff.estimate)
            ses.append(diff.se)
        rows.append({"scenario": scenario, "truth_days": truth, "coverage": float(np.mean(hits)),
                     "bias_days": float(np.mean(estimates) - truth), "empirical_sd": float(np.std(estimates, ddof=1)),
                     "mean_ij_se": float(np.mean(ses)), "studies": studies})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=200)
    parser.add_argument("--patients", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=20240617)
    parser.add_argument("--rmst", action="store_true", help="the adjusted RMST difference instead")
    parser.add_argument("--scenario", choices=("covariates", "sites"), default="covariates")
    parser.add_argument("--bootstrap", type=int, default=0, help="replicates of the ODI bootstrap CI (0: none)")
    args = parser.parse_args()
    start = time.perf_counter()
    result = (run_rmst(args.studies, args.patients, args.seed) if args.rmst
              else run(args.studies, args.patients, args.seed, args.scenario, args.bootstrap))
    elapsed = time.perf_counter() - start
    print(result.to_string(index=False))
    seeds = f"seeds {args.seed}..{args.seed + args.studies - 1}"
    print(f"scenario {args.scenario}, studies {args.studies}, patients {args.patients}, {seeds}, "
          f"{elapsed:.1f} s on {platform.machine()} ({platform.python_version()})")


if __name__ == "__main__":
    main()
