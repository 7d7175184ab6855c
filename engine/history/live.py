"""The contacts `cvm serve` gives, counted beside the runs' (README "Contact policies").

A trigger's action given on a channel (not withheld) is a contact as much as a run's allocated
row: the service records it in ``cvm_live_contacts``, dated by the UTC day it was given. A run
as of a date counts those dated before it, as it counts the runs before it (the contact
policies' windows in days before the as-of date, ``days_since_last_contact`` and
``contacts_last_30_days``), and its run id covers them by content (``live_state``).

The service gives contacts while a run reads: a run reads those recorded up to the highest id
its first stamp saw (``until``, engine.history.stamp), in every look-back alike, and the stamp
taken with its run id counts them again, so a contact recorded meanwhile waits for the next
run and one committed late (PostgreSQL may commit ids out of order) makes the run read again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING, Any

from engine.history.response_digest import SEPARATOR

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.engine import Connection

# (customer_id, contact_date, channel, campaign) of each contact read
Rows = list[tuple[Any, ...]]


def digest(customer_id: str, day: dt.date, channel: str, campaign: str | None) -> int:
    """One contact's digest: 32 bits of BLAKE2b over what a run counts of it (as a response's:
    engine.history.response_digest)."""
    text = SEPARATOR.join((customer_id, day.isoformat(), channel, campaign or ""))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big")


def live_row(*, customer_id: str, at: dt.datetime, channel: str, campaign: str | None,
             action: str | None, trigger_id: str | None, interaction_id: str,
             run_id: str) -> dict[str, Any]:
    """The ``cvm_live_contacts`` row of a contact given at ``at`` (UTC)."""
    day = at.astimezone(dt.timezone.utc).date()
    return {"customer_id": customer_id, "contact_date": day, "recorded_at": at,
            "channel": channel, "campaign": campaign, "action": action,
            "trigger_id": trigger_id, "interaction_id": interaction_id, "run_id": run_id,
            "digest": digest(customer_id, day, channel, campaign)}


def counted(before: dt.date | None, since: dt.date | None = None, *,
            until: int | None = None) -> ColumnElement[bool]:
    """The live contacts a run as of ``before`` counts: dated before it (None: any date), on
    or after ``since``, recorded up to id ``until`` (None: all)."""
    from sqlalchemy import and_, true

    from engine.history.tables import live_contacts as t

    found: ColumnElement[bool] = true()
    if before is not None:
        found = and_(found, t.c.contact_date < before)
    if since is not None:
        found = and_(found, t.c.contact_date >= since)
    if until is not None:
        found = and_(found, t.c.id <= until)
    return found


def given(conn: Connection, before: dt.date | None, since: dt.date | None = None, *,
          until: int | None = None) -> Rows:
    """(customer_id, contact_date, channel, campaign) of the live contacts counted, oldest
    first (ties: as recorded)."""
    from sqlalchemy import select

    from engine.history.tables import live_contacts as t

    return [tuple(r) for r in conn.execute(
        select(t.c.customer_id, t.c.contact_date, t.c.channel, t.c.campaign)
        .where(counted(before, since, until=until))
        .order_by(t.c.contact_date, t.c.id)).all()]


def live_state(conn: Connection, as_of: dt.date, until: int | None) -> list[str]:
    """["live_contacts", "<count>:<sum of digests>"] of the live contacts a run as of
    ``as_of`` counts, summed in the database; empty when it counts none (so a history without
    any gives the run ids it gave before them)."""
    from sqlalchemy import func, select

    from engine.history.tables import live_contacts as t

    count, total = conn.execute(select(func.count(), func.sum(t.c.digest))
                                .where(counted(as_of, until=until))).one()
    return ["live_contacts", f"{int(count)}:{int(total)}"] if count else []


def day_of(value: object) -> dt.date:
    """A date as the driver gives it back (a date, or ISO text on SQLite)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
