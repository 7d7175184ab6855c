"""What the service records in the history (interactions, events, responses), written in
batches by one thread off the request path: a request puts its rows on a queue and returns;
the writer commits whatever has queued every few milliseconds in one transaction, and
everything still queued when the service stops (``close``); while the database is out of
reach, the rows are held and tried again."""

from __future__ import annotations

import datetime as dt
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.exc import IntegrityError

from engine.history.store import Store
from engine.history.tables import (
    events,
    interaction_responses,
    interactions,
    live_contacts,
    responses,
)
from engine.words import counted

FLUSH_SECONDS = 0.005  # how long rows wait at most before their transaction starts
MAX_BATCH = 5000
# the database out of reach: rows held for it, tried again after these seconds (doubling)
MAX_HELD = 50_000
RETRY_FIRST, RETRY_MAX = 0.5, 30.0
RECENT = 10  # contacts, interactions and responses shown per customer
# parents first: events, then the interactions they fired (and the contacts given), then the
# responses
ORDER = (events, interactions, live_contacts, interaction_responses)


def new_id() -> str:
    return uuid.uuid4().hex


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Journal:
    """The history writer: ``add`` queues a row, a thread commits the queue in batches. Rows
    the database does not take while it is out of reach are held in the order they came (at
    most ``MAX_HELD``, the oldest lost beyond) and tried again after ``RETRY_FIRST`` seconds,
    then twice as long each time up to ``RETRY_MAX``, with the rows come meanwhile; a reader
    waiting for them (``flush``) has them tried at once, at most every ``RETRY_FIRST``
    seconds. A row held that a lost acknowledgement had committed is not written twice."""

    def __init__(self, store: Store, on_error: Callable[[str], None] | None = None) -> None:
        self.store = store
        self._queue: queue.SimpleQueue[tuple[Table, dict[str, Any]] | threading.Event | None]
        self._queue = queue.SimpleQueue()
        self._on_error = on_error
        self.written = 0
        self.failed = 0  # rows lost: refused by the history, or dropped while held
        self._held: list[tuple[Table, dict[str, Any]]] = []  # in the order they came
        self._retry_in = RETRY_FIRST
        self._next_try = self._last_try = 0.0  # (time.monotonic)
        self._why = ""
        self._overflow_said = False
        # while rows are held: how many and why (shown on /ready)
        self.unreachable: str | None = None
        self._thread = threading.Thread(target=self._run, name="cvm-serve-journal",
                                        daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def held(self) -> int:
        """Rows waiting for the history to answer again."""
        return len(self._held)

    def add(self, table: Table, row: dict[str, Any]) -> None:
        self._queue.put((table, row))

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every row queued before this call is committed (or held, after a try
        of the held rows when the last was ``RETRY_FIRST`` seconds ago or more)."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=60)
        self.store.close()

    def _run(self) -> None:
        stop = False
        while not stop:
            try:
                first = self._queue.get(timeout=max(0.0, self._next_try - time.monotonic())) \
                    if self._held else self._queue.get()
            except queue.Empty:  # the held rows, tried again by themselves
                self._write([])
                continue
            items = [first]
            deadline = time.monotonic() + FLUSH_SECONDS
            while len(items) < MAX_BATCH:
                wait = deadline - time.monotonic()
                try:
                    items.append(self._queue.get(timeout=max(wait, 0.0)) if wait > 0
                                 else self._queue.get_nowait())
                except queue.Empty:
                    break
            rows: list[tuple[Table, dict[str, Any]]] = []
            waiters = []
            for item in items:
                if item is None:
                    stop = True
                elif isinstance(item, threading.Event):
                    waiters.append(item)
                else:
                    rows.append(item)
            at = time.monotonic()
            if not self._held:
                if rows:
                    self._write(rows)
            elif stop or at >= self._next_try or (waiters and at - self._last_try >= RETRY_FIRST):
                self._write(rows)  # due, the last try at the stop, or a reader waiting
            else:
                self._keep(rows)
            for waiter in waiters:
                waiter.set()
        if self._held:
            self._lost(len(self._held), "the history still out of reach when the service "
                       f"stopped: {self._why}")
            self._held = []

    def _write(self, new: list[tuple[Table, dict[str, Any]]]) -> None:
        held = self._held  # (kept until the rows are written: ``held`` counts them)
        batch = held + new
        rows: dict[Table, list[dict[str, Any]]] = {}
        for table, row in batch:
            rows.setdefault(table, []).append(row)
        retried = {id(row) for _, row in held}
        self._last_try, already = time.monotonic(), 0
        try:
            with self.store.transaction() as conn:
                if retried:  # a lost acknowledgement may have committed some of them
                    kept = _unrecorded(conn, rows, retried)
                    already = len(batch) - sum(len(v) for v in kept.values())
                    rows = kept
                for table in ORDER:
                    if rows.get(table):
                        conn.execute(insert(table), rows[table])
        except Exception as exc:  # (the store says the database's error, the driver's behind)
            self.written += already  # committed before, whatever becomes of the rest
            left = {id(row) for more in rows.values() for row in more}
            if isinstance(exc.__context__, IntegrityError):  # a row refused (an event's id
                self._held = []  # again): the database answers
                self._one_by_one([(t, r) for t in ORDER for r in rows.get(t, [])])
                self._back(len(held))
                return
            self._hold([(t, r) for t, r in batch if id(r) in left], exc)
            return
        self._held = []
        self.written += len(batch)
        self._back(len(held))

    def _hold(self, rows: list[tuple[Table, dict[str, Any]]], exc: Exception) -> None:
        """The database out of reach: keep the rows for the next try; said when the holding
        starts, and on /ready."""
        first = self.unreachable is None
        self._why, self._held = str(exc), []
        if first and rows and self._on_error is not None:
            self._on_error(f"the history is out of reach: {counted(len(rows), 'row')} held, "
                           f"tried again until it answers (at most {MAX_HELD:,} are held): "
                           f"{exc}")
        self._keep(rows)
        self._retry_in = RETRY_FIRST if first else min(self._retry_in * 2, RETRY_MAX)
        self._next_try = time.monotonic() + self._retry_in

    def _keep(self, rows: list[tuple[Table, dict[str, Any]]]) -> None:
        """Add rows to those held, the newest ``MAX_HELD`` kept (the first rows dropped said
        once a holding, then counted on /ready)."""
        self._held.extend(rows)
        if (dropped := len(self._held) - MAX_HELD) > 0:
            self._held = self._held[dropped:]
            if self._overflow_said:
                self.failed += dropped
            else:
                self._overflow_said = True
                self._lost(dropped, f"more than {MAX_HELD:,} rows held while it is out of "
                           f"reach, the oldest dropped: {self._why}")
        self.unreachable = None if not self._held else (
            f"{counted(len(self._held), 'row')} waiting to be recorded, tried again until the "
            f"history answers ({self.failed:,} lost since the service started): {self._why}")

    def _back(self, held: int) -> None:
        if self.unreachable is not None and self._on_error is not None:
            self._on_error(f"the history answers again: {counted(held, 'held row')} recorded")
        self.unreachable, self._retry_in, self._overflow_said = None, RETRY_FIRST, False

    def _lost(self, count: int, why: str) -> None:
        self.failed += count
        if self._on_error is not None:
            self._on_error(f"could not record {counted(count, 'row')} in the history "
                           f"({self.failed} since the service started): {why}")

    def _one_by_one(self, rows: list[tuple[Table, dict[str, Any]]]) -> None:
        """Each row in a transaction of its own: a row the history refuses (an event's id
        recorded already) costs that row, not the batch's other clients' rows."""
        lost, why = 0, None
        for table, row in rows:
            try:
                with self.store.transaction() as conn:
                    conn.execute(insert(table), [row])
                self.written += 1
            except Exception as exc:
                lost, why = lost + 1, exc
        if lost:
            self._lost(lost, str(why))


def _unrecorded(conn: Any, rows: dict[Table, list[dict[str, Any]]], retried: set[int]
                ) -> dict[Table, list[dict[str, Any]]]:
    """``rows`` without those of ``retried`` (ids of the row objects held) that the history
    holds already: a row with an id by it, a contact given by its interaction and channel."""
    out = {}
    for table, found in rows.items():
        if not any(id(row) in retried for row in found):
            out[table] = found
            continue
        contacts = table is live_contacts
        cols = (table.c.interaction_id, table.c.channel) if contacts else (table.c.id,)
        keys = [(row["interaction_id"], row["channel"]) if contacts else (row["id"],)
                for row in found]
        wanted = sorted({key[0] for key, row in zip(keys, found, strict=True)
                         if id(row) in retried})
        there: set[tuple[Any, ...]] = set()
        for start in range(0, len(wanted), 500):
            there.update(tuple(r) for r in conn.execute(
                select(*cols).where(cols[0].in_(wanted[start:start + 500]))).all())
        out[table] = [row for key, row in zip(keys, found, strict=True)
                      if id(row) not in retried or key not in there]
    return out


def past_events(store: Store, since: dt.datetime) -> list[tuple[str, str, str, dt.datetime,
                                                                 dict[str, Any]]]:
    """The events recorded as occurring at or after ``since``, oldest first (ties: as
    recorded), with their fields."""
    with store.reading() as conn:
        rows = conn.execute(
            select(events.c.id, events.c.customer_id, events.c.type, events.c.occurred_at,
                   events.c.attributes)
            .where(events.c.occurred_at >= since)
            .order_by(events.c.occurred_at, events.c.recorded_at, events.c.id)).all()
    out = []
    for event_id, customer, kind, at, fields in rows:
        try:
            found = json.loads(fields)
        except ValueError:
            found = {}
        out.append((event_id, customer, kind, as_utc(at),
                    found if isinstance(found, dict) else {}))
    return out


def last_alive(store: Store) -> dt.datetime | None:
    """The last moment the service is known to have run: its latest recorded row."""
    with store.reading() as conn:
        found = [conn.execute(select(func.max(t.c.recorded_at))).scalar()
                 for t in (events, interactions, interaction_responses)]
    times = [as_utc(t) for t in found if t is not None]
    return max(times) if times else None


def as_utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.timezone.utc) if at.tzinfo is None else \
        at.astimezone(dt.timezone.utc)


def interaction_of(store: Store, interaction_id: str) -> dict[str, Any] | None:
    with store.reading() as conn:
        row = conn.execute(select(interactions).where(
            interactions.c.id == interaction_id)).mappings().first()
    return dict(row) if row is not None else None


def recent(store: Store, customer_id: str) -> dict[str, list[dict[str, Any]]]:
    """The customer's latest contacts (the runs' and those the service gave), responses
    (imported and recorded here) and interactions, newest first."""
    from engine.history.queries import _plain, contacts_of

    with store.reading() as conn:
        contacts = [(*c, "run") for c in contacts_of(conn, customer_id, RECENT)]
        given = conn.execute(
            select(live_contacts.c.contact_date, live_contacts.c.campaign,
                   live_contacts.c.channel, live_contacts.c.action)
            .where(live_contacts.c.customer_id == customer_id)
            .order_by(live_contacts.c.contact_date.desc(), live_contacts.c.id.desc())
            .limit(RECENT)).all()
        imported = conn.execute(
            select(responses.c.response_date, responses.c.campaign, responses.c.outcome)
            .where(responses.c.customer_id == customer_id)
            .order_by(responses.c.response_date.desc()).limit(RECENT)).all()
        recorded = conn.execute(
            select(interaction_responses.c.recorded_at, interactions.c.action,
                   interaction_responses.c.outcome, interaction_responses.c.interaction_id)
            .select_from(interaction_responses.join(
                interactions, interactions.c.id == interaction_responses.c.interaction_id))
            .where(interaction_responses.c.customer_id == customer_id)
            .order_by(interaction_responses.c.recorded_at.desc()).limit(RECENT)).all()
        shown = conn.execute(
            select(interactions.c.id, interactions.c.recorded_at, interactions.c.source,
                   interactions.c.channel, interactions.c.action, interactions.c.offer,
                   interactions.c.trigger_id)
            .where(interactions.c.customer_id == customer_id)
            .order_by(interactions.c.recorded_at.desc()).limit(RECENT)).all()
    answers = [_plain({"date": d, "about": c, "outcome": o, "interaction_id": None,
                       "source": "import"}) for d, c, o in imported]
    answers += [_plain({"date": d, "about": a, "outcome": o, "interaction_id": i,
                        "source": "serve"}) for d, a, o, i in recorded]
    answers = sorted(answers, key=lambda r: str(r["date"]), reverse=True)[:RECENT]
    # newest first; of one day, the service's (given after the run of that as-of date)
    contacts = sorted(contacts + [(*g, "serve") for g in given],
                      key=lambda c: (str(c[0])[:10], c[4] == "serve"), reverse=True)[:RECENT]
    return {
        "contacts": [_plain(dict(zip(("date", "campaign", "channel", "action", "source"), r,
                                     strict=True))) for r in contacts],
        "responses": answers,
        "interactions": [_plain(dict(zip(("interaction_id", "recorded_at", "source",
                                          "channel", "action", "offer", "trigger_id"), r,
                                         strict=True))) for r in shown],
    }
