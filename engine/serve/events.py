"""The one place the service meets the event triggers (``triggers/*.yaml``, decided by
durable-rules in the trigger engine): ``post`` an event with the customer's attributes, and
``advance`` the clock for the triggers that wait (absence: "no callback within 48 hours").
Both give the fired actions as plain dicts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Mapping
from typing import Any

from engine.project.project import Project


class Triggers:
    """The project's trigger engine, or none when the project declares no triggers."""

    def __init__(self, project: Project) -> None:
        declared = getattr(project, "triggers", None)
        self.engine: Any = None
        self.declared = declared
        if declared:
            from engine.triggers import TriggerEngine  # type: ignore[import-not-found]

            self.engine = TriggerEngine(declared)
        self._lock = threading.Lock()  # durable-rules' state is one per engine

    @property
    def count(self) -> int:
        found = getattr(self.declared, "triggers", self.declared)
        return len(found) if found else 0

    def post(self, event: Mapping[str, Any], attributes: Mapping[str, Any]
             ) -> list[dict[str, Any]]:
        if self.engine is None:
            return []
        with self._lock:
            fired = self.engine.post(dict(event), dict(attributes))
        return [fired_dict(f) for f in fired]

    def advance(self, now: dt.datetime) -> list[dict[str, Any]]:
        if self.engine is None:
            return []
        with self._lock:
            fired = self.engine.advance(now)
        return [fired_dict(f) for f in fired]


def fired_dict(fired: Any) -> dict[str, Any]:
    """A fired action (the trigger engine's frozen dataclass) as JSON-ready fields."""
    raw = (dataclasses.asdict(fired)
           if dataclasses.is_dataclass(fired) and not isinstance(fired, type) else dict(fired))
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, (tuple, frozenset, set)):
            value = list(value)
        elif isinstance(value, (dt.datetime, dt.date)):
            value = value.isoformat()
        out[key] = value
    return out
