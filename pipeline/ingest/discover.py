"""Finding drops in the landing directory, and the cheap fingerprint a sensor uses to notice new ones."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.contract import DROP_ID_PATTERN

from .tables import KNOWN_FILES, MANIFEST


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


def waiting_reason(folder: Path, *, settle_seconds: float, now: float) -> str | None:
    """Why a drop folder is not taken yet (still being copied), or None when it is complete.

    Complete (data contract): it holds manifest.json, which the sender writes last, or neither the folder nor
    any entry in it (hidden ones included: copy tools write to hidden temporary files) changed for
    `settle_seconds`. A change is the later of an entry's ctime and mtime; ctime is set by this machine's
    clock whatever the copy tool does with mtime, and an mtime in the future (a sender's clock) is ignored.
    The reason holds no name and no value, only ages in seconds.
    """
    if settle_seconds <= 0:
        return None
    try:
        entries = [os.stat(folder)]
        with os.scandir(folder) as it:
            for entry in it:
                if entry.name == MANIFEST and entry.is_file():
                    return None
                entries.append(entry.stat(follow_symlinks=False))
    except FileNotFoundError:
        return "the drop folder disappeared while it was looked at"
    changed = max(st.st_ctime if st.st_mtime > now else max(st.st_ctime, st.st_mtime) for st in entries)
    age = max(now - changed, 0.0)
    if age >= settle_seconds:
        return None
    return (
        f"still being copied: a file changed {age:.0f} s ago; taken once nothing changed for {settle_seconds:g} s "
        f"or {MANIFEST} is present"
    )


def drop_digests(landing: Path, *, settle_seconds: float, now: float) -> tuple[dict[str, str], set[str]]:
    """For a sensor: ({folder key: digest} of the complete drops, {folder key} of those still being copied).

    Keys and digests are SHA-256 prefixes of the folder name and of the names, sizes and mtimes of its files,
    so nothing delivered is held. Only the file system is read.
    """
    ready: dict[str, str] = {}
    waiting: set[str] = set()
    if not landing.is_dir():
        return ready, waiting
    with os.scandir(landing) as it:
        folders = [e for e in _visible(list(it)) if e.is_dir()]
    for folder in folders:
        key = hashlib.sha256(_folder_name(folder.name).encode("utf-8")).hexdigest()[:16]
        try:
            if waiting_reason(Path(folder.path), settle_seconds=settle_seconds, now=now) is not None:
                waiting.add(key)
                continue
            lines = [f"/\t{folder.stat().st_mtime_ns}"]
            with os.scandir(folder.path) as it:
                for entry in _visible(list(it)):
                    if entry.is_file():
                        st = entry.stat()
                        lines.append(f"{_folder_name(entry.name)}\t{st.st_size}\t{st.st_mtime_ns}")
        except FileNotFoundError:
            continue  # removed while looked at
        ready[key] = hashlib.sha256("\n".join(sorted(lines)).encode("utf-8")).hexdigest()[:16]
    return ready, waiting


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
