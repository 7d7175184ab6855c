"""The durable-rules side of triggers: limits worked around, and the semantics on random
streams (every firing checked against the definitions; nothing missed on in-order streams)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from engine.policy.trigger_sessions import IDS, SESSIONS
from engine.policy.triggers import Event, Fired, TriggerEngine
from engine.project.triggers import load_triggers
from tests.ci_jobs import main_job_only

pytestmark = main_job_only("durable-rules' sessions decide it, the same whatever the "
                           "Python or pandas")

T0 = dt.datetime(2024, 1, 1)
TEXT = """triggers:
  - {id: s, description: d, event: {type: complaint}, customer: {value_tier: gold},
     then: {action: a}}
  - {id: c2, description: d, event: {type: complaint}, count: 2, within: 7d, then: {action: a}}
  - {id: c3, description: d, event: {type: visit}, count: 3, within: 2d, then: {action: a}}
  - {id: u, description: d, event: {type: complaint}, unless: {type: callback, within: 48h},
     then: {action: a}}
"""


def _fnv1a(name: str) -> int:
    value = 0x811C9DC5
    for byte in name.encode():
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


def test_session_and_message_ids_never_collide() -> None:
    """durable-rules keys sessions and a session's messages by 32-bit FNV-1a hashes."""
    assert len({_fnv1a(str(i)) for i in range(SESSIONS)}) == SESSIONS
    assert len({_fnv1a(str(i)) for i in range(1, IDS)}) == IDS - 1


def engine_for(tmp_path: Path) -> TriggerEngine:
    (tmp_path / "triggers").mkdir()
    (tmp_path / "triggers" / "t.yaml").write_text(TEXT)
    return TriggerEngine(load_triggers(tmp_path, {"value_tier": "text"}))


def test_random_streams_fire_as_defined(tmp_path: Path) -> None:
    """2,500 customers (more than one durable-rules ruleset holds), events in time order."""
    engine = engine_for(tmp_path)
    rng = random.Random(14)
    events: list[tuple[Event, str]] = []
    minute = 0
    for i in range(6000):
        minute += rng.choice([0, 1, 30, 120])
        kind = rng.choice(["complaint", "complaint", "visit", "visit", "callback", "purchase"])
        who = f"c{rng.randrange(2500) if i < 3000 else rng.randrange(60)}"
        events.append((Event(f"e{i}", who, kind, T0 + dt.timedelta(minutes=minute)),
                       rng.choice(["gold", "silver"])))
    fired: list[Fired] = []
    for event, tier in events:
        fired += engine.advance(event.at)
        fired += engine.post(event, {"value_tier": tier})
    fired += engine.advance(T0 + dt.timedelta(minutes=minute + 10**5))
    by_id = {e.id: (e, tier) for e, tier in events}
    used: dict[str, set[str]] = {}
    for f in fired:
        matched = [by_id[i][0] for i in f.event_ids]
        assert {e.customer_id for e in matched} == {f.customer_id}
        assert not used.setdefault(f.trigger_id, set()) & set(f.event_ids)  # consumed once
        used[f.trigger_id] |= set(f.event_ids)
        if f.trigger_id == "s":
            assert matched[0].type == "complaint" and by_id[f.event_ids[0]][1] == "gold"
        elif f.trigger_id in ("c2", "c3"):
            n, window = (2, 7 * 86400) if f.trigger_id == "c2" else (3, 2 * 86400)
            assert len(matched) == n and (matched[-1].at - matched[0].at).total_seconds() <= \
                window
        else:
            start = matched[0].at
            assert not any(e.customer_id == f.customer_id and e.type == "callback" and
                           start <= e.at <= start + dt.timedelta(hours=48) for e, _ in events)
    complaints = [e for e, _ in events if e.type == "complaint"]
    answered = {c.id for c in complaints if any(
        e.customer_id == c.customer_id and e.type == "callback" and
        c.at <= e.at <= c.at + dt.timedelta(hours=48) for e, _ in events)}
    assert used["u"] == {c.id for c in complaints} - answered  # every absence, exactly once
    assert used["s"] == {e.id for e, tier in events if e.type == "complaint" and tier == "gold"}
    assert engine.pending() == 0
