"""An event's id may be up to 64 characters (a UUID with its dashes is 36), and the answer
`cvm serve` gave to an event is kept with it (``cvm_events.answer``, JSON; null for the events
recorded before): a request sent again with its ``event_id`` gets that answer again.

Revision ID: 0010_answers
Revises: 0009_live
Create Date: 2026-12-07

SQLite does not hold a column to its declared length, so the widening is PostgreSQL's alone.
Downgrading drops the answers and narrows the ids back to 32 characters, which PostgreSQL
refuses while a longer id is recorded.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_answers"
down_revision = "0009_live"
branch_labels = None
depends_on = None

# the format of each block table's blocks written at this revision (as at 0009_live)
BLOCK_FORMATS = {"cvm_run_actions": 2, "cvm_run_snapshots": 2, "cvm_run_values": 1}

_IDS = (("cvm_events", "id"), ("cvm_interactions", "event_id"))


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table_name, column in _IDS:
            op.alter_column(table_name, column, type_=sa.String(64),
                            existing_type=sa.String(32))
    with op.batch_alter_table("cvm_events") as table:  # SQLite: ADD COLUMN as it is
        table.add_column(sa.Column("answer", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("cvm_events") as table:  # SQLite: the table remade
        table.drop_column("answer")
    if op.get_bind().dialect.name == "postgresql":
        for table_name, column in _IDS:
            op.alter_column(table_name, column, type_=sa.String(32),
                            existing_type=sa.String(64))
