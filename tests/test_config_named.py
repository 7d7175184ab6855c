"""A project read with ``--config FILE``: every message names FILE, the file the command read,
not cvm.yaml (a hint "set data.delimiter in cvm.yaml" sent that user to a file the command
did not read); without --config, and outside a command, messages say cvm.yaml."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.project.location import config_shown
from tests.history_runs import retail_copy


def _other(tmp_path: Path, old: str, new: str) -> Path:
    """The retail project with its configuration in other.yaml, ``old`` replaced by ``new``."""
    project = retail_copy(tmp_path)
    config = project / "cvm.yaml"
    text = config.read_text()
    assert old in text
    (project / "other.yaml").write_text(text.replace(old, new, 1))
    config.unlink()
    return project


def test_a_missing_column_is_mapped_in_the_file_given(tmp_path: Path) -> None:
    project = _other(tmp_path, "    customer_id: CustomerID\n    date:",
                     "    customer_id: CustID\n    date:")
    result = CliRunner().invoke(app, ["validate", "--config", str(project / "other.yaml")])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "error: examples/retail/transactions.csv:1: header: column 'CustID' (mapped to "
        "customer_id in other.yaml) not found; columns present: 'OrderID', "
        "'CustomerID', 'OrderDate', 'Category', 'SalesChannel', 'Qty', 'NetAmount', 'Cost'")
    assert config_shown() == "cvm.yaml"  # the command's name is its own


@pytest.mark.parametrize(("old", "new", "said", "command"), [
    ('delimiter: ","', 'delimiter: ";"', "set data.delimiter: ',' in other.yaml", "validate"),
    ('delimiter: ","', 'delimiter: ";"', "set data.delimiter: ',' in other.yaml", "run"),
    ("  # date_format:", '  date_format: "%d/%m/%Y"\n  # was:',  # rows: read by run only
     "remove data.date_format from other.yaml", "run"),
    ("    customer_id: CustomerID\n    date:", "    customer_id: CustID\n    date:",
     "(mapped to customer_id in other.yaml)", "run"),
    ("name: Retail example\n", "name: Retail example\nhistory: postgresql://u:secret@h/db\n",
     "remove it from other.yaml", "validate"),
])
def test_no_message_names_a_file_the_command_did_not_read(
        tmp_path: Path, old: str, new: str, said: str, command: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CVM_HISTORY_URL")  # the tests' own history: the file's setting instead
    project = _other(tmp_path, old, new)
    extra = ["-o", str(tmp_path / "out"), "--no-history"] if command == "run" else []
    cwd = os.getcwd()
    os.chdir(project)
    try:
        result = CliRunner().invoke(app, [command, "--config", "other.yaml", *extra])
    finally:
        os.chdir(cwd)
    assert said in result.stderr
    assert "cvm.yaml" not in result.stderr + result.stdout


def test_a_dask_worker_names_the_file_given(tmp_path: Path) -> None:
    """A message made in a worker's process (the tasks of --engine dask) names it too."""
    from engine.data.header import utf16_hint
    from engine.distributed import tasks
    from engine.project.location import config_named

    with config_named(Path("other.yaml")):
        task = tasks.Guarded()
    assert config_shown() == "cvm.yaml"
    assert task(utf16_hint) == ("the file looks like UTF-16 text: set data.encoding: utf-16 "
                                "in other.yaml, or save the file as UTF-8")
    assert config_shown() == "cvm.yaml"
    assert tasks.Guarded()(utf16_hint).endswith("utf-16 in cvm.yaml, or save the file as UTF-8")


def test_the_name_alone_however_the_file_is_typed(tmp_path: Path) -> None:
    """./other.yaml, other.yaml or its absolute path: the same messages (and outputs)."""
    project = _other(tmp_path, 'delimiter: ","', 'delimiter: ";"')
    said = set()
    cwd = os.getcwd()
    os.chdir(project)
    try:
        for typed in ("other.yaml", "./other.yaml", str(project / "other.yaml")):
            said.add(CliRunner().invoke(app, ["validate", "--config", typed]).stderr)
    finally:
        os.chdir(cwd)
    assert len(said) == 1 and "set data.delimiter: ',' in other.yaml" in said.pop()


def test_a_plan_side_with_its_own_file_is_named_by_it(tmp_path: Path) -> None:
    """`cvm plan --config other.yaml --proposed FOLDER`: a proposal with its own cvm.yaml
    is read by that file, and its hints name it (the review's case)."""
    project = _other(tmp_path, "name: Retail example", "name: Retail example")
    proposed = tmp_path / "proposed"
    for part in ("rules", "policies", "templates"):  # a complete version: its own cvm.yaml
        shutil.copytree(project / part, proposed / part)
    text = (project / "other.yaml").read_text().replace('delimiter: ","', 'delimiter: ";"')
    (proposed / "cvm.yaml").write_text(text)
    result = CliRunner().invoke(app, ["plan", "--config", str(project / "other.yaml"),
                                      "--proposed", str(proposed)])
    assert result.exit_code == 1
    assert "set data.delimiter: ',' in cvm.yaml" in result.stderr
    assert "other.yaml" not in result.stderr.replace(str(project), "")


def test_a_thread_s_own_name_leaves_the_others_alone() -> None:
    import threading

    from engine.project.location import config_named

    seen: list[str] = []

    def task() -> None:
        with config_named("a.yaml", thread=True):
            seen.append(config_shown())
        seen.append(config_shown())

    with config_named("b.yaml"):
        worker = threading.Thread(target=task)
        worker.start()
        worker.join()
        seen.append(config_shown())
    assert seen == ["a.yaml", "b.yaml", "b.yaml"]


def test_a_full_copy_holding_the_file_given_is_a_complete_project(tmp_path: Path) -> None:
    """`cvm plan --config other.yaml --proposed COPY`, COPY holding other.yaml (a copy of the
    whole project folder): its other.yaml is the proposal's configuration (the trial's false
    "No changes": the edit was ignored, the folder taken to hold no configuration)."""
    project = _other(tmp_path, "name: Retail example", "name: Retail example")
    proposed = tmp_path / "copy"
    shutil.copytree(project, proposed)
    config = proposed / "other.yaml"
    config.write_text(config.read_text().replace("horizon_periods: 4", "horizon_periods: 6"))
    result = CliRunner().invoke(app, ["plan", "--config", str(project / "other.yaml"),
                                      "--proposed", str(proposed)])
    assert result.exit_code == 0, result.stderr
    assert f"proposed: {proposed}: a complete project (other.yaml, rules/, policies/ and " \
        "templates/)" in result.stdout
    assert re.search(r"^  other\.yaml +horizon_periods: 4 -> 6$", result.stdout, re.M)
    assert "No changes" not in result.stdout
    assert "cvm.yaml" not in result.stdout


def test_a_folder_without_the_file_given_keeps_the_baseline_s(tmp_path: Path) -> None:
    """A proposal of policies/ alone: the composition names the file the baseline read."""
    project = _other(tmp_path, "name: Retail example", "name: Retail example")
    proposed = tmp_path / "proposed"
    shutil.copytree(project / "policies", proposed / "policies")
    result = CliRunner().invoke(app, ["plan", "--config", str(project / "other.yaml"),
                                      "--proposed", str(proposed)])
    assert result.exit_code == 0, result.stderr
    assert f"proposed: {proposed}: policies/ replaces the baseline's; other.yaml, rules/ and " \
        "templates/ are the baseline's" in result.stdout
    assert "cvm.yaml" not in result.stdout


def test_a_comment_in_the_file_given_is_named_by_it(tmp_path: Path) -> None:
    """Laid over with --overlay, a comment only: the file differing is other.yaml."""
    project = _other(tmp_path, "name: Retail example", "name: Retail example")
    proposed = tmp_path / "proposed"
    proposed.mkdir()
    (proposed / "other.yaml").write_text((project / "other.yaml").read_text() + "# a note\n")
    result = CliRunner().invoke(app, ["plan", "--config", str(project / "other.yaml"),
                                      "--proposed", str(proposed), "--overlay"])
    assert result.exit_code == 0, result.stderr
    assert f"proposed: {proposed}: laid over the baseline file by file (other.yaml)" \
        in result.stdout
    assert result.stdout.rstrip().endswith(
        "1 file differs in nothing that decides (comments, layout, or files the engine does "
        "not read): other.yaml")


def test_a_baseline_folder_of_cvm_yaml_and_a_proposal_of_the_file_given(tmp_path: Path) -> None:
    """--baseline FOLDER holding cvm.yaml, --proposed COPY holding other.yaml: the copy's
    other.yaml is its configuration still (the review's case of the trial's bug)."""
    project = _other(tmp_path, "name: Retail example", "name: Retail example")
    baseline = tmp_path / "baseline"
    shutil.copytree(project, baseline)
    (baseline / "other.yaml").rename(baseline / "cvm.yaml")
    proposed = tmp_path / "copy"
    shutil.copytree(project, proposed)
    config = proposed / "other.yaml"
    config.write_text(config.read_text().replace("horizon_periods: 4", "horizon_periods: 6"))
    result = CliRunner().invoke(app, ["plan", "--config", str(project / "other.yaml"),
                                      "--baseline", str(baseline), "--proposed", str(proposed)])
    assert result.exit_code == 0, result.stderr
    assert re.search(r"^  other\.yaml +horizon_periods: 4 -> 6$", result.stdout, re.M)


def test_a_configuration_in_a_subfolder_is_looked_for_there(tmp_path: Path) -> None:
    """--config conf/prod.yaml: a full copy's conf/prod.yaml is its configuration, not a
    cvm.yaml it also holds (a developer's)."""
    project = _other(tmp_path, "name: Retail example", "name: Retail example")
    (project / "conf").mkdir()
    (project / "other.yaml").rename(project / "conf" / "prod.yaml")
    proposed = tmp_path / "copy"
    shutil.copytree(project, proposed)
    config = proposed / "conf" / "prod.yaml"
    config.write_text(config.read_text().replace("horizon_periods: 4", "horizon_periods: 6"))
    (proposed / "cvm.yaml").write_text(
        (project / "conf" / "prod.yaml").read_text().replace("horizon_periods: 4",
                                                             "horizon_periods: 9"))
    result = CliRunner().invoke(app, ["plan", "-p", str(project), "--config",
                                      str(project / "conf" / "prod.yaml"),
                                      "--proposed", str(proposed)])
    assert result.exit_code == 0, result.stderr
    assert f"proposed: {proposed}: a complete project (conf/prod.yaml, rules/, " \
        "policies/ and templates/)" in result.stdout
    assert re.search(r"^  conf/prod\.yaml +horizon_periods: 4 -> 6$", result.stdout, re.M)


def test_outside_a_project_the_hint_names_config_too(tmp_path: Path) -> None:
    """A folder holding prod.yaml but no cvm.yaml: the hint says how to name it (the trial)."""
    (tmp_path / "prod.yaml").write_text("name: x\n")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(app, ["validate"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == [
        f"error: no cvm.yaml found in {tmp_path.resolve()} or any folder above it",
        "  hint: run cvm inside a CVM project, or pass --project FOLDER; a configuration file "
        "of another name is given with --config FILE (--project too when FILE is not in the "
        "project's folder)"]


def test_a_folder_of_the_configuration_alone_is_told_of_overlay(tmp_path: Path) -> None:
    """A proposal holding only other.yaml is a complete project without rules/, policies/
    and templates/: the error says so and names --overlay (the trial)."""
    project = _other(tmp_path, "name: Retail example", "name: Retail example")
    proposed = tmp_path / "proposal"
    proposed.mkdir()
    shutil.copy(project / "other.yaml", proposed / "other.yaml")
    result = CliRunner().invoke(app, ["plan", "--config", str(project / "other.yaml"),
                                      "--proposed", str(proposed)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"  note: {proposed} holds other.yaml but no rules/, policies/ or templates/: as a "
        "complete project, what it lacks is not in the version; add --overlay to lay only the "
        "files it holds over the baseline's")
