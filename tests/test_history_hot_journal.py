"""A writer killed in the middle of a transaction on the SQLite history (kill -9 while `cvm run`
records) leaves a rollback journal beside the file: SQLite rolls it back when the file is next
opened for writing. Every command then reads the history as it was before, the read-only ones
(validate, history, measure, the checks before a run) included, which once all failed with
"attempt to write a readonly database" until another program opened the file (issue 13 trial)."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.history_runs import cvm, retail_copy, run

KILLED_WRITER = """
import os, signal, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA cache_size = 1")  # the changed pages go to the file before the commit
conn.execute("BEGIN IMMEDIATE")
conn.execute("DELETE FROM cvm_run_actions")
conn.execute("CREATE TABLE half_written (x BLOB)")
conn.executemany("INSERT INTO half_written VALUES (?)", ((os.urandom(2000),) for _ in range(500)))
os.kill(os.getpid(), signal.SIGKILL)
"""


def _dump(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.close()


@pytest.mark.parametrize("command", [("history",), ("validate",), ("measure",), ("run",)])
def test_a_killed_write_is_rolled_back_by_the_next_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]) -> None:
    history = tmp_path / "history.sqlite"
    monkeypatch.setenv("CVM_HISTORY_URL", str(history))
    project = retail_copy(tmp_path)
    run(project, tmp_path / "first")
    before = _dump(history)
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(history)], check=False)
    assert killed.returncode < 0  # killed, not finished
    journal = history.with_name(history.name + "-journal")
    assert journal.stat().st_size > 0  # a hot journal: the file holds half a transaction
    args = [*command, "--project", str(project)]
    if command == ("run",):
        args += ["--out", str(tmp_path / "second"), "-q"]
    done = cvm(*args)
    assert done.exit_code == 0, done.output
    assert not journal.exists()
    if command != ("run",):
        assert _dump(history) == before
