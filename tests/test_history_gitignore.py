"""A new user kept their project in git and ran `git add -A`: the history, .cvm/history.sqlite,
which holds every customer's contacts, responses and values, went into the repository (the
README's advice to ignore .cvm/ is easy to miss). The folder the engine creates for it now
ignores itself, as .pytest_cache does; a folder the user made is left as it is."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project


@pytest.fixture(autouse=True)
def _default_history(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CVM_HISTORY_URL")  # the default place, <project>/.cvm/


def _run(project: Path) -> None:
    result = CliRunner().invoke(app, ["run", "-p", str(project), "-q", "-o",
                                      str(project / "out")])
    assert result.exit_code == 0, result.output


def test_the_history_folder_ignores_itself(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    _run(project)
    assert (project / ".cvm" / "history.sqlite").is_file()
    assert (project / ".cvm" / ".gitignore").read_text() == (
        "# written by CVM Engine: the history holds customer data; keep it out of git\n*\n")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    listed = subprocess.run(["git", "-C", str(project), "status", "--porcelain",
                             "--untracked-files=all"], check=True, capture_output=True,
                            text=True).stdout
    assert ".cvm/" not in listed and "cvm.yaml" in listed


def test_a_folder_the_user_made_is_left_alone(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    (project / ".cvm").mkdir()
    _run(project)
    assert (project / ".cvm" / "history.sqlite").is_file()
    assert not (project / ".cvm" / ".gitignore").exists()
