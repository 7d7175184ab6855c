"""The one place the service meets the event triggers (``triggers/*.yaml``, decided by
durable-rules in ``engine.policy.triggers.TriggerEngine``): ``post`` an event with the
customer's attributes, ``advance`` the clock for the triggers that wait on an absence ("no
callback within 48 hours"). Both give the fired actions as JSON-ready dicts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from engine.policy.triggers import Event, Fired, TriggerEngine
from engine.project.project import Project


class Triggers:
    """The project's trigger engine; none when the project declares no trigger."""

    def __init__(self, project: Project) -> None:
        self.declared = project.triggers
        self.count = len(self.declared.triggers)
        self.engine = TriggerEngine(self.declared) if self.declared.triggers else None

    @property
    def event_types(self) -> Mapping[str, Mapping[str, str]]:
        """Event type -> field -> number, text or boolean (built-in and declared)."""
        return self.declared.event_types

    def post(self, event_id: str, customer_id: str, kind: str, at: dt.datetime,
             fields: Mapping[str, Any], attributes: Mapping[str, Any]
             ) -> tuple[list[dict[str, Any]], bool]:
        """The actions the event fires, and whether it came too late to be evaluated (older
        than the longest window before the latest time seen)."""
        if self.engine is None:
            return [], False
        late = self.engine.late
        fired = self.engine.post(Event(id=event_id, customer_id=customer_id, type=kind,
                                       at=at, fields=dict(fields)), dict(attributes))
        return [fired_dict(f) for f in fired], self.engine.late > late

    def advance(self, now: dt.datetime) -> list[dict[str, Any]]:
        if self.engine is None:
            return []
        return [fired_dict(f) for f in self.engine.advance(now)]

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()


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
