"""The contacts the service gave since the run it serves (README "Real time": contacts the
service gives count).

A trigger's action given on a channel is a contact: the service records it in the history
(``cvm_live_contacts``, engine.history.live), where the next runs count it, and counts it
itself at once: the customer's contact policies are evaluated again with it, as given on the
run's as-of date (the service answers as of that date: a contact since then is the latest
there is), so a cap or a cool-down holds within the same service, without a reload. A load
reads those the history holds dated on or after the run's as-of date (those before it are in
the run's own contact log) and keeps those given meanwhile that the journal has not written
yet (by interaction id).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from engine.activation.contact import ContactLog

if TYPE_CHECKING:
    from engine.project.config import Config

# interaction id -> (customer, day, channel, campaign)
Contact = tuple[str, dt.date, str, str | None]


class Given:
    """The contacts given since the run's as-of date, per customer; shared by the loads."""

    def __init__(self, as_of: dt.date, found: Mapping[str, Contact] | None = None) -> None:
        self.as_of = as_of
        self._lock = threading.Lock()
        self._all: dict[str, Contact] = {}
        self._order: list[str] = []  # interaction ids, as added
        self._by: dict[str, tuple[tuple[str, str | None], ...]] = {}
        self._from: tuple[Given, int] | None = None  # the load's source and what it had
        for iid, contact in (found or {}).items():
            self._put(iid, contact)

    def _put(self, interaction_id: str, contact: Contact) -> None:
        if interaction_id in self._all:
            return
        self._all[interaction_id] = contact
        self._order.append(interaction_id)
        cid, _, channel, campaign = contact
        self._by[cid] = (*self._by.get(cid, ()), (channel, campaign))

    def add(self, interaction_id: str, customer_id: str, day: dt.date, channel: str,
            campaign: str | None) -> None:
        with self._lock:
            self._put(interaction_id, (customer_id, day, channel, campaign))

    def of(self, customer_id: str) -> tuple[tuple[str, str | None], ...]:
        """(channel, campaign) of each contact given to the customer, in the order given."""
        return self._by.get(customer_id, ())

    def since(self, as_of: dt.date, read: Mapping[str, Contact]) -> Given:
        """Those of a new load (its run as of ``as_of``): what the history holds (``read``)
        and those given here dated on or after it that it does not hold yet; those given
        while the load is built come with ``absorb``."""
        with self._lock:
            kept = {i: c for i, c in self._all.items() if c[1] >= as_of}
            mark = len(self._order)
        new = Given(as_of, {**kept, **read})
        new._from = (self, mark)
        return new

    def absorb(self) -> None:
        """Take the contacts given through the previous load while this one was built (the
        service holds its giving lock: none is given meanwhile)."""
        if self._from is None:
            return
        old, mark = self._from
        with old._lock:
            late = [(i, old._all[i]) for i in old._order[mark:]]
        with self._lock:
            for iid, contact in late:
                self._put(iid, contact)
        self._from = None


def read_given(config: Config, as_of: dt.date) -> dict[str, Contact]:
    """The contacts the history holds that the service gave on or after ``as_of``."""
    from sqlalchemy import select

    from engine.history import open_history
    from engine.history.live import day_of
    from engine.history.tables import live_contacts as t

    store = open_history(config, create=False)
    if store is None:
        return {}
    try:
        with store.reading() as conn:
            rows = conn.execute(select(t.c.interaction_id, t.c.customer_id, t.c.contact_date,
                                       t.c.channel, t.c.campaign)
                                .where(t.c.contact_date >= as_of).order_by(t.c.id)).all()
    finally:
        store.close()
    return {str(i): (str(c), day_of(d), str(ch), cp) for i, c, d, ch, cp in rows}


def with_given(log: ContactLog, customer_id: str,
               given: tuple[tuple[str, str | None], ...]) -> ContactLog:
    """The customer's part of the run's contact log, with the contacts given since (0 days
    before the as-of date)."""
    import pyarrow.compute as pc

    ids = log.contact_customer
    ids = ids if isinstance(ids, pa.Array | pa.ChunkedArray) else pa.array(ids, pa.string())
    mine = np.asarray(pc.equal(ids, customer_id), dtype=bool) if len(ids) else \
        np.zeros(0, dtype=bool)
    answered = np.asarray(log.response_customer == customer_id, dtype=bool) \
        if len(log.response_customer) else np.zeros(0, dtype=bool)
    # the customer's rows first: never the whole log as Python objects
    channels = [*np.asarray(log.contact_channel[mine], dtype=object), *(c for c, _ in given)]
    campaigns = [*np.asarray(log.contact_campaign[mine], dtype=object),
                 *(c for _, c in given)]
    n = int(mine.sum()) + len(given)
    return ContactLog(
        np.full(n, customer_id, dtype=object),
        np.concatenate([log.contact_days_ago[mine], np.zeros(len(given), dtype=np.int64)]),
        pd.Categorical(np.array(channels, dtype=object)),
        pd.Categorical(np.array(campaigns, dtype=object)),
        np.asarray(log.response_customer, dtype=object)[answered],
        log.response_days_ago[answered], log.response_outcome[answered],
        log.response_campaign[answered], source=log.source, runs=log.runs)
