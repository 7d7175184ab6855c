"""Event triggers decided by durable-rules: ``TriggerEngine`` (README "Triggers").

Two durable-rules steps decide, and Python only routes and remembers:

1. the conditions (``event.when`` on the event's fields, ``customer`` on the attributes given
   with the event) are asked through ``engine.policy.matcher``, the very path of the policies;
2. the time patterns run in one durable-rules ruleset per trigger, events *posted* (durable-rules
   event semantics: an event that fires the trigger is consumed by it), one session per customer
   (``sid``). A single trigger is a one-event rule; ``count: N`` a rule of N events, each at or
   after the one before and at most ``within`` after the first; ``unless`` a rule of the
   event, a tick at a later time than the event plus the window, and ``none`` of the awaited
   event inside the window.

Time comes from the events (``at``): an absence is decided when time advances past its window
(``advance(now)``, or a later event of the same customer), never by a clock. Memory is bounded:
an event older than the trigger's window is forgotten (its session is rebuilt from the events
still inside it). The Host's timer threads are not started (we use no durable-rules timer).
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import durable_rules_engine as dre
from durable.engine import Host, MessageNotHandledException

from engine.policy.matcher import Matcher, Source, matcher
from engine.project.triggers import Trigger, Triggers

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
TICK = "$tick"  # the type of the messages that advance time (not a valid event type id)
_NAMES = itertools.count(1)
REBUILD = 1000  # forgotten events a ruleset may hold before it is built afresh


@dataclass(frozen=True)
class Event:
    """One event: ``at`` is naive UTC or timezone-aware; ``fields`` by the event type's names."""

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
    return (EPOCH + dt.timedelta(seconds=seconds)).replace(tzinfo=None)


class _NoTimers(Host):  # type: ignore[misc]
    """durable-rules' Host without its timer threads (no durable-rules timer is used)."""

    def _run(self) -> None:
        return None


@dataclass
class _Live:
    """What one session of one trigger's ruleset holds: (sequence, at, event id, type)."""

    events: list[tuple[int, int, str, str]] = field(default_factory=list)


class TriggerEngine:
    """The triggers of a project, evaluated as events arrive; thread-safe (one lock)."""

    def __init__(self, triggers: Triggers) -> None:
        self.triggers = triggers
        self._lock = threading.Lock()
        self._host = _NoTimers()
        self._names: list[str] = []
        self._fired: list[dict[str, Any]] = []
        self._live: list[dict[str, _Live]] = []
        self._seq = itertools.count(1)
        self.now: int | None = None
        self.rebuilds = 0  # rulesets built afresh to forget old events (for tests)
        self._stale: list[int] = []
        self.late = 0  # events older than every window when they arrived: not evaluated
        rulesets = {}
        for trigger in triggers.triggers:
            name = f"cvmtrigger{next(_NAMES)}"
            self._names.append(name)
            self._live.append({})
            self._stale.append(0)
            rulesets[name] = {"r": {"all": _patterns(trigger), "run": self._record}}
        if rulesets:
            self._host.set_rulesets(rulesets)
        all_triggers = triggers.triggers
        sources = [Source(t.file, t.line, None, f"trigger {t.id!r}") for t in all_triggers]
        self._customer: Matcher | None = matcher(
            "trigger_customers", [t.customer for t in all_triggers], sources) \
            if all_triggers else None
        self._events: dict[str, Matcher] = {}
        for kind in dict.fromkeys(t.event_type for t in all_triggers):
            mine = [t for t in all_triggers if t.event_type == kind]
            self._events[kind] = matcher(f"trigger_events_{kind}", [t.event_when for t in mine])

    def _record(self, c: Any) -> None:  # the durable-rules action: what matched, read back
        found = getattr(c, "_m", None)
        self._fired.append(dict(found) if isinstance(found, dict) else
                           {str(k): m._d for k, m in enumerate(getattr(c, "m", []))})

    # -- the API --------------------------------------------------------------------------

    def post(self, event: Event, customer: Mapping[str, object] | None = None) -> list[Fired]:
        """What the event fires (and the absences of this customer that came due by its time).
        ``customer``: the customer's attributes (None: every attribute missing)."""
        with self._lock:
            at = seconds_of(event.at)
            if self.now is not None and at < self.now - self.triggers.horizon:
                self.late += 1
                return []
            out = self._due(event.customer_id, at)
            holds = self._customer.match_record(customer or {}) if self._customer else set()
            kinds = self._events.get(event.type)
            event_holds = kinds.match_record(event.fields) if kinds is not None else set()
            k = -1
            for i, trigger in enumerate(self.triggers.triggers):
                if trigger.event_type == event.type:
                    k += 1
                    if i in holds and k in event_holds:
                        out += self._post(i, event.customer_id, event.id, event.type, at)
                if trigger.unless == event.type:
                    self._post(i, event.customer_id, event.id, event.type, at)
            self.now = at if self.now is None else max(self.now, at)
            out += self._due(event.customer_id, self.now)
            return out

    def advance(self, now: dt.datetime) -> list[Fired]:
        """The absences that came due by ``now`` for every customer; forgets old events."""
        with self._lock:
            at = seconds_of(now)
            self.now = at if self.now is None else max(self.now, at)
            out: list[Fired] = []
            for sessions in self._live:
                for sid in list(sessions):
                    out += self._due(sid, self.now, sessions_only=sessions)
            return out

    def pending(self) -> int:
        """Events waiting for an absence to be decided (for reports)."""
        with self._lock:
            return sum(1 for i, t in enumerate(self.triggers.triggers) if t.unless
                       for live in self._live[i].values() for e in live.events
                       if e[3] == t.event_type)

    # -- durable-rules --------------------------------------------------------------------

    def _send(self, i: int, sid: str, message: dict[str, Any]) -> list[dict[str, Any]]:
        self._fired = []
        try:
            self._host.post(self._names[i], {"sid": sid, **message})
        except MessageNotHandledException:
            return []
        return self._fired

    def _post(self, i: int, sid: str, event_id: str, kind: str, at: int) -> list[Fired]:
        seq = next(self._seq)
        live = self._live[i].setdefault(sid, _Live())
        live.events.append((seq, at, event_id, kind))
        matched = self._send(i, sid, {"id": f"e{seq}", "k": kind, "at": at})
        return [self._fired_of(i, sid, m) for m in matched]

    def _fired_of(self, i: int, sid: str, matched: dict[str, Any]) -> Fired:
        trigger = self.triggers.triggers[i]
        live = self._live[i][sid]
        messages = _messages(matched)
        used = {m["id"] for m in messages if m.get("k") != TICK}
        by_id = {f"e{seq}": (seq, at, eid, kind) for seq, at, eid, kind in live.events}
        events = sorted((by_id[u] for u in used if u in by_id), key=lambda e: (e[1], e[0]))
        live.events = [e for e in live.events if f"e{e[0]}" not in used]  # consumed
        ids = tuple(e[2] for e in events)
        if trigger.unless is not None:
            when = events[0][1] + trigger.within
            reason = (f"no {trigger.unless} within {_span(trigger.within)} of {trigger.event_type}"
                      f" {ids[0]}")
        else:
            when = events[-1][1]
            reason = (f"{trigger.event_type} {ids[0]}" if trigger.count == 1 else
                      f"{len(ids)} {trigger.event_type} events within "
                      f"{_span(trigger.within)}: " + ", ".join(ids))
        return Fired(trigger.id, sid, time_of(when), trigger.action, trigger.campaign,
                     trigger.channel, trigger.priority,
                     trigger.talking_point or trigger.description, ids, reason)

    def _due(self, sid: str, now: int,
             sessions_only: dict[str, _Live] | None = None) -> list[Fired]:
        """Tick this customer's sessions to ``now`` and forget what no window holds any more."""
        out: list[Fired] = []
        for i, trigger in enumerate(self.triggers.triggers):
            sessions = self._live[i]
            if sessions_only is not None and sessions is not sessions_only:
                continue
            live = sessions.get(sid)
            if live is None:
                continue
            if trigger.unless is not None:
                waiting = sum(1 for e in live.events if e[3] == trigger.event_type
                              and e[1] + trigger.within < now)
                for _ in range(waiting):  # a tick is consumed by the one absence it fires
                    seq = next(self._seq)
                    matched = self._send(i, sid, {"id": f"e{seq}", "k": TICK, "at": now})
                    if not matched:
                        break
                    out += [self._fired_of(i, sid, m) for m in matched]
            self._forget(i, sid, now, waiting=trigger.unless is not None)
        return out

    def _forget(self, i: int, sid: str, now: int, *, waiting: bool) -> None:
        """Forget the events no window holds any more. durable-rules can neither retract an
        event nor reliably delete a session (2.0.28 aborts), so forgotten events stay in the
        ruleset, where they can no longer match, until enough have gathered: then the
        ruleset is built afresh from the events kept (nothing among them fires: it would
        have fired already) and the old one is deleted."""
        trigger = self.triggers.triggers[i]
        live = self._live[i][sid]
        keep = [e for e in live.events if e[1] >= now - trigger.within
                and not (waiting and e[3] == trigger.event_type
                         and e[1] + trigger.within < now)]
        if keep == live.events and keep:
            return
        self._stale[i] += len(live.events) - len(keep) + 1
        if keep:
            live.events = keep
        else:
            del self._live[i][sid]
        kept = sum(len(x.events) for x in self._live[i].values())
        if self._stale[i] > max(REBUILD, kept):
            self._rebuild(i)

    def _rebuild(self, i: int) -> None:
        old = self._names[i]
        self._names[i] = name = f"cvmtrigger{next(_NAMES)}"
        self._host.set_rulesets({name: {"r": {"all": _patterns(self.triggers.triggers[i]),
                                              "run": self._record}}})
        for sid, live in self._live[i].items():
            for seq, at, _, kind in live.events:
                self._send(i, sid, {"id": f"e{seq}", "k": kind, "at": at})
        self._drop(old)
        self._stale[i] = 0
        self.rebuilds += 1

    def _drop(self, name: str) -> None:
        ruleset = self._host._ruleset_directory.pop(name)
        self._host._ruleset_list.remove(ruleset)
        dre.delete_ruleset(ruleset._handle)

    def close(self) -> None:
        """Free the durable-rules rulesets."""
        with self._lock:
            for name in self._names:
                self._drop(name)
            self._names = []


def _messages(matched: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for value in matched.values():
        if isinstance(value, list):
            out += [v for v in value if isinstance(v, dict)]
        elif isinstance(value, dict):
            out.append(value)
    return out


def _patterns(trigger: Trigger) -> list[dict[str, Any]]:
    """The trigger as durable-rules patterns (only the forms its engine handles reliably:
    type tests and tests of ``at`` against an earlier pattern's ``at``)."""
    kind, window = trigger.event_type, trigger.within
    if trigger.unless is not None:
        inside = {"$lte": {"at": {"$add": {"$l": {"a": "at"}, "$r": window}}}}
        return [{"a": {"k": kind}},
                {"t": {"$and": [{"k": TICK},
                                {"$gt": {"at": {"$add": {"$l": {"a": "at"}, "$r": window}}}}]}},
                {"m_2$not": {"$and": [{"k": trigger.unless}, {"$gte": {"at": {"a": "at"}}},
                                      inside]}}]
    out: list[dict[str, Any]] = [{"a0": {"k": kind}}]
    for n in range(1, trigger.count):
        out.append({f"a{n}": {"$and": [
            {"k": kind}, {"$gte": {"at": {f"a{n - 1}": "at"}}},
            {"$lte": {"at": {"$add": {"$l": {"a0": "at"}, "$r": window}}}}]}})
    return out


def _span(seconds: int) -> str:
    if seconds % 86400 == 0 and seconds >= 3 * 86400:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m"
