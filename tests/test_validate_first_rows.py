"""`cvm validate` checks the values of each local data file's first 1,000 rows as the commands
that read every row check them (engine.value.first_rows.py): a project it calls valid does not
stop `cvm run` at a wrong date format, a decimal comma or a consent written 'maybe' (found by
a new user: validate passed, then run stopped at row 1)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT
from tests.test_validate_data_files import _project, _validate

DATA = Path("examples") / "retail"


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, count))


def _set_cell(path: Path, line: int, column: str, value: str) -> None:
    """Write ``value`` into ``column`` of the 0-based ``line`` of a CSV file (no quoted
    commas in the bundled example)."""
    lines = path.read_text().splitlines()
    cells = lines[line].split(",")
    cells[lines[0].split(",").index(column)] = value
    lines[line] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


def _subscription(tmp_path: Path) -> Path:
    """A copy of the bundled subscription example (its contracts file is changed)."""
    project = tmp_path / "subscription"
    shutil.copytree(ROOT / "examples" / "subscription", project,
                    ignore=shutil.ignore_patterns("output", "*.py", "*.md"))
    return project


def _run(project: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["run", "-p", str(project), "--no-history", "-q",
                                      "--out", str(project / "out")])
    return result.exit_code, result.output


def test_a_wrong_date_format_is_said_by_validate_as_run_says_it(tmp_path: Path) -> None:
    project = _project(tmp_path)
    _edit(project / "cvm.yaml", '  # date_format: "%d/%m/%Y"', '  date_format: "%d/%m/%Y"')
    assert _validate(project) == (1, (
        "error: examples/retail/transactions.csv:2: row 1, column 'OrderDate': found "
        "'2023-01-02', expected a date in the format '%d/%m/%Y'\n"
        "  hint: 19,473 rows have this problem; '2023-01-02' is written YYYY-MM-DD, which is "
        "read without a date_format: if the file writes its dates so, remove data.date_format "
        "from cvm.yaml\n"
        "error: examples/retail/customers.csv:2: row 1, column 'SignupDate': found '2023-01-01', "
        "expected a date in the format '%d/%m/%Y'\n"
        "  hint: 2,000 rows have this problem; '2023-01-01' is written YYYY-MM-DD, which is read "
        "without a date_format: if the file writes its dates so, remove data.date_format from "
        "cvm.yaml (data.customers_date_format: this file's dates alone)\n"
        "2 error(s), 0 warning(s) in 2 file(s)\n"))
    code, out = _run(project)
    assert (code, out.splitlines()[:2]) == (1, [
        "error: examples/retail/transactions.csv:2: row 1, column 'OrderDate': found "
        "'2023-01-02', expected a date in the format '%d/%m/%Y'",
        "  hint: 19,473 rows have this problem; '2023-01-02' is written YYYY-MM-DD, which is "
        "read without a date_format: if the file writes its dates so, remove data.date_format "
        "from cvm.yaml"])


def test_a_decimal_comma_and_a_consent_written_maybe(tmp_path: Path) -> None:
    project = _project(tmp_path)
    _set_cell(project / DATA / "transactions.csv", 4, "NetAmount", '"12,50"')
    customers = project / DATA / "customers.csv"
    lines = customers.read_text().splitlines()
    lines[3] = lines[3].replace(",yes,", ",maybe,", 1)
    assert ",maybe," in lines[3]
    customers.write_text("\n".join(lines) + "\n")
    code, out = _validate(project)
    assert code == 1
    assert out.splitlines()[0] == (
        "error: examples/retail/transactions.csv:5: row 4, column 'NetAmount': found '12,50', "
        "expected a number such as 12.50")
    assert out.splitlines()[2].startswith(
        "error: examples/retail/customers.csv:4: row 3, column ")
    assert "found 'maybe'" in out.splitlines()[2]
    assert out.splitlines()[-1] == "2 error(s), 0 warning(s) in 2 file(s)"


def test_past_the_first_rows_validate_reads_every_row_s_id_date_and_numbers(
        tmp_path: Path) -> None:
    """A value beyond the first 1,000 rows: every row's customer id, date and numbers validate
    reads (engine/value/every_row.py), as --audience does."""
    project = _project(tmp_path)
    _set_cell(project / DATA / "transactions.csv", 1500, "Qty", "two")
    said = ("error: examples/retail/transactions.csv:1501: row 1500, column 'Qty': found "
            "'two', expected a number such as 12.50")
    code, out = _validate(project)
    assert (code, out.splitlines()[0]) == (1, said)
    result = CliRunner().invoke(app, ["validate", "-p", str(project), "--audience"])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == said
    _set_cell(project / DATA / "transactions.csv", 1500, "OrderDate", "31/12/2023")
    code, out = _validate(project)
    assert code == 1
    assert out.splitlines()[0] == (
        "error: examples/retail/transactions.csv:1501: row 1500, column 'OrderDate': found "
        "'31/12/2023', expected a date such as 2024-01-31")


def test_a_parquet_file_and_a_folder_of_files(tmp_path: Path) -> None:
    """Parquet: its first rows, named by row; a folder: each file's first rows, named by the
    file."""
    project = _project(tmp_path)
    folder = project / DATA / "parts"
    folder.mkdir()
    table = pa.csv.read_csv(project / DATA / "transactions.csv",
                            convert_options=pa.csv.ConvertOptions(
                                column_types={"NetAmount": pa.string()}))
    pq.write_table(table.slice(0, 500), folder / "a.parquet")
    amounts = table.column("NetAmount").to_pylist()[500:]
    amounts[2] = "n/a"
    bad = table.slice(500).set_column(table.column_names.index("NetAmount"), "NetAmount",
                                      pa.array(amounts))
    pq.write_table(bad, folder / "b.parquet")
    _edit(project / "cvm.yaml", "transactions: examples/retail/transactions.csv",
          "transactions: examples/retail/parts")
    assert _validate(project) == (1, (
        "error: examples/retail/parts/b.parquet: row 3, column 'NetAmount': found 'n/a', "
        "expected a number such as 12.50\n"
        "  hint: use '.' as the decimal mark, no thousands separators or currency signs\n"
        "1 error(s), 0 warning(s) in 1 file(s)\n"))


def test_a_contract_ending_before_it_starts(tmp_path: Path) -> None:
    project = _subscription(tmp_path)
    _edit(project / "contracts.csv", "K002401,S02289,2023-01-01,,",
          "K002401,S02289,2023-01-01,2022-12-01,")
    assert _validate(project) == (1, (
        "error: contracts.csv:3: row 2, column 'end_date': found the end 2022-12-01 before the "
        "start 2023-01-01 (1 such row), expected an end on or after the start\n"
        "  hint: leave the end empty while the contract runs\n"
        "1 error(s), 0 warning(s) in 1 file(s)\n"))


def test_every_columns_first_problem_in_row_order(tmp_path: Path) -> None:
    """A new user's file with a bad date at row 500, an amount '1.2.3' at row 800 and an empty
    customer id at row 999: validate said only the id (checked first), then the date, one
    round each; now each column's first problem, in the file's order."""
    project = _project(tmp_path)
    tx = project / DATA / "transactions.csv"
    _set_cell(tx, 500, "OrderDate", "2025-02-30")
    _set_cell(tx, 800, "NetAmount", "1.2.3")
    _set_cell(tx, 999, "CustomerID", "")
    code, out = _validate(project)
    assert code == 1
    assert [line.split(": found")[0] for line in out.splitlines() if line.startswith("error")] \
        == ["error: examples/retail/transactions.csv:501: row 500, column 'OrderDate'",
            "error: examples/retail/transactions.csv:801: row 800, column 'NetAmount'",
            "error: examples/retail/transactions.csv:1000: row 999, column 'CustomerID'"]


def test_a_bad_end_is_said_beside_a_bad_start(tmp_path: Path) -> None:
    """Reviewer: with a bad start date the end column was not read at all."""
    project = _subscription(tmp_path)
    _edit(project / "contracts.csv", "K000700,S00664,2023-01-01,,",
          "K000700,S00664,2023-13-01,,")
    _edit(project / "contracts.csv", "K002401,S02289,2023-01-01,,",
          "K002401,S02289,2023-01-01,someday,")
    code, out = _validate(project)
    assert code == 1
    assert [line.split(": found")[0] for line in out.splitlines() if line.startswith("error")] \
        == ["error: contracts.csv:2: row 1, column 'start_date'",
            "error: contracts.csv:3: row 2, column 'end_date'"]


def test_a_folder_whose_files_hold_a_column_as_different_types(tmp_path: Path) -> None:
    """A new user's folder of Parquet files and a CSV file validated, and every run refused it
    (the amount as numbers in the Parquet file, as text in the CSV file): validate says what
    run says."""
    project = _project(tmp_path)
    folder = project / DATA / "parts"
    folder.mkdir()
    table = pa.csv.read_csv(project / DATA / "transactions.csv")
    pq.write_table(table.slice(0, 500), folder / "part-0.parquet")
    lines = (project / DATA / "transactions.csv").read_text().splitlines(keepends=True)
    (folder / "part-1.csv").write_text("".join(lines[:1] + lines[501:]))
    _edit(project / "cvm.yaml", "transactions: examples/retail/transactions.csv",
          "transactions: examples/retail/parts")
    said = ("error: examples/retail/parts: the files of the folder hold column 'OrderDate' as "
            "dates in part-0.parquet and as text in part-1.csv\n"
            "  hint: write every file of the folder with the same columns and types (a folder "
            "of Parquet files, or one of CSV files: CSV files hold text)\n")
    code, out = _run(project)
    assert (code, out) == (1, said)
    assert _validate(project) == (1, said + "1 error(s), 0 warning(s) in 1 file(s)\n")


def test_a_folder_of_a_csv_file_and_a_parquet_file_with_a_categorical(tmp_path: Path) -> None:
    """A reviewer: a Parquet file whose channel column is dictionary-coded (a pandas
    categorical) beside a CSV file: run reads both coded and accepts them; validate must too."""
    project = _project(tmp_path)
    folder = project / DATA / "parts"
    folder.mkdir()
    header = (project / DATA / "transactions.csv").read_text().split("\n", 1)[0].split(",")
    table = pa.csv.read_csv(project / DATA / "transactions.csv", convert_options=pa.csv
                            .ConvertOptions(column_types=dict.fromkeys(header, pa.string())))
    coded = table.slice(0, 500).set_column(
        table.column_names.index("SalesChannel"), "SalesChannel",
        table.column("SalesChannel").slice(0, 500).dictionary_encode())
    pq.write_table(coded, folder / "a.parquet")
    lines = (project / DATA / "transactions.csv").read_text().splitlines(keepends=True)
    (folder / "b.csv").write_text("".join(lines[:1] + lines[501:]))
    _edit(project / "cvm.yaml", "transactions: examples/retail/transactions.csv",
          "transactions: examples/retail/parts")
    ran = _run(project)
    assert ran[0] == 0, ran[1]
    code, out = _validate(project)
    assert code == 0, out


def test_the_customers_file_gives_each_column_s_first_problem(tmp_path: Path) -> None:
    """A new user's CRM file had 'maybe' as a consent on row 3 and '2024-13-45' as a signup
    date on row 5: validate named the date alone (the transactions file got every column's)."""
    project = _project(tmp_path)
    customers = project / DATA / "customers.csv"
    _set_cell(customers, 3, "EmailOptIn", "maybe")
    _set_cell(customers, 5, "SignupDate", "2024-13-45")
    code, out = _validate(project)
    assert code == 1
    lines = [x for x in out.splitlines() if x.startswith("error:")]
    assert [x.split(": ", 2)[1] for x in lines] == [
        "examples/retail/customers.csv:4", "examples/retail/customers.csv:6"], out
    assert "column 'EmailOptIn': found 'maybe'" in lines[0]
    assert "column 'SignupDate': found '2024-13-45'" in lines[1]
    assert _run(project)[0] == 1  # run stops at the first, as before


def test_an_attribute_declared_a_number_that_holds_words(tmp_path: Path) -> None:
    """A new user declared region: number; its values ('North') got the decimal-mark hint."""
    project = _project(tmp_path)
    _edit(project / "cvm.yaml", "    Region: text", "    Region: number")
    code, out = _validate(project)
    assert code == 1
    assert "column 'Region': found 'east', expected a number such as 12.50\n" in out, out
    assert "have this problem; the column holds words: declare it as text under " \
        "data.attributes in cvm.yaml (Region: text)\n" in out, out


def test_the_customers_file_past_the_first_rows_fails_validate_as_it_fails_run(
        tmp_path: Path) -> None:
    """A marketer's `EmailOptIn=maybe` at row 1,500 of the customers file passed validate and
    stopped run: validate reads the customers file whole, as run does, once its first rows and
    the transactions are clean."""
    project = _project(tmp_path)
    _set_cell(project / DATA / "customers.csv", 1500, "EmailOptIn", "maybe")
    code, out = _run(project)
    said = [x for x in out.splitlines() if x.startswith("error:")]
    assert code == 1 and said[0].startswith(
        "error: examples/retail/customers.csv:1501: row 1500, column 'EmailOptIn': found "
        "'maybe'"), out
    code, out = _validate(project)
    assert code == 1
    assert [x for x in out.splitlines() if x.startswith("error:")] == said[:1]


def test_a_contract_s_end_before_a_bad_cost_past_the_first_rows_as_run_says_them(
        tmp_path: Path) -> None:
    """The review: past the first rows, validate checked a cost before a contract's end, where
    run checks the end first: with both bad, the two said different problems. validate says
    both, each at its line; run stops at the end."""
    project = _subscription(tmp_path)
    _set_cell(project / "contracts.csv", 1500, "end_date", "someday")
    _set_cell(project / "contracts.csv", 1200, "monthly_cost", "n/a")
    code, out = _run(project)
    said = [x for x in out.splitlines() if x.startswith("error:")]
    assert code == 1 and said == [
        "error: contracts.csv:1501: row 1500, column 'end_date': found 'someday', expected a "
        "date such as 2024-01-31"], out
    code, out = _validate(project)
    assert code == 1
    assert [x for x in out.splitlines() if x.startswith("error:")] == [
        "error: contracts.csv:1201: row 1200, column 'monthly_cost': found 'n/a', expected a "
        "number such as 12.50", said[0]]
