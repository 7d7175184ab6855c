"""Rows of separators only at the end of a CSV file (``;;;;;``), as a spreadsheet's export
often ends: not transactions, so not read, and counted in the summary's notes. Found in the
file's bytes, so every reader (cvm run, cvm validate's every row and first rows, a folder's
files, --engine dask's workers) drops the same rows whichever columns it reads. Empty rows
between transactions are still an error at their line (``refuse_empty_rows``): they may mark
a cut or a pasted block."""

from __future__ import annotations

import codecs
import functools
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from engine.data.header import Source

_CHUNK = 1 << 16


def trailing_empty_rows(src: Source) -> int:
    """How many rows at the end of ``src`` (a local CSV file in an encoding that writes the
    delimiter and line breaks as ASCII) hold only delimiters and spaces; 0 otherwise. Empty
    lines are not counted: the reader skips them."""
    if not isinstance(src.path, Path) or src.is_parquet or len(src.delimiter) != 1:
        return 0
    try:  # utf-8-sig writes its mark once, before the first line: ASCII-like after it
        name = codecs.lookup(src.encoding).name
        ascii_like = all(c.encode("utf-8" if name == "utf-8-sig" else name) ==
                         c.encode("ascii") for c in (src.delimiter, "\n", "\r", " ", '"'))
    except (LookupError, UnicodeError):
        return 0
    if not ascii_like or src.delimiter in "\n\r":
        return 0
    try:
        stat = src.path.stat()
    except OSError:
        return 0
    return _count(src.path, stat.st_size, stat.st_mtime_ns, src.delimiter)


@functools.lru_cache(maxsize=64)
def _count(path: Path, size: int, mtime: int, delimiter: str) -> int:
    """The count for the file as it is (its size and time are part of the key)."""
    mark = re.escape(delimiter.encode("ascii"))
    # delimiters, spaces and empty quoted fields ("") only: an empty row as any writer writes it
    empty = re.compile(rb'^(?:[ \t]*(?:"")?[ \t]*' + mark + rb')+[ \t]*(?:"")?[ \t]*$')
    found, tail, end = 0, b"", size
    with path.open("rb") as fh:
        while end > 0:
            start = max(0, end - _CHUNK)
            fh.seek(start)
            tail = fh.read(end - start) + tail
            end = start
            lines = re.split(rb"\r\n|\r|\n", tail)  # Excel for Mac ends lines with \r alone
            # the first piece may be cut: judged once the chunk before it is read
            done, tail = (lines, b"") if start == 0 else (lines[1:], lines[0])
            for line in reversed(done):
                if not line:
                    continue  # an empty line: the reader skips it, it is no row
                if not empty.match(line):
                    return found  # a line with a value: the rows before it are the file's
                found += 1
            if start == 0:
                return found
    return found


def without_empty_tail(src: Source, table: pa.Table, first: int | None
                       ) -> tuple[pa.Table, int]:
    """``table``, read from ``src`` (``first``: its first rows, at most that many), without
    the rows of separators only at the file's end, and how many were dropped; the rows
    dropped are checked to be blank in every column read, or none is dropped (and the
    empty-row check says them)."""
    if not (n := trailing_empty_rows(src)) or not table.num_rows:
        return table, 0
    if first is None or table.num_rows < first:  # every row read: its last n are the tail
        tail = min(n, table.num_rows)
        return (table.slice(0, table.num_rows - tail), tail) \
            if _all_blank(table.slice(table.num_rows - tail)) else (table, 0)
    # the first rows only: those of the tail among them are the blank rows at their end
    blank = 0
    while blank < min(n, table.num_rows) and _all_blank(table.slice(
            table.num_rows - blank - 1, 1)):
        blank += 1
    return table.slice(0, table.num_rows - blank), blank


_KEY = b"cvm.empty_tail"


def counted(table: pa.Table, rows: int) -> pa.Table:
    """``table`` saying that ``rows`` empty rows were dropped from its end (or its files')."""
    return table.replace_schema_metadata({_KEY: str(rows).encode()}) if rows else table


def dropped(table: pa.Table) -> int:
    """The empty rows dropped from the end of the file(s) ``table`` was read from."""
    return int((table.schema.metadata or {}).get(_KEY, b"0"))


def _all_blank(rows: pa.Table) -> bool:
    for col in rows.columns:
        text = pc.cast(col, pa.string()) if not pa.types.is_string(col.type) else col
        filled = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(text), ""), False)
        if pc.any(filled).as_py():
            return False
    return True


def empty_tail_note(rows: int, file: str, folder: bool = False) -> str:
    """The summary's note for ``rows`` rows of separators only, not read."""
    return (f"{rows:,} empty row{'' if rows == 1 else 's'} at the end of "
            f"{'the files of ' if folder else ''}{file} (separators only, as a spreadsheet's "
            "export adds them) not read")
