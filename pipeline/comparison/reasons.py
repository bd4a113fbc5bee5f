"""The plain reasons of the comparison stage for a number it cannot estimate (SAP 9; pipeline/estimable.py).

Fixed phrases chosen here, never a library message or a data value (the arm name and the suppression
threshold are study settings, not data). `arms_reason` applies the one rule of every stage for "are there
enough patients to compare" (pipeline/estimable.py) to the treatment and comparator counts: both arms must
hold at least the suppression threshold of patients, as the SAP's site analysis asks, because below it every
between-arm number would be withheld anyway (SAP 8) and a propensity model of a dozen covariates on a
handful of patients is separated almost surely.
"""

from __future__ import annotations

# The phrases every stage shares, and the one rule for enough patients, live with `Gap`; re-exported here so
# the comparison stage reads all its reasons from one module.
from pipeline.estimable import NO_PATIENTS as NO_PATIENTS
from pipeline.estimable import NO_REINTERVENTION as NO_REINTERVENTION
from pipeline.estimable import arms_reason as shared_arms_reason

SEPARATION = "the propensity model cannot be fitted: the covariates separate the arms"
NOT_CONVERGED = "the propensity model cannot be fitted: it did not converge"
ALL_CONSTANT = "every covariate of the propensity model is constant in the analysis population"
NO_CHANGES = "no change from baseline in both arms"
NO_COMPLICATIONS = "no complications"
NO_REINTERVENTION_ARM = "no reintervention events in one arm"
NO_REINTERVENTION_DATA = "no patient in the reintervention data set"
NO_RISK_DIFFERENCE = "the adjusted complication risk difference is not estimable"
NO_HAZARD_RATIO = "the adjusted reintervention hazard ratio is not estimable"
NO_RETURN_DATA = "no patient in the return-to-activity data set"
NO_RETURN = "no return-to-activity events"
NO_RETURN_ARM = "no return-to-activity events in one arm"
NO_RETURN_HR = "the adjusted hazard ratio of returning to activity is not estimable"
NO_LEVEL_PATIENTS = "no patients in this subgroup level"
NO_SUBGROUP = "no subgroup level holds enough patients in both arms"
NO_RMST_VARIANCE = "the adjusted RMST difference has no variance (the weighted curves are degenerate)"


def arms_reason(n_treatment: int, n_comparator: int, minimum: int, arms: tuple[str, str]) -> str | None:
    """Why two arms of these sizes (treatment, comparator) cannot be compared, or None when they can."""
    return shared_arms_reason({arms[0]: n_treatment, arms[1]: n_comparator}, minimum)
