"""`--config conf/prod.yaml` without `--project`: the project folder is conf/ (README
"Commands"), so rules/, policies/ and templates/ are looked for there. A new user got
"rules/value_tiers.yaml: file not found" beside their own rules/, with no word of where the
engine had looked; the first such error's hint now says it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT

runner = CliRunner()


def _here(tmp_path: Path) -> None:
    for name in ("rules", "policies", "templates"):
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "prod.yaml").write_text(
        (ROOT / "cvm.yaml").read_text().replace("examples/", f"{ROOT}/examples/"))


def test_the_hint_says_where_the_project_folder_is(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _here(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate", "--config", "conf/prod.yaml"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == [
        "error: rules/value_tiers.yaml: file not found",
        "  hint: without --project the project folder is that of --config conf/prod.yaml, "
        "conf/, where rules/, policies/, templates/ are not; those here are read with "
        "--project . (its data paths then relative to . too)"]
    assert runner.invoke(app, ["validate", "--config", "conf/prod.yaml", "--project", "."]
                         ).exit_code == 0


def test_no_such_hint_when_the_folders_are_nowhere(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _here(tmp_path)
    for name in ("rules", "policies", "templates"):
        shutil.rmtree(tmp_path / name)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate", "--config", "conf/prod.yaml"])
    assert result.exit_code == 1
    assert "without --project" not in result.stderr
