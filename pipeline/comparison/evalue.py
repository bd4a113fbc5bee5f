"""E-values (VanderWeele & Ding 2017, Ann Intern Med 167:268): the minimum strength of association, on the
risk-ratio scale, that an unmeasured confounder would need with both treatment and outcome to explain away
the observed association.

    E = RR + sqrt(RR (RR − 1)) for RR ≥ 1; for RR < 1 apply it to 1 / RR.
CI: the E-value of the limit nearest 1, and 1 when the CI includes 1.

A hazard ratio is first put on the risk-ratio scale. Rare outcome (< 15% at the end of follow-up): RR ≈ HR.
Common outcome: RR ≈ (1 − 0.5^√HR) / (1 − 0.5^√(1/HR)) (VanderWeele 2020, "Optimal approximate conversions
of odds ratios and hazard ratios to risk ratios", Biometrics 76:746; the EValue package's evalues.HR with
rare = FALSE). The 15% threshold is the paper's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

COMMON_OUTCOME = 0.15


def evalue_rr(rr: float) -> float:
    """E-value of a risk ratio (point estimate)."""
    if not rr > 0 or not math.isfinite(rr):
        return math.nan
    r = rr if rr >= 1 else 1.0 / rr
    return r + math.sqrt(r * (r - 1.0))


def hr_to_rr(hr: float, common: bool) -> float:
    """Risk-ratio approximation of a hazard ratio (identity when the outcome is rare)."""
    if not common:
        return hr
    return (1.0 - 0.5 ** math.sqrt(hr)) / (1.0 - 0.5 ** math.sqrt(1.0 / hr))


@dataclass(frozen=True)
class EValue:
    rr: float  # point estimate on the RR scale
    rr_lower: float
    rr_upper: float
    estimate: float  # E-value of the point estimate
    ci_limit: float  # E-value of the CI limit nearest 1 (1 when the CI includes 1)


def evalue_ratio(estimate: float, lower: float, upper: float) -> EValue:
    """E-values of a risk ratio and its CI."""
    if lower <= 1 <= upper:
        limit = 1.0
    else:
        limit = evalue_rr(lower if lower > 1 else upper)
    return EValue(estimate, lower, upper, evalue_rr(estimate), limit)


def evalue_hr(estimate: float, lower: float, upper: float, common: bool) -> EValue:
    """E-values of a hazard ratio and its CI; `common`: outcome ≥ 15% by the end of follow-up."""
    return evalue_ratio(*(hr_to_rr(v, common) for v in (estimate, lower, upper)))
