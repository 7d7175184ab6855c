"""Each run's snapshot (every customer's value and decision) as Arrow blocks sorted by customer
(table ``cvm_run_snapshots``).

A run of a million customers written as a million SQL rows costs seconds whatever the writer
does (PostgreSQL: parsing, the heap and two B-trees; SQLite: the sqlite3 module binding 15
values per row, then the B-trees), and nothing in the engine reads them row by row: the
look-backs read the per-run blocks (``cvm_run_actions``, ``cvm_run_values``), and the readers
by customer (``cvm history CUSTOMER``, ``cvm serve``'s profile) want one customer's rows. So the
snapshot is written as blocks: its rows sorted by customer id (byte order, as the database's
``C``/binary comparison) and cut into parts of ``PART_ROWS``; each part is one row of
``cvm_run_snapshots`` (run, part, its first customer id, format, rows, one compressed Arrow IPC
stream). One customer's snapshot of a run is in the last part whose first id is not after it:
one small block per run to decode.

The block's columns: ``snapshot.SCHEMA`` (customer_id, value_tier, lifecycle_stage,
total_value, value_score, action, campaign, policy_id, channel, status, holdout, cost,
value_at_stake, expected_response, reason: dictionary-coded, each part with the texts of its
rows). The format is versioned (``FORMAT``): format 1 lacks the reason (the action list's:
why a customer was held out, not served or suppressed), read as missing.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
from sqlalchemy import (
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.engine import Connection

from engine.history import block_format
from engine.history.snapshot import SCHEMA, SCHEMA_1

FORMAT = 2  # 1: without the reason (migration 0008_w_hist13)
FORMATS = {1: SCHEMA_1, 2: SCHEMA}  # the columns of each format read
PART_ROWS = 8192  # one customer's look-up decodes this many rows per run
# byte-wise comparison of ids on PostgreSQL, SQLite's default: the order the parts are cut in
ID = Text().with_variant(Text(collation="C"), "postgresql")
_CODEC = "zstd" if pa.Codec.is_available("zstd") else None


def table(metadata: MetaData) -> Table:
    """cvm_run_snapshots: one row per part of a run's snapshot."""
    return Table(
        "cvm_run_snapshots", metadata,
        Column("run", Integer, primary_key=True, autoincrement=False),  # cvm_runs.id
        Column("part", Integer, primary_key=True, autoincrement=False),
        Column("first_id", ID, nullable=False),
        Column("format", Integer, nullable=False),
        Column("rows", Integer, nullable=False),
        Column("data", LargeBinary, nullable=False),
        # a customer's look-up reads the parts' first ids of every run, never their blocks
        Index("cvm_run_snapshots_first_id", "first_id", "run", "part"),
    )


def encode_parts(data: pa.Table, run: int, fmt: int = FORMAT) -> list[dict[str, Any]]:
    """The rows of ``cvm_run_snapshots`` for a snapshot (an Arrow table whose first column is
    customer_id): sorted by id, ``PART_ROWS`` rows a part. A value table comes sorted by
    customer (the features are grouped by customer): then nothing is sorted or copied."""
    ordered = data.combine_chunks()
    if not in_order(ordered.column("customer_id")):
        ordered = ordered.take(pc.sort_indices(ordered.column("customer_id")))
    _one_row_per_customer(ordered.column("customer_id"))
    out: list[dict[str, Any]] = []
    for part, start in enumerate(range(0, ordered.num_rows, PART_ROWS)):
        piece = _own_dictionaries(ordered.slice(start, PART_ROWS))
        sink = io.BytesIO()
        with ipc.new_stream(sink, piece.schema,
                            options=ipc.IpcWriteOptions(compression=_CODEC)) as writer:
            writer.write_table(piece, max_chunksize=PART_ROWS)
        out.append({"run": run, "part": part, "first_id": piece.column(0)[0].as_py(),
                    "format": fmt, "rows": piece.num_rows, "data": sink.getvalue()})
    return out


def _own_dictionaries(piece: pa.Table) -> pa.Table:
    """A part whose dictionary-coded columns (the reason) hold only the texts of its rows: a
    slice keeps the run's whole dictionary, which each part's stream would repeat."""
    for at, f in enumerate(piece.schema):
        if pa.types.is_dictionary(f.type):
            texts = piece.column(at).combine_chunks().dictionary_decode()
            piece = piece.set_column(at, f, pc.dictionary_encode(texts).cast(f.type))
    return piece


def _one_row_per_customer(ids: pa.ChunkedArray) -> None:
    """Sorted ids, each once and none missing: what the per-customer table's primary key
    guarded; a part's look-up would find one of two rows of an id, and none of a missing id."""
    if ids.null_count or (len(ids) > 1 and not pc.all(pc.less(
            ids.slice(0, len(ids) - 1), ids.slice(1))).as_py()):
        raise ValueError("a run's snapshot must have one row per customer, each with an id "
                         f"({ids.null_count:,} without an id, or an id repeated)")


def in_order(ids: pa.ChunkedArray) -> bool:
    """Whether ``ids`` are in ascending byte order already (Arrow compares text byte-wise)."""
    if len(ids) < 2:
        return True
    return bool(pc.all(pc.less_equal(ids.slice(0, len(ids) - 1), ids.slice(1))).as_py())


def customer_rows(conn: Connection, store: Table, customer_id: str,
                  columns: Sequence[str]) -> list[tuple[int, dict[str, Any]]]:
    """Every run's snapshot of one customer: (run, the ``columns``), oldest run first. One
    part per run is read: the last whose first id is not after the customer's."""
    last = (select(store.c.run, func.max(store.c.part).label("part"))
            .where(store.c.first_id <= customer_id).group_by(store.c.run).subquery())
    found = conn.execute(
        select(store.c.run, store.c.format, store.c.data)
        .join(last, (last.c.run == store.c.run) & (last.c.part == store.c.part))
        .order_by(store.c.run)).all()
    out: list[tuple[int, dict[str, Any]]] = []
    for run, fmt, data in found:
        block_format.check("snapshot", run, fmt, FORMATS)
        schema = FORMATS[fmt]  # a column its format lacks is missing (None)
        wanted = [schema.get_field_index(c) for c in ("customer_id", *columns)
                  if c in schema.names]
        block = block_format.read_block(data, ipc.IpcReadOptions(included_fields=wanted))
        at = pc.index(block.column("customer_id"), customer_id).as_py()
        if at >= 0:
            row = block.slice(at, 1).to_pylist()[0]
            out.append((int(run), {c: row.get(c) for c in columns}))
    return out
