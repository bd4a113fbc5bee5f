"""Bias and 95% CI coverage of complete case vs MAR (IPAW) for the per-arm mean ODI change and satisfaction rate
at M12 (SAP 3.1), over many simulated studies with known truth.

    .venv/bin/python -m benchmarks.mar_coverage [--studies 500] [--patients 1500] [--seed 20261207]
                                                [--scenario additive|interaction]

Each study draws the twelve propensity covariates (about 5% of BMI and baseline ODI missing), three sites and a
confounded arm (benchmarks/simulated_covariates.py, as benchmarks/comparison_coverage.py), then an ODI at M3
(the earlier outcome), the ODI change at M12 (depends on the M3 change, age and diabetes) and NASS satisfaction
at M12 (more likely the larger the improvement). Attendance at M12 falls as the M3 ODI rises (patients who fare
worse stop answering), is lower after MILD and varies by site: missing at random given the attendance model's
terms ("additive"), or with an arm × M3 interaction the model does not have ("interaction": more so after MILD;
the model is then misspecified). The truths are the per-arm expectations, from one draw of 2,000,000 patients
of the same model without missingness. Estimators: complete case (unit weights) and IPAW exactly as the
pipeline computes them (build_design, attendance_design, fit_attendance, weighted_mean: stabilized weights
truncated at the 99th percentile, HC1 sandwich, attendance model fixed); both CIs use the normal quantile.
Reported per arm, estimand and method: mean bias, empirical SD, mean SE, coverage, studies.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from scipy.special import expit

from benchmarks.simulated_covariates import blank_bmi_and_odi, draw_covariates
from pipeline.comparison.propensity import COVARIATES, build_design
from pipeline.outcomes.attendance import IPAW, attendance_design, fit_attendance
from pipeline.outcomes.mar import weighted_mean

TRUTH_PATIENTS = 2_000_000
TRUTH_SEED = 1


def simulate(seed: int, n: int, scenario: str = "additive", missing: bool = True) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame, age, asa, diabetes, odi = draw_covariates(rng, n)
    site = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    treated = rng.random(n) < expit(-0.4 + 0.10 * (age - 73) + 0.5 * (asa - 2.5) + 0.6 * diabetes)
    m3 = np.clip(odi - 18 + 4 * treated + 0.2 * (age - 73) + 3 * diabetes + rng.normal(0, 9, n), 0, 100)
    change = 0.85 * (m3 - odi) + 0.1 * (age - 73) + rng.normal(0, 7, n)
    satisfied = (rng.random(n) < expit(0.8 - 0.12 * (change + 12))).astype(float)
    eta = 1.2 - 0.06 * (m3 - 28) - 0.5 * treated + 0.3 * (site == 1) + 0.02 * (age - 73)
    if scenario == "interaction":
        eta = eta - 0.04 * treated * (m3 - 28)
    assessed = rng.random(n) < expit(eta) if missing else np.ones(n, dtype=bool)
    if missing:  # the covariates as a registry delivers them
        blank_bmi_and_odi(rng, frame)
    return {"covariates": frame, "site": site, "treated": treated, "m3": m3, "change": change,
            "satisfied": satisfied, "assessed": assessed}


def truths(scenario: str) -> dict[tuple[bool, str], float]:
    sim = simulate(TRUTH_SEED, TRUTH_PATIENTS, scenario, missing=False)
    return {(arm, what): float(sim[what][sim["treated"] == arm].mean())
            for arm in (True, False) for what in ("change", "satisfied")}


def one_study(seed: int, n: int, scenario: str) -> list[dict]:
    sim = simulate(seed, n, scenario)
    design = build_design(sim["covariates"], COVARIATES)
    x, names = attendance_design(sim["treated"], design.x.to_numpy(dtype=float), design.names, sim["site"],
                                 sim["m3"], 11)
    att = fit_attendance(x, names, sim["assessed"], sim["treated"], 99.0, 11)
    rows = []
    for arm in (True, False):
        a = (sim["treated"] == arm) & sim["assessed"]
        for what in ("change", "satisfied"):
            rate = what == "satisfied"
            for method, w in (("complete_case", np.ones(a.sum())), ("mar", att.weights[a])):
                est = weighted_mean(sim[what][a], w, rate=rate)
                rows.append({"arm": "MILD" if arm else "LAMINECTOMY", "what": what, "method": method,
                             "estimate": est.estimate, "se": est.se, "lower": est.lower, "upper": est.upper,
                             "ipaw": att.method == IPAW, "arm_flag": arm})
    return rows


def run(studies: int, patients: int, seed: int, scenario: str) -> pd.DataFrame:
    truth = truths(scenario)
    frame = pd.DataFrame([r for i in range(studies) for r in one_study(seed + i, patients, scenario)])
    frame["truth"] = [truth[(f, w)] for f, w in zip(frame["arm_flag"], frame["what"], strict=True)]
    frame["covered"] = (frame["lower"] <= frame["truth"]) & (frame["truth"] <= frame["upper"])
    frame["error"] = frame["estimate"] - frame["truth"]
    summary = frame.groupby(["what", "arm", "method"], sort=False).agg(
        truth=("truth", "first"), bias=("error", "mean"), empirical_sd=("estimate", "std"), mean_se=("se", "mean"),
        coverage=("covered", "mean"), studies=("covered", "size"), ipaw_fitted=("ipaw", "mean")).reset_index()
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=500)
    parser.add_argument("--patients", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--scenario", choices=("additive", "interaction"), default="additive")
    args = parser.parse_args()
    start = time.perf_counter()
    result = run(args.studies, args.patients, args.seed, args.scenario)
    elapsed = time.perf_counter() - start
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    with pd.option_context("display.float_format", "{:.3f}".format, "display.width", 200):
        print(result.to_string(index=False))
    print(f"scenario {args.scenario}, studies {args.studies}, patients {args.patients}, seeds {args.seed}.."
          f"{args.seed + args.studies - 1}, truth from {TRUTH_PATIENTS:,} patients (seed {TRUTH_SEED}); "
          f"{elapsed:.1f} s on {platform.machine()} ({platform.processor() or 'cpu'}), Python "
          f"{platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}")


if __name__ == "__main__":
    main()
