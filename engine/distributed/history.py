"""What the history needs of the rows on the Dask engine.

After scoring, ``cvm run`` and ``cvm plan`` hold the per-customer table on the client and run
``engine.run.pipeline.compute`` there, so the history is read (value-change attributes,
contact policies) and recorded by the engine's own functions, as in one process. One reader
also reads the rows: learning (``engine.history.learn``) counts each earlier run's customers
who bought in its attribution window, and a window starts on that run's as-of date. So the
partitions keep their rows dated on or after the earliest recorded run's as-of date (none
without learning or a history), and the client gathers them, coded as one process codes the
customers (``merge.merged_rows``)."""

from __future__ import annotations

import numpy as np

from engine.data.load import EPOCH
from engine.history import open_history
from engine.project.project import Project

NO_RUN = int(np.iinfo(np.int32).max)  # a history without a run: no row is read


def learning_since(project: Project, *, history: bool) -> int | None:
    """The first day (since 1970-01-01) of the rows learning reads; None when it reads none
    (``--no-history``, learning off, no history yet)."""
    if not history or not project.channels.learning.enabled:
        return None
    store = open_history(project.config, create=False)
    if store is None:
        return None
    from sqlalchemy import func, select

    from engine.history.tables import runs

    try:
        with store.reading() as conn:
            first = conn.execute(select(func.min(runs.c.as_of))).scalar()
    finally:
        store.close()
    return NO_RUN if first is None else (first - EPOCH).days
