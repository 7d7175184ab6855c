"""Stage 5, allocate: at most one channel per actioned customer, within consent, service level,
channel capacity and budget, and campaign budget, maximising total expected value.

    expected_value(i, c) = value_at_stake(i) x response(i, c) - cost(c)
    response(i, c)       = response_rate(c) x (preference_lift if i prefers c else 1)

Method. The problem is an assignment with a handful of coupling constraints (capacity and
budget per channel, budget per campaign). Their shadow prices come from the linear programme
(scipy's HiGHS), solved exactly on up to ``LP_SAMPLE`` customers (a deterministic sample with
limits scaled down when there are more). Up to ``EXACT_LIMIT`` options the integer programme
itself is solved exactly (scipy's ``milp``, HiGHS branch and bound). Beyond, each customer's
options are scored by expected value minus the priced use of scarce capacity and budget, then
allocated greedily in rounds, best score first; a customer whose option no longer fits moves to
its next option. Every limit holds exactly; ties are broken by the policy's channel order, then
customer id: deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.channels import ChannelSetup

LP_SAMPLE = 20_000
EXACT_LIMIT = 20_000  # options up to which the integer programme is solved exactly
NO_CHANNEL = -1


@dataclass(frozen=True)
class Options:
    """Per customer (rows) and declared channel (columns): what contacting would bring."""

    ev: np.ndarray  # expected value; -inf where the channel is not an option
    pref: np.ndarray  # position in the policy's channel list (lower is preferred); large if none
    response: np.ndarray  # expected response rate
    campaign: np.ndarray  # campaign code per customer
    campaigns: tuple[str, ...]
    why_none: np.ndarray  # object: reason where the customer has no option at all


def build_options(actions: pd.DataFrame, table: pd.DataFrame, setup: ChannelSetup,
                  stake: np.ndarray) -> Options:
    """Options for the customers in ``actions`` (aligned rows of ``table`` and ``stake``)."""
    n, chans = len(actions), setup.channels
    index = {ch.id: j for j, ch in enumerate(chans)}
    pref = np.full((n, len(chans)), 1_000, dtype=np.int64)
    lists = actions["channels"].fillna("").to_numpy()
    for policy_list in pd.unique(lists):
        rows = lists == policy_list
        for pos, name in enumerate(x for x in str(policy_list).split("|") if x):
            if name in index:
                pref[rows, index[name]] = pos
    allowed = pref < 1_000
    service = actions["service_level"].fillna("").to_numpy()
    serves = np.column_stack([np.isin(service, ch.service_levels) for ch in chans])
    consent = np.column_stack([
        np.ones(n, dtype=bool) if ch.consent is None
        else table[ch.consent].fillna(False).to_numpy(dtype=bool) if ch.consent in table
        else np.zeros(n, dtype=bool) for ch in chans])
    preferred = table["preferred_channel"].fillna("").to_numpy() \
        if "preferred_channel" in table else np.full(n, "", dtype=object)
    lift = np.column_stack([np.where(np.isin(preferred, ch.preferred_as), setup.preference_lift,
                                     1.0) for ch in chans])
    rate = np.array([ch.response_rate for ch in chans])
    cost = np.array([ch.cost_per_contact for ch in chans])
    response = rate[None, :] * lift
    ev = stake[:, None] * response - cost[None, :]
    ok = allowed & serves & consent
    ev = np.where(ok, ev, -np.inf)

    why = np.full(n, "", dtype=object)
    none_allowed = ~allowed.any(axis=1)
    no_service = allowed.any(axis=1) & ~(allowed & serves).any(axis=1)
    no_consent = (allowed & serves).any(axis=1) & ~ok.any(axis=1)
    why[none_allowed] = "no channel: the policy allows none of the declared channels"
    why[no_service] = "no channel: no allowed channel serves this service level"
    why[no_consent] = "no consented channel"
    codes, names = pd.factorize(actions["campaign"].to_numpy(), sort=True)
    return Options(ev, pref, response, codes.astype(np.int64), tuple(str(x) for x in names),
                   why)


@dataclass(frozen=True)
class Allocation:
    channel: np.ndarray  # index into setup.channels, NO_CHANNEL when not served
    reason: np.ndarray  # object: why not served ("" when served)
    prices: dict[str, float]  # shadow prices used (for the manifest)


def allocate(opts: Options, setup: ChannelSetup, *, exact_limit: int = EXACT_LIMIT
             ) -> Allocation:
    chans = setup.channels
    cost = np.array([ch.cost_per_contact for ch in chans])
    cap = np.array([float(ch.capacity) for ch in chans])
    bud = np.array([np.inf if ch.budget is None else ch.budget for ch in chans])
    camp_bud = np.array([np.inf if setup.campaign(k).budget is None
                         else float(setup.campaign(k).budget)  # type: ignore[arg-type]
                         for k in opts.campaigns])
    p_cap, p_bud, p_camp = _shadow_prices(opts, cost, cap, bud, camp_bud)
    n_options = int((np.isfinite(opts.ev) & (opts.ev > 0)).sum())
    exact = _exact(opts, cost, cap, bud, camp_bud) if 0 < n_options <= exact_limit else None
    if exact is not None:
        return _finish(opts, setup, exact, np.zeros(len(exact), dtype=np.int64),
                       (p_cap, p_bud, p_camp), cost, cap, bud, camp_bud)
    score = opts.ev - p_cap[None, :] - (p_bud[None, :] + p_camp[opts.campaign][:, None]) * \
        cost[None, :]
    live = np.isfinite(opts.ev) & (opts.ev > 0)
    n = len(opts.ev)
    chosen = np.full(n, NO_CHANNEL, dtype=np.int64)
    blocked = np.zeros(n, dtype=np.int64)  # 1 capacity, 2 channel budget, 3 campaign budget
    left_cap, left_bud, left_camp = cap.copy(), bud.copy(), camp_bud.copy()
    for _ in range(200):
        pending = np.flatnonzero((chosen == NO_CHANNEL) & live.any(axis=1))
        if len(pending) == 0:
            break
        s = np.where(live[pending], score[pending], -np.inf)
        best = s.max(axis=1)
        tie = np.where(s == best[:, None], opts.pref[pending], 10**9)
        pick = tie.argmin(axis=1)
        order = np.lexsort((pending, -best))
        cust, ch = pending[order], pick[order]
        camp = opts.campaign[cust]
        c_cost = cost[ch]
        fits_cap = _group_cumsum(ch, np.ones(len(ch))) <= left_cap[ch]
        fits_bud = _group_cumsum(ch, c_cost) <= left_bud[ch] + 1e-9
        fits_camp = _group_cumsum(camp, c_cost) <= left_camp[camp] + 1e-9
        take = fits_cap & fits_bud & fits_camp
        chosen[cust[take]] = ch[take]
        np.subtract.at(left_cap, ch[take], 1.0)
        np.subtract.at(left_bud, ch[take], c_cost[take])
        np.subtract.at(left_camp, camp[take], c_cost[take])
        rest = ~take
        rc, rch, rcamp = cust[rest], ch[rest], camp[rest]
        cause = np.where(left_cap[rch] < 1, 1, np.where(left_bud[rch] < cost[rch] - 1e-9, 2,
                         np.where(left_camp[rcamp] < cost[rch] - 1e-9, 3, 0)))
        gone = cause > 0  # the option can no longer fit: move on to the next one
        live[rc[gone], rch[gone]] = False
        blocked[rc[gone]] = cause[gone]
        if not take.any() and not gone.any():
            break  # pragma: no cover - every round takes or drops at least one option
    return _finish(opts, setup, chosen, blocked, (p_cap, p_bud, p_camp), cost, cap, bud,
                   camp_bud)


def _finish(opts: Options, setup: ChannelSetup, chosen: np.ndarray, blocked: np.ndarray,
            prices: tuple[np.ndarray, np.ndarray, np.ndarray], cost: np.ndarray,
            cap: np.ndarray, bud: np.ndarray, camp_bud: np.ndarray) -> Allocation:
    """Reasons for the customers left unserved, and the result."""
    chans = setup.channels
    n = len(chosen)
    p_cap, p_bud, p_camp = prices
    got = chosen != NO_CHANNEL
    left_cap = cap - np.bincount(chosen[got], minlength=len(cap))
    left_bud = bud - np.bincount(chosen[got], weights=cost[chosen[got]], minlength=len(cap))
    left_camp = camp_bud - np.bincount(opts.campaign[got], weights=cost[chosen[got]],
                                       minlength=len(camp_bud))
    live = np.isfinite(opts.ev) & (opts.ev > 0)
    for i in np.flatnonzero(~got & live.any(axis=1) & (blocked == 0)):
        j = int(np.argmax(np.where(live[i], opts.ev[i], -np.inf)))
        blocked[i] = 1 if left_cap[j] < 1 else 2 if left_bud[j] < cost[j] - 1e-9 else \
            3 if left_camp[opts.campaign[i]] < cost[j] - 1e-9 else 4
    reason = np.full(n, "", dtype=object)
    has_option = np.isfinite(opts.ev).any(axis=1)
    worth = (np.isfinite(opts.ev) & (opts.ev > 0)).any(axis=1)
    unserved = chosen == NO_CHANNEL
    reason[unserved & ~has_option] = opts.why_none[unserved & ~has_option]
    reason[unserved & has_option & ~worth] = "not worth a contact: expected value below " \
        "the cost on every allowed channel"
    labels = {1: "capacity: the allowed channels are full",
              2: "budget: the allowed channels' budgets are spent",
              3: "budget: the campaign budget is spent",
              4: "capacity and budgets went to customers of higher expected value"}
    for code, text in labels.items():
        reason[unserved & worth & (blocked == code)] = text
    prices_out = {f"capacity:{c.id}": round(float(p), 6)
                  for c, p in zip(chans, p_cap, strict=True) if p}
    prices_out |= {f"budget:{c.id}": round(float(p), 6)
                   for c, p in zip(chans, p_bud, strict=True) if p}
    prices_out |= {f"campaign:{k}": round(float(p), 6)
                   for k, p in zip(opts.campaigns, p_camp, strict=True) if p}
    return Allocation(chosen, reason, prices_out)


def _exact(opts: Options, cost: np.ndarray, cap: np.ndarray, bud: np.ndarray,
           camp_bud: np.ndarray) -> np.ndarray | None:
    """The exact integer optimum (None if HiGHS does not prove it within the time limit)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    i, j = np.nonzero(np.isfinite(opts.ev) & (opts.ev > 0))
    a, b = _constraints(i, j, cost, cap, bud, opts.campaign[i], camp_bud, len(opts.ev))
    res = milp(-opts.ev[i, j], constraints=LinearConstraint(a, -np.inf, b),
               integrality=np.ones(len(i)), bounds=Bounds(0, 1),
               options={"time_limit": 30.0, "mip_rel_gap": 1e-6})
    if res.status != 0 or res.x is None:
        return None
    chosen = np.full(len(opts.ev), NO_CHANNEL, dtype=np.int64)
    take = res.x > 0.5
    chosen[i[take]] = j[take]
    return chosen


def _constraints(cust: np.ndarray, chan: np.ndarray, cost: np.ndarray, cap: np.ndarray,
                 bud: np.ndarray, camp: np.ndarray, camp_bud: np.ndarray, n_customers: int
                 ) -> tuple[Any, np.ndarray]:
    """A x <= b: one channel per customer, channel capacity and budget, campaign budget."""
    from scipy.sparse import csr_matrix, vstack

    m = len(cust)
    ones, cols = np.ones(m), np.arange(m)
    k_ch, k_camp = len(cost), len(camp_bud)
    blocks = [csr_matrix((ones, (cust, cols)), shape=(n_customers, m)),
              csr_matrix((ones, (chan, cols)), shape=(k_ch, m)),
              csr_matrix((cost[chan], (chan, cols)), shape=(k_ch, m)),
              csr_matrix((cost[chan], (camp, cols)), shape=(k_camp, m))]
    big = 1e12  # an unlimited budget: a finite bound keeps the problem well posed
    b = np.concatenate([np.ones(n_customers), cap, np.minimum(bud, big),
                        np.minimum(camp_bud, big)])
    return vstack(blocks).tocsr(), b


def _group_cumsum(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running total of ``values`` within each group, in the given order."""
    order = np.argsort(group, kind="stable")
    g, v = group[order], values[order]
    total = np.cumsum(v)
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    offset = np.repeat(total[starts] - v[starts], np.diff(np.r_[starts, len(g)]))
    out = np.empty_like(total)
    out[order] = total - offset
    return out


def _shadow_prices(opts: Options, cost: np.ndarray, cap: np.ndarray, bud: np.ndarray,
                   camp_bud: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dual prices of the coupling constraints from the LP relaxation (on a sample if large)."""
    zeros = (np.zeros(len(cost)), np.zeros(len(cost)), np.zeros(len(camp_bud)))
    n = len(opts.ev)
    step = max(1, -(-n // LP_SAMPLE))
    rows = np.arange(0, n, step)
    frac = len(rows) / n if n else 1.0
    sub = opts.ev[rows]
    i, j = np.nonzero(np.isfinite(sub) & (sub > 0))
    if len(i) == 0:
        return zeros
    solution = solve_lp(sub[i, j], i, j, cost, cap * frac, bud * frac,
                        opts.campaign[rows][i], camp_bud * frac, n_customers=len(rows))
    if solution is None:
        return zeros
    return solution[1]


def solve_lp(ev: np.ndarray, cust: np.ndarray, chan: np.ndarray, cost: np.ndarray,
             cap: np.ndarray, bud: np.ndarray, camp: np.ndarray, camp_bud: np.ndarray, *,
             n_customers: int
             ) -> tuple[float, tuple[np.ndarray, np.ndarray, np.ndarray]] | None:
    """The LP relaxation: its optimum and the shadow prices of capacity, budget, campaign."""
    from scipy.optimize import linprog

    k_ch = len(cost)
    a, b = _constraints(cust, chan, cost, cap, bud, camp, camp_bud, n_customers)
    res = linprog(-ev, A_ub=a, b_ub=b, bounds=(0, 1), method="highs")
    if res.status != 0:
        return None
    duals = -np.asarray(res.ineqlin.marginals)
    o = n_customers
    return (float(-res.fun), (duals[o:o + k_ch], duals[o + k_ch:o + 2 * k_ch],
                              duals[o + 2 * k_ch:]))
