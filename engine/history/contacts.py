"""The past contacts and responses contact policies count (README "Contact policies").

A contact is an allocated row of a recorded run, dated by the run's as-of date, or a contact
`cvm serve` gave (a trigger's action on a channel: engine.history.live), dated by its day. A run
re-made on the same as-of date replaces the earlier one: of the runs sharing an as-of date,
only the latest recorded counts (the others were plans never sent twice). Runs on or after
this run's as-of date do not count: this run is the one re-made, or history ahead of it; nor
do the service's contacts dated on or after it.
Responses count from the response file imports, dated before the as-of date, as every reader
counts them (engine.history.lookback.known_responses: the as-of date is the data's cut-off).
The opt-outs (outcome ``opted_out``) are read over the whole history, whatever the window: the
built-in rule that enforces them (engine.activation.contact) is for good.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from engine.activation.contact import ContactLog, opt_out_said
from engine.activation.learned import HISTORY, NO_HISTORY_FLAG, NO_HISTORY_YET
from engine.history.changes import arrays, fetch
from engine.project.contact_policies import OPTED_OUT

if TYPE_CHECKING:  # SQLAlchemy only when there is a history to read (not for --no-history)
    from engine.history.store import Store
    from engine.project.config import Config


def contact_log(store: Store | None, *, as_of: dt.date, window: int | None,
                source: str, until: int | None = None) -> ContactLog:
    """The contacts and responses of the last ``window`` days (None: all) before ``as_of``;
    the contacts `cvm serve` gave up to id ``until`` (None: all)."""
    if store is None:
        return ContactLog(source=source)
    from sqlalchemy import select

    from engine.history.columnar import many_rows, read_blocks
    from engine.history.live import given
    from engine.history.lookback import known_responses, looked_back
    from engine.history.tables import responses, run_actions

    since = as_of - dt.timedelta(days=window) if window is not None else None
    with store.reading() as conn:
        chosen = fetch(conn, looked_back(as_of, since))
        run_days = {int(r): _days(as_of, d) for r, d in chosen}
        # only the runs in the window, from their Arrow blocks (engine.history.columnar)
        made, run, _ = read_blocks(conn, run_actions, sorted(run_days),
                                   ("customer_id", "channel", "campaign"), status="allocated")
        live = given(conn, as_of, since, until=until)
        answered = select(responses.c.customer_id, responses.c.response_date,
                          responses.c.outcome, responses.c.campaign) \
            .where(known_responses(as_of))
        if since is not None:
            answered = answered.where(responses.c.response_date >= since)
        with many_rows():
            answers = fetch(conn, answered)
            customer, date, outcome, campaign = arrays(answers, 4)
            del answers
            # the opt-outs of the whole history (an opt-out is for good), earliest first
            gone = arrays(fetch(conn, select(responses.c.customer_id, responses.c.response_date,
                                             responses.c.campaign)
                                .where(known_responses(as_of),
                                       responses.c.outcome == OPTED_OUT)
                                .order_by(responses.c.response_date, responses.c.campaign,
                                          responses.c.id)), 3)
    keys = np.array(sorted(run_days), dtype=np.int64)
    ago = np.array([run_days[int(k)] for k in keys], dtype=np.int64)
    ids, days = made.column("customer_id"), ago[np.searchsorted(keys, run)]
    channels, campaigns = _texts(made.column("channel")), _texts(made.column("campaign"))
    if live:  # the service's contacts after the runs' (a policy counts them alike)
        who, when, what, which = arrays(live, 4)
        ids = pa.chunked_array([*ids.chunks, pa.array(who, type=ids.type)], type=ids.type)
        days = np.concatenate([days, _days_before(as_of, when)])
        channels, campaigns = _joined(channels, what), _joined(campaigns, which)
    return ContactLog(
        ids,  # Arrow strings: suppress looks them up as they are
        days, channels, campaigns,
        customer, _days_before(as_of, date), outcome, campaign,
        gone[0], np.array([str(d)[:10] for d in gone[1]], dtype=object), gone[2],
        source=source, runs=len(run_days), live=len(live))


def _texts(column: pa.ChunkedArray) -> pd.Categorical:
    """A text column of a few distinct values (stored coded: engine.history.columnar) as a
    categorical: compared with a policy's channel or campaign on its integer codes, no
    Python object per row."""
    from engine.history.columnar import categories

    codes, words = categories(column)
    return pd.Categorical.from_codes(codes, categories=words)


def _joined(coded: pd.Categorical, more: np.ndarray) -> pd.Categorical:
    """``coded`` followed by the texts ``more`` (None: missing), on the codes of both."""
    words = pd.Index(coded.categories.astype(object))
    words = words.append(pd.Index(sorted({str(w) for w in more if w is not None}
                                         - set(words)), dtype=object))
    return pd.Categorical.from_codes(np.concatenate([coded.codes, words.get_indexer(more)]),
                                     categories=words)


def _days_before(as_of: dt.date, dates: np.ndarray) -> np.ndarray:
    """Days from each date (a date, or ISO text as SQLite gives it back) to ``as_of``."""
    days = dates.astype("datetime64[D]")  # numpy parses either, in C
    ago: np.ndarray = (np.datetime64(as_of, "D") - days).astype(np.int64)
    return ago


def _days(as_of: dt.date, day: object) -> int:
    return int((pd.Timestamp(as_of) - pd.Timestamp(str(day))).days)


def opt_outs(store: Store) -> tuple[tuple[int, int], dict[str, str]]:
    """Every opt-out the history holds, whatever its date (a live answer honours them all):
    customer -> its first opt-out, as a reason names it (one text per date and campaign);
    and the imports' stamp, which changes when responses land (``opt_outs_stamp``)."""
    from sqlalchemy import select

    from engine.history.tables import responses

    stamp = opt_outs_stamp(store)
    found: dict[str, str] = {}
    with store.reading() as conn:
        rows = conn.execute(select(responses.c.customer_id, responses.c.response_date,
                                   responses.c.campaign)
                            .where(responses.c.outcome == OPTED_OUT)
                            .order_by(responses.c.response_date, responses.c.campaign,
                                      responses.c.id))
        said: dict[tuple[str, str], str] = {}
        for customer, date, campaign in rows:
            if customer not in found:
                day = str(date)[:10]
                text = said.get((day, campaign))
                if text is None:
                    text = said[(day, campaign)] = opt_out_said(day, campaign)
                found[customer] = text
    return stamp, found


def opt_outs_stamp(store: Store) -> tuple[int, int]:
    """The response imports' count and highest id: no import is ever removed, and on
    PostgreSQL two may commit out of their ids' order (engine.history.stamp), so the count
    too. Two lookups of a small table."""
    from sqlalchemy import func, select

    from engine.history.tables import imports

    with store.reading() as conn:
        count, top = conn.execute(select(func.count(), func.max(imports.c.id))).one()
    return int(count or 0), int(top or 0)


def read_contacts(config: Config, *, as_of: dt.date, window: int | None,
                  use_history: bool = True, until: int | None = None) -> ContactLog:
    """The project's contact log; empty (saying why) with ``--no-history`` or no history yet;
    the contacts `cvm serve` gave up to id ``until`` (None: all)."""
    from engine.history import open_history

    if not use_history:
        return ContactLog(source=NO_HISTORY_FLAG)
    store = open_history(config, create=False)
    if store is None:
        return ContactLog(source=NO_HISTORY_YET)
    try:
        return contact_log(store, as_of=as_of, window=window, source=HISTORY, until=until)
    finally:
        store.close()
