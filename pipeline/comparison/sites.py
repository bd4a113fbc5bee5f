"""Per-site adjusted ODI change differences at the primary visit (SAP 6, site heterogeneity), the input of the
random-effects pooling (heterogeneity.py).

Within each site the propensity model is RE-FITTED on the site's analysis patients with the SAP covariates
and no site terms (one site: nothing to adjust for), covariates constant within the site dropped by the usual
rule (`weigh`, as for subgroups), and the site's difference is the weighted difference with the SE of the
whole analysis (robust.py with the correction for the estimated propensity model, ps_variance.py, HC1 factor):
the same estimator, on the site's patients only.

Which sites qualify: a site needs at least `minimum` (the suppression threshold) patients in EACH arm among its
complete pairs at the primary visit, i.e. analysis patients of the site with an ODI change from baseline at the
primary visit (baseline and primary-visit ODI both present; outcomes.pro_changes). Below it every number of the
site would be withheld (SAP 8) and the site is left out as `under_threshold`, counted. A qualifying site whose
model cannot be fitted (separation, no convergence) or whose weighted difference has no variance is left out as
`not_estimable` with the reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.comparison.balance import SAP_GATE, BalanceGate
from pipeline.comparison.model import weigh
from pipeline.comparison.propensity import COVARIATES
from pipeline.comparison.ps_variance import corrected_difference, weighting_terms
from pipeline.comparison.robust import weighted_difference
from pipeline.estimable import NotEstimable

POOLED, UNDER_THRESHOLD, NOT_ESTIMABLE = "pooled", "under_threshold", "not_estimable"
NO_SITE_VARIANCE = "the weighted difference within the site has no variance (every change equal in an arm)"
def too_few_pairs(minimum: int) -> str:
    """Why a site is left out: it is judged on its complete pairs, not on its patients (a site with many patients
    of an arm, few of whom answered the ODI at baseline and at the primary visit, is left out for that)."""
    return f"fewer than {minimum} patients with a primary-visit ODI change in an arm"


NO_SITE_WEIGHT = "every patient of an arm in the site has weight 0 (the covariates separate the arms)"
COLUMNS = ("site", "status", "n_treatment", "n_comparator", "estimate", "se", "ci_lower", "ci_upper",
           "max_abs_smd_after", "balance_achieved", "weights", "note")


def site_estimates(patients: pd.DataFrame, site: np.ndarray, change_row: np.ndarray, change: np.ndarray,
                   scheme: str, truncation: tuple[float, float], start: dict[str, float] | None = None,
                   minimum: int = 2,
                   gate: BalanceGate = SAP_GATE) -> pd.DataFrame:
    """One row per site (sorted by site label). patients: the analysis population (COVARIATES, treated), row
    order; site: its site label per row; change_row/change: the primary ODI change of each patient who has
    one (`row` into patients). start: the population's coefficients (starting values only; site terms, if the
    population model has them, are not in the site's model and are ignored). minimum: the fewest complete
    pairs per arm for a site to be estimated (the suppression threshold)."""
    codes, labels = pd.factorize(np.asarray(site, dtype=object), sort=True)  # one pass, not a compare per site
    treated_all = patients["treated"].to_numpy(dtype=bool)
    finite = np.isfinite(change)
    change_row, change = change_row[finite], change[finite]
    covariates = patients[[*COVARIATES, "treated"]]
    rows = []
    for k, label in enumerate(labels):
        mask = codes == k
        in_site = mask[change_row]
        pair_treated = treated_all[change_row[in_site]]
        nt, nc = int(pair_treated.sum()), int((~pair_treated).sum())
        base = {"site": str(label), "n_treatment": nt, "n_comparator": nc, "weights": scheme}
        if min(nt, nc) < max(minimum, 2):
            rows.append(base | {"status": UNDER_THRESHOLD, "note": too_few_pairs(max(minimum, 2))})
            continue
        try:
            weighting = weigh(covariates[mask].reset_index(drop=True), scheme, truncation, start, gate)
        except NotEstimable as exc:
            rows.append(base | {"status": NOT_ESTIMABLE, "note": exc.reason})
            continue
        position = np.cumsum(mask) - 1  # row within the site of a patient of the site
        r = position[change_row[in_site]]
        w = weighting.weights[r]
        d = weighted_difference(change[in_site], pair_treated, w)
        # The SE accounts for the estimation of the site's propensity model (ps_variance.py).
        site_treated = treated_all[mask]
        d = corrected_difference(weighting_terms(weighting, site_treated), d, r, change[in_site])
        base |= {"max_abs_smd_after": weighting.balance.max_abs_smd_after,
                 "balance_achieved": weighting.balance.passed}
        if not (np.isfinite(d.estimate) and np.isfinite(d.se) and d.se > 0):
            zero_arm = not (w[pair_treated].sum() > 0 and w[~pair_treated].sum() > 0)
            rows.append(base | {"status": NOT_ESTIMABLE, "note": NO_SITE_WEIGHT if zero_arm else NO_SITE_VARIANCE})
            continue
        rows.append(base | {"status": POOLED, "estimate": d.estimate, "se": d.se, "ci_lower": d.lower,
                            "ci_upper": d.upper, "note": None})
    return pd.DataFrame(rows, columns=list(COLUMNS))
