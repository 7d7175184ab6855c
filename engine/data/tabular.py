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
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from engine.data import object_store
from engine.data.empty_tail import counted, without_empty_tail
from engine.data.header import (
    HEAD_BYTES,
    NoRows,
    Source,
    check_local,
    column_setting,
    duplicated_columns,
    encoding_hint,
    encoding_setting,
    header_names,
    missing_columns,
    names,
    no_rows,
    opened_bytes,
)
from engine.data.quotes import quote_problem
from engine.data.uuids import is_uuid_bytes, uuid_text
from engine.errors import InputError, Problem
from engine.project.location import config_shown
from engine.project.object_store import ObjectPath

__all__ = ["HEAD_BYTES", "Source", "column_setting", "read_columns"]

DICTIONARY = pa.dictionary(pa.int32(), pa.string())


def read_columns(src: Source, wanted: Mapping[str, str],
                 repetitive: Collection[str] = (), skip: Collection[str] = (),
                 first: int | None = None) -> pa.Table:
    """Read the user's columns named in ``wanted`` (our name -> their name), renamed to ours.

    Text columns named in ``repetitive`` (ours; dates, categories, channels) are read
    dictionary-encoded: each distinct value is stored once, so ten million rows of a few
    thousand dates cost little to read and to parse. ``skip`` (ours): columns of a Parquet
    file checked as the others are but not read (read already: engine.data.uuid_ids).
    ``first``: only the first rows, at most that many (``cvm validate`` checks their values).
    """
    repeated = {wanted[k] for k in repetitive if k in wanted} if first is None else set()
    if isinstance(src.path, ObjectPath):
        _check_object(src, src.path)
    else:
        check_local(src)
    skipped = {wanted[k] for k in skip if k in wanted} if src.is_parquet else set()
    table, tail = (_read_parquet(src, wanted, repeated, skipped, first), 0) if src.is_parquet \
        else without_empty_tail(src, _read_csv(src, wanted, repeated, first), first)
    if table.num_rows == 0:
        raise NoRows(no_rows(src))
    # select by name: readers may return columns in file order, not in the order asked for
    kept = [k for k, v in wanted.items() if v not in skipped]
    return counted(table.select([wanted[k] for k in kept]).rename_columns(kept), tail)


def read_first(src: Source, wanted: Mapping[str, str], first: int) -> tuple[Source, pa.Table]:
    """The first ``first`` rows (every column as text, none dictionary coded), and the source
    saying so when the file has more (its messages then count the rows with a problem among
    those)."""
    table = read_columns(src, wanted, first=first + 1)
    if table.num_rows <= first:
        return src, table
    return replace(src, first_rows=first), table.slice(0, first)


def _check_object(src: Source, loc: ObjectPath) -> None:
    """A local file's checks, on an object: it exists, is not a prefix, is not empty."""
    found = object_store.info(loc, src.setting)
    if found.get("type") == "directory":
        raise InputError(object_store.prefix_problem(loc, src.setting))
    if found.get("size") == 0:  # (an HTTP server may not say the size: None)
        raise NoRows(Problem("the file is empty, expected a header line and data rows",
                             file=src.display))


@contextmanager
def _readable(src: Source) -> Iterator[Path | IO[bytes]]:
    """What pyarrow and pandas read: a local path (their own fast file access), else the
    object opened."""
    if isinstance(src.path, ObjectPath):
        with opened_bytes(src) as fh:
            yield fh
    else:
        yield src.path


def _read_parquet(src: Source, wanted: Mapping[str, str], repeated: set[str],
                  skipped: set[str], first: int | None = None) -> pa.Table:
    try:
        with _readable(src) as where:
            return _parquet_columns(src, where, wanted, repeated, skipped, first)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(Problem(f"not a readable Parquet file ({exc})", file=src.display,
                                 hint="a .parquet file must be written by a Parquet writer")) \
            from None


def _parquet_columns(src: Source, where: Path | IO[bytes], wanted: Mapping[str, str],
                     repeated: set[str], skipped: set[str], first: int | None) -> pa.Table:
    schema = pq.read_schema(where)
    missing_columns(src, schema.names, wanted, None)
    for ours, theirs in wanted.items():
        kind = schema.field(theirs).type
        if pa.types.is_nested(kind):  # lists, structs, maps: no single value per row
            raise InputError(Problem(
                f"found values of type {kind}, expected plain values (text, numbers or "
                "dates)", file=src.display, key=f"column {theirs!r}",
                hint=f"{names(ours)} this column; map a column of plain values"
                if src.configured else "give a column of plain values"))
    text = [n for n in sorted(repeated) if is_text(schema.field(n).type)]
    columns = [n for n in dict.fromkeys(wanted.values()) if n not in skipped]
    if first is not None:  # the first row group's first rows, not the whole file
        batch = next(pq.ParquetFile(where).iter_batches(batch_size=first, columns=columns),
                     None)
        table = pa.Table.from_batches([batch]) if batch is not None else \
            schema.empty_table().select(columns)
    else:
        table = pq.read_table(where, columns=columns, read_dictionary=text or None)
    for i, field in enumerate(table.schema):  # Parquet's UUID type: its canonical text
        if is_uuid_bytes(field.type):
            table = table.set_column(i, field.name, uuid_text(table.column(i)))
    return table


def _header(src: Source) -> list[str]:
    """The column names of the file's first line (``header.header_names``)."""
    with opened_bytes(src, head=True) as fh:  # (an object: its first bytes, no read-ahead)
        return header_names(src, fh.read(HEAD_BYTES))


def _read_csv(src: Source, wanted: Mapping[str, str], repeated: set[str],
              first: int | None = None) -> pa.Table:
    header = _header(src)
    missing_columns(src, header, wanted, 1)
    duplicated_columns(src, header, wanted)
    if src.delimiter == "whitespace":
        return _read_whitespace(src, wanted, len(header), first)
    theirs = list(dict.fromkeys(wanted.values()))
    try:
        with _readable(src) as where:
            table = _csv_first(src, where, theirs, first) if first is not None else \
                _csv_columns(src, where, theirs, repeated)
    except pa.ArrowInvalid as exc:
        raise InputError(_locate_csv_error(src, str(exc), len(header))) from None
    except UnicodeDecodeError:  # Arrow's transcoder (an encoding other than UTF-8) raises it
        raise InputError(_locate_bad_bytes(src)) from None
    # read without an error, but perhaps with lines swallowed into one value: the rows read
    # against the file's lines; for the first rows (cvm validate's), the rows counted when the
    # file holds quotes (a local file's; an object's left to the commands)
    if (first is None or isinstance(src.path, Path)) and (problem := quote_problem(
            src, table.num_rows if first is None else None,
            lambda: _rows(src, theirs[0], len(header)))) is not None:
        raise InputError(problem)
    return table


def _rows(src: Source, column: str, n_columns: int) -> int:
    """The rows of a local CSV file, as every row is read (one column)."""
    try:
        with _readable(src) as where:
            return int(_csv_columns(src, where, [column], set()).num_rows)
    except pa.ArrowInvalid as exc:
        raise InputError(_locate_csv_error(src, str(exc), n_columns)) from None
    except UnicodeDecodeError:
        raise InputError(_locate_bad_bytes(src)) from None


def _csv_options(src: Source, theirs: list[str], repeated: set[str]
                 ) -> tuple[pacsv.ParseOptions, pacsv.ConvertOptions]:
    """How a CSV file's columns are read: every column as text (``repeated``: dictionary
    coded), to be checked value by value."""
    return (pacsv.ParseOptions(delimiter=src.delimiter, newlines_in_values=False),
            pacsv.ConvertOptions(
                include_columns=theirs,
                column_types={n: DICTIONARY if n in repeated else pa.string() for n in theirs},
                # only an empty cell is empty: "NA", "null" or "nan" are values (a region, an
                # id), and a "nan" amount is an error, not a missing amount
                strings_can_be_null=True, null_values=[""], quoted_strings_can_be_null=False))


def _csv_columns(src: Source, where: Path | IO[bytes], theirs: list[str],
                 repeated: set[str]) -> pa.Table:
    parse, convert = _csv_options(src, theirs, repeated)
    return pacsv.read_csv(
        where, read_options=pacsv.ReadOptions(encoding=src.encoding, block_size=1 << 24),
        parse_options=parse, convert_options=convert)


def _csv_first(src: Source, where: Path | IO[bytes], theirs: list[str], first: int
               ) -> pa.Table:
    """The first ``first`` rows, as ``_csv_columns`` reads every row (all columns as text),
    a block of the file at a time until there are enough."""
    parse, convert = _csv_options(src, theirs, set())
    reader = pacsv.open_csv(
        where, read_options=pacsv.ReadOptions(encoding=src.encoding, block_size=1 << 20),
        parse_options=parse, convert_options=convert)
    batches, rows = [], 0
    with reader:
        for batch in reader:
            batches.append(batch)
            rows += batch.num_rows
            if rows >= first:
                break
        return pa.Table.from_batches(batches, schema=reader.schema).slice(0, first)


def _read_whitespace(src: Source, wanted: Mapping[str, str], n_columns: int,
                     first: int | None = None) -> pa.Table:
    """Columns separated by runs of spaces (CDNOW's layout): read by pandas, every column
    (with ``usecols`` pandas drops extra fields and pads short rows without a word)."""
    try:
        with _readable(src) as where:
            frame = pd.read_csv(where, sep=r"\s+", dtype=str, encoding=src.encoding,
                                keep_default_na=False, na_values=[""], index_col=False,
                                nrows=first)
    except UnicodeDecodeError:
        raise InputError(_locate_bad_bytes(src)) from None
    except (pd.errors.ParserError, ValueError) as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found is None:
            raise InputError(Problem(f"cannot be read: {exc}", file=src.display)) from None
        raise InputError(Problem(
            f"found {found.group(3)} fields, expected {n_columns} like the header",
            file=src.display, line=int(found.group(2)),
            hint=f"with {_delimiter_key(src)}: whitespace, a value cannot contain spaces")
        ) from None
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
    # a huge field is reported below, not a csv module error; the process's limit is put
    # back after (the header's reader relies on it to refuse a file read as the wrong text)
    limit = csv.field_size_limit(1 << 30)
    try:
        found = _short_row(src, n_columns)
    finally:
        csv.field_size_limit(limit)
    if found is not None:
        return found
    if "Empty CSV file" in message:
        return Problem("the file has a header but no data rows", file=src.display,
                       hint=src.no_rows_hint())
    if "straddling" in message:
        return Problem("a value is longer than 16 MiB, expected shorter values",
                       file=src.display, hint="the file may be damaged, or not a CSV file")
    return Problem(f"cannot be read as CSV: {message}", file=src.display)


def _short_row(src: Source, n_columns: int) -> Problem | None:
    """The first row without the header's number of fields, or a csv module error."""
    with opened_bytes(src) as raw, io.TextIOWrapper(raw, encoding=src.encoding, errors="replace",
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
    return None


def _locate_bad_bytes(src: Source) -> Problem:
    decoder = codecs.getincrementaldecoder(src.encoding)()
    line, offset = 1, 0
    with opened_bytes(src) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad = chunk[: exc.start]
                line += bad.count(b"\n")
                return Problem(
                    f"byte {chunk[exc.start]:#04x} at byte offset {offset + exc.start} is not "
                    f"valid {src.encoding}", file=src.display, line=line,
                    hint=encoding_hint(src, "save the file as UTF-8, or set "
                                       f"{encoding_setting(src)} in {config_shown()} " + (
                                           "(e.g. latin-1 or cp1252)" if codecs.lookup(
                                               src.encoding).name.startswith("utf") else
                                           "to the file's (latin-1 reads every byte)")),
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


def _delimiter_key(src: Source) -> str:
    """The setting that gave the file its delimiter."""
    return "data.customers_delimiter" if src.setting == "data.customers" else "data.delimiter"
