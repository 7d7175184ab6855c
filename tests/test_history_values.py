"""Each run's value snapshot as one Arrow block (cvm_run_values, migration 0004_w_record): the
next run's value-change attributes read the previous run's values from it, not a million rows
through SQL. A history made before the revision (0003_serve) gets the blocks of its runs made
from their snapshots. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select, text

from engine.history import record
from engine.history.changes import add_changes
from engine.history.settings import parse
from engine.history.store import HEAD, open_store
from engine.history.tables import VERSION_TABLE, run_values
from engine.history.values import read_values
from tests.history_runs import TIERS, history_at, open_history, snapshot

MIGRATIONS = Path(__file__).resolve().parents[1] / "engine" / "history" / "migrations"


def test_a_recorded_run_keeps_its_values_as_one_block(history_url: str,
                                                      tmp_path: Path) -> None:
    store = open_history(history_url, tmp_path)
    frame = snapshot(50, seed=3).assign(value_tier=np.where(np.arange(50) % 7 == 0, None, "gold"))
    key = record.record_run(store, run_id="r", as_of=dt.date(2025, 1, 1), project="t",
                            inputs={}, snapshot=frame)
    with store.reading() as conn:
        got = read_values(conn, key).to_pandas()
        assert conn.execute(select(run_values.c.rows)).scalar_one() == 50
    store.close()
    assert got["customer_id"].tolist() == frame["customer_id"].tolist()
    assert got["value_tier"].isna().tolist() == frame["value_tier"].isna().tolist()
    assert got["lifecycle_stage"].tolist() == frame["lifecycle_stage"].tolist()
    assert got["total_value"].tolist() == frame["total_value"].tolist()  # exact


def old_history(url: str, tmp_path: Path) -> list[pd.DataFrame]:
    """A history as the previous version made it: revision 0003_serve, two runs recorded."""
    frames = [snapshot(40, 1), snapshot(40, 2).iloc[5:]]
    history_at(url, tmp_path, "0003_serve", frames)
    return frames


def test_a_history_of_the_previous_version_gets_the_value_blocks(history_url: str,
                                                                 tmp_path: Path) -> None:
    frames = old_history(history_url, tmp_path)
    store = open_store(parse(history_url, tmp_path, source="test"), create=True)
    assert store is not None
    try:
        with store.reading() as conn:
            assert conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar() \
                == HEAD
            blocks = [read_values(conn, k).to_pandas() for k in (1, 2)]
        for frame, got in zip(frames, blocks, strict=True):
            want = frame.sort_values("customer_id")
            assert got["customer_id"].tolist() == want["customer_id"].tolist()
            assert got["value_tier"].tolist() == want["value_tier"].tolist()
            assert got["total_value"].tolist() == want["total_value"].tolist()
        # the next run's attributes come from the migrated block of run 2
        table = pd.DataFrame({"customer_id": ["C0000000", "C0000010", "X"],
                              "value_tier": ["platinum", "bronze", "gold"],
                              "total_value": [1.0, 2.0, 3.0]})
        got = add_changes(table, store, as_of=dt.date(2025, 1, 20), tiers=TIERS)
    finally:
        store.close()
    before = frames[1].set_index("customer_id")
    assert pd.isna(got["previous_tier"][0])  # not in run 2 (its first five were left out)
    assert got["previous_tier"][1] == before.loc["C0000010", "value_tier"]
    assert got["previous_stage"][1] == before.loc["C0000010", "lifecycle_stage"]
    then = before.loc["C0000010", "total_value"]
    assert got["total_value_change_pct"][1] == round(100 * (2.0 - then) / abs(then), 6)
    assert pd.isna(got["previous_tier"][2])
