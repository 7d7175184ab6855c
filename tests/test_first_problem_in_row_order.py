"""A column's first problem in row order is the one said: an analyst's trial appended two
rows, the first with an empty amount and the second with 'abc', and validate and run named
the 'abc' row; the empty value came up only once it was fixed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import BASE_TX
from tests.history_runs import retail_copy

ROWS = BASE_TX.splitlines()


@pytest.mark.parametrize(("rows", "expected"), [
    # an empty amount, then one that is no number: the empty one is said, both counted
    (["a,2024-03-01,,1.00", "b,2024-03-02,abc,1.00"],
     "tx.csv:8: row 7, column 'amount': found an empty value, expected a value in every row"),
    (["a,2024-03-01,abc,1.00", "b,2024-03-02,,1.00"],
     "tx.csv:8: row 7, column 'amount': found 'abc', expected a number such as 12.50"),
    (["a,,10.00,1.00", "b,2024-13-02,10.00,1.00"],
     "tx.csv:8: row 7, column 'day': found an empty value, expected a date in every row"),
    (["a,2024-13-02,10.00,1.00", "b,,10.00,1.00"],
     "tx.csv:8: row 7, column 'day': found '2024-13-02', expected a date such as 2024-01-31"),
])
def test_the_first_bad_value_in_row_order_is_said(make_project: Callable[..., Path],
                                                  rows: list[str], expected: str) -> None:
    project = make_project(tx="\n".join([*ROWS, *rows]) + "\n")
    result = CliRunner().invoke(app, ["score", "--project", str(project)])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: {expected}\n"), result.stderr
    assert "2 rows have this problem" not in result.stderr  # (one of each kind)


def _validate_and_run_say(tmp_path: Path, rows: list[str], said: str) -> None:
    """The retail copy's transactions with ``rows`` appended: validate and run both stop with
    ``said`` (its ``{line}`` and ``{row}`` the first appended row's)."""
    project = retail_copy(tmp_path)
    data = project / "examples" / "retail" / "transactions.csv"
    lines = data.read_text().splitlines()
    data.write_text("\n".join([*lines, *rows]) + "\n")
    expected = said.format(line=len(lines) + 1, row=len(lines))
    for command in ("validate", "run"):
        result = CliRunner().invoke(app, [command, "--project", str(project), "-q"])
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(expected), result.stderr


def test_validate_says_the_same_row(tmp_path: Path) -> None:
    _validate_and_run_say(tmp_path, ["O9999997,C000001,2025-07-01,Garden,web,1,,20.00",
                                     "O9999996,C000001,2025-07-01,Garden,web,1,abc,20.00"],
                          "error: examples/retail/transactions.csv:{line}: row {row}, column "
                          "'NetAmount': found an empty value, expected a value in every row\n")


def test_a_totals_line_at_the_end_is_said_as_one(tmp_path: Path) -> None:
    """A trial's export ended with a totals line (no customer, no date, the amounts summed):
    it was said as any empty customer id, 'fill it in'."""
    _validate_and_run_say(tmp_path, ["Total,,,,,19473,1234567.89,999.00"],
                          "error: examples/retail/transactions.csv:{line}: row {row}, column "
                          "'CustomerID': found an empty value, expected a value in every row\n"
                          "  hint: it is the file's last row: a totals line, as some exports end "
                          "with? delete it, or leave it out of the export\n")


def test_a_problem_above_the_empty_value_keeps_its_count(make_project: Callable[..., Path]
                                                        ) -> None:
    """A review: with 'abc', 'abc', an empty amount, 'xyz', 'xyz', the error said '2 rows have
    this problem' (the rows above the empty one), where the column has 4."""
    rows = ["a,2024-03-01,abc,1.00", "a,2024-03-02,abc,1.00", "a,2024-03-03,,1.00",
            "b,2024-03-04,xyz,1.00", "b,2024-03-05,xyz,1.00"]
    project = make_project(tx="\n".join([*ROWS, *rows]) + "\n")
    result = CliRunner().invoke(app, ["score", "--project", str(project)])
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        "error: tx.csv:8: row 7, column 'amount': found 'abc', expected a number such as "
        "12.50\n  hint: 4 rows have this problem; use '.' as the decimal mark, no thousands "
        "separators or currency signs\n")
