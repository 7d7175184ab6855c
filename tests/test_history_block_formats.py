"""The history's block formats and its schema version (review 8b): a block of a format this
engine does not read is an input error with a hint to upgrade (exit 1), never an internal
error; a format comes with an Alembic revision, so that an older engine refuses the history
when it opens it; the downgrade from that revision leaves blocks every engine at the older
revision reads. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.sql.schema import Table

from engine.errors import InputError
from engine.history import columnar, record, snapshot_blocks, values
from engine.history.changes import add_changes
from engine.history.contacts import contact_log
from engine.history.queries import timeline
from engine.history.store import HEAD, REVISIONS, Store
from engine.history.tables import VERSION_TABLE, run_actions, run_snapshots, run_values
from tests.history_runs import TIERS, open_history, snapshot

ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = ROOT / "engine" / "history" / "migrations"
HINT = ("  hint: the history was written by a newer CVM Engine: upgrade CVM Engine to read it "
        "(or point history, or CVM_HISTORY_URL, at another history)")


def _revision(name: str) -> ModuleType:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_revision(name).module  # type: ignore[union-attr]


def test_the_block_formats_are_those_of_the_head_revision() -> None:
    """A format bumped without a new revision fails here: the head records the formats it
    writes, and an engine that does not know the head refuses the history at open."""
    head = _revision(HEAD)
    assert getattr(head, "BLOCK_FORMATS", None) == {
        "cvm_run_actions": columnar.FORMAT, "cvm_run_snapshots": snapshot_blocks.FORMAT,
        "cvm_run_values": values.FORMAT}, (
        f"a block format changed: add an Alembic revision after {HEAD} whose BLOCK_FORMATS "
        "records the new formats (engine/history/block_format.py)")


def _one_run(url: str, tmp_path: Path) -> Store:
    store = open_history(url, tmp_path)
    record.record_run(store, run_id="r1", as_of=dt.date(2025, 1, 6), project="t", inputs={},
                      snapshot=snapshot(40))
    return store


def _bump(store: Store, table: Table, found: int) -> None:
    with store.transaction() as conn:
        conn.execute(update(table).values(format=found))


@pytest.mark.parametrize("kind", ["actions", "snapshot", "values"])
def test_a_block_of_an_unknown_format_is_an_input_error_naming_the_history(
        history_url: str, tmp_path: Path, kind: str) -> None:
    store = _one_run(history_url, tmp_path)
    table, known = {"actions": (run_actions, "1 to 2"), "snapshot": (run_snapshots, "1 to 2"),
                    "values": (run_values, "1")}[kind]
    _bump(store, table, 7)
    as_of = dt.date(2025, 2, 1)
    table_in = pd.DataFrame({"customer_id": ["C0000001"], "value_tier": ["gold"],
                             "total_value": [1.0]})
    read: Callable[[], object] = {
        "actions": lambda: contact_log(store, as_of=as_of, window=None, source="t"),
        "snapshot": lambda: timeline(store, "C0000001"),
        "values": lambda: add_changes(table_in, store, as_of=as_of, tiers=TIERS)}[kind]
    try:
        with pytest.raises(InputError) as info:
            read()
    finally:
        store.close()
    where = store.settings.masked
    assert info.value.format() == (
        f"{where}: history (test): run 1: {kind} block format 7, which this CVM Engine does "
        f"not read (it reads format {known})\n{HINT}")


def test_an_engine_without_the_head_revision_refuses_the_history_at_open(
        history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As the engine before the block formats' revision sees a history written now."""
    from engine.history import store as store_module

    _one_run(history_url, tmp_path).close()
    before = REVISIONS[:REVISIONS.index("0006_w_fixrev13")]  # later revisions came since
    monkeypatch.setattr(store_module, "REVISIONS", before)
    monkeypatch.setattr(store_module, "HEAD", before[-1])
    with pytest.raises(InputError) as info:
        open_history(history_url, tmp_path)
    assert f"the history is at version {HEAD}, which this CVM Engine does not know" \
        in info.value.format()
    assert before[-1] == "0005_w_record13" and before[-1] != HEAD


def test_the_downgrade_leaves_actions_blocks_of_format_1_with_the_same_contacts(
        history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from alembic import command
    from alembic.config import Config

    import engine.history.live

    # the runs' contacts alone: a history at 0005 has no cvm_live_contacts (0009) to read
    monkeypatch.setattr(engine.history.live, "given", lambda *_, **__: [])
    store = _one_run(history_url, tmp_path)
    try:
        def contacts() -> tuple[list[object], ...]:
            log = contact_log(store, as_of=dt.date(2025, 2, 1), window=None, source="t")
            ids = log.contact_customer
            return (ids.cast(pa.string()).to_pylist() if isinstance(ids, pa.Array | pa.ChunkedArray)
                    else list(ids), log.contact_channel.tolist(),
                    log.contact_campaign.tolist())

        before = contacts()
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with store.transaction() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0005_w_record13")
            assert conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")
                                ).scalar_one() == "0005_w_record13"
            assert set(conn.execute(select(run_actions.c.format)).scalars()) == {1}
        after = contacts()
    finally:
        store.close()
    assert len(before[0]) > 5 and after == before


def test_responses_import_refuses_a_values_block_of_an_unknown_format(
        history_url: str, tmp_path: Path) -> None:
    # review 8c: its check of the customers read the values blocks with a bare ValueError
    # (an internal error, exit 4) where every other reader refuses the block as an input error
    from engine.history.response_checks import unrecorded_rows

    store = _one_run(history_url, tmp_path)
    _bump(store, run_values, 7)
    frame = pd.DataFrame({"customer_id": ["C0000001", "ZZZ"]})
    try:
        with pytest.raises(InputError) as info:
            unrecorded_rows(store, [1], frame)
    finally:
        store.close()
    assert info.value.format() == (
        f"{store.settings.masked}: history (test): run 1: values block format 7, which this CVM "
        f"Engine does not read (it reads format 1)\n{HINT}")
