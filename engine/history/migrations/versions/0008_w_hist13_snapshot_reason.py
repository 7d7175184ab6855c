"""Snapshot blocks of format 2: every customer's reason beside their status (the action
list's: why held out, not served or suppressed; dictionary-coded), which `cvm history
CUSTOMER` shows.

Revision ID: 0008_w_hist13
Revises: 0007_w_runid13
Create Date: 2026-12-02

The tables do not change. Blocks of format 1 are read as they are (their reason missing: the
runs recorded before this revision did not keep it). An engine at 0007_w_runid13 reads only
format 1, so it refuses the history at open (the revision is unknown to it). Downgrading
writes every snapshot block of format 2 back as format 1 (the reason dropped), which every
engine at 0007_w_runid13 reads.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.ipc as ipc
import sqlalchemy as sa
from alembic import op

from engine.history.snapshot import SCHEMA_1, ipc_stream

revision = "0008_w_hist13"
down_revision = "0007_w_runid13"
branch_labels = None
depends_on = None

# the format of each block table's blocks written at this revision
BLOCK_FORMATS = {"cvm_run_actions": 2, "cvm_run_snapshots": 2, "cvm_run_values": 1}


def upgrade() -> None:
    pass  # blocks of format 1 and 2 are both read as they are


def downgrade() -> None:
    conn = op.get_bind()
    target = sa.table("cvm_run_snapshots", sa.column("run"), sa.column("part"),
                      sa.column("format"), sa.column("data"))
    for run, part, data in conn.execute(sa.text(
            "SELECT run, part, data FROM cvm_run_snapshots WHERE format = 2 "
            "ORDER BY run, part")).all():
        # format 2 is format 1 with the reason last: the other columns as they are
        block = ipc.open_stream(pa.py_buffer(bytes(data))).read_all().select(SCHEMA_1.names)
        conn.execute(target.update().where((target.c.run == run) & (target.c.part == part))
                     .values(format=1, data=ipc_stream(block)))
