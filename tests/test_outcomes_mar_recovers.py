"""MAR (IPAW) recovers the pre-dropout truth where complete case does not (issue 14, SAP 3.1).

A 40,000-patient sample from the generator with visits missed not at random (`--missing mnar`: among the
eligible patients P(ODI assessed) = expit(a[v] + b[arm] + c * (last observed ODI - 30) / 10), the SAP 3.1
attendance model's class, docs/sample-data.md) goes through the real ingest, staging and outcomes code. The
truth is the generator's pre-dropout mean ODI change over SAP 3.1's eligible patients (truth.pro_eligible,
computed from the generating model, never from the rows). Patients who fare badly stop answering, so the
complete-case mean change looks better than the truth; the attendance weights undo that.

Known limit (docs/sample-data.md, "Missed visits"): the generator realises the logistic by thinning the
patients its at-random mechanism keeps (visit not missed at random, follow-up reached the window), so
P(assessed) cannot exceed that share; for the patients with the best last ODI it is capped there (about 27%
of the eligible at M60, 40% at M12). That part is outside the model's class and leaves a residual bias at M60
of about half the complete-case bias after MILD (at 100,000 patients, IPAW on arm and last ODI in
a direct computation: truth -10.37, complete case -11.93, IPAW -11.09; laminectomy -14.70, -15.76,
-14.97), smaller than the MAR CI's half-width at this size. Measured here (40,000 patients, seed below):
M60 MILD truth -10.39, complete case -11.71 [-12.52, -10.90], MAR -10.91 [-11.81, -10.02]. At 20,000
patients the same seed gives MAR -12.22 [-13.39, -11.06] for MILD at M60: the residual bias plus noise
reaches outside the CI, and the complete-case CI of laminectomy at M60 still covers the truth.
"""

import json
import subprocess
import sys

import pytest

from tests.outcomes_world import odi_mar_and_complete_case

pytestmark = pytest.mark.slow
PATIENTS = 40000  # complete-case bias at M60 about 2-4 of its SEs (20,000: 1.5-4)
SEED = 20261123  # the committed sample's seed
ARMS = ("MILD", "LAMINECTOMY")
Z = 1.959964


@pytest.fixture(scope="module")
def estimates(tmp_path_factory):
    root = tmp_path_factory.mktemp("mar_recovers")
    subprocess.run(
        [sys.executable, "-m", "sample_data.generate", "--patients", str(PATIENTS), "--seed", str(SEED),
         "--no-defects", "--landing", str(root / "landing"), "--truth", str(root / "truth.json")],
        check=True, capture_output=True,
    )
    mar, cc = odi_mar_and_complete_case(root / "landing", root / "w.duckdb", "mean_change, ci_low, ci_high, method",
                                        "mean_change, ci_lower, ci_upper")
    truth = json.loads((root / "truth.json").read_text())
    return {"mar": mar, "cc": cc,
            "truth": truth["truth"]["pro_eligible"]["arms"], "missing": truth["options"]["missing"]}


def _truth(estimates, arm: str, visit: str) -> float:
    return estimates["truth"][arm]["ODI"][visit]["mean_change"]


def test_the_sample_misses_visits_not_at_random(estimates):
    assert estimates["missing"] == "mnar"


@pytest.mark.parametrize("visit", ["M12", "M60"])
@pytest.mark.parametrize("arm", ARMS)
def test_the_mar_estimate_is_within_its_ci_of_the_truth(estimates, arm, visit):
    mean, low, high, method = estimates["mar"][(arm, visit)]
    truth = _truth(estimates, arm, visit)
    assert method == "ipaw"
    assert low <= truth <= high, (arm, visit, truth, mean, low, high)


@pytest.mark.parametrize("arm", ARMS)
def test_complete_case_misses_the_truth_at_m60(estimates, arm):
    mean, low, high = estimates["cc"][(arm, "M60")]
    truth = _truth(estimates, arm, "M60")
    assert not low <= truth <= high, (arm, truth, mean, low, high)
    assert mean < truth  # the patients who stay fare better


@pytest.mark.parametrize("visit", ["M60"])
@pytest.mark.parametrize("arm", ARMS)
def test_mar_is_closer_to_the_truth_than_complete_case(estimates, arm, visit):
    truth = _truth(estimates, arm, visit)
    assert abs(estimates["mar"][(arm, visit)][0] - truth) < abs(estimates["cc"][(arm, visit)][0] - truth)
