"""`cvm history --forget RUN`: a run taken out of the history (a closed-loop trial: a run
recorded with a mistyped as-of date could not be taken back, its contacts counted by every
later run's contact policies). The next run reads the history as if the run had never been
made; what forgetting changes is said first; it is asked on a terminal, --yes without one."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from engine.history import record
from engine.history.stamp import history_stamp, what_changed
from tests.history_runs import cvm, open_history, retail_copy, snapshot
from tests.test_run_recorded_as import _as_of
from tests.test_terminal import _in_terminal

OUTPUTS = ("actions.csv", "decisions.csv", "customers.csv")


def _run(project: Path, out: Path) -> str:
    done = cvm("run", "-p", str(project), "-o", str(out), "-q")
    assert done.exit_code == 0, done.stderr
    return done.stderr


def _files(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS}


def test_a_forgotten_run_is_read_by_no_later_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run 1 on 1 January, run 2 mistyped 10 January (meant 10 February): a run on 12 January
    counts run 2's contacts (its email cap, its monthly total). Once run 2 is forgotten, the
    12 January run is byte for byte the run made in a history that never held it."""
    project = retail_copy(tmp_path)
    history = tmp_path / "h.sqlite"
    monkeypatch.setenv("CVM_HISTORY_URL", str(history))
    _as_of(project, "2026-01-01")
    _run(project, tmp_path / "a")
    shutil.copy(history, tmp_path / "only_a.sqlite")
    _as_of(project, "2026-01-10")
    _run(project, tmp_path / "typo")
    _as_of(project, "2026-01-12")
    _run(project, tmp_path / "read_typo")  # run 3: reads run 2's contacts
    for number in (3, 2):
        gone = cvm("history", "-p", str(project), "--forget", str(number), "--yes")
        assert gone.exit_code == 0, gone.stderr
    listed = cvm("history", "-p", str(project), "--json")
    assert [r["as_of"] for r in json.loads(listed.stdout)] == ["2026-01-01"]
    _run(project, tmp_path / "after")
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "only_a.sqlite"))
    _run(project, tmp_path / "never")
    assert _files(tmp_path / "after") == _files(tmp_path / "never")
    # the control: run 2's contacts did change the 12 January run
    assert _files(tmp_path / "read_typo") != _files(tmp_path / "never")


def test_what_forgetting_changes_is_said(history_url: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Three runs: the first made again on its as-of date by the second, then a later date.
    Forgetting the second: the first is looked back on again, the third read it. On SQLite
    and PostgreSQL."""
    store = open_history(history_url, tmp_path)
    try:
        for k, day in enumerate((1, 1, 8)):
            record.record_run(store, run_id=f"r{k}", as_of=dt.date(2025, 1, day), project="t",
                              inputs={}, snapshot=snapshot(300, seed=k))
    finally:
        store.close()
    monkeypatch.setenv("CVM_HISTORY_URL", history_url)
    project = retail_copy(tmp_path)
    listed = json.loads(cvm("history", "-p", str(project), "--json").stdout)
    second = listed[1]
    done = cvm("history", "-p", str(project), "--forget", "2", "--yes")
    assert done.exit_code == 0, done.stderr
    where = history_url.removeprefix("sqlite:///")
    if "postgresql" in history_url:
        where = cvm("history", "-p", str(project)).stdout.split(" in ", 1)[1].split(":\n")[0]
    assert done.stdout == (
        f"Forgot run 2 (as of 2025-01-01, recorded at {second['recorded_at']}: 300 customers, "
        f"{second['allocated']:,} contacts allocated) in {where}.\n"
        "  run 1, of the same as-of date, is looked back on again for 2025-01-01\n"
        "  1 later run(s) (3) read it when they were made (contacts, changes, learning): what "
        "they recorded stays as made; the next runs no longer count its contacts\n"
        "  its output folder and the responses imported are not touched\n")
    runs = json.loads(cvm("history", "-p", str(project), "--json").stdout)
    assert [(r["run"], r["run_id"], r["replaced_by"]) for r in runs] == [
        (1, "r0", None), (3, "r2", None)]
    # run 3 read run 2, not run 1; with run 2 gone, that is no longer known for sure (a review:
    # "read it" was said)
    again = cvm("history", "-p", str(project), "--forget", "1", "--yes")
    assert again.stdout.splitlines()[1:] == [
        "  1 later run(s) (3) may have read it: a run forgotten before them, its date not known "
        "now, may have been the one of its date they read",
        "  its output folder and the responses imported are not touched"]


def test_only_the_run_described_is_forgotten(history_url: str, tmp_path: Path) -> None:
    """A review: the run was described from one read and deleted by its number in another;
    on SQLite a run recorded meanwhile after the latest was forgotten takes that number."""
    store = open_history(history_url, tmp_path)
    try:
        record.record_run(store, run_id="r0", as_of=dt.date(2025, 1, 1), project="t",
                          inputs={}, snapshot=snapshot(20))
        assert not record.forget_run(store, 1, "another")  # not the run described
        assert not record.forget_run(store, 2, "r0")  # no such run
        with store.reading() as conn:
            assert history_stamp(conn)[0] == 1
        assert record.forget_run(store, 1, "r0")
        with store.reading() as conn:
            assert history_stamp(conn)[0] == 0
    finally:
        store.close()


@pytest.mark.parametrize(("args", "code", "stderr"), [
    (["--forget", "7", "--yes"], 1,
     "error: {h}: --forget: found run 7, expected one of the runs recorded (1-2)\n"
     "  hint: the run's number is the first column of `cvm history`\n"),
    (["--forget", "2"], 2,
     "error: --forget: forgetting run 2 cannot be undone, and there is no terminal to ask on\n"
     "  hint: cvm history --forget 2 --yes\n"),
    (["--yes"], 2,
     "error: --forget: --yes goes with --forget RUN\n"
     "  hint: cvm history --forget RUN --yes (RUN: a number of the run list that `cvm "
     "history` prints)\n"),
    (["--forget", "1", "--forget", "2", "--yes"], 2,  # a re-trial: Typer kept the last
     "error: --forget: found --forget 2 times, expected one run at a time\n"
     "  hint: forget each run with its own command, reading what it says of the others\n"),
    (["C0000001", "--forget", "2", "--yes"], 2,
     "error: --forget: --forget RUN takes a run out of the history: no CUSTOMER_ID or --json "
     "beside it\n"
     "  hint: cvm history --forget RUN --yes (RUN: a number of the run list that `cvm "
     "history` prints)\n"),
])
def test_a_forget_that_cannot_be_done_changes_nothing(
        args: list[str], code: int, stderr: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    history = tmp_path / "h.sqlite"
    store = open_history(str(history), tmp_path)
    try:
        for k in range(2):
            record.record_run(store, run_id=f"r{k}", as_of=dt.date(2025, 1, 1 + k),
                              project="t", inputs={}, snapshot=snapshot(20, seed=k))
    finally:
        store.close()
    monkeypatch.setenv("CVM_HISTORY_URL", str(history))
    project = retail_copy(tmp_path)
    before = history.read_bytes()
    done = cvm("history", "-p", str(project), *args)
    assert (done.exit_code, done.stderr) == (code, stderr.format(h=history))
    assert done.stdout == ""
    assert history.read_bytes() == before


def test_no_run_to_forget_without_a_history(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    done = cvm("history", "-p", str(retail_copy(tmp_path)), "--forget", "1", "--yes")
    assert (done.exit_code, done.stderr) == (
        1, f"error: {tmp_path / 'h.sqlite'}: --forget: found run 1, expected a run: none is "
           "recorded yet\n  hint: the run's number is the first column of `cvm history`\n")
    assert not (tmp_path / "h.sqlite").exists()


@pytest.mark.parametrize("answer", [b"n\n", b"y\n"])
def test_on_a_terminal_forgetting_is_asked(answer: bytes, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    history = tmp_path / "h.sqlite"
    store = open_history(str(history), tmp_path)
    try:
        record.record_run(store, run_id="r0", as_of=dt.date(2025, 1, 1), project="t",
                          inputs={}, snapshot=snapshot(20))
    finally:
        store.close()
    monkeypatch.setenv("CVM_HISTORY_URL", str(history))
    project = retail_copy(tmp_path)
    # answered once the question's space is written (before it, its echo came first)
    code, text = _in_terminal(["history", "-p", str(project), "--forget", "1"],
                              (b"[y/N]: ", answer))
    text = text.replace("\r\n", "\n")
    assert code == 0, text
    assert text.startswith("run 1 (as of 2025-01-01, recorded at ")
    assert "  its output folder and the responses imported are not touched\n" \
           "Forget run 1? [y/N]: " in text
    left = cvm("history", "-p", str(project), "--json").stdout
    if answer == b"n\n":
        assert text.endswith("\nNothing forgotten.\n")
        assert '"run_id": "r0"' in left
    else:
        assert "\nForgot run 1 (as of 2025-01-01" in text
        assert left.strip() == "[]"


def test_a_forget_and_a_recording_during_a_run_s_reads_move_the_stamp(
        history_url: str, tmp_path: Path) -> None:
    """On SQLite the run recorded after the latest was forgotten takes its id again: the
    count and highest id are as they were, the time of the latest recording is not."""
    store = open_history(history_url, tmp_path)
    try:
        def stamp() -> tuple[object, ...]:
            with store.reading() as conn:
                return history_stamp(conn)

        for k in range(2):
            record.record_run(store, run_id=f"r{k}", as_of=dt.date(2025, 1, 1 + k),
                              project="t", inputs={}, snapshot=snapshot(20, seed=k))
        before = stamp()
        record.forget_run(store, 2)
        forgotten = stamp()
        record.record_run(store, run_id="r2", as_of=dt.date(2025, 1, 2), project="t",
                          inputs={}, snapshot=snapshot(20, seed=2))
        after = stamp()
    finally:
        store.close()
    assert before != after
    if history_url.startswith("sqlite"):  # the case the time of the latest recording is for
        assert before[:6] == after[:6]
    assert what_changed(before, forgotten) == "a run was forgotten"
    assert what_changed(forgotten, after) == "a run was recorded"
    assert what_changed(before, after) == "a run was forgotten and another recorded"


def test_a_replaced_run_names_the_runs_that_read_it_before_its_replacement(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A re-trial: run 2 (8 January) read run 1 (1 January), then run 3 made 1 January again;
    forgetting run 1 named no reader."""
    history = tmp_path / "h.sqlite"
    store = open_history(str(history), tmp_path)
    try:
        for k, day in enumerate((1, 8, 1)):
            record.record_run(store, run_id=f"r{k}", as_of=dt.date(2025, 1, day), project="t",
                              inputs={}, snapshot=snapshot(20, seed=k))
    finally:
        store.close()
    monkeypatch.setenv("CVM_HISTORY_URL", str(history))
    done = cvm("history", "-p", str(retail_copy(tmp_path)), "--forget", "1", "--yes")
    assert done.exit_code == 0, done.stderr
    assert done.stdout.splitlines()[1:] == [
        "  replaced by run 3 of the same as-of date: the next runs do not read it either way",
        "  1 later run(s) (2) read it when they were made (contacts, changes, learning): what "
        "they recorded stays as made",
        "  its output folder and the responses imported are not touched"]
