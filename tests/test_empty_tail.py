"""Rows of separators only at the end of a file (`,,,,,,,`, as an Excel save adds them) are
not transactions: skipped and counted in the summary's notes, by cvm validate and cvm run
alike, in a file, a folder's files and the customers file (a new user's trial: the run
stopped at them, and validate named another problem than run did). Between transactions an
empty row is still an error at its line."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from engine.data.empty_tail import trailing_empty_rows
from engine.data.header import Source
from tests.conftest import ROOT

runner = CliRunner()
TAIL = ",,,,,,,\n,,,,,,,\n\n  ,, ,,,,,\r\n"  # three rows of separators, an empty line


def project(folder: Path) -> Path:
    folder.mkdir()
    for name in ("rules", "policies", "templates"):
        shutil.copytree(ROOT / name, folder / name)
    shutil.copy(ROOT / "examples/retail/transactions.csv", folder / "tx.csv")
    shutil.copy(ROOT / "examples/retail/customers.csv", folder / "customers.csv")
    text = (ROOT / "cvm.yaml").read_text()
    text = text.replace("examples/retail/transactions.csv", str(folder / "tx.csv"))
    text = text.replace("examples/retail/customers.csv", str(folder / "customers.csv"))
    (folder / "cvm.yaml").write_text(text.replace("examples/", f"{ROOT}/examples/"))
    return folder


def scored(folder: Path) -> tuple[bytes, str]:
    checked = runner.invoke(app, ["validate", "-p", str(folder)])
    assert checked.exit_code == 0, checked.output
    result = runner.invoke(app, ["score", "-p", str(folder), "-o", str(folder / "out")])
    assert result.exit_code == 0, result.output
    return (folder / "out" / "customers.csv").read_bytes(), result.output


def test_rows_of_separators_at_the_end_are_skipped_and_counted(tmp_path: Path) -> None:
    plain, said = scored(project(tmp_path / "plain"))
    folder = project(tmp_path / "tail")
    with (folder / "tx.csv").open("a") as fh:
        fh.write(TAIL)
    customers = (folder / "customers.csv").read_text()
    (folder / "customers.csv").write_text(customers + ",,,,,,,,,\n" * 2)
    figures, said = scored(folder)
    assert figures == plain
    assert ("  note: 3 empty rows at the end of tx.csv (separators only, as a spreadsheet's "
            "export adds them) not read\n") in said, said
    assert ("  note: 2 empty rows at the end of customers.csv (separators only, as a "
            "spreadsheet's export adds them) not read\n") in said, said
    assert "empty rows" not in scored(project(tmp_path / "again"))[1]


def test_a_folder_s_files_each_end_so(tmp_path: Path) -> None:
    plain, _ = scored(project(tmp_path / "plain"))
    folder = project(tmp_path / "folder")
    lines = (folder / "tx.csv").read_text().splitlines(keepends=True)
    (folder / "tx.csv").unlink()
    (folder / "tx.csv").mkdir()
    half = len(lines) // 2
    (folder / "tx.csv" / "a.csv").write_text("".join(lines[:half]) + ",,,,,,,\n")
    (folder / "tx.csv" / "b.csv").write_text(lines[0] + "".join(lines[half:]) + TAIL)
    figures, said = scored(folder)
    assert figures == plain
    assert "  note: 4 empty rows at the end of the files of tx.csv (separators only, " in said


def test_a_small_file_s_first_rows_are_read_without_them(tmp_path: Path) -> None:
    """cvm validate reads the first 1,000 rows: a smaller file's end is among them."""
    folder = project(tmp_path / "p")
    lines = (folder / "tx.csv").read_text().splitlines(keepends=True)
    (folder / "tx.csv").write_text("".join(lines[:600]) + ",,,,,,,\n" * 3)
    config = folder / "cvm.yaml"
    config.write_text(config.read_text().replace("  customers:", "  # customers:"))
    result = runner.invoke(app, ["validate", "-p", str(folder)])
    assert "empty row" not in result.output, result.output


def test_only_rows_of_separators_are_counted(tmp_path: Path) -> None:
    file = tmp_path / "t.csv"
    for text, found in (("a,b\n1,2\n,\n,\n", 2), ("a,b\n1,2\n,\n3,\n,\n", 1),
                        ("a,b\n1,2\n", 0), ("a,b\n1,2\n,\n\n\n", 1), ("a,b\n,\n", 1),
                        ("a,b\n1,2\n,", 1), ('a,b\n1,2\n",",\n', 0)):
        file.write_text(text)
        assert trailing_empty_rows(Source(file, "t.csv", "data.transactions")) == found, text
    for text, found in (('a,b\n1,2\n"",""\n"",""\n', 2), ("a,b\r1,2\r,\r,\r", 2),
                        ("a,b\r\n1,2\r\n,\r\n", 1)):  # quoted empty fields; Excel for Mac
        file.write_bytes(text.encode())
        assert trailing_empty_rows(Source(file, "t.csv", "data.transactions")) == found, text
    file.write_bytes("\ufeffa,b\n1,2\n,\n".encode())
    assert trailing_empty_rows(Source(file, "t.csv", "data.transactions",
                                      encoding="utf-8-sig")) == 1
    file.write_text("a;b\n1;2\n;\n")
    assert trailing_empty_rows(Source(file, "t.csv", "data.transactions", ";")) == 1
    assert trailing_empty_rows(Source(file, "t.csv", "data.transactions", ",")) == 0
    big = "a,b\n" + "1,2\n" * 50_000 + ",\n" * 40_000  # beyond one chunk read from the end
    file.write_text(big)
    assert trailing_empty_rows(Source(file, "t.csv", "data.transactions")) == 40_000
