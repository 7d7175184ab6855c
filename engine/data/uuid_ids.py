"""The id columns of a local Parquet file read as UUIDs, a row group at a time.

At 1M customers the customer and order ids of 9.5M rows, as 36-character text, are 0.8 GB:
read whole with the other columns, held while engine.data.uuids turned each into two 64-bit
integers, then dropped; they were most of loading's peak (3.4 GB of a UUID run's, against
2.4 GB with short ids), and memory touched for the first time is slow to fault in on some
machines (README "Performance"). Read a row group at a time and parsed as it is read, on a
thread of its own while the other columns are read, only one group's text is in memory. A
column whose first row group's statistics do not look like UUIDs is not tried
(``uuid_columns``); one any of whose values is not a canonical UUID in one case (a null,
another form, both cases) is then read whole, as text, before any value is checked, and
coded as any other (engine.data.load); so is one where two UUIDs share a hash key
(engine.data.codes, rare), when it is coded.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from engine.data.tabular import Source, is_text
from engine.data.uuids import Uuids, parse

_DASHES = (8, 13, 18, 23)


@dataclass(frozen=True)
class ParsedIds:
    """A column's UUIDs as numbers, and the text type the column has in the file (the type
    the distinct ids are written back in, as the text route gives them)."""

    uuids: Uuids
    kind: pa.DataType


def uuid_columns(src: Source, wanted: Mapping[str, str], ours: Collection[str]) -> list[str]:
    """Those of ``ours`` (our names, mapped in ``wanted``) worth parsing a row group at a
    time: text columns of a local Parquet file whose first row group's smallest and largest
    values, as the file's statistics give them, look like UUIDs. Other files and columns
    (short ids, no statistics, a file that cannot be read) are read as before, whole."""
    if not src.is_parquet or not isinstance(src.path, Path):
        return []
    try:
        with pq.ParquetFile(src.path) as file:
            schema = file.schema_arrow
            first = file.metadata.row_group(0) if file.num_row_groups else None
        if first is None:
            return []
        paths = [first.column(i).path_in_schema for i in range(first.num_columns)]
        found = []
        for name in ours:
            theirs = wanted.get(name)
            if theirs is None or schema.names.count(theirs) != 1 or paths.count(theirs) != 1:
                continue
            kind = schema.field(theirs).type
            stats = first.column(paths.index(theirs)).statistics
            if is_text(kind) and not pa.types.is_dictionary(kind) and stats is not None \
                    and stats.has_min_max and _looks_like_uuid(stats.min_raw) \
                    and _looks_like_uuid(stats.max_raw):
                found.append(name)
        return found
    except (pa.ArrowInvalid, OSError, ValueError):  # only a shortcut: never a failed load
        return []


def _looks_like_uuid(value: object) -> bool:
    """The bytes of a statistic (not decoded: any bytes may be there) as a UUID's."""
    return isinstance(value, bytes) and len(value) == 36 and \
        all(value[i] == ord("-") for i in _DASHES)


def parse_column(src: Source, column: str) -> ParsedIds | None:
    """The column ``column`` of ``src`` (a local Parquet file) as UUIDs, read and parsed a row
    group at a time; None unless every value is a canonical UUID, all in one case."""
    if not isinstance(src.path, Path):
        return None
    try:
        with pq.ParquetFile(src.path) as file:
            uuids = _parsed(file, column)
            kind = file.schema_arrow.field(column).type
        return None if uuids is None else ParsedIds(uuids, kind)
    except (pa.ArrowInvalid, OSError):  # read whole after: its reader says what is wrong
        return None


def _parsed(file: pq.ParquetFile, column: str) -> Uuids | None:
    rows = file.metadata.num_rows
    hi = np.empty(rows, dtype=np.uint64)
    lo = np.empty(rows, dtype=np.uint64)
    upper = lower = False
    done = 0
    for group in range(file.num_row_groups):
        text = file.read_row_group(group, columns=[column]).column(0)
        if not len(text):
            continue
        got = parse(text)
        if got is None or done + len(text) > rows:
            return None
        upper, lower = upper or got.upper, lower or got.lower
        if upper and lower:  # "A" and "a": one number, two texts
            return None
        hi[done:done + len(text)] = got.hi
        lo[done:done + len(text)] = got.lo
        done += len(text)
    return Uuids(hi, lo, upper, lower) if done == rows and rows else None
