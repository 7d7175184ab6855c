"""Mapped optional columns (channel, quantity) are part of what makes two rows duplicates: the
README's "optional: checked; part of what tells duplicate rows apart" (a new user removed the
channel mapping and saw no change, and asked what it was for)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import BASE_CONFIG

runner = CliRunner()
TX = ("cust,day,amount,cost,how\n"
      "a,2024-01-05,100,60,web\n"
      "a,2024-01-05,100,60,store\n"
      "a,2024-03-05,50,20,web\n"
      "b,2024-02-05,80,40,web\n"
      "b,2024-04-05,80,40,web\n")


def _duplicates(make_project: Callable[..., Path], mapped: bool) -> int:
    config = BASE_CONFIG.replace("    cost: cost\n", "    cost: cost\n    channel: how\n") \
        if mapped else BASE_CONFIG
    project = make_project(config, tx=TX)
    result = runner.invoke(app, ["score", "--project", str(project), "--json"])
    assert result.exit_code == 0, result.stderr
    used = json.loads(result.stdout)["rows_used"]
    assert isinstance(used, int)
    return 5 - used


def test_the_channel_column_tells_two_otherwise_equal_rows_apart(make_project) -> None:
    assert _duplicates(make_project, mapped=False) == 1  # the store row looks like the web one
    assert _duplicates(make_project, mapped=True) == 0
