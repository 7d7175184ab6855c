"""The runs a run looks back on, declared once (README "History"): every look-back of a run
(value-change attributes, contact policies, measure and learning) and its run id read the same.

The runs dated before the run's as-of date, the latest recorded of each date. A run dated on
or after it is not history to this run: a run on the same date is the one this run re-makes
(comparing with it would give every customer a tier change of 0 and count its contacts), a
later one is ahead of it. Of the runs sharing a date, the latest recorded replaced the others.

What a run knows of the responses and purchases is what was known at its as-of date, the data's
cut-off: the transactions keep the rows dated before it (a row on the as-of date is skipped, the
default as-of date is the day after the last transaction), and so the responses known are those
dated before it (``known_responses``), for every reader: last_outcome, the contact policies and
learning (which counts a window only once it is over before the as-of date). ``cvm measure``
alone reads every response and transaction, up to now: it measures past campaigns.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # SQLAlchemy only when there is a history to read (not for --no-history)
    from sqlalchemy import ColumnElement, Select
    from sqlalchemy.engine import Connection


def looked_back(before: dt.date | None, since: dt.date | None = None, *,
                recorded_before: int | None = None) -> Select[Any]:
    """(id, as_of) of the runs looked back on from a run as of ``before`` (None: every date),
    dated on or after ``since`` if given: the latest recorded run of each as-of date (among
    those recorded before run ``recorded_before``, if given: what that run looked back on)."""
    from sqlalchemy import func, select

    from engine.history.tables import runs

    chosen = select(func.max(runs.c.id).label("run"), runs.c.as_of)
    if before is not None:
        chosen = chosen.where(runs.c.as_of < before)
    if recorded_before is not None:
        chosen = chosen.where(runs.c.id < recorded_before)
    if since is not None:
        chosen = chosen.where(runs.c.as_of >= since)
    return chosen.group_by(runs.c.as_of).order_by(runs.c.as_of)


def known_responses(as_of: dt.date) -> ColumnElement[bool]:
    """The responses a run as of ``as_of`` knows: dated before it, as the transactions' rows."""
    from engine.history.tables import responses

    return responses.c.response_date < as_of


def history_state(conn: Connection, as_of: dt.date, *,
                  until: int | None = None) -> list[list[str]]:
    """What a run as of ``as_of`` reads from the history, cheaply: the runs it looks back on
    (as-of date and run id, itself a hash of that run's inputs and history), the responses
    it knows (``known_responses``), by content (``known_responses_digest``: not by file
    or import, so neither the order of the imports nor a response dated after ``as_of``
    changes it), and the contacts `cvm serve` gave that it counts, up to id ``until``
    (engine.history.live), by content too. Empty for an empty history."""
    from sqlalchemy import select

    from engine.history.live import live_state
    from engine.history.tables import runs

    chosen = looked_back(as_of).subquery()
    rows = conn.execute(select(runs.c.as_of, runs.c.run_id)
                        .join(chosen, runs.c.id == chosen.c.run).order_by(runs.c.as_of)).all()
    known = known_responses_digest(conn, as_of)
    live = live_state(conn, as_of, until)
    return [*([str(d)[:10], str(r)] for d, r in rows), *([known] if known else []),
            *([live] if live else [])]


def known_responses_digest(conn: Connection, as_of: dt.date) -> list[str]:
    """["responses", "<count>:<sum of digests>"] of the responses a run as of ``as_of``
    knows (engine.history.response_digest), summed in the database in one pass, never a row
    in Python; empty when it knows none."""
    from sqlalchemy import func, select

    from engine.history.tables import responses

    count, total = conn.execute(select(func.count(), func.sum(responses.c.digest))
                                .where(known_responses(as_of))).one()
    return ["responses", f"{int(count)}:{int(total)}"] if count else []
