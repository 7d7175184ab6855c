"""Stage 5, allocate: at most one channel per actioned customer, within consent, service level,
channel capacity and budget, and campaign budget (README "Allocation").

    response(i, c)       = response_rate(c) x (preference_lift if i prefers c else 1)
    expected_value(i, c) = value_at_stake(i) x response(i, c)
                           x (1 + relationship_weight x relationship_strength(c)) - cost(c)

The result is defined by one procedure, the same at every size, so it depends neither on the
number of customers nor on the machine:

1. Prices. The shadow prices of the limits (a channel's contacts, a campaign's budget) come from
   the linear-programme relaxation (scipy's HiGHS), on every customer with an option when there
   are at most ``lp_sample``; else on the half of ``lp_sample`` with the highest expected value
   and every s-th of the others (customer-id order), each standing for the s it represents.
2. Score. score(i, c) = expected_value(i, c) - price(c) - price(campaign of i) x cost(c).
3. Walk. The options with an expected value above 0 are taken in order of score (highest
   first; ties: less priced use of the limits, then lower customer id, then the customer's
   preferred channel, then the policy's earlier channel), each when the customer has no channel
   yet and it fits the limits left.

Expected values and scores are compared in millionths of the currency, so products equal on
paper (0.15 x 1 and 0.10 x 1.5) tie. The walk takes a few vectorised passes
(``engine.activation.limits.walk``). No allocation within the limits beats the linear
programme's optimum
(or, priced on a sample, the Lagrangian bound at the prices): the manifest reports the gap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.activation.limits import (
    CAMPAIGN_BUDGET,
    CAMPAIGN_BUDGET_BELOW_ONE,
    CAPACITY,
    CHANNEL_BUDGET,
    CHANNEL_BUDGET_BELOW_ONE,
    NO_CHANNEL,
    Limits,
    lp_prices,
    upper_bound,
    walk,
)
from engine.decimals import figure
from engine.project.channels import ChannelSetup
from engine.words import counted

LP_SAMPLE = 10_000  # customers the linear programme prices on, at most
DECIMALS = 6  # expected values and scores are compared in millionths of the currency

__all__ = ["LP_SAMPLE", "NO_CHANNEL", "Allocation", "Options", "allocate", "build_options"]


@dataclass(frozen=True)
class Options:
    """Per customer (rows) and declared channel (columns): what contacting would bring."""

    ev: np.ndarray  # expected value; -inf where the channel is not an option
    pref: np.ndarray  # tie order: preferred channels, then the policy's list; large if none
    response: np.ndarray  # expected response rate
    campaign: np.ndarray  # campaign code per customer
    campaigns: tuple[str, ...]
    why_none: np.ndarray  # object: reason where the customer has no option at all
    customer_id: np.ndarray  # object: the ids, for the tie rule and a row-order-free result


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct values of a text column ("" for missing), whatever its dtype: each
    distinct value is looked at once, not once per row (and a categorical is never given a
    new value, which pandas 2 refuses)."""
    codes, uniques = pd.factorize(values)
    names = [str(u) for u in uniques] + ([""] if (codes < 0).any() else [])
    return np.where(codes < 0, len(uniques), codes), np.array(names, dtype=object)


def build_options(actions: pd.DataFrame, table: pd.DataFrame, setup: ChannelSetup,
                  stake: np.ndarray, rates: Mapping[str, np.ndarray] | None = None) -> Options:
    """Options for the customers in ``actions`` (aligned rows of ``table`` and ``stake``);
    ``rates``: per campaign, the response per channel learnt (engine.activation.learned) in
    place of the channels' declared rates."""
    n, chans = len(actions), setup.channels
    index = {ch.id: j for j, ch in enumerate(chans)}
    codes, lists = _codes(actions["channels"])
    per_list = np.full((len(lists), len(chans)), 1_000, dtype=np.int64)
    for row, policy_list in enumerate(lists):
        for pos, name in enumerate(x for x in policy_list.split("|") if x):
            if name in index:
                per_list[row, index[name]] = pos
    pref = per_list[codes] if n else np.full((0, len(chans)), 1_000, dtype=np.int64)
    allowed = pref < 1_000
    codes, levels = _codes(actions["service_level"])
    serves = np.array([[lv in ch.service_levels for ch in chans] for lv in levels],
                      dtype=bool).reshape(len(levels), len(chans))[codes]
    consent = np.column_stack([
        np.ones(n, dtype=bool) if ch.consent is None
        else table[ch.consent].to_numpy(dtype=bool, na_value=False)
        if ch.consent in table else np.zeros(n, dtype=bool) for ch in chans])
    preferred = (_codes(table["preferred_channel"]) if "preferred_channel" in table
                 else (np.zeros(n, dtype=np.int64), np.array([""], dtype=object)))
    prefers = np.array([[p in ch.preferred_as for ch in chans] for p in preferred[1]],
                       dtype=bool).reshape(len(preferred[1]), len(chans))[preferred[0]]
    lift = np.where(prefers, setup.preference_lift, 1.0)
    # the tie order among a customer's channels: the preferred ones, then the policy's order
    pref = pref + np.where(prefers, 0, len(chans))
    rate = np.array([ch.response_rate for ch in chans])
    cost = np.array([ch.cost_per_contact for ch in chans])
    bond = 1.0 + setup.relationship_weight * np.array([ch.relationship_strength for ch in chans])
    response = _rates(actions["campaign"], rate, rates) * lift
    ev = np.round(np.asarray(stake, dtype=np.float64)[:, None] * response * bond[None, :]
                  - cost[None, :], DECIMALS)
    ok = allowed & serves & consent
    ev = np.where(ok, ev, -np.inf)

    why = np.full(n, "", dtype=object)
    none_allowed = ~allowed.any(axis=1)
    no_service = allowed.any(axis=1) & ~(allowed & serves).any(axis=1)
    no_consent = (allowed & serves).any(axis=1) & ~ok.any(axis=1)
    consented = (allowed & consent).any(axis=1)  # but not on a channel serving the level
    why[none_allowed] = "no channel: the policy allows none of the declared channels"
    why[no_service] = "no channel: no allowed channel serves this service level"
    why[no_consent & ~consented] = NO_CONSENT
    why[no_consent & consented] = CONSENTED_NOT_SERVING
    # an expected value needs a finite value at stake: say so rather than drop the customer
    unvalued = ~np.isfinite(np.asarray(stake, dtype=np.float64))
    ev[unvalued] = -np.inf
    why[unvalued] = "not valued: the value at stake is not a finite number"
    camp_codes, camp_names = _codes(actions["campaign"])
    order = np.argsort(camp_names.astype(str), kind="stable") if len(camp_names) else \
        np.zeros(0, dtype=np.int64)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    ids = table["customer_id"].to_numpy(dtype=object)
    return Options(ev, pref, response, rank[camp_codes] if n else camp_codes.astype(np.int64),
                   tuple(str(x) for x in camp_names[order]), why, ids)


def _rates(campaign: pd.Series, declared: np.ndarray,
           rates: Mapping[str, np.ndarray] | None) -> np.ndarray:
    """Per customer and channel, the response rate of the customer's campaign."""
    if not rates:
        return declared[None, :]
    codes, names = _codes(campaign)
    table = np.array([rates.get(str(k), declared) for k in names], dtype=np.float64)
    out: np.ndarray = table.reshape(len(names), len(declared))[codes]
    return out


@dataclass(frozen=True)
class Allocation:
    channel: np.ndarray  # index into setup.channels, NO_CHANNEL when not served
    reason: np.ndarray  # object: why not served ("" when served)
    prices: dict[str, float]  # shadow prices used (for the manifest)
    method: dict[str, Any]  # how the prices were found, the value and its bound (manifest)
    # the prices as the walk used them, unrounded: per contact of each channel, per unit of each
    # campaign's budget (`cvm explain` scores one customer's options as the walk did)
    walked: dict[str, float] = field(default_factory=dict)


def allocate(opts: Options, setup: ChannelSetup, *, lp_sample: int = LP_SAMPLE,
             progress: Callable[[str], None] | None = None) -> Allocation:
    """The documented allocation (module docstring); the same whatever the row order."""
    ids = opts.customer_id
    # the customer-id order makes the sample, the prices and the tie rule free of row order
    order = np.arange(len(ids)) if pd.Index(ids).is_monotonic_increasing \
        else np.argsort(ids, kind="stable")
    ev, pref, camp = opts.ev[order], opts.pref[order], opts.campaign[order]
    limits = Limits.of(setup, opts.campaigns)
    live = np.isfinite(ev) & (ev > 0)
    who = np.flatnonzero(live.any(axis=1))  # customers with an option worth a contact
    n, n_options = len(who), int(live.sum())
    prices, exact = limits.no_prices(), None
    if n == 0:
        how = "none: no customer has an option worth a contact"
    else:
        rows, weight, how = _lp_customers(ev, live, who, lp_sample)
        if progress is not None:
            progress(f"allocate: prices from the linear programme on {len(rows):,} of "
                     f"{counted(n, 'customer')}")
        solved = lp_prices(ev[rows], camp[rows], limits, weight)
        if solved is None:
            how = "none: the linear programme found no solution; options taken by expected " \
                "value"
        else:
            prices, lp_value = solved
            exact = lp_value if len(rows) == n else None
    use = np.round(prices.channel[None, :] + prices.campaign[camp][:, None]
                   * limits.cost[None, :], DECIMALS)
    score = np.round(ev - use, DECIMALS)
    if progress is not None and n_options:
        progress(f"allocate: {counted(n_options, 'option')} of {counted(n, 'customer')}, best "
                 "score first")
    chosen_sorted, cause_sorted = walk(score, use, live, pref, camp, limits)
    chosen = np.empty(len(ids), dtype=np.int64)
    chosen[order] = chosen_sorted
    cause = np.empty(len(ids), dtype=np.int64)
    cause[order] = cause_sorted
    got = chosen != NO_CHANNEL
    total = float(opts.ev[np.flatnonzero(got), chosen[got]].sum())
    bound = upper_bound(score, live, prices, limits) if exact is None else exact
    method = {
        "procedure": "options in order of score: expected value minus the priced use of the "
                     "limits (README \"Allocation\")",
        "customers": len(ids), "customers_with_options": n, "options": n_options,
        "prices": how, "expected_value": figure(total, 2), "upper_bound": figure(bound, 2),
        "gap_to_upper_bound": round(max(0.0, bound - total) / bound, 6) if bound > 0 else 0.0,
    }
    walked = {**{f"channel:{c}": float(p) for c, p in zip(limits.channels, prices.channel,
                                                            strict=True)},
              **{f"campaign:{k}": float(p) for k, p in zip(limits.campaigns, prices.campaign,
                                                           strict=True)}}
    return Allocation(chosen, _reasons(opts, chosen, cause), limits.report(prices), method,
                      walked)


def _lp_customers(ev: np.ndarray, live: np.ndarray, who: np.ndarray, lp_sample: int
                  ) -> tuple[np.ndarray, np.ndarray, str]:
    """The customers the linear programme prices on, their weights, and the manifest's words.

    Up to ``lp_sample`` customers with an option: all of them. Beyond, the prices hang on few
    customers of high value (value at stake is heavy-tailed), so a plain sample misprices the
    scarce channels: the half with the highest expected value is taken whole and the others
    are sampled, every s-th in customer-id order, each standing for the customers it skips.
    """
    n = len(who)
    if n <= lp_sample:
        return who, np.ones(n), (f"linear programme on {'all ' * (n != 1)}"
                                 f"{counted(n, 'customer')} with an option "
                                 f"({lp_sample:,} at most)")
    best = np.where(live[who], ev[who], 0.0).max(axis=1)
    by_value = who[np.argsort(-best, kind="stable")]
    top = np.sort(by_value[: lp_sample // 2])
    others = np.sort(by_value[lp_sample // 2:])
    step = -(-len(others) // (lp_sample - len(top)))
    sample = others[::step]
    stands = len(others) / len(sample)
    how = (f"linear programme on the {len(top):,} customers of highest expected value and "
           f"{len(sample):,} of the other {len(others):,} (every {_ordinal(step)} by customer "
           f"id, each standing for {stands:.2f}), as more than {lp_sample:,} have an option")
    return np.concatenate([top, sample]), np.r_[np.ones(len(top)), np.full(len(sample),
                                                                            stands)], how


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


# an expected value equal to the cost (0 for 0 on a free channel) is no more worth a contact
NO_CONSENT = "no consented channel"
CONSENTED_NOT_SERVING = "no channel: the consented channels do not serve this service level"
NOT_WORTH = "not worth a contact: expected value not above the cost on every allowed channel"
LABELS = {CAPACITY: "capacity: the allowed channels are full",
          CHANNEL_BUDGET: "budget: the allowed channels' budgets are spent",
          CAMPAIGN_BUDGET: "budget: the campaign budget is spent",
          CHANNEL_BUDGET_BELOW_ONE: "budget: the channel's budget is below the cost of one "
                                    "contact",
          CAMPAIGN_BUDGET_BELOW_ONE: "budget: the campaign budget is below the cost of one "
                                     "contact"}


def _reasons(opts: Options, chosen: np.ndarray, cause: np.ndarray) -> np.ndarray:
    """Why each customer left without a channel is not served ("" when served)."""
    reason = np.full(len(chosen), "", dtype=object)
    has_option = np.isfinite(opts.ev).any(axis=1)
    worth = (np.isfinite(opts.ev) & (opts.ev > 0)).any(axis=1)
    unserved = chosen == NO_CHANNEL
    reason[unserved & ~has_option] = opts.why_none[unserved & ~has_option]
    reason[unserved & has_option & ~worth] = NOT_WORTH
    for code, text in LABELS.items():
        reason[unserved & worth & (cause == code)] = text
    return reason

