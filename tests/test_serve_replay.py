"""The triggers' windows rebuilt from the history's events (issue 14, review finding 7): what
they fired before is not fired again; an absence whose window ended while the service was down
fires once at start-up; a reload with changed triggers frees the old engine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from engine import api
from engine.serve.events import Triggers
from tests.serve_util import ROOT, example_copy, serving

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)


def _replay(*past: tuple[str, str, str, dt.datetime], alive: dt.timedelta,
            now: dt.timedelta) -> list[tuple[str, str]]:
    triggers = Triggers(api.load_project(ROOT))
    try:
        fired = triggers.replay([(i, c, k, at, {}) for i, c, k, at in past],
                                lambda _: {"value_tier": "gold"}, T0 + alive, T0 + now)
    finally:
        triggers.close()
    return [(f["trigger_id"], f["customer_id"]) for f in fired]


def test_an_absence_due_while_down_fires_once_at_start_up() -> None:
    complaint = ("E1", "C1", "complaint", T0)
    # down from 47 h after the complaint; started at 50 h: nobody decided it, now it fires
    assert _replay(complaint, alive=dt.timedelta(hours=47),
                   now=dt.timedelta(hours=50)) == [("callback_overdue", "C1")]
    # still running at 49 h: that service fired it then, not again
    assert _replay(complaint, alive=dt.timedelta(hours=49), now=dt.timedelta(hours=50)) == []
    # answered in time: nothing
    assert _replay(complaint, ("E2", "C1", "callback", T0 + dt.timedelta(hours=1)),
                   alive=dt.timedelta(hours=47), now=dt.timedelta(hours=50)) == []


def test_an_event_stamped_ahead_does_not_decide_an_absence_before_start_up() -> None:
    """A call-centre trial: a visit stamped 4 minutes ahead (allowed), posted just before the
    service stopped, moved the replay's clock past the last moment the service ran, so an
    overdue alert due while it was down was decided inside the replay, and never fired."""
    complaint = ("E1", "C1", "complaint", T0)
    ahead = ("E2", "C2", "visit", T0 + dt.timedelta(hours=48, minutes=3))
    assert _replay(complaint, ahead, alive=dt.timedelta(hours=47, minutes=59, seconds=59),
                   now=dt.timedelta(hours=50)) == [("callback_overdue", "C1")]


def test_what_fired_before_is_not_fired_again() -> None:
    two = [("E1", "C1", "complaint", T0), ("E2", "C1", "complaint", T0 + dt.timedelta(hours=1)),
           ("E3", "C1", "callback", T0 + dt.timedelta(hours=2))]
    assert _replay(*two, alive=dt.timedelta(hours=3), now=dt.timedelta(hours=4)) == []


def test_a_change_of_triggers_closes_the_old_engine(tmp_path: Path) -> None:
    project = example_copy(tmp_path)
    with serving(project, history=False, watch_seconds=0) as service:
        old = service.triggers
        path = project / "triggers" / "service_recovery.yaml"
        path.write_text(path.read_text().replace("within: 7d", "within: 14d"))
        service.reload()
        assert service.triggers is not old and service.service.triggers is service.triggers
        assert old.engine is not None and old.engine.closed
        assert service.triggers.window == 14 * 86400
