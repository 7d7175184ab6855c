"""A CSV value whose quote swallows the lines after it.

A quote opened in the last column and not closed on its line makes Arrow's reader take the
following lines into that one value, without an error: to the end of the file, or to the next
quote (then followed by text, which Arrow keeps). The rows taken vanish (an unmapped last
column's value is not even looked at), and a number read from ``"5`` on the last line is 5. A
quote opened in another column is reported already: its row comes out short of fields.

One pass over the bytes counts the quote characters, the line ends and the empty lines (which
the reader skips). Without a quote there is no quoted value. With as many rows as lines
(header and empty lines aside) no value holds a line break, and only the last line can end
inside quotes: it alone is read again. Fewer rows than lines (a value holds a line break, on
purpose or not), a file in an encoding whose bytes are not ASCII's (UTF-16), or a line break in
a value of the first rows (``cvm validate``): Python's csv module reads the file in its strict
mode, row after row, past the oddities Arrow reads as text (``"Deluxe" box``, ``27" screen``):
a row that runs to the end of the file, or past its line to a quote followed by text, is the
error, at the line where its quote opened. A quoted value that holds a line break on purpose
reads the same in both, and is no error.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import numpy as np

from engine.data.header import Source, opened_bytes
from engine.errors import Problem

CHUNK = 1 << 24
LF, CR = 10, 13
LIMIT = 1 << 26  # a value past 64 MiB is lines swallowed (Arrow refuses 16 MiB already)


def quote_problem(src: Source, rows: int | None, broken: bool = False) -> Problem | None:
    """The problem of a quote in ``src`` (a CSV file) that swallows lines, or None; ``rows``:
    the data rows the reader gave (None: not all read); ``broken``: a value read holds a
    line break."""
    if src.delimiter == "whitespace":  # pandas reads those, and says so itself
        return None
    if not '"\n'.encode(src.encoding, errors="replace").endswith(b'"\n'):  # UTF-16, -32
        return _strict(src)
    if not sum(chunk.count(b'"') for chunk in _chunks(src)):
        return None  # (most exports: one pass, 0.4 s for 600 MB)
    lines, tail, last = _lines(src)
    if broken or (rows is not None and rows + 1 < lines and rows + 1 < lines - _empty(src)):
        return _strict(src)
    if tail.count(b'"') % 2:  # only the last line may end inside quotes
        return _strict(src, tail.decode(src.encoding, errors="replace"), last)
    return None


def _chunks(src: Source) -> Iterator[bytes]:
    with opened_bytes(src) as fh:
        yield from iter(lambda: fh.read(CHUNK), b"")


def _lines(src: Source) -> tuple[int, bytes, int]:
    """The lines (the last one with or without its line end), and the last that is not empty
    with its number."""
    ends, tail = 0, b""
    for chunk in _chunks(src):
        ends += chunk.count(b"\n")
        tail = chunk if len(chunk) == CHUNK else tail[-CHUNK:] + chunk
    body = tail.rstrip(b"\r\n")
    lines = ends + (not tail.endswith(b"\n") and bool(tail))
    last = lines - max(tail[len(body):].count(b"\n") - 1, 0)
    return lines, body[body.rfind(b"\n") + 1:], last


def _empty(src: Source) -> int:
    """The empty lines, which the reader skips: "\n" or "\r\n" right after a line end."""
    empty, before = 0, np.array([LF, LF], dtype=np.uint8)  # as at a line start
    for chunk in _chunks(src):
        data = np.concatenate([before, np.frombuffer(chunk, np.uint8)])
        lf = data[2:] == LF
        empty += int(np.count_nonzero(lf & ((data[1:-1] == LF) | (
            (data[1:-1] == CR) & (data[:-2] == LF)))))
        before = data[-2:]
    return empty


def _strict(src: Source, text: str | None = None, line: int = 1) -> Problem | None:
    """The first row that runs past its line to the end, or to a quote followed by text, read
    by Python's csv module (``text``: only that text, its first line being ``line``)."""
    csv.field_size_limit(LIMIT)
    with opened_bytes(src) as raw, io.TextIOWrapper(raw, encoding=src.encoding, errors="replace",
                                               newline="") as whole:
        reader = csv.reader(io.StringIO(text, newline="") if text is not None else whole,
                            delimiter=src.delimiter, strict=True)
        start = 1
        while True:
            try:
                next(reader)
            except StopIteration:
                return None
            except csv.Error as exc:
                end, why = reader.line_num, str(exc)
                if "end of data" in why or "field limit" in why:
                    return _swallowed(src, start + line - 1, end + line - 1, None)
                if "expected after" in why and end > start:
                    return _swallowed(src, start + line - 1, end + line - 1, end + line - 1)
            start = reader.line_num + 1


def _swallowed(src: Source, start: int, end: int, quote: int | None) -> Problem:
    said = (f"lines {start} to {end}, the rest of the file, would be read as one value"
            if end > start else "its value would run to the end of the file") \
        if quote is None else (f"lines {start} to {end} would be read as one value, to a "
                               f"quote on line {end} followed by more text")
    return Problem(f"a quote (\") opened on line {start} is never closed on it: {said}",
                   file=src.display, line=start, hint="close the quote, or remove it (a value "
                   "holding the delimiter, a quote or a line break is written in quotes, each "
                   "quote in it doubled)")
