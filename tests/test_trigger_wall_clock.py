"""In the service, time never runs ahead of the wall clock: an event stamped a little in the
future (the service accepts up to 5 minutes of clock skew) keeps its own time in its windows,
but does not make another customer's absence come due early, nor make their events late."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from engine.policy.triggers import Event, TriggerEngine
from engine.project.triggers import load_triggers
from tests.test_triggers import SERVICE, TYPES, project

NOW = dt.datetime(2026, 12, 1, 12, 0)


def test_a_future_event_does_not_move_the_clock_past_now(tmp_path: Path) -> None:
    wall = [NOW]
    engine = TriggerEngine(load_triggers(project(tmp_path, SERVICE), TYPES),
                           clock=lambda: wall[0])
    start = NOW - dt.timedelta(hours=48, seconds=-180)  # its window ends in 3 minutes
    assert engine.post(Event("c1", "A", "complaint", start), {"value_tier": "silver"}) == []
    ahead = NOW + dt.timedelta(seconds=290)
    found = engine.post_late(Event("p1", "B", "purchase", ahead), {"value_tier": "silver"})
    assert found == ([], ())  # A's callback may still come: nothing due yet
    old = NOW - dt.timedelta(hours=47, minutes=59)
    found = engine.post_late(Event("c2", "C", "complaint", old), {"value_tier": "silver"})
    assert found is not None and found[1] == ()  # inside every window of now: not late
    assert engine.advance(NOW + dt.timedelta(hours=1)) == []  # the clock stays at now
    assert engine.post(Event("cb", "A", "callback", NOW + dt.timedelta(seconds=60)),
                       {"value_tier": "silver"}) == []  # called back in time: no alert
    wall[0] = NOW + dt.timedelta(hours=1)  # A was called back, C was not
    fired = engine.advance(wall[0])
    assert [(f.trigger_id, f.customer_id) for f in fired] == [("overdue", "C")]


def test_without_a_clock_time_comes_from_the_events(tmp_path: Path) -> None:
    engine = TriggerEngine(load_triggers(project(tmp_path, SERVICE), TYPES))
    start = NOW - dt.timedelta(hours=48, seconds=-180)
    engine.post(Event("c1", "A", "complaint", start), {"value_tier": "silver"})
    fired = engine.post(Event("p1", "B", "purchase", NOW + dt.timedelta(seconds=290)),
                        {"value_tier": "silver"})
    assert [(f.trigger_id, f.customer_id) for f in fired] == []
    fired = engine.advance(NOW + dt.timedelta(seconds=290))
    assert [(f.trigger_id, f.customer_id) for f in fired] == [("overdue", "A")]
