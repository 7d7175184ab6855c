"""One trigger's time pattern in durable-rules: rulesets, sessions, posting and forgetting.

durable-rules 2.0.28 behaviours designed around (each found by a test or a stress run):

- A ruleset holds at most 1,024 sessions (``MAX_STATE_INDEX_LENGTH``); the next one fails and
  later posts crash. Sessions are keyed by a 32-bit hash of ``sid``. So a customer gets a
  session *slot* (``sid`` "0" ... "999") in one of the trigger's rulesets (*shards*), and a
  full shard is built afresh with the customers that still have events, or a new shard opened.
- ``delete_state`` crashes on a session holding a partial match: a session is never deleted,
  and ``delete_ruleset`` does not free the sessions of a ruleset (about 95 KB each). A
  customer whose events are all forgotten leaves its slot (never reused by another customer:
  its old events would meet theirs) until the shard is built afresh. A single trigger (no
  count, no unless) needs no session per customer: all share one.
- An event cannot be retracted: forgotten events stay in their session, where their times no
  longer match anything, until the shard is built afresh (after ``REBUILD`` of them, or as
  many as it still needs).
- Message ids are hashed to 32 bits per session and a repeated hash is ignored as "already
  observed": ids are a session's own counter ("1", "2", ...), whose first ``IDS`` values have
  distinct hashes (checked by a test); the shard is built afresh before a session passes it.
- Rules of four or more correlated events crashed under a stress test (the beta network):
  ``count`` is at most 3 (engine.project.triggers). The patterns use only type tests and tests
  of ``at`` against an earlier pattern's ``at`` (with ``$add``), the forms that ran clean.
- The Host's timer threads are not started (no durable-rules timer is used); its actions are
  plain Python callables that record what matched.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import durable_rules_engine as dre
from durable.engine import Host, MessageNotHandledException

from engine.project.triggers import Trigger

TICK = "$tick"  # the type of the messages that advance time (not a valid event type id)
SESSIONS = 1000  # per ruleset (durable-rules holds 1,024)
REBUILD = 1000  # forgotten events a shard may hold before it is built afresh
IDS = 1 << 19  # message ids per session before the shard is built afresh (the first collision
#                of FNV-1a among "1", "2", ... is at 797,186)
_NAMES = itertools.count(1)

Live = tuple[int, str, str]  # (at in seconds, event id, type)


class _NoTimers(Host):  # type: ignore[misc]
    """durable-rules' Host without its timer threads."""

    def _run(self) -> None:
        return None


@dataclass(eq=False)
class _Shard:
    name: str
    slots: int = 0  # sids handed out: "0" ... str(slots - 1)
    stale: int = 0  # forgotten events still inside
    ids: dict[str, int] = field(default_factory=dict)  # sid -> last message id
    held: int = 0  # live events of its customers
    customers: int = 0  # customers holding a slot


class TriggerRules:
    """The rulesets of one trigger and the events each customer still has in them."""

    def __init__(self, host: _NoTimers, trigger: Trigger) -> None:
        self.host = host
        self.trigger = trigger
        self.shards: list[_Shard] = []
        self.where: dict[str, tuple[_Shard, str]] = {}  # customer -> shard, sid
        self.live: dict[str, list[tuple[Live, str]]] = {}  # customer -> (event, message id)
        self.rebuilds = 0
        # a single event fires at once and is consumed: no session of its own is needed
        self.single = trigger.count == 1 and trigger.unless is None
        self._matched: list[dict[str, Any]] = []

    # -- posting --------------------------------------------------------------------------

    def post(self, customer: str, event: Live) -> list[list[Live]]:
        """Post one event; the events of each match it completed (oldest first)."""
        shard, sid = self._session(customer)
        mid = self._next_id(shard, sid)
        self.live.setdefault(customer, []).append((event, mid))
        shard.held += 1
        return self._send(customer, shard, sid, mid, event[2], event[0])

    def tick(self, customer: str, now: int) -> list[list[Live]]:
        """Advance a customer's session to ``now``: the absences that came due."""
        waiting = sum(1 for (at, _, kind), _ in self.live.get(customer, ())
                      if kind == self.trigger.event_type and at + self.trigger.within < now)
        out: list[list[Live]] = []
        for _ in range(waiting):  # a tick is consumed by the one absence it fires
            shard, sid = self._session(customer)
            found = self._send(customer, shard, sid, self._next_id(shard, sid), TICK, now)
            if not found:
                break
            out += found
        return out

    def _send(self, customer: str, shard: _Shard, sid: str, mid: str, kind: str,
              at: int) -> list[list[Live]]:
        self._matched = []
        try:
            self.host.post(shard.name, {"sid": sid, "id": mid, "k": kind, "at": at})
        except MessageNotHandledException:
            return []
        held = self.live.get(customer, [])
        by_mid = {m: e for e, m in held}
        arrival = {m: k for k, (_, m) in enumerate(held)}
        out = []
        for matched in self._matched:
            used = {m["id"] for m in _messages(matched) if m.get("k") != TICK}
            # by time, then as they arrived (events of one second): never a set's order
            events = [by_mid[u] for u in sorted((u for u in used if u in by_mid),
                                                key=lambda u: (by_mid[u][0], arrival[u]))]
            before = len(self.live[customer])
            self.live[customer] = [(e, m) for e, m in self.live[customer] if m not in used]
            shard.held -= before - len(self.live[customer])
            out.append(events)
        return out

    def _record(self, c: Any) -> None:  # the durable-rules action: what matched, read back
        found = getattr(c, "_m", None)
        self._matched.append(dict(found) if isinstance(found, dict) else
                             {str(k): m._d for k, m in enumerate(getattr(c, "m", []))})

    # -- sessions -------------------------------------------------------------------------

    def _session(self, customer: str) -> tuple[_Shard, str]:
        if self.single:  # nothing to correlate: every customer shares one session
            shard = self.shards[0] if self.shards else self._new_shard()
            if shard.ids.get("0", 0) + 2 * SESSIONS >= IDS:
                shard = self._rebuild(shard)
            return shard, "0"
        found = self.where.get(customer)
        if found is not None:
            if found[0].ids.get(found[1], 0) + 2 * SESSIONS < IDS:
                return found
            self._rebuild(found[0])  # renumbers every session of the shard
            return self.where[customer]
        last = self.shards[-1] if self.shards else None
        if last is not None and last.slots >= SESSIONS:
            last = self._rebuild(last) if last.customers <= SESSIONS // 2 else None
        shard = last if last is not None else self._new_shard()
        sid = str(shard.slots)
        shard.slots += 1
        shard.customers += 1
        self.where[customer] = (shard, sid)
        return shard, sid

    def _next_id(self, shard: _Shard, sid: str) -> str:
        number = shard.ids.get(sid, 0) + 1
        shard.ids[sid] = number
        return str(number)

    def _new_shard(self) -> _Shard:
        shard = _Shard(f"cvmtrigger{next(_NAMES)}")
        self.host.set_rulesets({shard.name: {"r": {"all": patterns(self.trigger),
                                                   "run": self._record}}})
        self.shards.append(shard)
        return shard

    def forget(self, customer: str, now: int) -> None:
        """Forget the customer's events no window holds any more (an absence's event once its
        window has passed: it fired or was answered)."""
        events = self.live.get(customer)
        if events is None:
            return
        within, absence = self.trigger.within, self.trigger.unless is not None
        keep = [(e, m) for e, m in events if e[0] >= now - within
                and not (absence and e[2] == self.trigger.event_type and e[0] + within < now)]
        if len(keep) == len(events) and keep:
            return
        shard, _ = self._session(customer) if self.single else self.where[customer]
        shard.stale += len(events) - len(keep)
        shard.held -= len(events) - len(keep)
        if keep:
            self.live[customer] = keep
        else:
            del self.live[customer]
            if self.where.pop(customer, None) is not None:  # not reused before a rebuild
                shard.customers -= 1
        if shard.stale > max(REBUILD, shard.held):
            self._rebuild(shard)

    def _rebuild(self, old: _Shard) -> _Shard:
        """The shard built afresh from its customers' live events; the old one deleted."""
        shard = _Shard(f"cvmtrigger{next(_NAMES)}")
        self.host.set_rulesets({shard.name: {"r": {"all": patterns(self.trigger),
                                                   "run": self._record}}})
        self.shards[self.shards.index(old)] = shard
        for customer in [c for c, (s, _) in self.where.items() if s is old]:
            sid = str(shard.slots)
            shard.slots += 1
            shard.customers += 1
            shard.held += len(self.live.get(customer, ()))
            self.where[customer] = (shard, sid)
            renumbered = []
            for event, _ in self.live.get(customer, ()):
                mid = self._next_id(shard, sid)
                renumbered.append((event, mid))
            self.live[customer] = renumbered
            for event, mid in renumbered:  # nothing among them fires: it would have already
                self._send(customer, shard, sid, mid, event[2], event[0])
        self._drop(old)
        self.rebuilds += 1
        return shard

    def _drop(self, shard: _Shard) -> None:
        ruleset = self.host._ruleset_directory.pop(shard.name)
        self.host._ruleset_list.remove(ruleset)
        dre.delete_ruleset(ruleset._handle)

    def close(self) -> None:
        for shard in self.shards:
            self._drop(shard)
        self.shards = []


def _messages(matched: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for value in matched.values():
        if isinstance(value, list):
            out += [v for v in value if isinstance(v, dict)]
        elif isinstance(value, dict):
            out.append(value)
    return out


def patterns(trigger: Trigger) -> list[dict[str, Any]]:
    """The trigger as durable-rules patterns: a single event; ``count`` events, each at or
    after the one before and at most ``within`` after the first; or the event, a tick later
    than its window, and no awaited event inside the window (``none``, written ``$not``)."""
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
