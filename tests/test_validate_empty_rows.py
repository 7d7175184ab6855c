"""An empty row (separators only) among the rows is said once, as run says it: validate said
it three times within the first 1,000 rows (the empty row, then its empty customer id and
amount), and past them as an empty customer id where run says an empty row (a new user's
trial; session 37's closing note)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project

runner = CliRunner()


def _validate_and_score(tmp_path: Path, line: int, row: Callable[[list[str]], str]
                        ) -> tuple[str, list[str], str]:
    """The example with ``row`` (of the header's names) inserted at ``line`` of its
    transactions: validate's standard error and errors, and score's standard error."""
    project = copy_example_project(tmp_path)
    rows = (ROOT / "examples/retail/transactions.csv").read_text().splitlines(keepends=True)
    rows.insert(line - 1, row(rows[0].rstrip("\n").split(",")) + "\n")
    (project / "transactions.csv").write_text("".join(rows))
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(f"{ROOT}/examples/retail/transactions.csv",
                                                 "transactions.csv"))
    said = runner.invoke(app, ["validate", "-p", str(project)])
    ran = runner.invoke(app, ["score", "-p", str(project), "-o", str(tmp_path / "o"), "-q"])
    assert said.exit_code == ran.exit_code == 1
    return said.stderr, [x for x in said.stderr.splitlines() if x.startswith("error:")], \
        ran.stderr


@pytest.mark.parametrize("line", [50, 3000])
def test_an_empty_row_is_said_once_as_run_says_it(tmp_path: Path, line: int) -> None:
    said, errors, ran = _validate_and_score(tmp_path, line, lambda names: "," * (len(names) - 1))
    assert errors == [ran.splitlines()[0]], said
    assert f"transactions.csv:{line}: row {line - 1}, column 'OrderDate': found an empty row" \
        in errors[0]


def test_a_row_with_a_value_in_another_mapped_column_is_no_empty_row(tmp_path: Path) -> None:
    """The review: past the first 1,000 rows validate read the ids, dates and numbers only, so
    a row holding a category alone was called empty, where run says its empty customer id."""
    said, errors, ran = _validate_and_score(tmp_path, 3000, lambda names: ",".join(
        "Shoes" if name == "Category" else "" for name in names))
    assert errors[0] == ran.splitlines()[0], said
    assert "found an empty row" not in said
