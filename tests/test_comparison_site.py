"""Site in the propensity model (SAP 6 version 2): indicators with the largest site as reference, sites under
the suppression threshold pooled into one level, no term for a single level; the fit against statsmodels'
GLM on a design built independently (pandas dummies), balance per indicator by hand, separation by a site
that treats one arm only, and the subgroup and bootstrap refits that must carry the same term."""

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from pipeline.comparison import reasons
from pipeline.comparison.balance import smd
from pipeline.comparison.model import refit_weights, weigh
from pipeline.comparison.propensity import POOLED_SITE, build_design, fit_propensity, site_indicators
from pipeline.comparison.robust import weighted_difference
from pipeline.comparison.subgroups import subgroup_estimates
from pipeline.estimable import NotEstimable
from tests.stacked_sandwich import stacked_variance

MINIMUM = 11


def sites(**sizes: int) -> np.ndarray:
    return np.concatenate([[name] * size for name, size in sizes.items()]).astype(object)


def test_one_site_has_no_term():
    assert site_indicators(sites(A=50), MINIMUM) == {}


def test_two_sites_one_indicator_for_the_smaller():
    columns = site_indicators(sites(A=20, B=30), MINIMUM)
    assert list(columns) == ["site: A"]  # B is the largest: the reference
    assert columns["site: A"].tolist() == [1.0] * 20 + [0.0] * 30


def test_tie_goes_to_the_first_label_as_reference():
    assert list(site_indicators(sites(B=20, A=20, C=12), MINIMUM)) == ["site: B", "site: C"]


def test_small_sites_are_pooled_into_one_level_last():
    labels = sites(A=40, B=5, C=25, D=10, E=11)  # B and D under 11: pooled; E at the threshold: its own level
    columns = site_indicators(labels, MINIMUM)
    assert list(columns) == ["site: C", "site: E", POOLED_SITE]
    pooled = np.isin(labels, ["B", "D"]).astype(float)
    assert columns[POOLED_SITE].tolist() == pooled.tolist()


def test_a_single_small_site_forms_the_pooled_level_alone():
    columns = site_indicators(sites(A=40, B=3), MINIMUM)
    assert list(columns) == [POOLED_SITE] and columns[POOLED_SITE].sum() == 3


def test_only_small_sites_pool_into_one_level_and_have_no_term():
    assert site_indicators(sites(A=5, B=7, C=10), MINIMUM) == {}


def test_the_pooled_level_does_not_become_the_reference_even_when_larger():
    # six sites of 10 (pooled: 60 patients) and one of 20: the reference is the site, not the pooled level.
    labels = sites(A=10, B=10, C=10, D=20, E=10, F=10, G=10)
    assert list(site_indicators(labels, MINIMUM)) == [POOLED_SITE]


def cohort(seed: int = 3, n: int = 900, site_only_treated: bool = False) -> pd.DataFrame:
    """Sites that differ in case mix and in procedure preference."""
    rng = np.random.default_rng(seed)
    site = rng.choice(np.array(["S1", "S2", "S3", "S4", "S5"], dtype=object), n, p=[0.4, 0.3, 0.2, 0.094, 0.006])
    code = pd.Series(site).map({"S1": 0.0, "S2": 0.8, "S3": -0.6, "S4": 0.3, "S5": 0.0}).to_numpy()
    age = rng.normal(72, 7, n) + 3 * code
    female = (rng.random(n) < 0.5).astype(float)
    lin = 0.05 * (age - 72) + 0.4 * female + code
    treated = rng.random(n) < 1 / (1 + np.exp(-lin))
    if site_only_treated:
        treated[site == "S3"] = True
        small = np.flatnonzero(site == "S5")
        treated[small] = np.arange(small.size) % 2 == 0  # the pooled level keeps both arms
    return pd.DataFrame({"site": site, "age_at_index": age, "female": female, "treated": treated})


def dummies(frame: pd.DataFrame, reference: str, pooled: list[str]) -> pd.DataFrame:
    """The site design by another route: pandas dummies of a recoded label, reference column dropped."""
    recoded = frame["site"].where(~frame["site"].isin(pooled), "zz_pooled")
    d = pd.get_dummies(recoded, dtype=float).drop(columns=reference)
    return d


def test_weigh_fits_what_statsmodels_fits_on_the_same_design():
    frame = cohort()
    counts = frame["site"].value_counts()
    assert counts["S5"] < MINIMUM <= counts["S4"]  # S5 pooled, alone in its level
    design = build_design(frame, covariates=("age_at_index", "female"), binary=("female",), site_minimum=MINIMUM)
    assert design.names == ["age_at_index", "female", "site: S2", "site: S3", "site: S4", POOLED_SITE]
    x = pd.concat([frame[["age_at_index", "female"]], dummies(frame, "S1", ["S5"])], axis=1)
    glm = sm.GLM(frame["treated"].astype(float), sm.add_constant(x), family=sm.families.Binomial()).fit(tol=1e-12)
    fit = fit_propensity(design.x, frame["treated"])
    assert fit.coef.to_numpy() == pytest.approx(glm.params.to_numpy(), rel=1e-7, abs=1e-9)
    assert fit.se.to_numpy() == pytest.approx(glm.bse.to_numpy(), rel=1e-6)


def full_cohort(seed: int = 5, n: int = 1200, **kwargs) -> pd.DataFrame:
    """cohort() with every SAP covariate (so weigh's default covariate list applies) and outcomes."""
    frame = cohort(seed, n, **kwargs)
    rng = np.random.default_rng(seed + 1)
    for name in ("bmi", "symptom_months", "baseline_odi", "baseline_nrs_back", "baseline_nrs_leg"):
        frame[name] = rng.normal(30, 8, n)
    for name in ("diabetes", "smoker", "prior_esi"):
        frame[name] = (rng.random(n) < 0.3).astype(float)
    frame["levels_treated"] = rng.integers(1, 3, n).astype(float)
    frame["asa_class"] = rng.integers(1, 4, n).astype(float)
    frame["reintervention_time"] = rng.integers(10, 1800, n).astype(float)
    frame["reintervention_event"] = (rng.random(n) < 0.2).astype(float)
    return frame


def sm_overlap_fit(frame: pd.DataFrame, columns: list[str], pooled: list[str],
                   freq: np.ndarray | None = None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(design without intercept, statsmodels coefficients, overlap weights)."""
    largest = frame["site"].value_counts()
    largest = largest[~largest.index.isin(pooled)]
    reference = sorted(largest[largest == largest.max()].index)[0]
    x = pd.concat([frame[columns].reset_index(drop=True), dummies(frame, reference, pooled).reset_index(drop=True)],
                  axis=1)
    x = x.loc[:, x.std() > 0]
    y = frame["treated"].to_numpy(dtype=float)
    glm = sm.GLM(y, sm.add_constant(x), family=sm.families.Binomial(), freq_weights=freq).fit(tol=1e-12)
    e = glm.predict(sm.add_constant(x))
    return x, np.asarray(glm.params), np.where(y == 1, 1 - e, e)


def sm_overlap_weights(frame: pd.DataFrame, columns: list[str], pooled: list[str],
                       freq: np.ndarray | None = None) -> np.ndarray:
    return sm_overlap_fit(frame, columns, pooled, freq)[2]


COVS = ["age_at_index", "female", "bmi", "diabetes", "smoker", "prior_esi", "symptom_months", "levels_treated",
        "asa_class", "baseline_odi", "baseline_nrs_back", "baseline_nrs_leg"]


def test_weigh_uses_the_site_term_and_shows_balance_for_each_indicator():
    frame = full_cohort()
    wt = weigh(frame, site_minimum=MINIMUM)
    expected = sm_overlap_weights(frame, COVS, ["S5"])
    assert wt.weights == pytest.approx(expected, rel=1e-7)
    table = wt.balance.table.set_index("covariate")
    t = frame["treated"].to_numpy()
    for name, site in (("site: S2", "S2"), ("site: S3", "S3"), ("site: S4", "S4"), (POOLED_SITE, "S5")):
        v = (frame["site"] == site).to_numpy(dtype=float)
        assert table.loc[name, "smd_before"] == pytest.approx(smd(v, t), rel=1e-10)
        assert table.loc[name, "smd_after"] == pytest.approx(smd(v, t, expected), abs=1e-8)
        assert abs(table.loc[name, "smd_after"]) < 1e-6  # overlap weights balance every model term exactly


def test_a_frame_with_a_site_needs_the_threshold():
    with pytest.raises(ValueError, match="site_minimum"):
        build_design(cohort(), covariates=("age_at_index",))


def test_a_site_with_one_arm_only_is_separation_handled_as_before():
    frame = full_cohort(site_only_treated=True)
    wt = weigh(frame, site_minimum=MINIMUM)  # overlap: the separated patients get weight 0
    in_s3 = (frame["site"] == "S3").to_numpy()
    assert wt.fit.separated_patients == in_s3.sum() and "site: S3" in wt.fit.separating
    assert np.all(wt.weights[in_s3] == 0) and np.all(wt.weights[~in_s3] > 0)
    # The rest is the MLE of the patients outside S3 (whose design has no S3 column).
    rest = frame[~in_s3].reset_index(drop=True)
    assert wt.weights[~in_s3] == pytest.approx(sm_overlap_weights(rest, COVS, ["S5"]), rel=1e-6)
    with pytest.raises(NotEstimable) as exc:
        weigh(frame, "ate", site_minimum=MINIMUM)
    assert exc.value.reason == reasons.SEPARATION


def test_bootstrap_refit_carries_the_site_term():
    frame = full_cohort()
    wt = weigh(frame, site_minimum=MINIMUM)
    counts = np.random.default_rng(8).multinomial(len(frame), np.full(len(frame), 1 / len(frame))).astype(float)
    w = refit_weights(wt.design, frame["treated"].to_numpy(), counts, "overlap", (1.0, 99.0))
    expected = sm_overlap_weights(frame, COVS, ["S5"], freq=counts)
    drawn = counts > 0
    assert w[drawn] == pytest.approx(expected[drawn], rel=1e-6) and np.all(w[~drawn] == 0)


def test_subgroup_refit_recounts_the_sites_within_the_level():
    frame = full_cohort(n=2000)
    change = frame["age_at_index"].to_numpy() * 0.1 + np.random.default_rng(2).normal(0, 5, len(frame))
    rows = subgroup_estimates(frame, np.arange(len(frame)), change, "overlap", (1.0, 99.0), minimum=MINIMUM)
    level = frame["age_at_index"] < 75
    part = frame[level].reset_index(drop=True)
    counts = part["site"].value_counts()
    pooled = list(counts[counts < MINIMUM].index)
    x, beta, w = sm_overlap_fit(part, COVS, pooled)
    y, t = change[level.to_numpy()], part["treated"].to_numpy(dtype=bool)
    d = weighted_difference(y, t, w)
    # The SE accounts for the estimated model: the stacked equations by numerical derivatives, HC1 factor.
    _, variance, hc0 = stacked_variance(x.to_numpy(dtype=float), t, beta, np.arange(t.size), y)
    n = t.size
    assert d.se**2 == pytest.approx(hc0 * n / (n - 2), rel=1e-9)  # the weights-fixed component
    row = rows[(rows["subgroup"] == "age") & (rows["level"] == "< 75") & (rows["measure"] == "mean_change_difference")]
    assert row["estimate"].iloc[0] == pytest.approx(d.estimate, rel=1e-7)
    assert row["se"].iloc[0] == pytest.approx(math.sqrt(variance * n / (n - 2)), rel=1e-6)
    assert row["ci_lower"].iloc[0] == pytest.approx(d.estimate - 1.959963984540054 * row["se"].iloc[0], rel=1e-9)


def test_categorical_sites_as_loaded_give_the_same_columns_and_skip_absent_categories():
    """The cohort's site column is categorical (codes from SQL); a category without patients in the frame
    (a site absent from a subgroup) is no level: no column, no pooled level made of it."""
    labels = sites(A=40, B=5, C=25, E=11)
    categorical = pd.Series(pd.Categorical(labels, categories=["A", "B", "C", "D", "E"]))
    plain, coded = site_indicators(labels, MINIMUM), site_indicators(categorical, MINIMUM)
    assert list(coded) == list(plain) == ["site: C", "site: E", POOLED_SITE]
    for name in plain:
        assert coded[name].tolist() == plain[name].tolist()
    no_small = pd.Series(pd.Categorical(sites(A=40, C=25), categories=["A", "B", "C"]))
    assert list(site_indicators(no_small, MINIMUM)) == ["site: C"]
