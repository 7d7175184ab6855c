"""The commands that read the history (cvm history, cvm measure, cvm report; cvm explain,
cvm decide and cvm plan: review 13c) run SQLite's
quick check as cvm validate and cvm run do: a damaged history stops them with the same error
and exit code 1, never an answer read from a damaged file (issue 13's re-trial)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import Result

from engine.history import record
from tests.history_runs import cvm, damaged_history, open_history, retail_copy, snapshot

HINT = ("  hint: restore the file from a backup, or move it away: the next run starts a new "
        "history (without the runs and responses recorded so far, opt-outs included)")


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The retail project and its damaged history (tests.history_runs.damaged_history)."""
    return damaged_history(tmp_path_factory.mktemp("damaged"))


def _refused(done: Result, history: Path) -> None:
    assert done.exit_code == 1, done.output
    first, hint = done.stderr.splitlines()[:2]
    assert first.startswith(f"error: {history}: history (CVM_HISTORY_URL): is damaged: ")
    assert first.endswith(" (SQLite's quick_check)")
    assert hint == HINT
    assert done.stdout == ""


@pytest.fixture
def env(damaged: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    history = damaged.parent / "h.sqlite"
    monkeypatch.setenv("CVM_HISTORY_URL", str(history))
    return history


def test_history_refuses_a_damaged_history(damaged: Path, env: Path) -> None:
    _refused(cvm("history", "--project", str(damaged)), env)
    _refused(cvm("history", "C0000001", "--json", "--project", str(damaged)), env)


def test_measure_refuses_it(damaged: Path, env: Path, tmp_path: Path) -> None:
    _refused(cvm("measure", "--project", str(damaged), "--out", str(tmp_path / "o")), env)
    assert not (tmp_path / "o").exists()


def test_report_refuses_it(damaged: Path, env: Path, tmp_path: Path) -> None:
    _refused(cvm("report", "--project", str(damaged), "--out", str(tmp_path / "o")), env)
    assert not (tmp_path / "o").exists()


def test_explain_decide_and_plan_refuse_it(damaged: Path, env: Path, tmp_path: Path) -> None:
    _refused(cvm("explain", "C000001", "--project", str(damaged)), env)
    _refused(cvm("decide", "--project", str(damaged), "--out", str(tmp_path / "o")), env)
    assert not (tmp_path / "o").exists()
    _refused(cvm("plan", "--proposed", str(damaged), "--project", str(damaged)), env)


def test_a_damaged_block_is_said_to_be_damaged(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A block whose bytes were changed (SQLite's pages intact, so its quick check passes)
    does not decode: the history is damaged, not a folder's permissions (issue 13 trial 3)."""
    import sqlite3

    project = retail_copy(tmp_path)
    history = tmp_path / "h.sqlite"
    store = open_history(str(history), tmp_path)
    try:
        record.record_run(store, run_id="r1", as_of=dt.date(2025, 10, 1), project="t",
                          inputs={}, snapshot=snapshot(3000, seed=1))
    finally:
        store.close()
    with sqlite3.connect(history) as conn:
        data = bytearray(conn.execute("SELECT data FROM cvm_run_actions").fetchone()[0])
        middle = len(data) // 2
        data[middle:middle + 64] = bytes(b ^ 0x55 for b in data[middle:middle + 64])
        conn.execute("UPDATE cvm_run_actions SET data = ?", (bytes(data),))
    monkeypatch.setenv("CVM_HISTORY_URL", str(history))
    done = cvm("measure", "--project", str(project), "--out", str(tmp_path / "o"))
    assert done.exit_code == 1, done.output
    first, hint = done.stderr.splitlines()[:2]
    assert first.startswith(f"error: {history}: history (CVM_HISTORY_URL): is damaged: a "
                            "stored block cannot be read (")
    assert hint == HINT


def test_a_block_that_decodes_to_bad_offsets_is_damaged_not_a_crash() -> None:
    """A block whose middle bytes changed may still decode, with offsets pointing out of it:
    read whole it is refused (Arrow's validation, which the store names as damage), where it
    crashed the process when used (review 13d: `cvm run` exited 139 on such a values block)."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    from engine.history.block_format import read_block

    sink = pa.BufferOutputStream()
    table = pa.table({"customer_id": [f"C{i:07d}" for i in range(2000)],
                      "total_value": [float(i) for i in range(2000)]})
    with ipc.new_stream(sink, table.schema) as writer:  # uncompressed: it still decodes
        writer.write_table(table)
    data = bytearray(sink.getvalue().to_pybytes())
    at = 1024  # among the ids' offsets (after the messages' headers, before the text)
    data[at:at + 64] = bytes(b ^ 0x55 for b in data[at:at + 64])
    assert ipc.open_stream(pa.py_buffer(bytes(data))).read_all().num_rows == 2000  # decodes
    with pytest.raises(pa.ArrowInvalid):
        read_block(bytes(data))


def test_serve_refuses_it_before_it_listens(damaged: Path, env: Path, tmp_path: Path) -> None:
    """``cvm serve`` records interactions into the history: a damaged one stops it at start,
    with validate's error, rather than serving (and writing) from it."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:  # a free port (the service, if it started, would listen)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = tmp_path / "run"
    done = cvm("run", "--project", str(damaged), "--out", str(out), "-q", "--no-history")
    assert done.exit_code == 0, done.stderr
    served = subprocess.run(
        [sys.executable, "-m", "engine", "serve", str(damaged), "--run", str(out),
         "--port", str(port), "-q"], capture_output=True, text=True, timeout=60,
        env={**os.environ, "CVM_SERVE_KEY": "k" * 32, "CVM_HISTORY_URL": str(env)})
    assert served.returncode == 1, served.stderr
    first, hint = served.stderr.splitlines()[:2]
    assert first.startswith(f"error: {env}: history (CVM_HISTORY_URL): is damaged: ")
    assert first.endswith(" (SQLite's quick_check)")
    assert hint == HINT
