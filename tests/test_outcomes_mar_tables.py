"""SAP 3.1 missing follow-up, the tables: eligibility and due-ness worked out by hand on hand-made patients,
the data cut year's default and override, and outcomes.pro_change_mar / satisfaction_mar / tipping_points
against statsmodels' WLS (HC1) on the rows of outcomes.attendance_weights, built by the real SQL."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm

from pipeline.outcomes.attendance import COMPLETE_CASE, IPAW
from pipeline.outcomes.mar import tipping_point
from pipeline.study import load_study
from tests.outcomes_world import STUDY, World, outcome_check

CUT_2022 = load_study(overrides="missing.data_cut_year = 2022")


@pytest.fixture
def world() -> World:
    w = World()
    yield w
    w.con.close()


def set_index_year(world: World, pid: str, year: int) -> None:
    world.con.execute("UPDATE ingest.patients SET index_year = ? WHERE patient_id = ?", [year, pid])


def weights(world: World, pid: str, instrument: str = "ODI") -> dict[str, tuple]:
    """visit -> (eligible, assessed, weight, method) of one patient and instrument."""
    rows = world.rows("SELECT visit, eligible, assessed, weight, method FROM outcomes.attendance_weights"
                      " WHERE patient_id = ? AND instrument = ?", [pid, instrument])
    return {r[0]: r[1:] for r in rows}


def eligible_visits(world: World, pid: str, instrument: str = "ODI") -> list[str]:
    order = [v.name for v in STUDY.visits]
    return sorted((v for v, r in weights(world, pid, instrument).items() if r[0]), key=order.index)


# --- eligibility and due-ness (SAP 3.1) ---

def test_due_by_follow_up_end_or_by_the_data_cut_and_not_dead_or_withdrawn_before_the_window(world):
    # Data cut 2022, index year 2022: due by the calendar while 2022.5 + start / 365.25 <= 2023, i.e. a
    # window starting by day 182 (W6 14, M3 64, M6 136; not M12 271).
    world.patient("CAL")  # baseline only: due by the calendar alone
    world.pro("CAL", -5, "ODI", 40)
    world.patient("FU")  # followed to day 600: due at M12 (271) and M24 (548), not M36 (913)
    world.pro("FU", -5, "ODI", 40)
    world.pro("FU", 365, "ODI", 20)
    world.event("FU", 600, "LAST_CONTACT")
    world.patient("DEAD")  # died on day 100: eligible at W6 and M3 (start 64 < 100), not at M6 (136)
    world.pro("DEAD", -5, "ODI", 40)
    world.event("DEAD", 100, "DEATH")
    world.patient("DEAD136")  # died on M6's first day: not "before the window's start", still eligible
    world.pro("DEAD136", -5, "ODI", 40)
    world.event("DEAD136", 136, "DEATH")
    world.patient("WD")  # withdrawn on day 50: W6 only
    world.pro("WD", -5, "ODI", 40)
    world.event("WD", 50, "WITHDRAWN")
    world.patient("OLD")  # index 2021: 2021.5 + start / 365.25 <= 2023 up to start 547.8: M12 yes, M24 (548) no
    world.pro("OLD", -5, "ODI", 40)
    set_index_year(world, "OLD", 2021)
    world.patient("NOBASE")  # no baseline ODI: never eligible for ODI, but for satisfaction
    world.pro("NOBASE", 365, "ODI", 30)
    world.event("NOBASE", 400, "LAST_CONTACT")
    world.build(CUT_2022)
    assert eligible_visits(world, "CAL") == ["W6", "M3", "M6"]
    assert eligible_visits(world, "FU") == ["W6", "M3", "M6", "M12", "M24"]
    assert eligible_visits(world, "DEAD") == ["W6", "M3"]
    assert eligible_visits(world, "DEAD136") == ["W6", "M3", "M6"]
    assert eligible_visits(world, "WD") == ["W6"]
    assert eligible_visits(world, "OLD") == ["W6", "M3", "M6", "M12"]
    assert eligible_visits(world, "NOBASE") == []
    assert eligible_visits(world, "NOBASE", "SATISFACTION") == ["W6", "M3", "M6", "M12"]
    # Assessed but not eligible (no baseline): a row with eligible false and no weight.
    assert weights(world, "NOBASE")["M12"][:3] == (False, True, None)
    # Assessed and eligible: weighted (here complete case, far fewer than 11 patients, weight 1).
    assert weights(world, "FU")["M12"] == (True, True, 1.0, COMPLETE_CASE)
    assert weights(world, "FU")["M6"] == (True, False, None, COMPLETE_CASE)
    assert outcome_check(world.con, "attendance_weights", "weights_valid", CUT_2022).passed


def test_the_data_cut_year_is_the_latest_drop_year_else_the_latest_index_year_plus_one(world):
    world.patient("A")
    world.pro("A", -5, "ODI", 40)
    set_index_year(world, "A", 2019)
    world.build()  # drop "d1" does not begin with a year: 2019 + 1
    assert world.one("SELECT DISTINCT data_cut_year FROM outcomes.attendance_models") == (2020,)
    world.con.execute("INSERT INTO ingest.drop_versions (drop_id, version, content_sha256, status, ingested_at)"
                      " VALUES ('2024-05-15_SITE01', 1, 's2', 'ingested', now()),"
                      " ('2023-11-15_SITE01', 1, 's3', 'ingested', now()),"
                      " ('2031-01-01_SITE01', 1, 's4', 'rejected', now())")
    world.build()  # the latest ingested drop begins with 2024 (a rejected one does not count)
    assert world.one("SELECT DISTINCT data_cut_year FROM outcomes.attendance_models") == (2024,)
    world.build(load_study(overrides="missing.data_cut_year = 2021"))  # an explicit year overrides
    assert world.one("SELECT DISTINCT data_cut_year FROM outcomes.attendance_models") == (2021,)


def test_no_patients_gives_empty_tables_and_gaps_not_a_failure(world):
    built = world.build()
    assert world.one("SELECT count(*) FROM outcomes.attendance_weights") == (0,)
    assert world.one("SELECT count(*) FROM outcomes.pro_change_mar") == (0,)
    gaps = {g.what: g.reason for g in built["pro_change_mar"].gaps}
    assert gaps["pro_change_mar[MILD]"] == "no MILD patients"
    assert gaps["tipping_point[LAMINECTOMY]"] == "no LAMINECTOMY patients"
    assert outcome_check(world.con, "pro_change_mar", "estimates_valid").passed


# --- the estimates against statsmodels on the table's rows ---

def _cohort(world: World, n: int = 160, seed: int = 5) -> None:
    """Two arms, two sites; baseline, M3 and M12 ODI; M12 attendance depends on the M3 ODI; everyone
    followed past M12 (eligible there)."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        pid, arm = f"P{i:03d}", ("MILD" if i % 3 == 0 else "LAMINECTOMY")
        site = "S1" if i % 4 else "S2"
        world.patient(pid, arm, site=site)
        base = float(np.round(rng.normal(45, 10)))
        m3 = float(np.round(base - 15 + rng.normal(0, 8)))
        world.pro(pid, -5, "ODI", base, site=site)
        world.pro(pid, 91, "ODI", m3, site=site)
        world.pro(pid, 91, "SATISFACTION", float(rng.integers(1, 5)), site=site)
        if rng.random() < 1 / (1 + math.exp(0.08 * (m3 - 30))):
            world.pro(pid, 365, "ODI", float(np.round(m3 + rng.normal(-2, 6))), site=site)
            world.pro(pid, 365, "SATISFACTION", float(rng.integers(1, 5)), site=site)
        world.event(pid, 700, "LAST_CONTACT", site=site)


def test_mar_mean_change_responder_and_satisfaction_rates_are_statsmodels_wls_hc1_of_the_weighted_rows(world):
    _cohort(world)
    world.build()
    methods = dict(world.rows("SELECT instrument || visit, method FROM outcomes.attendance_models"))
    assert methods["ODIM12"] == IPAW and methods["SATISFACTIONM12"] == IPAW
    for arm in ("MILD", "LAMINECTOMY"):
        rows = world.rows(
            "SELECT c.change, c.responder::DOUBLE, a.weight FROM outcomes.attendance_weights a"
            " JOIN outcomes.pro_changes c USING (site_id, patient_id, instrument, visit)"
            " WHERE a.arm = ? AND a.instrument = 'ODI' AND a.visit = 'M12' AND a.eligible AND a.assessed", [arm])
        y, r, w = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
        got = world.one("SELECT mean_change, se, ci_low, ci_high, responder_rate, responder_se, eligible, assessed,"
                        " method FROM outcomes.pro_change_mar WHERE arm = ? AND instrument = 'ODI' AND visit = 'M12'",
                        [arm])
        fit = sm.WLS(y, np.ones(y.size), weights=w).fit(cov_type="HC1")
        assert got[0] == pytest.approx(fit.params[0], rel=1e-9)
        assert got[1] == pytest.approx(fit.bse[0], rel=1e-8)
        assert (got[2], got[3]) == tuple(pytest.approx(v, rel=1e-8) for v in fit.conf_int()[0])
        responder = sm.WLS(r, np.ones(r.size), weights=w).fit(cov_type="HC1")
        assert (got[4], got[5]) == (pytest.approx(responder.params[0], rel=1e-9),
                                    pytest.approx(responder.bse[0], rel=1e-8))
        assert got[7] == y.size and got[6] == world.one(
            "SELECT count(*) FROM outcomes.attendance_weights WHERE arm = ? AND instrument = 'ODI'"
            " AND visit = 'M12' AND eligible", [arm])[0]
        assert got[8] == IPAW
        # The weights are not all 1: this is not the complete-case mean.
        assert np.ptp(w) > 0
        sat = world.rows(
            "SELECT (v.value <= 2)::DOUBLE, a.weight FROM outcomes.attendance_weights a"
            " JOIN staging.pro_visits v USING (site_id, patient_id, instrument, visit)"
            " WHERE a.arm = ? AND a.instrument = 'SATISFACTION' AND a.visit = 'M12' AND a.eligible AND a.assessed",
            [arm])
        s, sw = (np.array(c, dtype=float) for c in zip(*sat, strict=True))
        fit = sm.WLS(s, np.ones(s.size), weights=sw).fit(cov_type="HC1")
        rate, se = world.one("SELECT rate, se FROM outcomes.satisfaction_mar WHERE arm = ? AND visit = 'M12'", [arm])
        assert (rate, se) == (pytest.approx(fit.params[0], rel=1e-9), pytest.approx(fit.bse[0], rel=1e-8))
    assert outcome_check(world.con, "pro_change_mar", "estimates_valid").passed
    assert outcome_check(world.con, "attendance_weights", "weights_valid").passed


def test_the_tipping_points_use_the_share_of_eligible_patients_not_assessed(world):
    _cohort(world)
    world.build()
    rows = world.rows("SELECT arm, visit, estimate, ci_low, ci_high, eligible, assessed, share_unassessed, delta,"
                      " threshold FROM outcomes.tipping_points ORDER BY arm, visit")
    assert {(r[0], r[1]) for r in rows} == {(a, "M12") for a in ("MILD", "LAMINECTOMY")}  # nobody due at M60
    for _, _, estimate, low, high, eligible, assessed, share, delta, threshold in rows:
        assert share == pytest.approx((eligible - assessed) / eligible)
        assert 0 < share < 1 and threshold == 0.0
        assert delta == pytest.approx(-high / share)  # the upper limit (an improvement) moved to 0
        assert delta == pytest.approx(tipping_point(estimate, (low, high), share))
    gaps = dict(world.rows("SELECT what, reason FROM meta.not_estimable WHERE asset = 'pro_change_mar'"))
    assert gaps["tipping_point[MILD][M60]"] == "no patient eligible at M60"


def test_the_complete_case_fall_back_is_the_complete_case_mean(world):
    _cohort(world, n=30)  # fewer than 11 unassessed in some models
    world.build()
    compared = 0
    for arm, visit, method, mean in world.rows(
            "SELECT arm, visit, method, mean_change FROM outcomes.pro_change_mar WHERE instrument = 'ODI'"
            " AND mean_change IS NOT NULL"):
        assert method == COMPLETE_CASE
        compared += 1
        cc = world.one("SELECT mean_change FROM outcomes.pro_change_summary WHERE arm = ? AND instrument = 'ODI'"
                       " AND visit = ?", [arm, visit])[0]
        assert mean == pytest.approx(cc, rel=1e-12)
    assert compared >= 4  # M3 and M12 in both arms
