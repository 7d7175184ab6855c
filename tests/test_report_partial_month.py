"""The report's headline gives customer equity at the as-of date when the last month is partial
(a new user: "at the end of 2025-03" for a month that ends at the as-of date 2025-03-11, its
figures file marking it partial_month=true)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project


def test_a_partial_last_month_is_said_at_the_as_of_date(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace("as_of: null ", "as_of: 2025-03-11"))
    said = CliRunner().invoke(app, ["report", "-p", str(project), "-o", str(tmp_path / "s")])
    assert said.exit_code == 0, said.output
    assert said.stdout.splitlines()[1] == (
        "  customer equity EUR 69,502 on 2025-03-11, the as-of date (821 active customers, "
        "average CLV EUR 84.66)")


def test_a_whole_last_month_is_said_at_its_end(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace("as_of: null ", "as_of: 2025-04-01"))
    said = CliRunner().invoke(app, ["report", "-p", str(project), "-o", str(tmp_path / "s")])
    assert said.exit_code == 0, said.output
    assert " at the end of 2025-03 (" in said.stdout.splitlines()[1]
