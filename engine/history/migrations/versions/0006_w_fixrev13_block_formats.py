"""The block formats of this schema version: cvm_run_actions blocks of format 2 (campaign,
channel and status dictionary-coded), which engines at 0005_w_record13 made before it may not
read.

Revision ID: 0006_w_fixrev13
Revises: 0005_w_record13
Create Date: 2026-12-02

Format 2 came without a revision, so an engine that read only format 1 opened a history with
format-2 blocks as one of its own version and stopped on the first block. From this revision a
format change comes with a revision: an older engine refuses the history when it opens it
("the history is at version ..., which this CVM Engine does not know"). ``BLOCK_FORMATS``
records the formats written at this revision (tests/test_history_block_formats.py ties it to the
engine's). The tables do not change, and blocks of format 1 are read as they are. Downgrading
writes every actions block of format 2 back as format 1 (text as text), which every engine at
0005_w_record13 reads.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.ipc as ipc
import sqlalchemy as sa
from alembic import op

from engine.history.columnar import SCHEMA
from engine.history.snapshot import ipc_stream

revision = "0006_w_fixrev13"
down_revision = "0005_w_record13"
branch_labels = None
depends_on = None

# the format of each block table's blocks written at this revision
BLOCK_FORMATS = {"cvm_run_actions": 2, "cvm_run_snapshots": 1, "cvm_run_values": 1}


def upgrade() -> None:
    pass  # blocks of format 1 and 2 are both read as they are


def downgrade() -> None:
    conn = op.get_bind()
    target = sa.table("cvm_run_actions", sa.column("run"), sa.column("format"),
                      sa.column("data"))
    for run, data in conn.execute(sa.text(
            "SELECT run, data FROM cvm_run_actions WHERE format = 2 ORDER BY run")).all():
        # format 2 is format 1 with three columns dictionary-coded: cast back to text
        block = ipc.open_stream(pa.py_buffer(bytes(data))).read_all().cast(SCHEMA)
        conn.execute(target.update().where(target.c.run == run)
                     .values(format=1, data=ipc_stream(block)))
