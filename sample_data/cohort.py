"""Patient level: sites, pseudonymous ids, index dates, covariates, baseline severity and treatment.

Everything is drawn from one numpy Generator in a fixed order, vectorized over all patients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
from scipy.special import expit

from sample_data import model as M

ID_ALPHABET = np.frombuffer(b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789", dtype=np.uint8)  # [A-HJ-NP-Z2-9]
ID_LENGTH = 8
_DIGIT_CODES = np.flatnonzero((ID_ALPHABET >= ord("0")) & (ID_ALPHABET <= ord("9")))


@dataclass
class Cohort:
    """Column arrays, one entry per generated patient (global index = position)."""

    n: int
    ids: np.ndarray  # str, "P" + 8 characters
    id_keys: np.ndarray  # int64 key of each id (for drawing fresh ids that differ from all of them)
    site: np.ndarray  # int8 index into model.SITES
    local: np.ndarray  # int32 position of the patient among its site's patients
    index_date: np.ndarray  # datetime64[D]
    arm: np.ndarray  # int8: 0 laminectomy, 1 MILD, 2 other procedure
    x: dict[str, np.ndarray] = field(default_factory=dict)  # true covariates (float, complete)
    baseline: dict[str, np.ndarray] = field(default_factory=dict)  # observed-scale baseline PRO values
    z: np.ndarray | None = None  # patient response effect, N(0, 1); higher = worse outcomes
    ps: np.ndarray | None = None  # true P(MILD | x) of the assignment model

    @property
    def index_year(self) -> np.ndarray:
        return self.index_date.astype("datetime64[Y]").astype(np.int64) + 1970


def make_ids(rng: np.random.Generator, n: int,
             taken: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """n distinct ids "P" + 8 of [A-HJ-NP-Z2-9] and their 40-bit keys, without 5 digits in a row (they
    would look like identifiers) and not among the keys `taken`. Only offending ids are redrawn."""
    codes = rng.integers(0, len(ID_ALPHABET), size=(n, ID_LENGTH), dtype=np.uint8)
    weights = np.int64(1) << (5 * np.arange(ID_LENGTH, dtype=np.int64))
    while True:
        keys = codes.astype(np.int64) @ weights
        redo = np.ones(n, bool)
        redo[np.unique(keys, return_index=True)[1]] = False  # later copies of a key are redrawn
        redo |= _digit_runs(codes) >= 5
        if taken is not None and taken.size:
            redo |= np.isin(keys, taken)
        todo = np.flatnonzero(redo)
        if not todo.size:
            break
        codes[todo] = rng.integers(0, len(ID_ALPHABET), size=(todo.size, ID_LENGTH), dtype=np.uint8)
    chars = np.concatenate([np.full((n, 1), ord("P"), np.uint8), ID_ALPHABET[codes]], axis=1)
    return chars.view(f"S{ID_LENGTH + 1}").ravel().astype(f"U{ID_LENGTH + 1}"), keys


def _digit_runs(codes: np.ndarray) -> np.ndarray:
    is_digit = np.isin(codes, _DIGIT_CODES)
    run = np.zeros(codes.shape[0], np.int64)
    best = np.zeros(codes.shape[0], np.int64)
    for j in range(codes.shape[1]):
        run = np.where(is_digit[:, j], run + 1, 0)
        best = np.maximum(best, run)
    return best


def _index_dates(rng: np.random.Generator, n: int, as_of: date) -> np.ndarray:
    """Enrolment from ENROLMENT_START to as_of, density growing linearly (more procedures lately)."""
    span = (as_of - M.ENROLMENT_START).days
    g = M.ENROLMENT_GROWTH
    u = rng.random(n)
    # Inverse of F(x) = (x + g x^2 / 2) / (1 + g / 2) on [0, 1].
    frac = (-1 + np.sqrt(1 + 2 * g * u * (1 + g / 2))) / g if g else u
    days = np.minimum(np.floor(frac * (span + 1)).astype(np.int64), span)
    return np.datetime64(M.ENROLMENT_START, "D") + days


def make_cohort(rng: np.random.Generator, n: int, as_of: date) -> Cohort:
    C = M.COVARIATES
    site = rng.choice(len(M.SITES), size=n, p=M.SITE_WEIGHTS).astype(np.int8)
    ids, id_keys = make_ids(rng, n)
    local = np.zeros(n, np.int32)
    for s in range(len(M.SITES)):
        members = np.flatnonzero(site == s)
        local[members] = np.arange(members.size, dtype=np.int32)
    index_date = _index_dates(rng, n, as_of)

    x: dict[str, np.ndarray] = {}
    x["age"] = np.clip(np.round(rng.normal(C["age_mean"], C["age_sd"], n)), C["age_min"], C["age_max"])
    u = rng.random(n)
    x["sex_unknown"] = (u >= 1 - C["sex_unknown"]).astype(float)
    x["female"] = (u < C["female"]).astype(float)
    x["bmi"] = np.round(np.clip(rng.normal(C["bmi_mean"], C["bmi_sd"], n), C["bmi_min"], C["bmi_max"]), 1)
    for name in ("diabetes", "smoker", "prior_esi"):
        x[name] = (rng.random(n) < C[name]).astype(float)
    months = np.exp(rng.normal(np.log(C["symptom_months_median"]), C["symptom_months_log_sd"], n))
    x["symptom_months"] = np.round(np.clip(months, 1.0, 400.0), 1)
    x["levels_treated"] = (rng.choice(5, size=n, p=C["levels_p"]) + 1).astype(float)
    a = C["asa_latent"]
    latent = (a["diabetes"] * x["diabetes"] + a["bmi"] * (x["bmi"] - 29) + a["smoker"] * x["smoker"]
              + rng.normal(0, 1, n))
    x["asa_class"] = (1 + np.searchsorted(np.asarray(C["asa_cuts"]), latent)).astype(float)

    baseline = _baselines(rng, n, x)
    cohort = Cohort(n=n, ids=ids, id_keys=id_keys, site=site, local=local, index_date=index_date,
                    arm=np.zeros(n, np.int8), x=x, baseline=baseline)
    cohort.ps = propensity(x, baseline)
    other = rng.random(n) < M.OTHER_PROCEDURE_SHARE
    mild = rng.random(n) < cohort.ps
    cohort.arm = np.where(other, 2, mild.astype(np.int8)).astype(np.int8)
    cohort.z = rng.normal(0, 1, n)
    return cohort


def _baselines(rng: np.random.Generator, n: int, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Baseline values on the delivered scale (WALK_DISTANCE in m, STAND_TIME in min, before units)."""
    b = M.BASELINE_ODI
    odi = (b["mean"] + b["female"] * x["female"] + b["diabetes"] * x["diabetes"]
           + b["asa_class"] * (x["asa_class"] - 2) + b["bmi"] * (x["bmi"] - 29) + b["smoker"] * x["smoker"]
           + rng.normal(0, b["sd"], n))
    out = {"ODI": np.clip(np.round(odi), 0, 100)}
    ranges = {"NRS_BACK": (0, 10, 0), "NRS_LEG": (0, 10, 0), "ZCQ_SYMPTOM": (1, 5, 1),
              "ZCQ_FUNCTION": (1, 4, 1)}
    for name, (ref, slope, sd) in M.BASELINE_OTHER.items():
        raw = ref + slope * (out["ODI"] - 44) + rng.normal(0, sd, n)
        if name in ranges:
            lo, hi, decimals = ranges[name]
            out[name] = np.clip(np.round(raw, decimals), lo, hi)
        else:
            lo, hi = M.LOG_LIMITS[name]
            out[name] = np.clip(np.exp(raw), lo, hi)  # canonical units, rounded when a unit is chosen
    return out


def propensity(x: dict[str, np.ndarray], baseline: dict[str, np.ndarray]) -> np.ndarray:
    """The true treatment-assignment model P(MILD | covariates, baseline ODI and leg pain)."""
    t, c = M.TREATMENT, M.TREATMENT_CENTRES
    lp = (t["intercept"] + t["age"] * (x["age"] - c["age"]) + t["female"] * x["female"]
          + t["asa_class"] * (x["asa_class"] - c["asa_class"]) + t["diabetes"] * x["diabetes"]
          + t["prior_esi"] * x["prior_esi"] + t["odi0"] * (baseline["ODI"] - c["odi0"])
          + t["nrs_leg0"] * (baseline["NRS_LEG"] - c["nrs_leg0"])
          + t["levels_treated"] * (x["levels_treated"] - c["levels_treated"]))
    return expit(lp)


def burden(x: dict[str, np.ndarray]) -> np.ndarray:
    """Covariate effect on PRO change in ODI points (higher = less improvement); the same in both arms."""
    b, c = M.BURDEN, M.BURDEN_CENTRES
    return (b["diabetes"] * x["diabetes"] + b["smoker"] * x["smoker"] + b["female"] * x["female"]
            + b["asa_class"] * (x["asa_class"] - c["asa_class"]) + b["bmi"] * (x["bmi"] - c["bmi"]))
