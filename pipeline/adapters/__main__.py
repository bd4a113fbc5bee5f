"""python -m pipeline.adapters redcap|fhir --mapping site.toml (--export DIR | --fhir DIR) --landing DIR

Builds one contract drop under --landing (temporary folder, then a rename, manifest.json last) and writes the
side report (counts and mapping names only) to --report, by default <landing>/<drop_id>.adapter-report.json,
a file the ingest ignores.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

from pipeline.adapters.common import MappingError
from pipeline.adapters.drop import Conversion, default_drop_id, drop_files, write_drop, write_report


def load_mapping(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path.name}: not valid TOML ({exc})") from exc


def convert(kind: str, mapping: dict, source: Path) -> Conversion:
    if kind == "redcap":
        from pipeline.adapters import redcap

        return redcap.run(source, mapping)
    from pipeline.adapters import fhir

    return fhir.run(source, mapping)


def build(kind: str, mapping_path: Path, source: Path, landing: Path, drop_id: str | None = None,
          report_path: Path | None = None) -> tuple[Path, Conversion]:
    """Convert and place the drop; returns its folder and the conversion (with its report)."""
    mapping = load_mapping(mapping_path)
    if mapping.get("format", kind) != kind:
        raise MappingError(f"format: the mapping is for {mapping['format']!r}, not {kind!r}")
    conv = convert(kind, mapping, source)
    if not conv.report.balanced():
        raise RuntimeError("adapter reconciliation does not balance (a bug): no drop written")
    site = str(mapping.get("site_id", "network"))
    drop_id = drop_id or default_drop_id(site, kind, drop_files(conv))
    folder = write_drop(conv, landing, drop_id)
    write_report(conv.report, report_path or landing / f"{drop_id}.adapter-report.json", drop_id)
    return folder, conv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.adapters", description=__doc__.split("\n")[0])
    parser.add_argument("kind", choices=["redcap", "fhir"])
    parser.add_argument("--mapping", type=Path, required=True)
    parser.add_argument("--export", type=Path, help="REDCap export folder")
    parser.add_argument("--fhir", type=Path, help="folder of FHIR JSON (Bundles, resources, NDJSON)")
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--drop-id")
    parser.add_argument("--report", type=Path)
    args = parser.parse_args(argv)
    source = args.export if args.kind == "redcap" else args.fhir
    if source is None:
        parser.error("--export DIR is required for redcap" if args.kind == "redcap" else
                     "--fhir DIR is required for fhir")
    try:
        folder, conv = build(args.kind, args.mapping, source, args.landing, args.drop_id, args.report)
    except MappingError as exc:
        print(f"mapping error: {exc}", file=sys.stderr)
        return 2
    rows = conv.report.rows
    print(f"wrote {folder} ({rows.get('patients', 0)} patients, {rows.get('pro_responses', 0)} PRO rows, "
          f"{rows.get('events', 0)} events)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
