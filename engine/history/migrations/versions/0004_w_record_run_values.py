"""Each run's value snapshot as one Arrow block (cvm_run_values), for the value-change
attributes of the next run.

Revision ID: 0004_w_record
Revises: 0003_serve
Create Date: 2026-12-02

A history made before this revision gets the blocks of its recorded runs, made from their
snapshots, in the same transaction as the new table (engine.history.values).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.history.values import FORMAT, VALUE_COLUMNS, encode_values, from_rows

revision = "0004_w_record"
down_revision = "0003_serve"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cvm_run_values",
        sa.Column("run", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("format", sa.Integer, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    conn = op.get_bind()
    target = sa.table("cvm_run_values", sa.column("run"), sa.column("format"),
                      sa.column("rows"), sa.column("data"))
    names = ", ".join(VALUE_COLUMNS)
    for (run,) in conn.execute(sa.text("SELECT id FROM cvm_runs ORDER BY id")).all():
        rows = conn.execute(sa.text(
            f"SELECT {names} FROM cvm_snapshots WHERE run = :run ORDER BY customer_id"),
            {"run": run}).all()
        count, data = encode_values(from_rows(rows))
        conn.execute(target.insert().values(run=run, format=FORMAT, rows=count, data=data))


def downgrade() -> None:
    op.drop_table("cvm_run_values")
