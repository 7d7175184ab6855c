"""The report's headline gives customer equity at the as-of date when the last month is partial
(a new user: "at the end of 2025-03" for a month that ends at the as-of date 2025-03-11, its
figures file marking it partial_month=true)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project


@pytest.mark.parametrize(("as_of", "said"), [
    ("2025-03-11", "  customer equity EUR 69,502 on 2025-03-11, the as-of date (821 active "
                   "customers, average CLV EUR 84.66)"),
    ("2025-04-01", "  customer equity EUR 71,813 at the end of 2025-03 (832 active customers, "
                   "average CLV EUR 86.31)")], ids=["partial", "whole"])
def test_the_headline_says_when_the_equity_is(as_of: str, said: str, tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace("as_of: null ", f"as_of: {as_of}"))
    result = CliRunner().invoke(app, ["report", "-p", str(project), "-o", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == said
