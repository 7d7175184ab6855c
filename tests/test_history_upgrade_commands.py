"""A history made by the previous version opens in this one through the commands (issue 13:
"a history made by one version opens in the next"). The writers (`cvm run`, `cvm responses
import`) upgrade it first, in one transaction; `cvm validate` says so as a warning (the next
run works); a command that only reads it says which command upgrades it (review 13c: every
history of the previous version was refused by `cvm run` itself, whose hint said it upgrades
it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config

from engine.history.settings import parse
from engine.history.store import HEAD, _engine
from engine.history.tables import VERSION_TABLE
from tests.history_runs import MIGRATIONS, cvm, history_at, retail_copy, set_as_of
from tests.test_learn_migration import snapshot


def _old(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The retail project with a history as version 0006_w_fixrev13 made it (two runs)."""
    history = tmp_path / "h.sqlite"
    monkeypatch.setenv("CVM_HISTORY_URL", str(history))
    history_at(str(history), tmp_path, "0004_w_record", [snapshot(50, 1), snapshot(50, 2)])
    engine = _engine(parse(str(history), tmp_path, source="test"), writable=True)
    with engine.begin() as conn:  # then as the previous version left it
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006_w_fixrev13")
    engine.dispose()
    project = retail_copy(tmp_path)
    set_as_of(project, "2025-12-01")
    return project, history


def _version(history: Path) -> str:
    with sqlite3.connect(history) as conn:  # as the file is, whatever its version
        return str(conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()[0])


def test_validate_warns_and_run_upgrades_then_records(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, history = _old(tmp_path, monkeypatch)
    found = cvm("validate", "--project", str(project))
    assert found.exit_code == 0, found.stderr
    assert (f"warning: {history}: history (CVM_HISTORY_URL): the history is at version "
            f"0006_w_fixrev13, this engine writes version {HEAD}\n"
            "  hint: the next `cvm run`, `cvm responses import` or `cvm serve` upgrades "
            "it") in found.stderr
    done = cvm("run", "-q", "--project", str(project), "--out", str(tmp_path / "out"))
    assert done.exit_code == 0, done.stderr
    assert _version(history) == HEAD
    with sqlite3.connect(history) as conn:
        assert conn.execute("SELECT count(*) FROM cvm_runs").fetchone()[0] == 3


def test_a_reading_command_names_the_commands_that_upgrade(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, history = _old(tmp_path, monkeypatch)
    found = cvm("history", "--project", str(project))
    assert found.exit_code == 1
    assert found.stderr == (
        f"error: {history}: history (CVM_HISTORY_URL): the history is at version "
        f"0006_w_fixrev13, this engine writes version {HEAD}\n"
        "  hint: the next `cvm run`, `cvm responses import` or `cvm serve` upgrades it\n")
    assert _version(history) == "0006_w_fixrev13"  # a reader changes nothing


def test_responses_import_upgrades_then_imports(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, history = _old(tmp_path, monkeypatch)
    (tmp_path / "r.csv").write_text("customer_id,campaign,date,outcome\n"
                                    "C00001,win_back,2025-01-10,converted\n", encoding="utf-8")
    done = cvm("responses", "import", str(tmp_path / "r.csv"), "--project", str(project))
    assert done.exit_code == 0, done.stderr
    assert _version(history) == HEAD


def test_an_older_damaged_history_is_refused_before_any_upgrade(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, history = _old(tmp_path, monkeypatch)
    with sqlite3.connect(history) as conn:  # a page of the runs' blocks, not the version's
        page, size = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = "
                                  "'cvm_run_snapshots'").fetchone()[0], \
            conn.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(history.read_bytes())
    data[(page - 1) * size:page * size] = b"A" * size
    history.write_bytes(bytes(data))
    for args in (("validate",), ("run", "-q", "--out", str(tmp_path / "out"))):
        done = cvm(*args, "--project", str(project))
        assert done.exit_code == 1, done.stderr
        assert "is damaged: " in done.stderr and "(SQLite's quick_check)" in done.stderr
    (tmp_path / "r.csv").write_text("customer_id,campaign,date,outcome\n"
                                    "C00001,win_back,2025-01-10,converted\n", encoding="utf-8")
    done = cvm("responses", "import", str(tmp_path / "r.csv"), "--project", str(project))
    assert done.exit_code == 1 and "is damaged: " in done.stderr
    assert _version(history) == "0006_w_fixrev13"  # nothing was written into it


@pytest.mark.parametrize("text", [None, "customer_id,campaign,date,outcome\nC000001,win_back,"
                                        "2025-11-31,converted\n"])
def test_a_refused_file_leaves_an_older_history_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | None) -> None:
    """A file problem (no file; a date that does not exist) stops the import before the
    upgrade: "exit 1, and nothing written" (review 13e: the history was upgraded first)."""
    project, history = _old(tmp_path, monkeypatch)
    file = tmp_path / "responses.csv"
    if text is not None:
        file.write_text(text)
    before = history.read_bytes()
    done = cvm("responses", "import", str(file), "--project", str(project))
    assert done.exit_code == 1
    assert ("file not found" if text is None else "2025-11-31") in done.stderr
    assert _version(history) == "0006_w_fixrev13"
    assert history.read_bytes() == before
