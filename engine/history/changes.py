"""Value-change attributes: what the history says about each customer before this run.

    previous_tier, previous_stage   tier and stage in the previous run (missing: none yet)
    tier_change                     steps between the two tiers: +1 up one tier, -2 down two
    total_value_change_pct          100 x (total value now - then) / |then|
    days_since_last_contact         days from their last contact (a run that contacted them,
                                    or a contact `cvm serve` gave) to the as-of date
    contacts_last_30_days           contact days in the 30 days ending on the as-of date:
                                    1 to 29 days back (a run on it is this run)
    last_outcome                    the outcome of their latest response dated before as-of
                                    (engine.history.lookback.known_responses); of one day,
                                    the last in OUTCOME_PRECEDENCE

The runs looked back on are those dated before this run's as-of date, the latest recorded of
each date (engine.history.lookback: a run on the same date is the one this run re-makes); the
previous run is the last of them, and contacts count from them and from the contacts the
service gave dated before the as-of date (engine.history.live). On a first run, or for a
customer the previous run did not have, every one of them is missing but
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

from engine.decimals import round_half_up
from engine.project.schema import OUTCOME_PRECEDENCE

if TYPE_CHECKING:  # SQLAlchemy only when there is a history to read (not for --no-history)
    from sqlalchemy import ColumnElement, Select
    from sqlalchemy.engine import Connection

    from engine.history.store import Store

CONTACT_WINDOW_DAYS = 30
COLUMNS = ("previous_tier", "previous_stage", "tier_change", "total_value_change_pct",
           "days_since_last_contact", "contacts_last_30_days", "last_outcome")


def add_changes(table: pd.DataFrame, store: Store | None, *, as_of: dt.date,
                tiers: Sequence[str], until: int | None = None) -> pd.DataFrame:
    """The value table with the COLUMNS above (defaults without a history); the contacts
    `cvm serve` gave up to id ``until`` (None: all)."""
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
        _fill(out, table, store, as_of, tiers, until)
    return table.assign(**out)


def _fill(out: dict[str, np.ndarray], table: pd.DataFrame, store: Store, as_of: dt.date,
          tiers: Sequence[str], until: int | None) -> None:
    from sqlalchemy import select

    from engine.history.columnar import lookup, read_blocks
    from engine.history.live import day_of, given
    from engine.history.lookback import known_responses, looked_back
    from engine.history.snapshot import column
    from engine.history.tables import responses, run_actions
    from engine.history.values import read_values, texts

    ids = column(table["customer_id"], pa.string())  # pandas' Arrow text as it is
    with store.reading() as conn:
        # the runs looked back on, as every look-back reads them (engine.history.lookback):
        # before the as-of date, the latest of each date; the previous run is the last of them
        dated = fetch(conn, looked_back(as_of))
        # the previous run's values, from its Arrow block (engine.history.values)
        snap = read_values(conn, int(dated[-1][0])) if dated else None
        # the contacts: each run's allocated customers, from its Arrow block (ids only)
        made, run, _ = read_blocks(conn, run_actions, sorted(int(r) for r, _ in dated),
                                   ("customer_id",), status="allocated")
        live = given(conn, as_of, until=until)
        # the latest last: by date, then of one day by OUTCOME_PRECEDENCE (not by import)
        answers = fetch(conn, select(responses.c.customer_id, responses.c.outcome)
                        .where(known_responses(as_of))
                        .order_by(responses.c.response_date, precedence(responses.c.outcome),
                                  responses.c.id))
    if snap is not None and snap.num_rows:
        previous_ids = snap.column("customer_id").combine_chunks()
        # runs usually list the same customers in the same order: then no hash look-up
        found = pa.array(np.arange(len(ids))) if previous_ids.equals(ids) else \
            pc.index_in(previous_ids, value_set=ids)
        keep = pc.is_valid(found)
        snap = snap.filter(keep)
        at = np.asarray(found.filter(keep).to_numpy(), dtype=np.int64)
        # text of few distinct values as shared objects: no Python string per customer
        tier, stage = texts(snap.column("value_tier")), texts(snap.column("lifecycle_stage"))
        total = np.asarray(snap.column("total_value").to_numpy(), dtype=float)
        out["previous_tier"][at] = tier
        out["previous_stage"][at] = stage
        before = _ranks(snap.column("value_tier"), tiers)
        now = _ranks(column(table["value_tier"], pa.string()), tiers)[at]
        out["tier_change"][at] = before - now  # tiers are listed highest first
        then = total
        current = table["total_value"].to_numpy(dtype=float)[at]
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = np.where(then != 0, 100.0 * (current - then) / np.abs(then), np.nan)
        out["total_value_change_pct"][at] = round_half_up(pct, 6)
    if len(run) or live:
        day = {int(r): (as_of - day_of(d)).days for r, d in dated}
        keys = np.array(sorted(day), dtype=np.int64)
        ago = np.array([day[int(k)] for k in keys], dtype=np.int64)[np.searchsorted(keys, run)]
        code = lookup(made.column("customer_id"), ids)[0]
        if live:  # the contacts `cvm serve` gave, dated by their day
            who = pa.array([r[0] for r in live], type=pa.string())
            code = np.concatenate([code, lookup(pa.chunked_array([who]), ids)[0]])
            ago = np.concatenate([ago, [(as_of - day_of(r[1])).days for r in live]])
        _contacts(out, code, ago.astype(np.int64))
    if answers:
        frame = columns(answers, ["customer_id", "outcome"]).drop_duplicates(
            "customer_id", keep="last")
        at = _positions(frame["customer_id"].to_numpy(dtype=object), ids)
        out["last_outcome"][at[at >= 0]] = frame["outcome"].to_numpy(dtype=object)[at >= 0]


def precedence(outcome: ColumnElement[str]) -> ColumnElement[int]:
    """An outcome's place in OUTCOME_PRECEDENCE, in SQL (of one day, the highest is the
    latest)."""
    from sqlalchemy import case

    return case({o: k for k, o in enumerate(OUTCOME_PRECEDENCE)}, value=outcome, else_=-1)


def _contacts(out: dict[str, np.ndarray], code: np.ndarray, days_ago: np.ndarray) -> None:
    """days_since_last_contact and contacts_last_30_days (contact days: a day with contacts
    counts once) from each contact's customer code (-1: not in this run) and days ago."""
    n = len(out["contacts_last_30_days"])
    ago = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    known = code >= 0
    np.minimum.at(ago, code[known], days_ago[known])
    for d in np.unique(days_ago[days_ago < CONTACT_WINDOW_DAYS]).tolist():
        on = np.zeros(n, dtype=bool)
        on[code[known & (days_ago == d)]] = True
        count += on
    seen = ago < np.iinfo(np.int64).max
    out["days_since_last_contact"][seen] = ago[seen]
    out["contacts_last_30_days"][:] = count


def _ranks(values: pa.Array | pa.ChunkedArray, tiers: Sequence[str]) -> np.ndarray:
    """Each value's place in ``tiers`` (0: the highest); NaN for a missing value or a tier
    that no longer exists (no step count). Ranked once per distinct tier, not per customer."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    coded = pc.dictionary_encode(values)
    place = {t: float(k) for k, t in enumerate(tiers)}
    rank = np.array([place.get(w, np.nan) for w in coded.dictionary.to_pylist()] + [np.nan])
    at = coded.indices.fill_null(len(rank) - 1).to_numpy(zero_copy_only=False)
    return rank[np.asarray(at, dtype=np.int64)]


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


def arrays(rows: list[tuple[Any, ...]], width: int) -> list[np.ndarray]:
    """The rows' ``width`` columns as numpy objects (no data frame: pandas would infer a text
    type and copy every text once more)."""
    if not rows:
        return [np.zeros(0, dtype=object) for _ in range(width)]
    out = []
    for values in zip(*rows, strict=True):
        column = np.empty(len(values), dtype=object)
        column[:] = values
        out.append(column)
    return out


def columns(rows: list[tuple[Any, ...]], names: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(rows, columns=names)
