"""Survival analysis for the durability outcomes (SAP section 4), checked against R's survival package.

Estimators work on data aggregated by distinct time where they allow it (see docs/durability.md):
    kaplan_meier        KM with Greenwood, robust (IJ) or Xie–Liu variance; log(−log) CIs; at-risk; median
    logrank             two-group log-rank (lifelines, on aggregated counts)
    cox_efron, cox_zph  Cox PH with Efron ties; R ≥ 3.0 cox.zph proportional-hazards test
    rmst                restricted mean survival time with R's survmean standard error
    rmst_ij             RMST of a weighted KM curve with the infinitesimal-jackknife standard error
    aalen_johansen      deterministic cumulative incidence with competing risks
    turnbull            NPMLE for interval-censored data
"""

from pipeline.survival.cif import CumulativeIncidence, aalen_johansen
from pipeline.survival.cox import CoxFit, cox_efron
from pipeline.survival.km import KaplanMeier, kaplan_meier
from pipeline.survival.logrank import LogRank, logrank
from pipeline.survival.rmst import Rmst, RmstDifference, rmst, rmst_difference, rmst_ij
from pipeline.survival.turnbull import Turnbull, turnbull
from pipeline.survival.zph import ZphTest, cox_zph

__all__ = [
    "CoxFit", "CumulativeIncidence", "KaplanMeier", "LogRank", "Rmst", "RmstDifference", "Turnbull", "ZphTest",
    "aalen_johansen", "cox_efron", "cox_zph", "kaplan_meier", "logrank", "rmst", "rmst_difference", "rmst_ij",
    "turnbull",
]
