"""A CSV value whose quote swallows the lines after it.

A quote opened in the last column and not closed on its line makes Arrow's reader take the
following lines into that one value, without an error: to the end of the file, or to the next
quote (then followed by text, which Arrow keeps). The rows taken vanish (an unmapped last
column's value is not even looked at), and a number read from ``"5`` on the last line is 5. A
quote opened in another column is reported already: its row comes out short of fields.

A pass over the bytes counts the quote characters: without one there is no quoted value. With
quotes, a second counts the line ends (``\\n``, ``\\r\\n`` or a lone ``\\r``): as many rows as
lines (header and empty lines aside) means no value holds a line break, and only the last line
can end inside quotes: it alone is read again. Fewer rows than lines (a value holds a line
break, on purpose or not), or an encoding whose bytes are not ASCII's (UTF-16): the text is
read again line by line with Arrow's rules for quotes (``_scan``). A value that runs past its
line is a line break on purpose when its closing quote is followed by the delimiter or the
line's end (spaces aside); one that runs to the end of the file, or to a quote followed by
other text, swallowed lines: the error, at the line where its quote opened.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from engine.data.header import Source, opened_bytes
from engine.errors import Problem

CHUNK = 1 << 24
LF, CR = 10, 13


def quote_problem(src: Source, rows: int | None, count_rows: Callable[[], int] | None = None
                  ) -> Problem | None:
    """The problem of a quote in ``src`` (a CSV file) that swallows lines, or None; ``rows``:
    the data rows the reader gave, or None with ``count_rows`` to count them when needed
    (``cvm validate`` reads the first rows only)."""
    if src.delimiter == "whitespace":  # pandas reads those, and says so itself
        return None
    if not '"\n'.encode(src.encoding, errors="replace").endswith(b'"\n'):  # UTF-16, -32
        return _scanned(src)
    if not sum(chunk.count(b'"') for chunk in _chunks(src)):
        return None  # (most exports: one pass, 0.3 s for 550 MB)
    lines, tail, last = _lines(src)
    if rows is None and count_rows is not None:
        rows = count_rows()
    if rows is None or (rows + 1 < lines and rows + 1 < lines - _empty(src)):
        return _scanned(src)
    if tail.count('"'):  # only the last line may end inside quotes
        return _scan([tail], src.delimiter, src, last)
    return None


def _chunks(src: Source) -> Iterator[bytes]:
    with opened_bytes(src) as fh:
        yield from iter(lambda: fh.read(CHUNK), b"")


def _lines(src: Source) -> tuple[int, str, int]:
    """The lines (ended by LF, CRLF or a lone CR; the last one with or without its end), and
    the last that is not empty, with its number."""
    ends, tail, prev = 0, b"", b""
    for chunk in _chunks(src):
        ends += chunk.count(b"\n")
        if crs := chunk.count(b"\r"):  # a lone CR ends a line too; a CRLF is one end
            ends += crs - chunk.count(b"\r\n")
        if prev == b"\r" and chunk.startswith(b"\n"):  # a CRLF across two chunks
            ends -= 1
        prev, tail = chunk[-1:], chunk if len(chunk) == CHUNK else tail[-CHUNK:] + chunk
    body = tail.rstrip(b"\r\n")
    trailing = tail[len(body):].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    lines = ends + (not trailing and bool(tail))
    last = lines - max(len(trailing) - 1, 0)  # the last line that is not empty
    start = max(body.rfind(b"\n"), body.rfind(b"\r")) + 1
    return lines, body[start:].decode("latin-1"), last


def _empty(src: Source) -> int:
    """The empty lines, which the reader skips: "\\n" or "\\r\\n" right after a line end."""
    empty, before = 0, np.array([LF, LF], dtype=np.uint8)  # as at a line start
    for chunk in _chunks(src):
        data = np.concatenate([before, np.frombuffer(chunk, np.uint8)])
        lf = data[2:] == LF
        empty += int(np.count_nonzero(lf & ((data[1:-1] == LF) | (
            (data[1:-1] == CR) & (data[:-2] == LF)))))
        before = data[-2:]
    return empty


def _scanned(src: Source) -> Problem | None:
    with opened_bytes(src) as raw, io.TextIOWrapper(raw, encoding=src.encoding, errors="replace",
                                               newline="") as text:
        return _scan(text, src.delimiter, src)


def _scan(lines: Iterable[str], delimiter: str, src: Source, first: int = 1
          ) -> Problem | None:
    """Arrow's reading of quotes, line by line: a quote opens a value only at its start;
    inside, "" is a quote and " closes it; the value then runs as text to the delimiter."""
    inside, start, n = False, first, first - 1
    for n, line in enumerate(lines, start=first):
        text, i = line.rstrip("\r\n"), 0
        if inside:  # a value from an earlier line
            i, closed = _close(text, 0)
            if not closed:
                continue
            inside = False
            rest = text[i:].lstrip(" \t")
            if rest and not rest.startswith(delimiter):
                return _swallowed(src, start, n, True)
            i = len(text) - len(rest)
        else:
            start = n
        while True:  # the fields from i
            if text.startswith('"', i):
                i, closed = _close(text, i + 1)
                if not closed:
                    inside = True
                    break
            k = text.find(delimiter, i)
            if k < 0:
                break
            i = k + len(delimiter)
    return _swallowed(src, start, n, False) if inside else None


def _close(text: str, at: int) -> tuple[int, bool]:
    """Where a quoted value from ``at`` closes (past its quote), or the line's end."""
    while (q := text.find('"', at)) >= 0:
        if text.startswith('"', q + 1):
            at = q + 2
            continue
        return q + 1, True
    return len(text), False


def _swallowed(src: Source, start: int, end: int, to_quote: bool) -> Problem:
    said = (f"lines {start} to {end} would be read as one value, to a quote on line {end} "
            "followed by more text") if to_quote else (
        f"lines {start} to {end}, the rest of the file, would be read as one value"
        if end > start else "its value would run to the end of the file")
    return Problem(f"a quote (\") opened on line {start} is never closed on it: {said}",
                   file=src.display, line=start, hint="close the quote, or remove it (a value "
                   "holding the delimiter, a quote or a line break is written in quotes, each "
                   "quote in it doubled)")
