"""data.transactions as a folder of files (a Parquet dataset, the Dask engine's input) read by
one process: every command reads it as the concatenation of its files (the trial of issue 16:
measure and report refused it, "is a folder, expected a CSV or Parquet file")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from typer.testing import CliRunner

from engine.cli import app
from engine.data.load import load_transactions
from engine.project.config import load_config
from tests.conftest import BASE_CONFIG, BASE_TX, ROOT, copy_example_project

runner = CliRunner()


def _projects(tmp_path: Path) -> tuple[Path, Path]:
    """The retail example read from one Parquet file, and from a folder of two."""
    table = pacsv.read_csv(ROOT / "examples/retail/transactions.csv", convert_options=(
        pacsv.ConvertOptions(column_types={"OrderID": pa.string(), "CustomerID": pa.string()})))
    data = tmp_path / "data"
    (data / "ds").mkdir(parents=True)
    pq.write_table(table, data / "one.parquet")
    half = table.num_rows // 2
    pq.write_table(table.slice(0, half), data / "ds" / "part-0.parquet")
    pq.write_table(table.slice(half), data / "ds" / "part-1.parquet")
    (data / "ds" / "_SUCCESS").write_text("")  # a writer's marker: not data
    out = []
    for name, target in (("file", data / "one.parquet"), ("folder", data / "ds")):
        (tmp_path / name).mkdir()
        project = copy_example_project(tmp_path / name)
        text = (project / "cvm.yaml").read_text()
        (project / "cvm.yaml").write_text(text.replace(
            f"{ROOT}/examples/retail/transactions.csv", str(target)))
        out.append(project)
    return out[0], out[1]


def test_a_folder_is_loaded_as_its_files_one_after_the_other(tmp_path: Path) -> None:
    file, folder = _projects(tmp_path)
    a = load_transactions(load_config(file))
    b = load_transactions(load_config(folder))
    for name in ("code", "day", "amount", "margin", "order", "category", "customer_ids"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.categories == b.categories
    assert a.report.skipped() == b.report.skipped()


def test_report_on_a_folder_writes_what_it_writes_on_the_file(tmp_path: Path) -> None:
    file, folder = _projects(tmp_path)
    outs = []
    for project in (file, folder):
        result = runner.invoke(app, ["report", "--project", str(project), "--out",
                                     str(project / "rep"), "--quiet"])
        assert result.exit_code == 0, result.output
        outs.append(project / "rep")
    names = sorted(p.relative_to(outs[0]) for p in outs[0].rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(outs[1]) for p in outs[1].rglob("*") if p.is_file())
    assert len(names) > 2
    for name in names:
        if name.name == "manifest.json":
            continue
        a, b = ((o / name).read_text().replace(str(file), "P").replace(str(folder), "P")
                .replace(str(tmp_path / "data" / "one.parquet"), "D")
                .replace(str(tmp_path / "data" / "ds"), "D") for o in outs)
        assert a == b, name


def test_a_bad_row_of_a_folder_is_named_by_its_file_and_line(make_project) -> None:
    bad = BASE_TX.replace("b,2024-02-01,200.00", "b,2024-02-01,2OO.00")
    lines = bad.splitlines(keepends=True)
    project = make_project(BASE_CONFIG.replace("transactions: tx.csv", "transactions: tx"),
                           tx=None, files={"tx/a.csv": "".join(lines[:3]),
                                           "tx/b.csv": lines[0] + "".join(lines[3:])})
    result = runner.invoke(app, ["score", "--project", str(project), "--quiet"])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: tx/b.csv:3: row 2, column 'amount': found '2OO.00', expected a number such as "
        "12.50\n"), result.stderr


def test_an_empty_folder_is_said(make_project) -> None:
    project = make_project(BASE_CONFIG.replace("transactions: tx.csv", "transactions: tx"),
                           tx=None, files={"tx/notes.md": "x"})
    result = runner.invoke(app, ["score", "--project", str(project), "--quiet"])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: tx: the folder holds no data file\n  hint: check data.transactions at "
        "cvm.yaml:3:17: a Parquet dataset is a folder of .parquet files (CSV files work too)\n")


def test_one_process_says_the_files_of_a_folder_it_does_not_read(tmp_path: Path) -> None:
    _, folder = _projects(tmp_path)
    (tmp_path / "data" / "ds" / "README.md").write_text("what these files are\n")
    (tmp_path / "data" / "ds" / "part-2.csv.gz").write_bytes(b"\x1f\x8b")
    loaded = load_transactions(load_config(folder))
    assert loaded.report.files_note == (
        "2 files skipped (suffix not .parquet, .pq, .csv, .txt or .tsv): README.md, "
        "part-2.csv.gz")
    result = runner.invoke(app, ["score", "--project", str(folder), "--out",
                                 str(folder / "out")])
    assert result.exit_code == 0, result.output
    assert "note: 2 files skipped (suffix not .parquet, .pq, .csv, .txt or .tsv): README.md, " \
        "part-2.csv.gz" in result.output


def test_a_file_of_the_folder_without_any_mapped_column_is_said_once(tmp_path: Path) -> None:
    # a new user's trial: notes.txt (a CSV suffix) in a Parquet dataset gave 8 errors, one per
    # mapped column, each with "fix the column name under data.columns.X in cvm.yaml"
    folder = _projects(tmp_path)[1]
    data = tmp_path / "data" / "ds"
    (data / "notes.txt").write_text("Exported by the nightly job.\nContact the data team.\n")
    said = (f"error: {data / 'notes.txt'}:1: header: none of the mapped columns is in this file "
            "of the folder; columns present: 'Exported by the nightly job.'\n"
            "  hint: a file that is not data (notes, a README) is read because its name ends in "
            ".txt: move it out of the folder, or rename it (.md is not read); else fix the "
            "column names under data.columns in cvm.yaml\n")
    for command in ("validate", "score"):
        result = runner.invoke(app, [command, "--project", str(folder), "-q"])
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(said), result.stderr


def test_a_wrong_mapping_in_a_folder_still_gets_each_columns_hint(make_project) -> None:
    # a reviewer: every file of a folder whose columns cvm.yaml maps wrongly was called "not
    # data" (move it out of the folder), losing each column's did-you-mean
    project = make_project(files={"set/part-0.csv": "Cust,Day,Amount,Cost\na,2024-01-05,1,0\n"},
                           config=BASE_CONFIG.replace("transactions: tx.csv",
                                                      "transactions: set"))
    result = runner.invoke(app, ["score", "--project", str(project), "--quiet"])
    assert result.exit_code == 1
    assert "set/part-0.csv:1: header: column 'cust' (mapped to customer_id in cvm.yaml) not " \
        "found; columns present: 'Cust', 'Day', 'Amount', 'Cost'\n  hint: did you mean " \
        "'Cust'?\n" in result.stderr, result.stderr
    assert "none of the mapped columns" not in result.stderr


def test_a_control_character_in_a_parquet_folder_speaks_of_no_quote(tmp_path: Path) -> None:
    # a reviewer: the folder's hint said "or a quote left open" for Parquet files
    folder = _projects(tmp_path)[1]
    part = tmp_path / "data" / "ds" / "part-1.parquet"
    table = pq.read_table(part)
    ids = table.column("CustomerID").to_pylist()
    table = table.set_column(table.schema.get_field_index("CustomerID"), "CustomerID",
                             pa.array(["C\tX", *ids[1:]]))
    pq.write_table(table, part)
    result = runner.invoke(app, ["score", "--project", str(folder), "-q"])
    assert result.exit_code == 1
    assert result.stderr.endswith("  hint: the file may be damaged\n"), result.stderr
