"""`cvm plan --no-history` dry-runs a change as `cvm run --no-history` decides (a new user ran
`run --no-history` and found no way to plan the same way): without it the plan reads the
history, whose contact policies suppress customers the no-history run contacts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.history_runs import cvm, retail_copy, run, set_as_of


def test_plan_without_the_history_is_the_run_without_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    project = retail_copy(tmp_path)
    (project / "policies" / "contact_policies.yaml").write_text(
        "contact_policies:\n  - {id: monthly, kind: cap, max_contacts: 1, days: 30}\n")
    config = set_as_of(project, "2025-12-01")
    run(project, tmp_path / "run1")  # recorded: the next run's contact policy counts it
    set_as_of(project, "2025-12-15", config)
    proposal = tmp_path / "proposal" / "policies"
    proposal.mkdir(parents=True)
    shutil.copy(project / "policies" / "win_back.yaml", proposal / "win_back.yaml")
    with (proposal / "win_back.yaml").open("a") as fh:
        fh.write("# a note\n")

    def planned(*options: str) -> dict[str, float]:
        done = cvm("plan", "-p", str(project), "--proposed", str(proposal.parent), "--overlay",
                   "--json", *options)
        assert done.exit_code == 0, done.stderr
        doc = json.loads(done.stdout)
        assert doc["history"] is ("--no-history" not in options)
        return dict(doc["totals"])

    counts = json.loads((run(project, tmp_path / "free", "--no-history") / "manifest.json")
                        .read_text())["counts"]
    without, reading = planned("--no-history"), planned()
    assert (without["allocated_before"], without["suppressed_before"]) == (
        counts["allocated"], 0)
    assert reading["suppressed_before"] > 0  # the history's contact policy, as run2 would
    done = cvm("plan", "-p", str(project), "--proposed", str(proposal.parent), "--overlay",
               "--no-history")
    assert done.stdout.splitlines()[3] == (
        "history: not read (--no-history): both sides decided as cvm run --no-history decides")
