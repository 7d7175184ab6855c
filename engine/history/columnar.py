"""Each run's actioned customers as one compressed Arrow block (table ``cvm_run_actions``).

The look-backs of a run (contact policies: who was contacted, on which channel, in which
campaign; ``cvm measure`` and learning: who was treated or held out) read a few columns of the
actioned rows of a handful of runs. The same rows as one Arrow IPC block per run, written at
record time beside the run's snapshot parts (``cvm_run_snapshots``, sorted by customer for
one customer's look-up), decode in milliseconds without reading the whole snapshot.

The block's columns (actioned = a campaign or a status): customer_id, campaign, channel,
status, holdout, cost. The format is versioned (``FORMAT``): a reader refuses a block it does
not know.
"""

from __future__ import annotations

import gc
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, select
from sqlalchemy.engine import Connection

from engine.activation.ids import id_texts, positions
from engine.history import block_format

FORMAT = 2  # 1: every text column as plain text (still read)
ACTION_COLUMNS = ("customer_id", "campaign", "channel", "status", "holdout", "cost")
SCHEMA = pa.schema([("customer_id", pa.string()), ("campaign", pa.string()),
                    ("channel", pa.string()), ("status", pa.string()),
                    ("holdout", pa.bool_()), ("cost", pa.float64())])
# the columns of a few distinct values, stored dictionary-coded from format 2 (integer
# indices into their few texts): decoded, filtered and grouped without a text per row
CODED = ("campaign", "channel", "status")
BLOCK_SCHEMA = pa.schema([pa.field(f.name, pa.dictionary(pa.int32(), pa.string()))
                          if f.name in CODED else f for f in SCHEMA])
CODED_ID = pa.field("customer_id", pa.dictionary(pa.int32(), pa.string()))
_CODEC = "zstd" if pa.Codec.is_available("zstd") else None


def table(metadata: MetaData) -> Table:
    """cvm_run_actions: one row per run (declared here and in tables.py's metadata)."""
    return block_table("cvm_run_actions", metadata)


def block_table(name: str, metadata: MetaData) -> Table:
    """A table of one Arrow block per run: the run's id in cvm_runs, the block's format
    version, its row count and its bytes."""
    return Table(
        name, metadata,
        Column("run", Integer, primary_key=True, autoincrement=False),  # cvm_runs.id
        Column("format", Integer, nullable=False),
        Column("rows", Integer, nullable=False),
        Column("data", LargeBinary, nullable=False),
    )


def encode(frame: pd.DataFrame) -> tuple[int, bytes]:
    """The actioned rows of a snapshot (rows with a campaign or a status: a contact is a
    contact even if written without its campaign) as one Arrow IPC stream."""
    part = frame[frame["campaign"].notna() | frame["status"].notna()]
    arrays = []
    for name, kind in zip(SCHEMA.names, SCHEMA.types, strict=True):
        values = part[name]
        if kind == pa.bool_():  # True/False/None, or 1/0/None as SQLite gives them back
            arrays.append(pa.array(values.astype("boolean"), type=kind))
        elif kind == pa.float64():
            arrays.append(pa.array(values.to_numpy(dtype=float), type=kind, from_pandas=True))
        else:
            arrays.append(pa.array(values.to_numpy(dtype=object), type=kind, from_pandas=True))
    part_table = coded(pa.Table.from_batches([pa.record_batch(arrays, schema=SCHEMA)]))
    sink = io.BytesIO()
    options = ipc.IpcWriteOptions(compression=_CODEC)
    with ipc.new_stream(sink, part_table.schema, options=options) as writer:
        writer.write_table(part_table, max_chunksize=max(part_table.num_rows, 1))
    return part_table.num_rows, sink.getvalue()


def coded(part: pa.Table) -> pa.Table:
    """A block's columns (SCHEMA's, or some of them) in the stored form: the CODED columns
    dictionary-coded (a block of format 1 read back takes this form too)."""
    for name in CODED:
        at = part.schema.get_field_index(name)
        if at >= 0 and not pa.types.is_dictionary(part.schema.field(at).type):
            column = part.column(at).combine_chunks()
            part = part.set_column(at, BLOCK_SCHEMA.field(name),
                                   pc.dictionary_encode(column).cast(
                                       BLOCK_SCHEMA.field(name).type))
    return part


def equal(column: pa.ChunkedArray, text: str) -> np.ndarray:
    """Where a CODED column is ``text`` (False where missing), on its integer indices (on
    the text itself in a block of format 1)."""
    # written in place, chunk after chunk: one array of a byte a row, no copy per chunk
    out = np.empty(len(column), dtype=bool)
    at = 0
    for chunk in column.chunks:
        into = out[at:at + len(chunk)]
        at += len(chunk)
        if not pa.types.is_dictionary(chunk.type):
            into[:] = np.asarray(pc.equal(chunk, text).fill_null(False).to_numpy(
                zero_copy_only=False), dtype=bool)
            continue
        words = chunk.dictionary.to_pylist()
        hits = [k for k, w in enumerate(words) if w == text]
        if not hits:
            into[:] = False
            continue
        if len(hits) == 1 and not chunk.null_count:
            # one word of the dictionary: a comparison of the stored indices (no wider copy)
            np.equal(np.asarray(chunk.indices.to_numpy()), hits[0], out=into)
            continue
        table = np.array([w == text for w in words] + [False])  # the spare last: missing
        np.take(table, np.asarray(chunk.indices.fill_null(len(words)).to_numpy()), out=into)
    return out


def read_blocks(conn: Connection, store_table: Table, runs: Sequence[int],
                columns: Sequence[str] = ACTION_COLUMNS, *, status: str | None = None,
                narrow: bool = False) -> tuple[pa.Table, np.ndarray, list[int]]:
    """The actioned rows of ``runs`` in run order then as recorded: the ``columns`` (one chunk
    per run), each row's run (int64; with ``narrow``, the narrowest signed integers that hold
    the runs' keys: ten million rows of int64 are 80 MB of fresh pages), and each run's row
    count. Only the columns asked for (and
    status, to filter on it) are decompressed. With ``status``, customer_id comes
    dictionary-coded: each chunk's rows are indices into the run's whole id column, whose
    text is not copied (a look-up hashes each run's ids once: engine.activation.ids)."""
    found = conn.execute(select(store_table.c.run, store_table.c.format, store_table.c.data)
                         .where(store_table.c.run.in_(list(runs)))
                         .order_by(store_table.c.run)).all() if runs else []
    wanted = list(dict.fromkeys([*columns, *(["status"] if status is not None else [])]))
    options = ipc.IpcReadOptions(included_fields=[SCHEMA.get_field_index(c) for c in wanted])
    parts: list[pa.Table] = []
    sizes: list[int] = []
    keys: list[int] = []
    for run, fmt, data in found:
        block_format.check("actions", run, fmt, range(1, FORMAT + 1))
        block = block_format.read_block(data, options)
        if status is not None:
            keep = equal(block.column("status"), status)
            ids = block.column("customer_id").combine_chunks() \
                if "customer_id" in columns else None
            if ids is not None:  # its text is not filtered (copied): it is coded below
                block = block.set_column(block.schema.get_field_index("customer_id"),
                                         "customer_id", pa.nulls(block.num_rows, pa.string()))
            block = block.filter(pa.array(keep))
            if ids is not None:
                rows = pa.array(np.flatnonzero(keep).astype(np.int32))
                block = block.set_column(block.schema.get_field_index("customer_id"),
                                         CODED_ID, pa.DictionaryArray.from_arrays(rows, ids))
        # a block of format 1 coded here, after the filter: only the rows kept
        parts.append(coded(block.select(list(columns))))
        sizes.append(block.num_rows)
        keys.append(int(run))
    schema = pa.schema([CODED_ID if c == "customer_id" and status is not None
                        else BLOCK_SCHEMA.field(c) for c in columns])
    whole = pa.concat_tables(parts) if parts else schema.empty_table()
    kind = _narrowest(max(keys, default=0)) if narrow else np.int64
    return whole, np.repeat(np.asarray(keys, dtype=kind), sizes), sizes


def _narrowest(top: int) -> type[np.signedinteger]:
    """The narrowest signed integers that hold 0 .. ``top``."""
    return next(t for t in (np.int8, np.int16, np.int32, np.int64) if top < np.iinfo(t).max)


def read_actions(conn: Connection, store_table: Table, runs: Sequence[int],
                 columns: Sequence[str] = ACTION_COLUMNS, *, status: str | None = None,
                 codes_in: pa.Array | None = None) -> pd.DataFrame:
    """The actioned rows of ``runs`` (a ``run`` column first), in run order then as recorded;
    with ``status``, only the rows of that status (filtered before any Python object is
    made). With ``codes_in`` (ids), a column ``code``: each customer's position in it (-1 if
    absent), found by Arrow's hash join; ``customer_id`` is then filled only where the code is
    -1 (a Python string per row is what costs at a million rows)."""
    names = ["run", *columns]
    whole, run, sizes = read_blocks(conn, store_table, runs, columns, status=status)
    if not len(sizes):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in names})
    # plain numpy columns (text as objects), whatever pandas' default string type: pandas 3's
    # Arrow-backed strings are iterated in Python by isin and friends
    out: dict[str, object] = {"run": pd.Series(run)}
    for c in columns:
        if c == "customer_id" and codes_in is not None:
            code, missing = lookup(whole.column(c), codes_in)
            out[c], out["code"] = pd.Series(missing, dtype=object), code
            continue
        out[c] = pd.Series(id_texts(whole.column(c), np.arange(whole.num_rows)), dtype=object) \
            if c == "customer_id" else pd.Series(_numpy(whole.column(c)))
    return pd.DataFrame(out)


def lookup(ids: pa.ChunkedArray, value_set: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Each id's position in ``value_set`` (-1 if absent), and the ids themselves where absent
    (None elsewhere: a Python string per row is what costs at a million rows).

    One hash look-up for all the chunks (one per run), and none for a chunk (or a chunk's
    dictionary: read_blocks' coded ids) equal to an earlier one: runs often action the same
    customers in the same order, and comparing two chunks is a memory compare
    (engine.activation.ids)."""
    code = positions(ids, value_set)
    missing = np.full(len(code), None, dtype=object)
    lost = np.flatnonzero(code < 0)
    if len(lost):
        missing[lost] = id_texts(ids, lost)
    return code, missing


@contextmanager
def many_rows() -> Iterator[None]:
    """Python's cycle collector paused while a query's rows are fetched and turned into
    arrays: each of a few hundred thousand rows is a tuple that survives, so the collector
    would walk them all again and again as they pile up (a third of the time of reading the
    responses); tuples of texts, numbers and dates hold no cycle to collect."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def categories(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """A text column of a few distinct values as codes (-1: missing; the narrowest signed
    integers that hold them) into its distinct values in text order. Each chunk (a run) is
    encoded on its own: no copy of the whole column."""
    found = []  # per chunk: its indices (missing: the spare last), its texts, those used
    for chunk in column.chunks:
        c = chunk if pa.types.is_dictionary(chunk.type) else pc.dictionary_encode(chunk)
        index = np.asarray((c.indices.fill_null(len(c.dictionary)) if c.null_count
                            else c.indices).to_numpy())  # Arrow's buffer when none is missing
        used = np.bincount(index, minlength=len(c.dictionary) + 1)[:-1] > 0
        found.append((index, c.dictionary.to_pylist(), used))
    # the texts in use only: a stored dictionary may hold texts its filtered rows lack
    words = sorted({w for _, texts, used in found for w, u in zip(texts, used, strict=True)
                    if u})
    rank = {w: k for k, w in enumerate(words)}
    # the narrowest integers that hold the codes: ten million rows of int64 are 80 MB of
    # fresh pages, of int8 10 MB; written in place, chunk after chunk (no concatenation)
    kind = _narrowest(len(words))
    out = np.empty(sum(len(index) for index, _, _ in found), dtype=kind)
    at = 0
    for index, texts, _ in found:
        # the chunk's own codes to the common ones; the spare last slot: missing
        to = np.array([rank.get(w, -1) for w in texts] + [-1], dtype=kind)
        np.take(to, index, out=out[at:at + len(index)])
        at += len(index)
    return out, words


def _numpy(column: pa.ChunkedArray) -> np.ndarray | pd.Categorical:
    """A column as numpy; a text column (campaign, channel, status: a few distinct values) as
    a categorical with its categories in text order, so that grouping and comparing it never
    hashes a Python string per row."""
    if not (column.type == pa.string() or pa.types.is_dictionary(column.type)) \
            or column.num_chunks == 0:
        plain: np.ndarray = column.to_numpy()
        return plain
    codes, words = categories(column)
    return pd.Categorical.from_codes(codes, categories=words)
