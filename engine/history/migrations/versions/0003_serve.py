"""What `cvm serve` records: interactions (a next best action shown, or an action a trigger
fired), the events posted to it, and the responses to interactions.

Revision ID: 0003_serve
Revises: 0002_learn
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

ID = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")

revision = "0003_serve"
down_revision = "0002_learn"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cvm_events",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attributes", sa.Text, nullable=False),
        sa.Column("fired", sa.Integer, nullable=False),
    )
    op.create_index("cvm_events_customer", "cvm_events", ["customer_id", "occurred_at"])
    op.create_table(
        "cvm_interactions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("channel", sa.Text),
        sa.Column("action", sa.Text),
        sa.Column("policy_id", sa.Text),
        sa.Column("campaign", sa.Text),
        sa.Column("offer", sa.Text),
        sa.Column("service_level", sa.Text),
        sa.Column("event_id", sa.String(32)),
        sa.Column("trigger_id", sa.Text),
    )
    op.create_index("cvm_interactions_customer", "cvm_interactions",
                    ["customer_id", "recorded_at"])
    op.create_table(
        "cvm_interaction_responses",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("interaction_id", sa.String(32), nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_index("cvm_interaction_responses_customer", "cvm_interaction_responses",
                    ["customer_id", "recorded_at"])


def downgrade() -> None:
    op.drop_table("cvm_interaction_responses")
    op.drop_table("cvm_interactions")
    op.drop_table("cvm_events")
