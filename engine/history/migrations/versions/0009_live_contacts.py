"""The contacts `cvm serve` gives (a trigger's action on a channel): ``cvm_live_contacts``,
which the contact policies and the value-change attributes count beside the runs' contacts;
and why a trigger's action was withheld: ``cvm_interactions.withheld`` (null for the
interactions recorded before).

Revision ID: 0009_live
Revises: 0008_w_hist13
Create Date: 2026-12-04

An engine at 0008_w_hist13 refuses the history at open (the revision is unknown to it), so no
engine that would not count these contacts writes runs into it. Downgrading drops the table
and the column: the contacts the service gave are then no longer counted.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

ID = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")

revision = "0009_live"
down_revision = "0008_w_hist13"
branch_labels = None
depends_on = None

# the format of each block table's blocks written at this revision (as at 0008_w_hist13)
BLOCK_FORMATS = {"cvm_run_actions": 2, "cvm_run_snapshots": 2, "cvm_run_values": 1}


def upgrade() -> None:
    op.create_table(
        "cvm_live_contacts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("contact_date", sa.Date, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("campaign", sa.Text),
        sa.Column("action", sa.Text),
        sa.Column("trigger_id", sa.Text),
        sa.Column("interaction_id", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("digest", sa.BigInteger, nullable=False),
    )
    op.create_index("cvm_live_contacts_date", "cvm_live_contacts", ["contact_date"])
    op.create_index("cvm_live_contacts_customer", "cvm_live_contacts",
                    ["customer_id", "contact_date"])
    with op.batch_alter_table("cvm_interactions") as table:  # SQLite: ADD COLUMN as it is
        table.add_column(sa.Column("withheld", sa.Text))


def downgrade() -> None:
    op.drop_table("cvm_live_contacts")
    with op.batch_alter_table("cvm_interactions") as table:  # SQLite: the table remade
        table.drop_column("withheld")
