"""PostgreSQL: the latest recorded run of a date (the highest cvm_runs.id, engine.history.
lookback) is the run that committed last (review 8c: record transactions were not serialised
there, so a run that took its id first and committed last was not the latest). SQLite's write
lock serialises them already."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.history import record
from engine.history.changes import fetch
from engine.history.lookback import looked_back
from engine.history.tables import runs
from tests.history_runs import open_history, snapshot
from tests.pg_server import new_database

AS_OF = dt.date(2025, 1, 20)


def test_the_run_committed_last_is_the_latest_of_its_date(
        postgres_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = new_database(postgres_server, f"cvm_test_{uuid.uuid4().hex[:12]}")
    store = open_history(url, tmp_path)
    failed: list[BaseException] = []
    calls: list[str] = []
    second_done_first: list[bool] = []

    def second() -> None:
        try:
            record.record_run(store, run_id="second", as_of=AS_OF, project="t", inputs={},
                              snapshot=snapshot(5, seed=2))
        except BaseException as exc:  # said by the test, not lost in the thread
            failed.append(exc)

    other = threading.Thread(target=second)

    def between() -> None:
        # the first recording has inserted its row: the second starts, and gets as far as it
        # may (committed, or waiting for the first) before the first commits
        calls.append("between")
        if len(calls) > 1:
            return
        other.start()
        deadline = time.monotonic() + 30
        while other.is_alive() and time.monotonic() < deadline:
            with store.reading() as conn:
                if conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = "
                                     "'advisory' AND NOT granted")).scalar_one():
                    break
            time.sleep(0.01)
        second_done_first.append(not other.is_alive())

    monkeypatch.setattr(record, "_between", between)
    try:
        record.record_run(store, run_id="first", as_of=AS_OF, project="t", inputs={},
                          snapshot=snapshot(5, seed=1))
        other.join(timeout=60)
        assert not failed and not other.is_alive()
        committed_last = "first" if second_done_first[0] else "second"
        with store.reading() as conn:
            (latest, _), = fetch(conn, looked_back(AS_OF + dt.timedelta(days=1)))
            chosen = conn.execute(runs.select().where(runs.c.id == int(latest))).one()
    finally:
        store.close()
    assert chosen.run_id == committed_last == "second"
