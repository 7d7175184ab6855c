"""Each response's content digest (cvm_responses.digest), for the run ids.

Revision ID: 0007_w_runid13
Revises: 0006_w_fixrev13
Create Date: 2026-12-02

A run id covers the responses the run knows by content (engine.history.response_digest),
not by the files that brought them. The responses stored before this revision get their
digests here, in the same transaction as the column. Downgrading drops the column (the
responses are kept).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.history.response_digest import row_digest

revision = "0007_w_runid13"
down_revision = "0006_w_fixrev13"
branch_labels = None
depends_on = None

# the block formats are those of 0006_w_fixrev13 (every revision records those it writes)
BLOCK_FORMATS = {"cvm_run_actions": 2, "cvm_run_snapshots": 1, "cvm_run_values": 1}


def upgrade() -> None:
    # NOT NULL on a table with rows needs a default while the column is added (SQLite)
    op.add_column("cvm_responses", sa.Column("digest", sa.BigInteger, nullable=False,
                                             server_default="0"))
    conn = op.get_bind()
    found = conn.execute(sa.text(
        "SELECT id, customer_id, campaign, response_date, outcome, revenue FROM cvm_responses"
    )).all()
    if found:
        conn.execute(sa.text("UPDATE cvm_responses SET digest = :digest WHERE id = :id"),
                     [{"id": key, "digest": row_digest(*row)} for key, *row in found])
    if conn.dialect.name == "postgresql":  # every writer gives it (engine.history.responses)
        op.alter_column("cvm_responses", "digest", server_default=None)


def downgrade() -> None:
    op.drop_column("cvm_responses", "digest")
