"""`cvm history` (issue 13's re-trial): the run list counts the actioned by status (holdout, not
served, suppressed, from the decisions each run recorded) and marks a run replaced by a later
run of the same as-of date (in the timeline too); a customer's timeline gives the reason a
customer was suppressed or not served, as the action list said. On SQLite and PostgreSQL, text
and --json."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.history import record
from engine.history.queries import list_runs, timeline
from tests.history_runs import cvm, open_history, retail_copy, snapshot

WHY = "contact policy weekly_cap: 1 contact in the last 7 days (at most 1 per 7 days)"
UNSERVED = "channel capacity reached"


def _frame(n: int, seed: int) -> pd.DataFrame:
    """A synthetic run (tests.history_runs.snapshot) with suppressed customers, and the action
    list's reason of the not served and suppressed."""
    frame = snapshot(n, seed=seed)
    status = frame["status"].to_numpy(dtype=object).copy()
    status[np.arange(n) % 7 == 3] = "suppressed"
    frame["status"] = status
    frame["channel"] = np.where(status == "allocated", "email", None)
    frame["action"] = np.where(pd.isna(status), "no_action", "retain")
    frame["campaign"] = np.where(pd.isna(status), None, "retain_high_value")
    frame["holdout"] = np.where(pd.isna(status), None, status == "holdout")
    frame["reason"] = np.select([status == "suppressed", status == "not_served"],
                                [WHY, UNSERVED], None)
    return frame


def _counts(frame: pd.DataFrame) -> dict[str, int]:
    got = frame["status"].value_counts()
    return {s: int(got.get(s, 0)) for s in ("allocated", "holdout", "not_served", "suppressed")}


def _three_runs(url: str, tmp_path: Path) -> list[pd.DataFrame]:
    """Three runs recorded: the first re-made on its as-of date by the second, then a later
    date; their snapshots."""
    frames = [_frame(300, seed) for seed in (1, 2, 3)]
    store = open_history(url, tmp_path)
    try:
        for k, (frame, day) in enumerate(zip(frames, (1, 1, 8), strict=True)):
            record.record_run(store, run_id=f"r{k}", as_of=dt.date(2025, 1, day), project="t",
                              inputs={}, snapshot=frame)
    finally:
        store.close()
    return frames


@pytest.fixture
def recorded(history_url: str, tmp_path: Path) -> tuple[str, list[pd.DataFrame]]:
    """Three runs: the first re-made on its as-of date by the second, then a later date."""
    return history_url, _three_runs(history_url, tmp_path)


def test_the_run_list_counts_each_status_and_marks_a_replaced_run(
        recorded: tuple[str, list[pd.DataFrame]], tmp_path: Path) -> None:
    url, frames = recorded
    store = open_history(url, tmp_path)
    try:
        runs = list_runs(store)
    finally:
        store.close()
    assert [r["replaced_by"] for r in runs] == [2, None, None]
    for r, frame in zip(runs, frames, strict=True):
        counts = _counts(frame)
        assert {k: r[k] for k in counts} == counts
        assert sum(counts.values()) == r["actioned"]


def test_the_timeline_gives_the_reason_of_the_suppressed_and_not_served(
        recorded: tuple[str, list[pd.DataFrame]], tmp_path: Path) -> None:
    url, frames = recorded
    store = open_history(url, tmp_path)
    try:
        got = timeline(store, "C0000003")  # suppressed in every run (3 % 7 == 3)
        unserved = frames[0][frames[0]["status"] == "not_served"]["customer_id"].iloc[0]
        other = timeline(store, str(unserved))
    finally:
        store.close()
    assert [s["status"] for s in got["snapshots"]] == ["suppressed"] * 3
    assert [s["reason"] for s in got["snapshots"]] == [WHY] * 3
    assert [s["replaced_by"] for s in got["snapshots"]] == [2, None, None]
    assert other["snapshots"][0]["reason"] == UNSERVED


def test_the_command_shows_the_counts_the_replaced_run_and_the_reason(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    history = tmp_path / "h.sqlite"
    frames = _three_runs(str(history), tmp_path)
    monkeypatch.setenv("CVM_HISTORY_URL", str(history))
    project = retail_copy(tmp_path)
    done = cvm("history", "--project", str(project))
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert lines[1].split() == ["run", "run", "id", "as", "of", "recorded", "at", "customers",
                                "actioned", "allocated", "holdout", "not", "served",
                                "suppressed"]
    for line, frame in zip(lines[2:], frames, strict=True):
        c = _counts(frame)
        assert line.split()[5:10] == [f"{sum(c.values()):,}", *(f"{v:,}" for v in c.values())]
    assert lines[2].endswith("  replaced by run 2")
    assert not lines[3].endswith("replaced by run 2") and "replaced" not in lines[4]
    listed = json.loads(cvm("history", "--json", "--project", str(project)).stdout)
    assert [(r["replaced_by"], r["suppressed"]) for r in listed] == [
        (2, _counts(frames[0])["suppressed"]), (None, _counts(frames[1])["suppressed"]),
        (None, _counts(frames[2])["suppressed"])]
    one = cvm("history", "C0000003", "--project", str(project))
    assert one.exit_code == 0, one.output
    first, second = one.stdout.splitlines()[1:3]
    assert first.endswith(f"retain (retain_high_value: suppressed; {WHY})  [replaced by run 2]")
    assert second.endswith(f"retain (retain_high_value: suppressed; {WHY})")


def test_the_downgrade_from_0007_leaves_format_1_snapshots_read_without_a_reason(
        recorded: tuple[str, list[pd.DataFrame]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import select, text

    import engine.history.queries
    from engine.history.tables import VERSION_TABLE, run_snapshots
    from tests.history_runs import MIGRATIONS

    # the snapshots alone: a history at 0006 has no cvm_interactions.withheld (0009) to read
    monkeypatch.setattr(engine.history.queries, "_served",
                        lambda *_: {"events": [], "interactions": []})

    url, _ = recorded
    store = open_history(url, tmp_path)
    try:
        before = timeline(store, "C0000003")["snapshots"]
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with store.transaction() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0006_w_fixrev13")
            assert conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")
                                ).scalar_one() == "0006_w_fixrev13"
            assert set(conn.execute(select(run_snapshots.c.format)).scalars()) == {1}
        after = timeline(store, "C0000003")["snapshots"]
    finally:
        store.close()
    assert [s["reason"] for s in before] == [WHY] * 3
    assert after == [{**s, "reason": None} for s in before]
