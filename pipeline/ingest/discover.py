"""Finding drops in the landing directory, and the cheap fingerprint a sensor uses to notice new ones."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.contract import DROP_ID_PATTERN

from .tables import KNOWN_FILES


@dataclass(frozen=True)
class Drop:
    drop_id: str  # the folder name, even when it is not a valid drop id (then the drop is rejected)
    path: Path
    files: dict[str, Path]  # contract file name -> path
    others: dict[str, Path]  # any other file: ignored, unless manifest.json lists it (then it is verified)

    @property
    def valid_id(self) -> bool:
        return re.fullmatch(DROP_ID_PATTERN, self.drop_id) is not None


def _visible(entries: list[os.DirEntry[str]]) -> list[os.DirEntry[str]]:
    return [e for e in entries if not e.name.startswith(".")]


def _folder_name(name: str) -> str:
    # A name that is not valid UTF-8 comes back with surrogate escapes, which no database string can hold.
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def discover_drops(landing: Path) -> list[Drop]:
    """Drop folders in lexicographic order of drop_id (the contract's delivery order)."""
    if not landing.is_dir():
        return []
    with os.scandir(landing) as it:
        folders = [e for e in _visible(list(it)) if e.is_dir()]
    drops = []
    for folder in folders:
        with os.scandir(folder.path) as it:
            present = {e.name: Path(e.path) for e in _visible(list(it)) if e.is_file()}
        files = {n: p for n, p in present.items() if n in KNOWN_FILES}
        others = {n: p for n, p in present.items() if n not in KNOWN_FILES}
        drops.append(Drop(_folder_name(folder.name), Path(folder.path), files, others))
    return sorted(drops, key=lambda d: d.drop_id)


def landing_fingerprint(landing: Path) -> str:
    """Hex digest of the names, sizes and mtimes of the drop folders and their files; contents are not read.

    Cheap enough for a sensor tick: it changes whenever a drop appears, disappears or is rewritten.
    """
    lines: list[str] = []
    if landing.is_dir():
        with os.scandir(landing) as it:
            folders = [e for e in _visible(list(it)) if e.is_dir()]
        for folder in folders:
            st = folder.stat()
            lines.append(f"{_folder_name(folder.name)}/\t{st.st_mtime_ns}")
            with os.scandir(folder.path) as it:
                for entry in _visible(list(it)):
                    if entry.is_file():
                        fst = entry.stat()
                        lines.append(
                            f"{_folder_name(folder.name)}/{_folder_name(entry.name)}\t{fst.st_size}\t{fst.st_mtime_ns}"
                        )
    return hashlib.sha256("\n".join(sorted(lines)).encode("utf-8")).hexdigest()
