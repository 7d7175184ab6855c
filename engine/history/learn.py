"""Learning: each campaign's expected response per channel from what the history measured
(README "Learning"; the formula in engine.activation.learned).

For a run on ``as_of``, the runs counted are those ``cvm measure`` reports (the latest per
as-of date) dated before ``as_of`` whose attribution window is over by then (window days
as_of .. as_of + attribution_days - 1, all before this run's as-of date): so only purchases and
responses dated before this run's as-of date count, what was known at it (engine.history.lookback;
the conversions are read with its known_responses), even when the history and the transactions
reach further (a replay with an older as-of date). A customer converted
as ``cvm measure`` says (engine.history.measure.outcomes: a purchase in the transactions or an
imported conversion of the campaign in the window). Per campaign (engine.activation.learned.Tally:
distinct customers, customer windows, windows converted): the customers contacted on each channel
(status allocated), all those contacted, everyone assigned outside the holdout contacted or not
(intention to treat, as cvm measure), and the holdout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from engine.activation.learned import (
    HISTORY,
    NO_HISTORY_FLAG,
    NO_HISTORY_YET,
    Counts,
    Learned,
    Tally,
    figures,
)
from engine.data.load import EPOCH, Transactions
from engine.project.channels import ChannelSetup

if TYPE_CHECKING:  # the history's SQLAlchemy when there is a history to read
    from engine.history.measured import Measured, Sums
    from engine.history.store import Store
    from engine.project.config import Config
    from engine.project.project import Project

OFF = "off: learning.enabled is false in policies/campaigns.yaml; the declared rates are used"


def learning_since(project: Project, *, history: bool, before: dt.date | None = None
                   ) -> int | None:
    """The first day (since 1970-01-01) of the rows learning reads: a customer converted when
    they bought in an earlier run's attribution window, which starts on that run's as-of
    date, so the earliest recorded run's (of those dated before ``before``, the as-of date of
    the run that learns, when known: it reads no later run); None when it reads none
    (``--no-history``, learning off, no such run)."""
    from engine.history import open_history

    if not history or not project.channels.learning.enabled:
        return None
    store = open_history(project.config, create=False)
    if store is None:
        return None
    from sqlalchemy import func, select

    from engine.history.tables import runs

    first = select(func.min(runs.c.as_of))
    if before is not None:
        first = first.where(runs.c.as_of < before)
    try:
        with store.reading() as conn:
            day = conn.execute(first).scalar()
    finally:
        store.close()
    return None if day is None else (day - EPOCH).days


def rows_learning_reads(tx: Transactions | None, since: int | None) -> Transactions | None:
    """``tx`` with only the rows dated ``since`` or later (None: no rows, no transactions):
    what a run holds of its transactions once the value table is made. At 1M customers the
    9.5M rows held through the allocation and the writing were 0.65 GB of the run's peak."""
    if tx is None or since is None:
        return None
    if not holds_rows_for(tx, since):
        raise ValueError(f"the transactions hold the rows from day {tx.rows_from} on, "
                         f"learning reads them from day {since} on")
    if tx.rows_from == since:
        return tx
    keep = tx.day >= since
    return replace(tx, code=tx.code[keep], day=tx.day[keep], amount=tx.amount[keep],
                   margin=tx.margin[keep], order=None, category=None, rows_from=since)


def holds_rows_for(tx: Transactions | None, since: int | None) -> bool:
    """Whether ``tx`` holds every row learning reads from ``since`` on (None: it reads none)."""
    if since is None:
        return True
    return tx is not None and (tx.rows_from is None or tx.rows_from <= since)


def learn(store: Store | None, tx: Transactions | None, setup: ChannelSetup, *,
          as_of: dt.date, campaigns: Sequence[str], source: str) -> Learned:
    """The figures of ``campaigns`` (declared rates where nothing was measured)."""
    prior = setup.learning.prior_customers
    if not setup.learning.enabled:
        source = OFF
    counts: dict[str, Counts] = {}
    runs = waiting = earlier = 0
    if setup.learning.enabled and store is not None and tx is not None:
        counts, runs, waiting, earlier = _counts(store, tx, setup, as_of, set(campaigns))
    declared = [(ch.id, ch.response_rate) for ch in setup.channels]
    found = {k: figures(k, declared, counts.get(k) if setup.learning.enabled else None, prior)
             for k in sorted(campaigns)}
    # the transactions end before this run's as-of date: a window waits for them, not for time
    data_end = None if tx is None or not 0 <= tx.report.last_day < (as_of - EPOCH).days - 1 \
        else EPOCH + dt.timedelta(days=tx.report.last_day)
    return Learned(setup.learning.enabled, prior, source, runs, found, waiting, earlier,
                   data_end)


def _counts(store: Store, tx: Transactions, setup: ChannelSetup, as_of: dt.date,
            wanted: set[str]) -> tuple[dict[str, Counts], int, int, int]:
    """Per campaign of ``wanted`` its tallies and runs; the runs counted for any, the runs
    that assigned one of them counted for none (their windows not over), and the runs read
    (all those dated before ``as_of``)."""
    from engine.history.measured import by_campaign, conversions, groups, read_with_days

    cache: Sums = {}
    m = read_with_days(store, tx, cache, ("bought",), before=as_of, channels=True)
    end_day = (as_of - EPOCH).days  # this run's transactions stop the day before
    if tx.report.last_day >= 0:  # and the export may end earlier: what it does not cover is
        end_day = min(end_day, tx.report.last_day + 1)  # not known, not 0 (cvm measure too)
    picked: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    counted: dict[str, set[object]] = {}
    waiting: dict[str, list[dt.date]] = {}
    open_runs: set[object] = set()  # runs with a window of a wanted campaign not over
    dates = {run: as_of for run, _, as_of in m.runs}
    answers = by_campaign(m.answers)
    for run_key, campaign, rows in groups(m):
        if campaign not in wanted:
            continue
        run_date = pd.Timestamp(str(dates[run_key])).date()
        day0 = (run_date - EPOCH).days
        days = m.window(run_key, campaign, setup)  # the run's own
        if day0 + days > end_day:  # the window is not over (or not in the data) yet
            waiting.setdefault(campaign, []).append(run_date + dt.timedelta(days=days))
            open_runs.add(run_key)
            continue
        converted = conversions(m, rows, answers.get(campaign, m.answers.iloc[:0]), tx, day0,
                                days, cache)
        picked.setdefault(campaign, []).append((rows, converted > 0))
        counted.setdefault(campaign, set()).add(run_key)
    tallies = {k: _tallies(m, *_joined(parts)) for k, parts in picked.items()}
    found = {k: replace(tallies.get(k, Counts()), runs=len(counted.get(k, ())),
                        waiting=tuple(sorted(waiting.get(k, ()))))
             for k in sorted(tallies.keys() | waiting.keys())}
    some = set().union(*counted.values())
    return found, len(some), len(open_runs - some), len(m.runs)


def _joined(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([r for r, _ in parts]), np.concatenate([c for _, c in parts])


def _tallies(m: Measured, rows: np.ndarray, converted: np.ndarray) -> Counts:
    """A campaign's Counts from its rows (one per customer and run counted) and whether each
    converted: windows and conversions summed, customers counted once (by code; by id if not
    in the transactions). On integer codes, in one pass: a column per row (its channel, not
    contacted, or held out) and a table of flags, a row per customer and a column each, in
    which every row marks its customer's cell (no sort, no hashing); the distinct customers
    of a group are the table's rows with a flag in one of its columns."""
    held = m.holdout[rows]
    slot = m.channel[rows].astype(np.int64)
    contacted = m.allocated[rows] & ~held & (slot >= 0)  # a contact without a channel: none
    # everyone assigned counts (intention to treat); the customer is the unit of "how many"
    c = len(m.channels)
    not_contacted, holdout = c, c + 1  # the columns past the channels'
    column = np.where(held, holdout, np.where(contacted, slot, not_contacted))
    key = m.code[rows].copy()
    lost = key < 0
    if lost.any():  # past every code
        n = int(key.max()) + 1
        key[lost] = n + pd.factorize(m.customer_id[rows][lost])[0]
    width = c + 2
    customers = int(key.max()) + 1 if len(key) else 0
    seen = np.zeros(customers * width, dtype=bool)
    seen[key * width + column] = True
    flags = seen.reshape(customers, width)
    windows = np.bincount(column, minlength=width)
    won = np.bincount(column[converted], minlength=width)

    def tally(columns: slice) -> Tally:
        who = int(np.count_nonzero(flags[:, columns].any(axis=1))) if customers else 0
        return Tally(who, int(windows[columns].sum()), int(won[columns].sum()))

    # channels in text order (m.channels is), only those contacted
    chans = {name: tally(slice(j, j + 1)) for j, name in enumerate(m.channels) if windows[j]}
    return Counts(chans, tally(slice(0, c)), tally(slice(0, c + 1)),
                  tally(slice(holdout, holdout + 1)))


def read_learned(config: Config, tx: Transactions | None, setup: ChannelSetup, *,
                 as_of: dt.date, campaigns: Sequence[str], use_history: bool = True
                 ) -> Learned:
    """The project's figures; the declared rates (saying why) with ``--no-history`` or no
    history yet."""
    from engine.history import open_history

    if not use_history:
        return learn(None, None, setup, as_of=as_of, campaigns=campaigns,
                     source=NO_HISTORY_FLAG)
    store = open_history(config, create=False)
    if store is None:
        return learn(None, None, setup, as_of=as_of, campaigns=campaigns,
                     source=NO_HISTORY_YET)
    try:
        return learn(store, tx, setup, as_of=as_of, campaigns=campaigns, source=HISTORY)
    finally:
        store.close()


def run_campaigns(decisions: pd.DataFrame) -> list[str]:
    """The campaigns of a run's actioned customers (a policy's campaign, by default its id),
    as the allocation names them."""
    action = decisions["action"].astype(object)
    acted = (action.notna() & (action != "no_action")).to_numpy()
    names = decisions["campaign"].astype(object).fillna(decisions["policy_id"].astype(object))
    return sorted({str(k) for k in names.to_numpy(dtype=object)[acted]})
