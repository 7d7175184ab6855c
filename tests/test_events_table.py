"""`cvm events` says when the value table in the run folder is not the run's (issue 14, review
finding 2: `cvm score` writes customers.parquet, without stages, into the run folder)."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project


def test_a_table_written_since_the_run_is_said(tmp_path: Path) -> None:
    folder = copy_example_project(tmp_path)
    shutil.copytree(ROOT / "triggers", folder / "triggers")
    runner = CliRunner()
    events = ["events", str(ROOT / "examples" / "retail" / "events.csv"), "--project",
              str(folder), "--quiet"]
    assert runner.invoke(app, ["run", "--project", str(folder), "--no-history",
                               "--quiet"]).exit_code == 0
    assert runner.invoke(app, events).output == ""
    assert runner.invoke(app, ["score", "--project", str(folder), "--out", str(
        folder / "output"), "--quiet"]).exit_code == 0  # the run's folder, named
    result = runner.invoke(app, events)
    assert result.exit_code == 0
    assert result.output.startswith("warning: customers.parquet is not the one run ")
    assert "written since, e.g. by cvm score" in result.output
