"""The allocation's limits, their prices and the walk within them (README "Allocation").

``Limits`` turns a channel's budget into a number of contacts (its cost per contact is fixed);
``lp_prices`` finds the shadow prices of the limits from the linear-programme relaxation;
``upper_bound`` is the Lagrangian bound at any prices (no allocation can do better); ``walk``
takes the options in order of score within the limits. Rows are customers in customer-id order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.project.channels import ChannelSetup, budget_contacts
from engine.terminal import tick

NO_CHANNEL = -1
CAPACITY, CHANNEL_BUDGET, CAMPAIGN_BUDGET = 1, 2, 3  # why a customer's best option was blocked
# a budget that never paid for one contact (its channel's, or its campaign's for its channel)
CHANNEL_BUDGET_BELOW_ONE, CAMPAIGN_BUDGET_BELOW_ONE = 4, 5


@dataclass(frozen=True)
class Prices:
    channel: np.ndarray  # per contact
    campaign: np.ndarray  # per unit of the campaign's budget


@dataclass(frozen=True)
class Limits:
    channels: tuple[str, ...]
    cost: np.ndarray
    contacts: np.ndarray  # min(capacity, floor(budget / cost)) per channel
    budget_binds: np.ndarray  # True where the budget, not the capacity, sets the contacts
    campaigns: tuple[str, ...]
    campaign_budget: np.ndarray  # inf where none

    @classmethod
    def of(cls, setup: ChannelSetup, campaigns: tuple[str, ...]) -> Limits:
        cost = np.array([ch.cost_per_contact for ch in setup.channels], dtype=np.float64)
        cap = np.array([float(ch.capacity) for ch in setup.channels])
        by_budget = np.array([budget_contacts(ch) for ch in setup.channels])
        budgets = [setup.campaign(k).budget for k in campaigns]
        return cls(tuple(ch.id for ch in setup.channels), cost, np.minimum(cap, by_budget),
                   by_budget < cap, campaigns,
                   np.array([np.inf if b is None else float(b) for b in budgets]))

    def scaled(self, share: float) -> Limits:
        return Limits(self.channels, self.cost, self.contacts * share, self.budget_binds,
                      self.campaigns, self.campaign_budget * share)

    def no_prices(self) -> Prices:
        return Prices(np.zeros(len(self.cost)), np.zeros(len(self.campaign_budget)))

    def report(self, prices: Prices) -> dict[str, float]:
        """Prices per contact of a full channel, per unit of a spent budget (for the manifest)."""
        out = {}
        for c, p, cost, by_budget in zip(self.channels, prices.channel, self.cost,
                                         self.budget_binds, strict=True):
            if p > 0:
                out[f"budget:{c}" if by_budget else f"capacity:{c}"] = \
                    round(float(p / cost if by_budget else p), 6)
        for k, p in zip(self.campaigns, prices.campaign, strict=True):
            if p > 0:
                out[f"campaign:{k}"] = round(float(p), 6)
        return out


def lp_prices(ev: np.ndarray, camp: np.ndarray, limits: Limits,
              weight: np.ndarray | None = None) -> tuple[Prices, float] | None:
    """Shadow prices of the limits and the optimum of the linear-programme relaxation; a row of
    ``weight`` w stands for w customers like it (its options may take w contacts in all)."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix, vstack

    n, k = ev.shape
    i, j = np.nonzero(np.isfinite(ev) & (ev > 0))
    if len(i) == 0:
        return limits.no_prices(), 0.0
    m = len(i)
    ones, cols = np.ones(m), np.arange(m)
    w = np.ones(n) if weight is None else np.asarray(weight, dtype=np.float64)
    # one channel per customer: a row only for customers with two options or more (for the
    # others the variable's own bound says it, and HiGHS is faster without the row)
    per = np.bincount(i, minlength=n)
    row_of = np.cumsum(per > 1) - 1
    multi = per[i] > 1
    finite = np.flatnonzero(np.isfinite(limits.campaign_budget))
    camp_row = np.full(len(limits.campaign_budget), -1)
    camp_row[finite] = np.arange(len(finite))
    budgeted = camp_row[camp[i]] >= 0
    n_multi = int((per > 1).sum())
    a = vstack([csr_matrix((ones[multi], (row_of[i][multi], cols[multi])), shape=(n_multi, m)),
                csr_matrix((ones, (j, cols)), shape=(k, m)),
                csr_matrix((limits.cost[j][budgeted], (camp_row[camp[i]][budgeted],
                                                       cols[budgeted])),
                           shape=(len(finite), m))]).tocsr()
    b = np.concatenate([w[per > 1], limits.contacts, limits.campaign_budget[finite]])
    res = linprog(-ev[i, j], A_ub=a, b_ub=b, bounds=np.column_stack([np.zeros(m), w[i]]),
                  method="highs-ds")
    if res.status != 0:
        return None
    duals = np.maximum(-np.asarray(res.ineqlin.marginals), 0.0)
    campaign = np.zeros(len(limits.campaign_budget))
    campaign[finite] = duals[n_multi + k:]
    return Prices(duals[n_multi:n_multi + k], campaign), float(-res.fun)


def upper_bound(score: np.ndarray, live: np.ndarray, prices: Prices, limits: Limits) -> float:
    """The Lagrangian bound: for any prices, sum over customers of their best positive score,
    plus the priced limits, is at least the value of any allocation within the limits."""
    best = np.where(live, score, 0.0).max(axis=1, initial=0.0)
    spare = np.where(np.isfinite(limits.campaign_budget), limits.campaign_budget, 0.0)
    return float(np.maximum(best, 0.0).sum() + prices.channel @ limits.contacts
                 + prices.campaign @ spare)


def walk(score: np.ndarray, use: np.ndarray, live: np.ndarray, pref: np.ndarray,
         camp: np.ndarray, limits: Limits) -> tuple[np.ndarray, np.ndarray]:
    """Take the live options in order of score (ties: less priced ``use`` of the limits, then
    customer row, then ``pref``), each when its customer has none yet and it fits the limits
    left. Returns the channel per customer and,
    for those left without one, why their best option was blocked (CAPACITY...).

    Done in passes, exactly as one by one: each waiting customer's candidate is its first
    option that fits the limits left; candidates are taken in order up to the first that no
    longer fits once those before it are taken. There a channel has filled up or a campaign's
    budget has fallen below a cost; only the candidates that this blocks look for their next
    option. Limits only tighten, so there are at most channels x (1 + campaigns) passes.
    """
    n, k = score.shape
    chosen = np.full(n, NO_CHANNEL, dtype=np.int64)
    cause = np.zeros(n, dtype=np.int64)
    cust, chan = np.nonzero(live)
    m = len(cust)
    if m == 0:
        return chosen, cause
    order = np.lexsort((chan, pref[cust, chan], cust, use[cust, chan], -score[cust, chan]))
    oi, oc = cust[order], chan[order]
    ocost, ocamp = limits.cost[oc], camp[oi]
    # pos[i, r]: the position of customer i's r-th best option (m: none)
    counts = np.bincount(oi, minlength=n)
    by_customer = np.argsort(oi, kind="stable")
    rank = np.arange(m) - np.repeat(np.cumsum(counts) - counts, counts)
    pos = np.full((n, k), m, dtype=np.int64)
    pos[oi[by_customer], rank] = by_customer
    left = limits.contacts.astype(np.float64)
    money = limits.campaign_budget.astype(np.float64)
    slack = _slack(money)

    def candidates(customers: np.ndarray) -> np.ndarray:
        """Sorted positions of the first option that fits, for customers that have one (most
        often the first option: columns are looked at one by one, for those still looking)."""
        found = []
        for r in range(k):
            p = pos[customers, r]
            real = p < m
            customers, p = customers[real], p[real]
            fits = (left[oc[p]] >= 1) & (ocost[p] <= money[ocamp[p]] + slack[ocamp[p]])
            found.append(p[fits])
            customers = customers[~fits]
            if not len(customers):
                break
        return np.sort(np.concatenate(found))

    cand = candidates(np.flatnonzero(counts > 0))
    taken = []
    waiting = len(cand)
    while len(cand):
        tick("allocate: customers decided", waiting - len(cand), waiting)  # a terminal's bar
        stop = _first_misfit(oc[cand], ocamp[cand], ocost[cand], left, money + slack)
        take = cand[:stop]
        taken.append(take)
        chosen[oi[take]] = oc[take]
        left -= np.bincount(oc[take], minlength=k)
        money -= np.bincount(ocamp[take], weights=ocost[take], minlength=len(money))
        rest = cand[stop:]
        blocked = (left[oc[rest]] < 1) | (ocost[rest] > money[ocamp[rest]] + slack[ocamp[rest]])
        cand = np.sort(np.concatenate([rest[~blocked], candidates(oi[rest[blocked]])]),
                       kind="stable")
    out = np.flatnonzero((chosen == NO_CHANNEL) & (counts > 0))
    cheapest = np.full(n, np.inf)  # each customer's cheapest option: its campaign's budget
    np.minimum.at(cheapest, cust, limits.cost[chan])  # may never pay even that one
    budget = limits.campaign_budget[camp[out]]
    never = cheapest[out] > budget + _slack(budget)
    cause[out] = _blocked_by(pos[out, 0], np.concatenate([np.zeros(0, np.int64), *taken]),
                             oc, ocamp, limits, never)
    return chosen, cause


def _slack(budget: np.ndarray) -> np.ndarray:
    """What a budget may be short of a cost and still pay it: float sums' rounding."""
    return 1e-9 * np.maximum(1.0, np.where(np.isfinite(budget), budget, 1.0))


def _blocked_by(best: np.ndarray, taken: np.ndarray, oc: np.ndarray, ocamp: np.ndarray,
                limits: Limits, never: np.ndarray) -> np.ndarray:
    """What blocked each option at ``best`` (positions in the walk's order) when its turn came.
    Its channel was full when fewer than one contact was left after the options ``taken``
    before it on that channel (a channel's limit is named first when the campaign's budget
    blocked it too, unless that budget can pay none of the customer's options: ``never``);
    else its campaign's budget was short. Counted from the options taken, not
    read from the limits once the walk is over: a channel may fill after a budget stopped it.
    A budget that never paid for one contact is told apart: nothing of it was spent."""
    span = len(oc) + 1  # positions are < len(oc): a (channel, position) key sorts by channel
    keys = np.sort(oc[taken] * span + taken)
    chan = oc[best]
    on_before = np.searchsorted(keys, chan * span + best) - np.searchsorted(keys, chan * span)
    full = limits.contacts[chan] - on_before < 1
    channel_none = limits.budget_binds[chan] & (limits.contacts[chan] < 1)
    money = limits.campaign_budget[ocamp[best]]
    campaign_none = limits.cost[chan] > money + _slack(money)
    # a campaign budget that can pay none of the customer's options (``never``) is named
    # first: no room on any channel would have served them
    return np.where(never, CAMPAIGN_BUDGET_BELOW_ONE, np.where(full, np.where(
        limits.budget_binds[chan], np.where(channel_none, CHANNEL_BUDGET_BELOW_ONE,
                                            CHANNEL_BUDGET), CAPACITY), np.where(
        campaign_none, CAMPAIGN_BUDGET_BELOW_ONE, CAMPAIGN_BUDGET)))


def _first_misfit(chan: np.ndarray, camp: np.ndarray, cost: np.ndarray, left: np.ndarray,
                  room: np.ndarray) -> int:
    """The first candidate, in order, that does not fit once all before it are taken."""
    stop = len(chan)
    for c in np.flatnonzero(np.isfinite(left)):
        on = np.flatnonzero(chan == c)
        if len(on) > left[c]:  # the (left + 1)-th contact on the channel does not fit
            stop = min(stop, int(on[int(max(left[c], 0.0))]))
    for g in np.flatnonzero(np.isfinite(room)):
        on = np.flatnonzero(camp == g)
        over = np.flatnonzero(np.cumsum(cost[on]) > room[g])
        if len(over):
            stop = min(stop, int(on[over[0]]))
    return stop
