"""Coverage of the adjusted 95% CIs of SAP section 6 over many simulated studies with known truth.

    .venv/bin/python -m benchmarks.comparison_coverage [--studies 200] [--patients 1500] [--seed 20240617]

Each study draws the twelve propensity covariates (with ~5% of BMI and baseline ODI missing), assigns MILD with
a strong logistic dependence on age, ASA class, diabetes and baseline ODI (older, sicker patients get MILD),
and draws outcomes that depend on the same covariates: ODI change with a CONSTANT treatment effect of −4
points (so every weighted estimand, overlap included, equals −4), a responder flag, a 90-day complication
and a time to reintervention with NO treatment effect (risk difference 0, HR 1; the HR is non-collapsible,
so only the null has the same value under every weighting). The naive estimates are confounded.
Reported: share of studies whose adjusted (overlap weights, robust sandwich / Lin–Wei) 95% CI covers the
truth, and the same for the unadjusted CI.
"""

import argparse
import platform
import time

import numpy as np
import pandas as pd

from pipeline.comparison.estimates import ComparisonData, estimates_table
from pipeline.comparison.model import weigh

TRUTH = {("pro_change", "mean_change_difference"): -4.0, ("responder", "risk_difference"): 0.0,
         ("complication", "risk_difference"): 0.0, ("reintervention", "hazard_ratio"): 1.0}


def simulate(seed: int, n: int = 1500, effect: float = -4.0) -> ComparisonData:
    """One study with confounded treatment and known effects (see the module docstring)."""
    rng = np.random.default_rng(seed)
    age = rng.normal(73, 7, n)
    asa = rng.integers(1, 5, n).astype(float)
    diabetes = (rng.random(n) < 0.25).astype(float)
    odi = np.clip(rng.normal(45, 12, n), 0, 100)
    frame = pd.DataFrame({
        "age_at_index": age, "female": (rng.random(n) < 0.55).astype(float), "bmi": rng.normal(29, 5, n),
        "diabetes": diabetes, "smoker": (rng.random(n) < 0.15).astype(float),
        "prior_esi": (rng.random(n) < 0.6).astype(float), "symptom_months": rng.gamma(2, 12, n),
        "levels_treated": rng.integers(1, 3, n).astype(float), "asa_class": asa, "baseline_odi": odi,
        "baseline_nrs_back": np.clip(rng.normal(6, 2, n), 0, 10),
        "baseline_nrs_leg": np.clip(rng.normal(6, 2, n), 0, 10),
    })
    lin = -0.4 + 0.10 * (age - 73) + 0.5 * (asa - 2.5) + 0.6 * diabetes + 0.03 * (odi - 45)
    treated = rng.random(n) < 1 / (1 + np.exp(-lin))
    risk = 0.08 * (age - 73) + 0.6 * diabetes + 0.3 * (asa - 2.5)
    change = -15 + effect * treated + 0.5 * (age - 73) + 4 * diabetes - 0.3 * (odi - 45) + rng.normal(0, 10, n)
    # Responder from the change without the treatment effect: the null holds for the risk difference.
    responder = (-(change - effect * treated) >= 10).astype(float)
    complication = (rng.random(n) < 1 / (1 + np.exp(-(-2.5 + risk)))).astype(float)
    event_time = rng.exponential(2500 * np.exp(-risk))
    censor = rng.uniform(300, 1826, n)
    frame.loc[rng.random(n) < 0.05, "bmi"] = np.nan
    frame.loc[rng.random(n) < 0.05, "baseline_odi"] = np.nan
    patients = frame.assign(treated=treated, complication=complication,
                            reintervention_time=np.minimum(event_time, censor).round(),
                            reintervention_event=(event_time <= censor).astype(float))
    rows = np.arange(n)
    changes = pd.DataFrame({"row": rows, "instrument": "ODI", "visit": "M12", "visit_ordinal": 4,
                            "change": change, "responder": responder})
    satisfaction = pd.DataFrame({"row": rows, "satisfied": responder})
    return ComparisonData(patients, changes, satisfaction, "M12")


def covered(frame: pd.DataFrame) -> dict[tuple[str, str, str], bool]:
    out = {}
    for r in frame.itertuples():
        truth = TRUTH.get((r.outcome, r.measure))
        if truth is not None:
            out[(r.outcome, r.measure, r.adjustment)] = bool(r.ci_lower <= truth <= r.ci_upper)
    return out


def run(studies: int, patients: int, seed: int) -> pd.DataFrame:
    hits: dict[tuple[str, str, str], list[bool]] = {}
    for i in range(studies):
        data = simulate(seed + i, patients)
        wt = weigh(data.patients)
        frame = estimates_table(data, wt.weights, scheme=wt.scheme, balance_achieved=wt.balance.passed)
        for key, ok in covered(frame).items():
            hits.setdefault(key, []).append(ok)
    rows = [{"outcome": k[0], "measure": k[1], "adjustment": k[2], "coverage": float(np.mean(v)), "studies": len(v)}
            for k, v in sorted(hits.items())]
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=200)
    parser.add_argument("--patients", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=20240617)
    args = parser.parse_args()
    start = time.perf_counter()
    result = run(args.studies, args.patients, args.seed)
    elapsed = time.perf_counter() - start
    print(result.to_string(index=False))
    print(f"studies {args.studies}, patients {args.patients}, seeds {args.seed}..{args.seed + args.studies - 1}, "
          f"{elapsed:.1f} s on {platform.machine()} ({platform.python_version()})")


if __name__ == "__main__":
    main()
