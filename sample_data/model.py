"""Generating parameters of the synthetic cohort, in one place so that the truth file can record them.

Calibration sources are in ../shared/reference/clinical-evidence.md; docs/sample-data.md says which figure
each parameter follows. Times are in days unless a name says years.
"""

from __future__ import annotations

from datetime import date

ARMS = ("LAMINECTOMY", "MILD")  # arm index 0 = comparator, 1 = treatment (as in pipeline/study.toml)
OTHER_PROCEDURE = "SPACER"  # a valid third code: accepted by ingest, outside the analysis population
SITES = ("SITE01", "SITE02", "SITE03", "SITE04", "SITE05")
SITE_WEIGHTS = (0.31, 0.24, 0.19, 0.15, 0.11)
ENROLMENT_START = date(2016, 1, 1)
ENROLMENT_GROWTH = 1.0  # enrolment density grows linearly to (1 + this) times its start value
DELIVERY_SPACING_MONTHS = 6
OTHER_PROCEDURE_SHARE = 0.01
YEAR = 365.25

COVARIATES = {
    "age_mean": 74.6, "age_sd": 7.4, "age_min": 40, "age_max": 99,
    "female": 0.49, "sex_unknown": 0.003,
    "bmi_mean": 29.0, "bmi_sd": 5.2, "bmi_min": 16.0, "bmi_max": 55.0,
    "diabetes": 0.26, "smoker": 0.11, "prior_esi": 0.62,
    "symptom_months_median": 24.0, "symptom_months_log_sd": 0.8,
    "levels_p": (0.38, 0.34, 0.18, 0.08, 0.02),
    # ASA class = 1 + number of cut points below a latent score (diabetes, bmi, smoking + noise).
    "asa_cuts": (-1.9, 0.15, 1.9, 3.6),
    "asa_latent": {"diabetes": 0.9, "bmi": 0.04, "smoker": 0.5},
}
# Share of delivered values left empty (missing completely at random; the generating model uses the truth).
MISSING = {"bmi": 0.05, "diabetes": 0.02, "smoker": 0.03, "prior_esi": 0.03, "symptom_months": 0.04,
           "asa_class": 0.03, "anesthesia": 0.02, "los_days": 0.03}

# P(MILD) = expit(intercept + sum coef * (x - centre)); centres in TREATMENT_CENTRES.
TREATMENT = {"intercept": -1.12, "age": 0.072, "female": 0.74, "asa_class": 0.30, "diabetes": 0.35,
             "prior_esi": 0.30, "odi0": -0.025, "nrs_leg0": -0.08, "levels_treated": -0.15}
TREATMENT_CENTRES = {"age": 74.0, "asa_class": 2.5, "odi0": 44.0, "nrs_leg0": 6.5, "levels_treated": 2.0}

# Baseline ODI = ODI_MEAN + effects + N(0, ODI_SD); other baselines follow ODI (correlated severity).
BASELINE_ODI = {"mean": 44.0, "sd": 13.0, "female": 2.0, "diabetes": 2.5, "asa_class": 1.5, "bmi": 0.25,
                "smoker": 1.5}
# Covariate "burden" on PRO change, in ODI points (higher = less improvement); scaled per instrument.
BURDEN = {"diabetes": 1.5, "smoker": 1.0, "asa_class": 1.0, "bmi": 0.15, "female": 0.5}
BURDEN_CENTRES = {"asa_class": 2.0, "bmi": 29.0}

VISITS = ("W6", "M3", "M6", "M12", "M24", "M36", "M48", "M60")
VISIT_MISSED = dict(zip(VISITS, (0.10, 0.12, 0.14, 0.13, 0.18, 0.22, 0.25, 0.25), strict=True))
# Not-at-random attendance (the default mechanism, docs/sample-data.md), inside the SAP 3.1 attendance model's
# class: among the patients eligible at visit v (SAP 3.1, as truth_pro.eligible: lost to follow-up included),
# P(ODI assessed) = expit(intercept[v] + arm[arm] + per_10_points * (last ODI - ref_odi) / 10), one slope for
# both arms, last ODI = the most recent delivered ODI (baseline or an earlier visit). Realized by thinning the
# patients the at-random mechanism keeps (pros.attendance_probability). Intercepts calibrated at 100,000
# patients: about 3/4 of the patients whose follow-up reached the window answer at M12, about 1/2 at M60.
ATTENDANCE_MNAR = {"ref_odi": 30.0, "per_10_points": -0.5, "arm": {"LAMINECTOMY": 0.0, "MILD": -0.3},
                   "intercept": dict(zip(VISITS, (2.15, 1.65, 1.21, 1.03, 0.37, -0.24, -0.6, -1.04), strict=True))}
ATTENDANCE_STREAM = 0x41545444  # spawn key of the separate random stream of the MNAR attendance draws
BASELINE_DAYS = (-60, 0)
BASELINE_MISSED = 0.03
ITEM_MISSED = {"WALK_DISTANCE": 0.25, "STAND_TIME": 0.30, "SATISFACTION": 0.05, "ZCQ_SATISFACTION": 0.05}
ITEM_MISSED_DEFAULT = 0.02
EXTRA_EARLY = {"share": 0.015, "days": (3, 13), "instruments": ("ODI", "NRS_BACK", "NRS_LEG")}
EXTRA_PRE = {"share": 0.01, "days": (-300, -91), "instruments": ("ODI", "NRS_BACK", "NRS_LEG")}


def _v(*values: float) -> dict[str, float]:
    return dict(zip(VISITS, values, strict=True))


# Change model per instrument: X = baseline + delta_lam[v] + tau[v] * MILD + burden * burden_scale
#   - rho * (baseline - ref) + z_load * z + N(0, sd_e); the value is round(clip(X)), or exp(X) for log
#   instruments. tau is the additive arm effect (MILD - laminectomy) on the latent change.
PRO_CHANGE: dict[str, dict] = {
    "ODI": {"ref": 44.0, "rho": 0.30, "z_load": 9.0, "sd_e": 12.0, "burden_scale": 1.0, "decimals": 0,
            "delta_lam": _v(-16, -20, -19.5, -19, -18, -17, -16, -15),
            "tau": _v(-1.0, 1.0, 1.5, 2.0, 2.0, 2.5, 2.5, 3.0)},
    "NRS_BACK": {"ref": 5.8, "rho": 0.30, "z_load": 1.1, "sd_e": 1.6, "burden_scale": 0.08, "decimals": 0,
                 "delta_lam": _v(-2.6, -3.1, -3.1, -3.0, -2.9, -2.8, -2.7, -2.6),
                 "tau": _v(0.0, 0.2, 0.3, 0.4, 0.4, 0.4, 0.5, 0.5)},
    "NRS_LEG": {"ref": 6.6, "rho": 0.30, "z_load": 1.2, "sd_e": 1.7, "burden_scale": 0.08, "decimals": 0,
                "delta_lam": _v(-3.6, -4.1, -4.1, -4.0, -3.9, -3.8, -3.7, -3.6),
                "tau": _v(0.2, 0.4, 0.5, 0.5, 0.5, 0.6, 0.6, 0.6)},
    "ZCQ_SYMPTOM": {"ref": 3.4, "rho": 0.30, "z_load": 0.35, "sd_e": 0.45, "burden_scale": 0.02,
                    "decimals": 1, "delta_lam": _v(-0.9, -1.1, -1.1, -1.1, -1.05, -1.0, -0.95, -0.9),
                    "tau": _v(0.0, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1)},
    "ZCQ_FUNCTION": {"ref": 2.7, "rho": 0.30, "z_load": 0.3, "sd_e": 0.4, "burden_scale": 0.02,
                     "decimals": 1, "delta_lam": _v(-0.6, -0.8, -0.85, -0.85, -0.8, -0.8, -0.75, -0.7),
                     "tau": _v(-0.05, 0.0, 0.05, 0.05, 0.05, 0.05, 0.1, 0.1)},
    # log(canonical value): MILD walks and stands several times longer after the procedure.
    "WALK_DISTANCE": {"ref": 4.79, "rho": 0.25, "z_load": -0.35, "sd_e": 0.6, "burden_scale": -0.01,
                      "log": True, "delta_lam": _v(0.9, 1.2, 1.3, 1.3, 1.25, 1.2, 1.15, 1.1),
                      "tau": _v(0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2)},
    "STAND_TIME": {"ref": 2.2, "rho": 0.25, "z_load": -0.35, "sd_e": 0.6, "burden_scale": -0.01,
                   "log": True, "delta_lam": _v(1.0, 1.4, 1.5, 1.5, 1.45, 1.4, 1.35, 1.3),
                   "tau": _v(0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2)},
}
# Baselines of the other instruments: ref + slope * (ODI0 - 44) + N(0, sd), on the value (or log) scale.
BASELINE_OTHER = {
    "NRS_BACK": (5.8, 0.05, 1.7), "NRS_LEG": (6.6, 0.05, 1.6), "ZCQ_SYMPTOM": (3.4, 0.015, 0.5),
    "ZCQ_FUNCTION": (2.7, 0.015, 0.45), "WALK_DISTANCE": (4.79, -0.01, 0.9), "STAND_TIME": (2.2, -0.01, 0.8),
}
# Limits in canonical units; the caps read as "10 km or more" and "4 hours or more".
LOG_LIMITS = {"WALK_DISTANCE": (5.0, 10_000.0), "STAND_TIME": (0.5, 240.0)}

# NASS satisfaction, cumulative logit: P(S <= k) = expit(theta_k - eta),
# eta = visit[v] + arm * MILD + z_load * z + diabetes * diabetes.
SATISFACTION = {"theta": (0.3, 1.6, 2.6), "arm": 0.25, "z_load": 0.9, "diabetes": 0.25,
                "visit": _v(0.0, -0.05, 0.0, 0.05, 0.15, 0.2, 0.25, 0.3)}
ZCQ_SATISFACTION = {"intercept": 1.75, "eta": 0.3, "sd": 0.45}

# Units as reported, per site (WALK_DISTANCE: m, ft, km, mi; STAND_TIME: min, h).
WALK_UNITS = {"SITE01": (0.70, 0.20, 0.05, 0.05), "SITE02": (0.10, 0.75, 0.0, 0.15),
              "SITE03": (0.60, 0.10, 0.30, 0.0), "SITE04": (0.20, 0.50, 0.0, 0.30),
              "SITE05": (0.80, 0.0, 0.20, 0.0)}
STAND_HOURS = {"SITE01": 0.1, "SITE02": 0.3, "SITE03": 0.1, "SITE04": 0.5, "SITE05": 0.1}
LARGE_DISTANCE_M = 3000.0  # sites report longer distances in km or mi (keeps numbers under 5 digits)

# Reintervention: cumulative hazard H(t) = scale * (t / YEAR) ** shape * exp(lp), lp from REINT_COEF.
REINTERVENTION = {"LAMINECTOMY": {"scale": 0.0513, "shape": 0.66}, "MILD": {"scale": 0.040, "shape": 1.0}}
REINT_COEF = {"smoker": 0.35, "diabetes": 0.25, "levels_treated": 0.12, "z": 0.25}
REINT_CENTRES = {"smoker": 0.11, "diabetes": 0.26, "levels_treated": 2.0, "z": 0.0}
REPEAT_MILD_SHARE = 0.35  # of MILD reinterventions; the rest are open surgery

# Other time-to-event processes (rates per year); independent of outcomes given arm, except death (age).
DEATH = {"rate_at_75": 0.022, "age_slope": 0.085}
LOSS = {"scale": 0.0726, "shape": 1.3}  # Weibull cumulative hazard per year: ~7% by 1 y, ~45% by 5 y
WITHDRAWAL_RATE = 0.008
INJECTION_RATE = {"LAMINECTOMY": 0.04, "MILD": 0.05}

# 90-day complication: logit = intercept[arm] + coef * (x - centre).
COMPLICATION = {"intercept": {"LAMINECTOMY": -2.95, "MILD": -4.60}, "diabetes": 0.4, "asa_class": 0.3,
                "bmi": 0.03}
COMPLICATION_KINDS = {
    # (detail, share, first day, last day): every complication falls within 90 days of the index
    "LAMINECTOMY": (("durotomy", 0.35, 0, 0), ("superficial infection", 0.2, 7, 30),
                    ("deep infection", 0.1, 10, 60), ("hematoma", 0.1, 0, 3),
                    ("nerve root injury", 0.08, 0, 1), ("urinary retention", 0.1, 0, 2),
                    ("wound dehiscence", 0.07, 7, 21)),
    "MILD": (("superficial infection", 0.3, 5, 21), ("hematoma", 0.3, 0, 3),
             ("nerve root irritation", 0.25, 0, 7), ("dural puncture", 0.15, 0, 0)),
}
# Same-day discharge: logit P(los = 0) = intercept[arm] + asa * (asa_class - 2); else LOS from LOS_P.
SAME_DAY = {"intercept": {"LAMINECTOMY": -1.0, "MILD": 3.2}, "asa_class": -0.35}
LOS_P = {"LAMINECTOMY": (0.45, 0.25, 0.15, 0.10, 0.05), "MILD": (0.8, 0.2, 0.0, 0.0, 0.0)}
ANESTHESIA_LOCAL = {"LAMINECTOMY": 0.03, "MILD": 0.92}

# Return to normal activity: log(T) = mu[arm] + asa * (asa_class - 2) + N(0, sigma).
RETURN_TO_ACTIVITY = {"mu": {"LAMINECTOMY": 3.555, "MILD": 2.303}, "asa_class": 0.08, "sigma": 0.8}

EVENT_DETAILS = {
    "REINTERVENTION_SURGERY": ("laminectomy", "decompression and fusion", "revision decompression", None),
    "REPEAT_MILD": ("same level", "adjacent level", None),
    "INJECTION": ("epidural steroid injection", "facet joint injection", None),
    "WITHDRAWN": ("patient request", "moved away", None),
}
