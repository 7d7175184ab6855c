"""``cvm run`` writes the value table's and the decisions' files while the allocation runs
(engine/run/early.py, issue 16: the write stage halved): they are in the run's staging folder
before the allocation ends, the same bytes as before, and an error after they were started
leaves the earlier output as it was, with no staging folder behind."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.errors import EXIT_INPUT, InputError, Problem
from engine.output.commit import StagedWriteFailed
from engine.output.folder import TEMP_PREFIX
from engine.run import pipeline
from engine.run.early import EARLY
from tests.history_runs import cvm, retail_copy, run

WAIT = 30.0  # seconds the early files may take at the bundled example's size (milliseconds)


def _staged_early(out: Path) -> list[str]:
    """The early files complete in ``out``'s staging folder, waited for up to WAIT seconds
    (their writers run beside the allocation): [] if they never come."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for stage in out.glob(f"{TEMP_PREFIX}*"):
            if all((stage / name).is_file() and (stage / name).stat().st_size
                   for name in EARLY):
                time.sleep(0.5)  # the last bytes of the last file
                return sorted(p.name for p in stage.iterdir() if p.name in EARLY)
        time.sleep(0.05)
    return []


def _watch_allocation(monkeypatch: pytest.MonkeyPatch, out: Path, *,
                      fail: bool = False) -> list[list[str]]:
    """What the staging folder holds when the allocation starts (one list per allocation);
    ``fail``: the allocation then stops the run with an input error."""
    seen: list[list[str]] = []
    allocate = pipeline.allocate

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(_staged_early(out))
        if fail:
            raise InputError(Problem("the allocation failed (a test)"))
        return allocate(*args, **kwargs)

    monkeypatch.setattr(pipeline, "allocate", watched)
    return seen


def _same_early_files(out: Path, before: Path) -> None:
    for name in EARLY:
        assert (out / name).read_bytes() == (before / name).read_bytes(), name


def test_the_value_tables_files_are_written_while_the_allocation_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = retail_copy(tmp_path)
    before = run(project, tmp_path / "before", "--no-history")
    out = tmp_path / "out"
    seen = _watch_allocation(monkeypatch, out)
    run(project, out, "--no-history")
    assert seen == [sorted(EARLY)]
    _same_early_files(out, before)  # as a run whose files were written after it
    assert not list(out.glob(f"{TEMP_PREFIX}*"))


def test_an_error_after_the_early_files_started_leaves_the_earlier_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = retail_copy(tmp_path)
    out = run(project, tmp_path / "out", "--no-history")
    files = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    seen = _watch_allocation(monkeypatch, out, fail=True)
    done = cvm("run", "--project", str(project), "--out", str(out), "-q", "--no-history")
    assert done.exit_code == EXIT_INPUT, done.stderr
    assert done.stderr == "error: the allocation failed (a test)\n"
    assert seen == [sorted(EARLY)]  # they had been written, in the staging folder only
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == files


def test_an_error_before_the_decisions_leaves_no_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = retail_copy(tmp_path)

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise InputError(Problem("the policies failed (a test)"))

    monkeypatch.setattr(pipeline, "decide", failing)
    out = tmp_path / "new" / "out"
    done = cvm("run", "--project", str(project), "--out", str(out), "-q", "--no-history")
    assert done.exit_code == EXIT_INPUT, done.stderr
    assert not (tmp_path / "new").exists()  # the folders the run made for its output, removed


def test_a_run_scored_elsewhere_writes_them_after_the_allocation(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # --engine dask hands its own scoring: the command's memory bounds such a run, so the
    # value table's Arrow copies are not held beside the allocation's options
    from engine.run.build import load_project
    from engine.run.job import run as run_job
    from engine.value.score import score

    project = retail_copy(tmp_path)
    before = run(project, tmp_path / "before", "--no-history")
    out = tmp_path / "out"
    seen = _watch_allocation(monkeypatch, out)
    monkeypatch.setattr("tests.test_run_early_files.WAIT", 1.0)
    loaded = load_project(project)
    run_job(loaded, out=out, history=False,
            scoring=lambda progress: score(loaded.config, tiers=loaded.tiers))
    assert seen == [[]]  # none staged when the allocation started
    _same_early_files(out, before)


def test_an_input_that_cannot_be_read_is_not_the_output_folders_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the computation runs while the files are staged: an OSError of reading (an input made
    # unreadable or removed meanwhile, a Dask cluster lost) is not "--out: cannot write here"
    import errno

    from engine.run import job

    project = retail_copy(tmp_path)
    hashed = job.file_sha256
    template = project / "templates" / "brief.html.j2"

    def unreadable(path: Path) -> str:
        if Path(path) == template:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return hashed(path)

    monkeypatch.setattr(job, "file_sha256", unreadable)
    out = tmp_path / "new" / "out"
    done = cvm("run", "--project", str(project), "--out", str(out), "-q", "--no-history")
    assert (done.exit_code, done.stderr) == (EXIT_INPUT, (
        f"error: {template}: cannot be read: Permission denied\n"
        "  hint: check the file's permissions, or whether it was moved or removed while the "
        "command ran\n"))
    assert not (tmp_path / "new").exists()


def test_a_write_that_failed_on_a_writer_thread_is_the_output_folders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a second attempt waits for the first one's writes: their failure is the output's
    import errno

    from engine.run import early

    def full(*args: Any, **kwargs: Any) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    project = retail_copy(tmp_path)
    monkeypatch.setattr(early, "write_csv", full)
    files = early.EarlyFiles.__new__(early.EarlyFiles)
    stage = type("S", (), {"path": lambda self, rel: tmp_path / rel})()
    early.EarlyFiles.__init__(files, stage)  # type: ignore[arg-type]
    with files:
        from engine.run.build import load_project
        from engine.value.score import score

        loaded = load_project(project)
        table = score(loaded.config, tiers=loaded.tiers).table
        files.start(table, table[["customer_id"]])
        with pytest.raises(StagedWriteFailed) as failed:
            files.start(table, table[["customer_id"]])
    assert failed.value.error.errno == errno.ENOSPC


def _slow_writers(monkeypatch: pytest.MonkeyPatch, seconds: float) -> list[tuple[str, bool]]:
    """The early writers made slow; each records its file and whether its folder was still
    there when it had written (False: the staging folder was removed under it)."""
    from engine.run import early

    done: list[tuple[str, bool]] = []

    def slowed(write: Callable[..., str]) -> Callable[..., str]:
        def slow(table: Any, path: Path, **kwargs: Any) -> str:
            time.sleep(seconds)
            try:
                return write(table, path, **kwargs)
            finally:
                done.append((path.name, path.is_file()))
        return slow

    monkeypatch.setattr(early, "write_csv", slowed(early.write_csv))
    monkeypatch.setattr(early, "write_parquet", slowed(early.write_parquet))
    return done


def test_an_error_while_the_early_files_are_written_waits_for_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = retail_copy(tmp_path)
    done = _slow_writers(monkeypatch, 1.0)

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise InputError(Problem("the allocation failed (a test)"))

    monkeypatch.setattr(pipeline, "allocate", failing)
    out = tmp_path / "out"
    result = cvm("run", "--project", str(project), "--out", str(out), "-q", "--no-history")
    assert (result.exit_code, result.stderr) == (
        EXIT_INPUT, "error: the allocation failed (a test)\n")
    # the writes under way (two threads) ended in their folder before it was removed; the
    # one not started was dropped
    assert len(done) == 2 and all(ok for _, ok in done)
    assert not out.exists()


def test_a_second_computation_waits_for_the_first_ones_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib
    import json
    import threading

    from engine.run import early
    from engine.run.recorder import Recorder

    project = retail_copy(tmp_path)
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    second = threading.Event()  # the second computation hands its files over
    marks: dict[str, float] = {}
    write_csv, start = early.write_csv, early.EarlyFiles.start

    def first_decisions_late(table: Any, path: Path, **kwargs: Any) -> str:
        # the first computation's decisions are still being written when the second one
        # hands its files over: were they not waited for, they would be written last
        if path.name == "decisions.csv" and "first" not in marks:
            second.wait(10.0)
            time.sleep(0.5)
            digest = write_csv(table, path, **kwargs)
            marks["first"] = time.monotonic()
            return digest
        return write_csv(table, path, **kwargs)

    def handed(self: Any, *args: Any) -> None:
        again = bool(self._jobs)  # the first computation's writes were handed over before
        if again:
            second.set()
        start(self, *args)
        if again:
            marks["handed"] = time.monotonic()

    monkeypatch.setattr(early, "write_csv", first_decisions_late)
    monkeypatch.setattr(early.EarlyFiles, "start", handed)
    decide, attempts = pipeline.decide, [0]

    def decided(*args: Any, **kwargs: Any) -> Any:
        attempts[0] += 1
        made = decide(*args, **kwargs)
        return made.assign(reason="FIRST") if attempts[0] == 1 else made

    monkeypatch.setattr(pipeline, "decide", decided)
    states = iter(["before", "moved", "moved"])  # the history changed during the first one
    monkeypatch.setattr(Recorder, "stamp", lambda self: next(states))
    state = Recorder.state
    monkeypatch.setattr(Recorder, "state",
                        lambda self, as_of: (state(self, as_of)[0], next(states)))
    out = run(project, tmp_path / "out")
    assert attempts[0] == 2
    assert marks["first"] < marks["handed"]  # waited for before the second's were written
    assert "FIRST" not in (out / "decisions.csv").read_text()  # the second computation's
    manifest = json.loads((out / "manifest.json").read_text())
    for name, digest in manifest["outputs"].items():
        assert digest == hashlib.sha256((out / name).read_bytes()).hexdigest(), name


def test_a_staging_path_that_cannot_be_made_is_the_output_folders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from engine.output.commit import Stage

    def full(self: Stage, rel: str) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device", str(self.folder / rel))

    project = retail_copy(tmp_path)
    monkeypatch.setattr(Stage, "path", full)
    out = tmp_path / "out"
    done = cvm("run", "--project", str(project), "--out", str(out), "-q", "--no-history")
    assert done.exit_code == 3, done.stderr
    assert done.stderr.startswith(f"error: --out: cannot write here: {out}/.cvm-tmp-")
    assert "No space left on device\n" in done.stderr
