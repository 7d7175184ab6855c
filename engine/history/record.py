"""Recording a run: one row in cvm_runs and the run's blocks, in one transaction.

The snapshot (one Arrow table, engine.history.snapshot) is written as blocks, never a SQL row
per customer: in parts sorted by customer (``cvm_run_snapshots``, engine.history.
snapshot_blocks: every column, for the readers by customer), the actioned customers
(``cvm_run_actions``) and every customer's values (``cvm_run_values``) for the look-backs. A
run killed at any point leaves the history as it was: SQLite's journal and PostgreSQL's
transaction undo a write that was not committed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import Connection

from engine import __version__
from engine.history.columnar import FORMAT
from engine.history.snapshot import as_table, copy_csv, encode_actions, snapshot_table
from engine.history.snapshot_blocks import encode_parts
from engine.history.store import Store
from engine.history.tables import run_actions, run_snapshots, run_values, runs
from engine.history.values import FORMAT as VALUES_FORMAT
from engine.history.values import encode_values

RECORD_LOCK = 0x43564D52  # "CVMR": the advisory lock recordings take one at a time (PostgreSQL)
# Called between the run row and the blocks: tests kill the process there.
_between: Callable[[], None] | None = None


def snapshot_frame(table: pd.DataFrame, decisions: pd.DataFrame,
                   actions: pd.DataFrame) -> pa.Table:
    """One row per customer: value snapshot and decision (snapshot.SCHEMA)."""
    return snapshot_table(table, decisions, actions)


def record_run(store: Store, *, run_id: str, as_of: dt.date, project: str,
               inputs: dict[str, str], snapshot: pd.DataFrame | pa.Table,
               windows: dict[str, int] | None = None) -> int:
    """Write the run and its snapshot; return the run's number in the history. ``windows``:
    the attribution window of each campaign of the run, in days (measured over them).

    The blocks are made before the transaction starts (on SQLite it holds the history's write
    lock), the two look-back blocks on a second thread while the parts are made (Arrow's
    sorting and compression leave the GIL)."""
    data = as_table(snapshot)
    status = data.column("status")
    with ThreadPoolExecutor(max_workers=1) as pool:
        looks = pool.submit(lambda: (encode_actions(data), encode_values(data)))
        parts = encode_parts(data, 0)
        (actioned, acts), (valued, values) = looks.result()
    with store.transaction() as conn:
        if conn.dialect.name == "postgresql":
            # one recording at a time, as SQLite's write lock makes it: a run's id is then
            # taken in the order the runs commit, so the latest recorded run of a date (the
            # highest id: engine.history.lookback) is the one committed last
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": RECORD_LOCK})
        key = conn.execute(insert(runs).returning(runs.c.id), {
            "run_id": run_id, "as_of": as_of,
            "recorded_at": dt.datetime.now(dt.timezone.utc),
            "engine_version": __version__, "project": project,
            "inputs": json.dumps(inputs, sort_keys=True),
            "windows": json.dumps(windows, sort_keys=True) if windows is not None else None,
            "customers": data.num_rows, "actioned": len(status) - status.null_count,
            "allocated": int(pc.sum(pc.equal(status, "allocated")).as_py() or 0),
        }).scalar_one()
        if _between is not None:
            _between()
        if parts:
            conn.execute(insert(run_snapshots), [{**part, "run": key} for part in parts])
        conn.execute(insert(run_actions), {"run": key, "format": FORMAT, "rows": actioned,
                                           "data": acts})
        conn.execute(insert(run_values), {"run": key, "format": VALUES_FORMAT,
                                          "rows": valued, "data": values})
    return int(key)


def forget_run(store: Store, key: int, run_id: str | None = None) -> bool:
    """Remove a run recorded by ``record_run`` (whose files were then not committed: a rename
    refused, a stop between the record and the renames; or named by ``cvm history --forget``):
    the history as it was before. ``run_id``: only if run ``key`` is still that run (on SQLite
    a run recorded after the latest was forgotten takes its number). Whether it was removed."""
    with store.transaction() as conn:
        held = conn.execute(select(runs.c.run_id).where(runs.c.id == key)).scalar_one_or_none()
        if held is None or (run_id is not None and held != run_id):
            return False
        for table in (run_snapshots, run_actions, run_values):
            conn.execute(delete(table).where(table.c.run == key))
        conn.execute(delete(runs).where(runs.c.id == key))
    return True


def bulk_insert(conn: Connection, table: str, columns: Sequence[str],
                frame: pd.DataFrame, *, on_conflict: str = "") -> None:
    """Insert every row of ``frame`` (columns in ``columns`` order) as fast as the database
    takes them. ``on_conflict`` (SQLite only): an ON CONFLICT clause's action."""
    if not len(frame):
        return
    if conn.dialect.name == "postgresql":
        _copy(conn, table, columns, frame)
    else:
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        rows = list(zip(*(_values(frame[c]) for c in columns), strict=True))
        clause = f" ON CONFLICT {on_conflict}" if on_conflict else ""
        conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks}){clause}", rows)


def _values(column: pd.Series) -> list[Any]:
    """Plain Python values. A missing value may stay NaN: SQLite stores a NaN as NULL."""
    values: list[Any] = column.tolist()
    return values


def _copy(conn: Connection, table: str, columns: Sequence[str], frame: pd.DataFrame) -> None:
    copy_csv(conn, table, columns, pa.Table.from_pandas(frame, preserve_index=False))
