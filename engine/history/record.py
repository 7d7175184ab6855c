"""Recording a run: one row in cvm_runs and one snapshot row per customer, in one transaction.

Bulk-written: COPY on PostgreSQL (psycopg 3, the rows sent as CSV made by Arrow), one
``executemany`` of plain tuples on SQLite. A run killed at any point leaves the history as it
was: SQLite's journal and PostgreSQL's transaction undo a write that was not committed.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import insert
from sqlalchemy.engine import Connection

from engine import __version__
from engine.history.columnar import FORMAT, encode
from engine.history.store import Store
from engine.history.tables import SNAPSHOT_COLUMNS, run_actions, runs

# Called between the run row and the snapshot rows: tests kill the process there.
_between: Callable[[], None] | None = None


def snapshot_frame(table: pd.DataFrame, decisions: pd.DataFrame,
                   actions: pd.DataFrame) -> pd.DataFrame:
    """One row per customer: value snapshot and decision, in SNAPSHOT_COLUMNS order (no run)."""
    ids = table["customer_id"].to_numpy(dtype=object)
    frame = pd.DataFrame({
        "customer_id": ids,
        "value_tier": table["value_tier"].astype(object).to_numpy(),
        "lifecycle_stage": table["lifecycle_stage"].astype(object).to_numpy(),
        "total_value": table["total_value"].to_numpy(dtype=float),
        "value_score": table["value_score"].to_numpy(dtype=float),
        "action": decisions["action"].astype(object).to_numpy(),
        "campaign": decisions["campaign"].astype(object).to_numpy(),
        "policy_id": decisions["policy_id"].astype(object).to_numpy(),
    })
    # the action list has the actioned customers only; the others get empty channel columns
    at = pd.Index(actions["customer_id"].to_numpy(dtype=object)).get_indexer(ids)
    got = at >= 0
    for name, empty in (("campaign", None), ("channel", None), ("status", None),
                        ("holdout", None), ("cost", np.nan), ("value_at_stake", np.nan),
                        ("expected_response", np.nan)):
        source = actions[name].to_numpy(dtype=object if empty is None else float)
        column = np.full(len(ids), empty, dtype=object if empty is None else float)
        column[got] = source[at[got]]
        if name == "campaign":
            column[~got] = frame["campaign"].to_numpy()[~got]
        frame[name] = column
    return frame


def record_run(store: Store, *, run_id: str, as_of: dt.date, project: str,
               inputs: dict[str, str], snapshot: pd.DataFrame) -> int:
    """Write the run and its snapshot; return the run's number in the history."""
    status = snapshot["status"]
    with store.transaction() as conn:
        key = conn.execute(insert(runs).returning(runs.c.id), {
            "run_id": run_id, "as_of": as_of,
            "recorded_at": dt.datetime.now(dt.timezone.utc),
            "engine_version": __version__, "project": project,
            "inputs": json.dumps(inputs, sort_keys=True),
            "customers": len(snapshot), "actioned": int(status.notna().sum()),
            "allocated": int((status == "allocated").sum()),
        }).scalar_one()
        if _between is not None:
            _between()
        bulk_insert(conn, "cvm_snapshots", SNAPSHOT_COLUMNS,
                    snapshot.assign(run=key)[list(SNAPSHOT_COLUMNS)])
        count, data = encode(snapshot)
        conn.execute(insert(run_actions), {"run": key, "format": FORMAT, "rows": count,
                                           "data": data})
    return int(key)


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
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    buffer = io.BytesIO()
    # Arrow writes missing values as empty unquoted fields (NULL to COPY ... csv) and quotes
    # text, so an empty text stays an empty text.
    pacsv.write_csv(arrow, buffer, write_options=pacsv.WriteOptions(include_header=False))
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(buffer.getbuffer())
