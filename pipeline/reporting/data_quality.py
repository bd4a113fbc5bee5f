"""data_quality.json (results contract, second part) and the context of the data-quality report.

Row counts of ingest are not patient counts and are not suppressed (contract); patient counts (completeness,
patients per site) are suppressed as everywhere else. A drop folder rejected for its name may be named
anything, an identifier included, so such a name is never echoed.
"""

import re
from typing import Any

import duckdb

from pipeline.contract import DROP_ID_PATTERN, DROP_REJECTION_CODES, REASON_CODES
from pipeline.outcomes.intervals import wilson_interval
from pipeline.reporting.common import count, interval, number, read, table_exists
from pipeline.reporting.suppression import Suppressor
from pipeline.sql import query, run
from pipeline.study import Study

CONTRACT_VERSION = "1"
HIDDEN_NAME = "(rejected folder name)"
# Every drop version (ingested or rejected) with its status and reason, in delivery order; and per drop version
# and file the row accounting of ingest (rows, not patients).
DROP_VERSIONS = ("SELECT drop_id, version, status, reason_code, reason, superseded_by, ingested_at "
                 "FROM ingest.drop_versions ORDER BY drop_id, version")
DROP_FILES = ("SELECT drop_id, version, file, table_name, rows_read, accepted, quarantined, duplicates, superseded "
              "FROM ingest.drop_files ORDER BY drop_id, version, file")


def safe_drop_id(drop_id: str) -> str:
    return drop_id if re.fullmatch(DROP_ID_PATTERN.strip("^$"), drop_id or "") else HIDDEN_NAME


def site_of(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, int], str]:
    """The sites of each drop version, (drop_id, version) -> "SITE01" or "3 sites: SITE01, SITE02, SITE03".

    A row's site is its own site_id (ingest.drop_file_sites): a drop may hold the rows of many sites and its
    folder name says nothing about them. Rows whose site_id is invalid count as "(invalid site id)". A drop
    version without rows (rejected, or ingested before per-site counts existed) has no entry."""
    if not table_exists(con, "ingest.drop_file_sites"):
        return {}
    out = {}
    for drop_id, version, sites in run(con, "reporting/drop_sites").fetchall():
        out[(drop_id, int(version))] = sites[0] if len(sites) == 1 else f"{len(sites)} sites: {', '.join(sites)}"
    return out


def drops(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    if not table_exists(con, "ingest.drop_versions"):
        return []
    versions = con.execute(DROP_VERSIONS).df()
    files = con.execute(DROP_FILES).df()
    reasons = query(con, "reporting/quarantine_by_file")
    sites = site_of(con)
    by_file: dict[tuple, dict[str, int]] = {}
    for r in reasons.itertuples():
        by_file.setdefault((r.drop_id, int(r.version), r.file), {})[r.reason_code] = int(r.rows)
    out = []
    for v in versions.itertuples():
        fs = files[(files["drop_id"] == v.drop_id) & (files["version"] == v.version)]
        reason = None
        if v.status != "ingested":
            reason = v.reason if isinstance(v.reason, str) else DROP_REJECTION_CODES.get(v.reason_code, v.reason_code)
            if v.reason_code == "invalid_drop_id":
                reason = DROP_REJECTION_CODES.get("invalid_drop_id", "invalid drop folder name")
        out.append({
            "drop_id": safe_drop_id(v.drop_id), "version": int(v.version),
            "site": sites.get((v.drop_id, int(v.version))),
            "status": v.status, "reason": reason,
            "reason_code": v.reason_code if isinstance(v.reason_code, str) else None,
            "superseded_by": count(v.superseded_by),
            "files": [{"file": f.file, "rows_read": int(f.rows_read), "accepted": int(f.accepted),
                       "quarantined": int(f.quarantined), "duplicates": int(f.duplicates),
                       "superseded": int(f.superseded),
                       "quarantine_reasons": by_file.get((v.drop_id, int(v.version), f.file), {})}
                      for f in fs.itertuples()],
        })
    if table_exists(con, "ingest.drop_log"):
        for r in query(con, "reporting/skipped_drops").itertuples():
            matched = "rejected" if r.matched_status == "rejected" else f"replaced by version {count(r.superseded_by)}"
            out.append({"drop_id": safe_drop_id(r.drop_id), "version": None,
                        "site": sites.get((r.drop_id, count(r.matched_version))),
                        "status": "skipped", "reason": f"identical to version {count(r.matched_version)}, which was "
                        f"{matched}: not applied again", "reason_code": None, "superseded_by": None, "files": []})
    if table_exists(con, "ingest.waiting_drops"):
        # Still being copied when the refresh looked (no manifest.json, a file changed within the settling
        # time): left for a later refresh, not a drop version.
        waiting = con.execute("SELECT drop_id, reason FROM ingest.waiting_drops ORDER BY drop_id").fetchall()
        for drop_id, reason in waiting:
            out.append({"drop_id": safe_drop_id(drop_id), "version": None, "site": None, "status": "waiting",
                        "reason": reason, "reason_code": None, "superseded_by": None, "files": []})
    return out


def completeness(con: duckdb.DuckDBPyConnection, study: Study, s: Suppressor) -> list[dict]:
    t = read(con, "outcomes.follow_up_completeness", "WHERE instrument = ?", [study.completeness_instrument])
    out = []
    for r in t.sort_values(["arm_role", "visit_ordinal"], ascending=[False, True]).itertuples() if not t.empty else []:
        n, k, ok = s.proportion(r.n, r.assessed)
        out.append({"arm": r.arm, "visit": r.visit, "n": n, "assessed": k, "rate": number(r.rate) if ok else None,
                    "ci": interval(r.ci_lower, r.ci_upper) if ok else None})
    return out


def completeness_by_cut(con: duckdb.DuckDBPyConnection, study: Study, s: Suppressor) -> list[dict]:
    """Completeness per arm and visit as the data stood after each drop (sql/reporting/completeness_by_cut.sql).

    Only rates and CIs are published: the patient counts of consecutive cuts would give, by subtraction, the
    small number of patients one drop added. A rate is withheld under the proportion rule of its own cut."""
    # Every table the query reads: after a failed step (a blocking check of staging.patients, say) the report is
    # published from a warehouse where later staging tables were never built.
    needed = ("ingest.drop_versions", "staging.patients", "staging.pro_visits", "staging.visit_windows")
    if not all(table_exists(con, table) for table in needed):
        return []
    t = query(con, "reporting/completeness_by_cut", instrument=study.completeness_instrument)
    if t.empty:
        return []
    lower, upper = wilson_interval(t["assessed"], t["n"])
    out = []
    for r, lo, hi in zip(t.itertuples(), lower, upper, strict=True):
        ok = not s.proportion_hidden(r.n, r.assessed)
        out.append({"cut": int(r.cut), "drop_id": safe_drop_id(r.drop_id), "arm": r.arm, "visit": r.visit,
                    "rate": number(r.assessed / r.n) if ok else None, "ci": interval(lo, hi) if ok else None})
    return out


def assemble_data_quality(con: duckdb.DuckDBPyConnection, study: Study, provenance: dict) -> dict[str, Any]:
    """data_quality.json: the contract's members, plus `completeness` (per visit, today) and
    `completeness_by_cut` (per visit after each drop); the contract allows added members."""
    s = Suppressor(study.suppression_threshold)
    return {
        "contract_version": CONTRACT_VERSION,
        "provenance": dict(provenance),
        "drops": drops(con),
        "completeness": {"instrument": study.completeness_instrument, "target": study.completeness_minimum,
                         "visits": completeness(con, study, s)},
        "completeness_by_cut": completeness_by_cut(con, study, s),
    }


def site_table(con: duckdb.DuckDBPyConnection, study: Study, s: Suppressor) -> list[tuple[str, list]]:
    """Analysis population by site and arm, with totals, small and complementary cells suppressed."""
    by_site = query(con, "reporting/patients_by_site_arm")
    if by_site.empty:
        return []
    table = by_site.pivot_table(index="site_id", columns="procedure", values="patients", aggfunc="sum",
                                fill_value=0).reindex(columns=list(study.arms), fill_value=0)
    out = s.table(table)
    return [(str(label), list(row)) for label, row in out.iterrows()]


def reason_meanings() -> dict[str, str]:
    return dict(REASON_CODES)
