"""Why the allocation moved a customer between channels in a dry-run when no contact policy
did: the channel they had is full or its budget spent in the proposed version (its capacity
or budget changed, or options scored higher took its places), or its limit was lowered and the
allocation prices its places higher though they are not all taken, or the channel they get now
had no room before and has now. Said with the limit and, when the change made it, its
change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from engine.plan.diff import by_id
from engine.project.channels import Channel, ChannelSetup, budget_contacts

_HIGHER = "options scored higher took its places"
_FEWER = "fewer options scored higher took its places"
# a limit lowered but not used up: the walk's price of a scarce channel's places rose
_PRICED = "its places are priced higher"


@dataclass(frozen=True)
class _Side:
    """A channel on one side: its limits and how many contacts it made."""

    capacity: int
    budget: float | None
    budget_holds: float  # the contacts its budget pays for (inf: no budget)
    contacts: int
    cost: float = 0.0  # per contact: with the budget, what it pays for

    @property
    def full(self) -> bool:
        return self.contacts >= self.capacity

    @property
    def spent(self) -> bool:
        return self.contacts >= self.budget_holds


def _side(spec: Channel | None, contacts: int) -> _Side | None:
    if spec is None:
        return None
    return _Side(spec.capacity, spec.budget, budget_contacts(spec), contacts,
                 spec.cost_per_contact)


def _budget_change(was: _Side, now: _Side) -> str:
    """What changed the contacts a channel's budget pays for: the budget, the cost of a
    contact, or both."""
    said = []
    if was.budget != now.budget:
        said.append(f"budget changed {_money(was.budget)} -> {_money(now.budget)}")
    if was.cost != now.cost:
        said.append(f"cost_per_contact changed {was.cost:g} -> {now.cost:g}")
    return " and ".join(said) or "budget changed"


def _number(v: float | None) -> str:
    return "none" if v is None else f"{int(v):,}"


def _money(v: float | None) -> str:
    return "none" if v is None else f"{v:,.2f}"


def rooms(before: Mapping[str, Channel], after: Mapping[str, Channel],
          used: pd.DataFrame) -> dict[str, tuple[_Side | None, _Side | None]]:
    """Each channel's limits and use on both sides (``used``: engine.plan.dry_run's channel
    table, with ``contacts_before`` and ``contacts_after``)."""
    return {r.channel: (_side(before.get(r.channel), int(r.contacts_before)),
                        _side(after.get(r.channel), int(r.contacts_after)))
            for r in used.itertuples()}


def moved_by_room(channel_before: object, channel_after: object,
                  room: Mapping[str, tuple[_Side | None, _Side | None]]) -> str | None:
    """What moved a customer from ``channel_before`` to ``channel_after``, or None: first a
    change of the limits (the channel left full after its limit was lowered, the channel
    taken with room after its limit was raised), then the competition for unchanged limits
    (the channel left full, the channel taken no longer full)."""
    left = _sides(room, channel_before, channel_after)
    taken = _sides(room, channel_after, channel_before)
    if left is not None:  # the channel left binds after its limit was lowered
        was, now = left
        if now.full and now.capacity < was.capacity:
            return f"same action; {channel_before} is full after its capacity changed " \
                f"{_number(was.capacity)} -> {_number(now.capacity)}"
        if now.spent and now.budget_holds < was.budget_holds:
            return f"same action; {channel_before}'s budget is spent after its " \
                f"{_budget_change(was, now)}"
    if taken is not None:  # the channel taken had its limit raised
        was, now = taken
        # (full before or not: the allocation prices a scarce channel's last places too)
        if now.capacity > was.capacity:
            return f"same action; {channel_after} has room now after its capacity changed " \
                f"{_number(was.capacity)} -> {_number(now.capacity)}"
        if now.budget_holds > was.budget_holds:
            return f"same action; {channel_after}'s budget has room now after its " \
                f"{_budget_change(was, now)}"
    if left is not None:  # lowered, not used up: the allocation prices its places higher
        was, now = left
        if now.capacity < was.capacity:
            return f"same action; {channel_before}'s capacity changed " \
                f"{_number(was.capacity)} -> {_number(now.capacity)}: {_PRICED} " \
                f"({now.contacts:,} of {now.capacity:,} places taken)"
        if now.budget_holds < was.budget_holds:
            return f"same action; {channel_before}'s {_budget_change(was, now)}: {_PRICED} " \
                f"({now.contacts:,} contacts of the {_number(now.budget_holds)} its budget " \
                "pays for)"
    if left is not None:  # the same limits, or raised: others took the places
        was, now = left
        if now.full:
            return f"same action; {channel_before} is full ({now.contacts:,} contacts): " \
                f"{_HIGHER}"
        if now.spent:
            return f"same action; {channel_before}'s budget is spent ({now.contacts:,} " \
                f"contacts): {_HIGHER}"
    if taken is not None:
        was, now = taken
        if was.full and not now.full:
            return f"same action; {channel_after} has room now ({_FEWER})"
        if was.spent and not now.spent:
            return f"same action; {channel_after}'s budget has room now ({_FEWER})"
    return None


def _sides(room: Mapping[str, tuple[_Side | None, _Side | None]], channel: object,
           other: object) -> tuple[_Side, _Side] | None:
    """Both sides of ``channel`` when the customer moved off or onto it (``other`` the channel
    at the other end) and it exists on both sides; else None."""
    if not isinstance(channel, str) or channel == other:
        return None
    was, now = room.get(channel, (None, None))
    return (was, now) if was is not None and now is not None else None


def moved_by_campaign(campaign: object, before: Mapping[str, float | None],
                      after: Mapping[str, float | None]) -> str | None:
    """A customer the allocation moved between channels whose campaign's budget changed (and
    no channel limit says why): the campaign's budget, lowered or raised, or None."""
    if not isinstance(campaign, str) or campaign not in before or campaign not in after:
        return None
    was, now = before[campaign], after[campaign]
    if was == now:
        return None
    moved = "lowered" if now is not None and (was is None or now < was) else "raised"
    return (f"same action; campaign {campaign}'s budget {moved}: {_money(was)} -> "
            f"{_money(now)}")


def terms_changed(row: Mapping[str, object], before: ChannelSetup,
                  after: ChannelSetup) -> str | None:
    """For a customer kept on the same channel whose cost or expected figures changed: the
    settings that price the contact that changed (the channel's cost, response rate and
    relationship strength, the relationship weight, the campaign's value at stake), or
    None."""
    channel, campaign = row["channel_after"], row["campaign_after"]
    if not isinstance(channel, str) or channel != row["channel_before"]:
        return None
    was, now = by_id(before.channels).get(channel), by_id(after.channels).get(channel)
    said = []
    if was is not None and now is not None:
        said += [f"{channel}'s {f} {getattr(was, f):g} -> {getattr(now, f):g}"
                 for f in ("cost_per_contact", "response_rate", "relationship_strength")
                 if getattr(was, f) != getattr(now, f)]
    if before.relationship_weight != after.relationship_weight:
        said.append(f"relationship_weight {before.relationship_weight:g} -> "
                    f"{after.relationship_weight:g}")
    if isinstance(campaign, str) and campaign == row["campaign_before"]:
        stake_b = before.campaign(campaign).value_at_stake
        stake_a = after.campaign(campaign).value_at_stake
        if stake_b != stake_a:
            said.append(f"campaign {campaign}'s value_at_stake {stake_b} -> {stake_a}")
    return "; ".join(said) or None
