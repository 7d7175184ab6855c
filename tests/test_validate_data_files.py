"""`cvm validate` checks the local data files as it checks a store's: each exists, holds data and
has every mapped column in its header, so a project it calls valid does not stop `cvm run` there
(the standard: validate passing means run works). The values of their first rows:
tests/test_validate_first_rows.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "retail"


def _project(tmp_path: Path) -> Path:
    """The bundled example with its data copied into the project (the files are changed)."""
    project = tmp_path / "p"
    project.mkdir()
    for name in ("rules", "policies", "templates"):
        shutil.copytree(ROOT / name, project / name)
    shutil.copytree(EXAMPLE, project / "examples" / "retail",
                    ignore=shutil.ignore_patterns("*.py", "*.md"))
    shutil.copy(ROOT / "cvm.yaml", project / "cvm.yaml")
    return project


def _validate(project: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["validate", "-p", str(project)])
    return result.exit_code, result.output


def test_the_example_is_valid(tmp_path: Path) -> None:
    code, out = _validate(_project(tmp_path))
    assert (code, out.splitlines()[0][:6]) == (0, "valid:")


def test_a_missing_transactions_file(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "examples" / "retail" / "transactions.csv").unlink()
    assert _validate(project) == (1, (
        "error: examples/retail/transactions.csv: file not found\n"
        "  hint: check data.transactions at cvm.yaml:5:17 (paths are relative to the project "
        "folder)\n"
        "1 error(s), 0 warning(s) in 1 file(s)\n"))


def test_a_header_without_rows(tmp_path: Path) -> None:
    project = _project(tmp_path)
    tx = project / "examples" / "retail" / "transactions.csv"
    tx.write_text(tx.read_text().splitlines()[0] + "\n\n")
    assert _validate(project) == (1, (
        "error: examples/retail/transactions.csv: the file has a header but no data rows\n"
        "  hint: check data.transactions at cvm.yaml:5:17, or whether the export stopped early or "
        "wrote its rows to another file\n"
        "1 error(s), 0 warning(s) in 1 file(s)\n"))


def test_an_empty_customers_file_and_a_missing_column(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "examples" / "retail" / "customers.csv").write_text("")
    tx = project / "examples" / "retail" / "transactions.csv"
    tx.write_text(tx.read_text().replace("NetAmount", "Amount", 1))
    code, out = _validate(project)
    assert code == 1
    assert out.splitlines() == [
        "error: examples/retail/transactions.csv:1: header: column 'NetAmount' (mapped to "
        "amount in cvm.yaml) not found; columns present: 'OrderID', 'CustomerID', 'OrderDate', "
        "'Category', 'SalesChannel', 'Qty', 'Amount', 'Cost'",
        "  hint: did you mean 'Amount'?",
        "error: examples/retail/customers.csv: the file is empty, expected a header line and "
        "data rows",
        "  hint: check data.customers at cvm.yaml:6:14, or whether the export stopped early or "
        "wrote its rows to another file",
        "2 error(s), 0 warning(s) in 2 file(s)"]


def test_a_parquet_file_without_rows_and_a_folder_without_data(tmp_path: Path) -> None:
    project = _project(tmp_path)
    data = project / "examples" / "retail"
    header = (data / "customers.csv").read_text().splitlines()[0].split(",")
    pq.write_table(pa.table({name: pa.array([], pa.string()) for name in header}),
                   data / "customers.parquet")
    (data / "tx").mkdir()
    (data / "tx" / "notes.txt.bak").write_text("x")
    config = project / "cvm.yaml"
    config.write_text(config.read_text()
                      .replace("examples/retail/customers.csv", "examples/retail/customers.parquet")
                      .replace("examples/retail/transactions.csv", "examples/retail/tx"))
    code, out = _validate(project)
    assert code == 1
    assert out.splitlines()[:3] == [
        "error: examples/retail/tx: the folder holds no data file",
        "  hint: check data.transactions at cvm.yaml:5:17: a Parquet dataset is a folder of "
        ".parquet files (CSV files work too)",
        "error: examples/retail/customers.parquet: the file has columns but no rows"]


def test_a_folder_checks_each_file(tmp_path: Path) -> None:
    project = _project(tmp_path)
    data = project / "examples" / "retail"
    (data / "tx").mkdir()
    text = (data / "transactions.csv").read_text().splitlines(keepends=True)
    (data / "tx" / "a.csv").write_text("".join(text[:50]))
    (data / "tx" / "b.csv").write_text("".join(text[:9]).replace("SalesChannel", "Channel"))
    config = project / "cvm.yaml"
    config.write_text(config.read_text()
                      .replace("examples/retail/transactions.csv", "examples/retail/tx"))
    code, out = _validate(project)
    assert code == 1
    assert out.splitlines()[0] == (
        "error: examples/retail/tx/b.csv:1: header: column 'SalesChannel' (mapped to channel "
        "in cvm.yaml) not found; columns present: 'OrderID', 'CustomerID', 'OrderDate', "
        "'Category', 'Channel', 'Qty', 'NetAmount', 'Cost'")


def test_the_customers_file_may_write_its_dates_its_own_way(tmp_path: Path) -> None:
    """A new user's shop export wrote dd/mm/yyyy, their CRM file ISO dates: one date_format
    for both failed one file, and its hint (set data.date_format) broke the other."""
    project = _project(tmp_path)
    data = project / "examples" / "retail" / "transactions.csv"
    lines = data.read_text().splitlines()
    at = lines[0].split(",").index("OrderDate")
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        y, m, d = cells[at].split("-")
        cells[at] = f"{d}/{m}/{y}"
        out.append(",".join(cells))
    data.write_text("\n".join(out) + "\n")
    config = project / "cvm.yaml"
    text = config.read_text()
    assert "  date_format: null" not in text and "\n  encoding" not in text
    config.write_text(text.replace("  transactions: examples/retail/transactions.csv\n",
                                   "  transactions: examples/retail/transactions.csv\n"
                                   "  date_format: '%d/%m/%Y'\n"))
    code, said = _validate(project)
    assert code == 1
    assert ("remove data.date_format from cvm.yaml (data.customers_date_format: this file's "
            "dates alone)\n") in said, said
    config.write_text(config.read_text().replace(
        "  date_format: '%d/%m/%Y'\n",
        "  date_format: '%d/%m/%Y'\n  customers_date_format: '%Y-%m-%d'\n"))
    code, said = _validate(project)
    assert code == 0, said
    run = CliRunner().invoke(app, ["run", "-p", str(project), "--no-history", "-q"])
    assert run.exit_code == 0, run.output
    assert pd.read_csv(project / "output" / "customers.csv")["signup_date"].notna().any()


def test_a_date_format_written_as_people_write_it_gets_its_strptime_form(
        tmp_path: Path) -> None:
    project = _project(tmp_path)
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(
        "  transactions: examples/retail/transactions.csv\n",
        "  transactions: examples/retail/transactions.csv\n  date_format: dd/mm/yyyy\n"))
    code, said = _validate(project)
    assert code == 1
    assert "found 'dd/mm/yyyy', expected a strptime format such as '%Y-%m-%d' or '%d/%m/%Y' " \
        "(dd/mm/yyyy is written '%d/%m/%Y')" in said, said
