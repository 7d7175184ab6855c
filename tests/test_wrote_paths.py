"""What a command says it wrote is a path the user can open from where they ran it: with
`--project examples/cdnow` from the repository, `wrote output/` sent them to ./output, which
is not there (the folder is examples/cdnow/output)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project


@pytest.mark.parametrize(("command", "said"), [
    ("run", "wrote p/output/: actions.csv, decisions.csv, customers.csv, customers.parquet, "
            "allocation_summary.csv, briefs/, manifest.json"),
    ("score", "wrote p/output/customers.csv and p/output/customers.parquet"),
    ("decide", "wrote p/output/decisions.csv"),
])
def test_the_paths_written_are_from_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, said: str) -> None:
    project = copy_example_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, [command, "--project", "p", "--no-history"]
                                if command == "run" else [command, "--project", "p"])
    assert result.exit_code == 0, result.stderr
    assert said in result.stdout.splitlines()
    assert (project / "output").is_dir()


def test_from_the_project_itself_they_stay_short(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    copy_example_project(tmp_path)
    monkeypatch.chdir(tmp_path / "p")
    result = CliRunner().invoke(app, ["score"])
    assert result.exit_code == 0, result.stderr
    assert "wrote output/customers.csv and output/customers.parquet" in result.stdout
