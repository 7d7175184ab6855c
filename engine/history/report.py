"""The report's view of the history: the tier migration matrix of the latest run against the
run it looked back on (``before`` None: it looked back on none), or None (no history, or fewer
than two runs recorded). Never creates a history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.history import open_history, settings_for
from engine.history.migration import tier_migration

if TYPE_CHECKING:
    from engine.project.config import Config


def report_migration(config: Config, tiers: Sequence[str]) -> dict[str, Any] | None:
    store = open_history(config, create=False)
    if store is None:
        return None
    try:
        found = tier_migration(store, tiers)
    finally:
        store.close()
    if found is None:
        return None
    settings = settings_for(config)
    return {
        "database": config.display(settings.file) if settings.file else settings.masked,
        "before": found.before, "after": found.after, "columns": list(found.columns),
        "table": [[name, *(f"{n:,}" for n in row)]
                  for name, row in zip(found.rows, found.counts, strict=True)],
    }
