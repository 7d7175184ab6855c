"""A row the history refuses costs that row only: the service's writer committed each batch in
one transaction and dropped all of it on any error (a call-centre trial: an event re-sent with
the id the service gave it hit the events' unique key, and ten next-best-action answers of
another client, queued in the same batch, never reached the history, their interaction ids
then answered 404)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.history.tables import events, interactions
from engine.serve.journal import Journal
from tests.history_runs import open_history

AT = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)


def _event(event_id: str) -> dict[str, object]:
    return {"id": event_id, "customer_id": "C1", "type": "complaint", "occurred_at": AT,
            "recorded_at": AT, "attributes": "{}", "fired": 0, "answer": None}


def _interaction(iid: str) -> dict[str, object]:
    return {"id": iid, "customer_id": "C2", "recorded_at": AT, "run_id": "r1",
            "source": "next_best_action", "channel": None, "action": "retain",
            "policy_id": None, "campaign": None, "offer": None, "service_level": None,
            "event_id": None, "trigger_id": None, "withheld": None}


def test_a_refused_row_costs_that_row_only(tmp_path: Path) -> None:
    said: list[str] = []
    store = open_history(str(tmp_path / "h.sqlite"), tmp_path)
    journal = Journal(store, on_error=said.append)
    try:
        journal.add(events, _event("e1"))
        assert journal.flush()
        journal.add(events, _event("e1"))  # the same event again: the unique key refuses it
        for k in range(10):
            journal.add(interactions, _interaction(f"i{k}"))
        assert journal.flush()
        with store.reading() as conn:
            assert len(conn.execute(select(interactions.c.id)).all()) == 10
            assert len(conn.execute(select(events.c.id)).all()) == 1
        assert (journal.written, journal.failed) == (11, 1)
        assert len(said) == 1 and said[0].startswith(
            "could not record 1 row in the history (1 since the service started): "), said
    finally:
        journal.close()


def test_a_database_out_of_reach_is_waited_for_then_the_batch_is_counted_lost(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A review: any failure sent the batch row by row, each row waiting its own timeout
    against a database out of reach. A data engineer's re-trial: PostgreSQL stopped for a
    moment, and the events answered then were never recorded (said once in the log, /ready
    still ready). The batch is tried again (not row by row) while the history is out of
    reach (said, and on /ready), and its rows counted lost only after HOLD_SECONDS."""
    import contextlib

    from engine.errors import InputError, Problem
    from engine.serve import journal as journal_module

    monkeypatch.setattr(journal_module, "RETRY_SECONDS", (0.01,))
    said: list[str] = []
    store = open_history(str(tmp_path / "h.sqlite"), tmp_path)
    real, tried = store.transaction, []

    @contextlib.contextmanager
    def flaky():  # type: ignore[no-untyped-def]
        tried.append(1)
        if len(tried) <= 3:  # down for three tries, then back
            raise InputError(Problem("connection refused"))
        with real() as conn:
            yield conn

    journal = Journal(store, on_error=said.append)
    try:
        store.transaction = flaky  # type: ignore[method-assign]
        for k in range(30):
            journal.add(interactions, _interaction(f"i{k}"))
        assert journal.flush()
        assert (journal.failed, journal.written, journal.unreachable) == (0, 30, None)
        assert said[0].startswith("the history is out of reach, ") and said[0].endswith(
            "rows waiting (tried again for 120 s): connection refused")
        assert said[-1].startswith("the history is written again (")
        monkeypatch.setattr(journal_module, "HOLD_SECONDS", 0.05)  # and now for good
        tried.clear()
        store.transaction = lambda: flaky_forever()  # type: ignore[method-assign]

        @contextlib.contextmanager
        def flaky_forever():  # type: ignore[no-untyped-def]
            tried.append(1)
            raise InputError(Problem("connection refused"))
            yield

        for k in range(30, 40):
            journal.add(interactions, _interaction(f"i{k}"))
        assert journal.flush()
        assert (journal.failed, journal.written) == (10, 30) and 1 < len(tried) < 20
        assert said[-1].endswith("rows in the history (10 since the service started): "
                                 "connection refused"), said
    finally:
        journal.close()
