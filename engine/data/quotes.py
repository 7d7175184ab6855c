"""A CSV file that ends inside a quoted value.

A quote opened in the last column and never closed makes Arrow's reader take the rest of the
file as that one value, without an error: the rows after it vanish (an unmapped last column's
value is not even looked at), and a number read from ``"5`` on the last line is 5. A quote
opened in another column is reported already: its row comes out short of fields.

Each quoted value holds an even number of quote characters (its two, and each quote inside
doubled), so a file whose quote characters are even in number ends outside quotes, unless a
quote stands inside an unquoted value (``27" screen``, which is text). Only a file with an
odd number is read again, by Python's csv module, which stops at the end of the file inside
quotes: the quote is then reported at the line where it opened.
"""

from __future__ import annotations

import csv
import io

from engine.data.header import Source, opened_bytes
from engine.errors import Problem

CHUNK = 1 << 24


def unclosed_quote(src: Source) -> Problem | None:
    """The problem of a quote in ``src`` (a CSV file) opened and never closed, or None."""
    if src.delimiter == "whitespace":  # pandas reads those, and says so itself
        return None
    quotes = 0
    with opened_bytes(src) as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            quotes += chunk.count(b'"')
    if quotes % 2 == 0:
        return None
    csv.field_size_limit(1 << 30)  # a long value is not what this looks for
    with opened_bytes(src) as raw, io.TextIOWrapper(raw, encoding=src.encoding, errors="replace",
                                               newline="") as text:
        reader = csv.reader(text, delimiter=src.delimiter, strict=True)
        start = 1
        try:
            for _ in reader:
                start = reader.line_num + 1
        except csv.Error as exc:
            if "unexpected end of data" not in str(exc):
                return None  # another oddity Arrow reads as text: not this one
            end = reader.line_num
            return Problem(
                f"a quote (\") opened on line {start} is never closed: " + (
                    f"lines {start} to {end}, the rest of the file, would be read as one value"
                    if end > start else "its value would run to the end of the file"),
                file=src.display, line=start, hint="close the quote, or remove it (a value "
                "holding the delimiter, a quote or a line break is written in quotes, each "
                "quote in it doubled)")
    return None
