"""Events of the same second are listed in the order they arrived, in every fired action (a
call centre posts two complaints within one second; the escalation names the first first)."""

from __future__ import annotations

from pathlib import Path

from engine.policy.triggers import TriggerEngine
from engine.project.triggers import load_triggers
from tests.test_triggers import SERVICE, TYPES, post, project


def test_events_of_the_same_second_keep_their_arrival_order(tmp_path: Path) -> None:
    for k in range(20):  # the arrival order, not a set's order, whatever the ids hash to
        (tmp_path / str(k)).mkdir()
        engine = TriggerEngine(load_triggers(project(tmp_path / str(k), SERVICE), TYPES))
        first, second = f"z{k}-first", f"a{k}-second"
        assert post(engine, first, "complaint", 0, only="twice") == []
        assert post(engine, second, "complaint", 0, only="twice") == [
            ("twice", (first, second))]
