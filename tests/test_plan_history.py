"""`cvm plan` reads the project's own history (issue 13): each side of a plan is scored from a
folder of its own, and a history named relative to the project (the default
`.cvm/history.sqlite`, a relative `history:` or CVM_HISTORY_URL) must still be the project's,
or the plan would show no learning, no contact policies and no value changes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from engine.cli import app
from tests.history_runs import learning_proposal, retail_copy


def cvm(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("where", ["default", "cvm.yaml", "environment"])
def test_plan_learns_from_the_projects_own_history(
        where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    retail = retail_copy(tmp_path)
    monkeypatch.delenv("CVM_HISTORY_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # a path relative to the project is not one relative to here
    config = (retail / "cvm.yaml").read_text()
    if where == "cvm.yaml":
        config += "history: memory/runs.sqlite\n"
    elif where == "environment":
        monkeypatch.setenv("CVM_HISTORY_URL", "memory/runs.sqlite")
    (retail / "cvm.yaml").write_text(config.replace("as_of: null", "as_of: 2025-09-01"))
    done = cvm("run", "--project", str(retail), "--out", str(tmp_path / "run1"), "-q")
    assert done.exit_code == 0, done.stderr
    (retail / "cvm.yaml").write_text(config)
    expected = retail / (".cvm/history.sqlite" if where == "default" else "memory/runs.sqlite")
    assert expected.is_file()
    proposal = learning_proposal(retail, tmp_path)
    plan = cvm("plan", "--project", str(retail), "--proposed", str(proposal))
    assert plan.exit_code == 0, plan.stderr
    assert "Expected responses learnt from the history" in plan.stdout
    first = pd.read_csv(tmp_path / "run1" / "actions.csv")
    contacted = int(((first["campaign"] == "win_back") & (first["status"] == "allocated")).sum())
    table = plan.stdout.split("Expected responses learnt from the history", 1)[1]
    line = table.split("\n  win_back ", 1)[1].splitlines()[0]
    assert f"from {contacted:,} contacted, holdout " in line  # the first run, read back
