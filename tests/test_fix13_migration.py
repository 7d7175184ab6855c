"""The report's tier migration matrix compares the latest run with the run it looked back on
(engine.history.lookback: the latest run dated before its as-of date), not with the run
recorded before it: after a run re-made on the same as-of date, that one is the run it
replaced (every customer "stayed"). The serve profile's contacts count a date once, as the
contact policies do."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from engine.history import record
from engine.history.migration import tier_migration
from engine.history.queries import contacts_of
from tests.history_runs import TIERS, open_history, snapshot


def _run(store: object, run_id: str, day: str, tiers: list[str], status: str | None) -> None:
    frame = snapshot(4).assign(value_tier=tiers, status=status,
                               channel="email" if status == "allocated" else None)
    record.record_run(store, run_id=run_id, as_of=dt.date.fromisoformat(day),  # type: ignore
                      project="t", inputs={}, snapshot=frame)


def test_an_older_date_re_made_later_is_not_what_the_latest_run_looked_back_on(
        history_url: str, tmp_path: Path) -> None:
    """Review 13e: the latest run looked back on the run of the older date recorded before
    it; a re-make of that date recorded after it is not the comparison its own previous_tier
    and tier_change made."""
    store = open_history(history_url, tmp_path)
    try:
        _run(store, "r1", "2025-01-01", ["platinum"] * 4, None)
        _run(store, "r2", "2025-02-01", ["silver"] * 4, None)
        _run(store, "r3", "2025-01-01", ["gold"] * 4, None)  # re-made after r2
        found = tier_migration(store, TIERS)
        assert found is not None
        assert (found.before, found.after) == ("run 1 as of 2025-01-01",
                                               "run 2 as of 2025-02-01")
        assert (found.rows, found.columns, found.counts) == (("platinum",), ("silver",),
                                                             ((4,),))
    finally:
        store.close()


def test_the_matrix_compares_the_latest_run_with_the_run_it_looked_back_on(
        history_url: str, tmp_path: Path) -> None:
    store = open_history(history_url, tmp_path)
    try:
        _run(store, "r1", "2025-01-01", ["platinum", "gold", "gold", "silver"], "allocated")
        _run(store, "r2", "2025-02-01", ["gold", "gold", "silver", "silver"], None)
        # re-made on the same date: looks back on r1, as r2 did
        _run(store, "r3", "2025-02-01", ["gold", "gold", "silver", "bronze"], None)
        found = tier_migration(store, TIERS)
        assert found is not None
        assert (found.before, found.after) == ("run 1 as of 2025-01-01",
                                               "run 3 as of 2025-02-01")
        assert found.rows == ("platinum", "gold", "silver")
        assert found.columns == ("gold", "silver", "bronze")
        assert found.counts == ((1, 0, 0), (1, 1, 0), (0, 0, 1))
        with store.reading() as conn:  # r1's contact on 2025-01-01 only (r2, r3: none)
            assert [str(c[0]) for c in contacts_of(conn, "C0000000", 10)] == ["2025-01-01"]
    finally:
        store.close()


def test_the_matrix_is_of_the_newest_as_of_date_when_an_older_one_is_re_made(
        history_url: str, tmp_path: Path) -> None:
    # issue 13's re-trial: re-making an older date after a newer run made the report compare
    # the older pair and leave out the newest run
    store = open_history(history_url, tmp_path)
    try:
        _run(store, "r1", "2025-01-01", ["gold"] * 4, None)
        _run(store, "r2", "2025-02-01", ["gold", "gold", "silver", "silver"], None)
        _run(store, "r3", "2025-03-01", ["gold", "silver", "silver", "bronze"], None)
        _run(store, "r4", "2025-02-01", ["platinum", "gold", "silver", "silver"], None)
        found = tier_migration(store, TIERS)
        assert found is not None
        # against what run 3 looked back on (run 2: run 4 re-made that date after it)
        assert (found.before, found.after) == ("run 2 as of 2025-02-01",
                                               "run 3 as of 2025-03-01")
        assert found.counts == ((1, 1, 0), (0, 1, 1))
    finally:
        store.close()


def test_a_latest_run_with_no_earlier_date_has_nothing_to_compare(
        history_url: str, tmp_path: Path) -> None:
    store = open_history(history_url, tmp_path)
    try:
        _run(store, "r1", "2025-02-01", ["gold"] * 4, "allocated")
        assert tier_migration(store, TIERS) is None  # one run
        _run(store, "r2", "2025-02-01", ["silver"] * 4, None)
        found = tier_migration(store, TIERS)
        assert found is not None
        assert (found.before, found.after) == (None, "run 2 as of 2025-02-01")
        assert (found.rows, found.columns, found.counts) == ((), (), ())
        with store.reading() as conn:  # r2 replaced r1 on its date: r1's contacts never made
            assert contacts_of(conn, "C0000000", 10) == []
    finally:
        store.close()


def test_the_readme_recipe_counts_the_contacts_the_engine_counts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """README "What is recorded": ``counted``, the recipe's contacts as the engine counts them
    (a run re-made on the same as-of date replaces the earlier one)."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    code = next(b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S)
                if "cvm_run_snapshots" in b)
    (tmp_path / ".cvm").mkdir()
    store = open_history(f"sqlite:///{tmp_path / '.cvm' / 'history.sqlite'}", tmp_path)
    try:
        for run_id, day, seed in (("r1", "2025-01-01", 1), ("r2", "2025-02-01", 2),
                                  ("r3", "2025-02-01", 3)):
            record.record_run(store, run_id=run_id, as_of=dt.date.fromisoformat(day),
                              project="t", inputs={}, snapshot=snapshot(30, seed))
        monkeypatch.chdir(tmp_path)
        namespace: dict[str, Any] = {}
        exec(compile(code, "README.md", "exec"), namespace)  # the README's own recipe
        counted = namespace["counted"]
        assert set(counted["run"]) == {1, 3}
        for customer_id in snapshot(30)["customer_id"]:
            with store.reading() as conn:
                engine_reads = contacts_of(conn, customer_id, 10)
            mine = counted[counted["customer_id"] == customer_id].sort_values(
                "run", ascending=False)
            assert [(str(d), c, ch) for d, c, ch, _ in engine_reads] == [
                (str(r.as_of), r.campaign, r.channel) for r in mine.itertuples()]
    finally:
        store.close()
