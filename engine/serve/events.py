"""The one place the service meets the event triggers (``triggers/*.yaml``, decided by
durable-rules in ``engine.policy.triggers.TriggerEngine``): ``post`` an event with the
customer's attributes, ``advance`` the clock for the triggers that wait on an absence ("no
callback within 48 hours"). Both give the fired actions as JSON-ready dicts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from engine.policy.triggers import Event, Fired, TriggerEngine
from engine.project.project import Project

Past = tuple[str, str, str, dt.datetime, Mapping[str, Any]]  # id, customer, type, at, fields


class Triggers:
    """The project's trigger engine; none when the project declares no trigger."""

    def __init__(self, project: Project) -> None:
        self.declared = project.triggers
        self.count = len(self.declared.triggers)
        # time never runs ahead of the wall clock (events may be stamped up to the allowed
        # skew ahead of it)
        self.engine = TriggerEngine(self.declared, clock=_utc_now) if self.declared.triggers \
            else None

    @property
    def event_types(self) -> Mapping[str, Mapping[str, str]]:
        """Event type -> field -> number, text or boolean (built-in and declared)."""
        return self.declared.event_types

    def post(self, event_id: str, customer_id: str, kind: str, at: dt.datetime,
             fields: Mapping[str, Any], attributes: Mapping[str, Any] | None
             ) -> tuple[list[dict[str, Any]], tuple[str, ...]] | None:
        """The actions the event fires, and the triggers it came too late for (older than
        their window before the latest time seen); None once closed (replaced by a reload:
        post to the new one). ``attributes`` None: a customer not in the run."""
        if self.engine is None:
            return [], ()
        found = self.engine.post_late(Event(id=event_id, customer_id=customer_id, type=kind,
                                            at=at, fields=dict(fields)),
                                      None if attributes is None else dict(attributes))
        if found is None:
            return None
        return [fired_dict(f) for f in found[0]], found[1]

    @property
    def window(self) -> int:
        """Seconds of events the correlated and absence triggers may still need (0: none)."""
        return max((t.within for t in self.declared.triggers
                    if t.count > 1 or t.unless is not None), default=0)

    def replay(self, past: Iterable[Past], attributes: Callable[[str], Mapping[str, Any] | None],
               alive_until: dt.datetime, now: dt.datetime) -> list[dict[str, Any]]:
        """Feed the events of the last ``window`` back (oldest first) so the windows hold
        what they held before a restart or a change of triggers. What they fire was decided
        then, and is neither returned nor recorded again; so are the absences that came due
        by ``alive_until`` (the last moment the service is known to have run). The absences
        that came due since, while nothing ran to decide them, are returned: once."""
        if self.engine is None:
            return []
        with self.engine.held_at(alive_until):  # an event stamped ahead of it: its own time
            for event_id, customer_id, kind, at, fields in past:
                self.engine.advance(at)
                self.engine.post(Event(id=event_id, customer_id=customer_id, type=kind, at=at,
                                       fields=dict(fields)), attributes(customer_id))
            self.engine.advance(alive_until)
        return [fired_dict(f) for f in self.engine.advance(now)]

    def advance(self, now: dt.datetime) -> list[dict[str, Any]]:
        if self.engine is None:
            return []
        return [fired_dict(f) for f in self.engine.advance(now)]

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def fired_dict(fired: Fired) -> dict[str, Any]:
    """A fired action (the trigger engine's frozen dataclass) as JSON-ready fields."""
    raw = dataclasses.asdict(fired)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, (tuple, frozenset, set)):
            value = list(value)
        elif isinstance(value, dt.datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
                     ).isoformat(timespec="seconds")
        out[key] = value
    return out
