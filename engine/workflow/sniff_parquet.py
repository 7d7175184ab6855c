"""The first rows of a Parquet export, as ``cvm init --from`` reads a CSV file's: each
column's values as text written as the engine reads them (a date column in ISO 8601, numbers
with a decimal point), for the same guesses. Its column types need no delimiter or encoding,
and its date columns no date_format."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from engine.errors import InputError, Problem

MAGIC = b"PAR1"  # a Parquet file's first four bytes


def sample(path: Path, rows: int) -> tuple[list[str], dict[str, list[str]]]:
    """The column names and the first ``rows`` values of each column, as text."""
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
    return header, {name: [_text(v) for v in batch.column(i).to_pylist()]
                    for i, name in enumerate(header)}


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
