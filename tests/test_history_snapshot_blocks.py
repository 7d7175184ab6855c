"""A run's snapshot recorded as Arrow blocks sorted by customer (cvm_run_snapshots), not a SQL
row per customer: every customer's rows read back by `cvm history CUSTOMER` and `cvm serve`'s
contacts, across parts; a history of the previous version keeps its snapshots. On SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, inspect, select, text

from engine.history import record, snapshot_blocks
from engine.history.queries import SNAPSHOT_FIELDS, contacts_of, timeline
from engine.history.tables import run_snapshots
from tests.history_runs import history_at, open_history, snapshot

# ids whose byte order is not their length order, upper before lower case, a non-ASCII one
IDS = ["b", "a10", "a9", "Z", "é1", "e2", "a", "C0000001", "c", "0"]


def frames() -> list[pd.DataFrame]:
    """Two runs of the same customers in different orders; the second without two of them."""
    first = snapshot(40, seed=11)
    first["customer_id"] = IDS + [f"x{k}" for k in range(30)]
    first = first.sample(frac=1.0, random_state=3).reset_index(drop=True)
    second = snapshot(40, seed=12).assign(customer_id=first["customer_id"].to_numpy())
    second = second[~second["customer_id"].isin(["a9", "x3"])]
    second = second.sample(frac=1.0, random_state=4).reset_index(drop=True)
    return [first, second]


def expected(frame: pd.DataFrame, customer_id: str) -> dict[str, Any] | None:
    found = frame[frame["customer_id"] == customer_id]
    if not len(found):
        return None
    row = found.iloc[0]
    out: dict[str, Any] = {}
    for name in SNAPSHOT_FIELDS:
        value = row.get(name)  # a synthetic run without a reason records none
        if value is None or (isinstance(value, float) and math.isnan(value)):
            value = None
        elif name == "holdout":
            value = bool(value)
        out[name] = value.item() if hasattr(value, "item") else value
    return out


def check_read_back(store: Any, runs: list[pd.DataFrame], dates: list[str]) -> None:
    for customer_id in runs[0]["customer_id"]:
        got = timeline(store, customer_id)["snapshots"]
        want = [(k + 1, dates[k], e) for k, f in enumerate(runs)
                if (e := expected(f, customer_id)) is not None]
        assert [(s["run"], s["as_of"], {n: s[n] for n in SNAPSHOT_FIELDS}) for s in got] \
            == want, customer_id
        with store.reading() as conn:
            contacts = contacts_of(conn, customer_id, 10)
        made = [(k, expected(f, customer_id)) for k, f in enumerate(runs)]
        assert [(d.isoformat(), c, ch, a) for d, c, ch, a in contacts] == [
            (dates[k], e["campaign"], e["channel"], e["action"]) for k, e in reversed(made)
            if e is not None and e["status"] == "allocated"]
    assert timeline(store, "nobody")["snapshots"] == []
    assert timeline(store, "")["snapshots"] == []


def test_each_customer_s_snapshots_are_read_back_from_the_run_s_parts(
        history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot_blocks, "PART_ROWS", 7)
    store = open_history(history_url, tmp_path)
    runs = frames()
    dates = ["2025-01-01", "2025-02-01"]
    for k, frame in enumerate(runs):
        record.record_run(store, run_id=f"r{k}", as_of=dt.date.fromisoformat(dates[k]),
                          project="t", inputs={}, snapshot=frame)
    with store.reading() as conn:
        parts = conn.execute(select(run_snapshots.c.run, func.count(), func.sum(
            run_snapshots.c.rows)).group_by(run_snapshots.c.run).order_by(
            run_snapshots.c.run)).all()
        names = set(inspect(conn).get_table_names())
    assert [tuple(p) for p in parts] == [(1, 6, 40), (2, 6, 38)]  # 7 rows a part
    assert "cvm_snapshots" not in names  # no SQL row per customer
    check_read_back(store, runs, dates)
    store.close()


def test_a_history_of_the_previous_version_keeps_every_snapshot(
        history_url: str, tmp_path: Path) -> None:
    runs = frames()
    history_at(history_url, tmp_path, "0004_w_record", runs)
    store = open_history(history_url, tmp_path)  # migrated to the head
    with store.reading() as conn:
        names = set(inspect(conn).get_table_names())
        views = set(inspect(conn).get_view_names())
    assert "cvm_snapshots" not in names and "cvm_contacts" not in views
    check_read_back(store, runs, ["2025-01-06", "2025-01-13"])
    # and the history takes the next run
    record.record_run(store, run_id="r3", as_of=dt.date(2025, 2, 1), project="t", inputs={},
                      snapshot=runs[0])
    assert [s["run"] for s in timeline(store, "a")["snapshots"]] == [1, 2, 3]
    store.close()


def test_postgresql_stores_the_blocks_without_compressing_them_again(
        history_url: str, tmp_path: Path) -> None:
    """The blocks are zstd already: PostgreSQL's own compression of a large value (pglz) only
    costs its server CPU (about 0.8 s per 33 MB of blocks, for no smaller table)."""
    if not history_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL storage setting")
    store = open_history(history_url, tmp_path)
    with store.reading() as conn:
        found = dict(conn.execute(text(
            "SELECT c.relname, a.attstorage FROM pg_attribute a JOIN pg_class c "
            "ON c.oid = a.attrelid WHERE a.attname = 'data' AND c.relname IN "
            "('cvm_run_snapshots', 'cvm_run_actions', 'cvm_run_values')")).all())
    store.close()
    assert found == {"cvm_run_snapshots": "e", "cvm_run_actions": "e", "cvm_run_values": "e"}


@pytest.mark.parametrize("bad", ["a duplicate", "a missing id"])
def test_a_snapshot_with_a_duplicate_or_missing_id_is_refused_and_nothing_recorded(
        bad: str, tmp_path: Path) -> None:
    """The per-customer table's primary key and NOT NULL refused these before the blocks; a
    part's look-up would show only one of two rows of an id, and a missing id none."""
    store = open_history(f"sqlite:///{tmp_path / 'h.sqlite'}", tmp_path)
    frame = frames()[0]
    frame.loc[3, "customer_id"] = frame.loc[5, "customer_id"] if bad == "a duplicate" else None
    with pytest.raises(ValueError, match="one row per customer"):
        record.record_run(store, run_id="r", as_of=dt.date(2025, 1, 1), project="t",
                          inputs={}, snapshot=frame)
    with store.reading() as conn:
        assert conn.execute(text("SELECT count(*) FROM cvm_runs")).scalar_one() == 0
    store.close()


def test_the_readme_recipe_reads_the_contacts_the_engine_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """README "What is recorded": the Python recipe that replaces the view cvm_contacts."""
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    code = next(b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S)
                if "cvm_run_snapshots" in b)
    (tmp_path / ".cvm").mkdir()
    store = open_history(f"sqlite:///{tmp_path / '.cvm' / 'history.sqlite'}", tmp_path)
    runs = frames()
    for k, frame in enumerate(runs):
        record.record_run(store, run_id=f"r{k}", as_of=dt.date(2025, k + 1, 1), project="t",
                          inputs={}, snapshot=frame)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # the README's own recipe
    contacts = namespace["contacts"]
    assert len(namespace["snapshots"]) == sum(len(f) for f in runs)
    for customer_id in runs[0]["customer_id"]:
        with store.reading() as conn:
            engine_reads = contacts_of(conn, customer_id, 10)
        mine = contacts[contacts["customer_id"] == customer_id].sort_values(
            "run", ascending=False)
        assert [(str(d), c, ch, a) for d, c, ch, a in engine_reads] == [
            (str(r.as_of), r.campaign, r.channel, r.action) for r in mine.itertuples()]
    store.close()
