"""One read snapshot for all that a run reads of the history (README "History"): the
look-backs (value-change attributes, contact policies, learning) and the state its run id
covers (engine.history.lookback.history_state). Read in separate transactions, a response
import committed between them would be covered by the id but unread by the decisions.

Inside ``one_snapshot(settings)``, ``open_history(config, create=False)`` gives every reader the
same store, and its ``reading()`` the same connection, in one read transaction begun by the
first read: on SQLite a deferred BEGIN (the first SELECT takes the snapshot and its shared lock
holds it: a writer's commit waits for the end, within the busy timeout), on PostgreSQL
REPEATABLE READ READ ONLY (the first statement takes the snapshot; writers go on). The
transaction ends with the scope, before the run records itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.history.settings import HistorySettings
    from engine.history.store import Store

# the history of the scope open in this context, and its store (None: no history yet)
_ACTIVE: ContextVar[tuple[HistorySettings, Store | None] | None] = ContextVar(
    "cvm_history_snapshot", default=None)


@contextlib.contextmanager
def one_snapshot(settings: HistorySettings | None) -> Iterator[None]:
    """Every read of the history of ``settings`` (a project's: engine.history.settings_for;
    None: no history read, ``--no-history``) within is of one snapshot. A history that does
    not exist when the scope opens is read as none for the whole scope, even if an import
    creates it meanwhile."""
    if settings is None:
        yield
        return
    from engine.history.store import open_store

    store = open_store(settings, create=False)
    if store is not None:
        store.hold()
    token = _ACTIVE.set((settings, store))
    try:
        yield
    finally:
        _ACTIVE.reset(token)
        if store is not None:
            store.release()


def held(settings: HistorySettings) -> tuple[bool, Store | None]:
    """(True, the scope's store) inside a scope on this history; (False, None) outside."""
    active = _ACTIVE.get()
    if active is None or active[0] != settings:
        return False, None
    return True, active[1]
