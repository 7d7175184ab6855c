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

if TYPE_CHECKING:
    import pyarrow as pa

# A spreadsheet runs a cell that starts with one of these as a formula (or, for tab and carriage
# return, shifts it into a formula cell): =1+2, +cmd|..., -2+3, @SUM(...). Text cells that start
# so are written with a leading apostrophe, which spreadsheets hide and read as "text".
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = r"^[+-][0-9]+(\.[0-9]+)?$"  # "-5", "+4.5": a number to a spreadsheet, no formula


def rounded(frame: pd.DataFrame, money: Collection[str]) -> pd.DataFrame:
    """A table as written: ``money`` columns to cents, other decimals to 6 places. Adding 0.0
    turns -0.0 (a tiny negative rounded, or a negated 0) into 0, so no cell reads "-0"."""
    out = frame.copy(deep=False)  # the columns replaced below are new; the rest are shared
    for col in out.columns:
        if out[col].dtype.kind == "f":
            out[col] = out[col].round(2 if col in money else 6) + 0.0
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
        if pa.types.is_dictionary(col.type):  # the few distinct values, not every row
            col = pa.chunked_array(
                [pa.DictionaryArray.from_arrays(c.indices, _as_text(c.dictionary))
                 for c in col.chunks], type=col.type)
        elif pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            col = pa.chunked_array([_as_text(c) for c in col.chunks], type=col.type)
        if pa.types.is_timestamp(col.type):
            as_date = pc.cast(col, pa.date32())
            if pc.all(pc.equal(pc.cast(as_date, col.type), col)).as_py() is not False:
                col = as_date
        columns.append(col)  # dictionaries and floats are converted a block at a time
    table = pa.table(columns, names=table.column_names)
    with _Sink(path, hashed) as out:
        out.write(csv_bytes(table.slice(0, 0), header=True))
        if table.num_rows <= _BLOCK_ROWS:
            out.write(csv_bytes(table, header=False))
        else:  # in blocks on both cores, into buffers used again (csv_blocks.py)
            write_blocks(table, out.write, _BLOCK_ROWS)
    return out.hexdigest()


_BLOCK_ROWS = 131_072


class _Sink:
    """A file written from buffers, hashed on the way when asked: the bytes are in memory
    already, where hashing the file would read it back."""

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

    def hexdigest(self) -> str:
        return self._digest.hexdigest() if self._digest is not None else ""

    def __enter__(self) -> _Sink:
        return self

    def close(self) -> None:
        self._file.close()

    def __exit__(self, *exc: object) -> None:
        self._file.close()


# Large CSV files: formatted by Arrow in blocks of rows on both cores, written in order. Each
# block is formatted into one of a few output buffers kept and used again: this machine charges
# more for memory fresh from the system (the kernel zeroes every new page) than Arrow takes to
# copy into it, and a stream growing by doubling, made anew for each block, was a large part of
# the cost of decisions.csv. Cells that need converting (dictionary texts, floats) are converted
# a block at a time too, never a whole column at once.


def csv_options(*, header: bool) -> object:
    import pyarrow.csv as pacsv

    return pacsv.WriteOptions(include_header=header, quoting_style="needed",
                              batch_size=1 << 17)  # a block in one piece


def as_written(block: pa.Table) -> pa.Table:
    """``block`` with the cells Arrow's CSV writer takes: dictionary texts decoded, and
    floats plus 0.0 (-0.0 + 0.0 is 0.0: no cell reads "-0")."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for col in block.columns:
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        elif pa.types.is_floating(col.type):
            col = pc.add(col, 0.0)
        columns.append(col)
    return pa.table(columns, names=block.column_names)


def csv_bytes(block: pa.Table, *, header: bool) -> pa.Buffer:
    """The CSV text of ``block`` in a new buffer: its header only, or its rows (the same bytes
    as the rows take in the whole table's CSV, since Arrow quotes and formats each cell on
    its own)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    sink = pa.BufferOutputStream()
    pacsv.write_csv(as_written(block), sink, write_options=csv_options(header=header))
    return sink.getvalue()


class _Formatter:
    """An output buffer kept for block after block (Arrow's writer, made anew for each block,
    can only append to a stream: it cannot be sought back to the start)."""

    def __init__(self, capacity: int) -> None:
        import pyarrow as pa

        self.buffer = pa.allocate_buffer(capacity)

    def format(self, block: pa.Table) -> pa.Buffer | None:
        """The rows of ``block`` (a view of this formatter's buffer, valid until its next
        block), or None when they do not fit."""
        import pyarrow as pa
        import pyarrow.csv as pacsv

        stream = pa.FixedSizeBufferWriter(self.buffer)
        try:
            pacsv.write_csv(block, stream, write_options=csv_options(header=False))
        except (pa.ArrowInvalid, pa.ArrowIOError, OSError):
            return None
        return self.buffer.slice(0, stream.tell())


def write_blocks(table: pa.Table, write: Callable[[pa.Buffer], object], rows: int) -> None:
    """The rows of ``table``, ``rows`` at a time, in order, through ``write``."""
    first = csv_bytes(table.slice(0, rows), header=False)
    write(first)
    capacity = first.size * 3 // 2 + (1 << 20)  # blocks differ a little in size
    free: list[_Formatter] = []

    def job(block: pa.Table, formatter: _Formatter) -> tuple[_Formatter | None, pa.Buffer]:
        text = formatter.format(as_written(block))
        if text is None:  # a block larger than the buffers: made as the first one was
            return None, csv_bytes(block, header=False)
        return formatter, text

    with ThreadPoolExecutor(max_workers=2) as pool:
        pending: deque[Future[tuple[_Formatter | None, pa.Buffer]]] = deque()

        def write_next() -> None:
            formatter, text = pending.popleft().result()
            write(text)
            if formatter is not None:
                free.append(formatter)  # its buffer written: ready for another block

        for start in range(rows, table.num_rows, rows):
            formatter = free.pop() if free else _Formatter(capacity)
            pending.append(pool.submit(job, table.slice(start, rows), formatter))
            if len(pending) > 3:
                write_next()
        while pending:
            write_next()


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
    # hashed on its way to the file, a page at a time: a whole file made in memory first grows
    # its buffer by doubling, each time into fresh memory (a fifth of the time at 1M customers)
    with _Sink(path, hashed) as out:
        pq.write_table(table, out, compression="zstd", use_dictionary=coded)
    return out.hexdigest()


def write_text(text: str, path: Path) -> None:
    path.write_text(text, encoding="utf-8")
