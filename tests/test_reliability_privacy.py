"""Planted identifiers never leave the landing: not in a published file, a log line, the Dagster event log,
asset or check metadata, nor any analysis table of the warehouse.

A generated landing gets three extra drops: one whose rows hold names, phone numbers, e-mails, SSNs, dates,
URLs, IP addresses, ZIP codes and MRNs in every kind of text field (and in numeric fields), one with a column
named after a person, and one whose folder name is an e-mail address. The whole nightly job runs on it with
a temporary Dagster instance; then everything it produced is searched for the planted strings.
"""

import logging

import dagster as dg
import duckdb
import pytest
from dagster._serdes import serialize_value

from tests.hostile.runs import generated_landing, run_job, settings_for
from tests.ingest_helpers import csv_text, event, patient, pro, write_drop

pytestmark = pytest.mark.slow

SITE = "PV"
# Each planted value, and where it goes. Every one is an identifier pattern of the contract.
PLANTED_ROWS = {
    "patients": [
        patient(site_id=SITE, patient_id="PV01"),
        patient(site_id=SITE, patient_id="PV02", sex="SSN 219-09-9999"),
        patient(site_id=SITE, patient_id="PV03", procedure="https://portal.example.org/chart/zq"),
        patient(site_id=SITE, patient_id="PV04", anesthesia="seen 5 March 2024"),
        # Keys are judged by their whole value (contract revision 2): a phone number, a date.
        patient(site_id=SITE, patient_id="212-555-0147"),
        patient(site_id="1961.07.04", patient_id="PV05"),
        patient(site_id=SITE, patient_id="PV06", bmi="zeb.quack2@example.org"),
        patient(site_id=SITE, patient_id="PV07", smoker="10.20.30.41"),
    ],
    "pro_responses": [
        pro(site_id=SITE, patient_id="PV01"),
        pro(site_id=SITE, patient_id="PV01", days_from_index="180", unit="ottoline@example.net"),
        pro(site_id=SITE, patient_id="PV01", days_from_index="365", instrument="MRN: QX77812"),
        pro(site_id=SITE, patient_id="PV01", days_from_index="42", value="03/05/2024"),
    ],
    "events": [
        event(site_id=SITE, patient_id="PV01"),
        event(site_id=SITE, patient_id="PV01", days_from_index="30", detail="call Zebulon on 617-555-0199"),
        event(site_id=SITE, patient_id="PV01", days_from_index="31", detail="at 02139, see www.zq-home.example"),
        event(site_id=SITE, patient_id="PV01", days_from_index="32", detail="seen 2024-03-05 by Dr Quackenbush"),
        event(site_id=SITE, patient_id="PV01", event="MRN 55123"),
    ],
}
EXTRA_HEADER = "Ottoline Featherstonehaugh"  # not an identifier word: an ignored extra column
IDENTIFIER_HEADER = "Quackenbush name"  # an identifier column: the drop is rejected
EMAIL_FOLDER = "2026-12-03_zebulon.quackenbush@example.org"
# Short digit runs are searched with their context: "55123" alone turns up inside unrelated numbers.
NEEDLES = [
    "219-09-9999", "portal.example.org", "5 March 2024", "212-555-0147", "1961.07.04", "zeb.quack2", "10.20.30.41",
    "ottoline@example.net", "QX77812", "617-555-0199", "at 02139", "zq-home", "2024-03-05", "Quackenbush",
    "Zebulon", "Ottoline", "Featherstonehaugh", "03/05/2024", "MRN 55123", "Bartholomew",
]


def _plant(landing):
    folder = write_drop(landing, "2026-12-01_PV", PLANTED_ROWS["patients"], PLANTED_ROWS["pro_responses"],
                        PLANTED_ROWS["events"])
    cols = [*csv_text("patients", []).strip().split(","), EXTRA_HEADER]
    rows = [{**r, EXTRA_HEADER: "Bartholomew Zebulon"} for r in PLANTED_ROWS["patients"]]
    (folder / "patients.csv").write_text(csv_text("patients", rows, columns=cols))
    rejected = write_drop(landing, "2026-12-02_PV", [patient(site_id=SITE, patient_id="PV09")])
    cols = [*csv_text("patients", []).strip().split(","), IDENTIFIER_HEADER]
    (rejected / "patients.csv").write_text(csv_text(
        "patients", [{**patient(site_id=SITE, patient_id="PV09"), IDENTIFIER_HEADER: "Zebulon"}], columns=cols))
    write_drop(landing, EMAIL_FOLDER, [patient(site_id=SITE, patient_id="PV10")])


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


def _hits(text: str) -> list[str]:
    low = text.lower()
    return [n for n in NEEDLES if n.lower() in low]


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("privacy")
    landing = generated_landing(root / "landing", patients=100, seed=11, deliveries="2026-05")
    _plant(landing)
    settings = settings_for(root, landing)
    instance = dg.DagsterInstance.ephemeral()
    collect = _Collect()
    loggers = [logging.getLogger(), logging.getLogger("dagster"), logging.getLogger("pipeline")]
    old_levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(collect)
        lg.setLevel(logging.DEBUG)
    try:
        result = run_job(settings, instance)
    finally:
        for lg, level in zip(loggers, old_levels, strict=True):
            lg.removeHandler(collect)
            lg.setLevel(level)
    return {"root": root, "settings": settings, "instance": instance, "result": result, "logs": collect.lines}


def test_the_run_succeeds_and_the_planted_rows_are_refused(planted_run):
    assert planted_run["result"].success
    with duckdb.connect(str(planted_run["settings"].warehouse), read_only=True) as con:
        status = dict(con.execute("SELECT drop_id, reason_code FROM ingest.drop_versions "
                                  "WHERE drop_id LIKE '2026-12%'").fetchall())
        kinds = con.execute("SELECT reason_code, count(*) FROM ingest.quarantine WHERE drop_id = '2026-12-01_PV' "
                            "GROUP BY ALL").fetchall()
    assert status == {"2026-12-01_PV": None, "2026-12-02_PV": "identifier_column", EMAIL_FOLDER: "invalid_drop_id"}
    assert dict(kinds)["identifier_in_text"] == 14


def test_no_planted_string_in_any_published_file(planted_run):
    reports = planted_run["settings"].reports
    files = [p for p in reports.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert _hits(path.read_bytes().decode("utf-8", "replace")) == [], path


def test_no_planted_string_in_any_log_line(planted_run, capfd):
    assert planted_run["logs"]
    assert _hits("\n".join(planted_run["logs"])) == []
    out, err = capfd.readouterr()
    assert _hits(out + err) == []


def test_no_planted_string_in_the_dagster_event_log_or_metadata(planted_run):
    instance, run_id = planted_run["instance"], planted_run["result"].run_id
    entries = instance.all_logs(run_id)
    assert len(entries) > 50
    # The serialized entries hold every message, every asset materialization's and check's metadata.
    for entry in entries:
        assert _hits(serialize_value(entry)) == [], (entry.dagster_event_type, entry.step_key)
    for key in planted_run["result"].get_asset_materialization_events():
        assert _hits(serialize_value(key.materialization.metadata)) == []


def test_no_planted_string_beyond_the_ingest_audit_of_the_folder_name(planted_run):
    """Every text value of every warehouse table. The one exception, by design (docs/ingest.md): the name of
    a folder rejected as `invalid_drop_id` is recorded as its drop_id in the ingest audit tables."""
    with duckdb.connect(str(planted_run["settings"].warehouse), read_only=True) as con:
        cols = con.execute("SELECT schema_name, table_name, column_name FROM duckdb_columns() "
                           "WHERE data_type = 'VARCHAR' AND NOT internal").fetchall()
        for schema, table, column in cols:
            if schema == "ingest" and column == "drop_id":
                continue
            values = con.execute(f'SELECT DISTINCT "{column}" FROM "{schema}"."{table}" '
                                 f'WHERE "{column}" IS NOT NULL').fetchall()
            assert _hits("\n".join(v for (v,) in values)) == [], f"{schema}.{table}.{column}"
