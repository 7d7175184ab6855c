"""The first history: runs, per-customer snapshots, contacts, response imports and responses.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Customer ids compare byte by byte ("C" collation on PostgreSQL, SQLite's default): equality
# is all the history needs, and a locale-aware index costs a third more to build.
ID = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cvm_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("engine_version", sa.String(64), nullable=False),
        sa.Column("project", sa.Text, nullable=False),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("customers", sa.Integer, nullable=False),
        sa.Column("actioned", sa.Integer, nullable=False),
        sa.Column("allocated", sa.Integer, nullable=False),
    )
    op.create_index("cvm_runs_as_of", "cvm_runs", ["as_of"])
    op.create_table(
        "cvm_snapshots",
        # no foreign key: PostgreSQL would check it row by row (seconds for a million rows);
        # a run and its snapshots are written in one transaction, so they cannot part
        sa.Column("run", sa.Integer, nullable=False, primary_key=True),
        sa.Column("customer_id", ID, nullable=False, primary_key=True),
        sa.Column("value_tier", sa.Text),
        sa.Column("lifecycle_stage", sa.Text),
        sa.Column("total_value", sa.Float),
        sa.Column("value_score", sa.Float),
        sa.Column("action", sa.Text),
        sa.Column("campaign", sa.Text),
        sa.Column("policy_id", sa.Text),
        sa.Column("channel", sa.Text),
        sa.Column("status", sa.Text),
        sa.Column("holdout", sa.Boolean),
        sa.Column("cost", sa.Float),
        sa.Column("value_at_stake", sa.Float),
        sa.Column("expected_response", sa.Float),
    )
    op.create_index("cvm_snapshots_customer", "cvm_snapshots", ["customer_id"])
    op.execute(
        "CREATE VIEW cvm_contacts AS "
        "SELECT s.run AS run, r.as_of AS contact_date, s.customer_id AS customer_id, "
        "s.campaign AS campaign, s.channel AS channel, s.action AS action "
        "FROM cvm_snapshots s JOIN cvm_runs r ON r.id = s.run "
        "WHERE s.status = 'allocated'")
    op.create_table(
        "cvm_imports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows_read", sa.Integer, nullable=False),
        sa.Column("imported", sa.Integer, nullable=False),
        sa.Column("already_present", sa.Integer, nullable=False),
        sa.Column("skipped", sa.Integer, nullable=False),
    )
    op.create_table(
        "cvm_responses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("campaign", sa.Text, nullable=False),
        sa.Column("response_date", sa.Date, nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("revenue", sa.Float),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("cvm_imports.id"), nullable=False),
        sa.UniqueConstraint("customer_id", "campaign", "response_date", "outcome",
                            name="cvm_responses_key"),
    )
    op.create_index("cvm_responses_customer", "cvm_responses",
                    ["customer_id", "response_date"])


def downgrade() -> None:
    op.drop_table("cvm_responses")
    op.drop_table("cvm_imports")
    op.execute("DROP VIEW cvm_contacts")
    op.drop_table("cvm_snapshots")
    op.drop_table("cvm_runs")
