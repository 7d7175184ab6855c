"""Learning: each campaign's expected response per channel from what the history measured
(README "Learning"; the formula in engine.activation.learned).

For a run on ``as_of``, the runs counted are those ``cvm measure`` reports (the latest per
as-of date) dated before ``as_of`` whose attribution window is over by then (window days
as_of .. as_of + attribution_days - 1, all before this run's as-of date). A customer converted
as ``cvm measure`` says (engine.history.measure.outcomes: a purchase in the transactions or an
imported conversion of the campaign in the window). Per campaign (engine.activation.learned.Tally:
distinct customers, customer windows, windows converted): the customers contacted on each channel
(status allocated), all those contacted, everyone assigned outside the holdout contacted or not
(intention to treat, as cvm measure), and the holdout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from engine.activation.learned import Counts, Learned, Tally, figures
from engine.data.load import EPOCH, Transactions
from engine.project.channels import ChannelSetup

if TYPE_CHECKING:  # the history's SQLAlchemy when there is a history to read
    from engine.history.measured import Sums
    from engine.history.store import Store
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
    from engine.history.measured import by_campaign, groups, outcomes, read_measured

    m = read_measured(store, tx, before=as_of, channels=True)
    end_day = (as_of - EPOCH).days  # this run's transactions stop the day before
    cache: Sums = {}
    parts: list[pd.DataFrame] = []
    counted = set()
    dates = {run: as_of for run, _, as_of in m.runs}
    answers = by_campaign(m.answers)
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
        slot = m.channel[rows]
        contacted = m.allocated[rows] & ~held & (slot >= 0)  # a contact without a channel: none
        names = np.asarray([*m.channels, NOT_CONTACTED], dtype=object)
        # everyone assigned counts (intention to treat); the customer is the unit of "how many"
        parts.append(pd.DataFrame({
            "campaign": campaign, "code": m.code[rows],
            "customer_id": m.customer_id[rows],
            "channel": np.where(held, HELD, names[np.where(contacted, slot, -1)]),
            "converted": (converted > 0).astype(np.int64)}))
        counted.add(run_key)
    if not parts:
        return {}, 0
    return _tallies(pd.concat(parts, ignore_index=True)), len(counted)


HELD, NOT_CONTACTED = "(holdout)", "(not contacted)"


def _tallies(rows: pd.DataFrame) -> dict[str, Counts]:
    """Per campaign, the Counts of its rows (one per customer and run): windows and
    conversions summed, customers counted once (by code; by id if not in the transactions).
    On integer codes (bincount, one sort for the distinct pairs): rows are customers x runs."""
    key = rows["code"].to_numpy(dtype=np.int64).copy()
    lost = key < 0
    if lost.any():
        key[lost] = -2 - pd.factorize(rows["customer_id"].to_numpy(dtype=object)[lost])[0]
    key -= key.min()
    camp, camps = pd.factorize(rows["campaign"].to_numpy(dtype=object), sort=True)
    label, labels = pd.factorize(rows["channel"].to_numpy(dtype=object), sort=True)
    converted = rows["converted"].to_numpy(dtype=np.int64)
    names = [str(x) for x in labels]
    held = label == names.index(HELD) if HELD in names else np.zeros(len(rows), dtype=bool)
    idle = label == names.index(NOT_CONTACTED) if NOT_CONTACTED in names else \
        np.zeros(len(rows), dtype=bool)

    def tally(group: np.ndarray, size: int, mask: np.ndarray) -> list[Tally]:
        g, k = group[mask], key[mask]
        windows = np.bincount(g, minlength=size)
        won = np.bincount(g, weights=converted[mask], minlength=size)
        span = int(key.max()) + 1
        pairs = np.sort(g.astype(np.int64) * span + k)  # np.unique's hashing is slower here
        first = np.ones(len(pairs), dtype=bool)
        first[1:] = pairs[1:] != pairs[:-1]
        customers = np.bincount(pairs[first] // span, minlength=size)
        return [Tally(int(c), int(w), int(x)) for c, w, x in zip(customers, windows, won,
                                                                   strict=True)]

    n_camps, n_labels = len(camps), len(names)
    per_label = tally(camp * n_labels + label, n_camps * n_labels, ~held & ~idle)
    holdout = tally(camp, n_camps, held)
    assigned = tally(camp, n_camps, ~held)
    anyone = tally(camp, n_camps, ~held & ~idle)
    out: dict[str, Counts] = {}
    for i, campaign in enumerate(str(c) for c in camps):
        chans = {name: per_label[i * n_labels + j] for j, name in enumerate(names)
                 if name not in (HELD, NOT_CONTACTED) and per_label[i * n_labels + j].windows}
        out[campaign] = Counts(chans, anyone[i], assigned[i], holdout[i])
    return out



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
