"""A row the history refuses costs that row only: the service's writer committed each batch in
one transaction and dropped all of it on any error (a call-centre trial: an event re-sent with
the id the service gave it hit the events' unique key, and ten next-best-action answers of
another client, queued in the same batch, never reached the history, their interaction ids
then answered 404)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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


def test_a_database_out_of_reach_fails_the_batch_once_and_says_so_until_back(
        tmp_path: Path) -> None:
    """A review: any failure sent the batch row by row, each row waiting its own timeout
    against a database out of reach. A data engineer's re-trial: the rows lost then were said
    in one log line only; /ready now shows the last failure (history_error) until a batch is
    written again."""
    import contextlib

    from engine.errors import InputError, Problem

    said: list[str] = []
    store = open_history(str(tmp_path / "h.sqlite"), tmp_path)
    real, tried = store.transaction, []

    @contextlib.contextmanager
    def unreachable():  # type: ignore[no-untyped-def]
        tried.append(1)
        raise InputError(Problem("connection refused"))
        yield

    journal = Journal(store, on_error=said.append)
    try:
        store.transaction = unreachable  # type: ignore[method-assign]
        for k in range(30):
            journal.add(interactions, _interaction(f"i{k}"))
        assert journal.flush()
        # one attempt a batch (the writer may cut the 30 rows into two), never one a row
        assert (journal.failed, journal.written) == (30, 0) and len(tried) == len(said) <= 2
        assert said[-1].endswith("rows in the history (30 since the service started): "
                                 "connection refused"), said
        assert journal.unreachable is not None and journal.unreachable.endswith(
            "rows not recorded (30 since the service started): connection refused")
        store.transaction = real  # type: ignore[method-assign]
        journal.add(interactions, _interaction("i30"))
        assert journal.flush()
        assert (journal.written, journal.unreachable) == (1, None)
    finally:
        journal.close()
