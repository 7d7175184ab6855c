"""A stamp of what a run reads of the history, cheap to take (README "History": a run and the
history written meanwhile).

A run's look-backs (value-change attributes, contact log and opt-outs, learning) and the state
its run id covers (engine.history.lookback.history_state) read the recorded runs and the
imported responses, and nothing else: each run is recorded in one transaction that adds one
``cvm_runs`` row, each responses file in one that adds one ``cvm_imports`` row (its responses
come with it), and only ``cvm history --forget`` deletes one (a run). So the number and the
highest id of those two small tables change with every commit that could change what a run
reads, and with no other: what ``cvm serve`` records (events, interactions, their outcomes)
does not move it. A count, not only the highest id: on PostgreSQL two imports may commit out of
their ids' order. A run taken out by ``cvm history --forget`` lowers the count; on SQLite the
next run recorded may take its id again, so the latest time a run was recorded is part of the
stamp too (a forget and a recording during one run's reads would otherwise leave the count and
highest id as they were).

The contacts ``cvm serve`` gives (engine.history.live) are read up to the highest id the first
stamp saw (``until``), which the later stamps keep: the service recording more meanwhile does
not make a run read again (they wait for the next run), one committed late below that id does.

``cvm run`` (engine.run.settle) takes it before its first read and again with its run id's
state, in one short read transaction: equal, every read in between saw the same history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from engine.history.settings import HistorySettings

# (runs recorded, highest run id, response imports, highest import id, the live contacts'
# highest id read (``until``), the live contacts up to it, when the latest run was recorded)
Stamp = tuple[int, int, int, int, int, int, str]


def history_stamp(conn: Connection, until: int | None = None) -> Stamp:
    """The stamp of the history ``conn`` reads (two statements: read it in one transaction,
    ``Store.snapshot``); the live contacts up to ``until`` (None: the highest id now)."""
    from sqlalchemy import func, select

    from engine.history.tables import imports, live_contacts, runs

    found = conn.execute(select(
        select(func.count()).select_from(runs).scalar_subquery(),
        select(func.coalesce(func.max(runs.c.id), 0)).scalar_subquery(),
        select(func.count()).select_from(imports).scalar_subquery(),
        select(func.coalesce(func.max(imports.c.id), 0)).scalar_subquery(),
        select(func.coalesce(func.max(live_contacts.c.id), 0)).scalar_subquery(),
        select(func.max(runs.c.recorded_at)).scalar_subquery())).one()
    last = int(found[4]) if until is None else until
    count = conn.execute(select(func.count()).select_from(live_contacts)
                         .where(live_contacts.c.id <= last)).scalar_one()
    return (int(found[0]), int(found[1]), int(found[2]), int(found[3]), last, int(count),
            str(found[5] or ""))


def read_stamp(settings: HistorySettings) -> Stamp | None:
    """The stamp of the history of ``settings``; None when there is none yet."""
    from engine.history.store import open_store

    store = open_store(settings, create=False)
    if store is None:
        return None
    try:
        with store.snapshot() as conn:
            return history_stamp(conn)
    finally:
        store.close()


def what_changed(before: Stamp | None, after: Stamp | None) -> str:
    """What was written between two stamps, in words."""
    if before is None or after is None:
        return "the history was made" if after is not None else "the history was removed"
    runs = ("a run was recorded" if after[0] > before[0] else "a run was forgotten"
            if after[0] < before[0] else "a run was forgotten and another recorded")
    said = [*([runs] if before[:2] != after[:2] or before[6] != after[6] else []),
            *(["responses were imported"] if before[2:4] != after[2:4] else []),
            *(["a contact `cvm serve` gave was recorded late"] if before[4:6] != after[4:6]
              else [])]
    return " and ".join(said)
