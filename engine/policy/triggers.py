"""Event triggers decided by durable-rules: ``TriggerEngine`` (README "Triggers").

Two durable-rules steps decide, and Python only routes and remembers:

1. the conditions (``event.when`` on the event's fields, ``customer`` on the attributes given
   with the event) are asked through ``engine.policy.matcher``, the very path of the policies;
2. the time patterns run in durable-rules rulesets of each trigger, events *posted*
   (durable-rules event semantics: the events that fire a trigger are consumed by it), one
   session per customer (``sid``): ``engine.policy.trigger_sessions``. A qualifying event (its
   conditions hold) is posted to its trigger; an event of an ``unless`` type to the triggers
   that await it.

Time comes from the events (``at``): an absence is decided when time passes the end of its
window (``advance(now)``, or a later event of the same customer), never by a clock. Events
older than their trigger's window are forgotten (the rules hold only the events inside the
windows; durable-rules itself keeps the memory of every session it made: README "Triggers").
An event older than a correlated or absence trigger's window when it arrives (``now`` minus
that window: the events it would pair with are forgotten, the absence decided) is *late* for
that trigger: counted, not evaluated by it. A single trigger has no window: an old event
fires it as a new one does.
"""

from __future__ import annotations

import datetime as dt
import heapq
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from engine.policy.matcher import Matcher, Source, matcher
from engine.policy.trigger_sessions import Live, TriggerRules, _NoTimers
from engine.project.triggers import Triggers

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Event:
    """One event: ``at`` naive (UTC) or timezone-aware; ``fields`` by the event type's names."""

    id: str
    customer_id: str
    type: str
    at: dt.datetime
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Fired:
    """A trigger that fired for a customer, and why."""

    trigger_id: str
    customer_id: str
    at: dt.datetime  # the event that completed it, or the end of an absence's window (UTC)
    action: str
    campaign: str | None
    channel: str | None
    priority: int
    description: str  # the trigger's talking point, else its description
    event_ids: tuple[str, ...]  # the events that matched, oldest first
    reason: str  # one line


def seconds_of(at: dt.datetime) -> int:
    """Whole seconds since 1970 (UTC; a naive time is taken as UTC)."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=dt.timezone.utc)
    return int((aware - EPOCH).total_seconds())


def time_of(seconds: int) -> dt.datetime:
    """Naive UTC."""
    return (EPOCH + dt.timedelta(seconds=seconds)).replace(tzinfo=None)


class TriggerEngine:
    """The triggers of a project, evaluated as events arrive; thread-safe (one lock)."""

    def __init__(self, triggers: Triggers,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        """``clock``: the wall clock time never runs ahead of (the service's: an event
        stamped ahead of it keeps its time in its windows but brings no absence due early);
        None: time comes from the events alone (``cvm events``)."""
        self.triggers = triggers
        self._clock = clock
        self._lock = threading.Lock()
        host = _NoTimers()
        self._rules = [TriggerRules(host, t) for t in triggers.triggers]
        self.now: int | None = None
        # (time, customer): from that time on, the customer may have an absence due or an
        # event to forget; so advance() visits only those, not every customer
        self._due_at: list[tuple[int, str]] = []
        self.closed = False
        self.late = 0  # events too old for a trigger's window when they arrived
        found = triggers.triggers
        sources = [Source(t.file, t.line, None, f"trigger {t.id!r}") for t in found]
        self._customer: Matcher | None = (
            matcher("trigger_customers", [t.customer for t in found], sources)
            if found else None)
        self._events: dict[str, tuple[list[int], Matcher]] = {}
        for kind in dict.fromkeys(t.event_type for t in found):
            mine = [i for i, t in enumerate(found) if t.event_type == kind]
            self._events[kind] = (mine, matcher(
                f"trigger_events_{kind}", [found[i].event_when for i in mine],
                [sources[i] for i in mine]))

    @property
    def rebuilds(self) -> int:
        """Rulesets built afresh to forget events (for tests)."""
        return sum(r.rebuilds for r in self._rules)

    def post(self, event: Event, customer: Mapping[str, object] | None = None) -> list[Fired]:
        """What the event fires, and the absences of this customer that came due by its
        time. ``customer``: the customer's attributes (None: every attribute missing)."""
        found = self.post_late(event, customer)
        return [] if found is None else found[0]

    def post_late(self, event: Event, customer: Mapping[str, object] | None = None
                  ) -> tuple[list[Fired], tuple[str, ...]] | None:
        """``post``, and the triggers the event came too late for (older than their window
        before the latest time seen); None once closed."""
        with self._lock:
            if self.closed:
                return None
            at = seconds_of(event.at)
            late: list[str] = []
            who = event.customer_id
            out = self._due(who, self._capped(at))
            qualified: set[int] = set()
            if event.type in self._events:
                mine, asked = self._events[event.type]
                kinds = asked.match_record(event.fields)
                assert self._customer is not None
                holds = self._customer.match_record(customer or {})
                qualified = {i for k, i in enumerate(mine) if k in kinds and i in holds}
            live: Live = (at, event.id, event.type)
            for i, rules in enumerate(self._rules):
                if i in qualified or rules.trigger.unless == event.type:
                    if not rules.single and self.now is not None and \
                            at < self.now - rules.trigger.within:
                        late.append(rules.trigger.id)
                        continue
                    out += [self._fired(i, who, e) for e in rules.post(who, live)]
                    heapq.heappush(self._due_at, (at + rules.trigger.within + 1, who))
            self.late += bool(late)
            at = self._capped(at)
            self.now = at if self.now is None else max(self.now, at)
            return out + self._due(who, self.now), tuple(late)

    def advance(self, now: dt.datetime) -> list[Fired]:
        """The absences that came due by ``now``, for every customer; forgets old events."""
        with self._lock:
            if self.closed:
                return []
            at = self._capped(seconds_of(now))
            self.now = at if self.now is None else max(self.now, at)
            due: set[str] = set()
            while self._due_at and self._due_at[0][0] <= self.now:
                due.add(heapq.heappop(self._due_at)[1])
            out: list[Fired] = []
            for customer in sorted(due):
                out += self._due(customer, self.now)
            return out

    def pending(self) -> int:
        """Events whose absence is not decided yet (for reports)."""
        with self._lock:
            return sum(1 for r in self._rules if r.trigger.unless
                       for events in r.live.values() for e, _ in events
                       if e[2] == r.trigger.event_type)

    def close(self) -> None:
        """Free the durable-rules rulesets."""
        with self._lock:
            if not self.closed:
                for rules in self._rules:
                    rules.close()
            self.closed = True

    @contextmanager
    def held_at(self, until: dt.datetime) -> Iterator[None]:
        """Time held at ``until`` at most, meanwhile (a replay of the history up to the last
        moment the service ran: an event stamped ahead of it keeps its time in its windows,
        but decides no absence that came due after it)."""
        clock = self._clock
        self._clock = (lambda: min(until, clock())) if clock is not None else (lambda: until)
        try:
            yield
        finally:
            self._clock = clock

    def _capped(self, at: int) -> int:
        return at if self._clock is None else min(at, seconds_of(self._clock()))

    def _due(self, customer: str, now: int) -> list[Fired]:
        out: list[Fired] = []
        for i, rules in enumerate(self._rules):
            if customer not in rules.live:
                continue
            if rules.trigger.unless is not None:
                out += [self._fired(i, customer, e) for e in rules.tick(customer, now)]
            rules.forget(customer, now)
        return out

    def _fired(self, i: int, customer: str, events: list[Live]) -> Fired:
        trigger = self.triggers.triggers[i]
        ids = tuple(e[1] for e in events)
        if trigger.unless is not None:
            when = events[0][0] + trigger.within
            reason = (f"no {trigger.unless} within {span(trigger.within)} of "
                      f"{trigger.event_type} {ids[0]}")
        else:
            when = events[-1][0]
            reason = (f"{trigger.event_type} {ids[0]}" if trigger.count == 1 else
                      f"{len(ids)} {trigger.event_type} events within "
                      f"{span(trigger.within)}: " + ", ".join(ids))
        return Fired(trigger.id, customer, time_of(when), trigger.action, trigger.campaign,
                     trigger.channel, trigger.priority,
                     trigger.talking_point or trigger.description, ids, reason)


def span(seconds: int) -> str:
    """A window as written: 7d, 48h, 90m."""
    if seconds % 86400 == 0 and seconds >= 3 * 86400:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m"
