"""``cvm run`` holds no read transaction on the history while it computes (the lead's finding on
the one read snapshot: on SQLite its shared lock made every writer wait for the whole of
compute, `cvm serve`'s journal included), and its decisions and run id still read the same
history: a write to what the run reads, committed while it reads, makes it compute again
(engine.run.settle); serve's interactions and events, which the run does not read, do not."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from engine.history.lookback import history_state
from engine.history.responses import import_responses
from engine.history.tables import events, interactions
from engine.run import pipeline
from engine.run.job import run_identity
from engine.serve.journal import Journal
from tests.history_runs import cvm, open_history, retail_copy, set_as_of

CUSTOMER = "C000003"
RESPONSE = f"customer_id,campaign,date,outcome\n{CUSTOMER},win_back,2024-06-01,converted\n"
WAIT = 10.0  # seconds a writer may take: a writer that waits for the run would take 120


def _project(tmp_path: Path, history_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = retail_copy(tmp_path)
    set_as_of(project, "2024-07-01")
    for name in ("transactions.csv", "customers.csv"):  # a few hundred rows: quick runs
        path = project / "examples" / "retail" / name
        path.write_text("".join(path.read_text().splitlines(keepends=True)[:300]))
    monkeypatch.setenv("CVM_HISTORY_URL", history_url)
    open_history(history_url, tmp_path).close()  # a history to read
    return project


def _run(project: Path, out: Path) -> tuple[str, str, str]:
    """(run id, CUSTOMER's last_outcome, the progress lines) of ``cvm run`` into ``out``."""
    done = cvm("run", "--project", str(project), "--out", str(out))
    assert done.exit_code == 0, done.stderr
    table = pd.read_csv(out / "customers.csv", dtype=str, keep_default_na=False)
    run_id = json.loads((out / "manifest.json").read_text())["run_id"]
    outcome = str(table.loc[table["customer_id"] == CUSTOMER, "last_outcome"].iloc[0])
    return run_id, outcome, done.stderr


def _during_decide(monkeypatch: pytest.MonkeyPatch, write: Callable[[int], None]) -> list[int]:
    """``write(n)`` on a thread of its own at the n-th decide (0 first), after the run's
    value-change attributes were read and before its contacts and run id are: the writer
    must be done within WAIT seconds, the run still computing. The calls, counted."""
    calls: list[int] = []
    decide = pipeline.decide

    def writing_decide(*args: Any, **kwargs: Any) -> Any:
        done: list[bool] = []
        calls.append(len(calls))
        thread = threading.Thread(target=lambda n=calls[-1]: (write(n), done.append(True)),
                                  daemon=True)
        thread.start()
        thread.join(WAIT)
        assert done, "the writer waited for the run"
        return decide(*args, **kwargs)

    monkeypatch.setattr(pipeline, "decide", writing_decide)
    return calls


def _counted_scores(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The value table's scorings, counted."""
    scores: list[int] = []
    score = pipeline.score

    def counted_score(*args: Any, **kwargs: Any) -> Any:
        scores.append(len(scores))
        return score(*args, **kwargs)

    monkeypatch.setattr(pipeline, "score", counted_score)
    return scores


def test_an_import_during_compute_commits_and_the_run_computes_again(
        history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path, history_url, monkeypatch)
    (tmp_path / "responses.csv").write_text(RESPONSE)

    def importing(n: int) -> None:
        if n == 0:
            store = open_history(history_url, tmp_path)
            try:
                import_responses(store, tmp_path / "responses.csv", "responses.csv")
            finally:
                store.close()

    calls = _during_decide(monkeypatch, importing)
    scores = _counted_scores(monkeypatch)
    during, outcome, lines = _run(project, tmp_path / "during")
    assert calls == [0, 1]  # computed again once: the import did not change the second read
    assert scores == [0]  # the value table kept: learning reads no row more
    assert "history: responses were imported while the run read it: computing again " \
           "(attempt 2 of 3)" in lines
    assert outcome == "converted"  # the decisions read the import ...
    manifest = json.loads((tmp_path / "during" / "manifest.json").read_text())
    store = open_history(history_url, tmp_path)
    try:  # ... and its id covers it: the history a run of this date reads now
        with store.reading() as conn:
            state = history_state(conn, dt.date(2024, 7, 1))
    finally:
        store.close()
    assert state[-1][0] == "responses"
    assert during == run_identity(dt.date(2024, 7, 1), manifest["inputs"], state)


def test_what_serve_records_during_compute_does_not_compute_again(
        history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path, history_url, monkeypatch)
    store = open_history(history_url, tmp_path)
    journal = Journal(store)
    at = dt.datetime(2024, 6, 30, tzinfo=dt.timezone.utc)

    def serving(n: int) -> None:  # as `cvm serve` records, and waits for it (flush)
        journal.add(events, {"id": f"e{n}", "customer_id": CUSTOMER, "type": "visit",
                             "occurred_at": at, "recorded_at": at, "attributes": "{}",
                             "fired": 1})
        journal.add(interactions, {"id": f"i{n}", "customer_id": CUSTOMER, "recorded_at": at,
                                   "run_id": "r", "source": "trigger", "event_id": f"e{n}"})
        assert journal.flush(WAIT)

    calls = _during_decide(monkeypatch, serving)
    try:
        _, outcome, lines = _run(project, tmp_path / "out")
    finally:
        journal.close()
    assert journal.written == 2 and journal.failed == 0
    assert calls == [0]
    assert "computing again" not in lines
    assert outcome == ""


def test_a_history_written_at_every_read_stops_the_run(
        history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path, history_url, monkeypatch)

    def importing(n: int) -> None:  # another response each time
        path = tmp_path / f"responses{n}.csv"
        path.write_text(RESPONSE.replace("2024-06-01", f"2024-06-0{n + 1}"))
        store = open_history(history_url, tmp_path)
        try:
            import_responses(store, path, path.name)
        finally:
            store.close()

    calls = _during_decide(monkeypatch, importing)
    done = cvm("run", "--project", str(project), "--out", str(tmp_path / "out"), "-q")
    assert calls == [0, 1, 2]
    assert done.exit_code == 1
    where = history_url.removeprefix("sqlite:///")  # the file, or the URL (no password)
    assert done.stderr.splitlines() == [
        f"error: {where}: history (CVM_HISTORY_URL): changed while the run read it, during "
        "each of its 3 computations (responses were imported): its decisions and its run id "
        "would not read the same history",
        "  hint: run again once the commands writing to this history (`cvm responses import`, "
        "other `cvm run`s) are done"]
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_the_stamp_moves_with_a_recording_or_an_import_only(
        history_url: str, tmp_path: Path) -> None:
    from engine.history.record import record_run
    from engine.history.stamp import history_stamp, what_changed
    from tests.history_runs import snapshot

    store = open_history(history_url, tmp_path)
    try:
        def stamp() -> tuple[int, ...]:
            with store.reading() as conn:
                return history_stamp(conn)

        empty = stamp()
        record_run(store, run_id="r1", as_of=dt.date(2024, 6, 1), project="p", inputs={},
                   snapshot=snapshot(5))
        recorded = stamp()
        (tmp_path / "responses.csv").write_text(
            "customer_id,campaign,date,outcome\nC0000001,retain_high_value,2024-06-02,"
            "converted\n")
        import_responses(store, tmp_path / "responses.csv", "responses.csv")
        imported = stamp()
        journal = Journal(store)
        at = dt.datetime(2024, 6, 3, tzinfo=dt.timezone.utc)
        journal.add(events, {"id": "e", "customer_id": "C0000001", "type": "visit",
                             "occurred_at": at, "recorded_at": at, "attributes": "{}",
                             "fired": 0})
        assert journal.flush(WAIT)
        served = stamp()
        journal.close()  # its writer thread stopped
    finally:
        store.close()
    assert [s[:6] for s in (empty, recorded, imported, served)] == [
        (0, 0, 0, 0, 0, 0), (1, 1, 0, 0, 0, 0), (1, 1, 1, 1, 0, 0), (1, 1, 1, 1, 0, 0)]
    assert empty[6] == "" != recorded[6] == imported[6] == served[6]  # the latest recording
    assert what_changed(empty, recorded) == "a run was recorded"
    assert what_changed(recorded, imported) == "responses were imported"
    assert what_changed(empty, imported) == "a run was recorded and responses were imported"
    assert what_changed(None, empty) == "the history was made"


def _recording_win_back(history_url: str, tmp_path: Path, buyers: Any) -> Callable[[int], None]:
    """At the first decide, a run of 1 April 2023 recorded that put ``buyers`` in win_back."""
    from engine.history.record import record_run
    from tests.history_runs import snapshot

    made = snapshot(len(buyers), status_p=[0.5, 0.5, 0, 0]).assign(
        customer_id=buyers, campaign="win_back", policy_id="win_back")

    def recording(n: int) -> None:
        if n == 0:
            store = open_history(history_url, tmp_path)
            try:
                record_run(store, run_id="r1", as_of=dt.date(2023, 4, 1), project="p",
                           inputs={}, snapshot=made)
            finally:
                store.close()

    return recording


def test_a_run_recorded_during_a_first_run_makes_it_score_again_for_learning(
        history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first run holds none of its transaction rows once scored (no run to learn from); a
    run recorded while it computes is one to learn from: the second computation scores again,
    so that learning reads the rows it needs (engine.history.learn.rows_learning_reads)."""

    project = _project(tmp_path, history_url, monkeypatch)
    scores = _counted_scores(monkeypatch)

    # a run on 1 April 2023 that put those who bought that April in win_back: converted
    rows = pd.read_csv(project / "examples" / "retail" / "transactions.csv")
    buyers = rows.loc[rows["OrderDate"].str.startswith("2023-04"), "CustomerID"].unique()
    calls = _during_decide(monkeypatch, _recording_win_back(history_url, tmp_path, buyers))
    _, _, lines = _run(project, tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    learnt = manifest["learning"]
    assert learnt["runs_counted"] == 1
    win_back = learnt["campaigns"]["win_back"]  # none converted without the rows
    assert win_back["assigned_converted"] + win_back["holdout_converted"] == len(buyers) > 0
    assert calls == [0, 1] and scores == [0, 1]
    assert "history: a run was recorded while the run read it: computing again " \
           "(attempt 2 of 3)" in lines


def test_a_computation_made_again_lets_the_previous_one_go(
        history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the value table is scored again (a run recorded meanwhile that learning reads),
    the first computation, its value table included, is no longer held while the second is
    made: the run's peak is one computation's, not two (a reviewer's finding)."""
    import gc
    import weakref

    from engine.run import job

    project = _project(tmp_path, history_url, monkeypatch)
    made: list[weakref.ref[Any]] = []
    compute = job.compute

    def computing(*args: Any, **kwargs: Any) -> Any:
        got = compute(*args, **kwargs)
        made.extend([weakref.ref(got), weakref.ref(got.scored)])
        return got

    monkeypatch.setattr(job, "compute", computing)
    alive: list[list[bool]] = []
    score = pipeline.score

    def scoring(*args: Any, **kwargs: Any) -> Any:
        gc.collect()
        alive.append([ref() is not None for ref in made])
        return score(*args, **kwargs)

    monkeypatch.setattr(pipeline, "score", scoring)
    buyers = pd.read_csv(project / "examples" / "retail" / "transactions.csv")["CustomerID"] \
        .unique()[:50]
    calls = _during_decide(monkeypatch, _recording_win_back(history_url, tmp_path, buyers))
    _run(project, tmp_path / "out")
    assert calls == [0, 1] and alive == [[], [False, False]]


@pytest.mark.parametrize("written", ["history made", "run of the same date"])
def test_a_write_learning_does_not_read_keeps_the_value_table(
        written: str, history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The history made by an import during a first run, or a run recorded on the run's own
    as-of date (learning reads the runs dated before it): the run computes again on the value
    table it has, without scoring again."""
    from engine.history.record import record_run
    from tests.history_runs import retail_copy, snapshot

    if written == "history made":
        project = retail_copy(tmp_path)  # no history until the import makes it
        set_as_of(project, "2024-07-01")
        monkeypatch.setenv("CVM_HISTORY_URL", history_url)
    else:
        project = _project(tmp_path, history_url, monkeypatch)
    (tmp_path / "responses.csv").write_text(RESPONSE)
    scores = _counted_scores(monkeypatch)

    def writing(n: int) -> None:
        if n == 0:
            store = open_history(history_url, tmp_path)
            try:
                if written == "history made":
                    import_responses(store, tmp_path / "responses.csv", "responses.csv")
                else:
                    record_run(store, run_id="r1", as_of=dt.date(2024, 7, 1), project="p",
                               inputs={}, snapshot=snapshot(5))
            finally:
                store.close()

    calls = _during_decide(monkeypatch, writing)
    _, _, lines = _run(project, tmp_path / "out")
    assert calls == [0, 1] and scores == [0]
    assert "computing again (attempt 2 of 3)" in lines
