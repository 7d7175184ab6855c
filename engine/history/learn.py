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
from engine.history.measure import Sums, by_campaign, groups, outcomes, read_measured
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
    meta, snap, got = read_measured(store, tx, before=as_of)
    end_day = (as_of - EPOCH).days  # this run's transactions stop the day before
    cache: Sums = {}
    parts: list[pd.DataFrame] = []
    counted = set()
    dates = {run: as_of for run, _, as_of in meta}
    answers = by_campaign(got)
    for (run_key, campaign), group in groups(snap):
        if campaign not in wanted:
            continue
        day0 = (pd.Timestamp(str(dates[run_key])).date() - EPOCH).days
        days = setup.campaign(campaign).attribution_days
        if day0 + days > end_day:
            continue  # the window is not over: nothing to learn from it yet
        converted = outcomes(group, answers.get(campaign, got.iloc[:0]), tx, day0, days,
                             cache)[0]
        held = group["holdout"].fillna(False).to_numpy(dtype=bool)
        contacted = (group["status"] == "allocated").to_numpy() & ~held
        # everyone assigned counts (intention to treat); the customer is the unit of "how many"
        parts.append(pd.DataFrame({
            "campaign": campaign, "code": group["code"].to_numpy(dtype=np.int64),
            "customer_id": group["customer_id"].to_numpy(dtype=object)
            if "customer_id" in group else None,
            "channel": np.where(held, HELD, np.where(contacted, group["channel"].to_numpy(
                dtype=object), NOT_CONTACTED)),
            "converted": converted.astype(np.int64)}))
        counted.add(run_key)
    if not parts:
        return {}, 0
    return _tallies(pd.concat(parts, ignore_index=True)), len(counted)


HELD, NOT_CONTACTED = "(holdout)", "(not contacted)"


def _tallies(rows: pd.DataFrame) -> dict[str, Counts]:
    """Per campaign, the Counts of its rows (one per customer and run): windows and
    conversions summed, customers counted once (by code; by id if not in the transactions)."""
    key = rows["code"].to_numpy(dtype=np.int64).copy()
    lost = key < 0
    if lost.any():
        key[lost] = -2 - pd.factorize(rows["customer_id"].to_numpy(dtype=object)[lost])[0]
    rows = rows.assign(key=key)

    def tally(frame: pd.DataFrame, by: list[str]) -> dict[tuple[str, ...], Tally]:
        got = frame.groupby(by, sort=True).agg(
            windows=("converted", "size"), converted=("converted", "sum"),
            customers=("key", "nunique"))
        keys = [tuple(str(x) for x in k) if isinstance(k, tuple) else (str(k),)
                for k in got.index]
        return {k: Tally(int(n), int(w), int(x)) for k, n, w, x in zip(
            keys, got["customers"], got["windows"], got["converted"], strict=True)}

    held = (rows["channel"] == HELD).to_numpy()
    contacted = ~held & (rows["channel"] != NOT_CONTACTED).to_numpy()
    per_channel = tally(rows[contacted], ["campaign", "channel"])
    holdout, assigned = tally(rows[held], ["campaign"]), tally(rows[~held], ["campaign"])
    anyone = tally(rows[contacted], ["campaign"])
    out: dict[str, Counts] = {}
    for campaign in sorted({str(k) for k in rows["campaign"]}):
        chans = {key[1]: t for key, t in per_channel.items() if key[0] == campaign}
        out[campaign] = Counts(chans, anyone.get((campaign,), Tally()),
                               assigned.get((campaign,), Tally()),
                               holdout.get((campaign,), Tally()))
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
