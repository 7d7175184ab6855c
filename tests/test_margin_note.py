"""The note of the rows whose margin is assumed says its count in words that fit it: a data
engineer's trial read 'note: 1 rows without cost/margin'."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import BASE_TX


@pytest.mark.parametrize(("empty", "said"), [(1, "1 row"), (2, "2 rows")])
def test_the_rows_without_cost_are_counted_in_words(make_project: Callable[..., Path],
                                                    empty: int, said: str) -> None:
    lines = BASE_TX.splitlines()
    for k in range(1, 1 + empty):
        lines[k] = lines[k].rsplit(",", 1)[0] + ","
    project = make_project(tx="\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["score", "--project", str(project), "-o",
                                      str(project / "out")])
    assert result.exit_code == 0, result.stderr
    assert f"note: {said} without cost/margin: margin assumed at margin_rate 0.3 of the " \
        "amount" in result.output
