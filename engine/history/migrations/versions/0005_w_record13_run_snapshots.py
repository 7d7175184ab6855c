"""Each run's snapshot as Arrow blocks sorted by customer (cvm_run_snapshots) instead of a SQL
row per customer and run (cvm_snapshots, and its view cvm_contacts).

Revision ID: 0005_w_record13
Revises: 0004_w_record
Create Date: 2026-12-02

A history made before this revision keeps every snapshot it holds: each recorded run's rows of
cvm_snapshots become its blocks (engine.history.snapshot_blocks), in the same transaction that
drops the table and the view. On PostgreSQL the blocks' column is stored without compression
(they are compressed already). Downgrading writes the rows back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc
import sqlalchemy as sa
from alembic import op

from engine.history.snapshot import SCHEMA_1 as SCHEMA  # the snapshot's columns then
from engine.history.snapshot import copy_csv
from engine.history.snapshot_blocks import encode_parts
from engine.history.snapshot_blocks import table as blocks_table

revision = "0005_w_record13"
down_revision = "0004_w_record"
branch_labels = None
depends_on = None

FORMAT = 1  # the snapshot blocks written and read at this revision

ID = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
_CONTACTS = (
    "CREATE VIEW cvm_contacts AS "
    "SELECT s.run AS run, r.as_of AS contact_date, s.customer_id AS customer_id, "
    "s.campaign AS campaign, s.channel AS channel, s.action AS action "
    "FROM cvm_snapshots s JOIN cvm_runs r ON r.id = s.run "
    "WHERE s.status = 'allocated'")


def upgrade() -> None:
    op.create_table(
        "cvm_run_snapshots",
        sa.Column("run", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("part", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("first_id", ID, nullable=False),
        sa.Column("format", sa.Integer, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_index("cvm_run_snapshots_first_id", "cvm_run_snapshots",
                    ["first_id", "run", "part"])
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        # the blocks are zstd already: PostgreSQL's compression of large values (pglz) would
        # only spend its CPU (0.8 s per 33 MB of blocks) for no smaller table
        for name in ("cvm_run_snapshots", "cvm_run_actions", "cvm_run_values"):
            op.execute(f"ALTER TABLE {name} ALTER COLUMN data SET STORAGE EXTERNAL")
    target = blocks_table(sa.MetaData())
    names = ", ".join(SCHEMA.names)
    for (run,) in conn.execute(sa.text("SELECT id FROM cvm_runs ORDER BY id")).all():
        rows = conn.execute(sa.text(f"SELECT {names} FROM cvm_snapshots WHERE run = :run"),
                            {"run": run}).all()
        parts = encode_parts(_table(rows), run, FORMAT)
        if parts:
            conn.execute(target.insert(), parts)
    op.execute("DROP VIEW cvm_contacts")
    op.drop_index("cvm_snapshots_customer", table_name="cvm_snapshots")
    op.drop_table("cvm_snapshots")


def _table(rows: Sequence[Sequence[Any]]) -> pa.Table:
    """Snapshot rows (holdout as SQLite gives it back: 1/0) as an Arrow table in SCHEMA."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(SCHEMA)
    return pa.Table.from_arrays(
        [pa.array([None if v is None else bool(v) for v in c] if f.type == pa.bool_()
                  else list(c), type=f.type, from_pandas=True)
         for c, f in zip(columns, SCHEMA, strict=True)], schema=SCHEMA)


def downgrade() -> None:
    op.create_table(
        "cvm_snapshots",
        sa.Column("run", sa.Integer, nullable=False, primary_key=True),
        sa.Column("customer_id", ID, nullable=False, primary_key=True),
        *(sa.Column(f.name, sa.Boolean if f.type == pa.bool_() else
                    sa.Float if f.type == pa.float64() else sa.Text)
          for f in SCHEMA if f.name != "customer_id"),
    )
    op.create_index("cvm_snapshots_customer", "cvm_snapshots", ["customer_id"])
    op.execute(_CONTACTS)
    conn = op.get_bind()
    target = sa.table("cvm_snapshots", *(sa.column(c) for c in ("run", *SCHEMA.names)))
    for run, fmt, data in conn.execute(sa.text(
            "SELECT run, format, data FROM cvm_run_snapshots ORDER BY run, part")).all():
        if fmt != FORMAT:
            raise ValueError(f"run {run}: snapshot block format {fmt}, this revision reads "
                             f"{FORMAT}")
        block = ipc.open_stream(pa.py_buffer(bytes(data))).read_all()
        if conn.dialect.name == "postgresql":
            copy_csv(conn, "cvm_snapshots", ("run", *SCHEMA.names),
                     block.add_column(0, "run", pa.array([run] * block.num_rows, pa.int32())))
        else:
            conn.execute(target.insert(), [{"run": run, **r} for r in block.to_pylist()])
    op.drop_table("cvm_run_snapshots")
    if conn.dialect.name == "postgresql":
        for name in ("cvm_run_actions", "cvm_run_values"):
            op.execute(f"ALTER TABLE {name} ALTER COLUMN data SET STORAGE EXTENDED")
