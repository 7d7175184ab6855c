"""The history store on SQLite and on PostgreSQL (the same tests on both): recording, reading
back, atomicity (an error or kill -9 mid-write), two writers at once, migrations."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, inspect, select, text

from engine.history import record
from engine.history.queries import contacts_of, list_runs, timeline
from engine.history.store import HEAD, REVISIONS, Store
from engine.history.tables import VERSION_TABLE, run_snapshots
from tests.history_runs import open_history, snapshot

ROOT = Path(__file__).resolve().parents[1]


def record_one(store: Store, frame: pd.DataFrame, as_of: dt.date = dt.date(2025, 1, 1)) -> int:
    return record.record_run(store, run_id="abc", as_of=as_of, project="test",
                             inputs={"tx.csv": "00"}, snapshot=frame)


def count_rows(store: Store) -> tuple[int, int]:
    with store.reading() as conn:
        return (len(list_runs(store)),
                int(conn.execute(select(func.coalesce(func.sum(run_snapshots.c.rows), 0)))
                    .scalar_one()))


def test_a_run_is_recorded_and_read_back(history_url: str, tmp_path: Path) -> None:
    store = open_history(history_url, tmp_path)
    frame = snapshot(1000)
    first = record_one(store, frame)
    second = record_one(store, frame.assign(value_tier="gold"), dt.date(2025, 2, 1))
    runs = list_runs(store)
    assert [r["run"] for r in runs] == [first, second]
    assert [r["as_of"] for r in runs] == ["2025-01-01", "2025-02-01"]
    assert runs[0]["customers"] == 1000
    assert runs[0]["actioned"] == int(frame["status"].notna().sum())
    assert runs[0]["allocated"] == int((frame["status"] == "allocated").sum())
    row = frame.iloc[7]
    got = timeline(store, row["customer_id"])
    assert [s["value_tier"] for s in got["snapshots"]] == [row["value_tier"], "gold"]
    first_snap = got["snapshots"][0]
    assert first_snap["total_value"] == pytest.approx(row["total_value"], rel=1e-12)
    assert first_snap["status"] == row["status"]
    assert first_snap["holdout"] == (None if row["holdout"] is None else bool(row["holdout"]))
    with store.reading() as conn:  # the contacts: allocated snapshots, dated by as-of
        contacts = contacts_of(conn, row["customer_id"], 10)
    assert [c[0].isoformat() for c in contacts] == \
        (["2025-02-01", "2025-01-01"] if row["status"] == "allocated" else [])
    store.close()


def test_an_error_mid_write_leaves_the_history_as_it_was(
        history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_history(history_url, tmp_path)
    record_one(store, snapshot(500))
    before = count_rows(store)

    def fail() -> None:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(record, "_between", fail)
    with pytest.raises(RuntimeError):
        record_one(store, snapshot(500, seed=1))
    assert count_rows(store) == before == (1, 500)
    store.close()


WRITER = """
import datetime as dt, sys, time
sys.path.insert(0, {root!r})
from tests.history_runs import open_history, snapshot
from tests.test_history_store import record_one
from engine.history import record
from pathlib import Path
if {pause}:
    def pause():
        print("ready", flush=True)
        time.sleep(120)
    record._between = pause
store = open_history({url!r}, Path({tmp!r}))
print("key", record_one(store, snapshot({n}, seed={seed})), flush=True)
"""


def writer(url: str, tmp_path: Path, *, n: int, seed: int = 0,
           pause: bool = False) -> subprocess.Popen[str]:
    code = WRITER.format(root=str(ROOT), url=url, tmp=str(tmp_path), n=n, seed=seed,
                         pause=pause)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)


def test_kill_9_mid_write_leaves_the_history_as_it_was(history_url: str,
                                                        tmp_path: Path) -> None:
    store = open_history(history_url, tmp_path)
    record_one(store, snapshot(300))
    before = count_rows(store)
    store.close()
    proc = writer(history_url, tmp_path, n=300, seed=2, pause=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the run row is written, its transaction still open
    assert line.strip() == "ready", proc.stderr.read() if proc.stderr else ""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = open_history(history_url, tmp_path)  # a new connection: what a next run sees
    assert count_rows(store) == before == (1, 300)
    record_one(store, snapshot(300, seed=3))  # and the history takes the next run
    assert count_rows(store) == (2, 600)
    store.close()


def test_two_runs_recording_at_once_are_both_kept_whole(history_url: str,
                                                         tmp_path: Path) -> None:
    # both start on an empty history: they also race to create its tables
    procs = [writer(history_url, tmp_path, n=5_000, seed=s) for s in (4, 5)]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.startswith("key ")
    store = open_history(history_url, tmp_path)
    assert count_rows(store) == (2, 10_000)
    with store.reading() as conn:
        per_run = conn.execute(select(run_snapshots.c.run, func.sum(run_snapshots.c.rows))
                               .group_by(run_snapshots.c.run)).all()
    assert sorted(n for _, n in per_run) == [5_000, 5_000]
    store.close()


def test_migrations_upgrade_from_base_to_the_head(history_url: str, tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "engine" / "history" / "migrations"))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD == REVISIONS[-1]
    store = open_history(history_url, tmp_path)  # created at the head
    with store.transaction() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    with store.reading() as conn:
        left = set(inspect(conn).get_table_names()) - {VERSION_TABLE}
    assert not {t for t in left if t.startswith("cvm_")}
    with store.transaction() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        assert conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one() \
            == HEAD
    record_one(store, snapshot(10))
    store.close()


def test_a_history_made_by_a_newer_engine_is_refused(history_url: str,
                                                      tmp_path: Path) -> None:
    from engine.errors import InputError

    store = open_history(history_url, tmp_path)
    with store.transaction() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    store.close()
    with pytest.raises(InputError) as info:
        open_history(history_url, tmp_path)
    message = info.value.format()
    assert "the history is at version 9999, which this CVM Engine does not know (it knows " \
        "0001, 0002_learn, 0003_serve, 0004_w_record, 0005_w_record13, 0006_w_fixrev13, " \
        "0007_w_runid13, 0008_w_hist13, 0009_live, 0010_answers, 0011_windows)" in message
    assert "hint: it was made by a newer CVM Engine: upgrade CVM Engine to read it" in message


def test_json_inputs_are_kept(history_url: str, tmp_path: Path) -> None:
    store = open_history(history_url, tmp_path)
    record_one(store, snapshot(3))
    with store.reading() as conn:
        inputs = conn.execute(text("SELECT inputs FROM cvm_runs")).scalar_one()
    assert json.loads(inputs) == {"tx.csv": "00"}
    store.close()



def test_value_change_attributes_read_from_the_history(history_url: str,
                                                       tmp_path: Path) -> None:
    from engine.history.changes import add_changes
    from engine.history.responses import import_responses

    tiers = ["platinum", "gold", "silver", "bronze"]
    store = open_history(history_url, tmp_path)
    base = snapshot(4).assign(
        customer_id=["a", "b", "c", "d"], value_tier=["platinum", "gold", "bronze", "silver"],
        total_value=[200.0, 0.0, 50.0, 10.0],
        status=["allocated", "holdout", "allocated", None])
    record.record_run(store, run_id="r1", as_of=dt.date(2025, 1, 1), project="t", inputs={},
                      snapshot=base)
    record.record_run(store, run_id="r2", as_of=dt.date(2025, 1, 20), project="t", inputs={},
                      snapshot=base.assign(status=[None, None, "allocated", None],
                                           value_tier=["gold", "gold", "bronze", "silver"]))
    record.record_run(store, run_id="later", as_of=dt.date(2025, 6, 1), project="t", inputs={},
                      snapshot=base.assign(value_tier="bronze"))  # after as-of: ignored
    (tmp_path / "r.csv").write_text("customer_id,campaign,date,outcome\n"
                                    "a,x,2025-01-05,responded\na,x,2025-01-10,converted\n"
                                    "c,x,2025-02-01,complained\n")
    import_responses(store, tmp_path / "r.csv", "r.csv")
    table = pd.DataFrame({"customer_id": ["a", "b", "c", "e"],
                          "value_tier": ["silver", "platinum", "bronze", "gold"],
                          "total_value": [100.0, 5.0, 75.0, 1.0]})
    got = add_changes(table, store, as_of=dt.date(2025, 2, 1), tiers=tiers).set_index(
        "customer_id")
    store.close()
    # the previous run is r2 (as of 2025-01-20), the latest on or before 2025-02-01
    assert got["previous_tier"].tolist()[:3] == ["gold", "gold", "bronze"]
    assert pd.isna(got.loc["e", "previous_tier"])  # not in the previous run
    assert got["tier_change"].tolist()[:3] == [-1.0, 1.0, 0.0]
    assert np.isnan(got.loc["e", "tier_change"])
    assert got.loc["a", "total_value_change_pct"] == -50.0
    assert np.isnan(got.loc["b", "total_value_change_pct"])  # from 0: no percentage
    assert got.loc["c", "total_value_change_pct"] == 50.0
    # a contacted on 2025-01-01 (31 days before), c on 01-01 and 01-20; b only held out
    assert got.loc["a", "days_since_last_contact"] == 31
    assert got.loc["c", "days_since_last_contact"] == 12
    assert np.isnan(got.loc["b", "days_since_last_contact"])
    assert got["contacts_last_30_days"].tolist() == [0, 0, 1, 0]
    # the latest response before the as-of date (c's is on it: not yet)
    assert got.loc["a", "last_outcome"] == "converted"
    assert got["last_outcome"].isna().tolist() == [False, True, True, True]
