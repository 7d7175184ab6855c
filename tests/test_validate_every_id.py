"""`cvm validate` passing means `cvm run` works: validate reads every row's customer id, as it
reads every row's date and amount, and says a bad one past the first 1,000 rows with the words
`cvm run` stops with (a new user's find: a NULL or blank customer id at row 5,001 of a Parquet
file, a PostgreSQL table and a DuckDB table passed validate and stopped run); a database row is
named as run names it, by its key and its order id."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project

runner = CliRunner()
BAD = 1_100  # a row past validate's first 1,000 (0-based, after the header)
TX = "examples/retail/transactions.csv"


def _said(project: Path) -> list[str]:
    """The first error line of validate and of score (which reads every row as run does)."""
    out = []
    for command in ("validate", "score"):
        out_folder = ["--out", str(project / "out")] if command == "score" else []
        result = runner.invoke(app, [command, "--project", str(project), *out_folder,
                                     "--quiet"])
        assert result.exit_code == 1, (command, result.output)
        out.append(next(x for x in result.stderr.splitlines() if x.startswith("error:")))
    return out


def _data(project: Path, line: str) -> None:
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(f"{ROOT}/{TX}", line))


@pytest.mark.parametrize(("value", "said"), [
    ("", "found an empty value, expected a value in every row"),
    ("   ", "found an empty value, expected a value in every row"),
    ('"d\tx"', "found 'd\\tx', expected an id without control characters (line breaks, tabs, "
               "NUL, escapes)"),
    ("d" * 1001, "found 'dddddddddddddddddddddddddddddddddddddddd'... (1,001 characters), "
                 "expected an id of at most 1,000 characters")],
    ids=["empty", "blank", "tab", "long"])
def test_a_bad_customer_id_past_the_first_rows_fails_validate_as_it_fails_run(
        tmp_path: Path, value: str, said: str) -> None:
    project = copy_example_project(tmp_path)
    rows = (ROOT / TX).read_text().splitlines()
    fields = rows[BAD + 1].split(",")
    rows[BAD + 1] = ",".join((fields[0], value, *fields[2:]))
    (project / "tx.csv").write_text("\n".join(rows) + "\n")
    _data(project, "tx.csv")
    validated, ran = _said(project)
    assert ran.startswith(f"error: tx.csv:{BAD + 2}: row {BAD + 1}, column 'CustomerID': "
                          f"{said}"), ran
    assert validated == ran


def test_a_database_row_past_the_first_rows_is_named_by_its_order_id_as_run_names_it(
        tmp_path: Path) -> None:
    path = tmp_path / "shop.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE sales AS SELECT row_number() OVER () AS n, * FROM "
                     "read_csv(?, header = true, all_varchar = true)", [str(ROOT / TX)])
        conn.execute(f"UPDATE sales SET OrderDate = '2024-13-45' WHERE n = {BAD + 1}")
        order = conn.execute(f"SELECT OrderID FROM sales WHERE n = {BAD + 1}").fetchone()
    project = copy_example_project(tmp_path)
    _data(project, f"{{url: 'duckdb:///{path}', table: sales, order_by: [n]}}")
    validated, ran = _said(project)
    assert f"(table sales): row {BAD + 1} (n = {BAD + 1}, order id {order[0]}), column " \
           "'OrderDate'" in ran, ran
    assert validated == ran


def test_validate_says_every_column_s_first_problem_past_the_first_rows_too(
        tmp_path: Path) -> None:
    """A new user's trial: a bad date at line 50, an empty id at line 5,000 and a cost 'zz' at
    line 7,000: validate said the date alone (a problem in the first rows stopped the every-row
    pass), run stopped at the id; after fixing the date, the id alone; then the cost."""
    project = copy_example_project(tmp_path)
    rows = (ROOT / TX).read_text().splitlines()
    header = rows[0].split(",")
    for line, column, value in ((50, "OrderDate", "2023-13-45"), (5000, "CustomerID", ""),
                                (7000, "Cost", "zz")):
        cells = rows[line - 1].split(",")
        cells[header.index(column)] = value
        rows[line - 1] = ",".join(cells)
    (project / "tx.csv").write_text("\n".join(rows) + "\n")
    _data(project, "tx.csv")
    result = runner.invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 1
    said = [x.split(": found")[0] for x in result.stderr.splitlines() if x.startswith("error")]
    assert said == ["error: tx.csv:50: row 49, column 'OrderDate'",
                    "error: tx.csv:5000: row 4999, column 'CustomerID'",
                    "error: tx.csv:7000: row 6999, column 'Cost'"], result.stderr
    ran = runner.invoke(app, ["run", "--project", str(project), "--no-history", "--out",
                              str(tmp_path / "out")])
    assert ran.exit_code == 1
    assert next(x for x in ran.stderr.splitlines() if x.startswith("error")).startswith(
        "error: tx.csv:5000: row 4999, column 'CustomerID': "), ran.stderr


def test_a_folder_s_files_each_say_their_problems(tmp_path: Path) -> None:
    """The trial: part-0.csv's Qty 'x1' at line 5,001 and part-1.csv's empty id at line 12:
    validate, as run, said the id alone; the Qty only once it was fixed."""
    project = copy_example_project(tmp_path)
    rows = (ROOT / TX).read_text().splitlines()
    header = rows[0].split(",")
    first, second = rows[1:10_001], rows[10_001:]
    cells = first[4999].split(",")
    cells[header.index("Qty")] = "x1"
    first[4999] = ",".join(cells)
    cells = second[10].split(",")
    cells[header.index("CustomerID")] = ""
    second[10] = ",".join(cells)
    (project / "tx").mkdir()
    (project / "tx" / "part-0.csv").write_text("\n".join([rows[0], *first]) + "\n")
    (project / "tx" / "part-1.csv").write_text("\n".join([rows[0], *second]) + "\n")
    _data(project, "tx")
    result = runner.invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 1
    said = [x.split(": found")[0] for x in result.stderr.splitlines() if x.startswith("error")]
    assert said == ["error: tx/part-1.csv:12: row 11, column 'CustomerID'",
                    "error: tx/part-0.csv:5001: row 5000, column 'Qty'"], result.stderr
