"""cvm_run_actions blocks of format 2 (issue 13's look-up speed): campaign, channel and status
stored dictionary-coded, so that readers decode, filter and group integers; blocks of format 1
(every earlier version's, text as text) still read, to the same contacts, measured groups and
value-change attributes. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc
from sqlalchemy import select, update

from engine.data.load import LoadReport, Transactions
from engine.history import record
from engine.history.changes import add_changes
from engine.history.columnar import FORMAT, SCHEMA
from engine.history.contacts import contact_log
from engine.history.measured import read_measured
from engine.history.store import Store
from engine.history.tables import run_actions
from tests.history_runs import TIERS, open_history, snapshot

CHANNELS = np.array(["email", "sms", "direct_mail", None], dtype=object)


def _history(url: str, tmp_path: Path) -> Store:
    store = open_history(url, tmp_path)
    rng = np.random.default_rng(5)
    for k in range(3):
        frame = snapshot(60, seed=k)
        allocated = (frame["status"] == "allocated").to_numpy()
        frame["channel"] = np.where(allocated, CHANNELS[rng.integers(0, 4, 60)], None)
        frame["campaign"] = np.where(frame["campaign"].isna(), None,
                                     np.array(["win_back", "retain_high_value", None],
                                              dtype=object)[rng.integers(0, 3, 60)])
        record.record_run(store, run_id=f"r{k}", as_of=dt.date(2025, 1, 6 + 7 * k),
                          project="t", inputs={}, snapshot=frame.iloc[k:])
    return store


def _as_format_1(store: Store) -> None:
    """Each block rewritten as the previous version wrote it: every text column as text."""
    with store.transaction() as conn:
        for run, data in conn.execute(select(run_actions.c.run, run_actions.c.data)).all():
            block = ipc.open_stream(pa.py_buffer(bytes(data))).read_all().cast(SCHEMA)
            sink = io.BytesIO()
            with ipc.new_stream(sink, SCHEMA,
                                options=ipc.IpcWriteOptions(compression="zstd")) as out:
                out.write_table(block)
            conn.execute(update(run_actions).where(run_actions.c.run == run)
                         .values(format=1, data=sink.getvalue()))


def _texts(ids: object) -> list[object]:
    """The ids as text, whatever form the log holds them in (pyarrow 15 does not take a
    ChunkedArray in pa.chunked_array)."""
    if isinstance(ids, pa.Array | pa.ChunkedArray):
        return ids.cast(pa.string()).to_pylist()
    return list(ids)  # type: ignore[call-overload]


def _read(store: Store) -> dict[str, object]:
    ids = np.array([f"C{i:07d}" for i in range(0, 70, 2)], dtype=object)
    tx = Transactions(ids, pa.array(ids.tolist()), np.arange(len(ids)),
                      np.full(len(ids), 20100, dtype=np.int32), np.full(len(ids), 5.0),
                      np.full(len(ids), 2.0), None, None, (), dt.date(2025, 3, 1),
                      LoadReport("test"))
    log = contact_log(store, as_of=dt.date(2025, 1, 27), window=None, source="t")
    m = read_measured(store, tx, channels=True)
    table = pd.DataFrame({"customer_id": ids, "value_tier": "gold", "total_value": 1.0})
    changes = add_changes(table, store, as_of=dt.date(2025, 1, 27), tiers=TIERS)
    return {
        "contacts": (_texts(log.contact_customer),
                     log.contact_days_ago.tolist(), log.contact_channel.tolist(),
                     log.contact_campaign.tolist()),
        "measured": (m.run.tolist(), m.code.tolist(), m.customer_id.tolist(),
                     m.campaign.tolist(), m.campaigns, m.channel.tolist(), m.channels,
                     m.allocated.tolist(), m.holdout.tolist(), m.cost.tolist()),
        "changes": changes.to_csv(),
    }


def test_a_block_stores_campaign_channel_and_status_coded(history_url: str,
                                                          tmp_path: Path) -> None:
    store = _history(history_url, tmp_path)
    try:
        with store.reading() as conn:
            fmt, data = conn.execute(select(run_actions.c.format, run_actions.c.data)
                                     .where(run_actions.c.run == 1)).one()
    finally:
        store.close()
    schema = ipc.open_stream(pa.py_buffer(bytes(data))).schema
    assert fmt == FORMAT == 2
    assert [str(f.type) for f in schema] == [
        "string", *["dictionary<values=string, indices=int32, ordered=0>"] * 3, "bool",
        "double"]


def test_blocks_of_format_1_read_the_same(history_url: str, tmp_path: Path) -> None:
    store = _history(history_url, tmp_path)
    try:
        now = _read(store)
        _as_format_1(store)
        with store.reading() as conn:
            assert set(conn.execute(select(run_actions.c.format)).scalars()) == {1}
        before = _read(store)
    finally:
        store.close()
    assert len(now["contacts"][0]) > 20 and len(now["measured"][0]) > 100  # type: ignore
    assert now == before
