"""A run reads its look-backs and the history state its run id covers in one read snapshot
(review 8c: the state was read in a transaction of its own after the look-backs, so a response
import committed in between was covered by the id but unread by the decisions: two runs with
different last_outcomes shared an id)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from engine.errors import InputError
from engine.history import store as store_module
from engine.history.responses import import_responses
from engine.run import pipeline
from tests.history_runs import cvm, open_history, retail_copy, set_as_of

CUSTOMER = "C000003"
RESPONSE = f"customer_id,campaign,date,outcome\n{CUSTOMER},win_back,2024-06-01,converted\n"


def _run(project: Path, out: Path) -> tuple[str, str]:
    """(run id, CUSTOMER's last_outcome) of ``cvm run`` into ``out``."""
    done = cvm("run", "--project", str(project), "--out", str(out), "-q")
    assert done.exit_code == 0, done.stderr
    table = pd.read_csv(out / "customers.csv", dtype=str, keep_default_na=False)
    run_id = json.loads((out / "manifest.json").read_text())["run_id"]
    return run_id, str(table.loc[table["customer_id"] == CUSTOMER, "last_outcome"].iloc[0])


def test_an_import_between_the_reads_is_either_read_and_covered_or_neither(
        history_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    project = retail_copy(tmp_path)
    set_as_of(project, "2024-07-01")
    for name in ("transactions.csv", "customers.csv"):  # a few hundred rows: quick runs
        path = project / "examples" / "retail" / name
        path.write_text("".join(path.read_text().splitlines(keepends=True)[:300]))
    monkeypatch.setenv("CVM_HISTORY_URL", history_url)
    open_history(history_url, tmp_path).close()  # a history to read
    (tmp_path / "responses.csv").write_text(RESPONSE)
    committed: list[bool] = []
    decide = pipeline.decide

    def importing_decide(*args: Any, **kwargs: Any) -> Any:
        # after the value-change attributes were read, before the run id's state is
        if not committed:
            monkeypatch.setattr(store_module, "BUSY_SECONDS", 0.2)  # SQLite: it waits for
            store = None                                           # the run's snapshot
            try:
                store = open_history(history_url, tmp_path)
                import_responses(store, tmp_path / "responses.csv", "responses.csv")
                committed.append(True)
            except InputError as exc:  # SQLite: locked by the run's read snapshot
                assert "locked" in exc.format()
                committed.append(False)
            finally:
                if store is not None:
                    store.close()
                monkeypatch.setattr(store_module, "BUSY_SECONDS", 120)
        return decide(*args, **kwargs)

    monkeypatch.setattr(pipeline, "decide", importing_decide)
    during, outcome = _run(project, tmp_path / "during")
    monkeypatch.setattr(pipeline, "decide", decide)
    assert committed == [not history_url.endswith(".sqlite")]
    assert outcome == ""  # read before the import
    if not committed[0]:
        store = open_history(history_url, tmp_path)
        import_responses(store, tmp_path / "responses.csv", "responses.csv")
        store.close()
    after, outcome_after = _run(project, tmp_path / "after")
    assert outcome_after == "converted"
    assert during != after  # the run that did not read the response is not its id
