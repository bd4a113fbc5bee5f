"""A row's site is its own site_id (contract revision 2): a drop may hold many sites, and the reconciliation,
the per-site attrition and the data-quality report count each site's rows, never the folder name's."""

from __future__ import annotations

from pipeline.contract import INVALID_SITE
from pipeline.reporting.data_quality import drops as dq_drops
from pipeline.sql import run
from tests.ingest_helpers import ingest, patient, pro, write_drop

SITES = ["7", "clinic.north", "H-12", "K07", "SITE01", "s5", "Z"]


def _network(landing):
    patients, pros = [], []
    for i, site in enumerate(SITES):
        for j in range(i + 1):  # site i has i + 1 patients
            pid = f"{j:07d}"
            patients.append(patient(site_id=site, patient_id=pid))
            pros.append(pro(site_id=site, patient_id=pid))
    # Quarantined rows: a bad code at site Z, an invalid and an identifier-shaped site id.
    patients.append(patient(site_id="Z", patient_id="0009999", sex="X"))
    patients.append(patient(site_id="bad site", patient_id="1"))
    patients.append(patient(site_id="2024-03-05", patient_id="2"))
    folder = write_drop(landing, "2026-05-15_NETWORK", patients, pros)
    # A malformed record (too many fields) has no readable site.
    with (folder / "patients.csv").open("a") as f:
        f.write("Z,0009998,MILD,2020,70,F,,,,,,1,,,,extra\n")
    return folder


def test_a_network_drop_is_counted_per_site(con, landing):
    _network(landing)
    summary = ingest(con, landing)
    (drop,) = summary.drops
    assert drop.status == "ingested"
    rows = con.execute(
        "SELECT site_id, rows_read, accepted, quarantined, duplicates FROM ingest.drop_file_sites "
        "WHERE file = 'patients.csv' ORDER BY site_id"
    ).fetchall()
    expected = {site: (i + 1, i + 1, 0, 0) for i, site in enumerate(SITES)}
    expected["Z"] = (len(SITES) + 1, len(SITES), 1, 0)
    expected[INVALID_SITE] = (3, 0, 3, 0)
    assert {r[0]: r[1:] for r in rows} == expected
    # Per file, the sites add up to drop_files.
    mismatch = con.execute(
        "SELECT count(*) FROM ingest.drop_files f JOIN (SELECT drop_id, version, file, sum(rows_read) AS r, "
        "sum(accepted) AS a, sum(quarantined) AS q, sum(duplicates) AS d FROM ingest.drop_file_sites GROUP BY ALL) s "
        "USING (drop_id, version, file) "
        "WHERE (f.rows_read, f.accepted, f.quarantined, f.duplicates) <> (s.r, s.a, s.q, s.d)"
    ).fetchone()[0]
    assert mismatch == 0
    assert con.execute("SELECT count(DISTINCT file) FROM ingest.drop_file_sites").fetchone()[0] == 2
    # No invalid value is echoed.
    held = {r[0] for r in con.execute("SELECT site_id FROM ingest.drop_file_sites").fetchall()}
    assert "bad site" not in held and "2024-03-05" not in held


def test_duplicates_and_a_second_drop_count_under_their_sites(con, landing):
    write_drop(landing, "2026-01-01_A", [patient(site_id="A", patient_id="1"), patient(site_id="B", patient_id="1")])
    write_drop(landing, "2026-01-02_A", [patient(site_id="A", patient_id="1"), patient(site_id="B", patient_id="2")])
    ingest(con, landing)
    rows = con.execute(
        "SELECT drop_id, site_id, rows_read, accepted, duplicates FROM ingest.drop_file_sites "
        "WHERE file = 'patients.csv' ORDER BY ALL"
    ).fetchall()
    assert rows == [
        ("2026-01-01_A", "A", 1, 1, 0), ("2026-01-01_A", "B", 1, 1, 0),
        ("2026-01-02_A", "A", 1, 0, 1), ("2026-01-02_A", "B", 1, 1, 0),
    ]


def test_attrition_and_data_quality_use_the_rows_sites(con, landing):
    _network(landing)
    ingest(con, landing)
    con.execute("CREATE SCHEMA staging")
    con.execute(
        "CREATE TABLE staging.patients AS SELECT site_id, procedure, true AS in_analysis FROM ingest.current_patients"
    )
    t = run(con, "reporting/attrition_by_site").fetchall()
    read = {site: n for site, step, _detail, n in t if step == "patient_rows_read"}
    quarantined = {site: n for site, step, _detail, n in t if step == "patient_rows_quarantined"}
    assert read == {**{s: i + 1 for i, s in enumerate(SITES)}, "Z": len(SITES) + 1, INVALID_SITE: 3}
    assert quarantined == {**{s: 0 for s in SITES}, "Z": 1, INVALID_SITE: 3}
    assert "NETWORK" not in read
    (drop,) = dq_drops(con)
    assert drop["site"] == f"{len(SITES) + 1} sites: " + ", ".join(sorted([*SITES, INVALID_SITE]))
