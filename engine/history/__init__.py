"""The contact and value history: a database (SQLite by default, PostgreSQL by URL) that
remembers every run, every customer's decision and value, and the responses imported.

See README.md beside this file for what comes in, what goes out and what it must not import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.history.settings import ENV_VAR, HistorySettings, resolve

if TYPE_CHECKING:
    import pandas as pd

    from engine.history.store import Store
    from engine.project.config import Config
    from engine.value.score import Scored

__all__ = ["ENV_VAR", "HistorySettings", "open_history", "settings_for", "with_changes"]


def settings_for(config: Config) -> HistorySettings:
    """The history a project's commands use (CVM_HISTORY_URL, cvm.yaml ``history:``, or the
    default ``<project>/.cvm/history.sqlite``)."""
    return resolve(config.home or config.project, config.history, where=config.where("history"))


def open_history(config: Config, *, create: bool) -> Store | None:
    """Open the project's history; None when reading and there is none yet."""
    from engine.history.store import open_store

    return open_store(settings_for(config), create=create)


def with_changes(config: Config, scored: Scored, *, use_history: bool = True,
                 until: int | None = None) -> pd.DataFrame:
    """The value table with the value-change attributes (engine.history.changes), read from
    the project's history if there is one (never created here); the contacts `cvm serve`
    gave up to id ``until`` (None: all)."""
    from engine.history.changes import add_changes

    store = open_history(config, create=False) if use_history else None
    try:
        return add_changes(scored.table, store, as_of=scored.as_of, tiers=scored.tiers.names,
                           until=until)
    finally:
        if store is not None:
            store.close()
