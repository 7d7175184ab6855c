"""Learning counts no window the transactions do not cover (a new user: runs dated after the
export's last day were learnt as 0 conversions in 85 windows, the responses cut by 60-80%,
while cvm measure said 'too early to tell: ... nothing is measured yet')."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.history_runs import cvm, retail_copy, run, set_as_of


def test_windows_after_the_last_transaction_are_not_learnt_from(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    project = retail_copy(tmp_path)
    config = set_as_of(project, "2026-01-10")  # the transactions end on 2025-12-31
    run(project, tmp_path / "run1")
    set_as_of(project, "2026-04-01", config)
    said = cvm("run", "--project", str(project), "--out", str(tmp_path / "run2"))
    assert said.exit_code == 0, said.stderr
    learning = json.loads((tmp_path / "run2" / "manifest.json").read_text())["learning"]
    assert learning["runs_counted"] == 0 and learning["runs_waiting"] == 1
    assert {c["figure"] for c in learning["campaigns"].values()} == {"declared"}
    assert "counted once the transactions reach 2026-02-09 (they end 2025-12-31)" \
        in said.stdout, said.stdout
