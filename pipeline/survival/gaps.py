"""Numbers of the durability stage that the data cannot give (SAP 9), as `Gap`s (pipeline/estimable.py).

Each durability analysis stores what it can and records, in the same transaction as its tables, one gap per
results.json member it cannot fill: `what` is the member path (`reintervention.cox_hr`), a per-arm member
with the arm code in brackets (`reintervention.km[MILD]`); `reason` is one of the fixed phrases below. A
reason names at most an arm code, an event code or the suppression threshold, all study parameters; never a
data value or a library message.

- per arm, `reintervention.km[ARM]`, `reintervention.cif[ARM]`, `reintervention.rmst[ARM]`,
  `return_to_activity[ARM]`, `durable_response[ARM]`: "no ARM patients"; for the right-censored outcomes
  also "every patient censored on day 0" (no follow-up after the index procedure).
- `return_to_activity[ARM]`: "no RETURN_TO_ACTIVITY events" when no analysis patient of either arm has one
  (the event type is not recorded: a share back of 0% would be a wrong number, not an estimate).
- `durable_response[ARM]`: "no patient has a baseline ODI"; "no patient with a baseline ODI has a later
  ODI visit or a reintervention".
- between arms, `reintervention.logrank_p`, `reintervention.cox_hr`, `reintervention.ph_test_p`,
  `reintervention.rmst_difference`: "no patients in the analysis population"; "no ARM patients"; "fewer than
  N patients in an arm" (N = the suppression threshold: below it every between-arm number is withheld
  anyway, SAP 8, as in the comparison stage); "every ARM patient censored on day 0" ("every patient censored
  on day 0" when both arms are); "no reintervention events" (the RMST difference too: both curves are flat
  at 1, and a zero-width interval is no estimate). Then, with events: log-rank: "no reintervention event
  while both arms were at risk"; Cox: "no reintervention events in the ARM arm", "the Cox model could not be
  fitted"; PH test: "proportional-hazards test needs events in both arms", "the Cox model could not be
  fitted", "the proportional-hazards test could not be computed".
"""

from __future__ import annotations

# The phrases, member paths and the "enough patients in both arms" rule every stage shares live with `Gap`;
# re-exported so the durability stage reads all its reasons here.
from pipeline.estimable import NO_REINTERVENTION as NO_REINTERVENTION
from pipeline.estimable import arms_reason as arms_reason
from pipeline.estimable import member as member
from pipeline.estimable import no_patients as no_patients
from pipeline.estimable import too_few as too_few

NO_FOLLOW_UP = "every patient censored on day 0"
NO_SHARED_RISK = "no reintervention event while both arms were at risk"
COX_NOT_FITTED = "the Cox model could not be fitted"
PH_NEEDS_EVENTS = "proportional-hazards test needs events in both arms"
PH_NOT_COMPUTED = "the proportional-hazards test could not be computed"
NO_BASELINE_ODI = "no patient has a baseline ODI"
NO_ODI_SIGNAL = "no patient with a baseline ODI has a later ODI visit or a reintervention"
# Durable response bootstrap CIs (SAP 4.2 version 2).
BOOTSTRAP_OFF = "no bootstrap resamples (survival.durable_response_bootstrap_resamples = 0)"
BOOTSTRAP_DEGENERATE = "the bootstrap gives a probability of 0 or 1, or no spread, at this day"
DURABLE_DIFFERENCE = "durable_response_difference"

# Between-arm members of results.json `reintervention` (SAP 4.1).
LOGRANK, COX_HR, PH_TEST, RMST_DIFFERENCE = (
    "reintervention.logrank_p", "reintervention.cox_hr", "reintervention.ph_test_p",
    "reintervention.rmst_difference")
BETWEEN_ARMS = (LOGRANK, COX_HR, PH_TEST, RMST_DIFFERENCE)


def no_follow_up(arm: str) -> str:
    return f"every {arm} patient censored on day 0"


def no_events_in(arm: str) -> str:
    return f"no reintervention events in the {arm} arm"


def no_events_of(code: str) -> str:
    return f"no {code} events"
