"""An empty row (separators only) among the rows is said once, as run says it: validate said
it three times within the first 1,000 rows (the empty row, then its empty customer id and
amount), and past them as an empty customer id where run says an empty row (a new user's
trial; session 37's closing note)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project

runner = CliRunner()


@pytest.mark.parametrize("line", [50, 3000])
def test_an_empty_row_is_said_once_as_run_says_it(tmp_path: Path, line: int) -> None:
    project = copy_example_project(tmp_path)
    tx = project / "transactions.csv"
    rows = (ROOT / "examples/retail/transactions.csv").read_text().splitlines(keepends=True)
    rows.insert(line - 1, "," * (rows[0].count(",")) + "\n")
    tx.write_text("".join(rows))
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(f"{ROOT}/examples/retail/transactions.csv",
                                                 "transactions.csv"))
    said = runner.invoke(app, ["validate", "-p", str(project)])
    ran = runner.invoke(app, ["score", "-p", str(project), "-o", str(tmp_path / "o"), "-q"])
    assert said.exit_code == ran.exit_code == 1
    errors = [x for x in said.stderr.splitlines() if x.startswith("error:")]
    assert errors == [ran.stderr.splitlines()[0]], said.stderr
    assert f"transactions.csv:{line}: row {line - 1}, column 'OrderDate': found an empty row" \
        in errors[0]


def test_a_row_with_a_value_in_another_mapped_column_is_no_empty_row(tmp_path: Path) -> None:
    """The review: past the first 1,000 rows validate read the ids, dates and numbers only, so
    a row holding a category alone was called empty, where run says its empty customer id."""
    project = copy_example_project(tmp_path)
    rows = (ROOT / "examples/retail/transactions.csv").read_text().splitlines(keepends=True)
    header = rows[0].rstrip("\n").split(",")
    rows.insert(2999, ",".join("Shoes" if name == "Category" else "" for name in header) + "\n")
    (project / "transactions.csv").write_text("".join(rows))
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(f"{ROOT}/examples/retail/transactions.csv",
                                                 "transactions.csv"))
    said = runner.invoke(app, ["validate", "-p", str(project)])
    ran = runner.invoke(app, ["score", "-p", str(project), "-o", str(tmp_path / "o"), "-q"])
    assert said.exit_code == ran.exit_code == 1
    errors = [x for x in said.stderr.splitlines() if x.startswith("error:")]
    assert errors[0] == ran.stderr.splitlines()[0], said.stderr
    assert "found an empty row" not in said.stderr
