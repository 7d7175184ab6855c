"""Why the allocation moved a customer between channels in a dry-run when no contact policy
did: the channel they had is full or its budget spent in the proposed version (its capacity
or budget changed, or options scored higher took its places), or the channel they get now had
no room before and has now. Said with the limit and, when the change made it, its change."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from engine.project.channels import Channel, budget_contacts

_HIGHER = "options scored higher took its places"
_FEWER = "fewer options scored higher took its places"


@dataclass(frozen=True)
class _Side:
    """A channel on one side: its limits and how many contacts it made."""

    capacity: int
    budget: float | None
    budget_holds: float  # the contacts its budget pays for (inf: no budget)
    contacts: int

    @property
    def full(self) -> bool:
        return self.contacts >= self.capacity

    @property
    def spent(self) -> bool:
        return self.contacts >= self.budget_holds


def _side(spec: Channel | None, contacts: int) -> _Side | None:
    if spec is None:
        return None
    return _Side(spec.capacity, spec.budget, budget_contacts(spec), contacts)


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
    """What moved a customer from ``channel_before`` (or to ``channel_after``), or None."""
    if isinstance(channel_before, str) and channel_before != channel_after:
        was, now = room.get(channel_before, (None, None))
        if was is not None and now is not None:
            if now.full:
                return f"same action; {channel_before} is full " + _why(
                    "capacity", was.capacity, now.capacity, _number, now.contacts)
            if now.spent:
                return f"same action; {channel_before}'s budget is spent " + _why(
                    "budget", was.budget, now.budget, _money, now.contacts)
    if isinstance(channel_after, str) and channel_after != channel_before:
        was, now = room.get(channel_after, (None, None))
        if was is not None and now is not None:
            if was.full and not now.full:
                return f"same action; {channel_after} has room now " + _eased(
                    "capacity", was.capacity, now.capacity, _number)
            if was.spent and not now.spent:
                return f"same action; {channel_after}'s budget has room now " + _eased(
                    "budget", was.budget, now.budget, _money)
    return None


def _why(what: str, was: float | None, now: float | None, show: Callable[[float | None], str],
         contacts: int) -> str:
    if was != now:
        return f"after its {what} changed {show(was)} -> {show(now)}"
    return f"({contacts:,} contacts): {_HIGHER}"


def _eased(what: str, was: float | None, now: float | None,
           show: Callable[[float | None], str]) -> str:
    if was != now:
        return f"after its {what} changed {show(was)} -> {show(now)}"
    return f"({_FEWER})"
