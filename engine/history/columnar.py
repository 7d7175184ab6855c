"""Each run's actioned customers as one compressed Arrow block (table ``cvm_run_actions``).

The look-backs of a run (contact policies: who was contacted, on which channel, in which
campaign; ``cvm measure`` and learning: who was treated or held out) read a few columns of the
actioned rows of a handful of runs. Read row by row from ``cvm_snapshots`` that costs seconds
per million rows (a Python tuple per row); the same rows as one Arrow IPC block per run, written
at record time beside the snapshots, decode in milliseconds. ``cvm_snapshots`` stays the table
to query with SQL; the blocks are the engine's own copy of its columns below.

The block's columns (actioned = a campaign): customer_id, campaign, channel, status, holdout,
cost. The format is versioned (``FORMAT``): a reader refuses a block it does not know.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, select
from sqlalchemy.engine import Connection

FORMAT = 1
ACTION_COLUMNS = ("customer_id", "campaign", "channel", "status", "holdout", "cost")
SCHEMA = pa.schema([("customer_id", pa.string()), ("campaign", pa.string()),
                    ("channel", pa.string()), ("status", pa.string()),
                    ("holdout", pa.bool_()), ("cost", pa.float64())])
_CODEC = "zstd" if pa.Codec.is_available("zstd") else None


def table(metadata: MetaData) -> Table:
    """cvm_run_actions: one row per run (declared here and in tables.py's metadata)."""
    return Table(
        "cvm_run_actions", metadata,
        Column("run", Integer, primary_key=True, autoincrement=False),  # cvm_runs.id
        Column("format", Integer, nullable=False),
        Column("rows", Integer, nullable=False),
        Column("data", LargeBinary, nullable=False),
    )


def encode(frame: pd.DataFrame) -> tuple[int, bytes]:
    """The actioned rows of a snapshot (rows with a campaign) as one Arrow IPC stream."""
    part = frame[frame["campaign"].notna()]
    arrays = []
    for name, kind in zip(SCHEMA.names, SCHEMA.types, strict=True):
        values = part[name]
        if kind == pa.bool_():  # True/False/None, or 1/0/None as SQLite gives them back
            arrays.append(pa.array(values.astype("boolean"), type=kind))
        elif kind == pa.float64():
            arrays.append(pa.array(values.to_numpy(dtype=float), type=kind, from_pandas=True))
        else:
            arrays.append(pa.array(values.to_numpy(dtype=object), type=kind, from_pandas=True))
    batch = pa.record_batch(arrays, schema=SCHEMA)
    sink = io.BytesIO()
    options = ipc.IpcWriteOptions(compression=_CODEC)
    with ipc.new_stream(sink, SCHEMA, options=options) as writer:
        writer.write_batch(batch)
    return batch.num_rows, sink.getvalue()


def decode(data: bytes) -> pa.Table:
    return ipc.open_stream(pa.py_buffer(data)).read_all()


def read_actions(conn: Connection, store_table: Table, runs: Sequence[int],
                 columns: Sequence[str] = ACTION_COLUMNS, *, status: str | None = None,
                 codes_in: pa.Array | None = None) -> pd.DataFrame:
    """The actioned rows of ``runs`` (a ``run`` column first), in run order then as recorded;
    with ``status``, only the rows of that status (filtered before any Python object is
    made). With ``codes_in`` (ids), a column ``code``: each customer's position in it (-1 if
    absent), found by Arrow's hash join; ``customer_id`` is then filled only where the code is
    -1 (a Python string per row is what costs at a million rows)."""
    names = ["run", *columns]
    if not runs:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in names})
    found = conn.execute(select(store_table.c.run, store_table.c.format, store_table.c.data)
                         .where(store_table.c.run.in_(list(runs)))
                         .order_by(store_table.c.run)).all()
    parts: list[pa.Table] = []
    for run, fmt, data in found:
        if fmt != FORMAT:
            raise ValueError(f"run {run}: actions block format {fmt}, this engine reads "
                             f"{FORMAT}")
        block = decode(bytes(data))
        if status is not None:
            block = block.filter(pc.equal(block.column("status"), status))
        block = block.select(list(columns))
        parts.append(block.append_column("run", pa.array([int(run)] * block.num_rows,
                                                          type=pa.int64())))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in names})
    whole = pa.concat_tables(parts).select(names)
    # plain numpy columns (text as objects), whatever pandas' default string type: pandas 3's
    # Arrow-backed strings are iterated in Python by isin and friends
    out = {}
    for c in names:
        if c == "customer_id" and codes_in is not None:
            ids = whole.column(c).cast(codes_in.type)
            code = pc.index_in(ids, value_set=codes_in).fill_null(-1).to_numpy()
            missing = np.full(len(code), None, dtype=object)
            lost = np.flatnonzero(code < 0)
            if len(lost):
                missing[lost] = ids.take(pa.array(lost)).to_numpy()
            out[c], out["code"] = pd.Series(missing, dtype=object), code.astype(np.int64)
            continue
        out[c] = pd.Series(whole.column(c).to_numpy(), dtype=object) if c == "customer_id" \
            else pd.Series(_numpy(whole.column(c)))
    return pd.DataFrame(out)


def _numpy(column: pa.ChunkedArray) -> np.ndarray | pd.Categorical:
    """A column as numpy; a text column (campaign, channel, status: a few distinct values) as
    a categorical with its categories in text order, so that grouping and comparing it never
    hashes a Python string per row."""
    if column.type != pa.string() or column.num_chunks == 0:
        plain: np.ndarray = column.to_numpy()
        return plain
    coded = pc.dictionary_encode(column.combine_chunks())
    words = coded.dictionary.to_pylist()
    order = sorted(range(len(words)), key=lambda k: words[k])
    rank = np.empty(len(words) + 1, dtype=np.int64)
    rank[order] = np.arange(len(words))
    rank[len(words)] = -1  # missing
    codes = rank[coded.indices.fill_null(len(words)).to_numpy()]
    return pd.Categorical.from_codes(codes, categories=[words[k] for k in order])
