"""The hook ``cvm run`` calls: open (and create or upgrade) the history before the work, record
the run at the end."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from engine.history import open_history, settings_for
from engine.history.record import record_run, snapshot_frame

if TYPE_CHECKING:
    from engine.config import Config
    from engine.pipeline import Computed


class Recorder:
    """Opens the history at once, so that a history that cannot be used stops the run before
    the work; ``record`` writes the run in one transaction."""

    def __init__(self, config: Config) -> None:
        self.settings = settings_for(config)
        store = open_history(config, create=True)
        assert store is not None
        self.store = store
        self.config = config
        self.key: int | None = None

    def describe(self) -> dict[str, Any]:
        """What the manifest says about the history: the database, its password masked."""
        where = self.settings.masked
        if self.settings.file is not None:
            where = self.config.display(self.settings.file)
        return {"database": where, "dialect": self.settings.dialect}

    def record(self, computed: Computed, actions: pd.DataFrame, run_id: str,
               inputs: dict[str, str]) -> int:
        snapshot = snapshot_frame(computed.table, computed.decisions, actions)
        try:
            self.key = record_run(self.store, run_id=run_id, as_of=computed.scored.as_of,
                                  project=self.config.name, inputs=inputs, snapshot=snapshot)
        finally:
            self.store.close()
        return self.key
