"""Typed columns from a table read by ``engine.data.tabular``: text, numbers and dates, each value
checked, and the first bad one reported with its file, row, line and column (and how many rows
share the problem).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine.data.bytes_text import as_string
from engine.data.date_hints import NUMBER_DATES, date_format_hint, is_number, year_hint
from engine.data.date_text import read_dates
from engine.data.tabular import Source, dictionary, is_text
from engine.data.written_numbers import point_hint, read_past, unreadable_hint
from engine.errors import InputError, Problem, clip
from engine.project.checks import DATE_RANGE, EARLIEST, LATEST, MAX_NUMBER
from engine.project.location import config_shown


def as_text(src: Source, table: pa.Table, ours: str, theirs: str, *,
            required: bool, raw: bool = False) -> pa.ChunkedArray:
    """Text values, trimmed, empty as null. ``raw``: as read (for columns only compared for
    equality, such as order ids: a copy of ten million strings is not free)."""
    col = table.column(ours)
    if raw and pa.types.is_dictionary(col.type):
        return col
    if not is_text(col.type):
        col = as_string(src, col, theirs)
    if raw:
        return col
    col = pc.utf8_trim_whitespace(col)
    if required:
        empty = pc.or_kleene(pc.is_null(col), pc.equal(col, ""))
        _fail_first(src, empty, table.column(ours), theirs, "an empty value",
                    "a value in every row", hint=src.empty_hint(theirs))
    else:
        col = pc.if_else(pc.equal(col, ""), None, col)
    return col


def has_blank(table: pa.Table, ours: str) -> bool:
    """Whether a row of ``table`` has no value in column ``ours`` (``refuse_empty_rows``'s
    first look)."""
    return ours in table.column_names and bool(_blank(table.column(ours)).any())


def refuse_empty_rows(src: Source, table: pa.Table, ours: str, theirs: str, *,
                      what: str = "transaction") -> None:
    """Rows with no value in any column read (``;;;;;``, as a spreadsheet's export often ends
    with): said as empty rows at ``ours`` (the date), not as one of their empty values.
    ``table`` must hold every column cvm.yaml maps, or the row is not known to be empty."""
    if ours not in table.column_names or not table.num_rows:
        return
    blank = _blank(table.column(ours))
    if not blank.any():
        return
    rows = np.flatnonzero(blank)
    sub = table.take(pa.array(rows))
    for name in sub.column_names:
        blank[rows[~_blank(sub.column(name))]] = False
    mark = getattr(src, "delimiter", None)
    example = f", such as '{mark * 5}'," if mark in (",", ";", "|") else ""
    mapped = "any column cvm.yaml maps" if what == "transaction" else "any column read"
    _fail_first(src, pa.array(blank), table.column(ours), theirs, f"an empty row (no value in "
                f"{mapped})", f"a {what}", hint=f"delete the empty rows between {what}s: one "
                "may mark a cut or a pasted block (rows of separators only"
                f"{example} at the end of the file are skipped and counted)")


def _blank(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Null, or text of spaces only (a dictionary-coded column: its dictionary is looked at,
    not every row's text)."""
    if isinstance(col, pa.ChunkedArray):
        parts = [_blank(chunk) for chunk in col.chunks]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)
    if pa.types.is_dictionary(col.type):
        words = _blank(col.dictionary)
        if not words.any() and not col.indices.null_count:  # the clean run's case: no pass
            return np.zeros(len(col), dtype=bool)
        index = np.asarray(pc.fill_null(col.indices, 0).to_numpy(zero_copy_only=False))
        missing = np.asarray(col.indices.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        found = words[index] if len(words) else np.ones(len(col), dtype=bool)
        return np.asarray(found | missing, dtype=bool)
    if not is_text(col.type) and not col.null_count:
        return np.zeros(len(col), dtype=bool)
    empty = pc.is_null(col)
    if is_text(col.type):
        empty = pc.or_kleene(empty, pc.equal(pc.utf8_trim_whitespace(col), ""))
    return np.asarray(pc.fill_null(empty, True).to_numpy(zero_copy_only=False), dtype=bool)


def as_number(src: Source, table: pa.Table, ours: str, theirs: str, *,
              required: bool) -> np.ndarray:
    """float64 values; NaN where an optional value is empty (a required column's first
    problem in row order said: an empty value, or one that is no number)."""
    try:
        return _as_number(src, table, ours, theirs, required=required)
    except InputError:
        if required:
            _empty_first(src, table, ours, theirs, "a value in every row", lambda head: (
                _as_number(src, head, ours, theirs, required=False)))
        raise


def _empty_first(src: Source, table: pa.Table, ours: str, theirs: str, expected: str,
                 read: Callable[[pa.Table], object]) -> None:
    """After reading a required column failed: raise for its first empty value when no
    other problem comes before it (``read`` the rows above it), the problem said at its row
    (the reader checks each kind of problem in turn, each at its first row). With a problem
    above it, the caller's error stands: its count and hint are of the whole column."""
    blank = _blank(table.column(ours))
    if blank.any():
        first = int(np.argmax(blank))
        try:
            read(table.slice(0, first))
        except InputError:
            return
        _fail_first(src, pa.array(blank), table.column(ours), theirs, "an empty value",
                    expected, hint=src.empty_hint(theirs, text=False))


def _as_number(src: Source, table: pa.Table, ours: str, theirs: str, *,
               required: bool) -> np.ndarray:
    col = table.column(ours)
    numbers = src.numbers  # data.decimal, thousands, currency_sign: numbers written as text
    comma = numbers.decimal == ","
    expected = f"a number such as {numbers.example()}"
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        col = pc.utf8_trim_whitespace(col)
        col = pc.if_else(pc.equal(col, ""), None, col)
        misplaced = None  # a thousands separator out of place: left as written, refused
        if numbers.sign or numbers.thousands:
            col, misplaced = read_past(col, numbers)
        point = None
        if comma:  # 1.234,56 or 1.5 (a thousands separator, or the other decimal mark)
            point = pc.fill_null(pc.match_substring_regex(col, r"^[-+]?[0-9][0-9.]*,?[0-9]*$"),
                                 False)
            point = pc.and_(point, pc.match_substring(col, "."))  # k.A. is no number at all
            # said at its row unless a value that is no number comes first
            col = pc.if_else(point, None, pc.replace_substring(col, ",", "."))
        try:
            col = pc.cast(col, pa.float64())
        except pa.ArrowInvalid:
            # a point said at its row, unless a value that is no number comes before it
            if point is not None and pc.any(point).as_py() and _castable(col.slice(
                    0, int(np.argmax(np.asarray(point.to_numpy(zero_copy_only=False)))))):
                _fail_first(src, point, table.column(ours), theirs, None, expected,
                            hint=point_hint(numbers))
            raw = col.to_pandas()
            parsed = pd.to_numeric(raw, errors="coerce")
            bad = parsed.isna() & raw.notna()
            at = int(np.argmax(bad.to_numpy())) if bad.any() else 0
            hint = unreadable_hint(
                numbers, str(raw[bad].iloc[0]) if bad.any() else "",
                str(table.column(ours)[at].as_py()) if bad.any() else "",
                points=bool(raw[~bad & raw.notna()].str.contains(".", regex=False).any()),
                misplaced=misplaced is not None and bool(bad.any()) and bool(
                    misplaced[at].as_py()), configured=src.configured)
            words = raw[bad].str.contains(r"[0-9]", regex=True).eq(False).any()
            if ours.startswith("attr:") and words:  # data.attributes declared it a number
                hint = (f"the column holds words: declare it as text under data.attributes "
                        f"in {config_shown()} ({ours[5:]}: text)")
            _fail_first(src, pa.chunked_array([pa.array(bad.to_numpy())]), table.column(ours),
                        theirs, None, expected, hint=hint)
            # pandas read every value (1_000, say) but Arrow did not: find the row by halving
            row = _first_uncastable(col, 0, len(col))
            raise InputError(src.row_problem(
                row, theirs, f"found {table.column(ours)[row].as_py()!r}, expected {expected}",
                hint)) from None
        if point is not None:
            _fail_first(src, point, table.column(ours), theirs, None, expected,
                        hint=point_hint(numbers))
    elif not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)
              or pa.types.is_decimal(col.type)):
        raise InputError(Problem(f"found values of type {col.type}, expected numbers",
                                 file=src.display, key=f"column {theirs!r}"))
    else:
        col = pc.cast(col, pa.float64())
    values = np.asarray(col.to_numpy(), dtype=np.float64)
    nonfinite = np.isinf(values) | (np.isnan(values) & ~_isnull(col))
    if nonfinite.any():
        _fail_first(src, pa.chunked_array([pa.array(nonfinite)]), table.column(ours), theirs,
                    None, expected, hint="NaN and infinity are not numbers here; leave an "
                    "optional value empty instead")
    with np.errstate(invalid="ignore"):
        huge = np.abs(values) >= MAX_NUMBER
    if huge.any():
        _fail_first(src, pa.chunked_array([pa.array(huge)]), table.column(ours), theirs, None,
                    "a number below 10^15 in size",
                    hint="no amount, cost or count is that large: check the value"
                    + (f" and which column {config_shown()} maps here" if src.configured else ""))
    if required:
        _fail_first(src, pc.is_null(col), table.column(ours), theirs, "an empty value",
                    "a value in every row", hint=src.empty_hint(theirs, text=False))
    return values


def _castable(col: pa.ChunkedArray) -> bool:
    try:
        pc.cast(col, pa.float64())
    except pa.ArrowInvalid:
        return False
    return True


def _first_uncastable(col: pa.ChunkedArray, lo: int, hi: int) -> int:
    """The first row in [lo, hi) that Arrow cannot read as a number (one is known to exist)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            pc.cast(col.slice(lo, mid - lo), pa.float64())
            lo = mid
        except pa.ArrowInvalid:
            hi = mid
    return lo


def _isnull(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False), dtype=bool)


def iso_hint(src: Source) -> str:
    """How to write a date, naming data.date_format only for a file that cvm.yaml configures."""
    iso = "write dates as YYYY-MM-DD (time optional)"
    return f"{iso}, or set data.date_format in {config_shown()}{_own_format(src)}" \
        if src.configured else iso


NO_DATE = np.iinfo(np.int64).min  # the seconds of an empty optional date
_DAY = 86_400
EARLIEST_S = (EARLIEST - dt.date(1970, 1, 1)).days * _DAY
AFTER_LATEST_S = (LATEST - dt.date(1970, 1, 1)).days * _DAY + _DAY
MAX_ID_LENGTH = 1000


def as_date_seconds(src: Source, table: pa.Table, ours: str, theirs: str, *,
                    date_format: str | None, required: bool) -> np.ndarray:
    """Seconds since 1970-01-01 (int64); ``NO_DATE`` where optional and empty.

    Dates repeat (ten million rows hold a few thousand days), so text dates are parsed once
    per distinct value. Any problem is reported from the rows, with the first bad row.
    """
    date_format = src.date_format_of(ours, date_format)
    col = table.column(ours)
    if pa.types.is_dictionary(col.type) or (is_text(col.type) and _repetitive(col)):
        encoded = dictionary(col)
        labels = pa.table({ours: encoded.dictionary})
        try:
            per_label = _date_seconds(src, labels, ours, theirs, date_format, required=False)
        except InputError:
            per_label = None  # the row-by-row parse below reports the first bad row
        if per_label is not None:
            index = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(), dtype=np.int64)
            seconds = np.append(per_label, NO_DATE)[index]  # -1 (null) -> NO_DATE
            if not (required and (seconds == NO_DATE).any()):
                return seconds
    try:
        return _date_seconds(src, table, ours, theirs, date_format, required=required)
    except InputError:
        if required:  # the first problem in row order: an empty date, or one not read
            _empty_first(src, table, ours, theirs, "a date in every row", lambda head: (
                _date_seconds(src, head, ours, theirs, date_format, required=False)))
        raise


def _whole_seconds(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Times finer than a second floored to the second below (a fraction of a second says
    nothing of a purchase's day, and Arrow's cast refuses to drop it)."""
    if pa.types.is_timestamp(col.type) and col.type.unit != "s":
        return pc.floor_temporal(col, unit="second")
    return col


def _repetitive(col: pa.ChunkedArray, sample: int = 100_000) -> bool:
    """Few distinct values (judged on the first rows): worth parsing each value once."""
    head = col.slice(0, sample)
    return len(col) > 1000 and pc.count_distinct(head).as_py() * 5 < len(head)


def _date_seconds(src: Source, table: pa.Table, ours: str, theirs: str,
                  date_format: str | None, *, required: bool) -> np.ndarray:
    col = table.column(ours)
    if pa.types.is_dictionary(col.type):
        col = pc.cast(col, col.type.value_type)
    if pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
        zoned = pa.types.is_timestamp(col.type) and col.type.tz
        ts = pc.cast(_whole_seconds(col), pa.timestamp("s", tz=col.type.tz) if zoned
                     else pa.timestamp("s"))
        if zoned:  # the time in the column's own zone (its date there), not UTC's
            ts = pc.local_timestamp(ts)
    elif pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        text = pc.utf8_trim_whitespace(col)
        text = pc.if_else(pc.equal(text, ""), None, text)
        ts = _parse_dates(src, text, col, theirs, date_format)
    else:
        raise InputError(Problem(f"found values of type {col.type}, expected dates", hint=(
            NUMBER_DATES if src.configured and is_number(col.type) else
            iso_hint(src)), file=src.display, key=f"column {theirs!r}"))
    if required:
        _fail_first(src, pc.is_null(ts), col, theirs, "an empty value", "a date in every row",
                    hint=src.empty_hint(theirs, text=False))
    seconds = pc.cast(pc.cast(_whole_seconds(ts), pa.timestamp("s")), pa.int64())
    out = np.asarray(pc.fill_null(seconds, NO_DATE).to_numpy(), dtype=np.int64)
    outside = (out != NO_DATE) & ((out < EARLIEST_S) | (out >= AFTER_LATEST_S))
    if outside.any():
        _fail_first(src, pa.array(outside), col, theirs, None, f"a date {DATE_RANGE}",
                    hint=lambda value: year_hint(value, date_format,
                                                      f"{config_shown()}{_own_format(src)}"))
    return out


def check_ids(src: Source, ids: pa.Array, theirs: str,
              codes: np.ndarray | None = None) -> None:
    """Customer ids are keys written into every output and shown on terminals: no control
    characters (line breaks, tabs, NUL, terminal escapes) and at most MAX_ID_LENGTH
    characters. ``codes``: when ``ids`` are the distinct ids, the code of each row (to find
    the row of a bad id; only on the error path)."""
    control = pc.match_substring_regex(ids, r"[\x00-\x1f\x7f]")
    long = pc.greater(pc.utf8_length(ids), MAX_ID_LENGTH)
    for mask, expected in (
            (control, "an id without control characters (line breaks, tabs, NUL, escapes)"),
            (long, f"an id of at most {MAX_ID_LENGTH:,} characters")):
        bad = np.flatnonzero(np.asarray(pc.fill_null(mask, False).to_numpy(
            zero_copy_only=False), dtype=bool))
        if not len(bad):
            continue
        rows = bad if codes is None else np.array([np.argmax(codes == i) for i in bad[:100]])
        row = int(np.min(rows))
        value = str(ids[int(bad[np.argmin(rows)])].as_py())
        raise InputError(src.row_problem(row, theirs, f"found {clip(value)}, expected {expected}",
                                         src.damaged_hint()))


def _own_format(src: Source) -> str:
    """The customers file may write its dates its own way (data.customers_date_format)."""
    return " (data.customers_date_format: this file's dates alone)" \
        if src.setting == "data.customers" else ""


def _parse_dates(src: Source, text: pa.ChunkedArray, raw: pa.ChunkedArray, theirs: str,
                 date_format: str | None) -> pa.ChunkedArray:
    ts, bad = read_dates(text, date_format)
    if date_format is not None:
        _fail_first(src, pa.array(bad), raw, theirs, None,
                    f"a date in the format {date_format!r}",
                    hint=lambda v: date_format_hint(v, date_format,
                                                    f"{config_shown()}{_own_format(src)}"))
    else:
        _fail_first(src, pa.array(bad), raw, theirs, None, "a date such as 2024-01-31",
                    hint=iso_hint(src))
    return ts


TOTALS_AFTER = 10  # rows: an empty value in the last row of a file this long alone, a totals line?


def _fail_first(src: Source, mask: pa.ChunkedArray | pa.Array, raw: pa.ChunkedArray,
                theirs: str, what: str | None, expected: str,
                hint: str | Callable[[object], str] | None = None) -> None:
    """Raise for the first True in ``mask``, saying how many rows share the problem."""
    arr = np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)
    count = int(arr.sum())
    if not count:
        return
    row = int(np.argmax(arr))
    value = raw[row].as_py()
    if isinstance(value, dt.date):  # a date column of a Parquet file: shown as written
        value = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    found, hint = what or clip(value), hint(value) if callable(hint) else hint
    if value == theirs:  # the column's own name: a header line among the rows
        hint = ("the row repeats the header line (files put together with their header "
                "lines?): delete it")
    elif what == "an empty value" and count == 1 and row == len(raw) - 1 >= TOTALS_AFTER and \
            src.first_rows is None and type(src) is Source and not src.is_parquet:
        # the last row of a CSV export alone: a totals line a spreadsheet's export adds
        hint = ("it is the file's last row: a totals line, as some exports end with? delete "
                "it, or leave it out of the export")
    more = f"{count:,} rows have this problem" if count > 1 else None
    if src.first_rows is not None and count > 1:  # cvm validate read the first rows only
        more = f"{count:,} of the first {src.first_rows:,} rows have this problem" \
            if count < src.first_rows else f"all the first {count:,} rows have this problem"
    hint_text = "; ".join(h for h in (more, hint) if h) or None
    raise InputError(src.row_problem(row, theirs, f"found {found}, expected {expected}",
                                     hint_text))
