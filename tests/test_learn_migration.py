"""Migration 0002_learn: a history made before it (revision 0001) opens, gets each recorded
run's Arrow block made from its snapshots, and the contact policies and cvm measure read the
same contacts from the blocks as the snapshots hold. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select, text

from engine.history.columnar import read_actions
from engine.history.contacts import contact_log
from engine.history.settings import parse
from engine.history.store import HEAD, open_store
from engine.history.tables import VERSION_TABLE, run_actions
from tests.history_runs import history_at

MIGRATIONS = Path(__file__).resolve().parents[1] / "engine" / "history" / "migrations"


def snapshot(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    status = rng.choice(np.array(["allocated", "holdout", "not_served", None], dtype=object), n)
    return pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(n)], "value_tier": "gold",
        "lifecycle_stage": "growth", "total_value": 1.0, "value_score": 1.0,
        "action": np.where(status == None, "no_action", "retain"),  # noqa: E711
        "campaign": np.where(status == None, None, rng.choice(  # noqa: E711
            np.array(["a", "b"], dtype=object), n)),
        "policy_id": "p",
        "channel": np.where(status == "allocated", rng.choice(
            np.array(["email", "sms"], dtype=object), n), None),
        "status": status,
        "holdout": np.where(status == None, None, status == "holdout"),  # noqa: E711
        "cost": np.where(status == "allocated", 0.5, np.nan), "value_at_stake": 10.0,
        "expected_response": 0.1})


def old_history(url: str, tmp_path: Path) -> list[pd.DataFrame]:
    """A history as the previous version made it: revision 0001, two runs recorded."""
    frames = [snapshot(300, 1), snapshot(300, 2)]
    history_at(url, tmp_path, "0001", frames)
    return frames


def test_a_history_of_the_previous_version_is_migrated(history_url: str,
                                                        tmp_path: Path) -> None:
    frames = old_history(history_url, tmp_path)
    store = open_store(parse(history_url, tmp_path, source="test"), create=True)
    assert store is not None
    try:
        with store.reading() as conn:
            version = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
            blocks = read_actions(conn, run_actions, [1, 2])
            assert conn.execute(select(run_actions.c.run)).scalars().all() == [1, 2]
        assert version == HEAD == "0007_w_hist13"
        for k, frame in enumerate(frames, 1):
            want = frame[frame["campaign"].notna()].sort_values("customer_id")
            got = blocks[blocks["run"] == k].sort_values("customer_id")
            assert got["customer_id"].tolist() == want["customer_id"].tolist()
            for name in ("campaign", "channel", "status"):
                assert got[name].astype(object).fillna("-").tolist() == \
                    want[name].fillna("-").tolist()
            assert got["holdout"].astype(bool).tolist() == want["holdout"].astype(bool).tolist()
            assert np.allclose(got["cost"].fillna(-1.0), want["cost"].fillna(-1.0))
        log = contact_log(store, as_of=dt.date(2025, 1, 20), window=30, source="t")
        # the contacts' ids are Arrow strings (engine.activation.contact.Ids)
        made = sorted(zip([str(c) for c in log.contact_customer], log.contact_days_ago,
                          log.contact_channel, log.contact_campaign, strict=True))
        want_made = sorted(
            (c, ago, ch, k)
            for frame, ago in zip(frames, (14, 7), strict=True)
            for c, ch, k, s in frame[["customer_id", "channel", "campaign", "status"]]
            .itertuples(index=False) if s == "allocated")
        assert made == want_made and log.runs == 2
    finally:
        store.close()
