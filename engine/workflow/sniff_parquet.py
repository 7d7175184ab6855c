"""The first rows of a Parquet export, as ``cvm init --from`` reads a CSV file's: each
column's values as text written as the engine reads them (a date column in ISO 8601, numbers
with a decimal point), for the same guesses. Its column types need no delimiter or encoding,
and its date columns no date_format."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from engine.data.date_hints import is_number
from engine.data.header import PARQUET_SUFFIXES
from engine.errors import InputError, Problem

MAGIC = b"PAR1"  # a Parquet file's first four bytes


def sample(path: Path, rows: int) -> tuple[list[str], dict[str, list[str]], set[str]]:
    """The column names, the first ``rows`` values of each column as text, and the columns of
    numbers (whose values the engine never reads as dates)."""
    if path.suffix.lower() not in PARQUET_SUFFIXES:  # every command would read it as CSV
        named = f"named {path.suffix}" if path.suffix else "without an extension"
        raise InputError(Problem(
            f"found a Parquet file {named}, expected a name ending in .parquet or .pq",
            file=str(path),
            hint="rename it (the engine reads a file as Parquet by its name), then run `cvm "
            "init --from` again"))
    try:
        batch = next(pq.ParquetFile(path).iter_batches(batch_size=rows), None)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(Problem(f"not a readable Parquet file ({exc})", file=str(path),
                                 hint="a .parquet file must be written by a Parquet writer")
                         ) from None
    if batch is None or batch.num_rows == 0:
        raise InputError(Problem(
            "found columns and no rows, expected rows of transactions", file=str(path),
            hint="export the transactions with their rows, then run `cvm init --from` again"))
    header = list(batch.schema.names)
    numeric = {f.name for f in batch.schema if is_number(f.type)}
    return header, {name: [_text(v) for v in batch.column(i).to_pylist()]
                    for i, name in enumerate(header)}, numeric


def number_date(column: str | None, columns: Mapping[str, list[str]],
                numeric: set[str]) -> str | None:
    """Why the column guessed for the date is no date: its values are numbers (20230101 as a
    whole number), which the engine reads as numbers in a Parquet file; None otherwise."""
    if column is None or column not in numeric:
        return None
    seen = next((v for v in columns[column] if v), "")
    return (f"{column!r} holds numbers ({seen}) in the Parquet file, which the engine "
            "reads as numbers, not dates: export it as a date column, or as text")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):  # (before date: a datetime is a date)
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
