"""cvm validate decodes every block the history stores (review 13e): a block whose bytes
changed inside intact pages passes SQLite's quick check (and PostgreSQL's own), and stopped
`cvm run` at its first look-back, after its work, though validate had passed. Validate now
names the damaged block, with the hint to restore the history, on both databases. (The
blocks carry no checksum of their own: changed bytes that still decode, in a compressed body,
are not found; the ones here, in a block's schema, always are.)"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, update

from engine.history import record
from engine.history.tables import run_actions, run_snapshots, run_values
from tests.history_runs import cvm, open_history, retail_copy, snapshot

HINT = ("  hint: restore the file from a backup, or move it away: the next run starts a new "
        "history (without the runs and responses recorded so far, opt-outs included)")
TABLES = {"values": run_values, "actions": run_actions, "snapshot": run_snapshots}


@pytest.mark.parametrize("kind", sorted(TABLES))
def test_validate_finds_a_damaged_block_run_would_refuse(
        kind: str, history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = retail_copy(tmp_path)
    store = open_history(history_url, tmp_path)
    table = TABLES[kind]
    try:
        for k in (1, 2):
            record.record_run(store, run_id=f"r{k}", as_of=dt.date(2025, 10, k), project="t",
                              inputs={}, snapshot=snapshot(3000, seed=k))
        with store.engine.begin() as conn:  # run 2's block: its bytes, not the pages
            data = bytearray(conn.execute(select(table.c.data).where(table.c.run == 2))
                             .scalars().first())
            data[16:80] = b"A" * 64  # its schema: damage the decoder always finds
            conn.execute(update(table).where(table.c.run == 2).values(data=bytes(data)))
    finally:
        store.close()
    monkeypatch.setenv("CVM_HISTORY_URL", history_url)
    checked = cvm("validate", "--project", str(project))
    assert checked.exit_code == 1, checked.output
    first, hint = checked.stderr.splitlines()[:2]
    assert f"history (CVM_HISTORY_URL): is damaged: run 2's {kind} block cannot be read (" \
        in first, first
    assert hint == HINT
