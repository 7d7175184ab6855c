"""Each run's actioned customers as one Arrow block (cvm_run_actions), for fast look-backs.

Revision ID: 0002_learn
Revises: 0001
Create Date: 2026-12-01

A history made before this revision gets the blocks of its recorded runs, made from their
snapshots, in the same transaction as the new table (engine.history.columnar).
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from alembic import op

from engine.history.columnar import ACTION_COLUMNS, FORMAT, encode

revision = "0002_learn"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cvm_run_actions",
        sa.Column("run", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("format", sa.Integer, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    conn = op.get_bind()
    target = sa.table("cvm_run_actions", sa.column("run"), sa.column("format"),
                      sa.column("rows"), sa.column("data"))
    names = ", ".join(ACTION_COLUMNS)
    for (run,) in conn.execute(sa.text("SELECT id FROM cvm_runs ORDER BY id")).all():
        rows = conn.execute(sa.text(
            f"SELECT {names} FROM cvm_snapshots WHERE run = :run AND campaign IS NOT NULL "
            "ORDER BY customer_id"), {"run": run}).all()
        count, data = encode(pd.DataFrame.from_records(rows, columns=list(ACTION_COLUMNS)))
        conn.execute(target.insert().values(run=run, format=FORMAT, rows=count, data=data))


def downgrade() -> None:
    op.drop_table("cvm_run_actions")
