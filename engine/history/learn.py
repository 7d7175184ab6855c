"""Learning: each campaign's expected response per channel from what the history measured
(README "Learning"; the formula in engine.activation.learned).

For a run on ``as_of``, the runs counted are those ``cvm measure`` reports (the latest per
as-of date) dated before ``as_of`` whose attribution window is over by then (window days
as_of .. as_of + attribution_days - 1, all before this run's as-of date). A customer converted
as ``cvm measure`` says (engine.history.measure.outcomes: a purchase in the transactions or an
imported conversion of the campaign in the window). Per campaign: customers contacted on each
channel (status allocated) and how many converted; its holdout and how many converted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from engine.activation.learned import Counts, Learned, figures
from engine.data.load import EPOCH, Transactions
from engine.history.measured import Sums, by_campaign, groups, outcomes, read_measured
from engine.history.store import Store
from engine.project.channels import ChannelSetup

if TYPE_CHECKING:
    from engine.project.config import Config

OFF = "off: learning.enabled is false in policies/campaigns.yaml; the declared rates are used"


def learn(store: Store | None, tx: Transactions | None, setup: ChannelSetup, *,
          as_of: dt.date, campaigns: Sequence[str], source: str) -> Learned:
    """The figures of ``campaigns`` (declared rates where nothing was measured)."""
    prior = setup.learning.prior_customers
    if not setup.learning.enabled:
        source = OFF
    counts: dict[str, Counts] = {}
    runs = 0
    if setup.learning.enabled and store is not None and tx is not None:
        counts, runs = _counts(store, tx, setup, as_of, set(campaigns))
    declared = [(ch.id, ch.response_rate) for ch in setup.channels]
    found = {k: figures(k, declared, counts.get(k) if setup.learning.enabled else None, prior)
             for k in sorted(campaigns)}
    return Learned(setup.learning.enabled, prior, source, runs, found)


def _counts(store: Store, tx: Transactions, setup: ChannelSetup, as_of: dt.date,
            wanted: set[str]) -> tuple[dict[str, Counts], int]:
    m = read_measured(store, tx, before=as_of, channels=True)
    end_day = (as_of - EPOCH).days  # this run's transactions stop the day before
    cache: Sums = {}
    counted = set()
    dates = {run: as_of for run, _, as_of in m.runs}
    answers = by_campaign(m.answers)
    # per campaign and channel (the last slot: its holdout), customers and conversions
    k = len(m.channels) + 1
    size = np.zeros((len(m.campaigns), k), dtype=np.int64)
    won = np.zeros((len(m.campaigns), k), dtype=np.int64)
    for run_key, campaign, rows in groups(m):
        if campaign not in wanted:
            continue
        day0 = (pd.Timestamp(str(dates[run_key])).date() - EPOCH).days
        days = setup.campaign(campaign).attribution_days
        if day0 + days > end_day:
            continue  # the window is not over: nothing to learn from it yet
        converted = outcomes(m, rows, answers.get(campaign, m.answers.iloc[:0]), tx, day0,
                             days, cache)[0]
        held = m.holdout[rows]
        slot = np.where(held, k - 1, m.channel[rows])
        use = held | (m.allocated[rows] & (slot >= 0))  # a contact without a channel: none
        row = m.campaigns.index(campaign)
        size[row] += np.bincount(slot[use], minlength=k)
        won[row] += np.bincount(slot[use], weights=converted[use] > 0, minlength=k
                                ).astype(np.int64)
        counted.add(run_key)
    out: dict[str, Counts] = {}
    for at in (int(i) for i in np.flatnonzero(size.sum(axis=1) > 0)):
        chans = [j for j in range(k - 1) if size[at, j] > 0]
        out[m.campaigns[at]] = Counts(
            {m.channels[j]: int(size[at, j]) for j in chans},
            {m.channels[j]: int(won[at, j]) for j in chans},
            int(size[at, k - 1]), int(won[at, k - 1]))
    return out, len(counted)


def read_learned(config: Config, tx: Transactions | None, setup: ChannelSetup, *,
                 as_of: dt.date, campaigns: Sequence[str], use_history: bool = True
                 ) -> Learned:
    """The project's figures; the declared rates (saying why) with ``--no-history`` or no
    history yet."""
    from engine.history import open_history

    if not use_history:
        return learn(None, None, setup, as_of=as_of, campaigns=campaigns,
                     source="none: --no-history, the declared response rates are used")
    store = open_history(config, create=False)
    if store is None:
        return learn(None, None, setup, as_of=as_of, campaigns=campaigns,
                     source="none: no history yet, the declared response rates are used")
    try:
        return learn(store, tx, setup, as_of=as_of, campaigns=campaigns, source="the history")
    finally:
        store.close()


def run_campaigns(decisions: pd.DataFrame) -> list[str]:
    """The campaigns of a run's actioned customers (a policy's campaign, by default its id),
    as the allocation names them."""
    action = decisions["action"].astype(object)
    acted = (action.notna() & (action != "no_action")).to_numpy()
    names = decisions["campaign"].astype(object).fillna(decisions["policy_id"].astype(object))
    return sorted({str(k) for k in names.to_numpy(dtype=object)[acted]})
