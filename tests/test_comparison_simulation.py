"""Known truth: treatment has NO effect on complications or reintervention, but older, sicker patients get
MILD and do worse, so the naive comparison is wrong. The overlap-weighted CIs must cover the truth and the
naive ones must not (seeded, well under a second). Also: the bootstrap that re-fits the propensity model
agrees with the sandwich CI and is reproducible."""

import numpy as np

from benchmarks.comparison_coverage import simulate
from pipeline.comparison.bootstrap import bootstrap_intervals
from pipeline.comparison.estimates import estimates_table, is_ratio, point_estimates
from pipeline.comparison.model import refit_weights, weigh

SEED = 11


def row(frame, outcome, adjustment):
    return frame[(frame["outcome"] == outcome) & (frame["adjustment"] == adjustment)].iloc[0]


def test_adjusted_ci_covers_the_null_and_the_naive_ci_does_not():
    data = simulate(SEED, n=3000)
    wt = weigh(data.patients)
    assert wt.balance.passed and wt.balance.max_abs_smd_after < 1e-6
    frame = estimates_table(data, wt.weights, scheme="overlap", balance_achieved=True)
    for outcome, null in (("complication", 0.0), ("reintervention", 1.0)):
        naive, adjusted = row(frame, outcome, "unadjusted"), row(frame, outcome, "adjusted")
        assert not naive.ci_lower <= null <= naive.ci_upper, outcome
        assert adjusted.ci_lower <= null <= adjusted.ci_upper, outcome
    change = row(frame, "pro_change", "adjusted")  # constant effect -4: every weighted estimand is -4
    assert change.ci_lower <= -4 <= change.ci_upper


def test_bootstrap_refitting_the_propensity_model_is_close_to_the_sandwich_and_seeded():
    data = simulate(SEED, n=1000)
    wt = weigh(data.patients)

    def boot():
        return bootstrap_intervals(len(data.patients),
                                   lambda c: refit_weights(wt.design, data.treated, c, "overlap", (1, 99)),
                                   lambda w: point_estimates(data, w), replicates=100, seed=5,
                                   point=point_estimates(data, wt.weights), log_scale=is_ratio)

    first = boot()
    assert first == boot()
    frame = estimates_table(data, wt.weights, scheme="overlap", balance_achieved=True)
    sandwich = row(frame, "pro_change", "adjusted")
    lower, upper = first[("pro_change", "ODI", "M12", "mean_change_difference")]
    width = sandwich.ci_upper - sandwich.ci_lower
    assert np.isclose(upper - lower, width, rtol=0.35)
    assert lower < sandwich.estimate < upper
