"""Value-change attributes: what the history says about each customer before this run.

    previous_tier, previous_stage   tier and stage in the previous run (missing: none yet)
    tier_change                     steps between the two tiers: +1 up one tier, -2 down two
    total_value_change_pct          100 x (total value now - then) / |then|
    days_since_last_contact         days from the last run that contacted them to the as-of date
    contacts_last_30_days           contact days in the 30 days up to the as-of date
    last_outcome                    the outcome of their latest response dated before as-of

The previous run is the latest recorded run with an as-of date on or before this one's. On a
first run, or for a customer the previous run did not have, every one of them is missing but
contacts_last_30_days, which is 0: policies using them validate and run on a fresh project.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:  # SQLAlchemy only when there is a history to read (not for --no-history)
    from sqlalchemy import Select
    from sqlalchemy.engine import Connection

    from engine.history.store import Store

CONTACT_WINDOW_DAYS = 30
COLUMNS = ("previous_tier", "previous_stage", "tier_change", "total_value_change_pct",
           "days_since_last_contact", "contacts_last_30_days", "last_outcome")


def add_changes(table: pd.DataFrame, store: Store | None, *, as_of: dt.date,
                tiers: Sequence[str]) -> pd.DataFrame:
    """The value table with the COLUMNS above (defaults without a history)."""
    n = len(table)
    out = {
        "previous_tier": np.full(n, None, dtype=object),
        "previous_stage": np.full(n, None, dtype=object),
        "tier_change": np.full(n, np.nan),
        "total_value_change_pct": np.full(n, np.nan),
        "days_since_last_contact": np.full(n, np.nan),
        "contacts_last_30_days": np.zeros(n, dtype=np.int64),
        "last_outcome": np.full(n, None, dtype=object),
    }
    if store is not None:
        _fill(out, table, store, as_of, tiers)
    return table.assign(**out)


def _fill(out: dict[str, np.ndarray], table: pd.DataFrame, store: Store, as_of: dt.date,
          tiers: Sequence[str]) -> None:
    from sqlalchemy import select

    from engine.history.columnar import lookup, read_blocks
    from engine.history.tables import responses, run_actions, runs, snapshots

    ids = pa.array(table["customer_id"].to_numpy(dtype=object), type=pa.string())
    with store.reading() as conn:
        previous = conn.execute(select(runs.c.id).where(runs.c.as_of <= as_of)
                                .order_by(runs.c.id.desc()).limit(1)).scalar()
        snap = fetch(conn, select(snapshots.c.customer_id, snapshots.c.value_tier,
                                  snapshots.c.lifecycle_stage, snapshots.c.total_value)
                     .where(snapshots.c.run == previous)) if previous else []
        # the contacts: each run's allocated customers, from its Arrow block (ids only)
        dated = fetch(conn, select(runs.c.id, runs.c.as_of).where(runs.c.as_of <= as_of)
                      .order_by(runs.c.id))
        made, run, _ = read_blocks(conn, run_actions, [int(r) for r, _ in dated],
                                   ("customer_id",), status="allocated")
        answers = fetch(conn, select(responses.c.customer_id, responses.c.outcome)
                        .where(responses.c.response_date < as_of)
                        .order_by(responses.c.response_date, responses.c.id))
    if snap:
        # the columns as numpy straight from the rows: no pandas text column (a million
        # strings converted there and back)
        who, tier, stage = (np.array(c, dtype=object) for c in list(zip(*snap, strict=True))[:3])
        total = np.array([r[3] for r in snap], dtype=float)
        at = _positions(who, ids)
        keep = at >= 0
        at, tier, stage, total = at[keep], tier[keep], stage[keep], total[keep]
        out["previous_tier"][at] = tier
        out["previous_stage"][at] = stage
        rank = pd.Index(list(tiers))
        before = rank.get_indexer(tier).astype(float)
        now = rank.get_indexer(table["value_tier"].astype(object).to_numpy()[at]).astype(float)
        before[before < 0] = np.nan  # a tier that no longer exists: no step count
        now[now < 0] = np.nan
        out["tier_change"][at] = before - now  # tiers are listed highest first
        then = total
        current = table["total_value"].to_numpy(dtype=float)[at]
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = np.where(then != 0, 100.0 * (current - then) / np.abs(then), np.nan)
        out["total_value_change_pct"][at] = np.round(pct, 6)
    if len(run):
        _contacts(out, lookup(made.column("customer_id"), ids)[0], run, dated, as_of)
    if answers:
        frame = columns(answers, ["customer_id", "outcome"]).drop_duplicates(
            "customer_id", keep="last")
        at = _positions(frame["customer_id"].to_numpy(dtype=object), ids)
        out["last_outcome"][at[at >= 0]] = frame["outcome"].to_numpy(dtype=object)[at >= 0]


def _contacts(out: dict[str, np.ndarray], code: np.ndarray, run: np.ndarray,
              dated: list[tuple[Any, ...]], as_of: dt.date) -> None:
    """days_since_last_contact and contacts_last_30_days (contact days: runs sharing an as-of
    date count once) from each contact's customer code (-1: not in this run) and run."""
    n = len(out["contacts_last_30_days"])
    day = {int(r): (as_of - dt.date.fromisoformat(str(d)[:10])).days for r, d in dated}
    ago = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    keys = np.array(sorted(day), dtype=np.int64)
    days_ago = np.array([day[int(k)] for k in keys], dtype=np.int64)[np.searchsorted(keys, run)]
    known = code >= 0
    np.minimum.at(ago, code[known], days_ago[known])
    for d in sorted({v for v in day.values() if v < CONTACT_WINDOW_DAYS}):
        on = np.zeros(n, dtype=bool)
        on[code[known & (days_ago == d)]] = True
        count += on
    seen = ago < np.iinfo(np.int64).max
    out["days_since_last_contact"][seen] = ago[seen]
    out["contacts_last_30_days"][:] = count


def _positions(found: np.ndarray, ids: pa.Array) -> np.ndarray:
    """Each of ``found`` as a row of the value table (-1: not there), by Arrow's hash join."""
    if not len(found):
        return np.zeros(0, dtype=np.int64)
    at = pc.index_in(pa.array(found, type=pa.string()), value_set=ids)
    return np.asarray(at.fill_null(-1).to_numpy(), dtype=np.int64)


def fetch(conn: Connection, statement: Select[Any]) -> list[tuple[Any, ...]]:
    """The rows as the driver gives them: plain tuples, without SQLAlchemy's per-row objects
    (a million of those cost seconds). Dates may come back as text (SQLite)."""
    result = conn.execute(statement)
    try:
        return list(result.cursor.fetchall()) if result.cursor is not None else []
    finally:
        result.close()


def columns(rows: list[tuple[Any, ...]], names: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(rows, columns=names)
