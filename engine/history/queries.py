"""Reading the history back: the runs recorded and one customer's timeline (for ``cvm
history``; the contact policies and measurement build on the same tables)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from engine.history.columnar import categories, read_blocks
from engine.history.lookback import looked_back
from engine.history.snapshot_blocks import customer_rows
from engine.history.store import Store
from engine.history.tables import (
    events,
    interaction_responses,
    interactions,
    responses,
    run_actions,
    run_snapshots,
    runs,
)

RUN_FIELDS = ("run", "run_id", "as_of", "recorded_at", "engine_version", "customers",
              "actioned", "allocated")
COUNTED = ("holdout", "not_served", "suppressed")  # of the actioned, beside the allocated
SNAPSHOT_FIELDS = ("value_tier", "lifecycle_stage", "total_value", "value_score", "action",
                   "campaign", "policy_id", "channel", "status", "holdout", "cost",
                   "value_at_stake", "expected_response", "reason")


def list_runs(store: Store) -> list[dict[str, Any]]:
    """Every run recorded, oldest first: its counts (the actioned by status, counted from the
    decisions it recorded) and ``replaced_by``, the later run of the same as-of date that
    replaced it (None: the run looked back on for its date; engine.history.lookback)."""
    with store.reading() as conn:
        rows = conn.execute(select(runs.c.id, runs.c.run_id, runs.c.as_of, runs.c.recorded_at,
                                   runs.c.engine_version, runs.c.customers, runs.c.actioned,
                                   runs.c.allocated).order_by(runs.c.id)).all()
        latest = {d: int(r) for r, d in conn.execute(looked_back(None)).all()}
        counts = _status_counts(conn, [int(row[0]) for row in rows])
    out = []
    for row in rows:
        found = _plain(dict(zip(RUN_FIELDS, row, strict=True)))
        found |= dict(zip(COUNTED, counts[int(row[0])], strict=True))
        found["replaced_by"] = _replaced(int(row[0]), latest[row.as_of])
        out.append(found)
    return out


def runs_around(store: Store, as_of: dt.date, key: int
                ) -> tuple[int | None, tuple[int, dt.date] | None]:
    """Where run ``key``, as of ``as_of``, falls among the runs recorded before it (by id: the
    order runs commit in, whatever else is recorded meanwhile): the run it replaces (the
    latest of the same as-of date, None if none), and the latest run of the newest as-of date
    after it (None if none is dated after it)."""
    earlier = runs.c.id < key
    with store.reading() as conn:
        same = conn.execute(select(func.max(runs.c.id))
                            .where(runs.c.as_of == as_of, earlier)).scalar()
        later = conn.execute(select(runs.c.id, runs.c.as_of).where(runs.c.as_of > as_of, earlier)
                             .order_by(runs.c.as_of.desc(), runs.c.id.desc()).limit(1)).first()
    return (None if same is None else int(same),
            None if later is None else (int(later[0]), _day(later[1])))


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _status_counts(conn: Connection, keys: list[int]) -> dict[int, list[int]]:
    """Each run's actioned customers held out, not served and suppressed, from its actions
    block (the status column alone is decompressed; no Python object per row)."""
    block, run, _ = read_blocks(conn, run_actions, keys, ["status"])
    codes, words = categories(block.column("status"))
    at = np.searchsorted(np.asarray(keys, dtype=np.int64), run)
    width = len(words) + 1  # the last: missing
    table = np.bincount(at * width + np.where(codes < 0, len(words), codes),
                        minlength=len(keys) * width).reshape(len(keys), width)
    return {key: [int(table[i, words.index(s)]) if s in words else 0 for s in COUNTED]
            for i, key in enumerate(keys)}


def timeline(store: Store, customer_id: str) -> dict[str, Any]:
    """Every run's snapshot of the customer (value, tier, stage, decision, contact) and their
    responses, oldest first."""
    with store.reading() as conn:
        found = customer_rows(conn, run_snapshots, customer_id, SNAPSHOT_FIELDS)
        dates = dict(conn.execute(select(runs.c.id, runs.c.as_of).where(
            runs.c.id.in_([run for run, _ in found]))).all()) if found else {}
        latest = {d: int(r) for r, d in conn.execute(looked_back(None)).all()} if found else {}
        answers = conn.execute(
            select(responses.c.response_date, responses.c.campaign, responses.c.outcome,
                   responses.c.revenue).where(responses.c.customer_id == customer_id)
            .order_by(responses.c.response_date, responses.c.id)).all()
        known = conn.execute(select(func.count()).select_from(runs)).scalar_one()
        served = _served(conn, customer_id)
    return {
        "customer_id": customer_id,
        "runs_recorded": int(known),
        "snapshots": [_plain({"run": run, "as_of": dates[run], **row,
                              "replaced_by": _replaced(run, latest[dates[run]])})
                      for run, row in found],
        "responses": [_plain(dict(zip(("date", "campaign", "outcome", "revenue"), row,
                                      strict=True))) for row in answers],
        **served,
    }


def _replaced(run: int, latest: int) -> int | None:
    """The later run of the same as-of date that replaced ``run`` (None: it is the latest)."""
    return None if run == latest else latest


def contacts_of(conn: Connection, customer_id: str, limit: int
                ) -> list[tuple[dt.date, str | None, str | None, str | None]]:
    """The customer's contacts (allocated in a run) of the latest runs, newest first by as-of
    date (then run: a replay of an older date recorded later is not the newest): the run's
    as-of date, campaign, channel and action; at most ``limit``. A contact as the contact
    policies count it: of the runs sharing an as-of date only the latest (a run re-made on a
    date replaced the earlier one; engine.history.lookback)."""
    dates: dict[int, dt.date] = {int(r): d for r, d in conn.execute(looked_back(None)).all()}
    found = sorted(((run, row) for run, row in customer_rows(
        conn, run_snapshots, customer_id, ("campaign", "channel", "action", "status"))
        if row["status"] == "allocated" and run in dates),
        key=lambda found: (str(dates[found[0]])[:10], found[0]), reverse=True)[:limit]
    return [(dates[run], row["campaign"], row["channel"], row["action"])
            for run, row in found]


def _served(conn: Any, customer_id: str) -> dict[str, list[dict[str, Any]]]:
    """What ``cvm serve`` recorded for the customer, oldest first: the events posted, and the
    actions served (next best action or fired by a trigger) with the outcomes recorded."""
    posted = conn.execute(
        select(events.c.id, events.c.occurred_at, events.c.type, events.c.fired)
        .where(events.c.customer_id == customer_id)
        .order_by(events.c.occurred_at, events.c.recorded_at, events.c.id)).all()
    shown = conn.execute(
        select(interactions.c.id, interactions.c.recorded_at, interactions.c.source,
               interactions.c.channel, interactions.c.action, interactions.c.campaign,
               interactions.c.trigger_id, interactions.c.event_id, interactions.c.run_id,
               interactions.c.withheld)
        .where(interactions.c.customer_id == customer_id)
        .order_by(interactions.c.recorded_at, interactions.c.id)).all()
    outcomes: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(
            select(interaction_responses.c.interaction_id, interaction_responses.c.outcome,
                   interaction_responses.c.recorded_at, interaction_responses.c.note)
            .where(interaction_responses.c.customer_id == customer_id)
            .order_by(interaction_responses.c.recorded_at, interaction_responses.c.id)):
        outcomes.setdefault(row.interaction_id, []).append(_plain(
            {"outcome": row.outcome, "recorded_at": row.recorded_at, "note": row.note}))
    keys = ("interaction_id", "recorded_at", "source", "channel", "action", "campaign",
            "trigger_id", "event_id", "run_id", "withheld")
    # the actions fired for each event: at once when posted (its `fired`), and later by the
    # clock for an absence it opened (recorded under it, its `fired` unchanged)
    fired = Counter(row.event_id for row in shown if row.source == "trigger")
    held = Counter(row.event_id for row in shown if row.source == "trigger" and row.withheld)
    return {
        "events": [{**_plain({"event_id": row.id, "occurred_at": row.occurred_at,
                              "type": row.type}),
                    "fired": max(row.fired, fired[row.id]), "withheld": held[row.id]}
                   for row in posted],
        "interactions": [{**_plain(dict(zip(keys, row, strict=True))),
                          "outcomes": outcomes.get(row.id, [])} for row in shown],
    }


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready values: dates as ISO text, booleans as booleans."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dt.datetime):
            value = value.replace(tzinfo=value.tzinfo or dt.timezone.utc).isoformat(
                timespec="seconds")
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif key == "holdout" and value is not None:
            value = bool(value)
        out[key] = value
    return out
