"""The serve profile's contacts (engine.serve.journal.recent) are newest first by as-of date,
then run: a replay of an older date recorded later comes after the newer date's contact."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from engine.history import record
from engine.serve.journal import recent
from tests.history_runs import open_history, snapshot


def test_the_profile_orders_contacts_by_date_not_by_recording(
        history_url: str, tmp_path: Path) -> None:
    store = open_history(history_url, tmp_path)
    base = snapshot(2).assign(customer_id=["a", "b"], status="allocated", channel="email")
    try:
        for run_id, day, campaign in (("r1", "2025-02-01", "feb"), ("r2", "2025-03-01", "mar"),
                                      ("r3", "2025-01-01", "jan")):  # a replay, recorded last
            record.record_run(store, run_id=run_id, as_of=dt.date.fromisoformat(day),
                              project="t", inputs={}, snapshot=base.assign(campaign=campaign))
        found = recent(store, "a")["contacts"]
    finally:
        store.close()
    assert [(c["date"], c["campaign"]) for c in found] == [
        ("2025-03-01", "mar"), ("2025-02-01", "feb"), ("2025-01-01", "jan")]
