"""``cvm explain``'s last part: what the run does with the customer's action now, as ``cvm run``
allocates it among every customer (README "Allocation"): allocated on a channel, held out,
suppressed or not served, with the action list's reason, and why that channel: each channel
of the policy with its expected value, the priced use of the limits and the score the walk
orders options by, or what ruled it out (service level, consent, a contact policy, worth),
and for an option with a higher score than the one taken, the limit that stopped it (the
state of the limit once the walk is over: limits only tighten)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from engine.activation import money
from engine.activation.allocate import Options
from engine.activation.budget_words import rounded_over
from engine.decimals import fixed
from engine.project.channels import Channel
from engine.render.figures import price
from engine.run.pipeline import Computed, allocation_summary, options_of
from engine.words import counted


@dataclass(frozen=True)
class Option:
    channel: str
    response: float | None  # expected response (None: not an option)
    expected_value: float | None
    price: float | None  # priced use of the limits: the shadow prices' cost of the contact
    score: float | None
    note: str  # allocated, or why not


def _two(value: float | None) -> str:
    """A figure to two decimals, half up as the files are (none: empty)."""
    return "" if value is None else fixed(value, 2)


@dataclass(frozen=True)
class AllocationView:
    status: str | None  # None: no action to allocate
    campaign: str | None
    channel: str | None
    reason: str | None  # the action list's reason (allocated: the policy); None: no action
    cost: float | None
    expected_value: float | None
    expected_response: float | None
    value_at_stake: float | None
    value_column: str | None
    relationship_factor: float | None  # 1 + relationship_weight x the channel's strength
    options: tuple[Option, ...]
    limits: tuple[str, ...]  # the state of the channels' and campaign's limits after the walk
    customers: int | None  # customers with an action in the run (None: not decided)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "campaign": self.campaign, "channel": self.channel,
                "reason": self.reason, "cost": self.cost,
                "expected_value": self.expected_value,
                "expected_response": self.expected_response,
                "value_at_stake": self.value_at_stake, "value_column": self.value_column,
                "relationship_factor": self.relationship_factor,
                "options": [vars(o) for o in self.options], "limits": list(self.limits)}

    def lines(self, currency: str) -> list[str]:
        head = ["", "Allocation, as cvm run allocates now" + (
            "" if self.customers is None
            else f" ({counted(self.customers, 'customer')} with an action)")]
        if self.status is None:
            return [*head, "  none: the decision is no action"]
        status = f"{self.status} on {self.channel}" if self.channel else self.status
        out = [*head, f"  status         {status}" if self.status == "allocated" else
               f"  status         {status}: {self.reason}"]
        if self.status == "allocated" and self.cost is not None:
            # the option's exact figure rounded once, as the options below show it (the
            # action list's is written to 4 decimals: 7.47499 is 7.475 there, 7.47 here)
            value = next((o.expected_value for o in self.options if o.channel == self.channel
                          and o.expected_value is not None), self.expected_value)
            out.append(f"  cost           {currency} {price(self.cost)} (per contact)")
            out.append(f"  expected value {currency} {_two(value)}: value at "
                       f"stake {_two(self.value_at_stake)} ({self.value_column}) x expected "
                       "response "
                       f"{self.expected_response:.4f} x relationship factor "
                       f"{self.relationship_factor:g}, less the cost {price(self.cost)}")
        if self.status == "holdout" or not self.options:
            return out
        out.append("  options (the walk takes every customer's options in order of score: "
                   "expected value less the priced use of the limits)")
        width = max(len(o.channel) for o in self.options)
        for o in self.options:
            figures = (f"response {o.response:.4f}  value {_two(o.expected_value)}  "
                       f"price {_two(o.price)}  score {_two(o.score)}"
                       if o.score is not None else "")
            out.append(f"    {o.channel:<{width}}  {figures}{'  ' if figures else ''}{o.note}")
        out.append("  limits after the walk")
        out += [f"    {line}" for line in self.limits]
        return out


# a customer whose decision is no action: nothing to allocate (the others not decided)
NOTHING = AllocationView(None, None, None, None, None, None, None, None, None, None, (), (), None)


def allocation_view(computed: Computed, customer_id: str) -> AllocationView:
    """The customer's allocation in ``computed`` (a run's computation, every customer)."""
    acts = computed.actions
    setup = computed.setup.channels
    found = np.flatnonzero(acts["customer_id"].to_numpy(dtype=object) == customer_id)
    if not len(found):
        return replace(NOTHING, customers=len(acts))
    row = acts.iloc[int(found[0])]
    camp = str(row["campaign"])
    spec = setup.campaign(camp)
    status = str(row["status"])
    allocated = status == "allocated"
    chosen = str(row["channel"]) if allocated else None
    opts = options_of(computed, customer_id) if status != "holdout" else None
    done = acts[acts["status"] == "allocated"]
    walked = str(row["reason"]) if status == "not_served" else None
    options = _options(computed, customer_id, opts, chosen, done, camp, walked) if opts else ()
    limits = _limits(computed, [o.channel for o in options], camp) if options else []
    return AllocationView(  # the action list's row as it is, every status alike
        status, camp, chosen, str(row["reason"]), float(row["cost"]),
        float(row["expected_value"]), float(row["expected_response"]),
        float(row["value_at_stake"]), spec.value_at_stake,
        1.0 + setup.relationship_weight * setup.channel(chosen).relationship_strength
        if chosen else None, options, tuple(limits), len(acts))


def _limits(computed: Computed, channels: list[str], camp: str) -> list[str]:
    """The channels' and the campaign's use of their limits, as allocation_summary.csv says."""
    summary = allocation_summary(computed.actions, computed.setup.channels)
    lines = []
    for r in summary.itertuples():
        if r.level == "channel" and r.channel in channels:
            text = f"{r.channel}: {r.contacts:,} of {r.capacity:,} contacts"
            lines.append(text + (f", {r.cost:,.2f} of its budget {r.budget:,.2f} spent"
                                 + rounded_over(r.cost, r.budget, r.budget_used_share)
                                 if r.budget == r.budget and r.budget is not None else ""))
        elif r.level == "campaign" and r.campaign == camp and r.budget == r.budget and \
                r.budget is not None:
            lines.append(f"campaign {camp}: {r.cost:,.2f} of its budget {r.budget:,.2f} spent"
                         + rounded_over(r.cost, r.budget, r.budget_used_share))
    return lines


def _options(computed: Computed, customer_id: str, opts: Options, chosen: str | None,
             done: Any, camp: str, walked: str | None) -> tuple[Option, ...]:
    """``walked``: a customer left without a channel, the walk's reason (what blocked their
    best option when its turn came)."""
    setup = computed.setup.channels
    alloc = computed.allocation
    prices = alloc.walked if alloc is not None else {}
    row = computed.table.loc[computed.table["customer_id"] == customer_id].iloc[0]
    dec = computed.decisions.loc[computed.decisions["customer_id"] == customer_id].iloc[0]
    level = str(dec["service_level"])
    listed = [x for x in str(dec["channels"]).split("|") if x]
    blocked = computed.blocked
    hit = np.zeros(len(setup.channels), dtype=bool)
    if blocked is not None:
        at = np.flatnonzero(blocked.customer_id == customer_id)
        if len(at):
            hit = blocked.channels[int(at[0])]
    index = {ch.id: j for j, ch in enumerate(setup.channels)}
    scored: list[tuple[Option, float, float, int]] = []  # the walk's order: score, use, pref
    ruled_out: list[Option] = []
    for name in listed:
        if name not in index:
            continue
        j, ch = index[name], setup.channels[index[name]]
        ev = float(opts.ev[0, j])
        if level not in ch.service_levels:
            ruled_out.append(Option(name, None, None, None, None,
                                    f"does not serve service level {level}"))
        elif ch.consent is not None and not _true(row.get(ch.consent)):
            ruled_out.append(Option(name, None, None, None, None,
                                    f"no consent ({ch.consent} is not true)"))
        elif hit[j]:
            ruled_out.append(Option(name, None, None, None, None,
                                    "blocked by a contact policy (above)"))
        elif not np.isfinite(ev):
            ruled_out.append(Option(name, None, None, None, None, "not an option"))
        else:
            price = _price(prices, ch, camp)
            score = round(ev - price, 6)
            scored.append((Option(name, float(opts.response[0, j]), ev, price, score, ""),
                           -score, price, int(opts.pref[0, j])))
    scored.sort(key=lambda x: x[1:])
    taken = next((x[1:] for x in scored if x[0].channel == chosen), None)
    out: list[Option] = []
    for option, *key in scored:
        ch = setup.channels[index[option.channel]]
        if option.channel == chosen:
            note = "<- allocated"
        elif option.expected_value is not None and option.expected_value <= 0:
            note = "not worth a contact: expected value not above 0"
        elif taken is None and walked is not None and not out:  # the walk's own words
            note = f"not taken: {walked}"
        elif taken is None or tuple(key) < taken:  # before the one taken in the walk's order
            note = "not taken: no room when its turn came" + _stopped(ch, done, camp, computed)
            if taken is not None and -key[0] == -taken[0]:
                note = "the same score as the channel allocated, and first in the walk's " \
                    "order; " + note
        elif -key[0] == -taken[0]:
            note = "the same score as the channel allocated: " + (
                "the option using less of the priced limits comes first" if key[1] != taken[1]
                else "the preferred channel comes first")
        else:
            note = "lower score than the channel allocated"
        if key[2] < len(setup.channels):  # the customer's preferred channel (README "Allocation")
            note += f" (the preferred channel: response x {setup.preference_lift:g})"
        out.append(Option(option.channel, option.response, option.expected_value,
                          option.price, option.score, note))
    return (*out, *ruled_out)


def _true(value: Any) -> bool:
    """A consent as the allocation reads it: missing is no."""
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and \
        bool(value)


def _price(prices: dict[str, float], ch: Channel, camp: str) -> float:
    """The priced use of the limits of one contact on ``ch`` for campaign ``camp``, as the
    walk computed it (engine.activation.allocate: rounded to millionths)."""
    return round(prices.get(f"channel:{ch.id}", 0.0)
                 + prices.get(f"campaign:{camp}", 0.0) * ch.cost_per_contact, 6)


def _stopped(ch: Channel, done: Any, camp: str, computed: Computed) -> str:
    """The limits of the option with no room once the walk is over (limits only tighten: one
    of them stopped it; which one, at its turn, the walk does not keep for a customer it
    served)."""
    on = done[done["channel"] == ch.id]
    cost = money.units([ch.cost_per_contact])
    full = []
    if len(on) >= ch.capacity:
        full.append(f"{ch.id} full, {len(on):,} of {ch.capacity:,} contacts")
    if ch.budget is not None and money.units(on["cost"]) + cost > money.units([ch.budget]):
        full.append(f"{ch.id}'s budget short of a contact at {ch.cost_per_contact:g}")
    budget = computed.setup.channels.campaign(camp).budget
    spent = money.units(done.loc[done["campaign"] == camp, "cost"])
    if budget is not None and spent + cost > money.units([budget]):
        full.append(f"campaign {camp}'s budget short of a contact at {ch.cost_per_contact:g}")
    return f" (after the walk: {'; '.join(full)})" if full else ""
