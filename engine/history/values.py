"""Each run's value snapshot as one compressed Arrow block (table ``cvm_run_values``).

The next run's value-change attributes (engine.history.changes) need the previous run's tier,
stage and total value of every customer: these columns as one Arrow IPC block per run, written
at record time beside the run's snapshot parts (``cvm_run_snapshots``), decode in milliseconds
in the customers' own order (the engine's copy of these columns, as cvm_run_actions is of
the actioned rows, engine.history.columnar).

The block's columns: customer_id, value_tier, lifecycle_stage, total_value, one row per
customer of the run. The format is versioned (``FORMAT``): a reader refuses a block it does not
know.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
from sqlalchemy import MetaData, Table, select
from sqlalchemy.engine import Connection

from engine.history import block_format
from engine.history.columnar import block_table

FORMAT = 1
VALUE_COLUMNS = ("customer_id", "value_tier", "lifecycle_stage", "total_value")
SCHEMA = pa.schema([("customer_id", pa.string()), ("value_tier", pa.string()),
                    ("lifecycle_stage", pa.string()), ("total_value", pa.float64())])
_CODEC = "zstd" if pa.Codec.is_available("zstd") else None


def table(metadata: MetaData) -> Table:
    """cvm_run_values: one row per run (declared here and in tables.py's metadata)."""
    return block_table("cvm_run_values", metadata)


def encode_values(data: pa.Table) -> tuple[int, bytes]:
    """The block of a snapshot (an Arrow table with at least VALUE_COLUMNS)."""
    part = data.select(list(VALUE_COLUMNS)).cast(SCHEMA).combine_chunks()
    sink = io.BytesIO()
    with ipc.new_stream(sink, SCHEMA, options=ipc.IpcWriteOptions(compression=_CODEC)) as out:
        out.write_table(part, max_chunksize=max(part.num_rows, 1))
    return part.num_rows, sink.getvalue()


def from_rows(rows: Sequence[Sequence[Any]]) -> pa.Table:
    """VALUE_COLUMNS rows (as SQL gives them back) as an Arrow table in SCHEMA."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(VALUE_COLUMNS)
    return pa.Table.from_arrays([pa.array(list(c), type=f.type, from_pandas=True)
                                 for c, f in zip(columns, SCHEMA, strict=True)], schema=SCHEMA)


def read_values(conn: Connection, run: int) -> pa.Table:
    """The value snapshot of ``run`` (an empty table if the run has no block)."""
    store = table(MetaData())
    found = conn.execute(select(store.c.format, store.c.data).where(store.c.run == run)).first()
    if found is None:
        return SCHEMA.empty_table()
    fmt, data = found
    block_format.check("values", run, fmt, (FORMAT,))
    return block_format.read_block(data)


def texts(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A text column of few distinct values as numpy objects (None where missing), each
    distinct text one shared string object: no Python string made per row."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    coded = pc.dictionary_encode(values)
    words = np.array([*coded.dictionary.to_pylist(), None], dtype=object)
    at = coded.indices.fill_null(len(words) - 1).to_numpy(zero_copy_only=False)
    return words[np.asarray(at, dtype=np.int64)]
