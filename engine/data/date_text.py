"""Dates written as text, read as timestamps: in ISO 8601 (a zone dropped: the time as the
shop wrote it) or in a ``date_format``, each impossible date caught. ``cvm init`` tests its
guesses with this same reader."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# a leading zero of a number: 05/04/2024 and 5/4/2024 are the same date (Excel writes the
# second), so both are compared without them; 2024-02-30 still fails (strptime rolls it over)
LEADING_ZERO = r"(^|[^0-9])0+([0-9])"


def _unpadded(text: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    return pc.replace_substring_regex(text, pattern=LEADING_ZERO, replacement=r"\1\2")


# a time followed by a zone: UTC, Z or an offset of at most 14 hours (+0100, -05:00, +01);
# the time written 10:00[:00[.5]] or, in ISO 8601's basic format, T1000[00]
_OFFSET = r"(?:Z|UTC|GMT|[+-](?:0[0-9]|1[0-4])(?::?[0-5][0-9])?)"
_ZONED = (r"^(.*(?:[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?|T[0-9]{4}(?:[0-9]{2})?"
          rf"(?:[.,][0-9]+)?))\s*{_OFFSET}$")
# a date_format's %z: the offset at the end, whatever the time before it (10:00 PM +0100)
_FORMAT_ZONE = r"^(.*?)\s*(?:Z|[+-](?:0[0-9]|1[0-4]):?[0-5][0-9])$"


def wall_clock(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """Times as written, their zone dropped: a purchase at 00:09 +0100 was made on the day
    the shop wrote, not on UTC's day before."""
    return pc.replace_substring_regex(text, pattern=_ZONED, replacement=r"\1")


def read_dates(text: pa.ChunkedArray, date_format: str | None
               ) -> tuple[pa.ChunkedArray, np.ndarray]:
    """The dates of ``text`` (trimmed strings, null when empty) as timestamps, and a mask of the
    values that are not dates (in ``date_format``, or ISO 8601 when None). ``cvm init`` tests
    its guesses with this same reader."""
    valid = np.asarray(pc.is_valid(text).to_numpy(zero_copy_only=False), dtype=bool)
    if date_format is not None and "%z" in date_format:  # the time as written, not UTC's
        text = pc.replace_substring_regex(text, pattern=_FORMAT_ZONE, replacement=r"\1")
        date_format = re.sub(r"\s*%z", "", date_format)
    if date_format is not None:
        ts = pc.strptime(text, format=date_format, unit="s", error_is_null=True)
        # strptime rolls 2024-02-30 over to March: read back to catch impossible dates,
        # leading zeros aside (5/4/2024 reads back as 05/04/2024)
        back = pc.strftime(ts, format=date_format)
        same = pc.equal(_unpadded(back), _unpadded(text))
        bad = pc.or_kleene(pc.and_(pc.is_valid(text), pc.is_null(ts)),
                           pc.and_kleene(pc.is_valid(ts), pc.invert(same)))
        return ts, np.asarray(pc.fill_null(bad, False).to_numpy(zero_copy_only=False),
                              dtype=bool)
    for clock in (False, True):  # 2025-05-25 00:09:00 +0100: 25 May, as the shop wrote it
        try:
            return pc.cast(wall_clock(text) if clock else text, pa.timestamp("s")), \
                np.zeros(len(text), dtype=bool)
        except pa.ArrowInvalid:
            continue
    text = wall_clock(text)
    parsed = pd.to_datetime(text.to_pandas(), errors="coerce", format="ISO8601", utc=True)
    bad = parsed.isna().to_numpy() & valid
    # mixed naive and zoned values: pandas can read them all
    return pa.chunked_array([pa.array(parsed.dt.tz_localize(None))]), bad
