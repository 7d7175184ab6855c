"""How tables are written: rounding, CSV and Parquet.

Where files go, and what may be replaced there, is engine.output.folder: every writer here
writes to a path it is given inside a command's private staging folder.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from engine.decimals import round_series

if TYPE_CHECKING:
    import pyarrow as pa

# A spreadsheet runs a cell that starts with one of these as a formula (or, for tab and carriage
# return, shifts it into a formula cell): =1+2, +cmd|..., -2+3, @SUM(...). Text cells that start
# so are written with a leading apostrophe, which spreadsheets hide and read as "text".
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = r"^[+-][0-9]+(\.[0-9]+)?$"  # "-5", "+4.5": a number to a spreadsheet, no formula


def rounded(frame: pd.DataFrame, money: Collection[str]) -> pd.DataFrame:
    """A table as written: ``money`` columns to cents, other decimals to 6 places, half up on
    the decimal value (engine.decimals), never -0."""
    out = frame.copy(deep=False)  # the columns replaced below are new; the rest are shared
    for col in out.columns:
        if out[col].dtype.kind == "f":
            out[col] = round_series(out[col], 2 if col in money else 6)
        elif col in money:
            out[col] = out[col].round(2)
    return out


def write_csv(frame: pd.DataFrame | pa.Table, path: Path, *, hashed: bool = False) -> str:
    """CSV through Arrow (about ten times pandas' speed at a million rows): dates at
    midnight as YYYY-MM-DD, booleans as true/false, floats in their shortest exact form (zero
    as 0, never -0), quotes only where needed, "\n" line ends; a missing value and an empty
    text are both an empty cell, never ``""``; text that a spreadsheet would run as a formula
    gets a leading ``'`` (numbers never change). Every CSV file the engine writes goes through
    here. ``hashed``: returns the SHA-256 of the file's bytes, taken as they are written ("")
    otherwise)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = arrow_table(frame)
    columns = []
    for col in table.columns:
        if pa.types.is_dictionary(col.type):  # the few distinct values, not every row; each
            # block of rows is decoded as it is formatted (_csv_block), on both cores, so the
            # whole column's text (the policies' reasons, 300 MB at 1M) is never made at once
            col = pa.chunked_array(
                [pa.DictionaryArray.from_arrays(c.indices, _as_text(c.dictionary))
                 for c in col.chunks], type=col.type)
        elif pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            col = pa.chunked_array([_as_text(c) for c in col.chunks], type=col.type)
        if pa.types.is_timestamp(col.type):
            as_date = pc.cast(col, pa.date32())
            if pc.all(pc.equal(pc.cast(as_date, col.type), col)).as_py() is not False:
                col = as_date
        if pa.types.is_floating(col.type):
            col = pc.add(col, 0.0)  # -0.0 + 0.0 is 0.0: no cell reads "-0"
        columns.append(col)
    table = pa.table(columns, names=table.column_names)
    with _Sink(path, hashed) as out:
        out.write(_csv_block(table.slice(0, 0), header=True))
        if table.num_rows <= _BLOCK_ROWS:
            out.write(_csv_block(table, header=False))
            return out.hexdigest()
        # a large table is cut into blocks of rows made on both cores (Arrow's kernels run
        # without Python's lock) and written in order, a few blocks in memory
        with ThreadPoolExecutor(max_workers=2) as pool:
            pending: deque[Future[pa.Buffer]] = deque()
            for start in range(0, table.num_rows, _BLOCK_ROWS):
                pending.append(pool.submit(_csv_block, table.slice(start, _BLOCK_ROWS),
                                           header=False))
                if len(pending) > 3:
                    out.write(pending.popleft().result())
            while pending:
                out.write(pending.popleft().result())
    return out.hexdigest()


_BLOCK_ROWS = 131_072


class _Sink:
    """A file written from buffers, hashed on the way when asked: the bytes are in memory
    already, where hashing the file would read it back. Arrow's Parquet writer writes to it
    as to any Python file."""

    def __init__(self, path: Path, hashed: bool) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 - closed by __exit__
        self._digest = hashlib.sha256() if hashed else None

    def write(self, data: pa.Buffer | bytes) -> int:
        self._file.write(data)
        if self._digest is not None:
            self._digest.update(data)
        return len(data)

    # what pyarrow asks of a file object it writes to (the Parquet writer)
    closed = False

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def hexdigest(self) -> str:
        return self._digest.hexdigest() if self._digest is not None else ""

    def __enter__(self) -> _Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()


def _csv_block(block: pa.Table, *, header: bool) -> pa.Buffer:
    """The CSV text of ``block``: its header only, or its rows: the same bytes as the rows
    take in the whole table's CSV, since Arrow quotes and formats each cell on its own."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    sink = pa.BufferOutputStream()
    if any(pa.types.is_dictionary(t) for t in block.schema.types):
        block = pa.table([c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c
                          for c in block.columns], names=block.column_names)
    pacsv.write_csv(block, sink, write_options=pacsv.WriteOptions(
        include_header=header, quoting_style="needed", batch_size=1 << 16))
    return sink.getvalue()


def arrow_table(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """A table as Arrow holds it (a pandas table converted once, for all the files of it)."""
    import pyarrow as pa

    if isinstance(frame, pa.Table):
        return frame
    return pa.Table.from_pandas(frame, preserve_index=False)


def _as_text(values: pa.Array) -> pa.Array:
    """Text cells as written: empty text as missing (one empty cell), formulas defused."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        return values
    if values.offset:  # a slice: pyarrow 15's if_else garbles text of an offset array
        values = pa.concat_arrays([values])
    empty = pc.equal(values, "")
    if pc.any(empty).as_py():
        values = pc.if_else(empty, pa.scalar(None, values.type), values)
    risky = _starts_like_formula(values)
    if not risky.any():
        return values
    risky &= ~pc.fill_null(pc.match_substring_regex(values, _PLAIN_NUMBER), False) \
        .to_numpy(zero_copy_only=False)
    quoted = pc.binary_join_element_wise(pa.scalar("'", values.type), values,
                                         pa.scalar("", values.type))
    return pc.if_else(pa.array(risky), quoted, values)


_FORMULA_BYTE = np.zeros(256, dtype=bool)
_FORMULA_BYTE[list("".join(FORMULA_START).encode())] = True


def _starts_like_formula(values: pa.Array) -> np.ndarray:
    """Whether each text starts with a formula character: its first byte, read from Arrow's
    buffers (all of FORMULA_START are one byte in UTF-8); a pass over a million ids takes
    milliseconds, where slicing every string would copy them all."""
    import pyarrow as pa

    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64 if pa.types.is_large_string(
        values.type) else np.int32)[values.offset:values.offset + len(values) + 1]
    data = values.buffers()[2]
    if data is None or data.size == 0:
        return np.zeros(len(values), dtype=bool)
    chars = np.frombuffer(data, dtype=np.uint8)
    starts = offsets[:-1]
    return _FORMULA_BYTE[chars[np.minimum(starts, chars.size - 1)]] & (offsets[1:] > starts)


def csv_writer(frame: pd.DataFrame) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        write_csv(frame, path)
    return write


def write_parquet(frame: pd.DataFrame | pa.Table, path: Path, *, hashed: bool = False) -> str:
    """Parquet (zstd) with the values as they are: programs read them unchanged.
    ``hashed``: returns the SHA-256 of the file's bytes ("" otherwise)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = arrow_table(frame)
    table = table.replace_schema_metadata(None)  # pandas metadata is not needed downstream
    # decimals (up to one distinct value per customer) are not dictionary-coded: Arrow would
    # hash each column until its dictionary outgrows a page, then start again plain (a third of
    # the time at 1M customers); texts, codes and counts repeat and keep their dictionaries
    coded = [f.name for f in table.schema if not pa.types.is_floating(f.type)]
    if not hashed:
        pq.write_table(table, path, compression="zstd", use_dictionary=coded)
        return ""
    # hashed on its way to the file, a page at a time: the whole file made in memory first grew
    # its buffer by doubling, each time into fresh memory (a tenth of its CPU time at 1M)
    with _Sink(path, hashed) as out:
        pq.write_table(table, out, compression="zstd", use_dictionary=coded)
    return out.hexdigest()


def write_text(text: str, path: Path) -> None:
    path.write_text(text, encoding="utf-8")
