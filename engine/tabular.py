"""Reading a user's table (CSV or Parquet) into Arrow columns, with errors that point at the row.

Shared by the transactions and customers loaders. Only the columns the project maps are read,
always as text first for CSV, so each value can be checked and a bad one reported with its
file, row, line and column.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from engine.errors import InputError, Problem, did_you_mean

PARQUET_SUFFIXES = (".parquet", ".pq")
DICTIONARY = pa.dictionary(pa.int32(), pa.string())
_DELIMS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(frozen=True)
class Source:
    """Where a table comes from and how it is shown in messages."""

    path: Path
    display: str  # as the user should see it, e.g. examples/retail/transactions.csv
    setting: str  # the cvm.yaml key naming this file, e.g. data.transactions
    delimiter: str = ","
    encoding: str = "utf-8"

    @property
    def is_parquet(self) -> bool:
        return self.path.suffix.lower() in PARQUET_SUFFIXES

    def row_problem(self, row: int, column: str, message: str, hint: str | None = None) -> Problem:
        """A problem at 0-based data row ``row`` (CSV line = row + 2, after the header)."""
        line = None if self.is_parquet else row + 2
        return Problem(message, file=self.display, line=line,
                       key=f"row {row + 1}, column {column!r}", hint=hint)


def read_columns(src: Source, wanted: Mapping[str, str],
                 repetitive: Collection[str] = ()) -> pa.Table:
    """Read the user's columns named in ``wanted`` (our name -> their name), renamed to ours.

    Text columns named in ``repetitive`` (ours; dates, categories, channels) are read
    dictionary-encoded: each distinct value is stored once, so ten million rows of a few
    thousand dates cost little to read and to parse.
    """
    repeated = {wanted[k] for k in repetitive if k in wanted}
    if not src.path.exists():
        raise InputError(Problem("file not found", file=src.display,
                                 hint=f"check {src.setting} in cvm.yaml (paths are relative to "
                                 "the project folder)"))
    if src.path.is_dir():
        raise InputError(Problem("is a folder, expected a CSV or Parquet file", file=src.display))
    if src.path.stat().st_size == 0:
        raise InputError(Problem("the file is empty, expected a header line and data rows",
                                 file=src.display))
    table = _read_parquet(src, wanted, repeated) if src.is_parquet \
        else _read_csv(src, wanted, repeated)
    if table.num_rows == 0:
        raise InputError(Problem("the file has a header but no data rows", file=src.display))
    # select by name: readers may return columns in file order, not in the order asked for
    return table.select(list(wanted.values())).rename_columns(list(wanted))


def _missing_columns(src: Source, present: Sequence[str], wanted: Mapping[str, str],
                     line: int | None) -> None:
    missing = [(ours, theirs) for ours, theirs in wanted.items() if theirs not in present]
    if not missing:
        return
    if len(present) == 1 and (delim_hint := _delimiter_hint(src, present[0])):
        raise InputError(Problem(
            f"found one column {present[0]!r}, expected the columns "
            + ", ".join(repr(t) for t in wanted.values()) + f" separated by {src.delimiter!r}",
            file=src.display, line=line, key="header", hint=delim_hint))
    problems = []
    for ours, theirs in missing:
        hint = did_you_mean(theirs, present)
        problems.append(Problem(
            f"column {theirs!r} (mapped to {ours} in cvm.yaml) not found; columns present: "
            + ", ".join(repr(p) for p in present[:20]) + (" ..." if len(present) > 20 else ""),
            file=src.display, line=line, key="header",
            hint=hint or f"fix the column name under data.columns.{ours} in cvm.yaml",
        ))
    raise InputError(problems)


def _delimiter_hint(src: Source, only_column: str) -> str | None:
    for delim, name in _DELIMS.items():
        if delim != src.delimiter and delim in only_column:
            shown = "\\t" if delim == "\t" else delim
            return (f"the header looks {name}-separated but data.delimiter is "
                    f"{src.delimiter!r}: set data.delimiter: {shown!r} in cvm.yaml")
    return None


def _read_parquet(src: Source, wanted: Mapping[str, str], repeated: set[str]) -> pa.Table:
    try:
        schema = pq.read_schema(src.path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(Problem(f"not a readable Parquet file ({exc})", file=src.display,
                                 hint="a .parquet file must be written by a Parquet writer")) \
            from None
    _missing_columns(src, schema.names, wanted, None)
    text = [n for n in sorted(repeated) if _is_text(schema.field(n).type)]
    return pq.read_table(src.path, columns=list(dict.fromkeys(wanted.values())),
                         read_dictionary=text or None)


def _header(src: Source) -> list[str]:
    with src.path.open("rb") as fh:
        first = fh.readline()
    try:
        text = first.decode(src.encoding)
    except UnicodeDecodeError as exc:
        raise InputError(Problem(
            f"byte {first[exc.start]:#04x} at position {exc.start + 1} is not valid "
            f"{src.encoding}", file=src.display, line=1,
            hint="save the file as UTF-8, or set data.encoding in cvm.yaml (e.g. latin-1)",
        )) from None
    except LookupError:
        raise InputError(Problem(f"unknown encoding {src.encoding!r}", file="cvm.yaml",
                                 key="data.encoding", hint="e.g. utf-8, latin-1, cp1252")) \
            from None
    text = text.lstrip("\ufeff").rstrip("\r\n")
    if src.delimiter == "whitespace":
        return text.split()
    return next(csv.reader([text], delimiter=src.delimiter))


def _read_csv(src: Source, wanted: Mapping[str, str], repeated: set[str]) -> pa.Table:
    header = _header(src)
    _missing_columns(src, header, wanted, 1)
    if src.delimiter == "whitespace":
        frame = pd.read_csv(src.path, sep=r"\s+", dtype=str, usecols=list(wanted.values()),
                            encoding=src.encoding, keep_default_na=False, na_values=[""])
        return pa.Table.from_pandas(frame, preserve_index=False)
    theirs = list(dict.fromkeys(wanted.values()))
    try:
        return pacsv.read_csv(
            src.path,
            read_options=pacsv.ReadOptions(encoding=src.encoding, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=src.delimiter, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                include_columns=theirs,
                column_types={n: DICTIONARY if n in repeated else pa.string() for n in theirs},
                strings_can_be_null=True, quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(_locate_csv_error(src, str(exc), len(header))) from None


def _locate_csv_error(src: Source, message: str, n_columns: int) -> Problem:
    """pyarrow's CSV errors name no line; find it ourselves (only on the error path)."""
    if "UTF8" in message or "decode" in message.lower():
        return _locate_bad_bytes(src)
    with src.path.open(encoding=src.encoding, errors="replace", newline="") as fh:
        for line_no, row in enumerate(csv.reader(fh, delimiter=src.delimiter), start=1):
            if row and len(row) != n_columns:
                return Problem(
                    f"found {len(row)} fields, expected {n_columns} like the header",
                    file=src.display, line=line_no,
                    hint="a value may contain the delimiter without quotes, or the line is cut",
                )
    return Problem(f"cannot be read as CSV: {message}", file=src.display)


def _locate_bad_bytes(src: Source) -> Problem:
    decoder = codecs.getincrementaldecoder(src.encoding)()
    line, offset = 1, 0
    with src.path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad = chunk[: exc.start]
                line += bad.count(b"\n")
                return Problem(
                    f"byte {chunk[exc.start]:#04x} at byte offset {offset + exc.start} is not "
                    f"valid {src.encoding}", file=src.display, line=line,
                    hint="save the file as UTF-8, or set data.encoding in cvm.yaml "
                    "(e.g. latin-1 or cp1252)",
                )
            line += chunk.count(b"\n")
            offset += len(chunk)
    return Problem(f"is not valid {src.encoding}", file=src.display)


# --- typed column conversion -------------------------------------------------------------

def as_text(src: Source, table: pa.Table, ours: str, theirs: str, *,
            required: bool, raw: bool = False) -> pa.ChunkedArray:
    """Text values, trimmed, empty as null. ``raw``: as read (for columns only compared for
    equality, such as order ids: a copy of ten million strings is not free)."""
    col = table.column(ours)
    if raw and pa.types.is_dictionary(col.type):
        return col
    if not _is_text(col.type):
        col = pc.cast(col, pa.string())
    if raw:
        return col
    col = pc.utf8_trim_whitespace(col)
    if required:
        empty = pc.or_kleene(pc.is_null(col), pc.equal(col, ""))
        _fail_first(src, empty, table.column(ours), theirs, "an empty value",
                    "a value in every row")
    else:
        col = pc.if_else(pc.equal(col, ""), None, col)
    return col


def as_number(src: Source, table: pa.Table, ours: str, theirs: str, *,
              required: bool) -> np.ndarray:
    """float64 values; NaN where an optional value is empty."""
    col = table.column(ours)
    expected = "a number such as 12.50"
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        col = pc.utf8_trim_whitespace(col)
        col = pc.if_else(pc.equal(col, ""), None, col)
        try:
            col = pc.cast(col, pa.float64())
        except pa.ArrowInvalid:
            raw = table.column(ours).to_pandas()
            parsed = pd.to_numeric(raw.str.strip(), errors="coerce")
            bad = parsed.isna() & raw.notna() & (raw.str.strip() != "")
            _fail_first(src, pa.chunked_array([pa.array(bad.to_numpy())]), table.column(ours),
                        theirs, None, expected,
                        hint="use '.' as the decimal mark, no thousands separators or "
                        "currency signs")
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
                    None, expected)
    if required:
        _fail_first(src, pc.is_null(col), table.column(ours), theirs, "an empty value",
                    "a value in every row")
    return values


def _isnull(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False), dtype=bool)


ISO_HINT = "write dates as YYYY-MM-DD (time optional), or set data.date_format in cvm.yaml"


NO_DATE = np.iinfo(np.int64).min  # the seconds of an empty optional date


def as_date_seconds(src: Source, table: pa.Table, ours: str, theirs: str, *,
                    date_format: str | None, required: bool) -> np.ndarray:
    """Seconds since 1970-01-01 (int64); ``NO_DATE`` where optional and empty.

    Dates repeat (ten million rows hold a few thousand days), so text dates are parsed once
    per distinct value. Any problem is reported from the rows, with the first bad row.
    """
    col = table.column(ours)
    if pa.types.is_dictionary(col.type) or (_is_text(col.type) and _repetitive(col)):
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
    return _date_seconds(src, table, ours, theirs, date_format, required=required)


def dictionary(col: pa.ChunkedArray | pa.Array) -> pa.DictionaryArray:
    """The column as one dictionary array (encoded here unless read that way)."""
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    if isinstance(col, pa.ChunkedArray):
        col = col.unify_dictionaries().combine_chunks() if col.num_chunks \
            else pa.array([], col.type)
    return col


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


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
        ts = pc.cast(col, pa.timestamp("s", tz=col.type.tz) if pa.types.is_timestamp(col.type)
                     and col.type.tz else pa.timestamp("s"))
    elif pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        text = pc.utf8_trim_whitespace(col)
        text = pc.if_else(pc.equal(text, ""), None, text)
        ts = _parse_dates(src, text, col, theirs, date_format)
    else:
        raise InputError(Problem(f"found values of type {col.type}, expected dates",
                                 file=src.display, key=f"column {theirs!r}", hint=ISO_HINT))
    if required:
        _fail_first(src, pc.is_null(ts), col, theirs, "an empty value", "a date in every row")
    seconds = pc.cast(pc.cast(ts, pa.timestamp("s")), pa.int64())
    return np.asarray(pc.fill_null(seconds, NO_DATE).to_numpy(), dtype=np.int64)


def _parse_dates(src: Source, text: pa.ChunkedArray, raw: pa.ChunkedArray, theirs: str,
                 date_format: str | None) -> pa.ChunkedArray:
    if date_format is not None:
        ts = pc.strptime(text, format=date_format, unit="s", error_is_null=True)
        # strptime rolls 2024-02-30 over to March: round-trip to catch impossible dates
        back = pc.strftime(ts, format=date_format)
        bad = pc.or_kleene(pc.and_(pc.is_valid(text), pc.is_null(ts)),
                           pc.and_kleene(pc.is_valid(ts), pc.not_equal(back, text)))
        bad = pc.fill_null(bad, False)
        _fail_first(src, bad, raw, theirs, None, f"a date in the format {date_format!r}",
                    hint="fix the value or data.date_format in cvm.yaml")
        return ts
    for unit in (pa.timestamp("s"), pa.timestamp("s", tz="UTC")):
        try:
            return pc.cast(text, unit)
        except pa.ArrowInvalid:
            continue
    parsed = pd.to_datetime(text.to_pandas(), errors="coerce", format="ISO8601", utc=True)
    bad = parsed.isna().to_numpy() & np.asarray(pc.is_valid(text).to_numpy(
        zero_copy_only=False), dtype=bool)
    if not bad.any():  # mixed naive and zoned values: pandas can read them all
        return pa.chunked_array([pa.array(parsed.dt.tz_localize(None))])
    _fail_first(src, pa.chunked_array([pa.array(bad)]), raw, theirs, None,
                "a date such as 2024-01-31", hint=ISO_HINT)
    raise AssertionError("unreachable")  # pragma: no cover


def _fail_first(src: Source, mask: pa.ChunkedArray | pa.Array, raw: pa.ChunkedArray,
                theirs: str, what: str | None, expected: str, hint: str | None = None) -> None:
    """Raise for the first True in ``mask``, saying how many rows share the problem."""
    arr = np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)
    count = int(arr.sum())
    if not count:
        return
    row = int(np.argmax(arr))
    value = raw[row].as_py()
    found = what or f"{value!r}"
    more = f"{count:,} rows have this problem" if count > 1 else None
    hint_text = "; ".join(h for h in (more, hint) if h) or None
    raise InputError(src.row_problem(row, theirs, f"found {found}, expected {expected}",
                                     hint_text))
