"""A row the history refuses costs that row only: the service's writer committed each batch in
one transaction and dropped all of it on any error (a call-centre trial: an event re-sent with
the id the service gave it hit the events' unique key, and ten next-best-action answers of
another client, queued in the same batch, never reached the history, their interaction ids
then answered 404)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, select

from engine.errors import InputError, Problem
from engine.history.store import Store
from engine.history.tables import events, interactions, live_contacts
from engine.serve import journal as journal_module
from engine.serve.journal import Journal, interaction_of
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


class _Outage:
    """The store's transactions refused ("connection refused") while ``down``; ``lost_ack``:
    the next transaction commits, then its acknowledgement is lost (an error raised after)."""

    def __init__(self, store: Store) -> None:
        self.store, self.real, self.down, self.lost_ack, self.tried = \
            store, store.transaction, False, False, 0
        store.transaction = self  # type: ignore[method-assign]

    @contextlib.contextmanager
    def __call__(self) -> Iterator[Any]:
        self.tried += 1
        if self.down:
            raise InputError(Problem("connection refused"))
        with self.real() as conn:
            yield conn
        if self.lost_ack:
            self.lost_ack = False
            raise InputError(Problem("connection reset after the commit"))


def _down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, first: float,
          most: float = 30.0, held: int | None = None
          ) -> tuple[Store, _Outage, Journal, list[str]]:
    """A journal on a history whose transactions ``_Outage`` can refuse, retrying after
    ``first`` s up to ``most``, holding at most ``held`` rows; with what it says."""
    monkeypatch.setattr(journal_module, "RETRY_FIRST", first)
    monkeypatch.setattr(journal_module, "RETRY_MAX", most)
    if held is not None:
        monkeypatch.setattr(journal_module, "MAX_HELD", held)
    said: list[str] = []
    store = open_history(str(tmp_path / "h.sqlite"), tmp_path)
    outage = _Outage(store)
    return store, outage, Journal(store, on_error=said.append), said


def _live(iid: str) -> dict[str, object]:
    return {"customer_id": "C2", "contact_date": AT.date(), "recorded_at": AT,
            "channel": "call_centre", "campaign": None, "action": "retain", "trigger_id": None,
            "interaction_id": iid, "run_id": "r1", "digest": 1}


def _count(store: Store, table: Table) -> int:
    with store.reading() as conn:
        return len(conn.execute(select(table)).all())


def _until(test: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 20
    while not test():
        assert time.monotonic() < deadline, "not within 20 s"
        time.sleep(0.02)


def test_rows_are_held_while_the_database_is_out_of_reach_and_written_when_it_is_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Session 44's note: a batch the database did not take (PostgreSQL restarted) was lost,
    so the contacts the service gave then were not counted by the next run's contact
    policies. Held and tried again (every RETRY_FIRST s, doubling), they are written once
    it answers, by themselves (no new request needed), and said once meanwhile."""
    store, outage, journal, said = _down(tmp_path, monkeypatch, first=0.05, most=0.2)
    try:
        outage.down = True
        for k in range(30):
            journal.add(interactions, _interaction(f"i{k}"))
            journal.add(live_contacts, _live(f"i{k}"))
        assert journal.flush()
        assert (journal.written, journal.failed, journal.held) == (0, 0, 60)
        assert journal.unreachable == ("60 rows waiting to be recorded, tried again until the "
                                       "history answers (0 lost since the service started): "
                                       "connection refused")
        _until(lambda: outage.tried >= 3)  # tried again without a request
        assert len(said) == 1 and said[0] == (
            "the history is out of reach: 60 rows held, tried again until it answers (at "
            "most 50,000 are held): connection refused"), said
        outage.down = False
        _until(lambda: journal.held == 0)
        assert (journal.written, journal.failed, journal.unreachable) == (60, 0, None)
        assert (_count(store, interactions), _count(store, live_contacts)) == (30, 30)
        assert said[-1] == "the history answers again: 60 held rows recorded"
    finally:
        journal.close()


def test_rows_held_whose_commit_was_not_acknowledged_are_not_written_twice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection lost after the commit: the batch is held and tried again, and its rows
    already in the history (the interactions by id, the contacts given by interaction and
    channel) are not recorded twice: a contact given counted twice blocks a customer for the
    next run's contact policies."""
    store, outage, journal, _ = _down(tmp_path, monkeypatch, first=0.05, most=0.2)
    try:
        outage.lost_ack = True
        journal.add(interactions, _interaction("i1"))
        journal.add(live_contacts, _live("i1"))
        journal.add(live_contacts, _live("i2"))  # its interaction cut into another batch
        assert journal.flush()
        _until(lambda: journal.held == 0)
        journal.add(interactions, _interaction("i3"))
        assert journal.flush()
        assert (_count(store, interactions), _count(store, live_contacts)) == (2, 2)
        assert (journal.written, journal.failed) == (4, 0)
    finally:
        journal.close()


def test_held_rows_are_bounded_and_the_oldest_lost_are_counted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, outage, journal, said = _down(tmp_path, monkeypatch, first=0.05, most=0.2, held=10)
    try:
        outage.down = True
        for k in range(25):
            journal.add(interactions, _interaction(f"i{k:02d}"))
            assert journal.flush()
        assert (journal.held, journal.failed) == (10, 15)
        assert journal.unreachable is not None and journal.unreachable.startswith(
            "10 rows waiting to be recorded, tried again until the history answers (15 lost "
            "since the service started): "), journal.unreachable
        dropped = [line for line in said if line.startswith("could not record")]
        assert dropped == [  # said once a holding (a log line a request would flood it)
            "could not record 1 row in the history (1 since the service started): more than "
            "10 rows held while it is out of reach, the oldest dropped: connection refused"]
        outage.down = False
        _until(lambda: journal.held == 0)
        with store.reading() as conn:  # the newest ten kept
            assert sorted(conn.execute(select(interactions.c.id)).scalars()) == [
                f"i{k:02d}" for k in range(15, 25)]
    finally:
        journal.close()


def test_the_oldest_rows_are_dropped_whatever_their_table(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A review: the rows held were kept in table order, so the cap dropped every event,
    the newest too, before an older interaction."""
    store, outage, journal, _ = _down(tmp_path, monkeypatch, first=0.05, most=0.2, held=10)
    try:
        outage.down = True
        for k in range(8):
            journal.add(interactions, _interaction(f"i{k}"))
        for k in range(6):
            journal.add(events, _event(f"e{k}"))
        assert journal.flush()
        assert (journal.held, journal.failed) == (10, 4)
        outage.down = False
        _until(lambda: journal.held == 0)
        with store.reading() as conn:
            assert sorted(conn.execute(select(interactions.c.id)).scalars()) == [
                f"i{k}" for k in range(4, 8)]
            assert len(conn.execute(select(events.c.id)).all()) == 6
    finally:
        journal.close()


def test_a_reader_waiting_has_the_held_rows_tried_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A review: a read (flush) restarted the retry's wait, up to 30 s, and never tried the
    held rows: with the database back, a response to an interaction the service had just
    given answered 404. A reader now has them tried, at most every RETRY_FIRST seconds."""
    store, outage, journal, _ = _down(tmp_path, monkeypatch, first=0.1, most=60.0)
    try:
        outage.down = True
        journal.add(interactions, _interaction("given"))
        assert journal.flush() and journal.held == 1
        _until(lambda: outage.tried >= 4)  # 0.1, 0.2, 0.4 s: the next in 0.8 s, then 1.6
        outage.down = False
        time.sleep(0.1)
        assert journal.flush()  # before the timer's next try: the reader's
        assert journal.held == 0 and interaction_of(store, "given") is not None
        # while it is down, readers do not try more than every RETRY_FIRST seconds
        outage.down = True
        journal.add(interactions, _interaction("later"))
        assert journal.flush() and journal.held == 1
        tried, start = outage.tried, time.monotonic()
        for _ in range(20):
            assert journal.flush()
        # a reader's try at most every 0.1 s, and the timer's (0.1, 0.2, 0.4, 0.8 s apart)
        assert outage.tried - tried <= (time.monotonic() - start) / 0.1 + 1 + 4 < 20
    finally:
        journal.close()


def test_rows_still_held_when_the_service_stops_are_lost_and_said(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, outage, journal, said = _down(tmp_path, monkeypatch, first=60.0)
    outage.down = True
    for k in range(3):
        journal.add(interactions, _interaction(f"i{k}"))
    assert journal.flush()
    journal.close()  # one last try at the stop, then the rows held are lost
    assert (journal.held, journal.failed) == (0, 3)
    assert said[-1] == ("could not record 3 rows in the history (3 since the service "
                        "started): the history still out of reach when the service stopped: "
                        "connection refused"), said


def test_a_real_postgresql_restart_loses_no_row(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The same on a real server of its own, stopped while rows come in and started again:
    every row recorded once (the pool's dead connections replaced)."""
    from tests.pg_server import Server, find_bindir

    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (CI must run the PostgreSQL tests)")
        pytest.skip("PostgreSQL is not installed")
    monkeypatch.setattr(journal_module, "RETRY_FIRST", 0.05)
    monkeypatch.setattr(journal_module, "RETRY_MAX", 0.2)
    server = Server(bindir)
    data = str(server.folder / "data")
    said: list[str] = []
    try:
        store = open_history(server.url, tmp_path)
        journal = Journal(store, on_error=said.append)
        try:
            journal.add(interactions, _interaction("before"))
            assert journal.flush() and journal.written == 1
            server._run("pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
            for k in range(20):
                journal.add(interactions, _interaction(f"i{k}"))
                journal.add(live_contacts, _live(f"i{k}"))
            assert journal.flush()
            assert journal.held == 40 and journal.unreachable is not None, said
            server._run("pg_ctl", "-D", data, "-l", str(server.folder / "log"), "-w", "-o",
                        f"-p {server.port} -k {server.folder} -c listen_addresses=127.0.0.1 "
                        "-c fsync=off", "start")
            _until(lambda: journal.held == 0)
            assert (_count(store, interactions), _count(store, live_contacts)) == (21, 20)
            assert (journal.written, journal.failed, journal.unreachable) == (41, 0, None)
        finally:
            journal.close()
    finally:
        server.stop()
