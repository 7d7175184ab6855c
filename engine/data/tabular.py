"""Reading a user's table (CSV or Parquet) into Arrow columns, with errors that point at the row.

Shared by the transactions and customers loaders. Only the columns the project maps are read,
always as text first for CSV, so each value can be checked and a bad one reported with its
file, row, line and column.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from engine.data import object_store
from engine.errors import InputError, Problem, did_you_mean
from engine.project.object_store import ObjectPath

PARQUET_SUFFIXES = (".parquet", ".pq")
DICTIONARY = pa.dictionary(pa.int32(), pa.string())
_DELIMS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(frozen=True)
class Source:
    """Where a table comes from and how it is shown in messages."""

    path: Path | ObjectPath  # a local file, or an object read through fsspec
    display: str  # as the user should see it, e.g. examples/retail/transactions.csv
    setting: str  # the cvm.yaml key naming this file, e.g. data.transactions
    delimiter: str = ","
    encoding: str = "utf-8"
    setting_at: str = "cvm.yaml"  # where that key is, e.g. cvm.yaml:5:17
    # False: a file read with fixed settings (a responses file named on the command line):
    # no cvm.yaml setting applies to it, so no hint may name one
    configured: bool = True

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
    if isinstance(src.path, ObjectPath):
        _check_object(src, src.path)
    elif not src.path.exists():
        raise InputError(Problem("file not found", file=src.display,
                                 hint=f"check {src.setting} at {src.setting_at} (paths are "
                                 "relative to the project folder)"))
    elif src.path.is_dir():
        raise InputError(Problem("is a folder, expected a CSV or Parquet file", file=src.display,
                                 hint=object_store.folder_hint(src.setting, src.setting_at)))
    elif src.path.stat().st_size == 0:
        raise InputError(Problem("the file is empty, expected a header line and data rows",
                                 file=src.display))
    table = _read_parquet(src, wanted, repeated) if src.is_parquet \
        else _read_csv(src, wanted, repeated)
    if table.num_rows == 0:
        raise InputError(Problem("the file has columns but no rows" if src.is_parquet else
                                 "the file has a header but no data rows", file=src.display))
    # select by name: readers may return columns in file order, not in the order asked for
    return table.select(list(wanted.values())).rename_columns(list(wanted))


def _check_object(src: Source, loc: ObjectPath) -> None:
    """A local file's checks, on an object: it exists, is not a prefix, is not empty."""
    found = object_store.info(loc, src.setting)
    if found.get("type") == "directory":
        raise InputError(object_store.prefix_problem(loc, src.setting))
    if found.get("size") == 0:  # (an HTTP server may not say the size: None)
        raise InputError(Problem("the file is empty, expected a header line and data rows",
                                 file=src.display))


@contextmanager
def _binary(src: Source) -> Iterator[IO[bytes]]:
    """The file, or the object through fsspec, open for reading bytes."""
    if isinstance(src.path, ObjectPath):
        with object_store.opened(src.path, src.setting) as fh:
            yield fh
    else:
        with src.path.open("rb") as fh:
            yield fh


@contextmanager
def _readable(src: Source) -> Iterator[Path | IO[bytes]]:
    """What pyarrow and pandas read: a local path (their own fast file access), else the
    object opened."""
    if isinstance(src.path, ObjectPath):
        with _binary(src) as fh:
            yield fh
    else:
        yield src.path


def column_setting(ours: str) -> str:
    """The cvm.yaml key that names the user's column for our ``ours`` (a contract's end is
    named under subscriptions:, every other column under data.columns)."""
    return "subscriptions.end" if ours == "end" else f"data.columns.{ours}"


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
            hint=hint or f"fix the column name under {column_setting(ours)} in cvm.yaml",
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
        with _readable(src) as where:
            return _parquet_columns(src, where, wanted, repeated)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(Problem(f"not a readable Parquet file ({exc})", file=src.display,
                                 hint="a .parquet file must be written by a Parquet writer")) \
            from None


def _parquet_columns(src: Source, where: Path | IO[bytes], wanted: Mapping[str, str],
                     repeated: set[str]) -> pa.Table:
    schema = pq.read_schema(where)
    _missing_columns(src, schema.names, wanted, None)
    for ours, theirs in wanted.items():
        kind = schema.field(theirs).type
        if pa.types.is_nested(kind):  # lists, structs, maps: no single value per row
            raise InputError(Problem(
                f"found values of type {kind}, expected plain values (text, numbers or "
                "dates)", file=src.display, key=f"column {theirs!r}",
                hint=f"cvm.yaml maps {ours} to this column; map a column of plain values"
                if src.configured else "give a column of plain values"))
    text = [n for n in sorted(repeated) if is_text(schema.field(n).type)]
    return pq.read_table(where, columns=list(dict.fromkeys(wanted.values())),
                         read_dictionary=text or None)


HEAD_BYTES = 1 << 20  # enough for any header line; the data is read by pyarrow
UTF16_HINT = "the file looks like UTF-16 text: set data.encoding: utf-16 in cvm.yaml, or " \
    "save the file as UTF-8"


def encoding_hint(src: Source, configured: str) -> str:
    """The hint of undecodable bytes: ``configured`` names data.encoding, which only a file
    cvm.yaml configures can set."""
    if src.configured:
        return configured
    shown = "UTF-8" if src.encoding == "utf-8" else src.encoding
    return f"the file is read as {shown}: save it as {shown}"


def _header(src: Source) -> list[str]:
    """The column names of the first line (any line ending; a UTF-8 byte order mark is
    dropped), checked: not empty, no NUL bytes (a UTF-16 file read as UTF-8)."""
    with _binary(src) as fh:
        head = fh.read(HEAD_BYTES)
    utf16_bom = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    decoder = codecs.getincrementaldecoder(src.encoding)()
    try:
        text = decoder.decode(head, final=False)
    except UnicodeDecodeError as exc:
        text = head[: exc.start].decode(src.encoding, errors="replace")
        if not any(c in text for c in "\r\n"):  # the bad byte is in the header itself
            raise InputError(Problem(
                f"byte {head[exc.start]:#04x} at position {exc.start + 1} is not valid "
                f"{src.encoding}", file=src.display, line=1,
                hint=encoding_hint(src, UTF16_HINT if utf16_bom else "save the file as "
                                   "UTF-8, or set data.encoding in cvm.yaml (e.g. latin-1)")
                )) from None
    first = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0].lstrip("\ufeff")
    if "\x00" in first:
        raise InputError(Problem("found NUL bytes in the header line, expected text",
                                 file=src.display, line=1, key="header",
                                 hint=encoding_hint(src, UTF16_HINT)))
    if not first.strip():
        raise InputError(Problem(
            "the first line is empty, expected the header line with the column names",
            file=src.display, line=1, key="header",
            hint="the header must be the first line: remove the blank lines above it"))
    if src.delimiter == "whitespace":
        return first.split()
    return next(csv.reader([first], delimiter=src.delimiter))


def _duplicated_columns(src: Source, header: list[str], wanted: Mapping[str, str]) -> None:
    """A mapped column named twice in the header: which one holds the values is a guess."""
    for ours, theirs in wanted.items():
        where = [i + 1 for i, name in enumerate(header) if name == theirs]
        if len(where) > 1:
            raise InputError(Problem(
                f"column {theirs!r} appears {len(where)} times (columns "
                + ", ".join(map(str, where)) + "), expected once", file=src.display, line=1,
                key="header", hint=f"cvm.yaml maps {ours} to {theirs!r}, which must name "
                "one column: rename the others" if src.configured else "a column is named "
                "once in the header: rename or remove the others"))


def _read_csv(src: Source, wanted: Mapping[str, str], repeated: set[str]) -> pa.Table:
    header = _header(src)
    _missing_columns(src, header, wanted, 1)
    _duplicated_columns(src, header, wanted)
    if src.delimiter == "whitespace":
        return _read_whitespace(src, wanted, len(header))
    theirs = list(dict.fromkeys(wanted.values()))
    try:
        with _readable(src) as where:
            return _csv_columns(src, where, theirs, repeated)
    except pa.ArrowInvalid as exc:
        raise InputError(_locate_csv_error(src, str(exc), len(header))) from None


def _csv_columns(src: Source, where: Path | IO[bytes], theirs: list[str],
                 repeated: set[str]) -> pa.Table:
    return pacsv.read_csv(
        where,
        read_options=pacsv.ReadOptions(encoding=src.encoding, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=src.delimiter, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(
            include_columns=theirs,
            column_types={n: DICTIONARY if n in repeated else pa.string() for n in theirs},
            # only an empty cell is empty: "NA", "null" or "nan" are values (a region, an
            # id), and a "nan" amount is an error, not a missing amount
            strings_can_be_null=True, null_values=[""], quoted_strings_can_be_null=False,
        ),
    )


def _read_whitespace(src: Source, wanted: Mapping[str, str], n_columns: int) -> pa.Table:
    """Columns separated by runs of spaces (CDNOW's layout): read by pandas, every column
    (with ``usecols`` pandas drops extra fields and pads short rows without a word)."""
    try:
        with _readable(src) as where:
            frame = pd.read_csv(where, sep=r"\s+", dtype=str, encoding=src.encoding,
                                keep_default_na=False, na_values=[""], index_col=False)
    except UnicodeDecodeError:
        raise InputError(_locate_bad_bytes(src)) from None
    except (pd.errors.ParserError, ValueError) as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found is None:
            raise InputError(Problem(f"cannot be read: {exc}", file=src.display)) from None
        raise InputError(Problem(
            f"found {found.group(3)} fields, expected {n_columns} like the header",
            file=src.display, line=int(found.group(2)),
            hint="with data.delimiter: whitespace, a value cannot contain spaces")) from None
    # runs of spaces never make an empty field: an empty cell is a row cut short
    short = frame.isna().any(axis=1).to_numpy()
    if short.any():
        row = int(short.argmax())
        fields = int(frame.iloc[row].notna().sum())
        raise InputError(src.row_problem(
            row, frame.columns[fields], f"found {fields} fields, expected {n_columns} like "
            "the header", hint="the line is cut, or a value is missing"))
    return pa.Table.from_pandas(frame[list(dict.fromkeys(wanted.values()))],
                                preserve_index=False)


def _locate_csv_error(src: Source, message: str, n_columns: int) -> Problem:
    """pyarrow's CSV errors name no line; find it ourselves (only on the error path)."""
    if "UTF8" in message or "decode" in message.lower():
        return _locate_bad_bytes(src)
    csv.field_size_limit(1 << 30)  # a huge field is reported below, not a csv module error
    with _binary(src) as raw, io.TextIOWrapper(raw, encoding=src.encoding, errors="replace",
                                               newline="") as fh:
        reader = csv.reader(fh, delimiter=src.delimiter)
        start = 1
        try:
            for row in reader:
                if row and len(row) != n_columns:
                    end = reader.line_num
                    return Problem(
                        f"found {len(row)} fields, expected {n_columns} like the header",
                        file=src.display, line=start,
                        hint=f"a quote (\") opened on line {start} is closed only on line "
                        f"{end}, or never" if end > start else "a value may contain the "
                        "delimiter without quotes, or the line is cut")
                start = reader.line_num + 1
        except csv.Error as exc:
            return Problem(f"cannot be read as CSV: {exc}", file=src.display, line=start)
    if "Empty CSV file" in message:
        return Problem("the file has a header but no data rows", file=src.display)
    if "straddling" in message:
        return Problem("a value is longer than 16 MiB, expected shorter values",
                       file=src.display, hint="the file may be damaged, or not a CSV file")
    return Problem(f"cannot be read as CSV: {message}", file=src.display)


def _locate_bad_bytes(src: Source) -> Problem:
    decoder = codecs.getincrementaldecoder(src.encoding)()
    line, offset = 1, 0
    with _binary(src) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad = chunk[: exc.start]
                line += bad.count(b"\n")
                return Problem(
                    f"byte {chunk[exc.start]:#04x} at byte offset {offset + exc.start} is not "
                    f"valid {src.encoding}", file=src.display, line=line,
                    hint=encoding_hint(src, "save the file as UTF-8, or set data.encoding "
                                       "in cvm.yaml (e.g. latin-1 or cp1252)"),
                )
            line += chunk.count(b"\n")
            offset += len(chunk)
    return Problem(f"is not valid {src.encoding}", file=src.display)


def dictionary(col: pa.ChunkedArray | pa.Array) -> pa.DictionaryArray:
    """The column as one dictionary array (encoded here unless read that way)."""
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    if isinstance(col, pa.ChunkedArray):
        col = col.unify_dictionaries().combine_chunks() if col.num_chunks \
            else pa.array([], col.type)
    return col


def is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))
