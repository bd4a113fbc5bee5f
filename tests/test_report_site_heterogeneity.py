"""results.json `site_heterogeneity` and its report figure from hand-written comparison tables (the numbers
themselves are checked in test_comparison_sites.py and, against metafor, test_comparison_heterogeneity.py)."""

import duckdb
import pytest

from pipeline.comparison.adjusted_tables import typed
from pipeline.comparison.heterogeneity import FEWER_THAN_TWO
from pipeline.comparison.sites import NO_SITE_VARIANCE, too_few_pairs
from pipeline.reporting.figures import site_forest
from pipeline.reporting.results_json import validate
from pipeline.reporting.site_heterogeneity import MEMBERS, plain_words, site_heterogeneity, validate_member
from pipeline.reporting.suppression import Suppressor
from pipeline.study import load_study
from pipeline.warehouse import write_table

S = Suppressor(11)
SITES = [
    {"site": "B", "status": "pooled", "n_treatment": 40, "n_comparator": 50, "estimate": 1.5, "se": 1.0,
     "ci_lower": -0.46, "ci_upper": 3.46},
    {"site": "A", "status": "pooled", "n_treatment": 30, "n_comparator": 31, "estimate": -2.0, "se": 1.5,
     "ci_lower": -4.94, "ci_upper": 0.94},
    {"site": "C", "status": "under_threshold", "n_treatment": 4, "n_comparator": 20, "note": too_few_pairs(11)},
    {"site": "D", "status": "not_estimable", "n_treatment": 20, "n_comparator": 20, "note": NO_SITE_VARIANCE},
]
POOLED = {"instrument": "ODI", "visit": "M12", "method": "REML", "sites_pooled": 2, "sites_under_threshold": 1,
          "sites_not_estimable": 1, "estimate": -0.1, "se": 1.7, "ci_lower": -21.7, "ci_upper": 21.5, "tau2": 5.1,
          "i2": 0.7, "typical_variance": 1.6, "pi_lower": -40.0, "pi_upper": 39.8, "df": 1, "not_estimable": None}


def _warehouse(sites: list[dict], pooled: dict) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA comparison")
    write_table(con, "comparison.site_estimates", typed("site_estimates", sites))
    write_table(con, "comparison.site_heterogeneity", typed("site_heterogeneity", [pooled]))
    return con


def test_the_member_has_the_contract_fields_and_only_pooled_sites():
    member = site_heterogeneity(_warehouse(SITES, POOLED), load_study(), S)
    assert validate_member({"site_heterogeneity": member}) == []
    assert set(MEMBERS) <= set(member)
    assert [s["site"] for s in member["sites"]] == ["A", "B"]
    assert member["sites"][0] == {"site": "A", "estimate": -2.0, "ci": [-4.94, 0.94]}
    assert (member["estimate"], member["ci"], member["tau2"], member["i2"], member["prediction_interval"]) == (
        -0.1, [-21.7, 21.5], 5.1, 0.7, [-40.0, 39.8])
    assert "sites_under_threshold" not in member and "sites_not_estimable" not in member  # no count 1-10
    assert member["left_out"] == [{"site": "C", "reason": too_few_pairs(11)}, {"site": "D", "reason": NO_SITE_VARIANCE}]
    assert "n_treatment" not in str(member)  # no patient count per site is published


def test_a_small_count_withholds_a_site_estimate_even_if_a_table_claimed_it_pooled():
    sites = [dict(SITES[0], n_comparator=5), SITES[1]]
    member = site_heterogeneity(_warehouse(sites, POOLED), load_study(), S)
    assert member["sites"][1] == {"site": "B", "estimate": None, "ci": None}


def test_not_estimable_publishes_nulls_and_validates():
    pooled = {k: v for k, v in POOLED.items() if k in ("instrument", "visit", "method")} | {
        "sites_pooled": 1, "sites_under_threshold": 0, "sites_not_estimable": 0, "not_estimable": FEWER_THAN_TWO}
    member = site_heterogeneity(_warehouse(SITES[:1], pooled), load_study(), S)
    assert member["estimate"] is None and member["ci"] is None and member["prediction_interval"] is None
    assert validate_member({"site_heterogeneity": member}) == [] and plain_words(member, 11) == []


def test_without_the_comparison_tables_the_member_is_null_and_the_document_still_validates():
    con = duckdb.connect()
    assert site_heterogeneity(con, load_study(), S) is None
    assert validate_member({"site_heterogeneity": None}) == []
    assert "missing member site_heterogeneity" in validate({})
    assert "site_heterogeneity.sites missing" in validate({"site_heterogeneity": {"estimate": 1.0}})


def test_plain_words_explain_i2_and_the_prediction_interval_and_two_sites():
    member = site_heterogeneity(_warehouse(SITES, POOLED), load_study(), S)
    words = " ".join(plain_words(member, 11))
    assert "I² is the share" in words and "prediction interval is where" in words
    assert "only two sites" in words and "fewer than 11 patients" in words


def test_forest_figure_has_sites_a_pooled_diamond_and_the_prediction_interval():
    member = site_heterogeneity(_warehouse(SITES, POOLED), load_study(), S)
    fig = site_forest(member)
    sites, diamond, pi = fig.data
    assert list(sites.x) == [-2.0, 1.5] and list(sites.error_x.array) == pytest.approx([2.94, 1.96])
    assert list(diamond.x) == [-21.7, -0.1, 21.5, -0.1, -21.7] and diamond.fill == "toself"
    assert list(pi.x) == [-40.0, 39.8]
    assert list(fig.layout.yaxis.ticktext) == ["A", "B", "pooled", "prediction interval"]
