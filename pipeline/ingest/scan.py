"""One pass over each file's bytes: SHA-256 and, for CSV, the UTF-8 and NUL-byte checks and a newline count.

Also the CSV header (read with Python's csv module) and, rarely, a record-level scan for blank lines, which
DuckDB skips silently while still counting them as lines.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

CHUNK = 16 << 20
_BLANK_MARKS = (b"\n\n", b"\n\r\n", b"\r\r")


@dataclass(frozen=True)
class FileScan:
    name: str
    sha256: str
    size: int
    problem: str | None  # why a CSV cannot be decoded, or None
    physical_lines: int  # LF-terminated lines, counting an unterminated last one

    def may_hide_lines(self, records: int) -> bool:
        """True unless the file has exactly `records` lines (then no blank line and no quoted line break)."""
        return self.physical_lines != records


def scan_file(path: Path, *, text: bool) -> FileScan:
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    problem: str | None = None
    size = newlines = 0
    last = b""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            if text and problem is None:
                problem = _text_problem(path.name, decoder, chunk, size)
                newlines += chunk.count(b"\n")
            size += len(chunk)
            last = chunk[-1:]
    if text and problem is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            problem = f"{path.name} is not valid UTF-8 (it ends inside a multi-byte character)"
    lines = newlines + (1 if last not in (b"", b"\n") else 0)
    return FileScan(path.name, digest.hexdigest(), size, problem, lines)


def _text_problem(name: str, decoder: codecs.IncrementalDecoder, chunk: bytes, offset: int) -> str | None:
    if b"\x00" in chunk:
        return f"{name} holds NUL bytes (binary content, not a CSV text file)"
    # ASCII is valid UTF-8: decode only when the chunk is not ASCII or a character spans chunks.
    if chunk.isascii() and not decoder.getstate()[0]:
        return None
    try:
        decoder.decode(chunk)
    except UnicodeDecodeError as exc:
        return f"{name} is not valid UTF-8 (first bad byte at offset {offset + exc.start})"
    return None


def content_fingerprint(scans: list[FileScan]) -> str:
    """sha256 of the sorted "file:sha256" lines of a drop's files: equal iff the drops are byte-identical."""
    lines = sorted(f"{s.name}:{s.sha256}" for s in scans)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def read_csv_header(path: Path) -> list[str] | None:
    """Column names of the first record (BOM stripped), or None when the file holds no record at all."""
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        try:
            return next(csv.reader(fh))
        except StopIteration:
            return None


def has_blank_line_marks(path: Path) -> bool:
    """True when two line ends follow each other before the last record (possibly inside a quoted value)."""
    first_mark: int | None = None
    last_content = -1
    size = 0
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if first_mark is None:
                window = tail + chunk
                found = [i for i in (window.find(m) for m in _BLANK_MARKS) if i >= 0]
                if found:
                    first_mark = size - len(tail) + min(found)
                tail = chunk[-2:]
            stripped = len(chunk.rstrip(b"\r\n"))
            if stripped:
                last_content = size + stripped - 1
            size += len(chunk)
    return first_mark is not None and first_mark < last_content


def blank_record_numbers(path: Path) -> list[int]:
    """Record numbers (header = 1) of blank lines between records.

    DuckDB's reader drops blank lines but counts them when numbering records, so they must be known to
    number the rows that follow. Python's csv module tells a blank line from a line break inside a quoted
    value. Blank lines after the last record are not records.
    """
    csv.field_size_limit(sys.maxsize)
    blanks: list[int] = []
    number = 0
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        try:
            for number, record in enumerate(reader, start=1):
                if not record:
                    blanks.append(number)
        except csv.Error:
            # An unterminated quote runs to the end of the file; DuckDB rejects that record, and the
            # blank lines before it are already counted.
            pass
    while blanks and blanks[-1] == number:
        blanks.pop()
        number -= 1
    return blanks
