"""Each run keeps the attribution window of each of its campaigns (``cvm_runs.windows``, JSON:
campaign -> days; null for the runs recorded before): ``cvm measure`` and learning measure a
run over the windows it was made with, so that a later change to ``attribution_days`` applies
to the runs after it and never rewrites a past run's results.

Revision ID: 0011_windows
Revises: 0010_answers
Create Date: 2026-12-07

Downgrading drops the windows: the runs are then measured over today's campaigns.yaml, as the
runs recorded before this revision are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_windows"
down_revision = "0010_answers"
branch_labels = None
depends_on = None

# the format of each block table's blocks written at this revision (as at 0010_answers)
BLOCK_FORMATS = {"cvm_run_actions": 2, "cvm_run_snapshots": 2, "cvm_run_values": 1}


def upgrade() -> None:
    with op.batch_alter_table("cvm_runs") as table:  # SQLite: ADD COLUMN as it is
        table.add_column(sa.Column("windows", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("cvm_runs") as table:  # SQLite: the table remade
        table.drop_column("windows")
