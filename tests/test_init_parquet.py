"""`cvm init --from FILE.parquet`: a Parquet export is read as the engine reads it (its
column types: dates need no date_format, numbers no decimal mark), the mapping guessed from
its column names and values, and the project runs. It was refused as binary data, with the
advice to map its columns by hand."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT

RETAIL = ROOT / "examples" / "retail" / "transactions.csv"


def _init(folder: Path, source: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["init", str(folder), "--from", str(source)])
    return result.exit_code, result.stdout, result.stderr


def test_a_parquet_export_gives_the_mapping_and_a_project_that_runs(tmp_path: Path) -> None:
    table = pacsv.read_csv(RETAIL)  # OrderDate read as a date, amounts as doubles, Qty int64
    assert table.schema.field("OrderDate").type == pa.date32()
    source = tmp_path / "orders.parquet"
    pq.write_table(table, source)
    project = tmp_path / "shop"
    code, out, err = _init(project, source)
    assert (code, err) == (0, "")
    assert out.splitlines()[:3] == [
        f"wrote {project}/: cvm.yaml, rules/, policies/, templates/, policy_tests/, triggers/, "
        "schemas/ (31 files)",
        "  orders.parquet: a Parquet file (its column types read as they are)",
        "  date         <- 'OrderDate' (high: the name, and the values are dates)"]
    config = (project / "cvm.yaml").read_text()
    data = yaml.safe_load(config)["data"]
    assert data["columns"] == {"customer_id": "CustomerID", "date": "OrderDate",
                               "amount": "NetAmount", "cost": "Cost", "quantity": "Qty",
                               "order_id": "OrderID", "channel": "SalesChannel",
                               "category": "Category"}
    assert not {"delimiter", "encoding", "date_format", "decimal"} & set(data)
    assert "# Guessed from orders.parquet (2,000 rows sampled)" in config
    for args in (["validate", "--strict"], ["test"], ["run", "-q", "--out", str(tmp_path / "o")]):
        result = CliRunner().invoke(app, [*args, "-p", str(project)])
        assert result.exit_code == 0, (args, result.output)
    assert (tmp_path / "o" / "actions.csv").is_file()


def test_dates_written_as_text_in_a_parquet_file_get_their_format(tmp_path: Path) -> None:
    source = tmp_path / "tx.parquet"
    pq.write_table(pa.table({
        "Kunde": [f"K{i % 7}" for i in range(40)],
        "Datum": [f"{1 + i % 28:02d}.{1 + i % 12:02d}.2024" for i in range(40)],
        "Umsatz": [10.5 + i for i in range(40)]}), source)
    code, _, err = _init(tmp_path / "p", source)
    assert (code, err) == (0, "")
    data = yaml.safe_load((tmp_path / "p" / "cvm.yaml").read_text())["data"]
    assert data["columns"] == {"customer_id": "Kunde", "date": "Datum", "amount": "Umsatz"}
    assert data["date_format"] == "%d.%m.%Y"


def test_a_damaged_or_empty_parquet_file_is_refused(tmp_path: Path) -> None:
    damaged = tmp_path / "cut.parquet"
    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.table({"CustomerID": ["A"], "Date": ["2024-01-01"], "Amount": [1.0]}),
                   whole)
    damaged.write_bytes(whole.read_bytes()[:-40])
    empty = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"CustomerID": pa.array([], pa.string())}), empty)
    code, out, err = _init(tmp_path / "p1", damaged)
    assert (code, out) == (1, "")
    assert err.startswith(f"error: {damaged}: not a readable Parquet file (")
    assert err.endswith("  hint: a .parquet file must be written by a Parquet writer\n")
    code, out, err = _init(tmp_path / "p2", empty)
    assert (code, out) == (1, "")
    assert err == (f"error: {empty}: found columns and no rows, expected rows of "
                   "transactions\n  hint: export the transactions with their rows, then run "
                   "`cvm init --from` again\n")
    assert not (tmp_path / "p1").exists() and not (tmp_path / "p2").exists()


def test_a_parquet_file_named_otherwise_is_told_to_be_renamed(tmp_path: Path) -> None:
    """The review: orders.export, a Parquet file, got a project without delimiter or encoding
    that every command then read as CSV ('byte 0xb4 ... is not valid utf-8')."""
    source = tmp_path / "orders.export"
    pq.write_table(pacsv.read_csv(RETAIL), source)
    code, out, err = _init(tmp_path / "p", source)
    assert (code, out) == (1, "")
    assert err == (f"error: {source}: found a Parquet file named .export, expected a name "
                   "ending in .parquet or .pq\n  hint: rename it (the engine reads a file "
                   "as Parquet by its name), then run `cvm init --from` again\n")
    assert not (tmp_path / "p").exists()


def test_a_date_stored_as_a_whole_number_is_not_taken_for_the_date(tmp_path: Path) -> None:
    """The review: OrderDate as int64 20230101 was mapped with date_format %Y%m%d, which the
    engine refuses for a number column ('found values of type int64, expected dates')."""
    source = tmp_path / "tx.parquet"
    pq.write_table(pa.table({
        "CustomerID": [f"C{i % 7}" for i in range(40)],
        "OrderDate": [20240101 + i % 28 for i in range(40)],
        "NetAmount": [10.5 + i for i in range(40)]}), source)
    code, _, err = _init(tmp_path / "p", source)
    assert code == 1
    assert err.startswith(
        f"error: {tmp_path / 'p' / 'cvm.yaml'}:13: data.columns.date: not guessed: "
        "'OrderDate' holds numbers (20240101) in the Parquet file, which the engine reads "
        "as numbers, not dates: export it as a date column, or as text\n"), err


def test_a_date_column_of_numbers_is_told_how_to_export_it(tmp_path: Path) -> None:
    """The re-trial: mapping the number column by hand got 'or set data.date_format', and with
    date_format set, the same error and hint."""
    source = tmp_path / "tx.parquet"
    pq.write_table(pa.table({
        "CustomerID": [f"C{i % 7}" for i in range(40)],
        "OrderDate": [20240101 + i % 28 for i in range(40)],
        "NetAmount": [10.5 + i for i in range(40)]}), source)
    project = tmp_path / "p"
    _init(project, source)
    config = project / "cvm.yaml"
    text = config.read_text()
    config.write_text(text.replace("    date: null", '    date: "OrderDate"', 1).replace(
        "  columns:", '  date_format: "%Y%m%d"\n  columns:', 1))
    said = CliRunner().invoke(app, ["validate", "-p", str(project), "-q"])
    assert said.exit_code == 1
    assert said.stderr.splitlines()[1] == (
        "  hint: the column holds numbers: if it holds the dates (20230101), export them as "
        "dates or as text (data.date_format reads text only); else map date to the column of "
        "dates"), said.stderr
