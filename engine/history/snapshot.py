"""A run's snapshot as one Arrow table, its actions block, and PostgreSQL's bulk writer.

The snapshot (one row per customer: value snapshot and decision, ``SCHEMA``) is made from
the value table, the decisions and the action list without a Python object per row: pandas 3
keeps text in Arrow, and a round trip through Python strings (then back to pandas' Arrow
strings) cost seconds at a million customers. The action list is joined by Arrow's hash
join.

The snapshot is recorded as blocks (engine.history.snapshot_blocks, columnar, values), not a
SQL row per customer. ``copy_csv`` is the bulk writer of the tables that keep a row per item
(responses on PostgreSQL): COPY reads CSV written by Arrow (C++).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
from sqlalchemy.engine import Connection

from engine.history.columnar import ACTION_COLUMNS, coded
from engine.history.columnar import SCHEMA as ACTIONS_SCHEMA

# the reason: a few distinct texts (a policy, a contact policy's words, a limit) over a third
# of a million rows at 1M customers: dictionary-coded, so that taking the rows of the value
# table's order and compressing each part handle integers, not the texts
REASON = pa.dictionary(pa.int32(), pa.string())
SCHEMA = pa.schema([
    ("customer_id", pa.string()), ("value_tier", pa.string()),
    ("lifecycle_stage", pa.string()), ("total_value", pa.float64()),
    ("value_score", pa.float64()), ("action", pa.string()), ("campaign", pa.string()),
    ("policy_id", pa.string()), ("channel", pa.string()), ("status", pa.string()),
    ("holdout", pa.bool_()), ("cost", pa.float64()), ("value_at_stake", pa.float64()),
    ("expected_response", pa.float64()), ("reason", REASON)])
# the columns of a block of format 1 (engine.history.snapshot_blocks): all but the reason
SCHEMA_1 = pa.schema(list(SCHEMA)[:-1])
# the action list's columns carried into the snapshot (campaign: the decision's otherwise)
_FROM_ACTIONS = ("campaign", "channel", "status", "holdout", "cost", "value_at_stake",
                 "expected_response", "reason")
_OPTIONAL = ("reason",)
_CODEC = "zstd" if pa.Codec.is_available("zstd") else None


def column(values: pd.Series | np.ndarray | pa.Array | pa.ChunkedArray,
           kind: pa.DataType) -> pa.Array:
    """One column as an Arrow array of ``kind``; NaN, None and pandas' NA are missing."""
    if not isinstance(values, (pa.Array, pa.ChunkedArray)):
        if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        if kind == pa.float64():
            values = pa.array(np.asarray(values, dtype=float), type=kind, from_pandas=True)
        else:  # pandas' Arrow-backed text of several chunks (after a concat) stays chunked
            values = pa.array(values, from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(kind) and not pa.types.is_dictionary(values.type):
        values = pc.dictionary_encode(values.cast(kind.value_type))
    if pa.types.is_dictionary(kind):
        return values if values.type == kind else values.cast(kind)
    if isinstance(values.type, pa.DictionaryType):
        values = values.dictionary_decode()
    return values if values.type == kind else values.cast(kind)


def as_table(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """A snapshot given as a data frame (or an Arrow table) in SCHEMA."""
    if isinstance(frame, pa.Table) and frame.schema.equals(SCHEMA):
        return frame
    given = set(frame.column_names if isinstance(frame, pa.Table) else frame.columns)
    # a snapshot made without a reason (the column came later) records none
    return pa.Table.from_arrays([column(frame[f.name], f.type)
                                 if f.name in given or f.name not in _OPTIONAL
                                 else column(pa.nulls(len(frame), pa.string()), f.type)
                                 for f in SCHEMA],
                                schema=SCHEMA)


def snapshot_table(table: pd.DataFrame, decisions: pd.DataFrame,
                   actions: pd.DataFrame) -> pa.Table:
    """One row per customer of the value table: its value snapshot and decision; the action
    list has the actioned customers only, the others get empty channel columns."""
    ids = column(table["customer_id"], pa.string())
    at = pc.index_in(ids, value_set=column(actions["customer_id"], pa.string()))
    acted = pc.is_valid(at)
    out = {name: column(table[name], SCHEMA.field(name).type)
           for name in ("customer_id", "value_tier", "lifecycle_stage", "total_value",
                        "value_score")}
    for name in ("action", "campaign", "policy_id"):
        out[name] = column(decisions[name], pa.string())
    for name in _FROM_ACTIONS:
        taken = column(actions[name], SCHEMA.field(name).type).take(at)
        out[name] = pc.if_else(acted, taken, out["campaign"]) if name == "campaign" else taken
    return pa.Table.from_arrays([out[f.name] for f in SCHEMA], schema=SCHEMA)


def copy_csv(conn: Connection, name: str, columns: Sequence[str], data: pa.Table) -> None:
    """COPY ``data`` (its columns in ``columns`` order) into table ``name`` (PostgreSQL)."""
    buffer = io.BytesIO()
    # Arrow writes missing values as empty unquoted fields (NULL to COPY ... csv), quotes
    # text (an empty text stays an empty text) and floats in their shortest exact form.
    pacsv.write_csv(data, buffer, write_options=pacsv.WriteOptions(include_header=False))
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(
            f"COPY {name} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(buffer.getbuffer())


def encode_actions(data: pa.Table) -> tuple[int, bytes]:
    """The block of cvm_run_actions (engine.history.columnar's format): the actioned rows (a
    campaign or a status) of a snapshot, as one Arrow IPC stream."""
    keep = pc.or_(pc.is_valid(data.column("campaign")), pc.is_valid(data.column("status")))
    part = data.filter(keep).select(list(ACTION_COLUMNS)).cast(ACTIONS_SCHEMA)
    return part.num_rows, ipc_stream(coded(part))  # the stored form (columnar.FORMAT)


def ipc_stream(data: pa.Table) -> bytes:
    """``data`` as one compressed Arrow IPC stream (a single record batch)."""
    sink = io.BytesIO()
    options = ipc.IpcWriteOptions(compression=_CODEC)
    with ipc.new_stream(sink, data.schema, options=options) as writer:
        writer.write_table(data.combine_chunks(), max_chunksize=max(data.num_rows, 1))
    return sink.getvalue()
