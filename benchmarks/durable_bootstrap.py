"""Durable response bootstrap (SAP 4.2 v2): its cost per resample, and the coverage of its 95% CIs.

    .venv/bin/python -m benchmarks.durable_bootstrap speed [--patients 100000] [--resamples 5]
    .venv/bin/python -m benchmarks.durable_bootstrap coverage [--studies 100] [--patients 500] [--resamples 200]

Data: the durable-response-like interval-censored rows of tests/test_survival_turnbull_bootstrap.py (visits near
the SAP's target days, 30% missed, exponential failure time with mean 1500 days, 10% of failures exact), so
the true probability of durable response is exp(−day / 1500). `speed` times the grouping into patterns, the
full fit and the resamples of one arm of `--patients` patients; `coverage` reports the share of studies whose
95% CI covers the truth at days 365, 730 and 1826, and of the difference of two arms with the same curve
(truth 0) at day 1826.
"""

import argparse
import time

import numpy as np

from pipeline.survival.turnbull import turnbull
from pipeline.survival.turnbull_bootstrap import (
    arm_rng,
    bootstrap_survival,
    difference_interval,
    loglog_interval,
    patterns,
    survival_at,
)
from tests.test_survival_turnbull_bootstrap import durable_like

DAYS = [365, 730, 1826]


def speed(patients: int, resamples: int) -> None:
    left, right = durable_like(patients, 1)
    t = time.perf_counter()
    pat = patterns(left, right)
    grouped = time.perf_counter() - t
    t = time.perf_counter()
    fit = turnbull(left, right)
    full = time.perf_counter() - t
    t = time.perf_counter()
    bootstrap_survival(pat, DAYS, resamples, arm_rng(1, 0))
    each = (time.perf_counter() - t) / resamples
    print(f"{patients:,} patients, {pat.left.size:,} patterns, {fit.time.size:,} support points: grouping "
          f"{grouped:.2f} s, full fit {full:.2f} s ({fit.iterations} iterations), {each:.2f} s per resample "
          f"(200 resamples: {200 * each:.0f} s per arm)")


def coverage(studies: int, patients: int, resamples: int) -> None:
    truth = np.exp(-np.asarray(DAYS) / 1500.0)
    covered, difference = np.zeros(len(DAYS)), 0
    for study in range(studies):
        fits = []
        for arm in (0, 1):
            left, right = durable_like(patients, 10_000 * arm + study)
            pat = patterns(left, right)
            s = survival_at(pat, pat.counts, DAYS)
            reps = bootstrap_survival(pat, DAYS, resamples, arm_rng(study, arm))
            fits.append((s, reps))
            if arm == 0:
                lower, upper, _ = loglog_interval(s, reps)
                covered += (lower <= truth) & (truth <= upper)
        (s_t, r_t), (s_c, r_c) = fits
        lower, upper, _ = difference_interval(s_t[-1] - s_c[-1], r_t[:, -1], r_c[:, -1])
        difference += int(lower <= 0 <= upper)
    print(f"{studies} studies of {patients} patients, {resamples} resamples: coverage at days {DAYS}: "
          f"{', '.join(f'{c / studies:.0%}' for c in covered)}; difference at day 1826: {difference / studies:.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("speed", "coverage"))
    parser.add_argument("--patients", type=int)
    parser.add_argument("--resamples", type=int)
    parser.add_argument("--studies", type=int, default=100)
    a = parser.parse_args()
    if a.what == "speed":
        speed(a.patients or 100_000, a.resamples or 5)
    else:
        coverage(a.studies, a.patients or 500, a.resamples or 200)


if __name__ == "__main__":
    main()
