"""The generator's visit-missingness mechanisms (--missing mcar | mnar) and the pre-dropout truth."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pytest

from pipeline.study import load_study
from sample_data import model as M
from sample_data.cohort import make_cohort
from sample_data.followup import make_follow_up
from sample_data.generate import DEFAULT_AS_OF, Options, generate
from sample_data.pros import INSTRUMENTS, make_pros
from sample_data.truth_pro import pro_truth

SEED = 20261123
ODI = INSTRUMENTS.index("ODI")


def _world(n: int, missing: str, seed: int = SEED):
    """The generator's first steps, in process, as generate() runs them."""
    study = load_study()
    rng = np.random.default_rng(seed)
    cohort = make_cohort(rng, n, DEFAULT_AS_OF)
    fu = make_follow_up(rng, cohort, DEFAULT_AS_OF, 2, protocol_end=study.visits[-1].end)
    attendance = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(M.ATTENDANCE_STREAM,)))
    pros = make_pros(rng, cohort, fu, study, missing, attendance)
    return study, cohort, fu, pros


@pytest.fixture(scope="module")
def large():
    """40,000 patients under both mechanisms (same main stream)."""
    return {m: _world(40_000, m) for m in ("mcar", "mnar")}


def _visit_odi(cohort, pros, visit) -> tuple[np.ndarray, np.ndarray]:
    """Per patient: baseline ODI and the delivered ODI at the visit (NaN when none)."""
    c = pros.cols
    odi = (c["instrument"] == ODI) & c["delivered"]
    base, at = np.full(cohort.n, np.nan), np.full(cohort.n, np.nan)
    pre = odi & (c["day"] >= -90) & (c["day"] <= 0)
    base[c["pid"][pre]] = c["value"][pre]
    win = odi & (c["day"] >= visit.start) & (c["day"] <= visit.end)
    at[c["pid"][win]] = c["value"][win]
    return base, at


def test_main_stream_values_are_identical_and_mnar_only_withholds_rows(large):
    _, _, _, mcar = large["mcar"]
    _, _, _, mnar = large["mnar"]
    for column in ("pid", "day", "instrument", "value", "unit"):
        assert np.array_equal(mcar.cols[column], mnar.cols[column]), column
    assert mcar.cols["delivered"].all()
    withheld = ~mnar.cols["delivered"]
    assert withheld.any()
    assert (mnar.cols["day"][withheld] >= 14).all()  # only post-baseline visits are thinned


def test_mcar_attendance_does_not_depend_on_the_odi(large):
    study, cohort, fu, pros = large["mcar"]
    m60 = study.visits[-1]
    base, at = _visit_odi(cohort, pros, m60)
    reach = (cohort.arm < 2) & (fu.observed_until(1) >= m60.start) & ~np.isnan(base)
    high = base >= np.median(base[reach])
    p_high, p_low = (~np.isnan(at[reach & high])).mean(), (~np.isnan(at[reach & ~high])).mean()
    se = np.sqrt(p_high * (1 - p_high) / (reach & high).sum() + p_low * (1 - p_low) / (reach & ~high).sum())
    assert abs(p_high - p_low) < 4 * se, (p_high, p_low, se)


def test_mnar_attendance_falls_with_a_worse_odi_more_so_after_mild(large):
    study, cohort, fu, pros = large["mnar"]
    m12 = study.visits[4]
    assert m12.name == "M12"
    base, at = _visit_odi(cohort, pros, m12)
    c = pros.cols  # most recent delivered visit ODI before the window (baseline or W6 ... M6)
    prior = (c["instrument"] == ODI) & c["delivered"] & (c["day"] < m12.start) & ((c["day"] <= 0) | (c["day"] >= 14))
    order = np.lexsort((c["day"][prior], c["pid"][prior]))
    last = np.full(cohort.n, np.nan)
    last[c["pid"][prior][order]] = c["value"][prior][order]  # the last assignment per patient wins
    reach = (fu.observed_until(1) >= m12.start) & ~np.isnan(last)
    gaps = {}
    for code, arm in enumerate(M.ARMS):
        sel = reach & (cohort.arm == code)
        high = last >= np.median(last[sel])
        gaps[arm] = (~np.isnan(at[sel & ~high])).mean() - (~np.isnan(at[sel & high])).mean()
    assert gaps["LAMINECTOMY"] > 0.02 and gaps["MILD"] > gaps["LAMINECTOMY"], gaps


def test_mnar_complete_case_m60_change_is_too_favourable(large):
    """Patients who fare badly stop answering: the complete-case mean ODI change at M60 is lower (better)
    than the pre-dropout truth over the eligible patients, more so after MILD; under mcar it is not.
    The mnar pairs are a subset of the mcar pairs (same values), so their difference isolates the
    selection with little noise."""
    changes, truths = {}, {}
    for mechanism, (study, cohort, fu, pros) in large.items():
        truth = pro_truth(cohort, fu, pros, study, cut_year=DEFAULT_AS_OF.year)["arms"]
        base, at = _visit_odi(cohort, pros, study.visits[-1])
        for code, arm in enumerate(M.ARMS):
            pairs = (cohort.arm == code) & ~np.isnan(base) & ~np.isnan(at)
            changes[mechanism, arm] = (at - base)[pairs]
            truths[arm] = truth[arm]["ODI"]["M60"]["mean_change"]
    shift = {}
    for arm in M.ARMS:
        full, kept = changes["mcar", arm], changes["mnar", arm]
        se = full.std(ddof=1) / np.sqrt(full.size)
        assert abs(full.mean() - truths[arm]) < 4 * se, (arm, full.mean(), truths[arm], se)
        paired_se = full.std(ddof=1) * np.sqrt(1 / kept.size - 1 / full.size)
        shift[arm] = (kept.mean() - full.mean(), paired_se)
    assert shift["MILD"][0] < -3 * shift["MILD"][1], shift
    assert shift["MILD"][0] < shift["LAMINECTOMY"][0] < 0, shift
    assert changes["mnar", "MILD"].mean() < truths["MILD"]


def test_pre_dropout_truth_matches_a_monte_carlo_draw_of_the_visit(large):
    """The closed forms of truth_pro against direct simulation of the visit for every eligible patient
    (independent route: draw X, round, clip, average)."""
    from sample_data.pros import _clip_round, latent_mean, satisfaction_eta

    study, cohort, fu, pros = large["mnar"]
    truth = pro_truth(cohort, fu, pros, study, cut_year=DEFAULT_AS_OF.year)["arms"]
    from sample_data.truth_pro import eligible
    rng = np.random.default_rng(5)
    visit = study.visits[4]
    reps = 20
    for code, arm in enumerate(M.ARMS):
        for instrument in ("ODI", "ZCQ_SYMPTOM", "WALK_DISTANCE"):
            sel = eligible(cohort, fu, pros, visit.start, DEFAULT_AS_OF.year, instrument) & (cohort.arm == code)
            p = M.PRO_CHANGE[instrument]
            m = latent_mean(cohort, instrument, visit.name, float(code))[sel]
            x = m[None, :] + rng.normal(0, p["sd_e"], (reps, m.size))
            base = cohort.baseline[instrument][sel][None, :]
            if p.get("log"):
                value = np.clip(np.exp(x), *M.LOG_LIMITS[instrument])
                responder = value - base >= 0.3 * base
            else:
                value = _clip_round(instrument, x)
                threshold = {"ODI": 10, "ZCQ_SYMPTOM": 0.5}[instrument]
                responder = base - value >= threshold - 1e-9
            t = truth[arm][instrument][visit.name]
            change = value - base
            se = change.std() / np.sqrt(change.size)
            assert abs(change.mean() - t["mean_change"]) < 4 * se, (arm, instrument, change.mean(), t)
            r = responder.mean()
            assert abs(r - t["responder_probability"]) < 4 * np.sqrt(r * (1 - r) / responder.size), (arm, instrument)
        sel = eligible(cohort, fu, pros, visit.start, DEFAULT_AS_OF.year, None) & (cohort.arm == code)
        eta = satisfaction_eta(cohort, visit.name, float(code))[sel]
        theta = np.asarray(M.SATISFACTION["theta"])
        u = rng.random((reps, eta.size))
        nass = 1 + (u[..., None] > 1 / (1 + np.exp(-(theta[None, None, :] - eta[None, :, None])))).sum(axis=-1)
        s = (nass <= 2).mean()
        t = truth[arm]["SATISFACTION"][visit.name]["satisfied_probability"]
        assert abs(s - t) < 4 * np.sqrt(s * (1 - s) / nass.size), (arm, s, t)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = {}
    for name, missing in (("mnar", "mnar"), ("mnar_again", "mnar"), ("mcar", "mcar")):
        root = tmp_path_factory.mktemp(name)
        opt = Options(patients=400, seed=3, landing=root / "landing", truth=root / "truth.json",
                      parquet_sites={"SITE05"}, missing=missing)
        generate(opt)
        out[name] = (opt.landing, json.loads(opt.truth.read_text()), opt.truth.read_bytes())
    return out


def test_mnar_same_seed_gives_byte_identical_files(small):
    assert _files(small["mnar"][0]) == _files(small["mnar_again"][0])
    assert small["mnar"][2] == small["mnar_again"][2]


def test_other_tables_identical_between_mechanisms_and_pro_rows_a_subset(small):
    mnar, mcar = _files(small["mnar"][0]), _files(small["mcar"][0])
    assert mnar.keys() == mcar.keys()
    for name in mnar:
        if "pro_responses" not in name and "manifest" not in name:
            assert mnar[name] == mcar[name], name
    con = duckdb.connect()
    counts = {}
    for mechanism in ("mnar", "mcar"):
        landing = small[mechanism][0]
        csv = f"read_csv('{landing}/*/pro_responses.csv', all_varchar=true, null_padding=true, ignore_errors=true)"
        pq = (f"(SELECT * REPLACE (CAST(days_from_index AS VARCHAR) AS days_from_index, CAST(value AS VARCHAR) "
              f"AS value) FROM read_parquet('{landing}/*/pro_responses.parquet'))")
        con.execute(f"CREATE TABLE {mechanism} AS SELECT site_id, patient_id, days_from_index, instrument, value, "
                    f"unit FROM {csv} UNION ALL SELECT site_id, patient_id, days_from_index, instrument, value, "
                    f"unit FROM {pq}")
        counts[mechanism] = con.execute(f"SELECT count(*) FROM {mechanism}").fetchone()[0]
    assert counts["mnar"] < counts["mcar"]
    # Every row mnar writes, mcar writes too, with the same value; except a corrected ODI row (its wrong
    # earlier value) when the row mcar corrects is one mnar withholds and mnar corrects another.
    extra = con.execute("SELECT count(*) FROM (SELECT * FROM mnar EXCEPT SELECT * FROM mcar)").fetchone()[0]
    mnar_truth, mcar_truth = small["mnar"][1], small["mcar"][1]
    corrections = sum(c["superseded"] for files in mnar_truth["expected_ingest"].values()
                      for name, c in files.items() if name.startswith("pro_responses"))
    assert extra <= corrections, (extra, corrections)
    assert mnar_truth["truth"]["arms"] == mcar_truth["truth"]["arms"]
    assert mnar_truth["expected_ingest"].keys() == mcar_truth["expected_ingest"].keys()
    for drop, files in mnar_truth["expected_ingest"].items():
        for name, counts_ in files.items():
            if not name.startswith("pro_responses"):
                assert counts_ == mcar_truth["expected_ingest"][drop][name], (drop, name)
