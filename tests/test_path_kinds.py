"""A folder given where a file is expected, or a file where a folder is, is the engine's error
with its exit code (1 for an input, 3 for an output), in its words with a hint: an analyst's
trial met `cvm report --spend /tmp` answered by the option parser, 'Error: Invalid value for
'--spend': file '/tmp' is a directory.', exit 2, as a usage error."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

runner = CliRunner()


@pytest.mark.parametrize(("args", "option", "expected", "hint"), [
    (["report", "--spend", "{folder}"], "--spend", "a marketing-spend file (CSV or YAML)",
     "name the file itself"),
    (["validate", "--config", "{folder}"], "--config", "a configuration file",
     "name the file itself (cvm.yaml), or give its folder with --project"),
    (["serve", "--key-file", "{folder}"], "--key-file", "a file holding the key",
     "name the file itself"),
])
def test_a_folder_where_a_file_is_expected(tmp_path: Path, args: list[str], option: str,
                                           expected: str, hint: str) -> None:
    project = copy_example_project(tmp_path)
    folder = tmp_path / "stuff"
    folder.mkdir()
    res = runner.invoke(app, [*(a.format(folder=folder) for a in args), "-p", str(project)])
    assert (res.exit_code, res.stderr) == (1, (
        f"error: {folder}: {option}: is a folder, expected {expected}\n  hint: {hint}\n"))


@pytest.mark.parametrize("option", ["--project", "--baseline"])
def test_a_file_where_a_folder_is_expected(tmp_path: Path, option: str) -> None:
    project = copy_example_project(tmp_path)
    config = project / "cvm.yaml"
    args = ["plan", "-p", str(project), "--baseline", str(config), "--proposed",
            str(project)] if option == "--baseline" else ["validate", "-p", str(config)]
    res = runner.invoke(app, args)
    assert (res.exit_code, res.stderr) == (1, (
        f"error: {config}: {option}: is a file, expected a project folder\n  hint: name the "
        "folder holding cvm.yaml (a configuration file of another name: --config FILE)\n"))


@pytest.mark.parametrize("option", ["--report", "--changes"])
def test_a_folder_to_write_a_plan_file_into_is_refused(tmp_path: Path, option: str) -> None:
    project = copy_example_project(tmp_path)
    folder = tmp_path / ("plan.md" if option == "--report" else "changes.csv")
    folder.mkdir()
    res = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(project), option,
                              str(folder)])
    assert res.exit_code == 3, res.output
    assert res.stderr.startswith(f"error: {option}: refused: {folder} is a folder, expected a "
                                 "file\n"), res.stderr


@pytest.mark.parametrize(("args", "code", "expected"), [
    (["plan", "--proposed", "{file}"], 1, "error: {file}: --proposed: is a file, expected a "
     "project folder\n  hint: name the folder holding cvm.yaml (a configuration file of "
     "another name: --config FILE)\n"),
    (["serve", "{file}"], 1, "error: {file}: FOLDER: is a file, expected a project folder\n"
     "  hint: name the folder holding cvm.yaml (a configuration file of another name: "
     "--config FILE)\n"),
    (["init", "{file}"], 3, "error: {file}: refused: is a file, expected a folder for the "
     "project\n  hint: name a new or empty folder\n"),
    (["score", "--engine", "dask", "--scratch", "{file}"], 3, "error: {file}: --scratch: is a "
     "file, expected a folder\n  hint: give --scratch a folder, or leave it out for a "
     "temporary folder\n"),
])
def test_a_file_where_a_command_s_folder_goes(tmp_path: Path, args: list[str], code: int,
                                               expected: str) -> None:
    """A data engineer's re-trial: these still got the option parser's 'Error: Invalid value
    for ...: dir ... is a file.', exit 2."""
    project = copy_example_project(tmp_path)
    file = tmp_path / "notes.txt"
    file.write_text("mine\n")
    given = [a.format(file=file) for a in args]
    res = runner.invoke(app, given if given[0] in ("init", "serve") else
                        [*given, "-p", str(project)])
    assert (res.exit_code, res.stderr) == (code, expected.format(file=file))
    assert file.read_text() == "mine\n"
